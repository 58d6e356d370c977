"""Headline metrics of a run (the first set written to ``metrics.json``), as pure functions.

Money figures are in the quote currency. Sharpe is annualised with ``periods`` (252 trading days
by default) over the daily PnL of every trading day in the run (skipped days count as 0), with no
risk-free rate: ``mean / std * sqrt(periods)`` (sample std, ``ddof=1``; NaN with fewer than two
days or zero variance). Max drawdown is the largest fall of equity from a running peak (money,
<= 0; the peak starts at 0). A round trip is one entry/exit cycle of the strategy (all legs
opened in one cycle); its PnL is the sum of its trades' PnL net of fees; the win rate is the
fraction of round trips with PnL > 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd


def sharpe(daily_pnl: Sequence[float] | np.ndarray, periods: int = 252) -> float:
    x = np.asarray(daily_pnl, dtype=np.float64)
    if x.size < 2:
        return math.nan
    sd = float(np.std(x, ddof=1))
    if not math.isfinite(sd) or sd == 0.0:
        return math.nan
    return float(np.mean(x) / sd * math.sqrt(periods))


def max_drawdown(equity: Sequence[float] | np.ndarray) -> float:
    x = np.asarray(equity, dtype=np.float64)
    if x.size == 0:
        return 0.0
    peak = np.maximum.accumulate(np.maximum(x, 0.0))
    return float(min(np.min(x - peak), 0.0))


def round_trips(tradebook: pd.DataFrame, mode: str) -> pd.Series:
    """PnL (net of fees) per round trip: cash flows grouped by (day, cycle) intraday, cycle positional.

    Only finished round trips count: a positional cycle with a leg still open at the end of the
    run (no close or settle row for its ``trade_id``) is left out, since its cash alone (e.g. the
    credit received) is not its PnL.
    """
    if tradebook.empty:
        return pd.Series(dtype=float)
    ended = tradebook["action"].isin(["close", "settle"])
    unfinished = set(tradebook.loc[~ended, "trade_id"]) - set(tradebook.loc[ended, "trade_id"])
    if unfinished:
        open_cycles = set(tradebook.loc[tradebook["trade_id"].isin(unfinished), "cycle"])
        tradebook = tradebook[~tradebook["cycle"].isin(open_cycles)]
        if tradebook.empty:
            return pd.Series(dtype=float)
    keys = ["cycle"] if mode == "positional" else ["day", "cycle"]
    if mode != "positional":
        first_day = tradebook.groupby("trade_id")["day"].transform("first")
        frame = tradebook.assign(day=first_day)
    else:
        frame = tradebook
    return frame.groupby(keys)["cash"].sum()


def headline(
    daily: pd.DataFrame, tradebook: pd.DataFrame, *, mode: str, capital: float | None
) -> dict[str, Any]:
    """The first metric set: total PnL, Sharpe, max drawdown, win rate, trades and counts."""
    pnl = daily["pnl"].to_numpy(dtype=np.float64) if len(daily) else np.zeros(0)
    equity = daily["equity"].to_numpy(dtype=np.float64) if len(daily) else np.zeros(0)
    trips = round_trips(tradebook, mode)
    closed = len(trips)
    wins = int((trips > 0).sum()) if closed else 0
    total = float(equity[-1]) if equity.size else 0.0
    out: dict[str, Any] = {
        "total_pnl": round(total, 2),
        "sharpe": _finite(sharpe(pnl)),
        "max_drawdown": round(max_drawdown(equity), 2),
        "win_rate": _finite(wins / closed) if closed else None,
        "trades": closed,
        "legs": int((tradebook["action"] == "open").sum()) if len(tradebook) else 0,
        "fills": len(tradebook),
        "fees": round(float(tradebook["fees"].sum()), 2) if len(tradebook) else 0.0,
        "avg_trade_pnl": _finite(float(trips.mean())) if closed else None,
        "days": len(daily),
        "days_traded": int((daily["fills"] > 0).sum()) if len(daily) else 0,
        "days_skipped": int(daily["skipped"].sum()) if len(daily) else 0,
        "capital": capital,
    }
    if capital:
        out["total_return"] = _finite(total / capital)
        out["max_drawdown_pct"] = _finite(max_drawdown(equity) / capital)
    return out


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None
