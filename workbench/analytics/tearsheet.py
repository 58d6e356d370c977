"""Self-contained HTML tearsheet: one file, images embedded as base64 PNG, no script, no URL.

``render_tearsheet`` analyses a run (or takes a ready ``Analysis``), draws every registered chart,
formats the tables and renders ``templates/report/tearsheet.html.j2`` with Jinja2 autoescaping on,
so a manifest value such as ``<script>`` is shown as text. The file is written atomically
(temporary file in the target folder, fsync, ``os.replace``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd

from workbench.analytics import charts as ch
from workbench.analytics.analysis import Analysis, analyse
from workbench.analytics.returns import CapitalBaseKind

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
TRADE_SHOWN = (
    "trade",
    "symbols",
    "entry_ts",
    "exit_ts",
    "dte_at_entry",
    "premium",
    "fees",
    "pnl",
    "mae",
    "mfe",
    "exit_reason",
)
TRADE_FORMATS = {
    "premium": "amount",
    "fees": "amount",
    "pnl": "money",
    "mae": "money",
    "mfe": "money",
    "dte_at_entry": "int",
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


def build_context(
    analysis: Analysis,
    *,
    title: str | None = None,
    charts: Sequence[str] | None = None,
    dpi: int = 90,
) -> dict[str, Any]:
    """Everything the template needs: formatted tables and base64 PNG charts (plain strings)."""
    names = list(charts) if charts is not None else list(ch.CHARTS)
    figures: list[dict[str, Any]] = []
    for name in names:
        spec = ch.CHARTS.get(name, None)
        if spec is None:
            raise KeyError(f"unknown chart {name!r}; known: {', '.join(ch.CHARTS)}")
        try:
            fig = spec.func(analysis)
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
        figures.append(
            {
                "name": name,
                "title": spec.title,
                "section": spec.section,
                "png": ch.figure_png_base64(fig, dpi),
                "reason": "",
            }
        )
    sections: dict[str, list[dict[str, Any]]] = {}
    for f in figures:
        sections.setdefault(f["section"], []).append(f)

    trades = analysis.trades
    closed = trades[trades["status"] == "closed"]
    best = closed.sort_values("pnl", ascending=False).head(10) if len(closed) else closed
    worst = closed.sort_values("pnl").head(10) if len(closed) else closed
    manifest_rows: list[tuple[str, str]] = []
    _flatten("", analysis.manifest, manifest_rows)
    breakdown_titles = {
        "exit_reason": "Exit reasons (closed trades)",
        "weekday_days": "Daily PnL by weekday",
        "weekday_trades": "Trade PnL by entry weekday",
        "month_of_year_days": "Daily PnL by calendar month",
        "expiry_kind": "Trade PnL by expiry cycle",
        "dte_at_entry": "Trade PnL by DTE at entry (calendar days)",
        "vix_regime_trades": "Trade PnL by VIX regime at entry",
        "vix_regime_days": "Daily PnL by VIX regime",
    }
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
        "kpis": [
            ("Net PnL", _money(m.get("net_pnl"))),
            (f"CAGR on {_base_short(analysis)}", _pct(m.get("cagr"))),
            ("Sharpe (daily PnL)", _ratio(m.get("sharpe"))),
            (f"Max drawdown on {_base_short(analysis)}", _pct(m.get("max_drawdown_pct"))),
            ("Trades", _int(analysis.trade_metrics.get("trades"))),
            ("Win rate (trades)", _pct(analysis.trade_metrics.get("win_rate"))),
        ],
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
        "best_trades": _table(best[list(TRADE_SHOWN)], TRADE_FORMATS),
        "worst_trades": _table(worst[list(TRADE_SHOWN)], TRADE_FORMATS),
        "breakdowns": [
            (breakdown_titles.get(k, k), _table(v, GROUP_FORMATS, index="group"))
            for k, v in analysis.breakdowns.items()
        ],
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
) -> str:
    """The tearsheet as an HTML string."""
    return (
        _environment(template_dir)
        .get_template(TEMPLATE_NAME)
        .render(**build_context(analysis, title=title, charts=charts))
    )


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
) -> Path:
    """Analyse ``result_like`` (unless ``analysis`` is given) and write the tearsheet to
    ``out_path`` atomically; returns the path. ``capital`` (money) is required without
    ``analysis``."""
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
    return write_atomic(Path(out_path), render_html(analysis, title=title, charts=charts))
