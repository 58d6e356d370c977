"""The VIX-regime breakdown and the trade log's entry columns for runs that read extra series
(issue 14): ``run_strategy(series=...)`` / ``workbench run --series`` / grid ``series``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.engine.engine_builders import D1, D2, D3
from tests.engine.test_engine_series import VIX, SeriesProbe, write_daily, write_nifty


@pytest.fixture(scope="module")
def markets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("series-report")
    return {"nifty": write_nifty(root / "nifty"), "vix": write_daily(root / "vix", VIX)}


def test_run_strategy_with_series_reports_vix_regimes_and_entry_vix(
    markets: dict[str, Path], tmp_path: Path
) -> None:
    from workbench.research.runs import run_strategy

    summary = run_strategy(
        SeriesProbe, data=markets["nifty"], out=tmp_path / "run", series=[markets["vix"]],
        executor="serial", refs_dir=tmp_path / "reports", capital=1_000_000,
    )  # fmt: skip
    # the report found the VIX-like series among the run's extra datasets
    assert summary.manifest["vix"]["series"] == "INDIAVIX"
    assert summary.manifest["vix"]["dataset"] == str(markets["vix"].resolve())
    page = (summary.out / "tearsheet.html").read_text()
    assert "PnL by volatility regime: not available" not in page
    trades = pd.read_csv(summary.out / "trades.csv")
    # one short 21500 call a day, entered at the second tick: the previous sessions' closes
    assert list(trades["vix_entry"]) == [15.0, 16.0, 17.0]
    assert list(trades["short_strike"]) == [21500.0] * 3
    assert trades["long_strike"].isna().all()  # a naked short: no wing
    # a short call earns time decay; on expiry day (D3) the ITM call is all intrinsic value:
    # no implied volatility, no theta
    assert (trades["theta_entry"][:2] > 0).all() and pd.isna(trades["theta_entry"][2])
    assert trades["iv_rank_entry"].isna().all()  # the strategy never read IV rank
    assert [pd.Timestamp(t).date() for t in trades["entry_ts"]] == [D1, D2, D3]
    # trades.parquet (seed 003's log) carries the same market at entry
    log = pd.read_parquet(summary.out / "trades.parquet")
    assert list(log["vix_at_entry"]) == [15.0, 16.0, 17.0]
    assert list(log["theta_at_entry"][:2]) == pytest.approx(list(trades["theta_entry"][:2]))
    assert pd.isna(log["theta_at_entry"][2]) and log["iv_rank_at_entry"].isna().all()


def test_without_series_the_run_has_no_vix_and_says_so(
    markets: dict[str, Path], tmp_path: Path
) -> None:
    from workbench.research.runs import run_strategy

    class NoVix(SeriesProbe):
        def on_day_start(self, day: object) -> bool:
            return True

        def on_bar(self, bar: object) -> None:
            pass

        def on_day_end(self, day: object) -> None:
            pass

    summary = run_strategy(
        NoVix, data=markets["nifty"], out=tmp_path / "run", executor="serial",
        refs_dir=tmp_path / "reports", capital=1_000_000,
    )  # fmt: skip
    assert "vix" not in summary.manifest and summary.manifest["series"] == []
    page = (summary.out / "tearsheet.html").read_text()
    assert "PnL by volatility regime: not available" in page


def test_grid_series_enters_the_run_id_and_is_checked(
    markets: dict[str, Path], tmp_path: Path
) -> None:
    from workbench.research.grid import GridError, GridSpec, run_grid, run_id_for
    from workbench.research.strategy_spec import resolve_strategy_spec

    chosen = resolve_strategy_spec("short-straddle")
    plain = GridSpec(template="short-straddle", data=str(markets["nifty"]))
    with_vix = plain.model_copy(update={"series": [str(markets["vix"])]})
    params = chosen.resolved_params({})
    assert run_id_for(chosen, params, plain) != run_id_for(chosen, params, with_vix)
    bad = plain.model_copy(update={"series": [str(tmp_path / "nope")]})
    with pytest.raises(GridError, match=r"series: .*nope is not a dataset folder"):
        run_grid(bad, reports_root=tmp_path / "reports", progress=False)


PROBE = """
from workbench import Strategy, StrategyConfig


class Probe(Strategy):
    class Config(StrategyConfig):
        underlying: str | None = "NIFTY"
        threshold: float = 0.0

    def on_bar(self, bar):
        value, lag = bar.series("INDIAVIX")
        if self.idle and bar.tick == 1 and value > self.config.threshold:
            self.try_fill([self.add(21500, "C", "SELL")])
"""


def test_grid_tearsheets_have_the_vix_regimes_of_the_series_the_runs_read(
    markets: dict[str, Path], tmp_path: Path
) -> None:
    import json

    from workbench.research.grid import GridSpec, run_grid

    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    spec = GridSpec(
        strategy=f"{probe}:Probe", data=str(markets["nifty"]), series=[str(markets["vix"])],
        capital=1_000_000, grid={"threshold": [0.0, 15.5]},
    )  # fmt: skip
    result = run_grid(spec, reports_root=tmp_path / "reports", progress=False)
    assert [r.ok for r in result.runs] == [True, True], [r.error for r in result.runs]
    for run in result.runs:
        html = (run.folder / "tearsheet.html").read_text()
        assert 'id="chart-vix_regime"' in html and "not available (no VIX-like" not in html
        manifest = json.loads((run.folder / "manifest.json").read_text())
        assert manifest["series"][0]["path"] == str(markets["vix"].resolve())
        assert manifest["vix"]["series"] == "INDIAVIX"
        trades = pd.read_csv(run.folder / "trades.csv")
        expected = [15.0, 16.0, 17.0] if run.params["threshold"] == 0.0 else [16.0, 17.0]
        assert list(trades["vix_entry"]) == expected


def test_sweep_runs_read_the_series_of_the_spec(markets: dict[str, Path]) -> None:
    from workbench.engine.spec import RunSpec
    from workbench.research.sweep import sweep

    spec = RunSpec(data=markets["nifty"], series=[markets["vix"]], capital=1_000_000)
    frame = sweep(SeriesProbe, {"threshold": [0.0, 15.5, 99.0]}, spec, executor="serial")
    assert frame["error"].isna().all()
    # the previous closes before D1..D3 are 15, 16, 17: 3, 2 and 0 days above the threshold
    assert list(frame["trades"]) == [3, 2, 0]


def test_cli_sweep_from_a_grid_file_with_series(markets: dict[str, Path], tmp_path: Path) -> None:
    from workbench.cli.main import main

    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    grid = tmp_path / "grid.toml"
    grid.write_text(
        f'strategy = "{probe}:Probe"\ndata = "{markets["nifty"]}"\nseries = ["{markets["vix"]}"]\n'
        "capital = 1000000\n[grid]\nthreshold = [0.0, 15.5, 99.0]\n"
    )
    out = tmp_path / "sweep"
    code = main(["sweep", str(grid), "--out", str(out), "--workers", "1", "--no-best",
                 "--no-progress", "--reports", str(tmp_path / "reports")])  # fmt: skip
    assert code == 0
    frame = pd.read_csv(out / "sweep.csv")
    assert list(frame["trades"]) == [3, 2, 0]


def test_walkforward_file_with_series(markets: dict[str, Path], tmp_path: Path) -> None:
    from workbench.cli.main import main

    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    spec = tmp_path / "wf.toml"
    spec.write_text(
        f'strategy = "{probe}:Probe"\ndata = "{markets["nifty"]}"\nseries = ["{markets["vix"]}"]\n'
        'capital = 1000000\nobjective = "total_pnl"\n[grid]\nthreshold = [0.0, 99.0]\n'
        "[windows]\ntrain = 1\nvalidate = 1\ntest = 1\n"
    )
    out = tmp_path / "wf"
    code = main(["walkforward", str(spec), "--out", str(out), "--workers", "1", "--no-progress",
                 "--reports", str(tmp_path / "reports")])  # fmt: skip
    assert code == 0
    windows = pd.read_csv(out / "windows.csv")
    # the window's runs read INDIAVIX (without the series every day would fail: an error)
    assert len(windows) == 1 and windows["error"].isna().all()
    # D1's short call lost money: the train window (D1) prefers never selling (99)
    assert windows["threshold"].tolist() == [99.0] and windows["train_trades"].tolist() == [0]


def test_params_toml_replays_a_run_with_series(markets: dict[str, Path], tmp_path: Path) -> None:
    import json
    import tomllib

    from workbench.cli.main import main

    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    first, again = tmp_path / "a", tmp_path / "b"
    common = ["--no-progress", "--executor", "serial", "--reports", str(tmp_path / "reports")]
    assert main(["run", f"{probe}:Probe", "--data", str(markets["nifty"]), "--series",
                 str(markets["vix"]), "--out", str(first), *common]) == 0  # fmt: skip
    doc = tomllib.loads((first / "params.toml").read_text())
    assert doc["series"] == [str(markets["vix"].resolve())]
    assert main(["run", "--params", str(first / "params.toml"), "--out", str(again), *common]) == 0
    ids = [json.loads((f / "manifest.json").read_text())["run_id"] for f in (first, again)]
    assert ids[0] == ids[1]
    for name in ("tradebook.parquet", "entries.csv", "trades.parquet"):
        assert (first / name).read_bytes() == (again / name).read_bytes(), name
