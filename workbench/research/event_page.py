"""The event comparison page on the report layout (``event.html``, written by
``EventComparison.save`` and listed in the day's index; ``report.html`` beside it is the
self-contained comparison report, :mod:`workbench.research.event_report`).

The templates compared over one event preset (seed 002): the preset and the range run, each
template's path normalised at the session before the start (or cumulative PnL in money), the
drawdown of each path from its running peak, and the ranked summary (by the comparison's
ranking: seed 002's collateral order when a portfolio was given). The event window itself is
shaded; the lookback and recovery sessions around it are not.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.research import pages as pg

if TYPE_CHECKING:
    from workbench.research.events import EventComparison

PAGE = "event.html"


def _shade_window(ax: Any, comparison: EventComparison) -> None:
    preset = comparison.preset
    ax.axvspan(
        pd.Timestamp(preset.window_start),
        pd.Timestamp(preset.window_end),
        color="#fdecea",
        zorder=0,
        label="event window",
    )
    if preset.anchor_date is not None:
        ax.axvline(
            pd.Timestamp(preset.anchor_date),
            color="#c62828",
            linestyle=":",
            linewidth=1,
            label="anchor",
        )


def _paths_figure(comparison: EventComparison) -> Any:
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    from workbench.analytics.charts import ChartUnavailable, Margins, new_figure

    paths = comparison.paths
    if paths.empty or not len(paths.columns):
        raise ChartUnavailable("no template produced a daily path")
    # the legend sits right of the plot: room for the longest name at 8 pt (about 0.07 in a
    # character), the line sample and the padding
    longest = max([len(str(c)) for c in paths.columns] + [len("event window")])
    right = min(max(1.2, 0.75 + 0.07 * longest), 4.5)
    fig, axes = new_figure(
        2, 1, height=5.6, margins=Margins(top=0.45, hspace=0.75, right=right), sharex=True
    )
    ax, dd = axes[:, 0]
    dates = pd.to_datetime(paths.index)
    normalised = comparison.preset.normalize_start_value
    for name in paths.columns:
        values = paths[name].to_numpy(dtype=float)
        ax.plot(dates, values, linewidth=1.5, label=str(name))
        peak = np.fmax.accumulate(values)
        fall = values / peak - 1.0 if normalised else values - peak
        dd.plot(dates, fall, linewidth=1.2)
    _shade_window(ax, comparison)
    _shade_window(dd, comparison)
    ax.axhline(1.0 if normalised else 0.0, color="black", linewidth=0.6)
    ax.set_ylabel("value (1.0 at the start)" if normalised else "cumulative PnL")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    ax.set_title(f"{comparison.preset.display_name}: each template's path", fontsize=10)
    if normalised:
        from matplotlib.ticker import PercentFormatter

        dd.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
        dd.set_ylabel("drawdown (% of peak)")
    else:
        dd.set_ylabel("drawdown (money)")
    dd.set_title("Drawdown from each path's running peak", fontsize=10)
    dd.set_xlabel("date (event window shaded)")
    locator = AutoDateLocator(minticks=3, maxticks=8)
    dd.xaxis.set_major_locator(locator)
    dd.xaxis.set_major_formatter(ConciseDateFormatter(locator, show_offset=False))
    return fig


def _collateral_figure(comparison: EventComparison) -> Any:
    from workbench.analytics.charts import ChartUnavailable
    from workbench.analytics.collateral import collateral_chart

    if comparison.portfolio is None or not comparison.collateral:
        raise ChartUnavailable("no portfolio was given")
    return collateral_chart(comparison.collateral, comparison.portfolio)


def _summary_rows(comparison: EventComparison) -> list[dict[str, Any]]:
    rows = []
    normalised = comparison.preset.normalize_start_value
    for rec in comparison.summary.to_dict(orient="records"):
        error = rec.get("error")
        rows.append(
            {
                "rank": rec.get("rank"),
                "template": rec.get("template"),
                "run_id": rec.get("run_id") or "",
                "end_value": pg.num(rec.get("end_value"), 4)
                if normalised
                else pg.money(rec.get("end_value")),
                "total_pnl": (pg.money(rec.get("total_pnl")), pg.sign_class(rec.get("total_pnl"))),
                "max_drawdown": pg.money(rec.get("max_drawdown")),
                "max_drawdown_pct": pg.pct(rec.get("max_drawdown_pct"), 2),
                "worst_day": pg.money(rec.get("worst_day")),
                "worst_day_date": pg.text(rec.get("worst_day_date")),
                "fees": pg.money(rec.get("fees")),
                "sharpe": pg.num(rec.get("sharpe")),
                "trades": f"{pg.num(rec.get('trades'), 0)} / {pg.num(rec.get('fills'), 0)}",
                "days": f"{pg.num(rec.get('days'), 0)} days ({pg.num(rec.get('days_skipped'), 0)} skipped, {pg.num(rec.get('days_failed'), 0)} failed)",
                # a failure's error, else the comparison's flag (never traded, collapsed ladder)
                "error": error if isinstance(error, str) else str(rec.get("flag") or ""),
                "collateral": [
                    (
                        "margin-call days hedged / unhedged",
                        f"{pg.num(rec.get('margin_call_days_hedged'), 0)} / {pg.num(rec.get('margin_call_days_unhedged'), 0)}",
                    ),
                    (
                        "max LTV hedged / unhedged",
                        f"{pg.num(rec.get('max_ltv_hedged'), 4)} / {pg.num(rec.get('max_ltv_unhedged'), 4)}",
                    ),
                    ("hedge cost", pg.money(rec.get("total_hedge_cost"))),
                    (
                        "end value hedged / unhedged",
                        f"{pg.money(rec.get('end_value_hedged_net'))} / {pg.money(rec.get('end_value_unhedged'))}",
                    ),
                    ("rolls", pg.num(rec.get("roll_count"), 0)),
                ]
                if comparison.portfolio is not None
                else [],
            }
        )
    return rows


def render_event(comparison: EventComparison) -> str:
    """The page as HTML."""
    preset = comparison.preset
    ranking = (
        "seed 002's collateral order: fewer hedged margin-call days, lower hedged max LTV, lower hedge cost, higher end value"
        if comparison.portfolio is not None
        else "completed runs first, runs without a fill after those that traded, then the shallower max drawdown, the better worst day, lower fees, higher PnL"
    )
    portfolio_rows = []
    if comparison.portfolio is not None:
        p = comparison.portfolio
        portfolio_rows = [
            ("units of the underlying held", f"{p.underlying_units:,g}"),
            ("loan", pg.money(p.loan_amount)),
            ("margin call at LTV", f"{p.margin_call_ltv:g}"),
            ("financing rate", pg.pct(p.financing_rate, 2)),
            ("cash beside the units", pg.money(p.cash_balance)),
        ]
    figures = [pg.figure_entry("paths", "Paths and drawdowns", lambda: _paths_figure(comparison))]
    if comparison.portfolio is not None:
        figures.append(
            pg.figure_entry(
                "collateral", "Collateral and LTV", lambda: _collateral_figure(comparison)
            )
        )
    return pg.render(
        "event.html.j2",
        title=f"Event: {preset.display_name}",
        subtitle=(
            f"{preset.symbol} {preset.event_type}, window {preset.window_start} .. {preset.window_end}"
            f"{f', anchor {preset.anchor_date}' if preset.anchor_date else ''}; run {comparison.start} .. {comparison.end} "
            f"({preset.lookback_days} sessions before, {preset.recovery_days} after)"
        ),
        description=preset.description,
        tags=", ".join(preset.tags),
        figures=figures,
        rows=_summary_rows(comparison),
        ranking=ranking,
        normalised=preset.normalize_start_value,
        capital=pg.money(comparison.capital) if comparison.capital else "–",
        portfolio_rows=portfolio_rows,
    )


def write_event_page(comparison: EventComparison, folder: str | Path) -> Path:
    """Write :data:`PAGE` into ``folder`` (the caller makes it atomic); returns its path."""
    path = Path(folder) / PAGE
    path.write_text(render_event(comparison), encoding="utf-8")
    return path
