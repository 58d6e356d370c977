"""A run's report with the market data beside it, on the synthetic market: ``trades.csv`` in
the run folder rebuilt from ``tradebook.parquet``; each day's intraday path against the day's
PnL and the engine's own tick-by-tick excursions; the benchmark from the dataset's closes; the
VIX-like series given with ``--vix``, found in the run's dataset, or refused with one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.cli.main import main
from workbench.research.runs import run_strategy

START = "2024-01-02"


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from workbench.data.synth import generate

    out = tmp_path_factory.mktemp("report") / "nifty"
    generate("nifty-intraday", out, seed=21, start=START, days=6, progress=False, workers=1)
    return out


def _vix_csv(path: Path, first: str = "2023-12-26", days: int = 20) -> Path:
    dates = pd.bdate_range(first, periods=days)
    level = 12.0 + np.arange(days) * 1.5  # rises through the regimes: 12, 13.5, ... 40.5
    frame = pd.DataFrame(
        {
            "Date": dates.strftime("%Y-%m-%d"),
            "Open": level,
            "High": level + 1,
            "Low": level - 1,
            "Close": level,
        }
    )
    frame.to_csv(path, index=False)
    return path


def _vix_minutes(path: Path) -> Path:
    rows = []
    for i, day in enumerate(pd.bdate_range(START, periods=6)):
        for hhmm, level in (("09:15", 14.0 + i), ("15:29", 15.0 + i)):
            rows.append(
                ("INDIAVIX", day.strftime("%Y%m%d"), hhmm, level, level + 0.5, level - 0.5, level)
            )
    frame = pd.DataFrame(
        rows, columns=["Instrument", "Date", "Time", "Open", "High", "Low", "Close"]
    )
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def vix_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("vix")
    csv = _vix_csv(root / "indiavix_daily.csv")
    out = root / "indiavix"
    assert (
        main(["data", "ingest", "--format", "ohlc", str(csv), "--out", str(out), "--no-progress"])
        == 0
    )
    return out


@pytest.fixture(scope="module")
def run_folder(market: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "reentry"
    run_strategy(
        "short-straddle-reentry",
        data=market,
        out=out,
        refs_dir=tmp_path_factory.mktemp("refs"),
        executor="serial",
        margin="span",
    )
    return out


def test_trades_csv_in_the_run_folder_matches_the_tradebook(run_folder: Path) -> None:
    tb = pd.read_parquet(run_folder / "tradebook.parquet")
    csv = pd.read_csv(run_folder / "trades.csv", parse_dates=["entry_ts", "exit_ts"])
    # positions by hand: an intraday run's position is (day of its first fill, cycle)
    tb["first_day"] = tb.groupby("trade_id")["day"].transform("first").astype(str)
    by_position = {}
    for (day, cycle), g in tb.groupby(["first_day", "cycle"]):
        by_position[f"{day}#{cycle}"] = g
    assert len(csv) == len(by_position) > 0
    assert sorted(csv["position"]) == sorted(by_position)
    for row in csv.to_dict(orient="records"):
        g = by_position[row["position"]]
        assert row["entry_ts"] == g["ts"].min() and row["exit_ts"] == g["ts"].max()
        assert row["pnl"] == pytest.approx(g["cash"].sum(), abs=1e-6)
        assert row["fees"] == pytest.approx(g["fees"].sum(), abs=1e-6)
        assert row["legs"] == g.loc[g["action"] == "open", "trade_id"].nunique()
        last = g[g["ts"] == g["ts"].max()]
        assert row["exit_reason"] == last["reason"].iloc[-1]
        assert row["legs_detail"].count(" | ") == row["legs"] - 1
    metrics = json.loads((run_folder / "metrics.json").read_text())
    assert metrics["trades"] == len(csv)
    for key in ("beta", "alpha", "correlation"):
        assert key in metrics


def test_intraday_paths_end_at_the_day_and_follow_the_engine_excursions(run_folder: Path) -> None:
    from workbench.research.intraday import intraday_paths

    tb = pd.read_parquet(run_folder / "tradebook.parquet")
    manifest = json.loads((run_folder / "manifest.json").read_text())
    paths = intraday_paths(tb, manifest["dataset"]["path"])
    assert paths is not None and not paths.empty
    daily = pd.read_csv(run_folder / "daily.csv", parse_dates=["date"]).set_index("date")
    last = paths.groupby("day")["pnl"].last()
    assert np.allclose(last.to_numpy(), daily.loc[last.index, "pnl"].to_numpy(), atol=1e-6)
    # the engine's excursions are gross of fees: add back the fees paid so far and a day with
    # one position has the same lowest and highest point
    excursions = pd.read_csv(run_folder / "excursions.csv", parse_dates=["day"])
    single = excursions.groupby("day").filter(lambda g: len(g) == 1)
    assert len(single) > 0
    checked = 0
    for rec in single.to_dict(orient="records"):
        day = rec["day"]
        p = paths[paths["day"] == day].copy()
        fills = tb[pd.to_datetime(tb["day"]) == day]
        paid = np.array([fills.loc[fills["ts"] <= t, "fees"].sum() for t in p["ts"]])
        gross = p["pnl"].to_numpy() + paid
        assert min(gross.min(), 0.0) == pytest.approx(rec["mae"], abs=0.01)
        assert max(gross.max(), 0.0) == pytest.approx(rec["mfe"], abs=0.01)
        checked += 1
    assert checked >= 1
    assert intraday_paths(tb, manifest["dataset"]["path"], mode="positional") is None


def test_the_tearsheet_has_the_intraday_section_and_the_benchmark(run_folder: Path) -> None:
    html = (run_folder / "tearsheet.html").read_text()
    for marker in (
        'id="chart-intraday_paths"',
        'id="chart-intraday_extremes"',
        "Against buy-and-hold NIFTY",
        'href="trades.csv"',
    ):
        assert marker in html, marker
    assert "intraday paths not drawn" not in html


def test_an_intraday_run_has_its_return_on_the_margin_it_held_during_the_day(
    run_folder: Path,
) -> None:
    """The re-entering straddle (SPAN margin) is flat at every close: its return on margin is
    on the largest margin each day needed while its positions were open (daily.csv's
    ``peak_margin``), not undefined for want of margin at the close."""
    daily = pd.read_csv(run_folder / "daily.csv")
    assert (daily["margin"].fillna(0) == 0).all()  # flat at every close
    held = daily["peak_margin"][daily["peak_margin"] > 0]
    assert len(held) > 0
    net = daily["pnl"].sum()
    metrics = json.loads((run_folder / "metrics.json").read_text())
    assert metrics["peak_margin"] == pytest.approx(held.max(), abs=0.01)
    assert metrics["return_on_peak_margin"] == pytest.approx(net / held.max(), rel=1e-6)
    html = (run_folder / "tearsheet.html").read_text()
    assert f"Return on peak margin ({held.max():,.2f} INR)" in html
    assert f"Return on average margin ({held.mean():,.2f} INR, days holding margin)" in html
    assert "Return on margin</td>" not in html  # the undefined row is not shown


def test_vix_given_found_in_the_dataset_or_refused(
    market: Path, vix_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    refs = tmp_path / "refs"
    # given with --vix: recorded in the manifest and drawn
    out = tmp_path / "with-vix"
    code = main(
        ["run", "short-straddle", "--data", str(market), "--out", str(out), "--vix", str(vix_data),
         "--executor", "serial", "--no-progress", "--reports", str(refs)]
    )  # fmt: skip
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["vix"]["series"] == "INDIAVIX"
    html = (out / "tearsheet.html").read_text()
    assert 'id="chart-vix_regime"' in html and "not available (no VIX-like" not in html
    assert "Volatility regimes from INDIAVIX" in html
    metrics = json.loads((out / "metrics.json").read_text())
    assert "trades.csv" in capsys.readouterr().out and metrics["trades"] > 0
    # held by the run's own dataset (its minute bars ingested beside the chains): found
    # without --vix, each day's last bar its close
    own = tmp_path / "own"
    shutil.copytree(market, own)
    csv = _vix_minutes(tmp_path / "indiavix_minutes.csv")
    assert (
        main(["data", "ingest", "--format", "ohlc", str(csv), "--out", str(own), "--no-progress"])
        == 0
    )
    auto = run_strategy(
        "short-straddle",
        data=own,
        out=tmp_path / "auto",
        refs_dir=refs,
        executor="serial",
        overrides={"underlying": "NIFTY"},  # the dataset holds two series now
    )
    assert auto.manifest["vix"]["series"] == "INDIAVIX"
    regimes = json.loads((tmp_path / "auto" / "metrics.json").read_text())
    assert regimes["trades"] > 0
    # a dataset without a VIX-like series: one line naming it, nothing written
    bad = tmp_path / "bad"
    code = main(
        ["run", "short-straddle", "--data", str(market), "--out", str(bad), "--vix", str(market),
         "--executor", "serial", "--no-progress", "--reports", str(refs)]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and f"--vix {market}" in err and "NIFTY" in err
    assert not bad.exists()
    code = main(
        [
            "run",
            "short-straddle",
            "--data",
            str(market),
            "--out",
            str(bad),
            "--vix",
            str(tmp_path / "nope"),
            "--no-progress",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and f"--vix {tmp_path / 'nope'}: dataset folder" in err  # names the option
    assert len(err.strip().splitlines()) == 1 and not bad.exists()


def test_the_vix_regime_of_a_day_is_the_close_before_it(
    market: Path, vix_data: Path, tmp_path: Path
) -> None:
    from workbench.analytics.breakdowns import vix_asof
    from workbench.research.market_series import vix_from_dataset

    series = vix_from_dataset(vix_data)
    days = pd.Series(pd.to_datetime(["2024-01-02", "2024-01-03"]))
    levels = vix_asof(series.closes, days)
    # 2024-01-02's regime is 2024-01-01's close (12 + 4 x 1.5), never its own (12 + 5 x 1.5)
    assert levels.tolist() == [18.0, 19.5]
