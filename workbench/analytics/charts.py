"""Registry of tearsheet charts: functions of a precomputed ``Analysis`` returning a Figure.

Each chart is registered with ``@chart(name, title=..., section=...)`` and draws on a fresh
``matplotlib.figure.Figure`` bound to the Agg canvas (no pyplot, no global state). A chart that
does not apply to a run (no trades, no Greeks...) raises ``ChartUnavailable`` with the reason; the
tearsheet shows that reason in place of the image. A chart that would say nothing for this kind
of run (yearly returns of a run shorter than a year, a monthly heat map of one month, intraday
paths of a positional run) raises ``ChartOmitted`` and is left off the page. ``CHARTS`` keeps
registration order, which is the order of the tearsheet.

Figures are drawn at :data:`DPI` from the start and rasterised once (:func:`figure_png_base64`):
drawing at one resolution and saving at another lays every figure out twice.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import TwoSlopeNorm
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from workbench.analytics.analysis import Analysis
from workbench.analytics.breakdowns import MONTHS
from workbench.analytics.intraday import extreme_days, path_matrix

#: One palette for every chart.
PALETTE = {
    "main": "#1f4e79",
    "second": "#c55a11",
    "gain": "#2e7d32",
    "loss": "#c62828",
    "neutral": "#7f7f7f",
    "fill": "#9dc3e6",
    "band_outer": "#deebf7",
    "band_inner": "#9ecae1",
}
WIDTH, HEIGHT = 10.0, 3.8
#: Resolution every chart is drawn and embedded at (pixels per inch): 900 px wide.
DPI = 90
ChartFn = Callable[[Analysis], Figure]


class ChartUnavailable(Exception):
    """The chart does not apply to this run; ``str(exc)`` says why."""


class ChartOmitted(ChartUnavailable):
    """The chart would say nothing for this kind of run and is left off the page."""


@dataclass(frozen=True)
class ChartSpec:
    name: str
    title: str
    section: str
    func: ChartFn


CHARTS: dict[str, ChartSpec] = {}


def chart(name: str, *, title: str, section: str) -> Callable[[ChartFn], ChartFn]:
    """Register ``func`` under ``name``; a duplicate name raises ``ValueError``."""

    def register(func: ChartFn) -> ChartFn:
        if name in CHARTS:
            raise ValueError(f"chart {name!r} is already registered")
        CHARTS[name] = ChartSpec(name, title, section, func)
        return func

    return register


def render(name: str, analysis: Analysis) -> Figure:
    """Draw chart ``name`` (``KeyError`` naming the known charts if it is not registered)."""
    if name not in CHARTS:
        raise KeyError(f"unknown chart {name!r}; known: {', '.join(CHARTS)}")
    return CHARTS[name].func(analysis)


def figure_png(fig: Figure, dpi: int = DPI) -> bytes:
    """The figure as PNG bytes: laid out and drawn once at ``dpi``, then encoded (zlib level
    3: nearly the size of the default level for a third of its time)."""
    from PIL import Image

    if fig.dpi != dpi:
        fig.set_dpi(dpi)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    width, height = canvas.get_width_height(physical=True)
    image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="png", compress_level=3, optimize=False)
    return buf.getvalue()


def figure_png_base64(fig: Figure, dpi: int = DPI) -> str:
    """The figure as a base64-encoded PNG (ASCII): :func:`figure_png`."""
    return base64.b64encode(figure_png(fig, dpi)).decode("ascii")


@dataclass(frozen=True)
class Margins:
    """Space around and between a figure's axes, in inches: room for tick labels, axis labels
    and titles. A fixed layout instead of matplotlib's constrained one, which measures every
    text and lays the figure out twice (about 40 % of a tearsheet's drawing time); the test of
    every chart checks that no text falls outside its figure or over another axes."""

    left: float = 1.0
    right: float = 0.3
    top: float = 0.45
    bottom: float = 0.6
    wspace: float = 0.9
    hspace: float = 0.6


def _figure(
    nrows: int = 1,
    ncols: int = 1,
    height: float = HEIGHT,
    margins: Margins = Margins(),
    width_ratios: list[float] | None = None,
    **kw: object,
) -> tuple[Figure, np.ndarray]:
    fig = Figure(figsize=(WIDTH, height), dpi=DPI)
    FigureCanvasAgg(fig)
    m = margins
    axis_w = max((WIDTH - m.left - m.right - (ncols - 1) * m.wspace) / ncols, 0.5)
    axis_h = max((height - m.top - m.bottom - (nrows - 1) * m.hspace) / nrows, 0.3)
    gridspec: dict[str, Any] = {
        "left": m.left / WIDTH,
        "right": 1.0 - m.right / WIDTH,
        "top": 1.0 - m.top / height,
        "bottom": m.bottom / height,
        "wspace": m.wspace / axis_w,
        "hspace": m.hspace / axis_h,
    }
    if width_ratios is not None:
        gridspec["width_ratios"] = width_ratios
    # titles at a fixed height above their axes: matplotlib otherwise measures every axis's
    # decorations at each draw to lift a title over ticks at the top, which no chart has
    # (about a sixth of the drawing time); the chart tests check that no text collides
    with matplotlib.rc_context({"axes.titley": 1.0}):
        axes = fig.subplots(nrows, ncols, squeeze=False, gridspec_kw=gridspec, **kw)  # type: ignore[call-overload]
    for ax in axes.flat:
        ax.grid(True, alpha=0.3, linewidth=0.6)
        ax.spines[["top", "right"]].set_visible(False)
    return fig, axes


#: The fixed-layout figure of every chart, for pages beyond the tearsheet (walk-forward, events).
new_figure = _figure


def _currency(a: Analysis) -> str:
    return a.currency or "money"


def _tick_money(value: float, _pos: object = None) -> str:
    """Money tick label: thousands separators, decimals only for small values."""
    return f"{value:,.0f}" if abs(value) >= 10 or value == 0 else f"{value:,.2f}"


def _money_axis(ax: Any, label: str) -> None:
    ax.yaxis.set_major_formatter(FuncFormatter(_tick_money))
    ax.set_ylabel(label)
    lo, hi = ax.get_ylim()
    if hi - lo < 2.0:  # a flat line (e.g. no trades): show a unit range around it, not "-0 0 0"
        mid = (hi + lo) / 2
        ax.set_ylim(mid - 1.0, mid + 1.0)


def _date_axis(ax: Any) -> None:
    locator = AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator, show_offset=False))


def _need_days(a: Analysis, n: int = 1) -> None:
    if len(a.daily) < n:
        raise ChartUnavailable(
            f"needs at least {n} day(s) in the daily path, the run has {len(a.daily)}"
        )


def _closed(a: Analysis) -> pd.DataFrame:
    closed = a.trades[a.trades["status"] == "closed"]
    if closed.empty:
        raise ChartUnavailable("no closed trades in this run")
    return closed


def _bars(ax: object, labels: list[str], values: np.ndarray) -> None:
    colors = [PALETTE["gain"] if v >= 0 else PALETTE["loss"] for v in values]
    width = min(0.8, 0.25 * max(len(labels), 1) + 0.15)  # a lone bar stays narrow
    ax.bar(labels, values, color=colors, width=width)  # type: ignore[attr-defined]
    pad = max(0.0, (3 - len(labels)) * 0.5)
    ax.set_xlim(-0.5 - pad, len(labels) - 0.5 + pad)  # type: ignore[attr-defined]
    ax.axhline(0, color="black", linewidth=0.8)  # type: ignore[attr-defined]


@chart("equity", title="Equity and underlying", section="Performance")
def equity_chart(a: Analysis) -> Figure:
    _need_days(a)
    fig, axes = _figure(margins=Margins(right=1.0))
    ax = axes[0, 0]
    ax.plot(
        a.equity.index,
        a.equity.to_numpy(),
        color=PALETTE["main"],
        linewidth=1.6,
        label="equity (cumulative PnL)",
    )
    ax.axhline(0, color="black", linewidth=0.6)
    _money_axis(ax, f"cumulative PnL ({_currency(a)})")
    spot = a.daily["spot_close"]
    if spot.notna().any():
        twin = ax.twinx()
        twin.plot(
            spot.index,
            spot.to_numpy(),
            color=PALETTE["second"],
            linewidth=1.0,
            alpha=0.8,
            label="underlying close",
        )
        twin.set_ylabel("underlying close")
        twin.spines[["top"]].set_visible(False)
        lines = ax.get_lines()[:1] + twin.get_lines()
        ax.legend(
            lines, [ln.get_label() for ln in lines], loc="best", frameon=True, framealpha=0.85
        )
    else:
        ax.legend(loc="upper left", frameon=False)
    _date_axis(ax)
    ax.set_xlabel("date")
    ax.set_title("Equity (cumulative PnL) with the underlying")
    return fig


@chart("benchmark", title="Against buy-and-hold of the underlying", section="Performance")
def benchmark_chart(a: Analysis) -> Figure:
    b = a.benchmark
    if b is None:
        raise ChartUnavailable("no daily closes of the underlying to compare with")
    fig, axes = _figure(height=3.2)
    ax = axes[0, 0]
    base = _base_words(a)
    ax.plot(
        a.wealth.index,
        a.wealth.to_numpy() - 1.0,
        color=PALETTE["main"],
        linewidth=1.6,
        label=f"strategy (return on {base})",
    )
    ax.plot(
        b.wealth.index,
        b.wealth.to_numpy() - 1.0,
        color=PALETTE["second"],
        linewidth=1.2,
        label=f"buy-and-hold {b.name}",
    )
    ax.axhline(0, color="black", linewidth=0.6)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    ax.set_ylabel("cumulative return")
    _date_axis(ax)
    ax.set_xlabel("date")
    ax.legend(frameon=True, framealpha=0.85, loc="best", fontsize=8)
    m = b.metrics
    ax.set_title(
        f"Strategy vs buy-and-hold {b.name}: beta {_fmt(m['beta'], '.2f')}, "
        f"correlation {_fmt(m['correlation'], '.2f')}, alpha {_fmt(m['alpha'], '.1%')} a year",
        fontsize=10,
    )
    return fig


def _fmt(value: float, spec: str) -> str:
    return format(value, spec) if isinstance(value, int | float) and math.isfinite(value) else "–"


def _base_words(a: Analysis) -> str:
    if a.capital_base == "margin":
        return f"peak margin {a.base_amount:,.0f}"
    return f"capital {a.capital:,.0f}"


@chart("underwater", title="Underwater (drawdown)", section="Performance")
def underwater_chart(a: Analysis) -> Figure:
    _need_days(a)
    fig, axes = _figure(height=3.0)
    ax = axes[0, 0]
    dd = a.drawdown_pct
    ax.fill_between(dd.index, dd.to_numpy(), 0, color=PALETTE["loss"], alpha=0.35, step="post")
    ax.plot(dd.index, dd.to_numpy(), color=PALETTE["loss"], linewidth=0.9, drawstyle="steps-post")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    ax.set_ylabel(f"drawdown (% of {a.capital_base} base)")
    _date_axis(ax)
    ax.set_xlabel("date")
    ax.set_title(
        f"Underwater: drawdown from the running peak (max {a.metrics['max_drawdown_pct']:.2%})"
    )
    return fig


@chart("monthly_heatmap", title="Monthly returns", section="Performance")
def monthly_heatmap_chart(a: Analysis) -> Figure:
    _need_days(a)
    if a.months < 2:
        raise ChartOmitted("the run spans one calendar month")
    table = a.monthly_returns[list(MONTHS)]
    if len(table) == 1:  # one calendar year: only its months from the first to the last
        present = np.flatnonzero(table.notna().to_numpy()[0])
        table = table.iloc[:, present.min() : present.max() + 1]
    data = table.to_numpy(dtype=float) * 100
    fig, axes = _figure(
        height=max(2.4, 0.45 * len(table) + 1.4), margins=Margins(left=0.7, right=0.95)
    )
    ax = axes[0, 0]
    ax.grid(False)
    finite = data[np.isfinite(data)]
    span = max(float(np.abs(finite).max()) if finite.size else 1.0, 0.1)  # at least 0.1%
    image = ax.imshow(
        np.ma.masked_invalid(data),
        cmap="RdYlGn",
        norm=TwoSlopeNorm(0.0, -span, span),
        aspect="auto",
    )
    ax.set_xticks(range(table.shape[1]), list(table.columns))
    ax.set_yticks(range(len(table)), [str(y) for y in table.index])
    for (i, j), v in np.ndenumerate(data):
        if np.isfinite(v):
            ink = "white" if abs(v) > 0.6 * span else "black"
            ax.text(j, i, f"{v:.1f}", ha="center", va="center", fontsize=8, color=ink)
    fig.colorbar(image, ax=ax, label="return (%)", fraction=0.03)
    ax.set_title("Monthly returns (%), compounded within each month")
    return fig


@chart("yearly", title="Yearly returns", section="Performance")
def yearly_chart(a: Analysis) -> Figure:
    _need_days(a)
    if a.span_days < 365:
        raise ChartOmitted("the run is shorter than a year")
    fig, axes = _figure(height=3.0)
    ax = axes[0, 0]
    _bars(ax, [str(y) for y in a.yearly.index], a.yearly["return"].to_numpy(dtype=float))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    ax.set_ylabel("return (%)")
    ax.set_xlabel("year")
    ax.set_title("Yearly returns")
    return fig


@chart("daily_pnl_histogram", title="Daily PnL distribution", section="Risk")
def daily_hist_chart(a: Analysis) -> Figure:
    _need_days(a, 2)
    pnl = a.daily["pnl"].to_numpy(dtype=float)
    fig, axes = _figure(height=3.2)
    ax = axes[0, 0]
    ax.hist(pnl, bins=min(60, max(10, len(pnl) // 3)), color=PALETTE["main"], alpha=0.8)
    var, cvar = a.metrics["var_95_money"], a.metrics["cvar_95_money"]
    if np.isfinite(var):
        ax.axvline(var, color=PALETTE["second"], linestyle="--", label=f"VaR 95% {var:,.0f}")
    if np.isfinite(cvar):
        ax.axvline(cvar, color=PALETTE["loss"], linestyle=":", label=f"CVaR 95% {cvar:,.0f}")
    ax.legend(frameon=False)
    ax.xaxis.set_major_formatter(FuncFormatter(_tick_money))
    ax.set_xlabel(f"daily PnL ({_currency(a)})")
    ax.set_ylabel("days")
    ax.set_title(
        f"Daily PnL distribution (skew {a.metrics['skew']:.2f}, excess kurtosis {a.metrics['kurtosis']:.2f})"
    )
    return fig


@chart("rolling_sharpe", title="Rolling Sharpe", section="Risk")
def rolling_sharpe_chart(a: Analysis) -> Figure:
    rs = a.rolling_sharpe.dropna()
    if rs.empty:
        raise ChartOmitted("the run is shorter than the rolling window")
    fig, axes = _figure(height=3.0)
    ax = axes[0, 0]
    ax.plot(rs.index, rs.to_numpy(), color=PALETTE["main"], linewidth=1.2)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.axhline(
        a.metrics["sharpe"],
        color=PALETTE["second"],
        linestyle="--",
        linewidth=1,
        label="full-period Sharpe",
    )
    ax.legend(frameon=False)
    ax.set_ylabel("annualised Sharpe")
    _date_axis(ax)
    ax.set_xlabel("date")
    window = len(a.returns) - len(a.rolling_sharpe.dropna()) + 1
    ax.set_title(f"Rolling Sharpe ({window}-day window, annualised x sqrt({a.periods_per_year:g}))")
    return fig


@chart("weekday_expiry", title="PnL by weekday and expiry cycle", section="Decomposition")
def weekday_expiry_chart(a: Analysis) -> Figure:
    _need_days(a)
    fig, axes = _figure(1, 3, height=3.2)
    wd = a.breakdowns["weekday_days"]
    _bars(axes[0, 0], [s[:3] for s in wd.index], wd["pnl"].to_numpy(dtype=float))
    _money_axis(axes[0, 0], f"PnL ({_currency(a)})")
    axes[0, 0].set_title("Daily PnL by weekday")
    for ax, key, title in (
        (axes[0, 1], "expiry_kind", "Trade PnL by expiry cycle"),
        (axes[0, 2], "dte_at_entry", "Trade PnL by DTE at entry"),
    ):
        table = a.breakdowns[key]
        if table.empty:
            ax.text(0.5, 0.5, "no closed trades", ha="center", va="center", transform=ax.transAxes)
        else:
            _bars(ax, [str(s) for s in table.index], table["pnl"].to_numpy(dtype=float))
        _money_axis(ax, "")
        ax.set_title(title)
    axes[0, 2].set_xlabel("calendar days to expiry")
    return fig


@chart("trade_pnl_distribution", title="Trade PnL distribution", section="Trades")
def trade_hist_chart(a: Analysis) -> Figure:
    closed = _closed(a)
    pnl = closed["pnl"].to_numpy(dtype=float)
    fig, axes = _figure(height=3.2)
    ax = axes[0, 0]
    bins = np.histogram_bin_edges(pnl, bins=min(40, max(5, len(pnl) // 2)))
    ax.hist(pnl[pnl >= 0], bins=bins, color=PALETTE["gain"], alpha=0.85, label="winners")
    ax.hist(pnl[pnl < 0], bins=bins, color=PALETTE["loss"], alpha=0.85, label="losers")
    ax.axvline(
        float(pnl.mean()),
        color="black",
        linestyle="--",
        linewidth=1,
        label=f"mean {pnl.mean():,.0f}",
    )
    ax.legend(frameon=False)
    ax.xaxis.set_major_formatter(FuncFormatter(_tick_money))
    ax.set_xlabel(f"trade PnL net of fees ({_currency(a)})")
    ax.set_ylabel("trades")
    ax.set_title(f"Trade PnL distribution ({len(pnl)} closed trades)")
    return fig


@chart("mae_mfe", title="MAE / MFE", section="Trades")
def mae_mfe_chart(a: Analysis) -> Figure:
    closed = _closed(a)
    fig, axes = _figure(1, 2, height=3.4)
    pnl = closed["pnl"].to_numpy(dtype=float)
    colors = np.where(pnl >= 0, PALETTE["gain"], PALETTE["loss"])
    for ax, col, label in (
        (axes[0, 0], "mae", "MAE (most adverse excursion)"),
        (axes[0, 1], "mfe", "MFE (most favourable excursion)"),
    ):
        ax.scatter(closed[col].to_numpy(dtype=float), pnl, c=colors, s=14, alpha=0.8)
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_xlabel(f"{label} ({_currency(a)})")
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.xaxis.set_major_formatter(FuncFormatter(_tick_money))
        _money_axis(ax, "final trade PnL")
    basis = ", ".join(sorted(set(closed["excursion_basis"])))
    fig.suptitle(f"Excursions vs final PnL (path basis: {basis}; green win, red loss)")
    return fig


@chart("exit_reasons", title="Exit reasons", section="Trades")
def exit_reason_chart(a: Analysis) -> Figure:
    _closed(a)
    table = a.breakdowns["exit_reason"]
    labels = [str(s) for s in table.index]
    room = 0.35 + 0.075 * max((len(x) for x in labels), default=4)  # inches for the labels
    fig, axes = _figure(
        1,
        2,
        height=max(2.4, 0.4 * len(table) + 1.2),
        margins=Margins(left=max(room, 0.8), wspace=max(room, 0.8) + 0.2),
    )
    axes[0, 0].barh(labels, table["count"].to_numpy(), color=PALETTE["main"])
    axes[0, 0].xaxis.set_major_locator(MaxNLocator(5, integer=True))
    axes[0, 0].set_xlabel("closed trades")
    axes[0, 0].set_title("Exits by reason")
    values = table["pnl"].to_numpy(dtype=float)
    axes[0, 1].barh(
        labels, values, color=[PALETTE["gain"] if v >= 0 else PALETTE["loss"] for v in values]
    )
    axes[0, 1].axvline(0, color="black", linewidth=0.8)
    axes[0, 1].xaxis.set_major_locator(MaxNLocator(4))
    axes[0, 1].xaxis.set_major_formatter(FuncFormatter(_tick_money))
    axes[0, 1].set_xlabel(f"total PnL ({_currency(a)})")
    axes[0, 1].set_title("PnL by exit reason")
    return fig


@chart("greeks", title="Greeks and margin over time", section="Exposure")
def greeks_chart(a: Analysis) -> Figure:
    """Greeks and margin of the book at each close; when the book is flat at every close
    (intraday strategies), the position delta of each trade at its entry instead."""
    _need_days(a)
    from workbench.analytics.units import LABELS, trader_greeks

    shown = trader_greeks(a.greeks, a.manifest.get("underlying"))
    cols = [c for c in shown.columns if (shown[c].fillna(0.0) != 0).any()]
    if not cols:
        return _entry_delta_chart(a)
    fig, axes = _figure(len(cols), 1, height=1.5 * len(cols) + 0.6, sharex=True)
    for ax, col in zip(axes[:, 0], cols):
        s = shown[col]
        ax.plot(
            s.index,
            s.to_numpy(dtype=float),
            color=PALETTE["main"],
            linewidth=1.1,
            drawstyle="steps-post",
        )
        ax.axhline(0, color="black", linewidth=0.5)
        label = LABELS[col].replace("money", _currency(a)).replace(" (", "\n(")
        ax.set_ylabel(label, fontsize=8)
    _date_axis(axes[-1, 0])
    axes[-1, 0].set_xlabel("date (position at the close)")
    fig.suptitle("Position Greeks and margin at each close")
    return fig


def _entry_delta_chart(a: Analysis) -> Figure:
    trades = a.trades[a.trades["delta_entry"].notna()] if len(a.trades) else a.trades
    if trades.empty:
        raise ChartUnavailable("the book is flat at every close and no fill recorded a delta")
    fig, axes = _figure(height=3.0)
    ax = axes[0, 0]
    delta = trades["delta_entry"].to_numpy(dtype=float)
    ax.scatter(trades["entry_ts"], delta, s=14, color=PALETTE["main"], alpha=0.85)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_ylabel("position delta at entry\n(underlying units)")
    _date_axis(ax)
    ax.set_xlabel("entry time")
    ax.set_title("Delta of each trade at entry (the book is flat at every close)")
    return fig


@chart("monte_carlo", title="Monte Carlo", section="Monte Carlo")
def monte_carlo_chart(a: Analysis) -> Figure:
    mc = a.monte_carlo.get("daily_bootstrap") or a.monte_carlo.get("trades_bootstrap")
    if mc is None:
        raise ChartUnavailable("Monte Carlo needs at least 2 days or 2 closed trades")
    fig, axes = _figure(1, 2, height=3.6, width_ratios=[2, 1])
    ax = axes[0, 0]
    x = np.arange(mc.realised.size)
    ax.fill_between(
        x, mc.fan[5.0], mc.fan[95.0], color=PALETTE["band_outer"], label="5-95th percentile"
    )
    ax.fill_between(
        x, mc.fan[25.0], mc.fan[75.0], color=PALETTE["band_inner"], label="25-75th percentile"
    )
    ax.plot(x, mc.fan[50.0], color=PALETTE["main"], linestyle="--", linewidth=1, label="median")
    ax.plot(x, mc.realised, color=PALETTE["second"], linewidth=1.4, label="realised")
    ax.legend(frameon=False, loc="upper left", fontsize=8)
    _money_axis(ax, f"cumulative PnL ({_currency(a)})")
    ax.set_xlabel("days" if mc.source == "daily" else "trades")
    ax.set_title(f"{mc.method.title()} of {mc.source} PnL: {mc.n_paths} paths, seed {mc.seed}")
    ax2 = axes[0, 1]
    ax2.hist(mc.max_drawdown, bins=40, color=PALETTE["loss"], alpha=0.8)
    ax2.axvline(
        float(mc.summary()["realised_max_drawdown"]),
        color="black",
        linestyle="--",
        linewidth=1,
        label="realised",
    )
    ax2.xaxis.set_major_locator(MaxNLocator(4))
    ax2.xaxis.set_major_formatter(FuncFormatter(_tick_money))
    ax2.set_xlabel(f"max drawdown ({_currency(a)})")
    ax2.set_ylabel("paths")
    ax2.legend(frameon=False, fontsize=8)
    ruin_loss = mc.ruin_fraction * mc.capital
    ax2.set_title(
        f"Max drawdown per path; P(ruin) = {mc.prob_ruin:.2%}\n(ruin: a loss of {ruin_loss:,.0f})",
        fontsize=10,
    )
    return fig


@chart("cost_sensitivity", title="Cost sensitivity", section="Costs")
def cost_chart(a: Analysis) -> Figure:
    table = a.cost_sensitivity
    fig, axes = _figure(height=3.0)
    ax = axes[0, 0]
    ax.plot(table["multiplier"], table["net_pnl"], marker="o", color=PALETTE["main"])
    ax.axhline(0, color="black", linewidth=0.6)
    ax.axvline(1.0, color=PALETTE["neutral"], linestyle=":", label="costs as paid")
    _money_axis(ax, f"net PnL ({_currency(a)})")
    ax.set_xlabel("cost multiplier (fees + slippage vs mid)")
    ax.legend(frameon=False)
    ax.set_title(f"Net PnL as costs scale (costs paid: {a.costs['total_costs']:,.0f})")
    return fig


@chart("vix_regime", title="PnL by volatility regime", section="Decomposition")
def vix_chart(a: Analysis) -> Figure:
    if a.vix is None:
        raise ChartUnavailable("no VIX-like series was supplied")
    fig, axes = _figure(1, 2, height=3.0)
    for ax, key, title in (
        (axes[0, 0], "vix_regime_days", "Daily PnL by VIX regime"),
        (axes[0, 1], "vix_regime_trades", "Trade PnL by VIX regime at entry"),
    ):
        table = a.breakdowns[key]
        if table.empty:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        else:
            _bars(ax, [str(s) for s in table.index], table["pnl"].to_numpy(dtype=float))
        _money_axis(ax, f"PnL ({_currency(a)})")
        ax.set_xlabel("VIX level")
        ax.set_title(title)
    return fig


def _intraday_paths(a: Analysis) -> pd.DataFrame:
    if a.mode != "intraday":
        raise ChartOmitted("not an intraday run")
    if a.intraday is None:
        raise ChartUnavailable(
            "no intraday marks: the run's dataset was not available when the report was written"
        )
    if a.intraday.empty:
        raise ChartUnavailable("no position was held during any day")
    return a.intraday


def _clock_axis(ax: Any, minutes: np.ndarray, max_ticks: int = 9) -> None:
    lo, hi = float(np.nanmin(minutes)), float(np.nanmax(minutes))
    step = next((s for s in (30, 60, 120, 180, 240) if (hi - lo) / s <= max_ticks - 1), 360)
    first = math.ceil(lo / step) * step
    ticks = np.arange(first, hi + 1e-9, step)
    ax.set_xticks(ticks, [f"{int(t) // 60:02d}:{int(t) % 60:02d}" for t in ticks])
    ax.set_xlim(lo, hi)


@chart("intraday_paths", title="Each day's mark-to-market path", section="Intraday")
def intraday_paths_chart(a: Analysis) -> Figure:
    pm = path_matrix(_intraday_paths(a))
    fig, axes = _figure(height=3.6)
    ax = axes[0, 0]
    segments = []
    colors = []
    for row, final in zip(pm.values, pm.final, strict=True):
        ok = np.isfinite(row)
        if ok.sum() < 2:
            continue
        segments.append(np.column_stack([pm.minutes[ok], row[ok]]))
        colors.append(PALETTE["gain"] if final >= 0 else PALETTE["loss"])
    ax.add_collection(LineCollection(segments, colors=colors, linewidths=0.6, alpha=0.22))
    started = np.isfinite(pm.values).sum(axis=0)
    enough = started >= max(1, len(pm.days) // 2)
    if enough.any():
        with np.errstate(all="ignore"):
            lo, mid, hi = np.nanpercentile(pm.values[:, enough], [10, 50, 90], axis=0)
        x = pm.minutes[enough]
        ax.plot(x, mid, color="black", linewidth=1.4, label="median day")
        ax.plot(
            x,
            lo,
            color=PALETTE["main"],
            linewidth=1.0,
            linestyle="--",
            label="10th / 90th percentile",
        )
        ax.plot(x, hi, color=PALETTE["main"], linewidth=1.0, linestyle="--")
        ax.legend(frameon=True, framealpha=0.85, fontsize=8, loc="lower left")
    ax.autoscale_view()
    ax.axhline(0, color="black", linewidth=0.6)
    _clock_axis(ax, pm.minutes)
    _money_axis(ax, f"PnL of the day ({_currency(a)})")
    ax.set_xlabel("time of day (exchange time)")
    ax.set_title(
        f"Book PnL of each day at every minute, net of fees ({len(segments)} days; "
        "green ended up, red down)",
        fontsize=10,
    )
    return fig


@chart("intraday_extremes", title="Worst and best days", section="Intraday")
def intraday_extremes_chart(a: Analysis) -> Figure:
    paths = _intraday_paths(a)
    worst, best = extreme_days(paths, 4)
    rows = [r for r in (worst, best) if r]
    ncols = max(len(r) for r in rows)
    fig, axes = _figure(len(rows), ncols, height=2.1 * len(rows) + 0.5, sharex=True)
    day_of = pd.to_datetime(paths["day"]).dt.normalize().to_numpy()
    ts_all = pd.to_datetime(paths["ts"])
    minute_all = (ts_all.dt.hour * 60 + ts_all.dt.minute + ts_all.dt.second / 60.0).to_numpy()
    pnl_all = paths["pnl"].to_numpy(dtype=float)
    stops = _stop_times(a)
    minutes_all: list[float] = []
    for r, days in enumerate(rows):
        for c in range(ncols):
            ax = axes[r, c]
            if c >= len(days):
                ax.set_visible(False)
                continue
            day = days[c]
            mine = day_of == np.datetime64(day)
            x, y = minute_all[mine], pnl_all[mine]
            minutes_all.extend([float(x.min()), float(x.max())])
            final = float(y[-1])
            color = PALETTE["gain"] if final >= 0 else PALETTE["loss"]
            ax.plot(x, y, color=color, linewidth=1.0, drawstyle="steps-post")
            ax.fill_between(x, y, 0, color=color, alpha=0.15, step="post")
            ax.axhline(0, color="black", linewidth=0.5)
            for t in stops.get(day, ()):
                ax.axvline(t, color=PALETTE["neutral"], linewidth=0.7, linestyle=":")
            ax.yaxis.set_major_locator(MaxNLocator(4))
            ax.yaxis.set_major_formatter(FuncFormatter(_tick_money))
            ax.tick_params(labelsize=7)
            ax.set_title(f"{day:%a %d %b %Y}: {final:,.0f}", fontsize=8)
    if minutes_all:
        for ax in axes[-1, :]:
            _clock_axis(ax, np.array(minutes_all), max_ticks=4)
            ax.tick_params(axis="x", labelrotation=0, labelsize=7)
    labels = ["worst days" if rows[0] is worst else "best days"] + (
        ["best days"] if len(rows) > 1 else []
    )
    for r, text in enumerate(labels):
        axes[r, 0].set_ylabel(f"{text}\n({_currency(a)})", fontsize=8)
    fig.suptitle("The worst and best days minute by minute (dotted: a stop-out)", fontsize=10)
    return fig


def _stop_times(a: Analysis) -> dict[pd.Timestamp, list[float]]:
    legs = a.trade_legs
    if legs.empty:
        return {}
    done = legs[(legs["status"] == "closed") & legs["exit_reason"].str.contains("stop")]
    out: dict[pd.Timestamp, list[float]] = {}
    for ts in pd.to_datetime(done["exit_ts"]).drop_duplicates():
        out.setdefault(ts.normalize(), []).append(ts.hour * 60 + ts.minute + ts.second / 60.0)
    return out


@chart("time_of_day", title="PnL by entry time and stop-outs by time", section="Intraday")
def time_of_day_chart(a: Analysis) -> Figure:
    if a.mode != "intraday":
        raise ChartOmitted("not an intraday run")
    entries = a.breakdowns.get("entry_time")
    if entries is None or entries.empty:
        raise ChartUnavailable("no closed trades in this run")
    fig, axes = _figure(1, 2, height=3.0)
    _bars(axes[0, 0], [str(s) for s in entries.index], entries["pnl"].to_numpy(dtype=float))
    _money_axis(axes[0, 0], f"PnL ({_currency(a)})")
    axes[0, 0].set_xlabel("entry time (30-minute slot)")
    axes[0, 0].set_title("Trade PnL by entry time", fontsize=10)
    stops = a.stop_outs
    ax = axes[0, 1]
    if stops.empty or not stops["stop_orders"].any():
        ax.text(0.5, 0.5, "no stop-outs", ha="center", va="center", transform=ax.transAxes)
    else:
        labels = [str(s) for s in stops.index]
        ax.bar(labels, stops["stop_orders"].to_numpy(), color=PALETTE["loss"], width=0.7)
    ax.set_xlabel("time of the stop (30-minute slot)")
    ax.set_ylabel("stop-out orders")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("Stop-outs by time of day", fontsize=10)
    for axis in axes[0, :]:
        axis.tick_params(axis="x", labelrotation=45, labelsize=7)
    return fig
