"""Capital base -> daily returns.

Returns are always computed against a declared capital base:

``fixed``
    An account that starts with ``capital`` (money) and holds ``capital + equity`` at each close
    (``equity`` is the engine's cumulative PnL, 0 before the first day). The return of day *t* is
    ``pnl_t / (capital + equity_{t-1})``: the account's compounded return. Once the account value
    is at or below zero the run is ruined; later returns are NaN (and left out of the statistics).
``margin``
    Return on margin employed: ``pnl_t / max(margin_{t-1}, margin_t)``, the larger of the margin
    carried into the day and the margin held at its close. A day with PnL but no margin is an error
    naming the date (the margin column does not describe that day; use ``fixed``).
``auto``
    ``margin`` when the daily path has a positive margin on every day with non-zero PnL, else
    ``fixed``.

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


def daily_returns(
    daily: pd.DataFrame, *, capital: float, base: Literal["fixed", "margin"]
) -> pd.Series:
    """Daily returns (fraction, 0.01 = 1%) indexed like ``daily``.

    Parameters
    ----------
    daily : validated daily path (``pnl``, ``equity``, optionally ``margin``), money units.
    capital : starting account value in money; must be > 0 (used by ``fixed``).
    base : ``"fixed"`` or ``"margin"`` (see module docstring).
    """
    if not np.isfinite(capital) or capital <= 0:
        raise ValueError(f"capital must be a positive amount of money, got {capital!r}")
    pnl = daily["pnl"].to_numpy(dtype=float)
    if base == "fixed":
        equity = daily["equity"].to_numpy(dtype=float)
        before = capital + np.concatenate([[0.0], equity[:-1]])
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(before > 0, pnl / before, np.nan)
        ruined = np.flatnonzero(before <= 0)
        if ruined.size:
            r[ruined[0] :] = np.nan
        return pd.Series(r, index=daily.index, name="return")
    if base == "margin":
        margin = (
            np.nan_to_num(daily["margin"].to_numpy(dtype=float))
            if "margin" in daily
            else np.zeros_like(pnl)
        )
        prev = np.concatenate([[0.0], margin[:-1]])
        used = np.maximum(prev, margin)
        bad = np.flatnonzero((used <= 0) & (pnl != 0))
        if bad.size:
            day = daily.index[bad[0]]
            raise ValueError(
                f"daily path, field 'margin': 0 on {pd.Timestamp(day).date()} but pnl is {pnl[bad[0]]:.2f}; "
                "a margin capital base needs the margin in use on every day with PnL (use capital_base='fixed')"
            )
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(used > 0, pnl / used, 0.0)
        return pd.Series(r, index=daily.index, name="return")
    raise ValueError(f"capital base {base!r} is not 'fixed' or 'margin'")


def wealth_index(returns: pd.Series) -> pd.Series:
    """``cumprod(1 + r)``; NaN returns (after ruin) hold the index at its last value."""
    return (1.0 + returns.fillna(0.0)).cumprod().rename("wealth")
