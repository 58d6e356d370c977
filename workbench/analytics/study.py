"""Per-position results of a study and optopsy-style aggregates (reads results only).

A study run (:class:`workbench.engine.study.Study`) keys each position ``"<entry day>/<expiry>"``
and its legs ``"<entry day>/<expiry>/<leg>"``. :func:`study_trades` folds the tradebook into one
row per position; :func:`study_aggregates` groups those rows by DTE-at-entry bucket x
short-delta bucket and describes their PnL the way optopsy describes its ``pct_change``
(count, mean, std, min, quartiles, max) plus the win rate and the total.

Money is the run's currency; PnL is net of every fee (entry, exit, settlement); ``entry_credit``
is the premium received at entry (> 0) or paid (< 0), before fees; ``return_on_credit`` is PnL
over ``|entry_credit|``. Deltas are per unit of underlying, signed by right, as the tradebook
records them at the fill.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["DEFAULT_DELTA_BINS", "DEFAULT_DTE_BINS", "study_aggregates", "study_trades"]

DEFAULT_DTE_BINS: tuple[float, ...] = (0, 7, 14, 21, 28, 35, 45, 60, 90)
DEFAULT_DELTA_BINS: tuple[float, ...] = (0.0, 0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.40, 0.50, 1.0)

#: Columns of :func:`study_trades` before the per-leg ones.
TRADE_COLUMNS = (
    "position",
    "entry_day",
    "expiry",
    "dte_at_entry",
    "exit_day",
    "exit_reason",
    "status",
    "legs",
    "short_delta",
    "entry_credit",
    "exit_value",
    "fees",
    "pnl",
    "return_on_credit",
)


def _tradebook(result_like: Any) -> pd.DataFrame:
    tb = getattr(result_like, "tradebook", result_like)
    if not isinstance(tb, pd.DataFrame):
        raise TypeError(f"study_trades: expected a result or a tradebook, got {type(tb).__name__}")
    missing = {"position_key", "action", "cash", "price", "signed_units", "fees"} - set(tb.columns)
    if missing:
        raise ValueError(f"study_trades: the tradebook has no column(s) {sorted(missing)}")
    return tb


def study_trades(result_like: Any) -> pd.DataFrame:
    """One row per study position (see the module docstring), by entry day then expiry.

    Per leg ``<leg>_strike`` and ``<leg>_entry_delta`` (signed); ``short_delta`` is the |delta|
    of the first sold leg. Open positions have ``status`` "open", no exit and NaN PnL.
    """
    tb = _tradebook(result_like)
    if not len(tb):
        return pd.DataFrame(columns=list(TRADE_COLUMNS))
    keys = tb["position_key"].astype(str)
    nested = keys.str.count("/") >= 2
    if not bool(nested.all()):
        bad = keys[~nested].iloc[0]
        raise ValueError(
            f"study_trades: position key {bad!r} is not '<entry day>/<expiry>/<leg>' (not a study run)"
        )
    split = [k.rsplit("/", 1) for k in keys.tolist()]
    frame = tb.assign(_position=[p for p, _ in split], _leg=[leg for _, leg in split])
    rows = []
    for position, g in frame.groupby("_position", sort=True):
        opens = g[g["action"] == "open"]
        closes = g[g["action"] != "open"]
        entry_day = pd.Timestamp(opens["day"].iloc[0]).date()
        expiry = pd.Timestamp(opens["expiry"].iloc[0]).date()
        closed = len(opens) > 0 and set(closes["_leg"]) >= set(opens["_leg"])
        sold = opens[opens["side"] == "SELL"]
        row: dict[str, Any] = {
            "position": position,
            "entry_day": entry_day,
            "expiry": expiry,
            "dte_at_entry": (expiry - entry_day).days,
            "exit_day": pd.Timestamp(closes["day"].max()).date() if closed else None,
            "exit_reason": (closes["reason"].iloc[-1] if closed else None),
            "status": "closed" if closed else "open",
            "legs": len(opens),
            "short_delta": float(abs(sold["delta"].iloc[0])) if len(sold) else float("nan"),
            "entry_credit": float(-(opens["signed_units"] * opens["price"]).sum()),
            "exit_value": float(-(closes["signed_units"] * closes["price"]).sum())
            if closed
            else float("nan"),
            "fees": float(g["fees"].sum()),
            "pnl": float(g["cash"].sum()) if closed else float("nan"),
        }
        credit = abs(row["entry_credit"])
        row["return_on_credit"] = row["pnl"] / credit if closed and credit > 0 else float("nan")
        for _, leg in opens.iterrows():
            row[f"{leg['_leg']}_strike"] = float(leg["strike"])
            row[f"{leg['_leg']}_entry_delta"] = float(leg["delta"])
        rows.append(row)
    out = pd.DataFrame(rows)
    return out.sort_values(["entry_day", "expiry"], kind="stable").reset_index(drop=True)


def study_aggregates(
    trades: pd.DataFrame,
    *,
    dte_bins: Sequence[float] = DEFAULT_DTE_BINS,
    delta_bins: Sequence[float] = DEFAULT_DELTA_BINS,
    value: str = "pnl",
) -> pd.DataFrame:
    """Closed positions grouped by DTE at entry x |short delta| buckets (intervals closed on
    the right, as ``pandas.cut`` and optopsy make them), with ``count, mean, std, min, 25%,
    50%, 75%, max`` of ``value`` (``"pnl"`` or ``"return_on_credit"``), ``win_rate`` (share
    with ``value > 0``) and ``total``. Empty buckets are left out."""
    for name, bins in (("dte_bins", dte_bins), ("delta_bins", delta_bins)):
        edges = np.asarray(bins, dtype=float)
        if edges.size < 2 or not np.all(np.diff(edges) > 0):
            raise ValueError(f"{name}: need at least two increasing edges, got {list(bins)}")
    if value not in ("pnl", "return_on_credit"):
        raise ValueError(f"value: 'pnl' or 'return_on_credit', got {value!r}")
    columns = ["count", "mean", "std", "min", "25%", "50%", "75%", "max", "win_rate", "total"]
    closed = trades[trades["status"] == "closed"] if len(trades) else trades
    if not len(closed):
        return pd.DataFrame(columns=columns)
    dte = pd.cut(closed["dte_at_entry"].astype(float), bins=list(dte_bins))
    delta = pd.cut(closed["short_delta"].astype(float), bins=list(delta_bins))
    grouped = (
        closed[value]
        .astype(float)
        .groupby([dte.rename("dte_range"), delta.rename("delta_range")], observed=True)
    )
    out = grouped.describe()
    out["win_rate"] = grouped.apply(lambda v: float((v > 0).mean()))
    out["total"] = grouped.sum()
    return out[columns]
