"""What the research pages share: the Jinja environment, number formats and heat tables.

The walk-forward, sweep and event pages (and the day's index) are single self-contained HTML
files: inline CSS (``templates/report/_page.css``), images embedded as base64 PNG, no script,
no external URL, autoescaped. Each extends ``templates/report/_page.html.j2``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates" / "report"


def environment(template_dir: Path = TEMPLATE_DIR) -> jinja2.Environment:
    """Autoescaping, strict environment over ``templates/report``."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir)),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "j2"), default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, **context: Any) -> str:
    """Render template ``name`` with ``context`` (plus ``generated``, the time in UTC)."""
    context.setdefault("generated", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    return environment().get_template(name).render(**context)


def finite(value: Any) -> float | None:
    """``value`` as a float when it is a finite number, else None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def num(value: Any, digits: int = 2) -> str:
    number = finite(value)
    return "–" if number is None else f"{number:,.{digits}f}"


def pct(value: Any, digits: int = 1) -> str:
    number = finite(value)
    return "–" if number is None else f"{number:.{digits}%}"


def money(value: Any) -> str:
    return num(value, 2)


def text(value: Any) -> str:
    if value is None or value is pd.NaT:
        return "–"
    if isinstance(value, float) and math.isnan(value):
        return "–"
    if isinstance(value, pd.Timestamp | datetime):
        stamp = pd.Timestamp(value)
        return (
            stamp.strftime("%Y-%m-%d %H:%M")
            if stamp.hour or stamp.minute
            else stamp.strftime("%Y-%m-%d")
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def sign_class(value: Any) -> str:
    number = finite(value)
    return "" if number is None or number == 0 else ("pos" if number > 0 else "neg")


def heat_table(
    values: pd.DataFrame,
    *,
    corner: str,
    fmt: Any = None,
    subs: pd.DataFrame | None = None,
    titles: pd.DataFrame | None = None,
    lower_is_better: bool = False,
    center: float | None = None,
    scale: float | None = None,
) -> dict[str, Any]:
    """A coloured table (``_macros.html.j2``'s ``heat``) of ``values`` (rows x columns): each
    cell coloured on a diverging scale around 0 (or around the median when every value has one
    sign; or ``center``), deepening up to ``scale`` (default: the 95th percentile of the
    distances from the centre), with ``subs`` as a second line and ``titles`` as the tooltip."""
    from workbench.analytics.tearsheet import heat_style

    fmt = fmt or (lambda v: num(v, 3))
    flat = values.to_numpy(dtype=float).ravel()
    flat = flat[np.isfinite(flat)]
    if center is None:
        center = 0.0
        if flat.size and (flat.min() >= 0 or flat.max() <= 0):
            center = float(np.median(flat))
    if scale is not None:
        spread = float(scale)
    else:
        spread = float(np.percentile(np.abs(flat - center), 95)) if flat.size else 0.0
    rows = []
    for label in values.index:
        cells = []
        for col in values.columns:
            v = finite(values.loc[label, col])
            shade = 0.0 if v is None else (v - center) * (-1.0 if lower_is_better else 1.0)
            cells.append(
                {
                    "text": "" if v is None else fmt(v),
                    "sub": "" if subs is None else str(subs.loc[label, col]),
                    "style": "" if v is None else heat_style(shade, spread),
                    "title": "" if titles is None else str(titles.loc[label, col]),
                }
            )
        rows.append((text(label), cells))
    return {"corner": corner, "columns": [text(c) for c in values.columns], "rows": rows}


def kv_rows(items: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return list(items)


def params_text(params: Mapping[str, Any] | None) -> str:
    if not params:
        return "–"
    return ", ".join(f"{k}={text(v)}" for k, v in params.items())


def figure_entry(name: str, title: str, build: Any) -> dict[str, Any]:
    """Draw ``build()`` (a Figure) into a page figure entry; ``ValueError`` from it becomes the
    reason the chart is not available."""
    from workbench.analytics.charts import ChartUnavailable, figure_png_base64

    try:
        fig = build()
    except ChartUnavailable as exc:
        return {"name": name, "title": title, "png": None, "reason": str(exc)}
    return {"name": name, "title": title, "png": figure_png_base64(fig), "reason": ""}


def relative_link(target: Path, page: Path) -> str:
    """``target`` relative to the folder of ``page`` (a POSIX path for an ``href``)."""
    import os

    return Path(os.path.relpath(target, page.parent)).as_posix()


__all__: Sequence[str] = (
    "TEMPLATE_DIR",
    "environment",
    "figure_entry",
    "finite",
    "heat_table",
    "money",
    "num",
    "params_text",
    "pct",
    "relative_link",
    "render",
    "sign_class",
    "text",
)
