"""The event comparison's self-contained HTML report (``report.html`` in the event folder).

One page, no script and no external URL (images are embedded PNGs): the preset and range, the
dataset and the synthetic provider's configuration when there is one, the warnings (templates
that failed, never traded or whose ladder collapsed), the ranked table with its flag column,
and with a portfolio the LTV paths against the margin-call threshold (with the hedged and
unhedged values), hedge cost against protection (days kept out of margin call, max LTV cut)
and the days in margin call per template; without one the normalised paths.
"""

from __future__ import annotations

import html
import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.analytics.charts import _date_axis, _figure, figure_png_base64

if TYPE_CHECKING:
    from workbench.research.events import EventComparison

_CSS = """
body { font-family: system-ui, sans-serif; margin: 24px auto; max-width: 1150px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; }
table { border-collapse: collapse; font-size: 12px; }
th, td { border-bottom: 1px solid #ddd; padding: 4px 6px; text-align: right; }
th { vertical-align: bottom; } td:nth-child(2) { white-space: nowrap; }
th:nth-child(2), td:nth-child(2) { text-align: left; }
tr.flagged td { color: #999; } .flag { color: #b00; font-weight: 600; }
.warn { background: #fff4e5; border-left: 4px solid #f0a020; padding: 6px 10px; margin: 4px 0; }
img { max-width: 100%; } pre { background: #f6f6f6; padding: 8px; font-size: 12px;
white-space: pre-wrap; }
"""


_HEADERS = {
    "margin_call_days_hedged": "margin-call days hedged",
    "margin_call_days_unhedged": "margin-call days unhedged",
    "max_ltv_hedged": "max LTV hedged",
    "max_ltv_unhedged": "max LTV unhedged",
    "total_hedge_cost": "hedge cost",
    "total_option_payoff_realized": "option payoff realised",
    "scenario_end_liquidation": "sold at the end",
    "end_value_hedged_net": "end value hedged",
    "end_value_unhedged": "end value unhedged",
    "roll_count": "rolls",
    "end_value": "end value",
    "total_pnl": "total PnL",
    "max_drawdown": "max drawdown",
    "worst_day": "worst day",
}


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        if not math.isfinite(number):
            return "-"
        return f"{number:,.{digits}f}"
    return html.escape(str(value))


def _img(fig: Any, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{figure_png_base64(fig)}">'


def _cost_protection_chart(summary: pd.DataFrame) -> Any:
    fig, axes = _figure(1, 2, height=3.6)
    cost_ax, days_ax = axes[0]
    names = summary["template"].astype(str).tolist()
    cost = pd.to_numeric(summary["total_hedge_cost"], errors="coerce").fillna(0.0)
    cut = pd.to_numeric(summary["max_ltv_unhedged"], errors="coerce") - pd.to_numeric(
        summary["max_ltv_hedged"], errors="coerce"
    )
    cost_ax.scatter(cost, cut.fillna(0.0))
    for name, x, y in zip(names, cost, cut.fillna(0.0), strict=True):
        cost_ax.annotate(name, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    cost_ax.set_xlabel("hedge cost (net premium paid)")
    cost_ax.set_ylabel("max LTV cut (unhedged - hedged)")
    cost_ax.set_title("hedge cost vs protection")
    hedged = pd.to_numeric(summary["margin_call_days_hedged"], errors="coerce").fillna(0.0)
    unhedged = pd.to_numeric(summary["margin_call_days_unhedged"], errors="coerce").fillna(0.0)
    y = np.arange(len(names))
    days_ax.barh(y - 0.2, unhedged, height=0.4, color="0.6", label="unhedged")
    days_ax.barh(y + 0.2, hedged, height=0.4, color="tab:blue", label="hedged")
    for yy, u, h in zip(y, unhedged, hedged, strict=True):
        days_ax.annotate(f"{h:.0f} / {u:.0f}", (max(u, h), yy), fontsize=7, xytext=(3, -3),
                         textcoords="offset points")  # fmt: skip
    days_ax.set_yticks(y, names, fontsize=8)
    days_ax.invert_yaxis()
    days_ax.set_xlabel("days in margin call (hedged / unhedged)")
    days_ax.set_xlim(0, max(1.0, float(unhedged.max()), float(hedged.max())) * 1.25)
    days_ax.set_title("days in margin call: hedged (blue) / unhedged (grey)")
    # no legend box over the bars: the title says which is which
    return fig


def _paths_chart(paths: pd.DataFrame) -> Any:
    fig, axes = _figure(1, 1, height=3.6)
    ax = axes[0, 0]
    index = pd.to_datetime(pd.Index(paths.index))
    for name in paths.columns:
        ax.plot(index, paths[name], lw=1.5, label=str(name))
    ax.legend(fontsize=8, frameon=False)
    ax.set_title("paths (normalised)")
    _date_axis(ax)
    return fig


def render_event_report(result: EventComparison) -> str:
    """The report's HTML (one string; nothing external)."""
    from workbench.analytics.collateral import collateral_chart

    preset = result.preset
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(preset.display_name)}: hedge comparison</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(preset.display_name)}</h1>",
        f"<p>{html.escape(preset.description)}</p>",
        f"<p>Run {result.start} .. {result.end} (window {preset.window_start} .. "
        f"{preset.window_end}, anchor {preset.anchor_date}); dataset "
        f"{html.escape(str(result.dataset.get('name', '')))} "
        f"<code>{html.escape(str(result.dataset.get('content_version', ''))[:19])}</code>.</p>",
    ]
    portfolio = result.portfolio
    if portfolio is not None:
        parts.append(
            f"<p>Holding {portfolio.underlying_units:,g} units against a "
            f"{portfolio.loan_amount:,.2f} loan (financing {portfolio.financing_rate:g} a year); "
            f"margin call at LTV {portfolio.margin_call_ltv:g}. Ranked by hedged margin-call "
            "days, hedged max LTV, hedge cost, end value; the hedge still open at the end is "
            "sold at that day's marks and counted. Flagged templates rank last.</p>"
        )
    for line in result.warnings:
        parts.append(f"<div class='warn'>warning: {html.escape(line)}</div>")
    columns = (
        [
            "rank", "template", "flag", "margin_call_days_hedged", "margin_call_days_unhedged",
            "max_ltv_hedged", "max_ltv_unhedged", "total_hedge_cost",
            "total_option_payoff_realized", "scenario_end_liquidation", "end_value_hedged_net",
            "end_value_unhedged", "roll_count", "fills",
        ]
        if portfolio is not None
        else ["rank", "template", "flag", "end_value", "total_pnl", "max_drawdown",
              "worst_day", "fees", "trades", "fills"]
    )  # fmt: skip
    columns = [c for c in columns if c in result.summary.columns]
    parts.append("<h2>Ranking</h2><table><tr>")
    parts.extend(f"<th>{html.escape(_HEADERS.get(c, c))}</th>" for c in columns)
    parts.append("</tr>")
    for row in result.summary.to_dict(orient="records"):
        css = " class='flagged'" if row.get("flag") else ""
        parts.append(f"<tr{css}>")
        for c in columns:
            digits = 4 if c.startswith("max_ltv") or c == "end_value" else 2
            if c in ("rank", "fills", "trades", "roll_count") or c.startswith("margin_call"):
                digits = 0
            text = _fmt(row.get(c), digits) if c != "flag" else html.escape(row.get(c) or "")
            cls = " class='flag'" if c == "flag" and row.get(c) else ""
            parts.append(f"<td{cls}>{text}</td>")
        parts.append("</tr>")
    parts.append("</table>")
    if portfolio is not None and result.collateral:
        parts.append("<h2>Loan-to-value paths</h2>")
        parts.append(_img(collateral_chart(result.collateral, portfolio), "LTV paths"))
        parts.append("<h2>Hedge cost vs protection; days in margin call</h2>")
        parts.append(_img(_cost_protection_chart(result.summary), "cost and margin calls"))
    elif not result.paths.empty and len(result.paths.columns):
        parts.append("<h2>Paths</h2>")
        parts.append(_img(_paths_chart(result.paths), "paths"))
    parts.append("<h2>Templates</h2><table><tr><th>label</th><th>template</th></tr>")
    for label, entry in result.templates.items():
        what = (
            "a strategy class of one's own"
            if entry is None
            else f"{entry['name']}@{entry['version']} sha256 {str(entry['sha256'])[:12]}"
        )
        parts.append(f"<tr><td>{html.escape(label)}</td><td>{html.escape(what)}</td></tr>")
    parts.append("</table>")
    if result.provider is not None:
        parts.append("<h2>Synthetic provider</h2><pre>")
        parts.append(html.escape(json.dumps(result.provider, indent=2)))
        parts.append("</pre>")
    parts.append("</body></html>\n")
    return "".join(parts)
