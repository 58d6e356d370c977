"""Tick-aligned price arrays: one instrument-day laid onto the day's clock, built once.

The engine's per-tick work must be O(legs) on plain Python floats, so each instrument's bars for
the day are aligned to the clock once (NumPy ``searchsorted``) and kept as Python lists indexed
by tick number. Nothing here is reachable from a strategy: the contexts read one index, the
current tick's.

Conventions (every price per unit of underlying):

* The bar *at* tick ``i`` is the last bar with ``bar.ts <= clock[i]``. Its **lag** is ``i - j``
  where ``j`` is the first clock tick at or after the bar's ``ts`` (the tick at which the bar
  became visible; the same rule as :mod:`workbench.data.series`): ``0`` a bar at this tick,
  ``n > 0`` a bar last seen ``n`` ticks ago, ``-1`` internally (``None`` in the API) nothing yet
  today.
* **price** ``(close, lag)``: the last bar with a finite close.
* **quote** ``(bid, ask, last, mid, lag)``: the fields of the bar at the tick as they are (a
  missing bid stays missing; it is not taken from an older bar).
* **mark** (mark-to-market, used for ``pnl``, exits and the daily path): the mid of the last
  bar that has a usable two-sided quote (finite ``bid >= 0``, finite ``ask > 0``, ``ask >= bid``)
  or, if that bar has none, its finite close; bars with neither are skipped. The mark's lag is
  that bar's lag.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from workbench.execution.liquidity import Liquidity

NO_LAG = -1
"""Internal lag value for "no bar yet today" (the API shows ``None``)."""


def clock_to_ns(clock: NDArray[np.int64] | list) -> NDArray[np.int64]:
    """Clock timestamps as int64 nanoseconds (exchange-local, naive)."""
    arr = np.asarray(clock)
    if arr.dtype.kind == "i":
        return arr.astype(np.int64)
    return np.asarray(arr, dtype="datetime64[ns]").astype(np.int64)


def _ffill_source(valid: NDArray[np.bool_]) -> NDArray[np.int64]:
    idx = np.where(valid, np.arange(valid.size, dtype=np.int64), -1)
    return np.maximum.accumulate(idx) if idx.size else idx


@dataclass(slots=True)
class TickSeries:
    """One instrument-day aligned to a clock of ``n`` ticks (see module doc for conventions)."""

    close: list[float]
    close_lag: list[int]
    mark: list[float]
    mark_lag: list[int]
    row: NDArray[np.int64]
    row_lag: NDArray[np.int64]
    bid: NDArray[np.float64]
    ask: NDArray[np.float64]
    last: NDArray[np.float64]
    volume: NDArray[np.float64]
    oi: NDArray[np.float64]
    open_first: float
    nbytes: int
    #: quoted sizes at the best bid / ask per bar row, contracts (``None``: not in the data)
    bid_size: NDArray[np.float64] | None = None
    ask_size: NDArray[np.float64] | None = None

    def quote_at(self, i: int) -> tuple[float, float, float, float, int]:
        """``(bid, ask, last, mid, lag)`` of the bar at tick ``i`` (NaN fields when absent)."""
        r = int(self.row[i])
        if r < 0:
            return (math.nan, math.nan, math.nan, math.nan, NO_LAG)
        bid = float(self.bid[r])
        ask = float(self.ask[r])
        mid = 0.5 * (bid + ask) if usable_quote(bid, ask) else math.nan
        return (bid, ask, float(self.last[r]), mid, int(self.row_lag[i]))


def usable_quote(bid: float, ask: float) -> bool:
    """A two-sided quote the mark may use: finite ``bid >= 0``, finite ``ask > 0``, ``ask >= bid``."""
    return math.isfinite(bid) and math.isfinite(ask) and bid >= 0.0 and ask > 0.0 and ask >= bid


def align(
    ts: NDArray[np.int64],
    close: NDArray[np.float64],
    clock_ns: NDArray[np.int64],
    *,
    bid: NDArray[np.float64] | None = None,
    ask: NDArray[np.float64] | None = None,
    open_: NDArray[np.float64] | None = None,
    volume: NDArray | None = None,
    oi: NDArray | None = None,
    bid_size: NDArray | None = None,
    ask_size: NDArray | None = None,
) -> TickSeries:
    """Align one instrument-day's bars (``ts`` int64 ns, ascending) to ``clock_ns``."""
    ts = np.asarray(ts, dtype=np.int64)
    # the arrays kept in the result are copies: the inputs are often views into a whole read
    # (several instruments' row groups), which a cached series would otherwise keep alive
    close = np.array(close, dtype=np.float64)
    m = ts.size
    n = clock_ns.size
    nan_rows = np.full(m, np.nan)
    bid_a = nan_rows if bid is None else np.array(bid, dtype=np.float64)
    ask_a = nan_rows if ask is None else np.array(ask, dtype=np.float64)
    if m and np.any(np.diff(ts) < 0):
        raise ValueError("bars are not sorted by timestamp")
    ticks = np.arange(n, dtype=np.int64)
    row = np.searchsorted(ts, clock_ns, side="right").astype(np.int64) - 1  # bar at each tick
    row_pos = np.searchsorted(clock_ns, ts, side="left").astype(np.int64)  # tick each bar shows

    def lag_of(src: NDArray[np.int64]) -> NDArray[np.int64]:
        out = np.full(n, NO_LAG, dtype=np.int64)
        has = src >= 0
        out[has] = ticks[has] - row_pos[src[has]]
        return out

    has_row = row >= 0
    row_lag = lag_of(row)

    close_src_rows = _ffill_source(np.isfinite(close) & (close >= 0))
    close_src = np.where(has_row, close_src_rows[np.maximum(row, 0)], -1) if m else np.full(n, -1)
    close_at = (
        np.where(close_src >= 0, close[np.maximum(close_src, 0)], np.nan)
        if m
        else np.full(n, np.nan)
    )

    usable = np.isfinite(bid_a) & np.isfinite(ask_a) & (bid_a >= 0) & (ask_a > 0) & (ask_a >= bid_a)
    mark_rows = np.where(
        usable, 0.5 * (bid_a + ask_a), np.where(np.isfinite(close) & (close >= 0), close, np.nan)
    )
    mark_src_rows = _ffill_source(np.isfinite(mark_rows))
    mark_src = np.where(has_row, mark_src_rows[np.maximum(row, 0)], -1) if m else np.full(n, -1)
    mark_at = (
        np.where(mark_src >= 0, mark_rows[np.maximum(mark_src, 0)], np.nan)
        if m
        else np.full(n, np.nan)
    )

    first_open = math.nan
    if m and open_ is not None:
        first_open = float(np.asarray(open_, dtype=np.float64)[0])
    lists_bytes = 4 * n * 40
    arrays_bytes = 3 * m * 8 + 2 * n * 8
    return TickSeries(
        close=close_at.tolist(),
        close_lag=lag_of(close_src).tolist(),
        mark=mark_at.tolist(),
        mark_lag=lag_of(mark_src).tolist(),
        row=row,
        row_lag=row_lag,
        bid=bid_a,
        ask=ask_a,
        last=close,
        volume=nan_rows if volume is None else np.array(volume, dtype=np.float64),
        oi=nan_rows if oi is None else np.array(oi, dtype=np.float64),
        open_first=first_open,
        nbytes=lists_bytes + arrays_bytes + 5 * m * 8,
        bid_size=None if bid_size is None else np.array(bid_size, dtype=np.float64),
        ask_size=None if ask_size is None else np.array(ask_size, dtype=np.float64),
    )


def constant_ticks(n: int, value: float) -> TickSeries:
    """A series with no bars today whose mark is ``value`` at every tick (lag ``None``): an open
    position on a day its instrument did not trade keeps its last mark. Its arrays are shared
    and read-only (every such series of ``n`` ticks has the same)."""
    row, row_lag, empty = _no_bars(n)
    return TickSeries(
        close=[math.nan] * n,
        close_lag=[NO_LAG] * n,
        mark=[float(value)] * n,
        mark_lag=[NO_LAG] * n,
        row=row,
        row_lag=row_lag,
        bid=empty,
        ask=empty,
        last=empty,
        volume=empty,
        oi=empty,
        open_first=math.nan,
        nbytes=32 * n,
    )


@functools.lru_cache(maxsize=64)
def _no_bars(n: int) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """The row, row-lag and empty bar arrays of a day of ``n`` ticks without bars, read-only
    (a held leg without bars on each of thousands of days gets the same)."""
    row = np.full(n, -1, dtype=np.int64)
    row_lag = np.full(n, NO_LAG, dtype=np.int64)
    empty = np.zeros(0)
    for arr in (row, row_lag, empty):
        arr.flags.writeable = False
    return row, row_lag, empty


def bar_liquidity(series: TickSeries, i: int) -> Liquidity:
    """The volume, open interest and quoted sizes of the bar visible at tick ``i``
    (contracts; NaN when there is no bar or the data has no sizes), for sized fill models
    (:mod:`workbench.execution.liquidity`)."""
    from workbench.execution.liquidity import Liquidity

    r = int(series.row[i])
    if r < 0 or not len(series.volume):
        return Liquidity(math.nan, math.nan)
    bid_size = math.nan if series.bid_size is None else float(series.bid_size[r])
    ask_size = math.nan if series.ask_size is None else float(series.ask_size[r])
    return Liquidity(float(series.volume[r]), float(series.oi[r]), bid_size, ask_size)
