"""End-of-day days: the day's whole option file read once, as columns (issue 13).

On an end-of-day dataset (one tick a day) a study needs every instrument of the chain every
day: open positions on many expiries plus every candidate entry. :class:`EodDayMarket` reads
the day's option file once -- only the columns the engine uses -- and answers everything from
those arrays: instrument lookups (a binary search in the expiry's slice; no per-instrument
read), chain snapshots (built once per expiry and shared by every selection call of the day),
the whole day's chain as one snapshot for a rule on many expiries at once
(:meth:`EodDayMarket.select_each`, a study's entries), the held legs' day-end mark bounds
(:meth:`_Day.inside_bounds`) and the listed expiries. The per-instrument
:class:`~workbench.engine.market.DayMarket` (lazy, "never the same instrument twice") stays
the path for intraday days, where it is the right unit, and for a strategy that sets its own
clock.

Everything a strategy sees is the same as through :class:`DayMarket` -- prices, lags, marks,
quotes, snapshots row for row (``tests/engine/test_engine_eod.py`` compares both on the real
SPX set) -- so results do not depend on the path.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path
from typing import Any, cast

import numpy as np

from workbench.data.eod_cache import EodColumnCache, cache_root
from workbench.engine.eod_kernels import derive
from workbench.engine.market import DayMarket, rule_with_value
from workbench.engine.ticks import NO_LAG, TickSeries
from workbench.model.contracts import OptionContract
from workbench.model.dates import EPOCH_ORDINAL
from workbench.model.enums import Right

#: Option columns an end-of-day day is read with.
COLUMNS = (
    "ts", "expiry", "strike", "right", "bid", "ask", "close", "volume", "oi", "iv", "delta",
    "bid_size", "ask_size",
)  # fmt: skip


#: up to this many contracts, :meth:`EodDayMarket.ticks_many` finds each one's row by its own
#: search of its expiry's strikes (~2 us) rather than keying every row of the day (~25 us,
#: then ~10 us a search): a book of a few legs (the shipped studies) binds in a third of
#: the time; the rows are the same either way (see :meth:`_Day.rows`)
_FEW_CONTRACTS = 8

#: :attr:`EodDayMarket._eod_snaps`' key of the whole day's snapshot (the others are expiries)
_DAY = "day"


def _positive(x: float) -> bool:
    """A price a :class:`~workbench.engine.selection.ChainSnapshot` takes as its spot."""
    return math.isfinite(x) and x > 0


def _valid_values(method: str, values: Sequence[float] | None, n: int) -> bool:
    """Whether per-expiry ``values`` make valid :class:`~workbench.engine.selection.Selection`
    values for ``method`` (one of the batch's); ``False`` sends them through the rule's own
    validation, which names what is wrong."""
    if values is None:
        return True
    if len(values) != n:
        return False
    try:
        v = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    if v.shape != (n,) or not np.isfinite(v).all():
        return False
    if method == "delta":
        return bool(((v > 0) & (v < 1)).all())
    return bool((v > 0).all())


class _Day:
    """One day's option rows as arrays, file order (expiry, strike, right), plus what every
    lookup needs precomputed: visibility at the day's tick, close and mark as the tick
    alignment defines them, and each expiry's slice."""

    __slots__ = (
        "_all_visible",
        "_checked",
        "_keys",
        "_order",
        "_ordinals",
        "ask",
        "ask_size",
        "bid",
        "bid_size",
        "close",
        "close_ok",
        "delta",
        "is_call",
        "iv",
        "mark",
        "mid_price",
        "oi",
        "slices",
        "strike",
        "two_sided",
        "visible",
        "volume",
    )

    def __init__(self, arrays: dict[str, np.ndarray], tick_ns: int) -> None:
        ts = arrays["ts"].astype("datetime64[ns]").view(np.int64)
        self.strike = arrays["strike"]
        self.is_call = arrays["is_call"]
        self.bid = arrays["bid"]
        self.ask = arrays["ask"]
        self.close = arrays["close"]
        self.volume = arrays["volume"]
        self.oi = arrays["oi"]
        self.iv = arrays["iv"]
        self.delta = arrays["delta"]
        self.bid_size = arrays["bid_size"]
        self.ask_size = arrays["ask_size"]
        # visibility at the day's tick, usable closes, two-sided quotes, marks and what a
        # ChainSnapshot computes per expiry (its _two_sided and _mid_price), for the day (the
        # price columns are float64 by the dataset schema, in the cache as from Parquet)
        self.visible, self.close_ok, self.two_sided, self.mark, self.mid_price = derive(
            ts, tick_ns, self.bid, self.ask, self.close
        )
        # read-only, once for the day: a snapshot's columns are slices of these (views of
        # read-only arrays are read-only: no flag to set per expiry and column)
        for column in (
            self.strike, self.is_call, self.bid, self.ask, self.close, self.volume, self.oi,
            self.iv, self.delta, self.bid_size, self.ask_size, self.visible, self.close_ok,
            self.two_sided, self.mark, self.mid_price,
        ):  # fmt: skip
            column.flags.writeable = False
        expiry = arrays["expiry"].astype("datetime64[D]")
        # proleptic ordinals (date.toordinal) of each row's expiry, for the composite keys
        self._ordinals = expiry.astype(np.int64) + EPOCH_ORDINAL
        self._keys: np.ndarray | None = None
        self._order: np.ndarray | None = None
        self._checked: bool | None = None
        self._all_visible: bool | None = None
        self.slices: dict[date, tuple[int, int]] = {}
        if expiry.size:
            starts = [0, *(np.flatnonzero(expiry[1:] != expiry[:-1]) + 1).tolist()]
            ends = [*starts[1:], int(expiry.size)]
            self.slices = dict(zip(expiry[starts].tolist(), zip(starts, ends), strict=True))

    def rows(self, contracts: list[OptionContract]) -> np.ndarray:
        """The rows of ``contracts`` in one vectorised search (``-1`` where the file has none)."""
        out = np.full(len(contracts), -1, dtype=np.int64)
        if not contracts or not self.strike.size:
            return out
        keys = self._day_keys()
        n = len(contracts)
        ordinals = np.fromiter((c.expiry.toordinal() for c in contracts), dtype=np.int64, count=n)
        strikes = np.fromiter((c.strike for c in contracts), dtype=np.float64, count=n)
        calls = np.fromiter((c.right is Right.CALL for c in contracts), dtype=np.bool_, count=n)
        # (expiry, strike to 1/20, right) as one sortable integer, calls first as in the files
        want = ((ordinals << 23) + np.rint(strikes * 20).astype(np.int64)) * 2 + (~calls)
        j = np.searchsorted(keys, want)
        j = np.minimum(j, keys.size - 1)
        hit = keys[j] == want
        order = self._order
        rows = order[j] if order is not None else j
        hit &= self.strike[rows] == strikes  # the key rounds strikes: confirm exactly
        out[hit] = rows[hit]
        for m in np.flatnonzero(~hit & (keys[j] == want)):  # a finer strike grid: exact search
            out[m] = self.row(contracts[int(m)])
        return out

    def _day_keys(self) -> np.ndarray:
        if self._keys is None:
            ordinals = self._ordinals
            keys = np.asarray(
                (ordinals.astype(np.int64) << 23) + np.rint(self.strike * 20).astype(np.int64),
                dtype=np.int64,
            ) * 2 + (~self.is_call).astype(np.int64)
            if keys.size > 1 and not bool((keys[1:] >= keys[:-1]).all()):
                self._order = np.argsort(keys, kind="stable")
                keys = keys[self._order]
            self._keys = keys
        return self._keys

    def inside_bounds(self, rows: np.ndarray, marks: np.ndarray) -> np.ndarray | None:
        """For held legs at ``rows`` (visible, without a usable quote) marked at ``marks``:
        whether each mark lies inside its no-arbitrage bounds from the nearest quoted strikes
        of its expiry and right, or has no such neighbour -- what
        :func:`~workbench.engine.markbounds.marks_inside_bounds` finds on the expiry's
        snapshot, for every expiry at once. Rows of one expiry and right ascend by strike in
        the file, so a leg's quoted neighbours are the quoted rows of its right just before
        and after it. ``None`` when rows repeat an (expiry, strike, right) (checked by the
        expiry's own snapshot)."""
        from workbench.engine.markbounds import inside_neighbours

        if not self.rows_checked():
            return None
        out = np.ones(rows.size, dtype=np.bool_)
        calls = self.is_call[rows]
        for is_call in (False, True):
            legs = np.flatnonzero(calls == is_call)
            if not legs.size:
                continue
            quoted = np.flatnonzero(self.two_sided & self.visible & (self.is_call == is_call))
            n = int(quoted.size)
            if n == 0:
                continue  # no quoted neighbour anywhere: left as they are
            r = rows[legs]
            p = np.searchsorted(quoted, r)
            lo = quoted[np.maximum(p - 1, 0)]
            hi = quoted[np.minimum(p, n - 1)]
            own = self._ordinals[r]
            has_lo = (p > 0) & (self._ordinals[lo] == own)
            has_hi = (p < n) & (self._ordinals[hi] == own)
            out[legs] = inside_neighbours(
                has_lo, self.strike[lo], (self.bid[lo] + self.ask[lo]) / 2.0,
                has_hi, self.strike[hi], (self.bid[hi] + self.ask[hi]) / 2.0,
                self.strike[r], is_call, marks[legs],
            )  # fmt: skip
        return out

    def all_visible(self) -> bool:
        """Whether every row has its bar at the day's tick (an end-of-day file's one bar a
        day), found once for the day."""
        if self._all_visible is None:
            self._all_visible = bool(self.visible.all())
        return self._all_visible

    def rows_checked(self) -> bool:
        """Whether every row passes :class:`~workbench.engine.selection.ChainSnapshot`'s row
        checks (positive strikes, deltas signed per right, no (expiry, strike, right) twice),
        found once for the day; then the day's snapshots skip them. ``False``: each snapshot
        is checked, which names what is wrong."""
        if self._checked is None:
            from workbench.engine.selection import ChainSnapshot

            keys = self._day_keys()
            self._checked = bool((keys[1:] != keys[:-1]).all()) and ChainSnapshot.rows_ok(
                self.strike, self.is_call, self.delta
            )
        return self._checked

    def row(self, contract: OptionContract) -> int:
        """The row of ``contract`` (``-1`` when the file has none)."""
        span = self.slices.get(contract.expiry)
        if span is None:
            return -1
        a, b = span
        strike = contract.strike
        j = a + int(np.searchsorted(self.strike[a:b], strike, side="left"))
        want = contract.right is Right.CALL
        while j < b and self.strike[j] == strike:
            if bool(self.is_call[j]) == want:
                return j
            j += 1
        return -1


class EodDayMarket(DayMarket):
    """A :class:`DayMarket` for one-tick days that reads the day's option file once (see the
    module docstring). With a clock of more than one tick, or a strategy's own clock, every
    method falls back to the per-instrument :class:`DayMarket`."""

    def __init__(self, *args: Any, ahead: Future[Any] | None = None, **kwargs: Any) -> None:
        self._eod_reads = 0
        #: this day's spot and option arrays being read by a :class:`ReadAhead`
        self._ahead = ahead
        self._prefetched: tuple[Any, Any] | None = None
        super().__init__(*args, **kwargs)
        self._eod: _Day | None = None
        self._has_file: bool | None = None
        #: expiry -> its snapshot; :data:`_DAY` -> the whole day's (see :meth:`_day_snapshot`)
        self._eod_snaps: dict[Any, Any] = {}

    def _default_spot(self) -> TickSeries:
        """The day's spot bar(s) read directly (the few columns, one small file), the same
        clock and aligned series as the per-instrument path builds through its day cache."""
        found, cached = self._lru.get(self._key("spot-default"))
        if found and cached is not None:
            clock_ns, clock, times, fp, spot = cached
            self._set_clock(clock_ns, clock, times, fp)
            return spot  # type: ignore[no-any-return]
        arrays = self._read_ahead()[0]
        if arrays is None:
            arrays = _spot_arrays(self.store, self.underlying, self.day)
        if arrays is None:  # missing, nulls, odd types: the day cache's path and its errors
            return super()._default_spot()
        from workbench.data.series import series_from_arrays
        from workbench.engine.market import _clock_list, spot_underlying_of, ticks_from_series
        from workbench.engine.pool import clock_fingerprint

        clock_ns = arrays["ts"].astype("datetime64[ns]").view(np.int64)
        clock = _clock_list(clock_ns)
        times = [t.time() for t in clock]
        fp = clock_fingerprint(clock_ns)
        name = spot_underlying_of(self.store, self.underlying)
        spot = _one_bar_spot(arrays) if clock_ns.size == 1 else None
        if spot is None:
            spot = ticks_from_series(series_from_arrays(name, clock_ns, arrays, clock_ns), clock_ns)
        size = spot.nbytes + clock_ns.nbytes + 120 * len(clock)
        self._lru.put(self._key("spot-default"), (clock_ns, clock, times, fp, spot), size)
        self._set_clock(clock_ns, clock, times, fp)
        self._eod_reads = getattr(self, "_eod_reads", 0) + 1
        return spot

    @property
    def columnar(self) -> bool:
        """One tick, the default clock, and the day's option file there (a day without it
        goes the per-instrument way, which says which file is missing)."""
        if self.n_ticks != 1 or self._custom_clock is not None:
            return False
        if self._has_file is None:
            read = self._read_ahead() if self._ahead is not None else self._prefetched
            if self._eod is not None or (read is not None and read[1] is not None):
                self._has_file = True
            else:
                self._has_file = self.store.options_path(self.underlying, self.day).is_file()
        return self._has_file

    def _eod_day(self) -> _Day:
        # Not kept in the process LRU: a positional run reads each day once, and holding
        # years of whole chains would make memory grow with the days (the target is flat).
        if self._eod is None:
            arrays = self._read_ahead()[1]
            self._prefetched = (None, None)  # the day holds them now
            if arrays is None:
                arrays = self.store.day_columns(self.underlying, self.day, COLUMNS)
            self._eod_reads += 1
            self._eod = _Day(arrays, int(self.clock_ns[0]))
        return self._eod

    def _read_ahead(self) -> tuple[Any, Any]:
        """The read-ahead's (spot arrays, option arrays) for this day; ``None`` for each it
        has not got (no read-ahead, no file, or the read failed: the day is then read here,
        which gives the error its usual way)."""
        if self._prefetched is None:
            pending, self._ahead = self._ahead, None
            got: tuple[Any, Any] = (None, None)
            if pending is not None:
                with contextlib.suppress(Exception):  # only a hint: read again here
                    got = pending.result()
            self._prefetched = got
        return self._prefetched

    @property
    def expiries(self) -> list[date]:
        if not self.columnar:
            return super().expiries
        if self._expiries is None:
            self._expiries = sorted(e for e in self._eod_day().slices if e >= self.day)
        return self._expiries

    def ticks(self, contract: OptionContract) -> TickSeries | None:
        if not self.columnar:
            return super().ticks(contract)
        try:
            return self._ticks[contract]
        except KeyError:
            pass
        day = self._eod_day()
        r = day.row(contract)
        series = None if r < 0 else _one_tick(day, r)
        self._ticks[contract] = series
        return series

    def ticks_many(
        self,
        contracts: list[OptionContract],
        *,
        quoted: list[bool] | None = None,
        inside: list[bool] | None = None,
    ) -> list[TickSeries | None]:
        """:meth:`ticks` of many contracts with one vectorised row search (the open legs of a
        positional book, bound each morning). The series are built here, not remembered: each
        contract is asked for once a day (a later :meth:`ticks` builds an equal series).

        ``quoted``: extended, on a one-tick day, with one flag per contract: its bar is visible
        at the tick and has a usable two-sided quote (:func:`~workbench.engine.ticks.usable_quote`
        of its bid and ask), found for all of them at once; left as given otherwise.

        ``inside``: likewise, one flag per contract: its bar is visible, has no usable quote,
        and its mark lies inside its no-arbitrage bounds (or has no quoted neighbour), so the
        day-end bounding leaves it as it is (:meth:`_Day.inside_bounds`)."""
        if not self.columnar:
            return [self.ticks(c) for c in contracts]
        if not contracts:
            return []
        day = self._eod_day()
        if len(contracts) <= _FEW_CONTRACTS:  # a search each beats keying the whole day
            rows = np.fromiter(map(day.row, contracts), dtype=np.int64, count=len(contracts))
        else:
            rows = day.rows(contracts)
        hit = rows >= 0
        r = np.where(hit, rows, 0)
        # the fields every held leg's day reads (its close, its mark, their lags) for all of
        # them at once, as Python values; the quote and size fields only when a leg reads them
        visible = day.visible[r] & hit
        if quoted is not None:
            quoted.extend((visible & day.two_sided[r]).tolist())
        close = day.close[r]
        mark = day.mark[r]
        close_ok = visible & day.close_ok[r]
        mark_ok = visible & (mark == mark)
        if inside is not None:
            bare = np.flatnonzero(visible & ~day.two_sided[r])
            flags = np.zeros(len(contracts), dtype=np.bool_)
            if not bare.size:  # (a book of quoted legs costs nothing here)
                inside.extend(flags.tolist())
            elif _positive(float(self.spot_ticks.close[0])):
                # (a spot a snapshot refuses: the legs are bounded the per-expiry way, which
                # raises where it always did)
                found = day.inside_bounds(r[bare], np.where(mark_ok, mark, np.nan)[bare])
                if found is not None:
                    flags[bare] = found
                    inside.extend(flags.tolist())
        # the lag fields take one of two values: shared, immutable one-tick tuples
        zero, none, nan1 = _ZERO, _NO_LAG_1, _NAN_1
        new = object.__new__
        out: list[TickSeries | None] = []
        append = out.append
        for found, vis, c_ok, c, m_ok, m, row in zip(
            hit.tolist(),
            visible.tolist(),
            close_ok.tolist(),
            close.tolist(),
            mark_ok.tolist(),
            mark.tolist(),
            r.tolist(),
            strict=True,
        ):
            if not found:
                append(None)
                continue
            t = new(_BoundTick)
            t.close = (c,) if c_ok else nan1  # type: ignore[assignment]
            t.close_lag = zero if c_ok else none  # type: ignore[assignment]
            t.mark = (m,) if m_ok else nan1  # type: ignore[assignment]
            t.mark_lag = zero if m_ok else none  # type: ignore[assignment]
            t._day = day
            t._r = row
            t._vis = vis
            append(t)
        return out

    def prefetch(self, expiry: date, strikes: Any, rights: Any) -> None:
        if not self.columnar:
            super().prefetch(expiry, strikes, rights)
        # the whole day is read at the first need: nothing to hint

    def snapshot(self, expiry: date, i: int) -> Any:
        if not self.columnar:
            return super().snapshot(expiry, i)
        self._check_tick(i)
        snap = self._eod_snaps.get(expiry)
        if snap is not None:
            return snap
        from workbench.engine.greeks import years_to_settlement
        from workbench.engine.selection import ChainSnapshot

        day = self._eod_day()
        a, b = day.slices.get(expiry, (0, 0))
        vis = day.visible[a:b]
        # every row visible (an end-of-day file's one bar a day): the slices themselves,
        # read-only views of the day's read-only arrays; otherwise the visible rows (copies)
        every = bool(vis.all())

        def rows(column: np.ndarray) -> np.ndarray:
            if every:
                return column[a:b]
            out = column[a:b][vis]
            out.flags.writeable = False
            return out

        ts = self.clock[0]
        build = ChainSnapshot.from_checked_rows if day.rows_checked() else ChainSnapshot
        snap = build(
            underlying=self.underlying,
            ts=ts,
            spot=float(self.spot_ticks.close[0]),
            expiry=expiry,
            tte=years_to_settlement(ts, expiry, self.facts.settlement_clock),
            strike=rows(day.strike),
            is_call=rows(day.is_call),
            bid=rows(day.bid),
            ask=rows(day.ask),
            close=rows(day.close),
            volume=rows(day.volume),
            oi=rows(day.oi),
            iv=rows(day.iv),
            delta=rows(day.delta),
            lag=np.zeros(b - a if every else int(vis.sum()), dtype=np.int64),
            rate=self.rate,
            div_yield=self.div_yield,
            strike_step=self.strike_step,
        )
        if every:  # every row: the day's quote columns are the snapshot's
            snap.preset_quotes(rows(day.two_sided), rows(day.mid_price))
        self._eod_snaps[expiry] = snap
        return snap

    def select_each(
        self,
        i: int,
        right: Right | str,
        expiries: Sequence[Any],
        rule: Any,
        values: Sequence[float] | None = None,
    ) -> list[OptionContract | None]:
        """:meth:`DayMarket.select_each` on the day's whole chain at once
        (:func:`~workbench.engine.selection_batch.resolve_strikes`); an expiry the batch
        leaves undecided (see that module) goes through :meth:`select`, as does everything
        when the day is not columnar, the spot is stale or an expiry is not a listed date."""
        from workbench.engine.selection_batch import BATCH_METHODS, resolve_strikes

        dates = [e.date() if isinstance(e, datetime) else e for e in expiries]
        if (
            len(dates) < 2
            or rule.method not in BATCH_METHODS
            or not self.columnar
            or not all(type(e) is date for e in dates)
            or self.stale_spot(i) is not None
            or not _valid_values(rule.method, values, len(dates))
        ):
            return super().select_each(i, right, expiries, rule, values)
        day = self._eod_day()  # (the tick was checked by stale_spot)
        if not day.rows_checked():  # each expiry's snapshot names what is wrong
            return super().select_each(i, right, expiries, rule, values)
        listed = set(self.expiries)
        every = day.all_visible()
        spans = []
        for e in dates:
            span = day.slices.get(e, (0, 0)) if e in listed else (0, 0)
            # an expiry with rows not visible at the tick: its own snapshot keeps the visible
            if not every and not day.visible[span[0] : span[1]].all():
                span = (0, 0)
            spans.append(span)
        choices = resolve_strikes(self._day_snapshot(day), right, rule, spans, values)
        kind = Right.parse(right)
        out: list[OptionContract | None] = []
        for k, (e, choice) in enumerate(zip(dates, choices, strict=True)):
            if choice is None:  # decided on its own snapshot (and raises as select would)
                one = rule if values is None else rule_with_value(rule, values[k])
                out.append(self.select(i, right, e, one, {}))
                continue
            self.last_selection_reason = choice.reason
            out.append(OptionContract(self.underlying, e, choice.strike, kind))  # type: ignore[arg-type]
        return out

    def _day_snapshot(self, day: _Day) -> Any:
        """The whole day's chain as one snapshot (file order), for
        :func:`~workbench.engine.selection_batch.resolve_strikes`: only its row arrays and
        filters are read (its expiry and time to expiry are placeholders)."""
        snap = self._eod_snaps.get(_DAY)
        if snap is None:
            from workbench.engine.selection import ChainSnapshot

            any_expiry = next(iter(day.slices), self.day)
            snap = ChainSnapshot.from_checked_rows(
                underlying=self.underlying,
                ts=self.clock[0],
                spot=float(self.spot_ticks.close[0]),
                expiry=any_expiry,
                tte=0.0,
                strike=day.strike,
                is_call=day.is_call,
                bid=day.bid,
                ask=day.ask,
                close=day.close,
                volume=day.volume,
                oi=day.oi,
                iv=day.iv,
                delta=day.delta,
                lag=np.zeros(day.strike.size, dtype=np.int64),
                rate=self.rate,
                div_yield=self.div_yield,
                strike_step=self.strike_step,
            )
            snap.preset_quotes(day.two_sided, day.mid_price)
            self._eod_snaps[_DAY] = snap
        return snap

    @property
    def fetch_count(self) -> int:
        return super().fetch_count + self._eod_reads


class _BoundTick(TickSeries):
    """The one-tick :class:`TickSeries` of row ``_r`` of a :class:`_Day`, as
    :meth:`EodDayMarket.ticks_many` binds a held leg each morning: its close, mark and their
    lags are set at once (every held leg's mark is read every day), the bar's quote, size and
    row fields the first time one of them is read (a leg traded today, or one without a
    two-sided quote) -- with the values :func:`_one_tick` gives, so the series is the same."""

    __slots__ = ("_day", "_r", "_vis")
    _day: _Day
    _r: int
    _vis: bool

    def __getattr__(self, name: str) -> Any:  # only for a field not set yet
        if name in _LATER:
            try:
                day, r, vis = self._day, self._r, self._vis
            except AttributeError:
                raise AttributeError(name) from None
            self.row = self.row_lag = _ZERO if vis else _NO_LAG_1  # type: ignore[assignment]
            self.bid = (float(day.bid[r]),)  # type: ignore[assignment]
            self.ask = (float(day.ask[r]),)  # type: ignore[assignment]
            self.last = (float(day.close[r]),)  # type: ignore[assignment]
            self.volume = (float(day.volume[r]),)  # type: ignore[assignment]
            self.oi = (float(day.oi[r]),)  # type: ignore[assignment]
            self.open_first = math.nan
            self.nbytes = 200
            self.bid_size = (float(day.bid_size[r]),)  # type: ignore[assignment]
            self.ask_size = (float(day.ask_size[r]),)  # type: ignore[assignment]
            return object.__getattribute__(self, name)
        raise AttributeError(name)


#: the fields a :class:`_BoundTick` fills when first read
_LATER = frozenset(
    ("row", "row_lag", "bid", "ask", "last", "volume", "oi", "open_first", "nbytes",
     "bid_size", "ask_size")
)  # fmt: skip


# one-tick fields shared by every bound series (tuples: nobody can change them); ``row`` is
# -1 (no bar) where the lag is NO_LAG, as align() gives
_ZERO = (0,)
_NO_LAG_1 = (NO_LAG,)
_NAN_1 = (math.nan,)
assert NO_LAG == -1


#: Days a :class:`ReadAhead` reads ahead of the engine: a few, so the first day of a month (when
#: the column cache checks and opens the month's file) does not hold the engine up.
DEPTH = 3


class ReadAhead:
    """Reads the spot bar and the option columns of the next days of a positional end-of-day
    run in a background thread while the engine simulates the current one, so what is slow
    (Parquet decode, building a month of the column cache; both release the GIL) is off the
    engine's path on a machine with a second core.

    A day whose month is already in the :mod:`~workbench.data.eod_cache` is read on the
    caller's thread instead: that read takes tens of microseconds, and handing it to a thread
    costs more than it saves (the two threads take turns at the GIL: a warm 5-year every-entry
    study ran 5.2 s with every day read by the thread and 4.0 s with cached days read here).
    The thread then only reads what the cache does not hold, and builds a month the first
    time one of its days is read ahead (building a whole month ahead of the engine was tried
    and measured slower: the build is mostly Python and the two threads took turns).

    Each thread has its own :class:`~workbench.data.store.MarketStore` (a store and its DuckDB
    connection are not shared between threads) and its own cache object (the caller's only
    opens months, never builds them), closed by :meth:`close`. What is read is only a hint:
    :meth:`EodDayMarket._eod_day` uses the arrays when the read succeeded and reads the day
    itself otherwise (so an error is raised, with its usual message, where it always was).
    Arrays are the same as :meth:`~workbench.data.store.MarketStore.day_columns` gives.
    """

    def __init__(self, data: str | Path, underlying: str, days: Sequence[date]) -> None:
        self.data = Path(data)
        self.underlying = underlying
        self.days = list(days)
        self._next = {d: self.days[j + 1 : j + 1 + DEPTH] for j, d in enumerate(self.days)}
        self._pending: dict[date, Future[Any]] = {}
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="eod-read-ahead")
        self._local = threading.local()
        self._stores: list[Any] = []
        self._lock = threading.Lock()
        #: the thread's cache (builds months) and the caller's (opens built ones)
        self._cache: EodColumnCache | None = None
        self._here: EodColumnCache | None = None
        self._thread_cached = 0
        self._here_cached = 0
        #: months this thread looked for in the cache and did not find (see _may_look)
        self._missed: set[tuple[int, int]] = set()

    @property
    def cached_days(self) -> int:
        """Days served from the column cache (the rest were read from Parquet)."""
        return self._thread_cached + self._here_cached

    def take(self, day: date) -> Future[Any]:
        """The read of ``day`` (done now from the cache, else the thread's, started now unless
        already under way); the next :data:`DEPTH` days' reads the cache cannot serve here
        start behind it."""
        pending = self._pending.pop(day, None)
        if pending is None:
            got = self._cached_here(day)
            if got is not None:
                pending = Future()
                pending.set_result(got)
            else:
                pending = self._pool.submit(self._read, day)
        for after in self._next.get(day, ()):
            if after not in self._pending and not self._cache_has(after):
                self._pending[after] = self._pool.submit(self._read, after)
        return pending

    def _store(self) -> Any:
        """This thread's store."""
        store = getattr(self._local, "store", None)
        if store is None:
            from workbench.data.store import MarketStore

            store = MarketStore(self.data)
            self._local.store = store
            with self._lock:
                self._stores.append(store)
        return store

    def _here_cache(self) -> EodColumnCache | None:
        """The caller's cache: it only opens built months (reading the catalog and the files'
        paths), so it uses the run's own pooled store on this thread rather than opening a
        second one (a store's catalog load and DuckDB connection were ~30 ms of every run)."""
        if self._here is None:
            if cache_root() is None:
                return None
            from workbench.engine.pool import open_store

            self._here = self._open_cache(open_store(self.data), build=False)
        return self._here

    def _cached_here(self, day: date) -> tuple[Any, Any] | None:
        """``day`` from a month of the cache already built, read on this thread (``None``:
        not there, or anything went wrong -- only a hint, the thread or the engine reads it)."""
        try:
            cache = self._here_cache()
            if cache is None or self._failed_month(day) or not self._may_look(day):
                return None
            got = cache.get(day)
            if got is None and not cache.has(day):
                self._missed.add((day.year, day.month))
        except Exception:  # only a hint: the day is read elsewhere
            return None
        if got is not None:
            self._here_cached += 1
        return got

    def _cache_has(self, day: date) -> bool:
        """Whether :meth:`take` will serve ``day`` here (its month is open, or built)."""
        try:
            cache = self._here_cache()
            if cache is None or self._failed_month(day) or not self._may_look(day):
                return False
            if cache.ready(day):  # opens the month when it is there
                return True
            self._missed.add((day.year, day.month))
            return False
        except Exception:  # only a hint: the thread reads it
            return False

    def _may_look(self, day: date) -> bool:
        """Whether this thread should look for ``day``'s month in the cache: the first time,
        and after a miss only once the thread has the month (built or found). Looking means
        hashing the month's source files' sizes and times (~0.5 ms); a first run looked for
        each month not yet built once a day for each day ahead, 300 times in 60 months."""
        key = (day.year, day.month)
        if key not in self._missed:
            return True
        thread = self._cache
        if thread is not None and thread.has(day):
            self._missed.discard(key)
            return True
        return False

    def _failed_month(self, day: date) -> bool:
        """The thread tried to build ``day``'s month and could not: its days are the thread's
        (not looked for here day after day)."""
        thread = self._cache
        return thread is not None and thread.tried(day) and not thread.has(day)

    def _read(self, day: date) -> tuple[Any, Any]:
        """(the spot arrays, the option columns) of ``day``; ``None`` for a missing file."""
        store = self._store()
        cache = self._cache
        if cache is None:
            cache = self._cache = self._open_cache(store)
        cached = cache.get(day)
        if cached is not None:
            self._thread_cached += 1
            return cached
        spot = _spot_arrays(store, self.underlying, day)
        if not store.options_path(self.underlying, day).is_file():
            return spot, None
        return spot, store.day_columns(self.underlying, day, COLUMNS)

    def _open_cache(self, store: Any, build: bool = True) -> EodColumnCache:
        """A :class:`~workbench.data.eod_cache.EodColumnCache` of the run's days, building a
        month (unless ``build`` is false) from this thread's store with the reads
        :meth:`_read` makes without it."""
        from workbench.engine.market import spot_underlying_of

        name = self.underlying
        spot_name = spot_underlying_of(store, name)
        return EodColumnCache(
            self.data,
            name,
            store.days(name),
            read_spot=lambda d: _spot_arrays(store, name, d),
            read_options=lambda d: store.day_columns(name, d, COLUMNS),
            # the month fingerprints stat every day file: strings, not Paths
            spot_path=lambda d: store.day_file("spot", spot_name, d),
            options_path=lambda d: store.day_file("options", name, d),
            columns=COLUMNS,
            build=build,
        )

    def close(self) -> None:
        """Stop reading ahead and close the thread's store."""
        for pending in self._pending.values():
            pending.cancel()
        self._pending.clear()
        self._pool.shutdown(wait=True)
        for cache in (self._cache, self._here):
            if cache is not None:
                cache.close()
        with self._lock:
            for store in self._stores:
                store.close()
            self._stores.clear()


def _one_tick(day: _Day, r: int) -> TickSeries:
    """The one-tick :class:`TickSeries` of row ``r``."""
    return _tick_series(
        bool(day.visible[r]),
        float(day.close[r]),
        bool(day.close_ok[r]),
        float(day.mark[r]),
        float(day.bid[r]),
        float(day.ask[r]),
        float(day.volume[r]),
        float(day.oi[r]),
        float(day.bid_size[r]),
        float(day.ask_size[r]),
    )


def _tick_series(
    visible: bool,
    close: float,
    close_valid: bool,
    mark: float,
    bid: float,
    ask: float,
    volume: float,
    oi: float,
    bid_size: float = math.nan,
    ask_size: float = math.nan,
) -> TickSeries:
    """What :func:`~workbench.engine.ticks.align` gives for one bar on a one-tick clock,
    without its NumPy work (the per-field lists hold one value)."""
    close_ok = visible and close_valid
    mark_ok = visible and mark == mark
    return TickSeries(
        close=[close if close_ok else math.nan],
        close_lag=[0 if close_ok else NO_LAG],
        mark=[mark if mark_ok else math.nan],
        mark_lag=[0 if mark_ok else NO_LAG],
        row=cast(Any, [0 if visible else -1]),
        row_lag=cast(Any, [0 if visible else NO_LAG]),
        bid=cast(Any, [bid]),
        ask=cast(Any, [ask]),
        last=cast(Any, [close]),
        volume=cast(Any, [volume]),
        oi=cast(Any, [oi]),
        open_first=math.nan,
        nbytes=200,
        bid_size=cast(Any, [bid_size]),
        ask_size=cast(Any, [ask_size]),
    )


def _one_bar_spot(arrays: dict[str, np.ndarray]) -> TickSeries | None:
    """What ``ticks_from_series(series_from_arrays(...))`` gives for a one-bar spot day on its
    own one-tick clock, without the general alignment's array work (an end-of-day run builds
    one a day); ``None`` when the arrays are not exactly that (the general path then)."""
    if set(arrays) != set(_SPOT_COLUMNS) or arrays["ts"].size != 1:
        return None
    close = float(arrays["close"][0])
    ok = math.isfinite(close) and close >= 0
    value = close if ok else math.nan
    lag = 0 if ok else NO_LAG
    return TickSeries(
        close=[value],
        close_lag=[lag],
        mark=[value],
        mark_lag=[lag],
        row=np.zeros(1, dtype=np.int64),
        row_lag=np.zeros(1, dtype=np.int64),
        bid=np.full(1, np.nan),
        ask=np.full(1, np.nan),
        last=np.array(arrays["close"], dtype=np.float64),
        volume=np.array(arrays["volume"], dtype=np.float64),
        oi=np.zeros(1),
        open_first=float(np.asarray(arrays["open"], dtype=np.float64)[0]),
        nbytes=240,  # align()'s estimate for one bar on one tick
    )


_SPOT_COLUMNS = ("ts", "open", "high", "low", "close", "volume")


def _spot_arrays(store: Any, underlying: str, day: date) -> dict[str, np.ndarray] | None:
    """The day's spot file as the store's spot arrays, read directly; ``None`` when the
    direct read cannot answer (the caller falls back to the store's checked path)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from workbench.engine.market import spot_underlying_of

    path = store.spot_path(spot_underlying_of(store, underlying), day)
    try:
        table = pq.ParquetFile(path).read(columns=list(_SPOT_COLUMNS), use_threads=False)
    except (OSError, pa.ArrowInvalid, KeyError):
        return None
    if any(c.null_count for c in table.columns) or table.num_rows == 0:
        return None
    out = {name: table.column(name).to_numpy() for name in _SPOT_COLUMNS}
    if out["ts"].dtype != np.dtype("datetime64[us]") or out["close"].dtype != np.float64:
        return None
    if out["ts"].size > 1 and not bool((np.diff(out["ts"].view(np.int64)) > 0).all()):
        return None
    return out
