"""``params.toml``: written from a manifest, read back to the same values (nulls included)."""

from __future__ import annotations

import math
import tomllib
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.engine.params_file import params_toml, read_params, to_toml
from workbench.engine.resolve import resolve_fees, resolve_fills, resolve_margin

PARAMS = {
    "underlying": "SPXW",
    "profit_target_pct": None,
    "dte_window": [30, 45],
    "scan": {"short_offset": None, "filters": {"min_oi": 100.0, "max_lag": None}},
    "legs": [{"name": "short", "rule": None}, {"name": "long", "rule": {"delta": 0.1}}],
    "entry_time": "09:30:00",
    "odd key": 'quote " and \\ and é',
}


def manifest(**extra: object) -> dict[str, object]:
    fill = resolve_fills("mid/cross")
    return {
        "run_id": "abc",
        "strategy": {"ref": "pkg.mod:Cls", "mode": "positional"},
        "dataset": {"path": "/data/x"},
        "start": "2024-03-01",
        "end": "2024-03-15",
        "capital": 25000.0,
        "models": {
            "fill": fill.describe(),
            "fees": resolve_fees("per-order:20,per_leg=true+india", "NSE").describe(),
            "margin": resolve_margin("span:0.06,vol=0.04").describe(),
            "rate": 0.065,
        },
        "params": PARAMS,
        **extra,
    }


def test_round_trip_with_nulls_models_and_template(tmp_path: Path) -> None:
    template = {"name": "t", "version": 2, "sha256": "00", "path": "/t/t.toml",
                "overrides": {"qty": 2, "stop_loss_pct": None}}  # fmt: skip
    path = tmp_path / "params.toml"
    path.write_text(params_toml(manifest(template=template)))
    got = read_params(path)
    assert got.params == PARAMS
    assert (got.strategy, got.data, got.mode) == ("pkg.mod:Cls", "/data/x", "positional")
    assert (got.start, got.end) == (date(2024, 3, 1), date(2024, 3, 15))
    assert (got.capital, got.rate, got.run_id) == (25000.0, 0.065, "abc")
    assert got.template is not None and got.template["overrides"] == {
        "qty": 2,
        "stop_loss_pct": None,
    }
    # the models read back describe themselves as the run's did
    m = manifest()["models"]
    assert resolve_fills(got.fill).describe() == m["fill"]  # type: ignore[index]
    assert got.fees.describe() == m["fees"]  # type: ignore[index]
    assert got.margin.describe() == m["margin"]  # type: ignore[index]
    text = path.read_text()
    assert (
        'params_null = ["profit_target_pct", "scan.short_offset", "scan.filters.max_lag"]' in text
    )
    assert "[params_json]" in text  # legs hold a None inside a list


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-(2**62), 2**62)
        | st.floats()
        | st.text()
        | st.dates(),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.text(min_size=1, max_size=5), inner, max_size=3)
        ),
        max_leaves=8,
    )
)
def test_to_toml_round_trips_through_tomllib(value: object) -> None:
    def clean(v: object) -> object:
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items() if x is not None}
        if isinstance(v, list):
            return [clean(x) for x in v if x is not None]
        return v

    doc = {"v": clean(value)}
    if doc["v"] is None:
        return
    back = tomllib.loads(to_toml(doc))

    def same(a: object, b: object) -> bool:
        if isinstance(a, float) and math.isnan(a):
            return isinstance(b, float) and math.isnan(b)
        if isinstance(a, dict):
            return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        if isinstance(a, list):
            return isinstance(b, list) and len(a) == len(b) and all(map(same, a, b))
        return a == b and type(a) is type(b)

    assert same(doc, back)


def test_bad_files_name_the_field(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('format = 1\nstrategy = "a:B"\ndata = "d"\nstart = "2024-01-01"\n')
    with pytest.raises(ValueError, match=r"p\.toml: start: expected a TOML date"):
        read_params(path)
    path.write_text('format = 2\nstrategy = "a:B"\ndata = "d"\n')
    with pytest.raises(ValueError, match="format: expected 1"):
        read_params(path)
    path.write_text('format = 1\nstrategy = "a:B"\ndata = "d"\nmode = "weekly"\n')
    with pytest.raises(ValueError, match="mode: expected"):
        read_params(path)
    path.write_text('format = 1\nstrategy = "a:B"\ndata = "d"\n[margin]\nname = "nope"\n')
    with pytest.raises(ValueError, match=r"p\.toml: margin:"):
        read_params(path)
