"""Research results built by hand (no engine run) for the page tests: a walk-forward, a sweep
frame, an event comparison, run folders, and a reports day holding one of each."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "analytics"))

from analytics_builders import fake_closes, fake_paths, make_run

GRID = {
    "stop_loss_pct": [0.2, 0.3, 0.5],
    "entry": ["09:20", "10:30"],
    "wing_width_in_strikes": [2, 4],
}


def walkforward_result(n: int = 6, vix: Any = None) -> Any:
    from workbench.research.walkforward import WalkForwardResult, alpha_decay, parameter_stability

    rng = np.random.default_rng(4)
    rows, oos, chosen = [], [], []
    start = pd.Timestamp("2024-01-01")
    for k in range(n):
        train0 = start + pd.offsets.BDay(5 * k)
        val0 = train0 + pd.offsets.BDay(15)
        test0 = val0 + pd.offsets.BDay(5)
        combo = {"stop_loss_pct": [0.2, 0.5][k % 2], "entry": ["09:20", "10:30"][(k // 2) % 2]}
        failed = k == 3
        row = {
            "window": k,
            "train_start": train0.date(),
            "train_end": (val0 - pd.offsets.BDay(1)).date(),
            "validate_start": val0.date(),
            "validate_end": (test0 - pd.offsets.BDay(1)).date(),
            "test_start": test0.date(),
            "test_end": (test0 + pd.offsets.BDay(4)).date(),
            "params": None if failed else combo,
            **({"stop_loss_pct": None, "entry": None} if failed else combo),
        }
        for phase in ("train", "validate", "test"):
            for name in ("sharpe",):
                row[f"{phase}_{name}"] = np.nan if failed else float(rng.normal(1, 2))
            row[f"{phase}_trades"] = np.nan if failed else 5
        row["test_pnl"] = np.nan if failed else float(rng.normal(500, 3000))
        row["test_run_id"] = None if failed else f"{k:016x}"
        row["error"] = (
            "no usable combination on train: ValueError: a very long message that names the "
            "parameter, the day and the file at fault, and wraps rather than overflowing"
            if failed
            else None
        )
        rows.append(row)
        if not failed:
            chosen.append(combo)
            days = pd.bdate_range(test0, periods=5)
            oos.append(
                pd.DataFrame({"date": days.date, "window": k, "pnl": rng.normal(100, 900, 5)})
            )
    windows = pd.DataFrame(rows)
    oos_daily = pd.concat(oos, ignore_index=True)
    oos_daily["equity"] = oos_daily["pnl"].cumsum()
    config = {
        "strategy": "workbench.strategies.short_straddle:IntradayShortStraddle",
        "template": "short-straddle@1",
        "params": {"entry": "09:20", "exit_time": "15:15"},
        "grid": {"stop_loss_pct": [0.2, 0.5], "entry": ["09:20", "10:30"]},
        "objective": "sharpe",
        "top_n": 2,
        "unit": "days",
        "lengths": {"train": 15, "validate": 5, "test": 5, "step": 5},
        "data": "/a/very/long/path/to/a/dataset/folder/that/should/wrap/nifty-demo-with-a-long-name",
        "fill": None,
        "fees": "per-order:20+india",
        "margin": None,
        "capital": 1_000_000.0,
        "rate": 0.0,
        "vix": None,
        "code": {},
    }
    sharpe = [None if pd.isna(v) else float(v) for v in windows["test_sharpe"]]
    return WalkForwardResult(
        windows=windows,
        oos_daily=oos_daily,
        stability=parameter_stability(chosen),
        decay=alpha_decay(sharpe),
        config=config,
        vix=vix,
    )


def sweep_frame() -> pd.DataFrame:
    from workbench.research.sweep import HEADLINE_METRICS, expand_grid

    rng = np.random.default_rng(8)
    rows = []
    for i, combo in enumerate(expand_grid(GRID)):
        row: dict[str, Any] = dict(combo)
        for key in HEADLINE_METRICS:
            row[key] = (
                float(rng.normal(0, 1)) if key == "sharpe" else float(rng.normal(20000, 90000))
            )
        row["trades"] = 60.0
        row["run_id"] = f"{i:016x}"
        row["error"] = (
            "DayFailedError: 2024-01-05 failed: ZeroDivisionError in on_bar at strategy.py:42"
            if i == 5
            else None
        )
        rows.append(row)
    return pd.DataFrame(rows)


def event_comparison(portfolio: bool = False) -> Any:
    from workbench.research.events import EventComparison, EventPreset, rank_summary

    preset = EventPreset(
        slug="synthetic-dip",
        display_name="A synthetic dip with a rather long display name for the header",
        symbol="NIFTY",
        window_start=date(2024, 3, 4),
        window_end=date(2024, 3, 15),
        anchor_date=date(2024, 3, 6),
        event_type="selloff",
        tags=("synthetic", "test"),
        description="Built by hand for the page tests.",
        lookback_days=3,
        recovery_days=3,
        default_template_slugs=("a", "b"),
    )
    days = pd.bdate_range("2024-02-28", "2024-03-20")
    rng = np.random.default_rng(2)
    names = ["short-straddle", "iron-condor-weekly-with-a-long-name", "broken"]
    paths = pd.DataFrame(
        {n: 1 + np.cumsum(rng.normal(0, 0.004, len(days))) for n in names[:2]}, index=days.date
    )
    paths.index.name = "date"
    rows = []
    for n in names:
        ok = n != "broken"
        rows.append(
            {
                "template": n,
                "total_pnl": float(rng.normal(0, 20000)) if ok else np.nan,
                "end_value": float(paths[n].iloc[-1]) if ok else np.nan,
                "max_drawdown": -abs(float(rng.normal(0, 30000))) if ok else np.nan,
                "max_drawdown_pct": -0.03 if ok else np.nan,
                "worst_day": -abs(float(rng.normal(0, 9000))) if ok else np.nan,
                "worst_day_date": days[5].date() if ok else None,
                "fees": 2100.0 if ok else np.nan,
                "sharpe": 1.1 if ok else np.nan,
                "trades": 16.0 if ok else np.nan,
                "fills": 64.0 if ok else np.nan,
                "days": float(len(days)),
                "days_skipped": 0.0,
                "days_failed": 0.0 if ok else 1.0,
                "run_id": f"{hash(n) & 0xFFFFFFFF:016x}",
                "flag": "" if ok else "failed",
                "error": None
                if ok
                else "ValueError: parameter 'qty': must be >= 1, got 0 (at config.py:88)",
            }
        )
    from workbench.research.events import SUMMARY_COLUMNS

    summary = rank_summary(pd.DataFrame(rows))[list(SUMMARY_COLUMNS)]
    return EventComparison(preset, days[0].date(), days[-1].date(), 1_000_000.0, paths, summary)


def write_run_folder(
    folder: Path, n_days: int = 60, seed: int = 7, params: dict | None = None
) -> Path:
    """A run folder as ``BacktestResult.save`` writes it, from ``make_run``, with its tearsheet."""
    from workbench.analytics import analyse, render_tearsheet
    from workbench.analytics.analysis import jsonable, metrics_dict

    run = make_run(n_days, seed)
    folder.mkdir(parents=True)
    run.tradebook.to_parquet(folder / "tradebook.parquet", index=False)
    run.daily.to_csv(folder / "daily.csv", index=False)
    manifest = {
        **run.manifest,
        "underlying": "NIFTY",
        "currency": "INR",
        "capital": 1_000_000.0,
        "run_id": folder.name,
        "template": {
            "name": "short-straddle-with-a-long-template-name",
            "version": 1,
            "overrides": params or {},
        },
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
    a = analyse(run, capital=1e6, mc_paths=20, intraday=fake_paths(run), benchmark=fake_closes(run))
    doc = metrics_dict(a)
    flat = jsonable(
        {
            **a.metrics,
            **a.trade_metrics,
            "total_pnl": doc["metrics"]["net_pnl"],
            "max_drawdown": doc["metrics"]["max_drawdown_money"],
        }
    )
    (folder / "metrics.json").write_text(json.dumps(flat, indent=2, default=str))
    render_tearsheet(None, folder / "tearsheet.html", analysis=a, title=f"run {folder.name}")
    return folder


def reports_day(root: Path) -> Path:
    """``root/2026-12-03`` with two runs, a failed one, a grid, a walk-forward, a sweep, an
    event comparison and a basket, a run repository (``root/repository.sqlite``) holding a
    queued grid member and the walk-forward and event comparison, and the day's index."""
    from workbench.research.basket import combine
    from workbench.research.basket_report import write_basket
    from workbench.research.index import write_index
    from workbench.research.sweep_report import render_sweep

    day = root / "2026-12-03"
    day.mkdir(parents=True)
    a = write_run_folder(
        day / "short-straddle-with-a-long-template-name-v1-8b7c5d3e21",
        params={
            "stop_loss_pct": 0.25,
            "entry": "09:20:00",
            "a_rather_long_parameter_name": "with a long value too",
        },
    )
    b = write_run_folder(
        day / "short-straddle-with-a-long-template-name-v1-0f3a99c1b2",
        seed=9,
        params={"stop_loss_pct": 0.5, "entry": "10:30:00"},
    )
    failed = day / "short-straddle-with-a-long-template-name-v1-deadbeef00"
    failed.mkdir()
    (failed / "error.txt").write_text(
        "PapermillExecutionError: DayFailedError: 2024-01-05 failed: ZeroDivisionError: float "
        "division by zero in on_bar at /home/someone/strategies/my_very_long_strategy_file.py:142"
    )
    (day / "grid-stops.json").write_text(
        json.dumps(
            {
                "name": "stops",
                "template": "short-straddle-with-a-long-template-name@1",
                "grid": {"stop_loss_pct": [0.25, 0.5], "entry": ["09:20:00", "10:30:00"]},
                "heatmap": {"x": "stop_loss_pct", "y": "entry", "metric": "sharpe"},
                "runs": [a.name, b.name, failed.name],
            }
        )
    )
    walkforward_result().save(day / "walkforward-straddle")
    sweep = day / "sweep-straddle"
    sweep.mkdir()
    frame = sweep_frame()
    (sweep / "sweep.json").write_text(
        json.dumps(
            {
                "kind": "sweep",
                "strategy": "short-straddle@1",
                "combinations": len(frame),
                "failed": 1,
                "objective": "sharpe",
            }
        )
    )
    (sweep / "sweep.html").write_text(
        render_sweep(
            frame,
            params=list(GRID),
            grid=GRID,
            links={frame.loc[0, "run_id"]: "x/tearsheet.html"},
            title="Sweep: short-straddle@1",
        )
    )
    event_comparison().save(day / "event-synthetic-dip")
    write_basket(
        combine([a, b], None),
        day / "basket-of-two",
        capital=1e6,
        title="A basket of two runs with long names",
    )
    # the run repository of the reports folder: a grid member still queued (no folder yet),
    # and the walk-forward and event comparison recorded with their folders
    from workbench.research.repository import RunRepository

    repo = RunRepository(root)
    repo.create(
        "grid-member",
        origin="grid",
        template="short-straddle-with-a-long-template-name@1",
        out=day / "short-straddle-with-a-long-template-name-v1-5eedc0ffee",
        request={"params": {"stop_loss_pct": 0.75, "entry": "11:45:00"}},
    )
    for kind, folder in (
        ("walkforward", "walkforward-straddle"),
        ("event-comparison", "event-synthetic-dip"),
    ):
        record = repo.create(kind, origin="cli", status="running", out=day / folder)
        repo.complete(record, metrics={"total_pnl": 1.0}, out=day / folder)
    write_index(day)
    return day
