"""Intraday views of a run: each day's mark-to-market path, time of day and re-entry cycles.

**Paths.** An intraday path frame has one row per (day, tick): ``day`` (date), ``ts``
(exchange-local timestamp) and ``pnl``: the day's book PnL at that tick, net of fees --
the cash of every fill so far that day plus the open legs at the engine's mark (the research
layer builds it from the dataset: :mod:`workbench.research.intraday`). It starts at the day's
first fill and its last value is the day's PnL. :func:`path_matrix` lays the days side by side
on the clock's minutes.

**Time of day.** Positions are grouped by the :data:`SLOT_MINUTES`-minute slot of their entry
(:func:`by_entry_time`); stop-outs (closing orders whose reason names a stop: ``stop_loss``,
``leg_stop``, ``trailing_stop``...) by the slot they happened in (:func:`stop_outs_by_time`).

**Cycles.** :func:`by_cycle` groups closed positions by their cycle: intraday, cycle 0 is the
day's first entry and cycle ``k`` its ``k``-th re-entry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.analytics.breakdowns import summarize

#: Width of a time-of-day slot, minutes.
SLOT_MINUTES = 30
PATH_COLUMNS: tuple[str, ...] = ("day", "ts", "pnl")


def slot_label(ts: pd.Series, minutes: int = SLOT_MINUTES) -> pd.Series:
    """``"HH:MM"`` of the start of each timestamp's slot of ``minutes`` (from midnight)."""
    t = pd.to_datetime(ts)
    start = (t.dt.hour * 60 + t.dt.minute) // minutes * minutes
    return (start // 60).map("{:02d}".format) + ":" + (start % 60).map("{:02d}".format)


def _slot_order(labels: pd.Series) -> list[str]:
    return sorted(set(labels.dropna()))


def by_entry_time(trades: pd.DataFrame, minutes: int = SLOT_MINUTES) -> pd.DataFrame:
    """Closed positions by the slot of their entry: count, PnL, mean, win rate, best, worst."""
    closed = trades[trades["status"] == "closed"]
    if closed.empty:
        return summarize(closed["pnl"], closed["pnl"])
    labels = slot_label(closed["entry_ts"], minutes)
    return summarize(closed["pnl"], labels, _slot_order(labels))


def stop_outs_by_time(legs: pd.DataFrame, minutes: int = SLOT_MINUTES) -> pd.DataFrame:
    """Stop-outs by the slot they happened in: ``stop_orders`` (distinct (position, time)
    closing orders with a stop reason), ``legs_stopped``, and ``share_of_exits`` (stop orders
    over all closing orders in the slot). ``legs`` is
    :func:`workbench.analytics.tradelog.trade_legs`."""
    cols = ["stop_orders", "legs_stopped", "exit_orders", "share_of_exits"]
    done = legs[legs["status"] == "closed"] if len(legs) else legs
    if done.empty:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="group"))
    slots = slot_label(done["exit_ts"], minutes)
    stop = done["exit_reason"].astype(str).str.contains("stop", case=False).to_numpy()
    frame = pd.DataFrame(
        {
            "slot": slots.to_numpy(),
            "order": done["position"].astype(str).to_numpy()
            + "@"
            + done["exit_ts"].astype(str).to_numpy(),
            "stop": stop,
        }
    )
    exits = frame.groupby("slot")["order"].nunique()
    stops = frame[frame["stop"]]
    out = pd.DataFrame(
        {
            "stop_orders": stops.groupby("slot")["order"].nunique(),
            "legs_stopped": stops.groupby("slot").size(),
            "exit_orders": exits,
        }
    ).reindex(_slot_order(frame["slot"]))
    out = out.fillna(0).astype(int)
    out["share_of_exits"] = out["stop_orders"] / out["exit_orders"].where(out["exit_orders"] > 0)
    out.index.name = "group"
    return out[cols]


def by_cycle(trades: pd.DataFrame) -> pd.DataFrame:
    """Closed positions by cycle (``entry`` for cycle 0, ``re-entry k`` for cycle k)."""
    closed = trades[trades["status"] == "closed"]
    cycles = pd.to_numeric(closed["cycle"], errors="coerce").fillna(0).astype(int)
    labels = cycles.map(lambda c: "first entry" if c == 0 else f"re-entry {c}")
    order = ["first entry", *(f"re-entry {c}" for c in sorted(set(cycles)) if c > 0)]
    return summarize(closed["pnl"], labels, order)


@dataclass(frozen=True)
class PathMatrix:
    """Days side by side: ``values[d, m]`` = day ``days[d]``'s PnL at minute ``minutes[m]`` of
    the day (minutes from midnight; NaN before the day's first fill), held forward between
    ticks; ``final`` = each day's last value."""

    days: pd.DatetimeIndex
    minutes: np.ndarray
    values: np.ndarray
    final: np.ndarray


def path_matrix(paths: pd.DataFrame) -> PathMatrix:
    """:class:`PathMatrix` of an intraday path frame (:data:`PATH_COLUMNS`)."""
    if paths.empty:
        return PathMatrix(pd.DatetimeIndex([]), np.zeros(0), np.zeros((0, 0)), np.zeros(0))
    ts = pd.to_datetime(paths["ts"])
    minute = (ts.dt.hour * 60 + ts.dt.minute + ts.dt.second / 60.0).to_numpy()
    day = pd.to_datetime(paths["day"]).dt.normalize()
    days = pd.DatetimeIndex(sorted(day.unique()))
    minutes = np.unique(minute)
    values = np.full((len(days), len(minutes)), np.nan)
    rows = days.get_indexer(pd.DatetimeIndex(day))
    cols = np.searchsorted(minutes, minute)
    values[rows, cols] = paths["pnl"].to_numpy(dtype=float)
    # hold each day's value forward across minutes where it had no tick (after its first)
    frame = pd.DataFrame(values.T).ffill()
    started = np.cumsum(np.isfinite(values), axis=1) > 0
    values = np.where(started, frame.to_numpy().T, np.nan)
    final = frame.iloc[-1].to_numpy() if len(frame) else np.zeros(0)
    return PathMatrix(days, minutes, values, final)


def extreme_days(paths: pd.DataFrame, n: int = 4) -> tuple[list[pd.Timestamp], list[pd.Timestamp]]:
    """The ``n`` worst and ``n`` best days by their final path value (worst first, best first);
    a day is in at most one list."""
    if paths.empty:
        return [], []
    last = paths.groupby(pd.to_datetime(paths["day"]).dt.normalize())["pnl"].last()
    ordered = last.sort_values(kind="stable")
    k = min(n, len(ordered) // 2) if len(ordered) > 1 else len(ordered)
    worst = list(ordered.index[:k])
    best = [d for d in ordered.index[::-1][:k] if d not in worst]
    return worst, best
