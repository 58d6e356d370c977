"""The runs page (``GET /``): the run repository as a server-rendered table.

Jinja2 with autoescaping, no script and no external asset; while any listed run is queued or
running the page refreshes itself (``<meta http-equiv="refresh">``). Each run links to its
tearsheet when it has one and to its record (JSON), both through page routes.
"""

from __future__ import annotations

import math
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from workbench.research.repository import KINDS, STATUSES, RunEntry

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates" / "service"
PAGE_TEMPLATE = "runs.html.j2"
REFRESH_S = 3


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )


def _money(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    return "" if not math.isfinite(value) else f"{value:,.2f}"


def _ratio(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    return "" if not math.isfinite(value) else f"{value:.2f}"


def _took(entry: RunEntry) -> str:
    if not entry.started_at:
        return ""
    end = datetime.fromisoformat(entry.finished_at) if entry.finished_at else None
    if end is None:
        return "..."
    seconds = (end - datetime.fromisoformat(entry.started_at)).total_seconds()
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def row(entry: RunEntry, base: str) -> dict[str, Any]:
    """What the page shows of one run."""
    metrics = entry.metrics or {}
    tearsheet = (
        entry.kind == "single" and entry.out and (Path(entry.out) / "tearsheet.html").is_file()
    )
    created = datetime.fromisoformat(entry.created_at).astimezone()
    error = (entry.error or "").strip().split("\n\n")[0] if entry.error else ""
    return {
        "id": entry.id,
        "kind": entry.kind,
        "status": entry.status,
        "label": entry.label,
        "data_name": Path(entry.data).name if entry.data else "",
        "created": f"{created:%Y-%m-%d %H:%M:%S}",
        "took": _took(entry),
        "total_pnl": _money(metrics.get("total_pnl")),
        "sharpe": _ratio(metrics.get("sharpe")),
        "trades": metrics.get("trades") if isinstance(metrics.get("trades"), int) else "",
        "progress_done": entry.progress_done,
        "progress_total": entry.progress_total,
        "error": error,
        "tearsheet": f"{base}runs/{entry.id}/tearsheet" if tearsheet else None,
        "record": f"{base}runs/{entry.id}/record",
    }


def render(
    entries: list[RunEntry],
    *,
    counts: dict[str, int],
    filters: dict[str, str | None],
    repository: str,
    base: str = "/",
) -> str:
    """The page's HTML for ``entries`` (newest first)."""
    active = any(e.status in ("queued", "running") for e in entries) or (
        counts.get("queued", 0) + counts.get("running", 0) > 0
    )
    return (
        _environment()
        .get_template(PAGE_TEMPLATE)
        .render(
            runs=[row(e, base) for e in entries],
            counts=counts,
            filters=filters,
            kinds=KINDS,
            statuses=STATUSES,
            repository=repository,
            refresh=REFRESH_S if active else None,
            base=base,
        )
    )
