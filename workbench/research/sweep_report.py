"""The sweep page: every combination of a parameter grid, sortable by link, heat maps of the
objective over every pair of parameters, and the best run's tearsheet linked.

The page has no script: each column header links to a copy of the table sorted by that column
(``#sort-<column>``, shown by the CSS ``:target`` rule; the grid's own order otherwise). Heat
maps are coloured tables of the objective's mean over the other parameters (the count of runs
in each cell beneath). Used by

* :func:`write_sweep` -- an in-process :func:`workbench.research.sweep.sweep` saved as a folder
  (``sweep.csv``, ``sweep.json``, ``sweep.html`` and the best combination run again as a full
  run folder with its tearsheet), what ``workbench sweep GRID.toml`` writes;
* :func:`workbench.research.grid.run_grid` -- ``reports/<day>/grid-<name>.html`` over the grid's
  run folders, each combination's tearsheet linked.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.research import pages as pg

SWEEP_PAGE = "sweep.html"
#: Metric columns of the page (metrics.json names), in order.
PAGE_METRICS: tuple[str, ...] = (
    "total_pnl",
    "sharpe",
    "max_drawdown",
    "win_rate",
    "trades",
    "avg_trade_pnl",
    "fees",
)
#: Metrics where less is better (the page sorts them ascending and colours them the other way).
LOWER_IS_BETTER: frozenset[str] = frozenset({"fees"})
MONEY = frozenset({"total_pnl", "max_drawdown", "avg_trade_pnl", "fees"})
#: Money columns coloured by their sign (a gain green, a loss red; fees are neither).
SIGNED = frozenset({"total_pnl", "max_drawdown", "avg_trade_pnl"})
#: Heat maps drawn at most (pairs of parameters, in grid order).
MAX_HEATMAPS = 10


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "col"


def _fmt(name: str, value: Any) -> str:
    from workbench.analytics.tearsheet import short_money

    number = pg.finite(value)
    if number is None:
        return "–" if value is None or isinstance(value, float) else pg.text(value)
    if name in MONEY:
        return short_money(number)
    if name == "win_rate":
        return f"{number:.0%}"
    if name in ("trades", "fills", "days", "days_traded"):
        return f"{number:,.0f}"
    return f"{number:,.3g}" if abs(number) < 1000 else f"{number:,.0f}"


def _sort_key(frame: pd.DataFrame, column: str, descending: bool) -> pd.Index:
    values = pd.to_numeric(frame[column], errors="coerce")
    if values.notna().any():
        key = pd.DataFrame({"missing": values.isna(), "v": -values if descending else values})
    else:
        text = frame[column].astype(str)
        key = pd.DataFrame({"missing": frame[column].isna(), "v": text})
    key["failed"] = frame["error"].notna() if "error" in frame else False
    key["pos"] = range(len(frame))
    return key.sort_values(["failed", "missing", "v", "pos"], kind="stable").index


def _rows(
    frame: pd.DataFrame,
    params: Sequence[str],
    metrics: Sequence[str],
    links: Mapping[str, str],
    best: Any,
) -> list[dict[str, Any]]:
    rows = []
    for index, rec in frame.iterrows():
        run_id = rec.get("run_id")
        error = rec.get("error")
        rows.append(
            {
                "params": [pg.text(rec[p]) for p in params],
                "metrics": [
                    (_fmt(m, rec.get(m)), pg.sign_class(rec.get(m)) if m in SIGNED else "")
                    for m in metrics
                ],
                "link": links.get(str(run_id)) if isinstance(run_id, str) else None,
                "run_id": run_id if isinstance(run_id, str) else "",
                "error": error if isinstance(error, str) else "",
                "best": index == best,
            }
        )
    return rows


def heatmaps(
    frame: pd.DataFrame,
    params: Sequence[str],
    objective: str,
    grid: Mapping[str, Sequence[Any]] | None = None,
) -> list[dict[str, Any]]:
    """A heat table of ``objective`` for every pair of parameters with two values or more (mean
    over the other parameters; completed runs only), at most :data:`MAX_HEATMAPS`."""
    ok = frame[frame["error"].isna()] if "error" in frame else frame
    if objective not in ok or ok.empty:
        return []
    varying = [p for p in params if ok[p].astype(str).nunique() > 1]
    out = []
    for x, y in itertools.islice(itertools.combinations(varying, 2), MAX_HEATMAPS):
        data = pd.DataFrame(
            {
                "x": ok[x].map(pg.text),
                "y": ok[y].map(pg.text),
                "v": pd.to_numeric(ok[objective], errors="coerce"),
            }
        )
        mean = data.pivot_table(index="y", columns="x", values="v", aggfunc="mean")
        count = data.pivot_table(index="y", columns="x", values="v", aggfunc="count")
        order_x = [pg.text(v) for v in (grid or {}).get(x, [])] or sorted(mean.columns)
        order_y = [pg.text(v) for v in (grid or {}).get(y, [])] or sorted(mean.index)
        mean = mean.reindex(
            index=[v for v in order_y if v in mean.index],
            columns=[v for v in order_x if v in mean.columns],
        )
        count = count.reindex_like(mean).fillna(0).astype(int)
        others = [p for p in params if p not in (x, y)]
        out.append(
            {
                "x": x,
                "y": y,
                "note": f"mean over {', '.join(others)}" if others else "one run per cell",
                "table": pg.heat_table(
                    mean,
                    corner=f"{y} \\ {x}",
                    fmt=lambda v: _fmt(objective, v),
                    subs=count.map(lambda n: f"{n} run{'s' if n != 1 else ''}"),
                    titles=mean.map(lambda v: f"{objective} {pg.num(v, 4)}"),
                    lower_is_better=objective in LOWER_IS_BETTER,
                ),
            }
        )
    return out


def render_sweep(
    frame: pd.DataFrame,
    *,
    params: Sequence[str],
    objective: str = "sharpe",
    grid: Mapping[str, Sequence[Any]] | None = None,
    links: Mapping[str, str] | None = None,
    title: str = "Sweep",
    subtitle: str = "",
    best_link: str | None = None,
    inputs: Sequence[tuple[str, str]] = (),
    notes: Sequence[str] = (),
) -> str:
    """The sweep page as HTML: ``frame`` has one row per combination (parameter columns, the
    metrics, ``run_id`` and ``error``); ``links`` map run ids to their tearsheets."""
    from workbench.research.walkforward import rank_by_objective

    links = dict(links or {})
    params = list(params)
    metrics = [m for m in PAGE_METRICS if m in frame.columns]
    if objective in frame.columns and objective not in metrics and objective not in params:
        metrics.insert(0, objective)
    if "error" not in frame:
        frame = frame.assign(error=None)
    frame = frame.reset_index(drop=True)
    best = None
    if objective in frame.columns and len(frame):
        ranked = rank_by_objective(frame, objective)
        top = ranked.index[0]
        if pd.isna(frame.loc[top, "error"]) and pg.finite(frame.loc[top, objective]) is not None:
            best = top
    columns = [*params, *metrics]
    views = []
    for column in columns:
        descending = column in metrics and column not in LOWER_IS_BETTER
        order = _sort_key(frame, column, descending)
        views.append(
            {
                "id": f"sort-{_slug(column)}",
                "column": column,
                "arrow": "▼" if descending else "▲",
                "rows": _rows(frame.loc[order], params, metrics, links, best),
            }
        )
    best_row = None
    if best is not None:
        rec = frame.loc[best]
        best_row = {
            "params": pg.params_text({p: rec[p] for p in params}),
            "value": _fmt(objective, rec[objective]),
            "link": best_link or links.get(str(rec.get("run_id"))),
            "run_id": rec.get("run_id"),
        }
    failed = int(frame["error"].notna().sum())
    return pg.render(
        "sweep.html.j2",
        title=title,
        subtitle=subtitle,
        objective=objective,
        params=params,
        metrics=metrics,
        headers=[(c, f"sort-{_slug(c)}") for c in columns],
        default_rows=_rows(frame, params, metrics, links, best),
        views=views,
        heatmaps=heatmaps(frame, params, objective, grid),
        best=best_row,
        kpis=[
            ("Combinations", f"{len(frame)}"),
            ("Completed", f"{len(frame) - failed}"),
            ("Failed", f"{failed}"),
            (f"Best {objective}", best_row["value"] if best_row else "–"),
        ],
        inputs=list(inputs),
        notes=list(notes),
        has_links=bool(links),
    )


def write_sweep(
    frame: pd.DataFrame,
    out: str | Path,
    *,
    strategy: Any,
    grid: Mapping[str, Sequence[Any]],
    spec: Any,
    params: Mapping[str, Any] | None = None,
    objective: str = "sharpe",
    templates_dir: str | Path | None = None,
    refs_dir: str | Path | None = None,
    best_run: bool = True,
    vix: Any = None,
    title: str | None = None,
) -> Path:
    """Save a :func:`~workbench.research.sweep.sweep` result as a folder, atomically:
    ``sweep.csv`` (the frame), ``sweep.json`` (what was swept), ``best-<run id>/`` (the best
    combination by ``objective`` run again with :func:`~workbench.research.runs.run_strategy`:
    a full run folder with its tearsheet; skipped with ``best_run=False`` or when no
    combination completed) and ``sweep.html``. A folder under a reports day is listed in that
    day's index. Returns ``out``."""
    from workbench.data.atomic import replace_folder
    from workbench.model.names import check_name
    from workbench.research.index import refresh_day_index
    from workbench.research.runs import run_strategy
    from workbench.research.strategy_spec import resolve_strategy_spec
    from workbench.research.walkforward import rank_by_objective

    out = Path(out)
    chosen = resolve_strategy_spec(strategy, templates=templates_dir)
    names = list(grid)
    frame = frame.reset_index(drop=True)
    with replace_folder(out, ("sweep.json", "sweep.csv"), "a sweep folder") as tmp:
        frame.to_csv(tmp / "sweep.csv", index=False, lineterminator="\n")
        links: dict[str, str] = {}
        best_link = None
        notes: list[str] = []
        ranked = rank_by_objective(frame, objective) if len(frame) else frame
        if best_run and len(ranked) and pd.isna(ranked["error"].iloc[0]):
            top = ranked.iloc[0]
            overrides = {**dict(params or {}), **{n: _plain(top[n]) for n in names}}
            folder_name = check_name(f"best-{top['run_id']}", "run id")
            summary = run_strategy(
                chosen.cls if chosen.template is None else chosen.template,
                spec,
                out=tmp / folder_name,
                overrides=overrides,
                refs_dir=refs_dir,
                executor="serial",
                vix=vix,
            )
            best_link = f"{folder_name}/tearsheet.html"
            links[str(top["run_id"])] = best_link
            if summary.manifest.get("run_id") != top["run_id"]:
                notes.append(
                    f"the best combination run again has run id {summary.manifest.get('run_id')}, "
                    f"the sweep's {top['run_id']}: the inputs changed between the two"
                )
        document = {
            "kind": "sweep",
            "strategy": chosen.label,
            "grid": {k: list(v) for k, v in grid.items()},
            "params": dict(params or {}),
            "objective": objective,
            "spec": spec.describe() if hasattr(spec, "describe") else str(spec),
            "combinations": len(frame),
            "failed": int(frame["error"].notna().sum()) if "error" in frame else 0,
            "best": best_link,
        }
        (tmp / "sweep.json").write_text(json.dumps(document, indent=2, default=str) + "\n")
        html = render_sweep(
            frame,
            params=names,
            objective=objective,
            grid=grid,
            links=links,
            title=title or f"Sweep: {chosen.label}",
            subtitle=f"{len(frame)} combinations of {', '.join(names)} · objective {objective}",
            best_link=best_link,
            inputs=[
                (k, pg.text(v) if not isinstance(v, dict | list) else json.dumps(v, default=str))
                for k, v in document.items()
                if k not in ("kind",)
            ],
            notes=notes,
        )
        (tmp / SWEEP_PAGE).write_text(html, encoding="utf-8")
    refresh_day_index(out)
    return out


def _plain(value: Any) -> Any:
    """A frame cell back to a plain Python value for a parameter override."""
    if hasattr(value, "item"):
        return value.item()
    return value
