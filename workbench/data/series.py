"""``Series``: one instrument's (or the spot's) bars for one day, aligned to the day's clock.

Timestamps are ``int64`` nanoseconds since the epoch of the exchange-local wall time (naive
timestamps read as if UTC), the same for the bars (``ts``) and the clock.

Price semantics (DESIGN.md): at clock tick ``i`` the visible bar is the last bar with
``ts <= clock[i]``. Its lag is ``i - j`` where ``j`` is the first clock tick at or after the bar's
``ts`` (the tick at which the bar became visible), so ``lag == 0`` is a bar at this tick,
``lag == k > 0`` a bar last seen ``k`` ticks ago, and ``(nan, None)`` means no bar yet today.
Both lookups are precomputed per tick when the series is built, so :meth:`Series.price_at` is
two list indexings.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import numpy as np
import pyarrow as pa

from workbench.model.contracts import OptionContract

PRICE_FIELDS = ("open", "high", "low", "close", "bid", "ask")
_NO_ARRAY = np.zeros(0)  # stands for an absent column when every price column is present
EXTRA_FIELDS = ("iv", "delta", "gamma", "theta", "vega", "bid_size", "ask_size")
_NONE_LAG = -1


def clock_to_ns(clock: Any) -> np.ndarray:
    """Convert a clock (int64 ns array, ``datetime64`` array, or list of datetimes) to int64 ns.

    Raises ``ValueError`` if it is empty-shaped wrong, or not strictly increasing.
    """
    if isinstance(clock, np.ndarray) and clock.dtype == np.int64:
        arr = clock
    elif isinstance(clock, np.ndarray) and np.issubdtype(clock.dtype, np.datetime64):
        arr = clock.astype("datetime64[ns]").astype(np.int64)
    else:
        items = list(clock)
        if items and all(isinstance(x, int | np.integer) for x in items):
            arr = np.asarray(items, dtype=np.int64)
        else:
            try:
                arr = np.asarray(items, dtype="datetime64[ns]").astype(np.int64)
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"clock must hold timestamps, got {items[:3]!r}...: {exc}"
                ) from None
    if arr.ndim != 1:
        raise ValueError(f"clock must be one-dimensional, got shape {arr.shape}")
    if arr.size > 1:
        steps = np.diff(arr)
        if (steps <= 0).any():
            i = int(np.argmax(steps <= 0)) + 1
            raise ValueError(
                f"clock must be strictly increasing: tick {i} ({np.datetime64(int(arr[i]), 'ns')}) "
                f"is not after tick {i - 1}"
            )
    return np.ascontiguousarray(arr, dtype=np.int64)


def ts_to_ns(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Arrow ``timestamp[us]`` (naive) to int64 ns."""
    return column.cast(pa.int64()).to_numpy().astype(np.int64, copy=False) * 1000


class Series:
    """Bars of one instrument for one day (see the module docstring).

    Attributes: ``key`` (the :class:`OptionContract`, or the underlying name for spot), ``ts``
    (int64 ns), ``open high low close bid ask`` (float64, NaN = none; spot has NaN bid/ask),
    ``volume oi`` (int64; spot has ``oi`` 0), ``extra`` (``iv``/Greeks when the dataset has
    them), ``clock`` (int64 ns, shared with the cache), ``row_by_tick`` (index of the visible
    bar at each tick, -1 none), ``lag_by_tick`` (lag at each tick, -1 none).
    """

    __slots__ = (
        "_close_list",
        "_lag_by_tick",
        "_lag_list",
        "_row_by_tick",
        "_row_list",
        "ask",
        "bid",
        "clock",
        "close",
        "extra",
        "high",
        "key",
        "low",
        "oi",
        "open",
        "ts",
        "volume",
    )

    def __init__(
        self,
        key: OptionContract | str,
        ts: np.ndarray,
        columns: Mapping[str, np.ndarray],
        clock: np.ndarray,
        extra: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        n = len(ts)
        self.key = key
        self.ts = ts
        # NaN filler only when a price column is absent (spot has no bid/ask)
        complete = all(f in columns for f in PRICE_FIELDS)
        missing = _NO_ARRAY if complete else np.full(n, np.nan)
        self.open = columns.get("open", missing)
        self.high = columns.get("high", missing)
        self.low = columns.get("low", missing)
        self.close = columns.get("close", missing)
        self.bid = columns.get("bid", missing)
        self.ask = columns.get("ask", missing)
        volume, oi = columns.get("volume"), columns.get("oi")
        self.volume = volume if volume is not None else np.zeros(n, dtype=np.int64)
        self.oi = oi if oi is not None else np.zeros(n, dtype=np.int64)
        self.extra = dict(extra or {})
        self.clock = clock
        if n > 1 and (np.diff(ts) <= 0).any():
            raise ValueError(f"bars of {key} are not strictly increasing in time")
        # the per-tick mapping is computed on first use: the engine aligns series itself, and a
        # prefetch builds series for instruments a strategy may never price
        self._row_by_tick: np.ndarray | None = None
        self._lag_by_tick: np.ndarray | None = None
        self._close_list: list[float] | None = None
        self._lag_list: list[int] | None = None
        self._row_list: list[int] | None = None

    def _align(self) -> None:
        ts, clock = self.ts, self.clock
        rows = np.searchsorted(ts, clock, side="right") - 1
        first_tick = np.searchsorted(clock, ts, side="left")
        ticks = np.arange(len(clock), dtype=np.int64)
        seen = rows >= 0
        lag = np.full(len(clock), _NONE_LAG, dtype=np.int64)
        lag[seen] = ticks[seen] - first_tick[rows[seen]]
        self._row_by_tick = rows.astype(np.int64)
        self._lag_by_tick = lag

    @property
    def row_by_tick(self) -> np.ndarray:
        """Index of the bar visible at each clock tick (-1 before the first bar)."""
        if self._row_by_tick is None:
            self._align()
        assert self._row_by_tick is not None
        return self._row_by_tick

    @property
    def lag_by_tick(self) -> np.ndarray:
        """Lag in clock ticks of the bar visible at each tick (-1 before the first bar)."""
        if self._lag_by_tick is None:
            self._align()
        assert self._lag_by_tick is not None
        return self._lag_by_tick

    def __len__(self) -> int:
        return len(self.ts)

    def __repr__(self) -> str:
        return f"Series({self.key}, bars={len(self)}, ticks={len(self.clock)})"

    @property
    def nbytes(self) -> int:
        """Bytes held by this series' own arrays (the shared clock not counted)."""
        arrays = [self.ts, self.open, self.high, self.low, self.close, self.bid, self.ask]
        arrays += [self.volume, self.oi, *self.extra.values()]
        arrays += [a for a in (self._row_by_tick, self._lag_by_tick) if a is not None]
        return int(sum(a.nbytes for a in arrays))

    def _lists(self) -> tuple[list[float], list[int], list[int]]:
        if self._close_list is None:
            rows = self.row_by_tick
            close = np.where(
                rows >= 0, self.close[np.maximum(rows, 0)] if len(self) else np.nan, np.nan
            )
            self._close_list = close.tolist()
            self._lag_list = self.lag_by_tick.tolist()
            self._row_list = rows.tolist()
        assert self._lag_list is not None and self._row_list is not None
        return self._close_list, self._lag_list, self._row_list

    def row_at(self, i_tick: int) -> int:
        """Index into the bar arrays of the bar visible at clock tick ``i_tick``; -1 if none."""
        return self._lists()[2][i_tick]

    def lag_at(self, i_tick: int) -> int | None:
        """Lag in clock ticks of the bar visible at ``i_tick``; ``None`` if no bar yet."""
        lag = self._lists()[1][i_tick]
        return None if lag < 0 else lag

    def price_at(self, i_tick: int, field: str = "close") -> tuple[float, int | None]:
        """``(price, lag)`` at clock tick ``i_tick``: ``field`` of the visible bar, or ``(nan, None)``."""
        if field == "close":
            close, lags, _ = self._lists()
            lag = lags[i_tick]
            return (close[i_tick], lag) if lag >= 0 else (math.nan, None)
        _, lags, rows = self._lists()
        row = rows[i_tick]
        if row < 0:
            return math.nan, None
        arr = getattr(self, field) if field in PRICE_FIELDS else self.extra[field]
        return float(arr[row]), lags[i_tick]

    value_at = price_at

    def quote_at(self, i_tick: int) -> Any:
        """``Quote(bid, ask, last, mid, lag)`` of the bar visible at ``i_tick``.

        ``last`` is the bar's close (``Quote.mid`` is derived from bid and ask); all NaN with
        ``lag=None`` before the first bar.
        """
        from workbench.model.trades import Quote

        _, lags, rows = self._lists()
        row = rows[i_tick]
        if row < 0:
            return Quote(bid=math.nan, ask=math.nan, last=math.nan, lag=None)
        return Quote(
            bid=float(self.bid[row]),
            ask=float(self.ask[row]),
            last=float(self.close[row]),
            lag=lags[i_tick],
        )

    def bar_time(self, row: int) -> datetime:
        """Exchange-local naive datetime of bar ``row``."""
        return np.datetime64(int(self.ts[row]), "ns").astype("datetime64[us]").astype(datetime)


def series_from_table(key: OptionContract | str, table: pa.Table, clock: np.ndarray) -> Series:
    """Build a :class:`Series` from an Arrow table of one instrument's (or the spot's) bars."""
    arrays = {name: table.column(name).to_numpy() for name in table.column_names if name != "ts"}
    return series_from_arrays(key, ts_to_ns(table.column("ts")), arrays, clock)


def series_from_arrays(
    key: OptionContract | str,
    ts_ns: np.ndarray,
    arrays: Mapping[str, np.ndarray],
    clock: np.ndarray,
) -> Series:
    """Build a :class:`Series` from int64-ns timestamps and ``{column: ndarray}``."""
    columns = {name: arrays[name] for name in (*PRICE_FIELDS, "volume", "oi") if name in arrays}
    extra = {name: arrays[name] for name in EXTRA_FIELDS if name in arrays}
    return Series(key, ts_ns, columns, clock, extra)


def datetime64_to_ns(values: np.ndarray) -> np.ndarray:
    """``datetime64[any unit]`` array to int64 ns."""
    return values.astype("datetime64[ns]").view(np.int64)


def day_of(ns: int) -> date:
    """Calendar date of an int64-ns timestamp."""
    return np.datetime64(int(ns), "ns").astype("datetime64[D]").astype(date)
