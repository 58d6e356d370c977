"""``analyse``: every table and figure a report needs, computed once from a run's results.

The ``Analysis`` it returns is plain data (pandas frames, dicts, ``MonteCarloResult``); the chart
registry and the tearsheet only read it. ``metrics_dict`` turns it into the JSON written to
``metrics.json`` (NaN and infinities become ``null``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd

from workbench.analytics import breakdowns as bd
from workbench.analytics import drawdowns as dds
from workbench.analytics import intraday as intra
from workbench.analytics import metrics as m
from workbench.analytics.benchmark import Benchmark, buy_and_hold, empty_metrics
from workbench.analytics.buckets import BucketGrid, bucket_grid
from workbench.analytics.inputs import RunData, coerce_run, run_mode
from workbench.analytics.montecarlo import MonteCarloResult, monte_carlo
from workbench.analytics.returns import (
    CapitalBaseKind,
    base_amount,
    daily_returns,
    resolve_capital_base,
    wealth_index,
)
from workbench.analytics.tradelog import trade_legs
from workbench.analytics.trades import ExpiryKindFn, default_expiry_kind, trade_table
from workbench.engine.metrics import headline

#: Figures of :func:`workbench.engine.metrics.headline` that the analysis reports as they are
SHARED_HEADLINE: tuple[str, ...] = (
    "sharpe",
    "total_return",
    "cagr",
    "volatility",
    "max_drawdown_pct",
    "capital_base",
    "base_amount",
)

#: Cost multipliers of the cost-sensitivity table (1.0 = the costs actually paid).
COST_MULTIPLIERS: tuple[float, ...] = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)
GREEK_COLUMNS: tuple[str, ...] = ("delta", "gamma", "vega", "theta", "margin")


@dataclass(frozen=True, repr=False)
class Analysis:
    """Precomputed results of one run.

    Units: ``returns`` fractions per period against ``capital_base``; ``equity`` money
    (cumulative PnL, 0 before the first day); ``wealth`` the index ``cumprod(1 + r)``;
    ``drawdown_pct`` fraction (<= 0); ``drawdown_money`` money (<= 0). ``metrics``,
    ``trade_metrics`` and ``costs`` map stable keys to numbers (NaN where undefined), dates or
    strings.
    """

    run: RunData
    capital: float
    capital_base: str
    periods_per_year: float
    returns: pd.Series
    wealth: pd.Series
    equity: pd.Series
    drawdown_pct: pd.Series
    drawdown_money: pd.Series
    rolling_sharpe: pd.Series
    metrics: dict[str, Any]
    worst_drawdowns: pd.DataFrame
    monthly_returns: pd.DataFrame
    monthly_pnl: pd.DataFrame
    yearly: pd.DataFrame
    trades: pd.DataFrame
    trade_metrics: dict[str, Any]
    breakdowns: dict[str, pd.DataFrame]
    costs: dict[str, float]
    cost_sensitivity: pd.DataFrame
    greeks: pd.DataFrame
    monte_carlo: dict[str, MonteCarloResult]
    vix: pd.Series | None = None
    notes: list[str] = field(default_factory=list)
    currency: str = ""
    base_amount: float = math.nan
    #: ``"intraday"`` or ``"positional"`` (a basket of both: ``"mixed"``)
    mode: str = "intraday"
    #: one row per leg of every position (:func:`workbench.analytics.tradelog.trade_legs`)
    trade_legs: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: buy-and-hold of the underlying (:mod:`workbench.analytics.benchmark`), or None
    benchmark: Benchmark | None = None
    #: each day's mark-to-market path (:mod:`workbench.analytics.intraday`), or None
    intraday: pd.DataFrame | None = None
    #: optopsy-style buckets: ``"delta"`` and ``"moneyness"`` x DTE
    buckets: dict[str, BucketGrid] = field(default_factory=dict)
    #: stop-outs by time of day (:func:`workbench.analytics.intraday.stop_outs_by_time`)
    stop_outs: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: what the VIX-like series is (its name and where it came from), "" without one
    vix_source: str = ""

    @property
    def span_days(self) -> int:
        """Calendar days from the first to the last day of the daily path (0 when empty)."""
        if self.daily.empty:
            return 0
        return int((self.daily.index[-1] - self.daily.index[0]).days)

    @property
    def months(self) -> int:
        """Calendar months the daily path touches."""
        idx = pd.DatetimeIndex(self.daily.index)
        return len(set(zip(idx.year, idx.month)))

    def __repr__(self) -> str:
        m = self.metrics
        return (
            f"Analysis({m.get('start')}..{m.get('end')}, {m.get('trading_days')} days, "
            f"{self.trade_metrics.get('trades')} trades, net_pnl={m.get('net_pnl', 0):,.2f}, "
            f"sharpe={m.get('sharpe', float('nan')):.2f}, base={self.capital_base} "
            f"{self.base_amount:,.2f})"
        )

    @property
    def daily(self) -> pd.DataFrame:
        return self.run.daily

    @property
    def tradebook(self) -> pd.DataFrame:
        return self.run.tradebook

    @property
    def manifest(self) -> dict[str, Any]:
        return self.run.manifest


@dataclass(frozen=True)
class RunFrames:
    """A tradebook, a daily path and a manifest passed separately."""

    tradebook: Any
    daily: Any
    manifest: dict[str, Any]


def resolve_currency(manifest: dict[str, Any], tradebook: pd.DataFrame) -> str:
    """The account currency: ``manifest["currency"]`` when given, else the instrument spec's
    currency for the run's underlying (manifest ``underlying`` or the tradebook's), else ""."""
    declared = manifest.get("currency")
    if isinstance(declared, str) and declared:
        return declared
    names: list[str] = []
    if isinstance(manifest.get("underlying"), str):
        names.append(manifest["underlying"])
    if not tradebook.empty and "underlying" in tradebook.columns:
        names.extend(str(u) for u in tradebook["underlying"].dropna().unique())
    from workbench.model.instruments import get_instrument

    currencies = set()
    for name in names:
        try:
            currencies.add(get_instrument(name).currency)
        except KeyError:
            continue
    return currencies.pop() if len(currencies) == 1 else ""


def _vix_levels(vix: pd.Series | pd.DataFrame) -> pd.Series:
    """A VIX-like level by date: a Series indexed by date, or a frame with a ``close`` column
    (indexed by date or with a ``date``/``ts`` column, e.g. an OHLC spot file)."""
    if isinstance(vix, pd.DataFrame):
        frame = vix
        for col in ("date", "ts"):
            if col in frame.columns:
                frame = frame.set_index(col)
                break
        if "close" not in frame.columns:
            raise ValueError(
                f"vix: a frame needs a 'close' column (have: {', '.join(map(str, frame.columns))})"
            )
        series = frame["close"]
    else:
        series = pd.Series(vix)
    try:
        values = pd.to_numeric(series, errors="raise").astype(float)
        index = pd.DatetimeIndex(pd.to_datetime(series.index)).normalize()
    except (ValueError, TypeError) as exc:
        raise ValueError(f"vix: levels must be numbers indexed by date ({exc})") from exc
    out = pd.Series(values.to_numpy(), index=index, name="vix")
    # intraday bars: the last level of each day
    return out[~out.index.duplicated(keep="last")].sort_index()


def _trailing(returns: pd.Series, ppy: float) -> dict[str, float]:
    out: dict[str, float] = {}
    if returns.empty:
        return {
            k: math.nan for k in ("mtd", "3m", "6m", "ytd", "1y", "3y_ann", "5y_ann", "10y_ann")
        }
    last = pd.Timestamp(returns.index[-1])
    r = returns.fillna(0.0)

    def since(start: pd.Timestamp) -> float:
        return m.total_return(r[r.index > start])

    out["mtd"] = since(last.replace(day=1) - pd.Timedelta(days=1))
    out["3m"] = since(last - pd.DateOffset(months=3))
    out["6m"] = since(last - pd.DateOffset(months=6))
    out["ytd"] = since(pd.Timestamp(last.year - 1, 12, 31))
    out["1y"] = since(last - pd.DateOffset(years=1))
    first = pd.Timestamp(returns.index[0])
    for years in (3, 5, 10):
        start = last - pd.DateOffset(years=years)
        # annualised only over a full window of history
        out[f"{years}y_ann"] = (
            m.cagr(r[r.index > start], ppy) if first <= start + pd.Timedelta(days=7) else math.nan
        )
    return out


def _return_metrics(
    daily: pd.DataFrame, returns: pd.Series, wealth: pd.Series, ppy: float, capital: float
) -> dict[str, Any]:
    pnl = daily["pnl"]
    r = returns.dropna()
    n = len(daily)
    periods = dds.drawdown_periods(wealth, "ratio")
    money_periods = dds.drawdown_periods(daily["equity"], "diff")
    worst = periods.iloc[0] if len(periods) else None
    worst_money = money_periods.iloc[0] if len(money_periods) else None
    monthly = bd.monthly_returns(returns)
    month_values: np.ndarray = (
        monthly.drop(columns="Year").to_numpy(dtype=float).ravel()
        if not monthly.empty
        else np.zeros(0)
    )
    month_values = month_values[np.isfinite(month_values)]
    quarters: np.ndarray = np.zeros(0)
    if len(returns):
        qidx = pd.DatetimeIndex(returns.index)
        quarters = (
            (1.0 + returns.fillna(0.0)).groupby([qidx.year, qidx.quarter]).prod() - 1.0
        ).to_numpy()
    years: np.ndarray = monthly["Year"].to_numpy(dtype=float) if not monthly.empty else np.zeros(0)
    in_market = (daily["open_legs"].fillna(0) > 0) | (daily["fills"].fillna(0) > 0)
    mdd = float(periods["drawdown"].min()) if len(periods) else 0.0
    net = float(pnl.sum())
    out: dict[str, Any] = {
        "start": daily.index[0].date() if n else None,
        "end": daily.index[-1].date() if n else None,
        "trading_days": n,
        "skipped_days": int(daily["skipped"].sum()) if n else 0,
        "time_in_market": float(in_market.mean()) if n else math.nan,
        "capital": capital,
        "capital_base": "",
        "base_amount": math.nan,
        "net_pnl": net,
        "total_return": m.total_return(r) if len(r) else 0.0,
        "cagr": m.cagr(r, ppy),
        "volatility": m.volatility(r, ppy),
        "sharpe": m.sharpe(r, ppy),
        "sortino": m.sortino(r, ppy),
        "sortino_sqrt2": m.sortino(r, ppy) / math.sqrt(2.0),
        "smart_sharpe": m.smart_sharpe(r, ppy),
        "smart_sortino": m.smart_sortino(r, ppy),
        "probabilistic_sharpe": m.probabilistic_sharpe(r),
        "serenity_index": m.serenity_index(r),
        "cpc_index": m.cpc_index(pnl),
        "calmar": m.calmar(r, ppy),
        "omega": m.omega(r),
        "max_drawdown_pct": mdd,
        "max_drawdown_peak": worst["peak"].date() if worst is not None else None,
        "max_drawdown_valley": worst["valley"].date() if worst is not None else None,
        "max_drawdown_recovery": worst["recovery"].date()
        if worst is not None and worst["recovered"]
        else None,
        "max_drawdown_days": int(worst["days"]) if worst is not None else 0,
        "max_drawdown_money": float(worst_money["drawdown"]) if worst_money is not None else 0.0,
        "max_drawdown_money_peak": worst_money["peak"].date() if worst_money is not None else None,
        "max_drawdown_money_valley": worst_money["valley"].date()
        if worst_money is not None
        else None,
        "longest_drawdown_days": int(periods["days"].max()) if len(periods) else 0,
        "drawdown_count": len(periods),
        "avg_drawdown_pct": float(periods["drawdown"].mean()) if len(periods) else 0.0,
        "avg_drawdown_days": float(periods["days"].mean()) if len(periods) else 0.0,
        "recovery_factor": net / abs(float(worst_money["drawdown"]))
        if worst_money is not None
        else math.nan,
        "ulcer_index": m.ulcer_index(r),
        "skew": m.skew(r),
        "kurtosis": m.kurtosis(r),
        "var_95": m.var_historical(r),
        "cvar_95": m.cvar_historical(r),
        "var_95_parametric": m.var_parametric(r),
        "var_95_money": m.var_historical(pnl),
        "cvar_95_money": m.cvar_historical(pnl),
        "tail_ratio": m.tail_ratio(r),
        "common_sense_ratio": m.common_sense_ratio(r),
        "gain_to_pain": m.gain_to_pain(r),
        "outlier_win_ratio": m.outlier_win_ratio(r),
        "outlier_loss_ratio": m.outlier_loss_ratio(r),
        "kelly": m.kelly(r),
        "risk_of_ruin_formula": m.risk_of_ruin(r),
        "expected_daily": (1.0 + m.total_return(r)) ** (1.0 / len(r)) - 1.0
        if len(r) and m.total_return(r) > -1
        else math.nan,
        "expected_monthly": (1.0 + m.total_return(month_values)) ** (1.0 / len(month_values)) - 1.0
        if len(month_values) and m.total_return(month_values) > -1
        else math.nan,
        "expected_yearly": (1.0 + m.total_return(years)) ** (1.0 / len(years)) - 1.0
        if len(years) and m.total_return(years) > -1
        else math.nan,
        "best_day": float(r.max()) if len(r) else math.nan,
        "worst_day": float(r.min()) if len(r) else math.nan,
        "best_day_money": float(pnl.max()) if n else math.nan,
        "best_day_date": daily.index[int(np.argmax(pnl.to_numpy()))].date() if n else None,
        "worst_day_money": float(pnl.min()) if n else math.nan,
        "worst_day_date": daily.index[int(np.argmin(pnl.to_numpy()))].date() if n else None,
        "best_month": float(month_values.max()) if len(month_values) else math.nan,
        "worst_month": float(month_values.min()) if len(month_values) else math.nan,
        "best_year": float(years.max()) if len(years) else math.nan,
        "worst_year": float(years.min()) if len(years) else math.nan,
        "win_rate_days": m.win_rate(pnl),
        "win_rate_months": m.win_rate(month_values),
        "win_rate_quarters": m.win_rate(quarters),
        "win_rate_years": m.win_rate(years),
        "avg_up_month": m.avg_win(month_values),
        "avg_down_month": m.avg_loss(month_values),
        "avg_win_day_money": m.avg_win(pnl),
        "avg_loss_day_money": m.avg_loss(pnl),
        "profit_factor_days": m.profit_factor(pnl),
        "payoff_ratio_days": m.payoff_ratio(pnl),
        "max_consecutive_win_days": m.max_consecutive(pnl, positive=True),
        "max_consecutive_loss_days": m.max_consecutive(pnl, positive=False),
    }
    for key, value in _trailing(returns, ppy).items():
        out[f"return_{key}"] = value
    return out


def _trade_metrics(trades: pd.DataFrame) -> dict[str, Any]:
    closed = trades[trades["status"] == "closed"]
    pnl = closed["pnl"].astype(float)
    credit = closed[closed["premium"].astype(float) > 0]
    sequence = pnl.to_numpy()
    return {
        # the one trade model (workbench.engine.positions): trades are closed positions, open
        # positions are reported apart, adjustments are counted inside positions
        "trades": len(closed),
        "open_positions": int((trades["status"] == "open").sum()),
        "adjustments": int(trades["adjustments"].astype(int).sum()) if len(trades) else 0,
        # as the headline's: winning closed positions over all closed positions
        "win_rate": float((sequence > 0).mean()) if sequence.size else math.nan,
        "profit_factor_trades": m.profit_factor(sequence),
        "payoff_ratio_trades": m.payoff_ratio(sequence),
        "expectancy_trade": float(sequence.mean()) if sequence.size else math.nan,
        "avg_win_trade": m.avg_win(sequence),
        "avg_loss_trade": m.avg_loss(sequence),
        "best_trade": float(sequence.max()) if sequence.size else math.nan,
        "worst_trade": float(sequence.min()) if sequence.size else math.nan,
        "max_consecutive_wins": m.max_consecutive(sequence, positive=True),
        "max_consecutive_losses": m.max_consecutive(sequence, positive=False),
        "avg_days_held": float(closed["days_held"].astype(float).mean())
        if len(closed)
        else math.nan,
        "avg_minutes_held": float(closed["minutes_held"].astype(float).mean())
        if len(closed)
        else math.nan,
        "premium_sold": float(credit["premium"].sum()),
        "premium_captured_pct": float(credit["pnl"].sum() / credit["premium"].sum())
        if len(credit)
        else math.nan,
        "avg_mae": float(closed["mae"].astype(float).mean()) if len(closed) else math.nan,
        "avg_mfe": float(closed["mfe"].astype(float).mean()) if len(closed) else math.nan,
        "excursion_basis": ", ".join(sorted(set(closed["excursion_basis"]))) if len(closed) else "",
    }


def _costs(
    tradebook: pd.DataFrame, net_pnl: float, capital: float, n_days: int, ppy: float
) -> tuple[dict[str, float], pd.DataFrame]:
    """Fees, slippage versus the mid (fills without a mid, such as settlements at intrinsic
    value, count no slippage) and net PnL as costs scale; ``capital`` is the base amount."""
    if tradebook.empty:
        fees = slippage = 0.0
        no_mid = 0
    else:
        fees = float(tradebook["fees"].sum())
        mid = tradebook["mid"].to_numpy(dtype=float)
        ok = np.isfinite(mid)
        no_mid = int((~ok).sum())
        slippage = float(
            np.sum(
                tradebook["signed_units"].to_numpy()[ok]
                * (tradebook["price"].to_numpy()[ok] - mid[ok])
            )
        )
    total = fees + slippage
    gross = net_pnl + total
    costs = {
        "fees": fees,
        "slippage_vs_mid": slippage,
        "total_costs": total,
        "gross_pnl_at_mid": gross,
        "net_pnl": net_pnl,
        "cost_share_of_gross": total / gross if gross > 0 else math.nan,
        "cost_drag_annual": total / capital * ppy / n_days if n_days else math.nan,
        "fills_without_mid": float(no_mid),
    }
    table = pd.DataFrame(
        {
            "multiplier": COST_MULTIPLIERS,
            "costs": [k * total for k in COST_MULTIPLIERS],
            "net_pnl": [gross - k * total for k in COST_MULTIPLIERS],
        }
    )
    table["return_on_base"] = table["net_pnl"] / capital
    return costs, table


def analyse(
    result_like: Any,
    daily: pd.DataFrame | None = None,
    manifest: dict[str, Any] | None = None,
    *,
    capital: float,
    capital_base: CapitalBaseKind = "auto",
    periods_per_year: float = 252,
    vix: pd.Series | pd.DataFrame | None = None,
    marks: pd.DataFrame | None = None,
    mc_seed: int = 0,
    mc_paths: int = 1000,
    ruin_fraction: float = 1.0,
    expiry_kind: ExpiryKindFn | Literal["default"] | None = "default",
    rolling_window: int | None = None,
    worst_n: int = 10,
    benchmark: pd.Series | Literal["daily"] | None = "daily",
    benchmark_name: str | None = None,
    intraday: pd.DataFrame | None = None,
    vix_source: str = "",
) -> Analysis:
    """Analyse a run.

    Parameters
    ----------
    result_like : an object with ``.tradebook``, ``.daily``, ``.manifest``, a ``RunData`` or a
        saved run folder; or the tradebook itself when ``daily`` is given.
    daily, manifest : the daily path and manifest, when ``result_like`` is a tradebook.
    capital : account capital in money (> 0): the ``fixed`` base and the Monte Carlo ruin level.
    capital_base : ``"fixed"``, ``"margin"`` or ``"auto"`` (``workbench.analytics.returns``).
    periods_per_year : periods per year of the daily path (252 for trading days).
    vix : optional VIX-like level: a Series indexed by date, or a frame with ``close`` (and a
        ``date``/``ts`` column or a date index); adds the volatility-regime breakdowns.
    marks : optional per-leg open-PnL path ``(trade_id, ts, pnl)`` for MAE/MFE.
    mc_seed, mc_paths : seed and path count of every Monte Carlo simulation.
    ruin_fraction : loss (fraction of capital) that counts as ruin in the Monte Carlo.
    expiry_kind : ``f(underlying, expiry) -> "weekly"|"monthly"``; ``"default"`` uses the model
        layer's calendars when available, ``None`` labels every expiry "unknown".
    rolling_window : periods of the rolling Sharpe (default a quarter: ``ppy / 4``).
    worst_n : rows of the worst-drawdowns table.
    benchmark : the underlying's daily closes by date (from the dataset, with the close before
        the run's first day) for buy-and-hold (:mod:`workbench.analytics.benchmark`);
        ``"daily"`` takes the daily path's ``spot_close`` (the first day then has no earlier
        close and is left out, said in the notes); ``None`` for none.
    benchmark_name : what the benchmark is called (default: the manifest's underlying).
    intraday : each day's mark-to-market path (``day, ts, pnl``:
        :mod:`workbench.analytics.intraday`), for the intraday charts.
    vix_source : what ``vix`` is, for the page (e.g. ``"INDIAVIX from data/indiavix"``).
    """
    if not (isinstance(periods_per_year, int | float) and periods_per_year > 0):
        raise ValueError(f"periods_per_year must be > 0, got {periods_per_year!r}")
    if daily is not None:
        run = coerce_run(RunFrames(result_like, daily, dict(manifest or {})))
    elif manifest is not None:
        raise ValueError(
            "analyse: manifest= given without daily=; pass (tradebook, daily, manifest)"
        )
    else:
        run = coerce_run(result_like)
    daily = run.daily
    notes: list[str] = []
    base = resolve_capital_base(daily, capital_base)
    start_value = base_amount(daily, capital=capital, base=base)
    returns = daily_returns(daily, capital=capital, base=base)
    if returns.isna().any():
        first = returns.index[returns.isna().to_numpy()][0]
        notes.append(
            f"account value reached zero before {first.date()}: later returns are undefined and left out"
        )
    wealth = wealth_index(returns)
    equity = daily["equity"].rename("equity")
    metrics = _return_metrics(daily, returns, wealth, periods_per_year, capital)
    # the headline figures are the engine's, computed once (workbench.engine.metrics): the
    # tearsheet, metrics.json, the index and the command line show the same numbers
    mode = run_mode(run.manifest, run.tradebook)
    head = headline(daily, run.tradebook, mode=mode, capital=capital, capital_base=base)
    for key in SHARED_HEADLINE:
        metrics[key] = head[key] if head[key] is not None else math.nan
    # a quarter of days by default; a month when the run is shorter than two quarters
    quarter = max(round(periods_per_year / 4), 2)
    window = rolling_window or (
        quarter if len(daily) >= 2 * quarter else max(round(quarter / 3), 2)
    )
    roll = daily["pnl"].rolling(window)  # the headline Sharpe's definition, on daily PnL
    with np.errstate(divide="ignore", invalid="ignore"):
        rolling = roll.mean() / roll.std() * math.sqrt(periods_per_year)
    # a flat window has no Sharpe: NaN, not inf
    rolling_sharpe = rolling.where(np.isfinite(rolling)).rename("rolling_sharpe")

    kind_fn = default_expiry_kind() if expiry_kind == "default" else expiry_kind
    legs = trade_legs(run.tradebook, mode)
    trades = trade_table(
        run.tradebook,
        daily,
        marks=marks,
        expiry_kind=kind_fn,
        excursions=run.excursions,
        entries=run.entries,
        mode=mode,
        legs=legs,
    )
    if len(trades) and (trades["expiry_kind"] == "unknown").all():
        notes.append(
            "expiry cycle unknown: no expiry calendar was available to label weekly/monthly"
        )
    if len(trades) and (trades["excursion_basis"] == "fills").any():
        notes.append(
            "MAE/MFE of some trades use only their entry and exit (no mark path was supplied)"
        )

    breakdowns: dict[str, pd.DataFrame] = {
        "weekday_days": bd.by_weekday(daily["pnl"]),
        "month_of_year_days": bd.by_month_of_year(daily["pnl"]),
        "weekday_trades": bd.by_entry_weekday(trades),
        "exit_reason": bd.by_exit_reason(trades),
        "expiry_kind": bd.by_expiry_kind(trades),
        "dte_at_entry": bd.by_dte(trades),
    }
    intraday_run = mode == "intraday"
    if intraday_run and len(trades):
        breakdowns["entry_time"] = intra.by_entry_time(trades)
        if (pd.to_numeric(trades["cycle"], errors="coerce").fillna(0) > 0).any():
            breakdowns["cycle"] = intra.by_cycle(trades)
    vix_series = None
    if vix is not None:
        vix_series = _vix_levels(vix)
        breakdowns["vix_regime_trades"] = bd.by_vix_regime_trades(trades, vix_series)
        breakdowns["vix_regime_days"] = bd.by_vix_regime_days(daily["pnl"], vix_series)

    metrics.update(_margin_returns(head, capital, float(daily["pnl"].sum()), len(daily)))
    bench = _benchmark(benchmark, benchmark_name, run, returns, periods_per_year, notes)
    metrics.update(bench.metrics if bench is not None else empty_metrics())
    paths = None
    if intraday is not None:
        missing = set(intra.PATH_COLUMNS) - set(intraday.columns)
        if missing:
            raise ValueError(
                f"intraday: missing column(s) {', '.join(sorted(missing))} (need day, ts, pnl)"
            )
        paths = intraday[list(intra.PATH_COLUMNS)].copy()

    costs, sensitivity = _costs(
        run.tradebook, float(daily["pnl"].sum()), start_value, len(daily), periods_per_year
    )
    greeks = daily[[c for c in GREEK_COLUMNS if c in daily.columns]].copy()

    mc: dict[str, MonteCarloResult] = {}
    pnl = daily["pnl"].to_numpy(dtype=float)
    closed_pnl = trades.loc[trades["status"] == "closed", "pnl"].to_numpy(dtype=float)
    common: dict[str, Any] = {
        "n_paths": mc_paths,
        "seed": mc_seed,
        "capital": capital,
        "ruin_fraction": ruin_fraction,
    }
    if pnl.size >= 2:
        mc["daily_bootstrap"] = monte_carlo(pnl, method="bootstrap", source="daily", **common)
        mc["daily_shuffle"] = monte_carlo(pnl, method="shuffle", source="daily", **common)
        mc["daily_parametric"] = monte_carlo(pnl, method="parametric", source="daily", **common)
    if closed_pnl.size >= 2:
        mc["trades_bootstrap"] = monte_carlo(
            closed_pnl, method="bootstrap", source="trades", **common
        )
        mc["trades_shuffle"] = monte_carlo(closed_pnl, method="shuffle", source="trades", **common)
    if not mc:
        notes.append("Monte Carlo skipped: fewer than 2 days and fewer than 2 closed trades")
    if len(daily) == 0:
        notes.append("the daily path is empty: nothing to analyse")
    elif len(trades) == 0:
        notes.append("no trades in this run")
    skipped = daily[daily["skipped"]]
    if len(skipped):
        reasons = (
            skipped["skip_reason"].fillna("").astype(str) if "skip_reason" in skipped else None
        )
        counts = (
            reasons.replace("", "no reason given")
            if reasons is not None
            else pd.Series("no reason given", index=skipped.index)
        ).value_counts()
        listed = ", ".join(f"{reason} ({n})" for reason, n in counts.items())
        notes.append(f"{len(skipped)} of {len(daily)} days skipped: {listed}")
    notes.extend(_settlement_notes(run.tradebook))
    refused = float(daily["refused_fills"].fillna(0).sum())
    if refused:
        notes.append(f"{refused:.0f} fill(s) refused by the engine (see days.csv)")
    notes.extend(constraint_notes(run))

    return Analysis(
        run=run,
        capital=float(capital),
        capital_base=base,
        periods_per_year=float(periods_per_year),
        returns=returns,
        wealth=wealth,
        equity=equity,
        drawdown_pct=dds.drawdown_series(wealth, "ratio"),
        drawdown_money=dds.drawdown_series(equity, "diff"),
        rolling_sharpe=rolling_sharpe,
        metrics=metrics,
        worst_drawdowns=dds.worst_drawdowns(wealth, equity, worst_n),
        monthly_returns=bd.monthly_returns(returns),
        monthly_pnl=bd.monthly_pnl(daily["pnl"]),
        yearly=bd.yearly(returns, daily["pnl"]),
        trades=trades,
        trade_metrics=_trade_metrics(trades),
        breakdowns=breakdowns,
        costs=costs,
        cost_sensitivity=sensitivity,
        greeks=greeks,
        monte_carlo=mc,
        vix=vix_series,
        notes=notes,
        currency=resolve_currency(run.manifest, run.tradebook),
        base_amount=start_value,
        mode=mode if isinstance(mode, str) else _basket_mode(mode),
        trade_legs=legs,
        benchmark=bench,
        intraday=paths,
        buckets={
            "delta": bucket_grid(trades, "delta"),
            "moneyness": bucket_grid(trades, "moneyness"),
        }
        if len(trades)
        else {},
        stop_outs=intra.stop_outs_by_time(legs) if intraday_run else pd.DataFrame(),
        vix_source=vix_source if vix is not None else "",
    )


def _basket_mode(modes: dict[str, str]) -> str:
    kinds = set(modes.values())
    return kinds.pop() if len(kinds) == 1 else "mixed"


def _margin_returns(head: dict[str, Any], capital: float, net: float, days: int) -> dict[str, Any]:
    """Return on the declared capital beside return on the margin the run held (the headline's
    ``peak_margin``, ``avg_margin``, ``return_on_peak_margin``), each on its own base."""
    peak, avg = head.get("peak_margin"), head.get("avg_margin")
    return {
        "return_on_capital": net / capital if capital else math.nan,
        "peak_margin": peak if peak is not None else math.nan,
        "avg_margin": avg if avg is not None else math.nan,
        "return_on_peak_margin": head["return_on_peak_margin"]
        if head.get("return_on_peak_margin") is not None
        else math.nan,
        "return_on_avg_margin": net / avg if avg else math.nan,
    }


def _benchmark(
    benchmark: pd.Series | Literal["daily"] | None,
    name: str | None,
    run: RunData,
    returns: pd.Series,
    ppy: float,
    notes: list[str],
) -> Benchmark | None:
    if benchmark is None or returns.empty:
        return None
    label = name or str(run.manifest.get("underlying") or "the underlying")
    if isinstance(benchmark, str):
        if benchmark != "daily":
            raise ValueError(
                f"benchmark must be a Series of closes, 'daily' or None, got {benchmark!r}"
            )
        closes = run.daily["spot_close"].dropna()
        if len(closes) < 3:
            return None
        notes.append(
            f"benchmark: buy-and-hold of {label} from the daily path's closes; the first day has "
            "no earlier close and is left out"
        )
    else:
        closes = benchmark
    result = buy_and_hold(label, closes, returns, ppy)
    return result if result.metrics["benchmark_days"] else None


def jsonable(value: Any) -> Any:
    """``value`` with NaN/inf -> None, NumPy scalars -> Python, dates -> ISO strings, frames ->
    records, recursively."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, pd.DataFrame):
        return [jsonable(r) for r in value.reset_index().to_dict(orient="records")]
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp | datetime | date):
        return value.isoformat()
    if isinstance(value, bool | int | str):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def constraint_notes(run: RunData) -> list[str]:
    """One note per portfolio constraint that refused orders ("refused by
    max_open_positions: 12"), from the engine's ``refused_by_constraint`` metric, and the
    run's active constraints (the manifest's ``constraints``)."""
    counts = (run.saved_metrics or {}).get("refused_by_constraint") or {}
    active = run.manifest.get("constraints") or {}
    if not counts and not active:
        return []
    out = []
    if active:
        listed = ", ".join(
            name
            if value is True
            else f"{name} = {value:g}"
            if isinstance(value, float)
            else f"{name} = {value}"
            for name, value in active.items()
        )
        out.append(f"portfolio constraints enforced before every opening fill: {listed}")
    for name, n in sorted(counts.items()):
        out.append(f"refused by {name}: {int(n)} order(s) (days.csv, constraint_refusals)")
    return out


def _settlement_notes(tradebook: pd.DataFrame) -> list[str]:
    """Settlements the engine valued at the last spot before a settlement session without data
    (``settle/last-spot``): flagged, with the expiries and the spot used."""
    if tradebook is None or "fill_model" not in tradebook or not len(tradebook):
        return []
    stale = tradebook[tradebook["fill_model"] == "settle/last-spot"]
    if not len(stale):
        return []
    parts = []
    for (day, expiry), rows in stale.groupby(["day", "expiry"], sort=True):
        on, exp = pd.Timestamp(str(day)).date(), pd.Timestamp(str(expiry)).date()
        parts.append(f"{exp} on {on} at {float(rows['spot'].iloc[0]):g} ({len(rows)} legs)")
    return [
        f"{len(stale)} settlement(s) with no data on the settlement session, valued at the last "
        f"spot close at or before the settlement time (see days.csv): {'; '.join(parts)}"
    ]


def metrics_dict(analysis: Analysis) -> dict[str, Any]:
    """JSON-serialisable summary for ``metrics.json``: headline metrics, trade metrics, costs,
    Monte Carlo summaries, breakdown tables, worst drawdowns, yearly table and notes."""
    return jsonable(
        {
            "capital": analysis.capital,
            "capital_base": analysis.capital_base,
            "base_amount": analysis.base_amount,
            "currency": analysis.currency,
            "periods_per_year": analysis.periods_per_year,
            "metrics": analysis.metrics,
            "trades": analysis.trade_metrics,
            "costs": analysis.costs,
            "monte_carlo": {k: v.summary() for k, v in analysis.monte_carlo.items()},
            "breakdowns": analysis.breakdowns,
            "worst_drawdowns": analysis.worst_drawdowns,
            "yearly": analysis.yearly,
            "notes": analysis.notes,
        }
    )
