"""Self-contained HTML tearsheet: one file, images embedded as base64 PNG, no script, no URL.

``render_tearsheet`` analyses a run (or takes a ready ``Analysis``), draws every registered chart,
formats the tables and renders ``templates/report/tearsheet.html.j2`` with Jinja2 autoescaping on,
so a manifest value such as ``<script>`` is shown as text. The file is written atomically
(temporary file in the target folder, fsync, ``os.replace``).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd

from workbench.analytics import charts as ch
from workbench.analytics.analysis import Analysis, analyse
from workbench.analytics.buckets import BucketGrid
from workbench.analytics.pnl_calendar import month_grids, weekday_by_month
from workbench.analytics.returns import CapitalBaseKind

#: The trade log written beside every tearsheet and linked from it.
TRADES_CSV = "trades.csv"

#: The report templates folder (``templates/report`` at the repository root).
TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates" / "report"
TEMPLATE_NAME = "tearsheet.html.j2"


def _pct(v: Any) -> str:
    return "–" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.2%}"


def _ratio(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, float) and math.isinf(v):
        return "∞" if v > 0 else "-∞"
    return f"{v:.2f}"


def _money(v: Any) -> str:
    return "–" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:,.2f}"


def _int(v: Any) -> str:
    return "–" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{int(v):,d}"


def _num(v: Any) -> str:
    return "–" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:,.1f}"


def _text(v: Any) -> str:
    if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d %H:%M") if (v.hour or v.minute) else v.strftime("%Y-%m-%d")
    if isinstance(v, datetime | date):
        return v.isoformat()
    return str(v)


FORMATS: dict[str, Callable[[Any], str]] = {
    "amount": _money,
    "pct": _pct,
    "ratio": _ratio,
    "money": _money,
    "int": _int,
    "num": _num,
    "text": _text,
}

#: Headline metrics: section -> (key in ``Analysis.metrics`` or ``trade_metrics``, label, format).
HEADLINE: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...] = (
    (
        "Returns",
        (
            ("start", "Start", "text"),
            ("end", "End", "text"),
            ("trading_days", "Trading days", "int"),
            ("skipped_days", "Skipped days", "int"),
            ("time_in_market", "Time in market", "pct"),
            ("capital", "Capital", "money"),
            ("capital_base", "Capital base", "text"),
            ("base_amount", "Account start (base amount)", "money"),
            ("net_pnl", "Net PnL", "money"),
            ("total_return", "Cumulative return", "pct"),
            ("cagr", "CAGR", "pct"),
            ("volatility", "Volatility (ann.)", "pct"),
            ("expected_daily", "Expected daily", "pct"),
            ("expected_monthly", "Expected monthly", "pct"),
            ("expected_yearly", "Expected yearly", "pct"),
            ("return_mtd", "MTD", "pct"),
            ("return_3m", "3M", "pct"),
            ("return_6m", "6M", "pct"),
            ("return_ytd", "YTD", "pct"),
            ("return_1y", "1Y", "pct"),
            ("return_3y_ann", "3Y (ann.)", "pct"),
            ("return_5y_ann", "5Y (ann.)", "pct"),
            ("return_10y_ann", "10Y (ann.)", "pct"),
        ),
    ),
    (
        "Risk-adjusted",
        (
            ("sharpe", "Sharpe", "ratio"),
            ("sortino", "Sortino", "ratio"),
            ("sortino_sqrt2", "Sortino/√2", "ratio"),
            ("smart_sharpe", "Smart Sharpe", "ratio"),
            ("smart_sortino", "Smart Sortino", "ratio"),
            ("probabilistic_sharpe", "Prob. Sharpe ratio", "pct"),
            ("serenity_index", "Serenity index", "ratio"),
            ("cpc_index", "CPC index", "ratio"),
            ("calmar", "Calmar", "ratio"),
            ("omega", "Omega", "ratio"),
            ("gain_to_pain", "Gain/pain", "ratio"),
            ("tail_ratio", "Tail ratio", "ratio"),
            ("common_sense_ratio", "Common sense ratio", "ratio"),
            ("outlier_win_ratio", "Outlier win ratio", "ratio"),
            ("outlier_loss_ratio", "Outlier loss ratio", "ratio"),
            ("kelly", "Kelly criterion", "pct"),
            ("risk_of_ruin_formula", "Risk of ruin (formula)", "pct"),
            ("skew", "Skew", "ratio"),
            ("kurtosis", "Excess kurtosis", "ratio"),
        ),
    ),
    (
        "Drawdown and tail",
        (
            ("max_drawdown_pct", "Max drawdown", "pct"),
            ("max_drawdown_peak", "Max DD peak", "text"),
            ("max_drawdown_valley", "Max DD valley", "text"),
            ("max_drawdown_recovery", "Max DD recovery", "text"),
            ("max_drawdown_days", "Max DD duration (days)", "int"),
            ("max_drawdown_money", "Max drawdown (money)", "money"),
            ("longest_drawdown_days", "Longest drawdown (days)", "int"),
            ("avg_drawdown_pct", "Avg drawdown", "pct"),
            ("avg_drawdown_days", "Avg drawdown days", "num"),
            ("recovery_factor", "Recovery factor", "ratio"),
            ("ulcer_index", "Ulcer index", "ratio"),
            ("var_95", "Daily VaR 95%", "pct"),
            ("cvar_95", "Daily CVaR 95%", "pct"),
            ("var_95_parametric", "Daily VaR 95% (normal)", "pct"),
            ("var_95_money", "Daily VaR 95% (money)", "money"),
            ("cvar_95_money", "Daily CVaR 95% (money)", "money"),
        ),
    ),
    (
        "Days, months, years",
        (
            ("best_day", "Best day", "pct"),
            ("worst_day", "Worst day", "pct"),
            ("best_day_money", "Best day (money)", "money"),
            ("best_day_date", "Best day date", "text"),
            ("worst_day_money", "Worst day (money)", "money"),
            ("worst_day_date", "Worst day date", "text"),
            ("best_month", "Best month", "pct"),
            ("worst_month", "Worst month", "pct"),
            ("best_year", "Best year", "pct"),
            ("worst_year", "Worst year", "pct"),
            ("win_rate_days", "Win days", "pct"),
            ("win_rate_months", "Win months", "pct"),
            ("win_rate_quarters", "Win quarters", "pct"),
            ("win_rate_years", "Win years", "pct"),
            ("avg_up_month", "Avg up month", "pct"),
            ("avg_down_month", "Avg down month", "pct"),
            ("avg_win_day_money", "Avg winning day", "money"),
            ("avg_loss_day_money", "Avg losing day", "money"),
            ("profit_factor_days", "Profit factor (days)", "ratio"),
            ("payoff_ratio_days", "Payoff ratio (days)", "ratio"),
            ("max_consecutive_win_days", "Max consecutive win days", "int"),
            ("max_consecutive_loss_days", "Max consecutive loss days", "int"),
        ),
    ),
)
TRADE_HEADLINE: tuple[tuple[str, str, str], ...] = (
    ("trades", "Trades (closed positions)", "int"),
    ("open_positions", "Open positions (not trades)", "int"),
    ("adjustments", "Adjustments inside positions", "int"),
    ("win_rate", "Win rate", "pct"),
    ("profit_factor_trades", "Profit factor", "ratio"),
    ("payoff_ratio_trades", "Payoff ratio", "ratio"),
    ("expectancy_trade", "Expectancy per trade", "money"),
    ("avg_win_trade", "Avg win", "money"),
    ("avg_loss_trade", "Avg loss", "money"),
    ("best_trade", "Best trade", "money"),
    ("worst_trade", "Worst trade", "money"),
    ("max_consecutive_wins", "Max consecutive wins", "int"),
    ("max_consecutive_losses", "Max consecutive losses", "int"),
    ("avg_days_held", "Avg days held", "num"),
    ("avg_minutes_held", "Avg minutes held", "num"),
    ("premium_sold", "Premium sold", "money"),
    ("premium_captured_pct", "Premium captured", "pct"),
    ("avg_mae", "Avg MAE", "money"),
    ("avg_mfe", "Avg MFE", "money"),
    ("excursion_basis", "MAE/MFE path basis", "text"),
)
COST_HEADLINE: tuple[tuple[str, str, str], ...] = (
    ("fees", "Fees", "money"),
    ("slippage_vs_mid", "Slippage vs mid", "money"),
    ("total_costs", "Total costs", "money"),
    ("gross_pnl_at_mid", "Gross PnL at mid, before fees", "money"),
    ("net_pnl", "Net PnL", "money"),
    ("cost_share_of_gross", "Costs as share of gross PnL", "pct"),
    ("cost_drag_annual", "Cost drag (per year, of the base amount)", "pct"),
    ("fills_without_mid", "Fills without a mid", "int"),
)


def _rows(values: dict[str, Any], spec: Iterable[tuple[str, str, str]]) -> list[tuple[str, str]]:
    return [(label, FORMATS[fmt](values.get(key))) for key, label, fmt in spec]


def _table(
    frame: pd.DataFrame, formats: dict[str, str], *, index: str | None = None
) -> dict[str, Any]:
    """Header and formatted cells; a cell's class is ``pos``/``neg`` for signed money/pct."""
    data = frame.reset_index() if index else frame
    if index:
        data = data.rename(columns={data.columns[0]: index})
    header = [str(c) for c in data.columns]
    rows = []
    for rec in data.itertuples(index=False):
        cells = []
        for col, value in zip(header, rec):
            fmt = formats.get(col, "text")
            cls = ""
            if (
                fmt in ("pct", "money")
                and isinstance(value, int | float | np.floating)
                and math.isfinite(float(value))
            ):
                cls = "pos" if value > 0 else "neg" if value < 0 else ""
            cells.append(
                (FORMATS[fmt](value if not isinstance(value, np.generic) else value.item()), cls)
            )
        rows.append(cells)
    return {"header": header, "rows": rows}


GROUP_FORMATS = {
    "count": "int",
    "pnl": "money",
    "mean": "money",
    "win_rate": "pct",
    "best": "money",
    "worst": "money",
}


def _flatten(prefix: str, value: Any, out: list[tuple[str, str]]) -> None:
    if isinstance(value, dict) and value:
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif isinstance(value, list | tuple) and value and all(isinstance(v, dict) for v in value):
        for i, v in enumerate(value):
            _flatten(f"{prefix}[{i}]", v, out)
    else:
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        out.append((prefix, text))


def _base_short(a: Analysis) -> str:
    """The capital base in a few words, for a label beside a return figure."""
    if a.capital_base == "margin":
        return f"peak margin {_money(a.base_amount)}"
    return f"capital {_money(a.capital)}"


def _base_text(a: Analysis) -> str:
    cur = f" {a.currency}" if a.currency else ""
    if a.capital_base == "margin":
        return f"returns on the peak margin {_money(a.base_amount)}{cur} (capital declared {_money(a.capital)})"
    return f"returns on a fixed capital of {_money(a.capital)}{cur}"


def short_money(value: float) -> str:
    """Money in a few characters for a small cell: ``845``, ``-2.7k``, ``22.3k``, ``1.23M``."""
    if value is None or not math.isfinite(value):
        return "–"
    size = abs(value)
    if size >= 1e6:
        text = f"{size / 1e6:.3g}M"
    elif size >= 1e3:
        text = f"{size / 1e3:.3g}k"
    else:
        text = f"{size:.0f}"
    return ("-" if value < 0 and text not in ("0",) else "") + text


#: The diverging scale of every coloured cell: loss (red) -> white -> gain (green).
_LOSS, _GAIN = (178, 24, 43), (27, 120, 55)


def heat_style(value: float, scale: float) -> str:
    """An inline ``background``/``color`` style for a cell of ``value`` on a scale whose ends
    are ``±scale`` (the deeper the colour, the larger the amount; white text on deep colour)."""
    if value is None or not math.isfinite(value) or not scale > 0:
        return ""
    t = max(-1.0, min(1.0, value / scale))
    end = _GAIN if t > 0 else _LOSS
    mix = 0.15 + 0.85 * abs(t) if t else 0.0
    rgb = tuple(round(255 + (c - 255) * mix) for c in end)
    ink = "#fff" if mix > 0.6 else "#222"
    return f"background:#{rgb[0]:02x}{rgb[1]:02x}{rgb[2]:02x};color:{ink}"


def _scale(values: Iterable[float]) -> float:
    """The colour scale of a set of amounts: the 95th percentile of their sizes."""
    arr = np.abs(np.asarray([v for v in values if v is not None], dtype=float))
    arr = arr[np.isfinite(arr) & (arr > 0)]
    return float(np.percentile(arr, 95)) if arr.size else 0.0


def _calendar(a: Analysis) -> dict[str, Any]:
    pnl = a.daily["pnl"]
    skipped = a.daily.get("skipped", None)
    grids = month_grids(pnl, skipped)
    scale = _scale(pnl[pnl != 0].to_numpy())
    months = []
    for g in grids:
        weeks = []
        for week in g.weeks:
            cells: list[dict[str, Any] | None] = []
            for cell in week:
                if cell is None:
                    cells.append(None)
                    continue
                title = cell.date.strftime("%a %d %b %Y")
                if not cell.in_run:
                    cells.append(
                        {
                            "day": cell.date.day,
                            "text": "",
                            "style": "",
                            "cls": "off",
                            "title": f"{title}: not a day of the run",
                        }
                    )
                elif cell.skipped and cell.pnl == 0:
                    cells.append(
                        {
                            "day": cell.date.day,
                            "text": "skip",
                            "style": "",
                            "cls": "skip",
                            "title": f"{title}: skipped",
                        }
                    )
                else:
                    cells.append(
                        {
                            "day": cell.date.day,
                            "text": short_money(cell.pnl) if cell.pnl else "0",
                            "style": heat_style(cell.pnl, scale),
                            "cls": "",
                            "title": f"{title}: {_money(cell.pnl)}",
                        }
                    )
            weeks.append(cells)
        months.append(
            {
                "label": g.label,
                "weekdays": [w[:2] for w in g.weekdays],
                "weeks": weeks,
                "total": _money(g.total),
                "total_cls": "pos" if g.total > 0 else "neg" if g.total < 0 else "",
                "days": g.days,
            }
        )
    total, count = weekday_by_month(pnl)
    wm_scale = _scale(total.to_numpy().ravel())
    heat = {
        "months": list(total.columns),
        "rows": [
            (
                day[:3],
                [
                    {
                        "text": short_money(total.loc[day, m]) if count.loc[day, m] else "",
                        "n": int(count.loc[day, m]),
                        "style": heat_style(total.loc[day, m], wm_scale)
                        if count.loc[day, m]
                        else "",
                        "title": f"{day}s in {m}: {_money(total.loc[day, m])} over {int(count.loc[day, m])} day(s)",
                    }
                    for m in total.columns
                ],
            )
            for day in total.index
        ],
    }
    return {"months": months, "scale": _money(scale), "weekday_month": heat}


def _buckets(grid: BucketGrid) -> dict[str, Any]:
    scale = _scale(grid.pnl.to_numpy().ravel())
    rows = []
    for row in grid.pnl.index:
        cells = []
        for col in grid.pnl.columns:
            n = int(grid.count.loc[row, col])
            pnl = float(grid.pnl.loc[row, col]) if n else math.nan
            cells.append(
                {
                    "text": short_money(pnl) if n else "",
                    "sub": f"{grid.win_rate.loc[row, col]:.0%} · {n}" if n else "",
                    "style": heat_style(pnl, scale) if n else "",
                    "title": f"{row}, DTE {col}: {n} trade(s), PnL {_money(pnl)}, win rate {grid.win_rate.loc[row, col]:.0%}"
                    if n
                    else "",
                }
            )
        rows.append((str(row), cells))
    return {
        "columns": [str(c) for c in grid.pnl.columns],
        "rows": rows,
        "unbucketed": grid.unbucketed,
        "empty": grid.empty,
    }


def _held(minutes: float, days: float) -> str:
    if minutes is None or not math.isfinite(minutes):
        return "–"
    if days and days >= 1:
        return f"{int(days)} d"
    hours, mins = divmod(round(minutes), 60)
    return f"{hours}h {mins:02d}m" if hours else f"{mins}m"


def _ts_parts(ts: Any) -> tuple[str, str]:
    if ts is None or ts is pd.NaT or (isinstance(ts, float) and math.isnan(ts)):
        return ("–", "")
    t = pd.Timestamp(ts)
    return (t.strftime("%Y-%m-%d"), t.strftime("%H:%M") if (t.hour or t.minute) else "")


def _legs_by_position(a: Analysis) -> dict[str, list[dict[str, Any]]]:
    """Each position's legs (rows of ``a.trade_legs`` as dicts), read once for every table of
    trades the tearsheet shows."""
    by_position: dict[str, list[dict[str, Any]]] = {}
    legs = a.trade_legs
    if len(legs):
        for rec in legs.to_dict(orient="records"):
            by_position.setdefault(str(rec["position"]), []).append(
                {str(k): v for k, v in rec.items()}
            )
    return by_position


def _trade_rows(
    a: Analysis,
    trades: pd.DataFrame,
    by_position: dict[str, list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """The trade log's rows: each position's figures and its legs in words (``by_position``:
    :func:`_legs_by_position` of ``a``)."""
    from workbench.analytics.tradelog import leg_text

    rows = []
    for t in trades.to_dict(orient="records"):
        entry_day = pd.Timestamp(t["entry_ts"]).normalize()
        pnl = t["pnl"]
        risk = t["max_risk"]
        premium = float(t["premium"])
        notes = []
        if t["adjustments"]:
            notes.append(f"adjustments: {t['adjustment_reasons'] or t['adjustments']}")
        if t["cycle"]:
            notes.append(
                f"re-entry {int(t['cycle'])}"
                if a.mode == "intraday"
                else f"cycle {int(t['cycle'])}"
            )
        rows.append(
            {
                "trade": t["trade"],
                "entry": _ts_parts(t["entry_ts"]),
                "exit": _ts_parts(t["exit_ts"]),
                "held": _held(t["minutes_held"], t["days_held"]),
                "premium": (
                    f"{abs(premium):,.2f}",
                    "credit" if premium > 0 else "debit" if premium < 0 else "",
                ),
                "pnl": (_money(pnl), "pos" if pnl > 0 else "neg" if pnl < 0 else ""),
                "pct_premium": _pct(t["pnl_pct_premium"]),
                "pct_risk": "unlimited" if risk == math.inf else _pct(t["pnl_pct_max_risk"]),
                "mae": _money(t["mae"]),
                "mfe": _money(t["mfe"]),
                "reason": t["exit_reason"] or ("open" if t["status"] == "open" else "–"),
                "legs": [
                    leg_text(leg, entry_day) for leg in by_position.get(str(t["position"]), [])
                ],
                "notes": "; ".join(notes),
                "open": t["status"] == "open",
            }
        )
    return rows


def _kpis(a: Analysis) -> list[tuple[str, str]]:
    m, tm = a.metrics, a.trade_metrics
    kpis = [
        ("Net PnL", _money(m.get("net_pnl"))),
        (f"CAGR on {_base_short(a)}", _pct(m.get("cagr"))),
        ("Sharpe (daily PnL)", _ratio(m.get("sharpe"))),
        (f"Max drawdown on {_base_short(a)}", _pct(m.get("max_drawdown_pct"))),
        ("Trades", _int(tm.get("trades"))),
        ("Win rate (trades)", _pct(tm.get("win_rate"))),
    ]
    peak = m.get("peak_margin")
    if isinstance(peak, float) and math.isfinite(peak):
        kpis.append((f"Return on peak margin {_money(peak)}", _pct(m.get("return_on_peak_margin"))))
    if a.benchmark is not None:
        kpis.append((f"Beta to {a.benchmark.name}", _ratio(m.get("beta"))))
    return kpis


def _margin_rows(a: Analysis) -> list[tuple[str, str]]:
    m = a.metrics
    cur = f" {a.currency}" if a.currency else ""
    rows = [
        ("Net PnL", f"{_money(m.get('net_pnl'))}{cur}"),
        (
            f"Return on declared capital ({_money(a.capital)}{cur})",
            _pct(m.get("return_on_capital")),
        ),
    ]
    peak, avg = m.get("peak_margin"), m.get("avg_margin")
    if isinstance(peak, float) and math.isfinite(peak):
        rows.append(
            (f"Return on peak margin ({_money(peak)}{cur})", _pct(m.get("return_on_peak_margin")))
        )
        rows.append(
            (
                f"Return on average margin ({_money(avg)}{cur}, days holding margin)",
                _pct(m.get("return_on_avg_margin")),
            )
        )
    else:
        models = a.manifest.get("models") or {}
        reason = (
            "the margin model gave no margin on any day"
            if isinstance(models, dict) and models.get("margin")
            else "no margin model in the run"
        )
        rows.append(("Return on margin", f"– ({reason})"))
    rows.append(("Cumulative return, CAGR and drawdown % are on", _base_text(a)))
    return rows


BENCHMARK_ROWS: tuple[tuple[str, str, str], ...] = (
    ("beta", "Beta", "ratio"),
    ("alpha", "Alpha (annualised)", "pct"),
    ("correlation", "Correlation (daily returns)", "ratio"),
    ("up_capture", "Up capture", "ratio"),
    ("down_capture", "Down capture", "ratio"),
    ("benchmark_total_return", "Buy-and-hold return", "pct"),
    ("benchmark_cagr", "Buy-and-hold CAGR", "pct"),
    ("benchmark_volatility", "Buy-and-hold volatility (ann.)", "pct"),
    ("benchmark_max_drawdown_pct", "Buy-and-hold max drawdown", "pct"),
    ("benchmark_days", "Days compared", "int"),
)


def run_title(manifest: dict[str, Any]) -> str:
    """A readable title from the manifest: template or strategy name (and version), run id."""
    parts: list[str] = []
    for key in ("template", "strategy"):
        value = manifest.get(key)
        if isinstance(value, dict) and value.get("name"):
            version = value.get("version")
            parts.append(
                f"{value['name']} v{version}" if version not in (None, "") else str(value["name"])
            )
            break
        if isinstance(value, str) and value:
            parts.append(value)
            break
    if manifest.get("run_id"):
        parts.append(str(manifest["run_id"]))
    return " · ".join(parts) or "Backtest"


def render_charts(
    analysis: Analysis,
    names: Sequence[str],
    dpi: int = ch.DPI,
    stats: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Draw ``names`` (registry order) as base64 PNGs; an unavailable chart keeps its reason,
    an omitted one is left out. ``stats`` (when given) receives each chart's drawing and
    rasterising time (``charts``: name -> seconds) and the totals ``draw_s``, ``png_s``."""
    figures: list[dict[str, Any]] = []
    timings: dict[str, float] = {}
    draw_s = png_s = 0.0
    for name in names:
        spec = ch.CHARTS.get(name, None)
        if spec is None:
            raise KeyError(f"unknown chart {name!r}; known: {', '.join(ch.CHARTS)}")
        t0 = time.perf_counter()
        try:
            fig = spec.func(analysis)
        except ch.ChartOmitted:
            continue
        except ch.ChartUnavailable as exc:
            figures.append(
                {
                    "name": name,
                    "title": spec.title,
                    "section": spec.section,
                    "png": None,
                    "reason": str(exc),
                }
            )
            continue
        t1 = time.perf_counter()
        png = ch.figure_png_base64(fig, dpi)
        t2 = time.perf_counter()
        draw_s += t1 - t0
        png_s += t2 - t1
        timings[name] = t2 - t0
        figures.append(
            {
                "name": name,
                "title": spec.title,
                "section": spec.section,
                "png": png,
                "reason": "",
            }
        )
    if stats is not None:
        stats["charts"] = timings
        stats["draw_s"] = draw_s
        stats["png_s"] = png_s
    return figures


#: Titles of the breakdown tables (keys of ``Analysis.breakdowns``).
BREAKDOWN_TITLES: dict[str, str] = {
    "exit_reason": "Exit reasons (closed trades)",
    "weekday_days": "Daily PnL by weekday",
    "weekday_trades": "Trade PnL by entry weekday",
    "month_of_year_days": "Daily PnL by calendar month",
    "expiry_kind": "Trade PnL by expiry cycle",
    "dte_at_entry": "Trade PnL by DTE at entry (calendar days)",
    "vix_regime_trades": "Trade PnL by VIX regime known at entry (previous close)",
    "vix_regime_days": "Daily PnL by VIX regime known that morning (previous close)",
    "entry_time": "Trade PnL by entry time (30-minute slot)",
    "cycle": "Trade PnL by re-entry cycle",
}
#: Breakdowns shown in the intraday section rather than with the others.
INTRADAY_BREAKDOWNS = ("entry_time", "cycle")
#: Best and worst trades listed above the full log.
EXTREME_TRADES = 5


def build_context(
    analysis: Analysis,
    *,
    title: str | None = None,
    charts: Sequence[str] | None = None,
    dpi: int = ch.DPI,
    trades_csv: str | None = TRADES_CSV,
    stats: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything the template needs: formatted tables and base64 PNG charts (plain strings).

    ``trades_csv`` is the link to the trade log file beside the page (``None``: no link);
    ``stats`` receives the chart timings (:func:`render_charts`)."""
    names = list(charts) if charts is not None else list(ch.CHARTS)
    figures = render_charts(analysis, names, dpi, stats)
    sections: dict[str, list[dict[str, Any]]] = {}
    for f in figures:
        sections.setdefault(f["section"], []).append(f)

    trades = analysis.trades
    closed = trades[trades["status"] == "closed"]
    best = (
        closed.sort_values("pnl", ascending=False).head(EXTREME_TRADES) if len(closed) else closed
    )
    worst = closed.sort_values("pnl").head(EXTREME_TRADES) if len(closed) else closed
    legs = _legs_by_position(analysis)
    manifest_rows: list[tuple[str, str]] = []
    _flatten("", analysis.manifest, manifest_rows)
    breakdown_titles = BREAKDOWN_TITLES
    mc_rows = []
    for key, res in analysis.monte_carlo.items():
        s = res.summary()
        mc_rows.append(
            [
                (key.replace("_", " "), ""),
                (_int(s["n_paths"]), ""),
                (_money(s.get("final_pnl_p5")), ""),
                (_money(s.get("final_pnl_p50")), ""),
                (_money(s.get("final_pnl_p95")), ""),
                (_money(s.get("max_drawdown_p5")), ""),
                (_money(s.get("max_drawdown_p50")), ""),
                (_pct(s.get("prob_loss")), ""),
                (_pct(s["prob_ruin"]), ""),
            ]
        )
    m = analysis.metrics
    mf = analysis.manifest
    name = title or run_title(mf)
    return {
        "title": name,
        "subtitle": f"{_text(m.get('start'))} to {_text(m.get('end'))} · {m.get('trading_days', 0)} trading days · {_base_text(analysis)}",
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "kpis": _kpis(analysis),
        "headline": [(section, _rows(m, spec)) for section, spec in HEADLINE],
        "trade_headline": _rows(analysis.trade_metrics, TRADE_HEADLINE),
        "cost_headline": _rows(analysis.costs, COST_HEADLINE),
        "cost_sensitivity": _table(
            analysis.cost_sensitivity,
            {
                "multiplier": "ratio",
                "costs": "amount",
                "net_pnl": "money",
                "return_on_base": "pct",
            },
        ),
        "worst_drawdowns": _table(
            analysis.worst_drawdowns,
            {"drawdown_pct": "pct", "drawdown_money": "money", "days": "int", "periods": "int"},
        ),
        "monthly_returns": _table(
            analysis.monthly_returns,
            dict.fromkeys(analysis.monthly_returns.columns, "pct"),
            index="year",
        ),
        "monthly_pnl": _table(
            analysis.monthly_pnl, dict.fromkeys(analysis.monthly_pnl.columns, "money"), index="year"
        ),
        "yearly": _table(
            analysis.yearly, {"return": "pct", "pnl": "money", "days": "int"}, index="year"
        ),
        "best_trades": _trade_rows(analysis, best, legs),
        "worst_trades": _trade_rows(analysis, worst, legs),
        "trade_log": _trade_rows(analysis, trades, legs),
        "trades_csv": trades_csv,
        "open_positions": int((trades["status"] == "open").sum()) if len(trades) else 0,
        "breakdowns": [
            (breakdown_titles.get(k, k), _table(v, GROUP_FORMATS, index="group"))
            for k, v in analysis.breakdowns.items()
            if k not in INTRADAY_BREAKDOWNS
        ],
        "intraday": {
            "run": analysis.mode == "intraday",
            "tables": [
                (breakdown_titles[k], _table(analysis.breakdowns[k], GROUP_FORMATS, index="group"))
                for k in INTRADAY_BREAKDOWNS
                if k in analysis.breakdowns
            ],
            "stop_outs": _table(
                analysis.stop_outs,
                {
                    "stop_orders": "int",
                    "legs_stopped": "int",
                    "exit_orders": "int",
                    "share_of_exits": "pct",
                },
                index="slot",
            )
            if len(analysis.stop_outs)
            else None,
        },
        "calendar": _calendar(analysis),
        "buckets": [
            (title, _buckets(analysis.buckets[key]))
            for key, title in (
                ("delta", "Main leg's |delta| at entry x DTE at entry"),
                ("moneyness", "Main leg's moneyness at entry (% out of the money) x DTE at entry"),
            )
            if key in analysis.buckets
        ],
        "margin_rows": _margin_rows(analysis),
        "benchmark": {
            "name": analysis.benchmark.name,
            "rows": _rows(m, BENCHMARK_ROWS),
        }
        if analysis.benchmark is not None
        else None,
        "vix_source": analysis.vix_source,
        "show_yearly_table": analysis.span_days >= 365,
        "monte_carlo": {
            "header": [
                "simulation",
                "paths",
                "final PnL p5",
                "final PnL p50",
                "final PnL p95",
                "max DD p5",
                "max DD p50",
                "P(loss)",
                "P(ruin)",
            ],
            "rows": mc_rows,
        },
        "sections": sections,
        "manifest": manifest_rows,
        "notes": analysis.notes,
    }


def _environment(template_dir: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir)),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "j2"), default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(
    analysis: Analysis,
    *,
    title: str | None = None,
    charts: Sequence[str] | None = None,
    template_dir: Path = TEMPLATE_DIR,
    trades_csv: str | None = TRADES_CSV,
    stats: dict[str, Any] | None = None,
) -> str:
    """The tearsheet as an HTML string (``stats``: see :func:`render_charts`; it also receives
    ``context_s``, everything before the template, and ``template_s``)."""
    t0 = time.perf_counter()
    context = build_context(
        analysis, title=title, charts=charts, trades_csv=trades_csv, stats=stats
    )
    t1 = time.perf_counter()
    html = _environment(template_dir).get_template(TEMPLATE_NAME).render(**context)
    if stats is not None:
        stats["context_s"] = t1 - t0
        stats["template_s"] = time.perf_counter() - t1
    return html


def write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (:mod:`workbench.data.atomic`: a temporary
    file in the same folder, fsynced, renamed; permissions as the umask gives)."""
    from workbench.data.atomic import write_bytes_atomic

    write_bytes_atomic(Path(path), text.encode("utf-8"))
    return path


def render_tearsheet(
    result_like: Any,
    out_path: str | Path,
    *,
    capital: float | None = None,
    capital_base: CapitalBaseKind = "auto",
    periods_per_year: float = 252,
    vix: pd.Series | pd.DataFrame | None = None,
    marks: pd.DataFrame | None = None,
    mc_seed: int = 0,
    mc_paths: int = 1000,
    analysis: Analysis | None = None,
    title: str | None = None,
    charts: Sequence[str] | None = None,
    write_trades: bool = True,
) -> Path:
    """Analyse ``result_like`` (unless ``analysis`` is given) and write the tearsheet to
    ``out_path`` atomically; returns the path. ``capital`` (money) is required without
    ``analysis``. With ``write_trades`` the full trade log is written beside it as
    :data:`TRADES_CSV` (one row per position) and linked from the page."""
    if analysis is None:
        if capital is None:
            raise ValueError(
                "render_tearsheet: capital (account capital in money) is required unless analysis= is given"
            )
        analysis = analyse(
            result_like,
            capital=capital,
            capital_base=capital_base,
            periods_per_year=periods_per_year,
            vix=vix,
            marks=marks,
            mc_seed=mc_seed,
            mc_paths=mc_paths,
        )
    out = Path(out_path)
    html = render_html(
        analysis, title=title, charts=charts, trades_csv=TRADES_CSV if write_trades else None
    )
    if write_trades:  # after the page rendered: a failed render leaves both files as they were
        from workbench.analytics.tradelog import write_trades_csv

        write_trades_csv(analysis.trades, out.parent / TRADES_CSV)
    return write_atomic(out, html)
