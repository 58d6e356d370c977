"""``DayCache``: the engine's only access to market data, one trading day of one underlying.

- Full-day fetch per instrument on first use (:meth:`DayCache.series`), never the same
  instrument twice in the day: every instrument asked for is remembered, including one that
  had no bars (``None``), and later calls are dictionary hits. ``fetch_count`` counts reads of
  the dataset (a DuckDB query, or the store's direct read of row groups),
  ``fetched_instruments`` the instruments read.
- :meth:`DayCache.prefetch` is only a hint: it reads the not-yet-held instruments of each
  expiry in one read; skipping it changes nothing but the number of reads.
- :meth:`DayCache.chain` reads one expiry's remaining instruments in one query and splits them
  into :class:`~workbench.data.series.Series`; each then counts as fetched.
- Memory holds only what the day touched (``nbytes``).
- Prices are ``(price, lag)`` in clock ticks (see :mod:`workbench.data.series`). The clock
  defaults to the day's spot timestamps.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import numpy as np
import pyarrow as pa

from workbench.data.errors import MissingDayError
from workbench.data.series import (
    EXTRA_FIELDS,
    PRICE_FIELDS,
    Series,
    clock_to_ns,
    datetime64_to_ns,
    series_from_arrays,
)
from workbench.data.store import MarketStore
from workbench.model.contracts import OptionContract
from workbench.model.dates import as_date
from workbench.model.enums import Right

_EXTRA = EXTRA_FIELDS


class ChainDay:
    """All instruments of one expiry on one day that have bars, each a :class:`Series`."""

    def __init__(self, underlying: str, day: date, expiry: date, series: list[Series]) -> None:
        self.underlying = underlying
        self.day = day
        self.expiry = expiry
        ordered = sorted(series, key=lambda s: (s.key.strike, s.key.right))  # type: ignore[union-attr]
        self._by_key: dict[tuple[float, Right], Series] = {
            (s.key.strike, s.key.right): s  # type: ignore[union-attr]
            for s in ordered
        }
        self.strikes = np.asarray(sorted({k for k, _ in self._by_key}), dtype=np.float64)

    def __len__(self) -> int:
        return len(self._by_key)

    def __iter__(self) -> Any:
        return iter(self._by_key.values())

    def __repr__(self) -> str:
        return (
            f"ChainDay({self.underlying} {self.day} expiry {self.expiry}, {len(self)} instruments)"
        )

    def contracts(self) -> list[OptionContract]:
        """Contracts with bars, sorted by (strike, right)."""
        return [s.key for s in self._by_key.values()]  # type: ignore[misc]

    def get(self, strike: float, right: Right | str) -> Series | None:
        """The series of (strike, right), or ``None`` if it has no bars today."""
        return self._by_key.get((float(strike), Right.parse(right)))

    @property
    def nbytes(self) -> int:
        return sum(s.nbytes for s in self._by_key.values())

    def snapshot(self, i_tick: int) -> pa.Table:
        """Visible bar of every instrument at tick ``i_tick``, one row per instrument seen so far.

        Columns ``strike, right, close, bid, ask, volume, oi, lag`` (ticks) and the optional
        ``iv``/Greeks when the dataset has them; instruments with no bar yet are left out.
        """
        rows = []
        for s in self._by_key.values():
            r = s.row_at(i_tick)
            if r >= 0:
                rows.append((s, r))
        data: dict[str, list[Any]] = {
            "strike": [s.key.strike for s, _ in rows],  # type: ignore[union-attr]
            "right": [str(s.key.right) for s, _ in rows],  # type: ignore[union-attr]
            "close": [float(s.close[r]) for s, r in rows],
            "bid": [float(s.bid[r]) for s, r in rows],
            "ask": [float(s.ask[r]) for s, r in rows],
            "volume": [int(s.volume[r]) for s, r in rows],
            "oi": [int(s.oi[r]) for s, r in rows],
            "lag": [int(s.lag_by_tick[i_tick]) for s, _ in rows],
        }
        extras = [n for n in _EXTRA if all(n in s.extra for s in self._by_key.values())]
        for name in extras if self._by_key else []:
            data[name] = [float(s.extra[name][r]) for s, r in rows]
        schema = pa.schema(
            [
                ("strike", pa.float64()),
                ("right", pa.string()),
                ("close", pa.float64()),
                ("bid", pa.float64()),
                ("ask", pa.float64()),
                ("volume", pa.int64()),
                ("oi", pa.int64()),
                ("lag", pa.int64()),
            ]
            + [(n, pa.float64()) for n in extras if self._by_key]
        )
        return pa.table(data, schema=schema)


class DayCache:
    """Market data of ``underlying`` on ``day`` from ``store`` (see the module docstring).

    Parameters
    ----------
    store : an open :class:`MarketStore`.
    underlying : the options underlying (``NIFTY``, ``SPXW``). Its spot series comes from the
        catalog spec's ``spot`` underlying when one is named (SPXW -> SPX), else itself.
    day : the trading day.
    clock : strictly increasing timestamps of the day's ticks (int64 ns, ``datetime64`` or
        datetimes, exchange-local); defaults to the spot bars' timestamps.

    Raises :class:`MissingDayError` (naming underlying, day and path) if the dataset has no
    spot data for that day.
    """

    def __init__(
        self,
        store: MarketStore,
        underlying: str,
        day: date | datetime | str,
        clock: Any = None,
    ) -> None:
        self.store = store
        self.day = as_date(day)
        self.underlying = underlying.strip().upper()
        spec = store.catalog.underlyings.get(self.underlying)
        self.spot_underlying = spec.spot if spec is not None and spec.spot else self.underlying
        if self.spot_underlying not in store.catalog.day_index:
            self.spot_underlying = self.underlying
        store.check_underlying(self.underlying)
        listed = store.catalog.day_index[self.spot_underlying].spot
        if self.day not in listed or not store.spot_path(self.spot_underlying, self.day).is_file():
            raise MissingDayError(
                f"no data for {self.spot_underlying} on {self.day.isoformat()} in dataset "
                f"{store.catalog.name!r}: {store.spot_path(self.spot_underlying, self.day)} "
                "is not in the catalog or does not exist"
            )
        self._clock: np.ndarray | None = None if clock is None else clock_to_ns(clock)
        self._spot: Series | None = None
        self._series: dict[OptionContract, Series | None] = {}
        self._chains: dict[date, ChainDay] = {}
        self._expiries: list[date] | None = None
        #: Number of reads of market data this cache has made (a DuckDB query, or a direct read
        #: of row groups by the store); listing the expiries from the footer is not one.
        self.fetch_count = 0

    def __repr__(self) -> str:
        return (
            f"DayCache({self.underlying} {self.day}, fetches={self.fetch_count}, "
            f"instruments={len(self._series)}, nbytes={self.nbytes})"
        )

    # -- clock and spot --------------------------------------------------------------------
    @property
    def clock(self) -> np.ndarray:
        """The day's ticks, int64 ns (exchange-local wall time)."""
        if self._clock is None:
            arrays = self._read_spot()
            self._clock = datetime64_to_ns(arrays["ts"])
            self._spot = series_from_arrays(self.spot_underlying, self._clock, arrays, self._clock)
        return self._clock

    @property
    def spot(self) -> Series:
        """The underlying's spot bars for the day (fetched once)."""
        if self._spot is None:
            clock = self.clock  # fetches the spot when the clock defaults to it
            if self._spot is None:
                arrays = self._read_spot()
                ts = datetime64_to_ns(arrays["ts"])
                self._spot = series_from_arrays(self.spot_underlying, ts, arrays, clock)
        return self._spot

    def _read_spot(self) -> dict[str, np.ndarray]:
        self.fetch_count += 1
        return self.store.spot_arrays(self.spot_underlying, self.day)

    # -- instruments -----------------------------------------------------------------------
    @property
    def fetched_instruments(self) -> frozenset[OptionContract]:
        """Every instrument read today (including those that had no bars)."""
        return frozenset(self._series)

    def _check(self, contract: OptionContract) -> None:
        if not isinstance(contract, OptionContract):
            raise TypeError(f"expected an OptionContract, got {contract!r}")
        if contract.underlying != self.underlying:
            raise ValueError(
                f"contract {contract.underlying} {contract.expiry} {contract.strike} "
                f"{contract.right} is not on {self.underlying}, the underlying of this day cache"
            )

    def series(self, contract: OptionContract) -> Series | None:
        """Full-day bars of ``contract``; ``None`` if it has no bars today. Fetched at most once."""
        if contract in self._series:
            return self._series[contract]
        self._check(contract)
        if contract.expiry in self._chains:
            # the whole expiry was read: an instrument not in it has no bars today
            self._series[contract] = None
            return None
        clock = self.clock
        self.fetch_count += 1
        arrays = self.store.instrument_arrays(contract, self.day)
        ts = arrays["ts"]
        result = (
            series_from_arrays(contract, datetime64_to_ns(ts), arrays, clock) if len(ts) else None
        )
        self._series[contract] = result
        return result

    def prefetch(self, contracts: Iterable[OptionContract]) -> None:
        """Hint: read the not-yet-held ``contracts``, one query per expiry.

        The cache fetches lazily anyway if this is skipped; results are identical.
        """
        wanted: dict[date, list[OptionContract]] = {}
        for c in contracts:
            self._check(c)
            if c in self._series:
                continue
            if c.expiry in self._chains:
                self._series[c] = None
                continue
            group = wanted.setdefault(c.expiry, [])
            if c not in group:
                group.append(c)
        if not wanted:
            return
        clock = self.clock
        for expiry, group in sorted(wanted.items()):
            keys = [(c.strike, str(c.right)) for c in group]
            self.fetch_count += 1
            arrays = self.store.instruments_arrays(self.underlying, self.day, expiry, keys)
            found = self._split(arrays, expiry, clock)
            for c in group:
                self._series[c] = found.get(c)

    def chain(self, expiry: date) -> ChainDay:
        """Every instrument of ``expiry`` with bars today; one query for those not yet held."""
        if isinstance(expiry, datetime):
            expiry = expiry.date()
        if expiry in self._chains:
            return self._chains[expiry]
        clock = self.clock
        held = [c for c in self._series if c.expiry == expiry]
        self.fetch_count += 1
        arrays = self.store.expiry_arrays(
            self.underlying, self.day, expiry, [(c.strike, str(c.right)) for c in held]
        )
        found = self._split(arrays, expiry, clock)
        self._series.update(found)
        members = [s for c, s in self._series.items() if c.expiry == expiry and s is not None]
        chain = ChainDay(self.underlying, self.day, expiry, members)
        self._chains[expiry] = chain
        return chain

    def expiries(self) -> list[date]:
        """Expiries with bars today, ascending (read once, then cached). Usually from the
        option file's footer statistics, which is no query; counted in :attr:`fetch_count`
        only when the store had to query (see :meth:`MarketStore.expiries`)."""
        if self._expiries is None:
            before = self.store.query_count
            self._expiries = self.store.expiries(self.underlying, self.day)
            self.fetch_count += self.store.query_count - before
        return list(self._expiries)

    def _split(
        self, arrays: dict[str, np.ndarray], expiry: date, clock: np.ndarray
    ) -> dict[OptionContract, Series]:
        """Split rows of one expiry (any order) into one Series per (strike, right)."""
        strike = arrays["strike"]
        n = len(strike)
        if n == 0:
            return {}
        is_call = np.asarray(arrays["right"] == "C", dtype=bool)
        ts = datetime64_to_ns(arrays["ts"])
        columns = {name: arrays[name] for name in (*PRICE_FIELDS, "volume", "oi")}
        extra = {name: arrays[name] for name in _EXTRA if name in arrays}
        if n > 1:
            ds = np.diff(strike)
            dr = np.diff(is_call.astype(np.int8))
            dt = np.diff(ts)
            # sorted by (strike, right C<P, ts): strike up, or same strike and C->P, or same
            # instrument and ts up
            ok = (ds > 0) | ((ds == 0) & (dr < 0)) | ((ds == 0) & (dr == 0) & (dt > 0))
            if not ok.all():
                order = np.lexsort((ts, ~is_call, strike))
                strike, is_call, ts = strike[order], is_call[order], ts[order]
                columns = {k: v[order] for k, v in columns.items()}
                extra = {k: v[order] for k, v in extra.items()}
        change = (
            np.flatnonzero((np.diff(strike) != 0) | (np.diff(is_call.astype(np.int8)) != 0)) + 1
        )
        bounds = np.concatenate(([0], change, [n]))
        out: dict[OptionContract, Series] = {}
        for a, b in itertools.pairwise(bounds.tolist()):
            contract = OptionContract(
                self.underlying, expiry, float(strike[a]), Right.CALL if is_call[a] else Right.PUT
            )
            out[contract] = Series(
                contract,
                ts[a:b],
                {k: v[a:b] for k, v in columns.items()},
                clock,
                {k: v[a:b] for k, v in extra.items()},
            )
        return out

    # -- lookups bound to a tick -------------------------------------------------------------
    def price_at(
        self, series: Series | None, i_tick: int, field: str = "close"
    ) -> tuple[float, int | None]:
        """``(price, lag)`` of ``series`` at clock tick ``i_tick``; ``(nan, None)`` for no series."""
        if series is None:
            return float("nan"), None
        return series.price_at(i_tick, field)

    def quote_at(self, series: Series | None, i_tick: int) -> Any:
        """``Quote`` of ``series`` at ``i_tick`` (all NaN, ``lag=None`` for no series)."""
        if series is None:
            from workbench.model.trades import Quote

            nan = float("nan")
            return Quote(bid=nan, ask=nan, last=nan, lag=None)
        return series.quote_at(i_tick)

    @property
    def nbytes(self) -> int:
        """Bytes held: clock, spot and every fetched series."""
        total = 0 if self._clock is None else int(self._clock.nbytes)
        if self._spot is not None:
            total += self._spot.nbytes
        return total + sum(s.nbytes for s in self._series.values() if s is not None)
