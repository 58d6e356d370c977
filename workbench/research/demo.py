"""``make demo``: the whole workbench on the embedded synthetic market, in a few minutes.

1. Create ``data/nifty-demo`` (60 days of synthetic 1-minute NIFTY spot and options) when absent.
2. Run the demo grids (``templates/grids/demo-*.toml``): each template over a few parameter
   combinations, one papermill-executed notebook per run, into ``reports/<today>/<run-id>/``.
3. Combine the best run of each grid (by Sharpe) into a basket with ``notebooks/basket.ipynb``.
4. Rewrite the day's ``index.html`` and return its path.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date
from pathlib import Path

from workbench.research.grid import REPO_ROOT, GridRun, load_grid, run_grid

__all__ = ["DEMO_DAYS", "REPO_ROOT", "ensure_demo_data", "run_demo"]

DEMO_DATA = "data/nifty-demo"
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
    say(f"dataset: {data}")
    grid_files = (
        grids if grids is not None else sorted((root / "templates" / "grids").glob("demo-*.toml"))
    )
    best: list[GridRun] = []
    for grid_file in grid_files:
        spec = load_grid(grid_file)
        spec = spec.model_copy(update={"data": str(data)})
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
            cwd=str(root),
        )
        (day_folder / f".basket-{tag}.ipynb").replace(out / "basket.ipynb")
        say(f"basket: {out / 'basket.html'}")
    index = write_index(day_folder)
    return index
