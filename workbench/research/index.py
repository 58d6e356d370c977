"""The day's report index: ``reports/<YYYY-MM-DD>/index.html``.

Rebuilt from the folders on disk (so several grids on one day share one index):

* a sortable table of runs (run folders: ``manifest.json``) with their parameters, key metrics
  and links (tearsheet, ``trades.csv``, basket view, notebook), failed runs with their error;
* for each grid of the day (``grid-<name>.json``): its heat map of a chosen metric over two
  parameters and a link to its sweep page (``grid-<name>.html``);
* the walk-forward (``walk_forward.json``), sweep (``sweep.json``) and event comparison
  (``event.json``) folders of the day, each linked to its page.

The page is self-contained (no external URL; heat maps are coloured tables); a few lines of
inline script make the runs table sortable, and it reads fine without them. It fits a window
from 800 px wide up: parameters wrap, metrics are shortened (``-33.4k``).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.data.atomic import write_bytes_atomic
from workbench.research import pages as pg
from workbench.research.files import read_json_dict

TEMPLATE_DIR = pg.TEMPLATE_DIR
INDEX_TEMPLATE = "grid_index.html.j2"

#: Metrics shown, when present in the runs' metrics.json (money, fractions, ratios, counts).
PREFERRED_METRICS = (
    "total_pnl",
    "cagr",
    "sharpe",
    "max_drawdown",
    "max_drawdown_pct",
    "win_rate",
    "trades",
    "open_positions",
)
#: Short column headers of the runs table.
METRIC_LABELS = {
    "total_pnl": "total PnL",
    "cagr": "CAGR",
    "sharpe": "Sharpe",
    "max_drawdown": "max DD",
    "max_drawdown_pct": "max DD %",
    "win_rate": "win rate",
    "trades": "trades",
    "open_positions": "open",
}
_MONEY = frozenset({"total_pnl", "max_drawdown"})
_PCT = frozenset({"cagr", "max_drawdown_pct", "win_rate"})
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def collect_runs(day_folder: Path) -> list[dict[str, Any]]:
    """One record per run of the day: each run folder under ``day_folder`` (folders starting
    with '.' are in progress), with its status and kind from the run repository of the
    reports folder (``day_folder``'s parent) when there is one, plus the runs the repository
    has for this day whose folder is not written (queued, running, failed before writing,
    cancelled). Walk-forward, sweep and event comparison folders are not runs: they have
    their own sections (:func:`collect_reports`)."""
    runs = _folder_runs(day_folder)
    recorded = _recorded_runs(day_folder)
    by_folder = {r["run_id"]: r for r in runs}
    for name, entry in recorded.items():
        if _report_kind(day_folder / name) is not None:
            continue
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
                "has_trades": False,
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
        runs.append(
            {
                "run_id": folder.name,
                "folder": folder,
                "ok": not error_file.exists(),
                "error": error_file.read_text().strip() if error_file.exists() else None,
                "template": _template_label(manifest),
                "params": _shown_params(manifest),
                "metrics": metrics,
                "base": _base_label(metrics),
                "has_tearsheet": (folder / "tearsheet.html").exists(),
                "has_trades": (folder / "trades.csv").exists(),
                "has_basket": (folder / "basket.html").exists(),
                "has_notebook": (folder / "backtest.ipynb").exists(),
                "has_folder": True,
                "status": "failed" if error_file.exists() else "completed",
                "kind": manifest.get("kind") or "",
            }
        )
    return runs


#: The file naming each kind of report folder listed beside the runs.
REPORT_FILES = {"walkforward": "walk_forward.json", "sweep": "sweep.json", "event": "event.json"}


def _report_kind(folder: Path) -> str | None:
    return next((k for k, f in REPORT_FILES.items() if (folder / f).is_file()), None)


def collect_reports(day_folder: Path) -> dict[str, list[dict[str, Any]]]:
    """The walk-forward, sweep and event comparison folders of the day, with a few figures."""
    found: dict[str, list[dict[str, Any]]] = {"walkforward": [], "sweep": [], "event": []}
    for folder in sorted(
        p for p in day_folder.iterdir() if p.is_dir() and not p.name.startswith(".")
    ):
        wf = read_json_dict(folder / "walk_forward.json")
        if wf:
            cfg, summary = wf.get("config") or {}, wf.get("summary") or {}
            found["walkforward"].append(
                {
                    "name": folder.name,
                    "link": _page(folder, "walk_forward.html"),
                    "what": str(cfg.get("template") or cfg.get("strategy") or ""),
                    "figures": [
                        ("windows", str(summary.get("windows", ""))),
                        ("out-of-sample PnL", pg.money(summary.get("oos_total_pnl"))),
                        ("out-of-sample Sharpe", pg.num(summary.get("oos_sharpe"))),
                    ],
                }
            )
            continue
        sweep = read_json_dict(folder / "sweep.json")
        if sweep:
            found["sweep"].append(
                {
                    "name": folder.name,
                    "link": _page(folder, "sweep.html"),
                    "what": str(sweep.get("strategy", "")),
                    "figures": [
                        ("combinations", str(sweep.get("combinations", ""))),
                        ("failed", str(sweep.get("failed", ""))),
                        ("objective", str(sweep.get("objective", ""))),
                    ],
                }
            )
            continue
        event = read_json_dict(folder / "event.json")
        if event:
            preset = event.get("preset") or {}
            found["event"].append(
                {
                    "name": folder.name,
                    "link": _page(folder, "event.html"),
                    "what": str(preset.get("display_name") or preset.get("slug") or ""),
                    "figures": [("run", f"{event.get('start')} .. {event.get('end')}")],
                }
            )
    return found


def _shown_params(manifest: dict[str, Any]) -> dict[str, Any]:
    """A template run's overrides (what makes it differ from its template); a class's own
    parameters, the plain ones (nested rules such as a strike selection are left to the
    manifest)."""
    template = manifest.get("template") or {}
    if isinstance(template, dict) and template:
        overrides = template.get("overrides")
        return dict(overrides) if isinstance(overrides, dict) else {}
    params = manifest.get("params") or {}
    if not isinstance(params, dict):
        return {}
    return {k: v for k, v in params.items() if not isinstance(v, dict | list) and v is not None}


def _page(folder: Path, name: str) -> str | None:
    return f"{folder.name}/{name}" if (folder / name).is_file() else None


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


def format_metric(key: str, value: Any) -> str:
    """A metric in a few characters: money shortened (``-33.4k``), fractions as percent."""
    from workbench.analytics.tearsheet import short_money

    number = pg.finite(value)
    if number is None:
        return "" if value is None else _format(value)
    if key in _MONEY:
        return short_money(number)
    if key in _PCT:
        return f"{number:.1%}"
    if isinstance(value, int) or key in ("trades", "open_positions"):
        return f"{number:,.0f}"
    return f"{number:,.2f}"


def _grid_heatmap(runs: list[dict[str, Any]], grid: dict[str, Any]) -> dict[str, Any] | None:
    """A heat table of ``metric`` over two grid parameters (mean over the other parameters)."""
    spec = grid.get("heatmap")
    if not spec:
        return None
    wanted = set(grid.get("runs", []))
    rows = []
    for run in runs:
        if run["run_id"] not in wanted or not run["ok"]:
            continue
        value = pg.finite(run["metrics"].get(spec["metric"]))
        if value is None:
            continue
        params = run["params"]
        rows.append(
            {"x": pg.text(params.get(spec["x"])), "y": pg.text(params.get(spec["y"])), "v": value}
        )
    if not rows:
        return None
    frame = pd.DataFrame(rows)
    order_x = [pg.text(v) for v in grid["grid"][spec["x"]]]
    order_y = [pg.text(v) for v in grid["grid"][spec["y"]]]
    table = frame.pivot_table(index="y", columns="x", values="v", aggfunc="mean").reindex(
        index=order_y, columns=order_x
    )
    others = [k for k in grid["grid"] if k not in (spec["x"], spec["y"])]
    return {
        "metric": spec["metric"],
        "note": f"mean over {', '.join(others)}" if others else "",
        "table": pg.heat_table(
            table,
            corner=f"{spec['y']} \\ {spec['x']}",
            fmt=lambda v: format_metric(spec["metric"], v),
        ),
    }


def write_index(day_folder: str | Path) -> Path:
    """Rebuild ``index.html`` for one day folder; returns its path (written atomically)."""
    day_folder = Path(day_folder)
    runs = collect_runs(day_folder)
    metric_keys = [k for k in PREFERRED_METRICS if any(k in r["metrics"] for r in runs)]
    for run in runs:
        run["cells"] = [
            (format_metric(k, run["metrics"].get(k)), run["metrics"].get(k)) for k in metric_keys
        ]
        run["param_text"] = [(k, pg.text(v)) for k, v in sorted(run["params"].items())]
    grids = []
    for path in sorted(day_folder.glob("grid-*.json")):
        grid = read_json_dict(path)
        if grid:
            page = path.with_suffix(".html")
            grids.append(
                {
                    "name": grid.get("name"),
                    "template": grid.get("template"),
                    "runs": len(grid.get("runs", [])),
                    "link": page.name if page.is_file() else None,
                    "heatmap": _grid_heatmap(runs, grid),
                }
            )
    html = pg.render(
        INDEX_TEMPLATE,
        title=f"Reports for {day_folder.name}",
        subtitle="",
        day=day_folder.name,
        runs=runs,
        metric_keys=[(k, METRIC_LABELS.get(k, k)) for k in metric_keys],
        grids=grids,
        reports=collect_reports(day_folder),
        failed=sum(1 for r in runs if not r["ok"]),
        active=sum(1 for r in runs if r["status"] in ("queued", "running")),
    )
    index = day_folder / "index.html"
    write_bytes_atomic(index, html.encode("utf-8"))
    return index


def refresh_day_index(folder: str | Path) -> Path | None:
    """Rewrite the index of the reports day that ``folder`` is in (its parent named
    ``YYYY-MM-DD``); None when it is not in one."""
    parent = Path(folder).resolve().parent
    if not _DAY.match(parent.name):
        return None
    return write_index(parent)
