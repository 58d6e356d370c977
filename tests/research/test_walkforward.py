from __future__ import annotations

import concurrent.futures as cf
import itertools
import json
import math
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.research.sweep import sweep
from workbench.research.walkforward import (
    WalkForwardResult,
    WalkForwardSpecError,
    Window,
    alpha_decay,
    load_walkforward_spec,
    make_windows,
    parameter_stability,
    rank_by_objective,
    walk_forward,
)

STRADDLE = "workbench.strategies.short_straddle:IntradayShortStraddle"
GRID = {"stop_loss_pct": [0.1, 0.5], "entry": ["09:20", "11:00"]}
LENGTHS = {"train": 4, "validate": 2, "test": 2}


# -- pure functions, checked by hand ----------------------------------------------------------
def _days(n: int, first: date = date(2024, 1, 1)) -> list[date]:
    return [first + timedelta(days=i) for i in range(n)]


def test_windows_in_trading_days_by_hand() -> None:
    d = _days(10)
    windows = make_windows(d, train=3, validate=2, test=2, step=2)
    # window k starts at day 2k; needs 7 days: k = 0, 1 (starts 0, 2; start 4 would need d[10])
    assert windows == [
        Window(0, d[0], d[2], d[3], d[4], d[5], d[6]),
        Window(1, d[2], d[4], d[5], d[6], d[7], d[8]),
    ]
    # default step = test; step 3 > test leaves gaps between test periods
    assert [w.test_start for w in make_windows(d, train=3, validate=2, test=2)] == [d[5], d[7]]
    assert [w.test_start for w in make_windows(d, train=3, validate=1, test=1, step=3)] == [
        d[4],
        d[7],
    ]
    assert make_windows(d[:6], train=3, validate=2, test=2) == []


def test_windows_in_months_by_hand() -> None:
    days = [date(2024, m, dd) for m in range(1, 7) for dd in (2, 15, 28)]
    windows = make_windows(days, train=2, validate=1, test=1, unit="months")
    assert [
        (w.train_start, w.train_end, w.validate_start, w.test_start, w.test_end) for w in windows
    ] == [
        (
            date(2024, 1, 2),
            date(2024, 2, 28),
            date(2024, 3, 2),
            date(2024, 4, 2),
            date(2024, 4, 28),
        ),
        (
            date(2024, 2, 2),
            date(2024, 3, 28),
            date(2024, 4, 2),
            date(2024, 5, 2),
            date(2024, 5, 28),
        ),
        (
            date(2024, 3, 2),
            date(2024, 4, 28),
            date(2024, 5, 2),
            date(2024, 6, 2),
            date(2024, 6, 28),
        ),
    ]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"train": 0, "validate": 1, "test": 1}, "train must be"),
        ({"train": 2, "validate": 1, "test": 2, "step": 1}, "step must be"),
        ({"train": 2, "validate": 1.5, "test": 1}, "validate must be"),
        ({"train": 2, "validate": 1, "test": 1, "unit": "weeks"}, "unit must be"),
    ],
)
def test_windows_bad_input(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make_windows(_days(10), **kwargs)


def test_windows_need_sorted_days() -> None:
    with pytest.raises(ValueError, match="sorted"):
        make_windows([date(2024, 1, 2), date(2024, 1, 1)], train=1, validate=1, test=1)


@given(
    n=st.integers(0, 60),
    train=st.integers(1, 10),
    validate=st.integers(1, 5),
    test=st.integers(1, 5),
    extra=st.integers(0, 3),
)
@settings(max_examples=60, deadline=None)
def test_windows_never_overlap_or_leak(
    n: int, train: int, validate: int, test: int, extra: int
) -> None:
    days = _days(n)
    windows = make_windows(days, train=train, validate=validate, test=test, step=test + extra)
    expected = (
        max(0, (n - (train + validate + test)) // (test + extra) + 1)
        if n >= train + validate + test
        else 0
    )
    assert len(windows) == expected
    for w in windows:
        assert w.train_start <= w.train_end < w.validate_start <= w.validate_end < w.test_start
        assert (w.train_end - w.train_start).days == train - 1
        assert (w.test_end - w.test_start).days == test - 1
    for a, b in itertools.pairwise(windows):
        assert a.test_end < b.test_start


def test_alpha_decay_by_hand() -> None:
    decay = alpha_decay([3.0, 2.0, 1.0])
    assert decay.slope == pytest.approx(-1.0)
    assert decay.intercept == pytest.approx(3.0)
    assert decay.r_squared == pytest.approx(1.0)
    assert decay.half_life == pytest.approx(1.5)  # 3 - h = 1.5
    assert decay.decaying
    # missing Sharpes are left out but keep their window index: points (0, 4), (2, 1), (3, 1)
    decay = alpha_decay([4.0, None, 1.0, 1.0])
    # x mean 5/3, y mean 2; Sxy = (-5/3)(2) + (1/3)(-1) + (4/3)(-1) = -5, Sxx = 42/9 = 14/3
    assert decay.slope == pytest.approx(-15 / 14)
    assert decay.intercept == pytest.approx(2 + 15 / 14 * 5 / 3)
    assert decay.half_life == pytest.approx((2 + 25 / 14) / (2 * 15 / 14))
    assert decay.n == 3
    rising = alpha_decay([1.0, 2.0])
    assert rising.slope == pytest.approx(1.0) and rising.half_life is None
    assert math.isnan(rising.p_value)
    assert not rising.decaying
    negative_start = alpha_decay([-1.0, -2.0, -3.0])
    assert negative_start.half_life is None  # nothing positive to halve
    flat = alpha_decay([1.5, 1.5, 1.5])
    assert flat.slope == 0.0 and flat.half_life is None
    empty = alpha_decay([float("nan"), 1.0])
    assert math.isnan(empty.slope) and empty.n == 1


@given(st.lists(st.floats(-5, 5, allow_nan=False), min_size=3, max_size=20))
@settings(max_examples=50, deadline=None)
def test_alpha_decay_matches_polyfit(values: list[float]) -> None:
    if np.ptp(values) < 1e-6:
        return
    slope, intercept = np.polyfit(np.arange(len(values)), values, 1)
    decay = alpha_decay(values)
    assert decay.slope == pytest.approx(slope, abs=1e-9)
    assert decay.intercept == pytest.approx(intercept, abs=1e-9)


def test_parameter_stability_by_hand() -> None:
    chosen = [
        {"stop": 0.25, "entry": "09:20"},
        {"stop": 0.25, "entry": "09:20"},
        {"stop": 0.5, "entry": "09:20"},
        {"stop": 0.25, "entry": "11:00"},
    ]
    stab = parameter_stability(chosen)
    assert stab["windows"] == 4
    assert stab["changes"] == 2
    assert stab["change_rate"] == pytest.approx(2 / 3)
    stop = stab["parameters"]["stop"]
    assert stop["counts"] == {"0.25": 3, "0.5": 1}
    assert stop["changes"] == 2 and stop["distinct"] == 2 and stop["mode"] == "0.25"
    assert stop["mean"] == pytest.approx(0.3125)
    assert stop["min"] == 0.25 and stop["max"] == 0.5
    entry = stab["parameters"]["entry"]
    assert entry["counts"] == {"09:20": 3, "11:00": 1} and entry["changes"] == 1
    assert "mean" not in entry
    assert math.isnan(parameter_stability(chosen[:1])["change_rate"])


def test_rank_by_objective_by_hand() -> None:
    frame = pd.DataFrame(
        {
            "p": [1, 2, 3, 4, 5, 6],
            "sharpe": [1.0, float("nan"), 2.0, 1.0, 9.0, 3.0],
            "fees": [5.0, 1.0, 3.0, 1.0, 0.5, 2.0],
            "error": [None, None, None, None, "boom", None],
        }
    )
    # 6 (3.0), 3 (2.0), 1 and 4 tie at 1.0 (grid order), then 2 (NaN), then 5 (failed)
    assert rank_by_objective(frame, "sharpe")["p"].tolist() == [6, 3, 1, 4, 2, 5]
    # fees: lower is better; 2 and 4 tie at 1.0
    assert rank_by_objective(frame, "fees")["p"].tolist() == [2, 4, 6, 3, 1, 5]
    with pytest.raises(ValueError, match="objective 'alpha'"):
        rank_by_objective(frame, "alpha")


# -- the runner on synthetic data -------------------------------------------------------------
@pytest.fixture(scope="module")
def nifty12(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from workbench.data.synth import generate

    out = tmp_path_factory.mktemp("wf") / "nifty12"
    generate("nifty-intraday", out, seed=11, start="2024-02-01", days=10, progress=False, workers=1)
    return out


@pytest.fixture(scope="module")
def pool() -> Iterator[cf.ThreadPoolExecutor]:
    with cf.ThreadPoolExecutor(max_workers=2) as executor:
        yield executor


@pytest.fixture(scope="module")
def wf(nifty12: Path, pool: cf.Executor) -> WalkForwardResult:
    return walk_forward(
        STRADDLE, GRID, data=nifty12, **LENGTHS, top_n=2, executor=pool, progress=False
    )


def test_walk_forward_choices_match_independent_sweeps(
    wf: WalkForwardResult, nifty12: Path, pool: cf.Executor
) -> None:
    assert len(wf.windows) == 2  # 10 days: windows start at days 0 and 2
    assert wf.windows["error"].isna().all()
    for row in wf.windows.to_dict(orient="records"):
        train = sweep(
            STRADDLE,
            GRID,
            data=nifty12,
            start=row["train_start"],
            end=row["train_end"],
            executor=pool,
            progress=False,
        )
        # top 2 by train Sharpe (stable sort keeps grid order among ties)
        top = train.sort_values("sharpe", ascending=False, kind="stable").head(2)
        assert row["train_sharpe"] == pytest.approx(top["sharpe"].iloc[0]) or (
            row["train_sharpe"] in top["sharpe"].tolist()
        )
        validated = [
            sweep(
                STRADDLE,
                {"stop_loss_pct": [r.stop_loss_pct], "entry": [r.entry]},
                data=nifty12,
                start=row["validate_start"],
                end=row["validate_end"],
                executor=pool,
                progress=False,
            ).iloc[0]
            for r in top.itertuples()
        ]
        best = max(range(2), key=lambda i: (validated[i]["sharpe"], -i))
        assert row["params"] == {
            "stop_loss_pct": validated[best]["stop_loss_pct"],
            "entry": validated[best]["entry"],
        }
        assert row["validate_sharpe"] == pytest.approx(validated[best]["sharpe"])
        assert row["train_end"] < row["validate_start"] <= row["validate_end"] < row["test_start"]


def test_oos_path_is_the_test_periods_stitched(wf: WalkForwardResult) -> None:
    oos = wf.oos_daily
    assert list(oos.columns) == ["date", "window", "pnl", "equity"]
    assert oos["date"].is_monotonic_increasing and oos["date"].is_unique
    for row in wf.windows.itertuples():
        part = oos[oos["window"] == row.window]
        assert part["date"].min() == row.test_start and part["date"].max() == row.test_end
        assert part["pnl"].sum() == pytest.approx(row.test_pnl, abs=0.01)
    assert oos["equity"].iloc[-1] == pytest.approx(wf.windows["test_pnl"].sum(), abs=0.01)
    assert wf.decay.n == int(wf.windows["test_sharpe"].notna().sum())
    assert wf.stability["windows"] == 2


def test_save_writes_three_files_atomically(wf: WalkForwardResult, tmp_path: Path) -> None:
    out = tmp_path / "wf"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    with pytest.raises(ValueError, match="not a walk-forward folder"):
        wf.save(out)  # a folder of other things is never replaced
    assert (out / "stale.txt").read_text() == "old"
    for name in ("walk_forward.json", "windows.csv"):  # an earlier walk-forward output is
        (out / name).write_text("old")
    wf.save(out)
    assert sorted(p.name for p in out.iterdir()) == [
        "oos_daily.csv",
        "walk_forward.html",
        "walk_forward.json",
        "windows.csv",
    ]
    doc = json.loads((out / "walk_forward.json").read_text())
    assert [w["params"] for w in doc["windows"]] == wf.windows["params"].tolist()
    assert doc["config"]["objective"] == "sharpe" and doc["config"]["top_n"] == 2
    assert set(doc["decay"]) >= {"slope", "intercept", "half_life_windows"}
    assert len(pd.read_csv(out / "windows.csv")) == 2
    assert pd.read_csv(out / "oos_daily.csv")["pnl"].sum() == pytest.approx(
        wf.oos_daily["pnl"].sum(), abs=0.01
    )
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def _perturb_from(src: Path, dst: Path, donor: Path, first: date) -> None:
    """Copy ``src`` to ``dst`` and replace every day file from ``first`` on with the donor's."""
    from workbench.data.catalog import Catalog

    shutil.copytree(src, dst)
    replaced = 0
    for kind in ("spot", "options"):
        for path in sorted((donor / kind).rglob("*.parquet")):
            if date.fromisoformat(path.stem) >= first:
                target = dst / path.relative_to(donor)
                if target.exists():
                    shutil.copyfile(path, target)
                    replaced += 1
    assert replaced > 0
    catalog = Catalog.load(dst)
    catalog.model_copy(update={"content_version": "sha256:" + "ab" * 32}).write(dst)


def test_choice_for_window_k_uses_no_data_from_its_test_period(
    wf: WalkForwardResult, nifty12: Path, pool: cf.Executor, tmp_path: Path
) -> None:
    from workbench.data.synth import generate

    k = 1
    cut = wf.windows.loc[k, "test_start"]
    donor = tmp_path / "donor"
    generate("nifty-intraday", donor, seed=99, start=cut, days=4, progress=False, workers=1)
    perturbed = tmp_path / "perturbed"
    _perturb_from(nifty12, perturbed, donor, cut)
    windows = [
        Window(**{("index" if c == "window" else c): r[c] for c in r})
        for r in wf.windows[
            [
                "window",
                "train_start",
                "train_end",
                "validate_start",
                "validate_end",
                "test_start",
                "test_end",
            ]
        ].to_dict(orient="records")
    ]
    again = walk_forward(
        STRADDLE, GRID, data=perturbed, windows=windows, top_n=2, executor=pool, progress=False
    )
    for i in range(k + 1):
        assert again.windows.loc[i, "params"] == wf.windows.loc[i, "params"]
        assert again.windows.loc[i, "train_sharpe"] == wf.windows.loc[i, "train_sharpe"]
        assert again.windows.loc[i, "validate_sharpe"] == wf.windows.loc[i, "validate_sharpe"]
    # the perturbation is real: window k's out-of-sample result changed
    assert again.windows.loc[k, "test_pnl"] != wf.windows.loc[k, "test_pnl"]


def test_walk_forward_bad_input(nifty12: Path, pool: cf.Executor) -> None:
    with pytest.raises(ValueError, match="objective must be"):
        walk_forward(STRADDLE, GRID, data=nifty12, **LENGTHS, objective="alpha", executor=pool)
    with pytest.raises(ValueError, match="top_n"):
        walk_forward(STRADDLE, GRID, data=nifty12, **LENGTHS, top_n=0, executor=pool)
    with pytest.raises(ValueError, match="no complete walk-forward window"):
        walk_forward(STRADDLE, GRID, data=nifty12, train=10, validate=2, test=2, executor=pool)
    with pytest.raises(ValueError, match="give windows="):
        walk_forward(STRADDLE, GRID, data=nifty12, train=4, executor=pool)


def test_failed_train_reported_per_window(nifty12: Path, pool: cf.Executor) -> None:
    result = walk_forward(
        STRADDLE, {"qty": [0]}, data=nifty12, **LENGTHS, executor=pool, progress=False
    )
    assert result.windows["error"].str.contains("no usable combination on train").all()
    assert result.windows["params"].isna().all()
    assert result.oos_daily.empty and result.stability["windows"] == 0


# -- spec file and CLI ------------------------------------------------------------------------
def _write_spec(tmp_path: Path, data: Path, body: str) -> Path:
    path = tmp_path / "wf.toml"
    path.write_text(f'template = "short-straddle"\ndata = "{data}"\n{body}')
    return path


def test_spec_errors_name_file_and_field(tmp_path: Path, nifty12: Path) -> None:
    bad = _write_spec(
        tmp_path,
        nifty12,
        'objective = "alpha"\n[grid]\nstop_loss_pct = [0.1]\n[windows]\ntrain = 4\nvalidate = 2\ntest = 2\n',
    )
    with pytest.raises(WalkForwardSpecError, match=r"wf\.toml.*objective"):
        load_walkforward_spec(bad)
    bad = _write_spec(
        tmp_path,
        nifty12,
        "[grid]\nstop_loss_pct = [0.1]\n[windows]\ntrain = 0\nvalidate = 2\ntest = 2\n",
    )
    with pytest.raises(WalkForwardSpecError, match=r"windows\.train"):
        load_walkforward_spec(bad)
    bad = _write_spec(
        tmp_path,
        nifty12,
        "[grid]\nstop_loss_pct = []\n[windows]\ntrain = 4\nvalidate = 2\ntest = 2\n",
    )
    with pytest.raises(WalkForwardSpecError, match="stop_loss_pct: empty"):
        load_walkforward_spec(bad)
    with pytest.raises(WalkForwardSpecError, match="cannot read"):
        load_walkforward_spec(tmp_path / "missing.toml")


def test_cli_prints_table_and_decay(
    tmp_path: Path, nifty12: Path, wf: WalkForwardResult, capsys: pytest.CaptureFixture[str]
) -> None:
    from workbench.cli.main import main

    spec = _write_spec(
        tmp_path,
        nifty12,
        'top_n = 2\n[overrides]\nexit_time = "15:15"\n[grid]\n'
        'stop_loss_pct = [0.1, 0.5]\nentry = ["09:20", "11:00"]\n'
        "[windows]\ntrain = 4\nvalidate = 2\ntest = 2\n",
    )
    out = tmp_path / "out"
    code = main(["walkforward", str(spec), "--workers", "1", "--no-progress", "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0
    assert "alpha decay: slope" in text and "parameter stability" in text
    assert len([line for line in text.splitlines() if " .. " in line]) == 2
    assert (out / "walk_forward.json").exists()
    doc = json.loads((out / "walk_forward.json").read_text())
    assert doc["config"]["template"] == "short-straddle@1"
    bad = tmp_path / "bad.toml"
    bad.write_text("template = 3\n")
    assert main(["walkforward", str(bad)]) == 2


def test_spec_with_a_bad_grid_value_fails_before_any_window(tmp_path: Path) -> None:
    from workbench.research.templates import TemplateError
    from workbench.research.walkforward import load_walkforward_spec, run_walkforward_spec

    path = tmp_path / "wf.toml"
    path.write_text(
        'template = "short-straddle"\ndata = "does-not-matter"\n[grid]\nstop_loss_pct = [0.2, "x"]\n'
        "[windows]\ntrain = 20\nvalidate = 5\ntest = 5\n"
    )
    with pytest.raises(TemplateError, match="stop_loss_pct='x'"):
        run_walkforward_spec(load_walkforward_spec(path), progress=False)
