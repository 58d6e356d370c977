"""The day's report index: ``reports/<YYYY-MM-DD>/index.html``.

Rebuilt from the run folders on disk (so several grids on one day share one index): a sortable
table of runs with their parameters, key metrics and links, failed runs with their error, and a
heatmap of a chosen metric over two grid parameters for each grid that asked for one. The page is
self-contained (heatmaps embedded as PNG, no external URL); a few lines of inline script make
the table sortable, and it reads fine without them.
"""

from __future__ import annotations

import base64
import io
import math
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd

from workbench.data.atomic import write_bytes_atomic
from workbench.research.files import read_json_dict

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates" / "report"
INDEX_TEMPLATE = "grid_index.html.j2"

#: Metrics shown first, when present in the runs' metrics.json.
PREFERRED_METRICS = (
    "total_pnl",
    "cagr",
    "sharpe",
    "sortino",
    "max_drawdown",
    "max_drawdown_pct",
    "win_rate",
    "profit_factor",
    "trades",
    "open_positions",
)


def collect_runs(day_folder: Path) -> list[dict[str, Any]]:
    """One record per run of the day: each run folder under ``day_folder`` (folders starting
    with '.' are in progress), with its status and kind from the run repository of the
    reports folder (``day_folder``'s parent) when there is one, plus the runs the repository
    has for this day whose folder is not written (queued, running, failed before writing,
    cancelled)."""
    runs = _folder_runs(day_folder)
    recorded = _recorded_runs(day_folder)
    by_folder = {r["run_id"]: r for r in runs}
    for name, entry in recorded.items():
        run = by_folder.get(name)
        if run is not None:
            run["status"] = entry.status
            run["kind"] = entry.kind
            if entry.status == "failed" and run["ok"]:
                run["ok"] = False
                run["error"] = entry.error
            continue
        request = entry.request or {}
        runs.append(
            {
                "run_id": name,
                "folder": day_folder / name,
                "ok": entry.status != "failed",
                "error": entry.error,
                "template": entry.label,
                "params": request.get("params") or {},
                "metrics": entry.metrics or {},
                "base": _base_label(entry.metrics or {}),
                "has_tearsheet": False,
                "has_basket": False,
                "has_notebook": False,
                "has_folder": False,
                "status": entry.status,
                "kind": entry.kind,
            }
        )
    runs.sort(key=lambda r: r["run_id"])
    return runs


def _recorded_runs(day_folder: Path) -> dict[str, Any]:
    """The repository's runs whose output folder is in ``day_folder``, by folder name (the
    latest record when a folder was written twice); none when there is no repository."""
    from workbench.research.database import database_path
    from workbench.research.repository import RunRepository, record_safely

    if not database_path(day_folder.parent).is_file():
        return {}
    entries = record_safely(lambda: RunRepository(day_folder.parent).list(out_under=day_folder))
    return {Path(e.out).name: e for e in entries or []}


def _folder_runs(day_folder: Path) -> list[dict[str, Any]]:
    runs = []
    for folder in sorted(
        p for p in day_folder.iterdir() if p.is_dir() and not p.name.startswith(".")
    ):
        manifest = read_json_dict(folder / "manifest.json")
        metrics = read_json_dict(folder / "metrics.json")
        error_file = folder / "error.txt"
        if not manifest and not error_file.exists():
            continue
        template = manifest.get("template") or {}
        runs.append(
            {
                "run_id": folder.name,
                "folder": folder,
                "ok": not error_file.exists(),
                "error": error_file.read_text().strip() if error_file.exists() else None,
                "template": _template_label(manifest),
                "params": template.get("overrides") or manifest.get("params") or {},
                "metrics": metrics,
                "base": _base_label(metrics),
                "has_tearsheet": (folder / "tearsheet.html").exists(),
                "has_basket": (folder / "basket.html").exists(),
                "has_notebook": (folder / "backtest.ipynb").exists(),
                "has_folder": True,
                "status": "failed" if error_file.exists() else "completed",
                "kind": manifest.get("kind") or "",
            }
        )
    return runs


def _base_label(metrics: dict[str, Any]) -> str:
    """What the run's return figures (CAGR, total return, drawdown %) are on."""
    amount = metrics.get("base_amount")
    if not isinstance(amount, int | float):
        return ""
    kind = "peak margin" if metrics.get("capital_base") == "margin" else "capital"
    return f"{kind} {amount:,.0f}"


def _template_label(manifest: dict[str, Any]) -> str:
    if manifest.get("kind") == "basket":
        return f"basket of {len(manifest.get('sleeves', []))} runs"
    template = manifest.get("template") or {}
    if template:
        return f"{template.get('name', '?')}@{template.get('version', '?')}"
    strategy = manifest.get("strategy") or {}  # a class of one's own: its name and origin
    origin = (strategy.get("code") or {}).get("origin")
    name = str(strategy.get("name") or "")
    return f"{name} ({origin})" if name and origin else name


def _format(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def _heatmap_png(runs: list[dict[str, Any]], grid: dict[str, Any]) -> str | None:
    """Base64 PNG of ``metric`` over two grid parameters (mean over the other parameters)."""
    spec = grid.get("heatmap")
    if not spec:
        return None
    wanted = set(grid.get("runs", []))
    rows = []
    for run in runs:
        if run["run_id"] not in wanted or not run["ok"]:
            continue
        value = run["metrics"].get(spec["metric"])
        if value is None:
            continue
        params = run["params"]
        rows.append(
            {"x": str(params.get(spec["x"])), "y": str(params.get(spec["y"])), "v": float(value)}
        )
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    frame = pd.DataFrame(rows)
    order_x = [str(v) for v in grid["grid"][spec["x"]]]
    order_y = [str(v) for v in grid["grid"][spec["y"]]]
    table = frame.pivot_table(index="y", columns="x", values="v", aggfunc="mean").reindex(
        index=order_y, columns=order_x
    )
    fig, ax = plt.subplots(figsize=(1.2 * len(order_x) + 3, 0.8 * len(order_y) + 2))
    finite = table.to_numpy(dtype=float)
    center = 0.0 if np.nanmin(finite) < 0 < np.nanmax(finite) else None
    sns.heatmap(
        table,
        annot=True,
        fmt=".3g",
        cmap="RdYlGn",
        center=center,
        ax=ax,
        cbar_kws={"label": spec["metric"]},
    )
    ax.set_xlabel(spec["x"])
    ax.set_ylabel(spec["y"])
    others = [k for k in grid["grid"] if k not in (spec["x"], spec["y"])]
    note = f" (mean over {', '.join(others)})" if others else ""
    ax.set_title(f"{grid.get('name')}: {spec['metric']}{note}")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def write_index(day_folder: str | Path) -> Path:
    """Rebuild ``index.html`` for one day folder; returns its path (written atomically)."""
    day_folder = Path(day_folder)
    runs = collect_runs(day_folder)
    metric_keys = [k for k in PREFERRED_METRICS if any(k in r["metrics"] for r in runs)]
    param_keys = sorted({k for r in runs for k in r["params"]})
    grids = []
    for path in sorted(day_folder.glob("grid-*.json")):
        grid = read_json_dict(path)
        if grid:
            grids.append(
                {
                    "name": grid.get("name"),
                    "template": grid.get("template"),
                    "png": _heatmap_png(runs, grid),
                }
            )
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    env.filters["fmt"] = _format
    html = env.get_template(INDEX_TEMPLATE).render(
        day=day_folder.name,
        runs=runs,
        metric_keys=metric_keys,
        param_keys=param_keys,
        grids=grids,
        failed=sum(1 for r in runs if not r["ok"]),
        active=sum(1 for r in runs if r["status"] in ("queued", "running")),
    )
    index = day_folder / "index.html"
    write_bytes_atomic(index, html.encode("utf-8"))
    return index
