"""``make demo``: the whole workbench on the embedded synthetic market, in a few minutes.

1. Create ``data/nifty-demo`` (60 days of synthetic 1-minute NIFTY spot and options) when
   absent, and beside it ``data/nifty-demo-vix``: an INDIAVIX-like daily series read off the
   demo chain (the 30-day at-the-money implied volatility at each close, in points), so that the
   reports show their volatility-regime panels.
2. Run the demo grids (``templates/grids/demo-*.toml``): each template over a few parameter
   combinations, one papermill-executed notebook per run, into ``reports/<today>/<run-id>/``,
   each grid with its sweep page.
3. Combine the best run of each grid (by Sharpe) into a basket with ``notebooks/basket.ipynb``.
4. A sweep, a walk-forward and an event comparison (the demo market's sharpest fall) of the
   straddle templates, each with its page.
5. Rewrite the day's ``index.html`` and return its path.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from workbench.research.grid import KERNEL_START_TIMEOUT, REPO_ROOT, GridRun, load_grid, run_grid

__all__ = ["DEMO_DAYS", "REPO_ROOT", "ensure_demo_data", "ensure_demo_vix", "run_demo"]

DEMO_DATA = "data/nifty-demo"
DEMO_VIX = "data/nifty-demo-vix"
DEMO_DAYS = 60
DEMO_START = "2024-01-01"
DEMO_SEED = 7
BASKET_NOTEBOOK = REPO_ROOT / "notebooks" / "basket.ipynb"


def ensure_demo_data(root: Path, *, days: int = DEMO_DAYS, progress: bool = True) -> Path:
    """The demo dataset folder, generated first if absent or made by an older generator."""
    from workbench.data.catalog import Catalog
    from workbench.data.synth import generate
    from workbench.data.synth.output import synth_source

    data = root / DEMO_DATA
    current = None
    if (data / "catalog.json").is_file():
        current = Catalog.load(data).source
    if current != synth_source("nifty-intraday", DEMO_SEED, DEMO_START, days):
        generate(
            "nifty-intraday", data, seed=DEMO_SEED, start=DEMO_START, days=days, progress=progress
        )
    return data


def ensure_demo_vix(root: Path, data: Path, *, progress: bool = True) -> Path:
    """``data/nifty-demo-vix``: a daily INDIAVIX-like series of the demo market, (re)built when
    the demo dataset changed. Each day's close is the mean implied volatility (points) of the
    at-the-money call and put, at the last bar, of the expiry nearest to 30 calendar days out
    (a week at least), from their quote mids -- the level the market priced, known at that
    close."""
    import math
    import tempfile

    import numpy as np
    import pandas as pd

    from workbench.data.catalog import Catalog
    from workbench.data.ingest import ingest
    from workbench.data.store import MarketStore
    from workbench.pricing import implied_vol

    out = root / DEMO_VIX
    source = Catalog.load(data)
    tag = f"indiavix-from-{source.content_version.split(':')[-1][:12]}"
    if (out / "catalog.json").is_file() and Catalog.load(out).name == tag:
        return out
    rows = []
    with MarketStore(data) as store:
        underlying = store.underlyings()[0]
        for day in store.days(underlying):
            chain = store.read_chain(underlying, day).to_pandas()
            spot = store.read_spot(underlying, day).to_pandas()
            if chain.empty or spot.empty:
                continue
            last = chain["ts"].max()
            at = chain[chain["ts"] == last]
            s_close = float(spot["close"].iloc[-1])
            dte = (pd.to_datetime(at["expiry"]) - pd.Timestamp(day)).dt.days
            usable = at[dte >= 7]
            if usable.empty:
                continue
            target = usable.loc[(dte[usable.index] - 30).abs().idxmin(), "expiry"]
            series = usable[usable["expiry"] == target]
            strike = series["strike"].iloc[(series["strike"] - s_close).abs().argmin()]
            pair = series[series["strike"] == strike]
            mids = ((pair["bid"] + pair["ask"]) / 2).to_numpy(dtype=float)
            years = (
                (pd.Timestamp(target) + pd.Timedelta(hours=15, minutes=30)) - last
            ).total_seconds()
            years /= 365.0 * 86400
            ivs = implied_vol(
                mids,
                np.full(len(pair), s_close),
                np.full(len(pair), float(strike)),
                np.full(len(pair), years),
                np.zeros(len(pair)),
                (pair["right"] == "C").to_numpy(),
            )
            level = float(np.nanmean(ivs)) * 100 if np.isfinite(ivs).any() else math.nan
            if math.isfinite(level):
                rows.append((day.isoformat(), level))
    frame = pd.DataFrame(rows, columns=["Date", "Close"])
    frame["Open"] = frame["High"] = frame["Low"] = frame["Close"]
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "indiavix_demo_daily.csv"
        frame[["Date", "Open", "High", "Low", "Close"]].to_csv(csv, index=False)
        if out.exists():
            import shutil

            shutil.rmtree(out)
        ingest("ohlc", [csv], out, underlying="INDIAVIX", name=tag, progress=progress)
    return out


def _best(runs: list[GridRun], metric: str = "sharpe") -> GridRun | None:
    scored = [r for r in runs if r.ok and isinstance(r.metrics.get(metric), int | float)]
    return max(scored, key=lambda r: (r.metrics[metric], r.run_id)) if scored else None


def run_demo(
    root: Path = REPO_ROOT,
    *,
    reports: str | Path = "reports",
    day: date | None = None,
    days: int = DEMO_DAYS,
    grids: list[Path] | None = None,
    progress: bool = True,
    say: Callable[[str], None] = print,
) -> Path:
    """Run the demo; returns the day's ``index.html``."""
    import papermill

    from workbench.research.index import write_index

    root = Path(root)
    reports_root = (root / reports).resolve() if not Path(reports).is_absolute() else Path(reports)
    day = day or date.today()
    data = ensure_demo_data(root, days=days, progress=progress)
    vix = ensure_demo_vix(root, data, progress=progress)
    say(f"dataset: {data} (INDIAVIX-like series: {vix})")
    grid_files = (
        grids if grids is not None else sorted((root / "templates" / "grids").glob("demo-*.toml"))
    )
    best: list[GridRun] = []
    for grid_file in grid_files:
        spec = load_grid(grid_file)
        spec = spec.model_copy(update={"data": str(data), "vix": spec.vix or str(vix)})
        result = run_grid(
            spec, reports_root=reports_root, day=day, progress=progress, origin="demo"
        )
        ok = len(result.runs) - len(result.failed)
        say(f"grid {spec.name}: {ok} of {len(result.runs)} runs completed")
        for failed in result.failed:
            say(f"  failed {failed.run_id}: {failed.error}")
        chosen = _best(result.runs)
        if chosen is not None:
            best.append(chosen)
    day_folder = reports_root / day.isoformat()
    if len(best) >= 2:
        folders = [str(r.folder) for r in best]
        tag = hashlib.sha256("|".join(sorted(folders)).encode()).hexdigest()[:10]
        out = day_folder / f"basket-{tag}"
        papermill.execute_notebook(
            str(BASKET_NOTEBOOK),
            str(day_folder / f".basket-{tag}.ipynb"),
            parameters={
                "runs": folders,
                "out": str(out),
                "title": "Demo basket: best run of each grid",
            },
            kernel_name="python3",
            progress_bar=False,
            start_timeout=KERNEL_START_TIMEOUT,
            cwd=str(root),
        )
        (day_folder / f".basket-{tag}.ipynb").replace(out / "basket.ipynb")
        say(f"basket: {out / 'basket.html'}")
    for page in _research_pages(data, vix, day_folder, progress=progress):
        say(f"page: {page}")
    index = write_index(day_folder)
    return index


def _research_pages(data: Path, vix: Path, day_folder: Path, *, progress: bool) -> list[Path]:
    """A sweep, a walk-forward and an event comparison of the demo's straddles, with pages."""
    from workbench.engine.spec import RunSpec
    from workbench.research.events import compare
    from workbench.research.sweep import sweep
    from workbench.research.sweep_report import write_sweep
    from workbench.research.walkforward import walk_forward

    spec = RunSpec.build(None, data=data, fees="per-order:20+india", capital=1_000_000.0)
    grid: dict[str, list[Any]] = {"stop_loss_pct": [0.2, 0.3, 0.5], "entry": ["09:20", "10:30"]}
    frame = sweep("short-straddle", grid, spec, progress=progress)
    pages = [
        write_sweep(
            frame, day_folder / "sweep-straddle", strategy="short-straddle", grid=grid, spec=spec,
            vix=vix, refs_dir=day_folder.parent,
        ) / "sweep.html"
    ]  # fmt: skip
    wf = walk_forward(
        "short-straddle", {"stop_loss_pct": [0.2, 0.5], "entry": ["09:20", "10:30"]}, spec,
        train=20, validate=10, test=10, top_n=2, progress=progress, vix=vix,
    )  # fmt: skip
    pages.append(wf.save(day_folder / "walkforward-straddle") / "walk_forward.html")
    preset = _demo_event(data)
    if preset is not None:
        comparison = compare(
            preset, ["short-straddle", "short-straddle-reentry"], spec, progress=progress
        )
        pages.append(comparison.save(day_folder / f"event-{preset.slug}") / "event.html")
    return pages


def _demo_event(data: Path) -> Any:
    """The demo market's sharpest fall: ten sessions around the worst close-to-close drop of the
    synthetic NIFTY (no real event: the synthetic market has its own history)."""
    from workbench.data.store import MarketStore
    from workbench.research.events import EventPreset

    with MarketStore(data) as store:
        closes = store.daily_closes(store.underlyings()[0])
    ordered = sorted(closes)
    if len(ordered) < 12:
        return None
    drops = [(closes[b] / closes[a] - 1.0, b) for a, b in itertools.pairwise(ordered)]
    _, worst = min(drops)
    i = ordered.index(worst)
    start, end = ordered[max(i - 3, 1)], ordered[min(i + 6, len(ordered) - 2)]
    return EventPreset(
        slug="demo-sharpest-fall",
        display_name=f"The demo market's sharpest fall ({worst})",
        symbol="NIFTY",
        window_start=start,
        window_end=end,
        anchor_date=worst,
        event_type="selloff",
        tags=("demo", "synthetic"),
        description="The worst close-to-close fall of the synthetic NIFTY market, with three "
        "sessions before and six after: how the intraday straddles lived through it.",
        lookback_days=1,
        recovery_days=1,
        default_template_slugs=("short-straddle", "short-straddle-reentry"),
    )
