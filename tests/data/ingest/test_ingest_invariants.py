"""Property: whatever the mix of good and bad rows, every row read is accepted or quarantined."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_builders import CBOE_HEADER, catalog, cboe_row, rejects, run

MUTATIONS = {
    "ok": {},
    "zero_bid": {"bid": "0.0", "ask": "0.05"},
    "crossed": {"bid": "3.0", "ask": "2.0"},
    "negative": {"ask": "-1"},
    "no_price": {"bid": "0", "ask": "0", "last": "0"},
    "off_grid": {"strike": "2901.0"},
    "bad_strike": {"strike": "x"},
    "expired": {"expiry": "04/24/2019"},
    "bad_date": {"quote": "99/99/2019"},
}


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.sampled_from(sorted(MUTATIONS)), st.integers(0, 6), st.booleans()),
        min_size=1,
        max_size=40,
    ),
    st.lists(st.sampled_from(["", "SPX,1,2", "garbage"]), max_size=3),
)
def test_rows_read_equal_accepted_plus_rejected(
    tmp_path: Path, spec: list[tuple[str, int, bool]], junk: list[str]
) -> None:
    rows = []
    for kind, k, call in spec:
        fields = {"strike": f"{2900 + 5 * k}.0", "right": "call" if call else "put"}
        fields.update(MUTATIONS[kind])
        rows.append(cboe_row(**fields))
    rows += junk
    src = tmp_path / "prop.csv"
    src.write_text("\n".join([CBOE_HEADER, *rows]) + "\n")
    out = tmp_path / "out"
    shutil.rmtree(out, ignore_errors=True)
    report = run("cboe-eod", [src], out)
    assert report.rows_read == len(rows)
    assert report.balanced
    cat = catalog(out) if (out / "catalog.json").exists() else None
    assert cat is not None
    assert cat.row_counts.options == report.accepted
    assert cat.row_counts.rejected == report.rejected == len(rejects(out))
    lines = sorted(int(r["line"]) for r in rejects(out))  # type: ignore[call-overload]
    assert len(set(lines)) == len(lines)  # one reason per line
    assert all(2 <= n <= len(rows) + 1 for n in lines)


@pytest.mark.parametrize("kind", sorted(MUTATIONS))
def test_each_mutation_alone(tmp_path: Path, kind: str) -> None:
    src = tmp_path / "one.csv"
    src.write_text("\n".join([CBOE_HEADER, cboe_row(**MUTATIONS[kind])]) + "\n")
    report = run("cboe-eod", [src], tmp_path / "out")
    expected = {
        "ok": {},
        "zero_bid": {},
        "crossed": {"bid_gt_ask": 1},
        "negative": {"negative_price": 1},
        "no_price": {"no_price": 1},
        "off_grid": {"strike_off_grid": 1},
        "bad_strike": {"unparseable_strike": 1},
        "expired": {"expiry_before_quote_date": 1},
        "bad_date": {"unparseable_quotedate": 1},
    }[kind]
    assert dict(report.rejected_by_reason) == expected
