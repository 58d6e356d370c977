"""Capital base -> daily returns.

Returns are always computed against a declared capital base:

``fixed``
    An account that starts with ``capital`` (money) and holds ``capital + equity`` at each close
    (``equity`` is the engine's cumulative PnL, 0 before the first day). The return of day *t* is
    ``pnl_t / (capital + equity_{t-1})``: the account's compounded return. Once the account value
    is at or below zero the run is ruined; later returns are NaN (and left out of the statistics).
``margin``
    Return on the margin the run needed: the same account, started with the **peak margin** of the
    run (the largest value of the daily ``margin`` column) instead of ``capital``; i.e. the
    smallest account that could have carried every position. (Dividing each day's PnL by that
    day's margin and compounding would reinvest a small, changing base and turn a profitable run
    into a loss through volatility drag; it is deliberately not done.) A run without any margin
    is an error.
``auto``
    ``margin`` when a margin model is present, i.e. the daily path has a positive margin carried
    into or held at the close of every day with non-zero PnL; else ``fixed``. (An intraday
    strategy is flat at every close, so its margin column is 0 and it uses ``fixed``.)

The wealth index is ``cumprod(1 + r)`` starting from 1 before the first day.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

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
        margin = daily["margin"].to_numpy(dtype=float) if "margin" in daily else np.zeros(0)
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


def wealth_index(returns: pd.Series) -> pd.Series:
    """``cumprod(1 + r)``; NaN returns (after ruin) hold the index at its last value."""
    return (1.0 + returns.fillna(0.0)).cumprod().rename("wealth")
