"""Results: determinism, save/load round trip, manifest, metrics, the CLI and the public names."""

from __future__ import annotations

import json
from datetime import time
from pathlib import Path

import pandas as pd
import pytest
from engine_builders import D1, D2, D3, tiny_nifty
from engine_strategies import Scripted

from workbench.engine.result import DAILY_COLUMNS, DAYS_COLUMNS, BacktestResult
from workbench.engine.runner import run_backtest
from workbench.engine.tradebook import TRADEBOOK_SCHEMA

STRADDLE = {
    "orders": [
        {
            "at": time(9, 16),
            "legs": [
                {"strike": 21500, "right": "C", "side": "SELL"},
                {"strike": 21500, "right": "P", "side": "SELL"},
            ],
        }
    ],
    "exit_at": time(9, 19),
}


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_nifty(tmp_path_factory.mktemp("results") / "tiny")


def _run(market: Path, **kw):
    kw.setdefault("executor", "serial")
    return run_backtest(Scripted, data=market, params=STRADDLE, progress=False, **kw)


def test_same_inputs_give_a_byte_identical_tradebook(market: Path, tmp_path: Path) -> None:
    a = _run(market).save(tmp_path / "a")
    b = _run(market).save(tmp_path / "b")
    assert (a / "tradebook.parquet").read_bytes() == (b / "tradebook.parquet").read_bytes()
    assert (a / "manifest.json").read_bytes() == (b / "manifest.json").read_bytes()
    assert (a / "daily.csv").read_bytes() == (b / "daily.csv").read_bytes()


def test_save_load_round_trip(market: Path, tmp_path: Path) -> None:
    result = _run(market, fees="india", capital=1_000_000)
    out = result.save(tmp_path / "run")
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [
            "tradebook.parquet",
            "daily.csv",
            "days.csv",
            "metrics.json",
            "manifest.json",
            "excursions.csv",  # an intraday run
            "trades.parquet",  # the trade log, one row per position (seed 003)
            "params.toml",  # the resolved parameters (workbench run --params)
            "entries.csv",  # it opened positions: the market at each opening order
        ]
    )
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folder left
    loaded = BacktestResult.load(out)
    assert loaded.tradebook_table.schema.equals(TRADEBOOK_SCHEMA)
    assert loaded.tradebook_table.num_rows == result.tradebook_table.num_rows == 12
    assert list(loaded.daily.columns) == list(DAILY_COLUMNS)
    assert list(loaded.days.columns) == list(DAYS_COLUMNS)
    assert loaded.metrics["total_pnl"] == result.metrics["total_pnl"]
    assert loaded.manifest["run_id"] == result.run_id
    assert loaded.daily["equity"].iloc[-1] == pytest.approx(result.daily["equity"].iloc[-1])
    assert result.excursions is not None and len(result.excursions) > 0
    pd.testing.assert_frame_equal(loaded.excursions, result.excursions, check_dtype=False)
    assert result.entries is not None and len(result.entries) > 0
    pd.testing.assert_frame_equal(loaded.entries, result.entries, check_dtype=False)
    # saving again replaces the folder atomically
    result.save(out)
    assert BacktestResult.load(out).run_id == result.run_id


def test_load_names_the_missing_file(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    with pytest.raises(FileNotFoundError, match=r"missing tradebook\.parquet"):
        BacktestResult.load(tmp_path / "x")


def test_manifest_names_everything_the_run_depends_on(market: Path) -> None:
    result = _run(market, fill="mid/cross", fees="per-contract:0.65,min=1", capital=100000)
    m = result.manifest
    assert m["strategy"]["ref"] == "engine_strategies:Scripted"
    assert m["params"]["exit_at"] == "09:19:00"
    assert len(m["params_hash"]) == 64
    assert m["dataset"]["name"] == "tiny" and m["dataset"]["content_version"].startswith("sha256:")
    assert (m["start"], m["end"]) == (D1, D3)
    assert (
        m["models"]["fill"]["entry"]["name"] == "mid"
        and m["models"]["fill"]["exit"]["name"] == "cross"
    )
    assert m["models"]["fees"]["name"] == "per-contract"
    assert {"numpy", "pandas", "pyarrow", "duckdb", "python"} <= set(m["dependencies"])
    assert "commit" in m["git"] and m["package_version"]
    # a different parameter changes the run id, the same ones do not
    other = run_backtest(
        Scripted,
        data=market,
        params=dict(STRADDLE, exit_at=time(9, 18)),
        executor="serial",
        progress=False,
        fill="mid/cross",
        fees="per-contract:0.65,min=1",
        capital=100000,
    )
    assert other.run_id != result.run_id
    assert (
        _run(market, fill="mid/cross", fees="per-contract:0.65,min=1", capital=100000).run_id
        == result.run_id
    )


def test_headline_metrics_by_hand(market: Path) -> None:
    # mid fills, no fees. D1: sell C 105 + P 85 at 09:16, exit refused at 09:19 (C gap), closed
    # 09:20 at 130 + 72: -600. D2: sell 75 + 18, exit 09:19 at 90 + 13: -500. D3: 140 + 1 at
    # 09:16, exit 09:19 at 160 + 1: -1000. Equity -600, -1100, -2100; max drawdown -2100.
    result = _run(market, fill="mid", fees="none")
    daily = result.daily
    assert list(daily["pnl"]) == [-600, -500, -1000]
    assert list(daily["equity"]) == [-600, -1100, -2100]
    m = result.metrics
    assert m["total_pnl"] == -2100 and m["max_drawdown"] == -2100
    assert m["trades"] == 3 and m["win_rate"] == 0.0
    mean, sd = -700.0, (((100**2) + (200**2) + (300**2)) / 2) ** 0.5
    assert m["sharpe"] == pytest.approx(mean / sd * 252**0.5)


def test_cli_run_prints_where_and_the_metrics(
    market: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from workbench.cli.main import main

    code = main(
        [
            "run",
            "engine_strategies:Scripted",
            "--data",
            str(market),
            "--start",
            str(D2),
            "--end",
            str(D2),
            "--set",
            "exit_at=09:19",
            "--set",
            'orders=[{"at": "09:16", "legs": [{"strike": 21500, "right": "C", "side": "SELL"}]}]',
            "--fill",
            "mid",
            "--fees",
            "none",
            "--executor",
            "serial",
            "--no-progress",
            "--out",
            str(tmp_path / "cli"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert f"to {tmp_path / 'cli'}" in out
    assert "total_pnl" in out and "-750" in out  # sold 75, bought back 90: -15 x 50
    metrics = json.loads((tmp_path / "cli" / "metrics.json").read_text())
    assert metrics["total_pnl"] == -750


def test_cli_bad_parameter_is_one_line(
    market: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from workbench.cli.main import main

    code = main(
        [
            "run",
            "engine_strategies:Scripted",
            "--data",
            str(market),
            "--set",
            "nope=1",
            "--out",
            str(tmp_path / "x"),
        ]
    )
    assert code == 2
    assert "parameter 'nope': unknown parameter" in capsys.readouterr().err


def test_public_names_are_lazy() -> None:
    import subprocess
    import sys

    code = (
        "import sys, workbench; assert 'workbench.engine.runner' not in sys.modules; "
        "from workbench import Strategy, StrategyConfig, run_backtest; "
        "assert 'workbench.engine.runner' in sys.modules; print(run_backtest.__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "run_backtest"


def test_strategy_string_reference_and_errors(market: Path) -> None:
    result = run_backtest(
        "engine_strategies:Scripted",
        data=market,
        start=D1,
        end=D1,
        executor="serial",
        progress=False,
    )
    assert result.tradebook_table.num_rows == 0
    with pytest.raises(ValueError, match="has no 'Nope'"):
        run_backtest("engine_strategies:Nope", data=market, progress=False)
    with pytest.raises(ValueError, match="expected 'module:ClassName'"):
        run_backtest("engine_strategies", data=market, progress=False)


@pytest.mark.parametrize(
    ("fill", "names"),
    [
        ("mid/", "one fill model on each side"),
        ("/cross", "one fill model on each side"),
        ("mid/cross/close", "one fill model on each side"),
        ("mid/crux", "exit side: spec 'crux'"),
        ("fraction:2/mid", "entry side"),
    ],
)
def test_entry_exit_fill_specs_name_the_side_at_fault(fill: str, names: str) -> None:
    from workbench.engine.resolve import resolve_fills
    from workbench.execution.spec import SpecError

    with pytest.raises(SpecError) as info:
        resolve_fills(fill)
    assert names in str(info.value) and repr(fill) in str(info.value)


def test_entry_exit_fill_spec_sets_both_sides() -> None:
    from workbench.engine.resolve import resolve_fills
    from workbench.execution.fills import CrossSpread, Mid

    policy = resolve_fills(" mid / cross ")
    assert isinstance(policy.entry, Mid) and isinstance(policy.exit, CrossSpread)


def test_progress_callable_reports_each_day_and_can_stop_the_run(market: Path) -> None:
    """A service's progress and cancellation: ``(0, n)`` first, then after each day; an
    exception raised from it stops the run between two days and comes out of run_backtest."""
    seen: list[tuple[int, int]] = []
    result = run_backtest(Scripted, data=market, params=STRADDLE, executor="serial",
                          progress=lambda done, total: seen.append((done, total)))  # fmt: skip
    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert result.metrics["days"] == 3

    class Stop(Exception):
        pass

    days_started: list[int] = []

    def stop_after_first(done: int, total: int) -> None:
        days_started.append(done)
        if done == 1:
            raise Stop

    with pytest.raises(Stop):
        run_backtest(Scripted, data=market, params=STRADDLE, executor="serial",
                     progress=stop_after_first)  # fmt: skip
    assert days_started == [0, 1]  # the second and third days never ran
    positional: list[tuple[int, int]] = []
    run_backtest(Scripted, data=market, params=STRADDLE, mode="positional",
                 progress=lambda done, total: positional.append((done, total)))  # fmt: skip
    assert positional == [(0, 3), (1, 3), (2, 3), (3, 3)]
