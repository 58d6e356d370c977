"""The headline metrics of a run -- defined once, read everywhere.

``metrics.json``, ``BacktestResult.metrics``, the tearsheet, the report index, the command
line, grid heatmaps, sweeps and walk-forward all take these figures from :func:`headline`; the
analytics layer adds figures of its own but never redefines these. Money is in the dataset's
currency.

Scale-free figures
    ``sharpe``: annualised ``mean / std`` (ddof 1) of the daily PnL over every trading day of the
    run (skipped days count as 0), ``sqrt(252)``, no risk-free rate -- the same for any fixed
    capital, so it needs no base. NaN (``null``) with fewer than two days or no dispersion.
Money figures
    ``total_pnl``, ``max_drawdown`` (largest fall of equity from a running peak, money, <= 0,
    the peak starting at 0), ``fees``, ``avg_trade_pnl``.
Return figures, on one capital base named beside them
    ``capital_base`` (``"fixed"``: the declared ``capital``; ``"margin"``: the run's peak margin)
    and ``base_amount`` (money). ``total_return`` (equity at the end over the base),
    ``cagr`` (``(1 + total_return) ** (252 / days) - 1``), ``volatility`` (annualised std of the
    daily returns), ``max_drawdown_pct`` (the account ``base + equity``: largest fall from a
    running peak, fraction <= 0). ``None`` when there is no base (no capital declared and no
    margin). ``return_on_peak_margin`` = total PnL / peak margin and ``peak_margin`` /
    ``avg_margin`` (over days holding margin) whenever the run has a margin model.
Trades (:mod:`workbench.engine.positions`)
    ``trades``: closed positions; ``win_rate`` and ``avg_trade_pnl`` over them;
    ``open_positions`` (reported apart, never trades); ``adjustments`` (orders inside
    positions); ``legs`` (opening fills), ``fills``.

The capital base:

``fixed``
    An account that starts with ``capital`` (money) and holds ``capital + equity`` at each close
    (``equity`` is the engine's cumulative PnL, 0 before the first day). The return of day *t* is
    ``pnl_t / (capital + equity_{t-1})``: the account's compounded return. Once the account value
    is at or below zero the run is ruined; later returns are NaN (and left out of the statistics).
``margin``
    Return on the margin the run needed: the same account, started with the **peak margin** of the
    run (the largest margin of any day, :func:`day_margin`: at a close or, for books that change
    during the day, after any tick whose fills changed them) instead of ``capital``; i.e. the
    smallest account that could have carried every position. (Dividing each day's PnL by that
    day's margin and compounding would reinvest a small, changing base and turn a profitable run
    into a loss through volatility drag; it is deliberately not done.) A run without any margin
    is an error.
``auto``
    ``margin`` when a margin model is present, i.e. the daily path has a positive margin carried
    into or held at the close of every day with non-zero PnL; else ``fixed``. (An intraday
    strategy is flat at every close, so its margin column is 0 and it uses ``fixed``; its
    ``peak_margin``, ``avg_margin`` and ``return_on_peak_margin`` still come from the margin it
    needed during each day, and ``capital_base="margin"`` asks for that base explicitly.)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from workbench.engine.positions import positions

PERIODS_PER_YEAR = 252
"""Trading days per year: the annualisation of every daily figure."""

CapitalBaseKind = Literal["fixed", "margin", "auto"]


def resolve_capital_base(daily: pd.DataFrame, base: CapitalBaseKind) -> Literal["fixed", "margin"]:
    """The concrete base for ``base`` ("auto" resolved as described in the module docstring)."""
    if base == "fixed" or base == "margin":
        return base
    if base != "auto":
        raise ValueError(f"capital_base {base!r} is not one of 'fixed', 'margin', 'auto'")
    if daily.empty or "margin" not in daily.columns:
        return "fixed"
    margin = daily["margin"].to_numpy(dtype=float)
    if not np.isfinite(margin).any() or not (np.nan_to_num(margin) > 0).any():
        return "fixed"
    prev = np.concatenate([[0.0], np.nan_to_num(margin[:-1])])
    used = np.maximum(prev, np.nan_to_num(margin))
    active = daily["pnl"].to_numpy(dtype=float) != 0
    return "margin" if bool((used[active] > 0).all()) else "fixed"


def base_amount(daily: pd.DataFrame, *, capital: float, base: Literal["fixed", "margin"]) -> float:
    """The account's starting value in money: ``capital`` for ``fixed``, the peak margin for
    ``margin`` (``ValueError`` naming the column when no margin was ever used)."""
    if not np.isfinite(capital) or capital <= 0:
        raise ValueError(f"capital must be a positive amount of money, got {capital!r}")
    if base == "fixed":
        return float(capital)
    if base == "margin":
        margin = day_margin(daily)
        peak = float(np.nanmax(margin)) if np.isfinite(margin).any() else 0.0
        if not peak > 0:
            raise ValueError(
                "daily path, field 'margin': no positive margin in the run; a margin capital base "
                "needs a margin model (use capital_base='fixed')"
            )
        return peak
    raise ValueError(f"capital base {base!r} is not 'fixed' or 'margin'")


def daily_returns(
    daily: pd.DataFrame, *, capital: float, base: Literal["fixed", "margin"]
) -> pd.Series:
    """Daily returns (fraction, 0.01 = 1%) indexed like ``daily``.

    The account starts at ``base_amount(daily, capital=capital, base=base)`` (money) and holds
    that plus ``equity`` at each close; the return of day *t* is ``pnl_t`` over the account value
    at the previous close. NaN from the day after the account value reached zero.

    Parameters
    ----------
    daily : validated daily path (``pnl``, ``equity``, optionally ``margin``), money units.
    capital : declared account capital in money; must be > 0 (the ``fixed`` base).
    base : ``"fixed"`` or ``"margin"`` (see module docstring).
    """
    start = base_amount(daily, capital=capital, base=base)
    pnl = daily["pnl"].to_numpy(dtype=float)
    equity = daily["equity"].to_numpy(dtype=float)
    before = start + np.concatenate([[0.0], equity[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(before > 0, pnl / before, np.nan)
    ruined = np.flatnonzero(before <= 0)
    if ruined.size:
        r[ruined[0] :] = np.nan
    return pd.Series(r, index=daily.index, name="return")


def sharpe(
    values: Sequence[float] | np.ndarray | pd.Series,
    periods_per_year: float = PERIODS_PER_YEAR,
    rf: float = 0.0,
) -> float:
    """Annualised Sharpe ratio of a series: ``mean(x - rf/ppy) / std(x, ddof=1) * sqrt(ppy)``.

    ``x`` is daily PnL (money; then ``rf`` must be 0) or returns (fractions; ``rf`` an annual
    rate spread over the periods). NaN values are dropped; NaN with fewer than two values or
    no dispersion. The one Sharpe of the workbench (the analytics layer re-exports it).
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    x = x[np.isfinite(x)]
    if x.size < 2:
        return math.nan
    excess = x - rf / periods_per_year
    sd = float(np.std(excess, ddof=1))
    if not math.isfinite(sd) or sd == 0.0:
        return math.nan
    return float(np.mean(excess) / sd * math.sqrt(periods_per_year))


def max_drawdown_money(equity: Sequence[float] | np.ndarray) -> float:
    """Largest fall of an equity path (money) from its running peak, the peak starting at 0;
    money, <= 0."""
    x = np.asarray(equity, dtype=np.float64)
    if x.size == 0:
        return 0.0
    peak = np.maximum.accumulate(np.maximum(x, 0.0))
    return float(min(np.min(x - peak), 0.0))


def round_trips(tradebook: pd.DataFrame, mode: str | Mapping[str, str]) -> pd.Series:
    """PnL (money, net of fees) of each closed position (:func:`positions`), by position id."""
    book = positions(tradebook, mode)
    closed = book[book["status"] == "closed"]
    return pd.Series(closed["pnl"].to_numpy(dtype=float), index=closed["position"], name="pnl")


def headline(
    daily: pd.DataFrame,
    tradebook: pd.DataFrame,
    *,
    mode: str | Mapping[str, str],
    capital: float | None,
    capital_base: CapitalBaseKind = "auto",
) -> dict[str, Any]:
    """The headline metric set (see the module docstring for every definition)."""
    n = len(daily)
    pnl = daily["pnl"].to_numpy(dtype=np.float64) if n else np.zeros(0)
    equity = daily["equity"].to_numpy(dtype=np.float64) if n else np.zeros(0)
    book = positions(tradebook, mode)
    closed = book[book["status"] == "closed"]
    trips = closed["pnl"].to_numpy(dtype=float)
    total = float(equity[-1]) if equity.size else 0.0
    out: dict[str, Any] = {
        "total_pnl": round(total, 2),
        "sharpe": _finite(sharpe(pnl)),
        "max_drawdown": round(max_drawdown_money(equity), 2),
        "win_rate": _finite(float((trips > 0).mean())) if trips.size else None,
        "trades": int(trips.size),
        "open_positions": int((book["status"] == "open").sum()),
        "adjustments": int(book["adjustments"].sum()) if len(book) else 0,
        "legs": int((tradebook["action"] == "open").sum()) if len(tradebook) else 0,
        "fills": len(tradebook),
        "fees": round(float(tradebook["fees"].sum()), 2) if len(tradebook) else 0.0,
        "avg_trade_pnl": _finite(float(trips.mean())) if trips.size else None,
        "days": n,
        "days_traded": int((daily["fills"] > 0).sum()) if n else 0,
        "days_skipped": int(daily["skipped"].sum()) if n else 0,
        "capital": capital,
    }
    out.update(margin_figures(daily, total))
    out.update(return_figures(daily, capital=capital, capital_base=capital_base))
    return out


def day_margin(daily: pd.DataFrame) -> np.ndarray:
    """Each day's largest margin (money): the ``peak_margin`` column (the margin after every
    tick whose fills changed the book, and at the close) where the run has it, else the close
    ``margin`` (runs saved before the column existed)."""
    if not len(daily) or "margin" not in daily:
        return np.zeros(0)
    close = daily["margin"].to_numpy(dtype=float)
    if "peak_margin" not in daily:
        return close
    peak = daily["peak_margin"].to_numpy(dtype=float)
    return np.where(np.isfinite(peak), np.fmax(peak, close), close)


def margin_figures(daily: pd.DataFrame, total_pnl: float) -> dict[str, Any]:
    """``peak_margin``, ``avg_margin`` (over days with margin) and ``return_on_peak_margin``
    (``None`` each without a margin model or without any margin), from each day's largest
    margin (:func:`day_margin`: intraday books count the margin they needed during the day)."""
    margin = day_margin(daily)
    held = margin[np.isfinite(margin) & (margin > 0)]
    if not held.size:
        return {"peak_margin": None, "avg_margin": None, "return_on_peak_margin": None}
    peak = float(held.max())
    return {
        "peak_margin": round(peak, 2),
        "avg_margin": round(float(held.mean()), 2),
        "return_on_peak_margin": _finite(total_pnl / peak),
    }


def return_figures(
    daily: pd.DataFrame, *, capital: float | None, capital_base: CapitalBaseKind = "auto"
) -> dict[str, Any]:
    """``capital_base``, ``base_amount``, ``total_return``, ``cagr``, ``volatility`` and
    ``max_drawdown_pct`` on one base (all ``None`` when there is none: no capital declared and
    no margin)."""
    empty: dict[str, Any] = {
        "capital_base": None,
        "base_amount": None,
        "total_return": None,
        "cagr": None,
        "volatility": None,
        "max_drawdown_pct": None,
    }
    if daily.empty:
        return empty
    base = resolve_capital_base(daily, capital_base)
    if base == "fixed" and capital is None:
        return empty
    try:
        amount = base_amount(daily, capital=capital if capital is not None else math.nan, base=base)
    except ValueError:
        if capital_base != "auto":
            raise
        return empty
    returns = daily_returns(daily, capital=capital or amount, base=base).to_numpy(dtype=float)
    equity = daily["equity"].to_numpy(dtype=float)
    account = amount + np.concatenate([[0.0], equity])
    peak = np.maximum.accumulate(account)
    with np.errstate(divide="ignore", invalid="ignore"):
        fall = np.where(peak > 0, account / peak - 1.0, -1.0)
    total_return = float(equity[-1] / amount)
    growth = 1.0 + total_return
    cagr = growth ** (PERIODS_PER_YEAR / len(daily)) - 1.0 if growth > 0 else math.nan
    finite = returns[np.isfinite(returns)]
    vol = (
        float(np.std(finite, ddof=1) * math.sqrt(PERIODS_PER_YEAR)) if finite.size > 1 else math.nan
    )
    return {
        "capital_base": base,
        "base_amount": round(amount, 2),
        "total_return": _finite(total_return),
        "cagr": _finite(cagr),
        "volatility": _finite(vol),
        "max_drawdown_pct": _finite(float(min(fall.min(), 0.0))),
    }


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None
