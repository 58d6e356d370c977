"""One trading day of one underlying as the engine reads it: clock, spot, instruments, chains.

:class:`DayMarket` wraps the data layer's :class:`~workbench.data.cache.DayCache` (the engine's
only access to market data) and turns what it returns into tick-aligned arrays
(:class:`~workbench.engine.ticks.TickSeries`), reusing the process-wide LRU
(:mod:`workbench.engine.pool`) so a warm run does not query DuckDB. Everything here is engine
internal: strategies see it only through the contexts, which pass the current tick index.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.engine.pool import SeriesLRU, clock_fingerprint
from workbench.engine.ticks import NO_LAG, TickSeries, align
from workbench.model.contracts import OptionContract
from workbench.model.enums import Right, Settlement, SettlementTime
from workbench.model.trades import Quote

if TYPE_CHECKING:
    from workbench.data.cache import DayCache
    from workbench.data.series import Series
    from workbench.data.store import MarketStore
    from workbench.engine.iv_rank import ClosingIvs
    from workbench.engine.market_series import DaySeries, RunSeries, SeriesValue
    from workbench.engine.selection import ChainSnapshot, Selection


@dataclass(frozen=True, slots=True)
class InstrumentFacts:
    """Contract terms of one underlying on one day (registry first, else the dataset catalog).

    ``lot_size`` units of underlying per contract; ``strike_step`` price units;
    ``settlement_clock`` exchange-local time the settlement price is fixed.
    """

    underlying: str
    lot_size: int
    strike_step: float
    settlement: Settlement
    settlement_time: SettlementTime
    settlement_clock: time

    @classmethod
    def resolve(cls, store: MarketStore, underlying: str, day: date) -> InstrumentFacts:
        from workbench.model.instruments import UnknownInstrumentError, get_instrument

        try:
            spec = get_instrument(underlying)
        except UnknownInstrumentError:
            spec = None
        if spec is not None:
            return cls(
                underlying=underlying,
                lot_size=int(spec.lot_size(day)),
                strike_step=float(spec.strike_step_on(day)),
                settlement=Settlement(spec.settlement),
                settlement_time=SettlementTime(spec.settlement_time),
                settlement_clock=spec.settlement_clock,
            )
        summary = store.catalog.underlyings.get(underlying)
        if summary is None or summary.lot_size is None or summary.strike_step is None:
            raise ValueError(
                f"underlying {underlying!r}: not in the instrument registry and dataset "
                f"{store.catalog.name!r} gives no lot_size/strike_step for it"
            )
        # Without a registry entry the session hours are unknown: the settlement instant is taken
        # as the start (AM) or the end (PM) of the expiry day for time-to-expiry purposes.
        when = SettlementTime(summary.settlement_time or "PM")
        return cls(
            underlying=underlying,
            lot_size=int(summary.lot_size),
            strike_step=float(summary.strike_step),
            settlement=Settlement(summary.settlement or "cash"),
            settlement_time=when,
            settlement_clock=time(0, 0) if when is SettlementTime.AM else time(23, 59, 59),
        )


def _clock_list(clock_ns: np.ndarray) -> list[datetime]:
    return clock_ns.astype("datetime64[ns]").astype("datetime64[us]").astype(datetime).tolist()  # type: ignore[no-any-return]


def ticks_from_series(series: Series, clock_ns: np.ndarray) -> TickSeries:
    """Align a data-layer :class:`~workbench.data.series.Series` to ``clock_ns``."""
    return align(
        series.ts,
        series.close,
        clock_ns,
        bid=series.bid,
        ask=series.ask,
        open_=series.open,
        volume=series.volume,
        oi=series.oi,
        bid_size=series.extra.get("bid_size"),
        ask_size=series.extra.get("ask_size"),
    )


@dataclass(slots=True)
class _ChainTicks:
    """One expiry's instruments laid onto the clock: ``rows[g, i]`` = global row at tick i."""

    strike: np.ndarray
    is_call: np.ndarray
    rows: np.ndarray
    lags: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    oi: np.ndarray
    iv: np.ndarray
    delta: np.ndarray
    nbytes: int


class DayMarket:
    """Market data of ``underlying`` on ``day`` for one run (engine internal).

    Parameters
    ----------
    store : the open dataset.
    underlying : options underlying (``NIFTY``).
    day : trading day.
    lru : process-wide cache of aligned series (see :mod:`workbench.engine.pool`).
    rate : the run's risk-free rate (continuous, per year), carried into every chain snapshot
        (deltas computed for contract discovery use it, as the engine's Greeks do).
    div_yield : continuous dividend yield per year for the snapshots; the engine prices off spot
        without one (0.0), so its Greeks and margin use none either.
    """

    #: the series the run reads beside its own dataset (set by the runner; ``None``: its own only)
    run_series: RunSeries | None = None
    _day_series: DaySeries | None = None
    _iv_history: ClosingIvs | None = None
    _iv_now: dict[int, float] | None = None

    def __init__(
        self,
        store: MarketStore,
        underlying: str,
        day: date,
        lru: SeriesLRU,
        *,
        rate: float = 0.0,
        div_yield: float = 0.0,
    ) -> None:
        for name, value in (("rate", rate), ("div_yield", div_yield)):
            if not (isinstance(value, int | float) and math.isfinite(value)):
                raise ValueError(f"DayMarket: {name} must be a finite number, got {value!r}")
        self.rate = float(rate)
        self.div_yield = float(div_yield)
        self.store = store
        self.underlying = underlying
        self.day = day
        self.version = store.catalog.content_version
        self._lru = lru
        self._cache_obj: DayCache | None = None
        self._custom_clock: np.ndarray | None = None
        found, facts = lru.get(self._key("facts"))
        if not found:
            facts = InstrumentFacts.resolve(store, underlying, day)
            lru.put(self._key("facts"), facts, 256)
        self.facts: InstrumentFacts = facts
        self.lot_size = self.facts.lot_size
        self.strike_step = self.facts.strike_step
        self._ticks: dict[OptionContract, TickSeries | None] = {}
        self._chains: dict[date, _ChainTicks] = {}
        self.last_selection_reason = ""
        #: the spot staleness tolerated by selection, in ticks (the strategy's max_spot_lag)
        self.max_spot_lag = 1
        self._expiries: list[date] | None = None
        self._previous_close: float | None = None
        self.clock: list[datetime] = []
        self.times: list[time] = []
        self.clock_ns = np.zeros(0, dtype=np.int64)
        self._fp = ""
        self.n_ticks = 0
        self.spot_ticks: TickSeries = self._default_spot()

    @property
    def _cache(self) -> DayCache:
        """The day's :class:`DayCache`, created on first need (a warm run may never need it)."""
        if self._cache_obj is None:
            from workbench.data.cache import DayCache

            self._cache_obj = DayCache(
                self.store, self.underlying, self.day, clock=self._custom_clock
            )
        return self._cache_obj

    # -- clock and spot -------------------------------------------------------------------
    def _key(self, *parts: Any) -> tuple[Any, ...]:
        return (self.version, self.underlying, self.day, *parts)

    def _default_spot(self) -> TickSeries:
        found, cached = self._lru.get(self._key("spot-default"))
        if found and cached is not None:
            clock_ns, clock, times, fp, spot = cached
        else:
            clock_ns = np.asarray(self._cache.clock, dtype=np.int64)
            clock = _clock_list(clock_ns)
            times = [t.time() for t in clock]
            fp = clock_fingerprint(clock_ns)
            spot = ticks_from_series(self._cache.spot, clock_ns)
            size = spot.nbytes + clock_ns.nbytes + 120 * len(clock)
            self._lru.put(self._key("spot-default"), (clock_ns, clock, times, fp, spot), size)
        self._set_clock(clock_ns, clock, times, fp)
        return spot

    def _set_clock(
        self, clock_ns: np.ndarray, clock: list[datetime], times: list[time], fp: str
    ) -> None:
        self.clock_ns = clock_ns
        self.clock = clock
        self.times = times
        self.n_ticks = len(clock)
        self._fp = fp

    @property
    def default_clock(self) -> list[datetime]:
        """The day's spot bar timestamps (the clock unless the strategy gives its own)."""
        return list(self.clock)

    def use_clock(self, clock_ns: np.ndarray, clock: list[datetime]) -> None:
        """Replace the default clock by a strategy's (already validated, strictly increasing)."""
        if np.array_equal(clock_ns, self.clock_ns):
            return
        self._custom_clock = clock_ns
        self._cache_obj = None
        self._ticks.clear()
        self._chains.clear()
        self._set_clock(clock_ns, clock, [t.time() for t in clock], clock_fingerprint(clock_ns))
        self.spot_ticks = ticks_from_series(self._cache.spot, clock_ns)

    @property
    def open_spot(self) -> float:
        """The session's opening price: the first spot bar's open (its close if no open)."""
        first = self.spot_ticks.open_first
        if math.isfinite(first):
            return first
        return float(self.spot_ticks.close[0]) if self.n_ticks else math.nan

    @property
    def previous_close(self) -> float:
        """The previous session's last spot close: the last finite close of the dataset's latest
        spot day before :attr:`day` (outside the run's range too); NaN when the dataset has no
        earlier day. It is "now" before the day's first tick: nothing of the new day is read."""
        if self._previous_close is None:
            found, cached = self._lru.get(self._key("previous-close"))
            if found and cached is not None:
                self._previous_close = float(cached)
            else:
                self._previous_close = _previous_close(self.store, self.underlying, self.day)
                self._lru.put(self._key("previous-close"), self._previous_close, 64)
        return self._previous_close

    @property
    def close_spot(self) -> float:
        """The last spot close at or before the last tick."""
        return float(self.spot_ticks.close[-1]) if self.n_ticks else math.nan

    # -- expiries ------------------------------------------------------------------------
    @property
    def expiries(self) -> list[date]:
        """Expiries with data today that have not expired before today, ascending."""
        if self._expiries is None:
            found, cached = self._lru.get(self._key("expiries"))
            if found and cached is not None:
                listed = list(cached)
            else:
                listed = self._cache.expiries()
                self._lru.put(self._key("expiries"), tuple(listed), 64 + 32 * len(listed))
            self._expiries = [e for e in listed if e >= self.day]
        return self._expiries

    def resolve_expiry(self, expiry: int | date | Any) -> date:
        """An index into today's expiries (0 = nearest) or a listed date -> the expiry date."""
        listed = self.expiries
        if isinstance(expiry, datetime):
            expiry = expiry.date()
        if isinstance(expiry, date):
            if expiry not in listed:
                raise ValueError(
                    f"expiry {expiry} is not listed for {self.underlying} on {self.day} "
                    f"(listed: {', '.join(str(e) for e in listed[:8]) or 'none'})"
                )
            return expiry
        if isinstance(expiry, bool) or not isinstance(expiry, int | np.integer):
            from workbench.engine.selection import ExpiryRule, resolve_expiry

            if isinstance(expiry, ExpiryRule):
                choice = resolve_expiry(listed, self.day, expiry, underlying=self.underlying)
                if choice.expiry is None:
                    raise ValueError(f"expiry rule {expiry!r} on {self.day}: {choice.reason}")
                return choice.expiry
            raise TypeError(f"expiry must be an index, a date or an ExpiryRule, got {expiry!r}")
        index = int(expiry)
        if index < 0 or index >= len(listed):
            raise ValueError(
                f"expiry index {index} out of range: {len(listed)} expiries listed for "
                f"{self.underlying} on {self.day}"
            )
        return listed[index]

    def atm_strike(self, spot: float) -> float:
        from workbench.engine.selection import atm_target

        return atm_target(spot, self.strike_step)

    def contract(self, strike: float, right: Right | str, expiry: int | date) -> OptionContract:
        return OptionContract(
            self.underlying, self.resolve_expiry(expiry), strike, Right.parse(right)
        )

    # -- instruments ---------------------------------------------------------------------
    def ticks(self, contract: OptionContract) -> TickSeries | None:
        """The contract's aligned day (``None`` if it has no bars today); fetched at most once."""
        try:
            return self._ticks[contract]
        except KeyError:
            pass
        key = self._key(contract, self._fp)
        found, series = self._lru.get(key)
        if not found:
            raw = self._cache.series(contract)
            series = None if raw is None else ticks_from_series(raw, self.clock_ns)
            self._lru.put(key, series)
        self._ticks[contract] = series
        return series

    def prefetch(
        self, expiry: date, strikes: Iterable[float], rights: Sequence[Right | str]
    ) -> None:
        """Hint: read these instruments' days in one query unless held here or in the LRU.

        A marker in the LRU remembers a prefetch done for this day and clock, so a warm run skips
        it without touching DuckDB."""
        wanted = tuple(
            OptionContract(self.underlying, expiry, float(k), Right.parse(r))
            for k in strikes
            for r in rights
        )
        marker = self._key("prefetch", wanted, self._fp)
        if self._lru.get(marker)[0]:
            return
        missing = [
            c
            for c in wanted
            if c not in self._ticks and not self._lru.get(self._key(c, self._fp))[0]
        ]
        if missing:
            self._cache.prefetch(missing)
        self._lru.put(marker, True, 64 + 8 * len(wanted))

    def stale_spot(self, i: int) -> str | None:
        """Why the spot at tick ``i`` is too old to select by (``None`` when it is fresh
        enough): no spot bar yet today, or its last bar is more than :attr:`max_spot_lag`
        ticks old."""
        self._check_tick(i)
        lag = self.spot_ticks.close_lag[i]
        if lag == NO_LAG or self.spot_ticks.close[i] != self.spot_ticks.close[i]:
            return f"no spot bar at or before {self.clock[i]:%H:%M:%S} today"
        if lag > self.max_spot_lag:
            return (
                f"the spot at {self.clock[i]:%H:%M:%S} is {lag} ticks old (last bar "
                f"{self.clock[i - lag]:%H:%M:%S}; max_spot_lag={self.max_spot_lag})"
            )
        return None

    def stale_spot_summary(self) -> str | None:
        """A day's warning when the spot was too old at some ticks (``None`` otherwise)."""
        n = self.n_ticks
        if n == 0:
            return None
        lags = np.asarray(self.spot_ticks.close_lag, dtype=np.int64)
        bad = np.flatnonzero((lags == NO_LAG) | (lags > self.max_spot_lag))
        if not bad.size:
            return None
        first = int(bad[0])
        return (
            f"stale spot beyond max_spot_lag={self.max_spot_lag} at {bad.size} of {n} ticks "
            f"(first: {self.stale_spot(first)}); selection by spot refuses there"
        )

    def _check_tick(self, i: int) -> None:
        if not 0 <= i < self.n_ticks:
            raise IndexError(
                f"{self.day}: tick {i} outside the day's clock (0..{self.n_ticks - 1})"
            )

    def quote(self, contract: OptionContract, i: int) -> Quote:
        self._check_tick(i)
        ticks = self.ticks(contract)
        if ticks is None:
            return Quote(math.nan, math.nan, math.nan, None)
        bid, ask, last, _mid, lag = ticks.quote_at(i)
        return Quote(_clean(bid), _clean(ask), _clean(last), None if lag == NO_LAG else lag)

    @property
    def fetch_count(self) -> int:
        """Reads of market data for this day (queries or direct row-group reads; 0 when everything
        came from the process LRU)."""
        return 0 if self._cache_obj is None else int(self._cache_obj.fetch_count)

    # -- chains --------------------------------------------------------------------------
    def _chain_ticks(self, expiry: date) -> _ChainTicks:
        chain = self._chains.get(expiry)
        if chain is not None:
            return chain
        key = self._key("chain", expiry, self._fp)
        found, cached = self._lru.get(key)
        if found and cached is not None:
            chain = cached
        else:
            chain = self._build_chain(expiry)
            self._lru.put(key, chain)
        assert chain is not None
        self._chains[expiry] = chain
        return chain

    def _build_chain(self, expiry: date) -> _ChainTicks:
        members = list(self._cache.chain(expiry))
        n = self.n_ticks
        g = len(members)
        rows = np.full((g, n), -1, dtype=np.int64)
        lags = np.full((g, n), NO_LAG, dtype=np.int64)
        offsets = 0
        parts: dict[str, list[np.ndarray]] = {
            k: [] for k in ("bid", "ask", "close", "volume", "oi", "iv", "delta")
        }
        strikes = np.empty(g)
        is_call = np.empty(g, dtype=np.bool_)
        for j, s in enumerate(members):
            c: OptionContract = s.key  # type: ignore[assignment]
            strikes[j] = c.strike
            is_call[j] = c.right is Right.CALL
            r = np.asarray(s.row_by_tick, dtype=np.int64)
            rows[j] = np.where(r >= 0, r + offsets, -1)
            lags[j] = s.lag_by_tick
            m = len(s)
            parts["bid"].append(np.asarray(s.bid, dtype=np.float64))
            parts["ask"].append(np.asarray(s.ask, dtype=np.float64))
            parts["close"].append(np.asarray(s.close, dtype=np.float64))
            parts["volume"].append(np.asarray(s.volume, dtype=np.float64))
            parts["oi"].append(np.asarray(s.oi, dtype=np.float64))
            for extra in ("iv", "delta"):
                arr = s.extra.get(extra)
                parts[extra].append(
                    np.full(m, np.nan) if arr is None else np.asarray(arr, dtype=np.float64)
                )
            offsets += m
        cat = {k: (np.concatenate(v) if v else np.zeros(0)) for k, v in parts.items()}
        nbytes = rows.nbytes + lags.nbytes + sum(a.nbytes for a in cat.values()) + strikes.nbytes
        return _ChainTicks(strikes, is_call, rows, lags, nbytes=nbytes, **cat)

    def snapshot(self, expiry: date, i: int) -> ChainSnapshot:
        """The chain of ``expiry`` as visible at tick ``i`` (instruments with a bar so far)."""
        from workbench.engine.greeks import years_to_settlement
        from workbench.engine.selection import ChainSnapshot

        self._check_tick(i)
        chain = self._chain_ticks(expiry)
        r = chain.rows[:, i] if chain.rows.size else np.zeros(0, dtype=np.int64)
        seen = r >= 0
        idx = r[seen]
        ts = self.clock[i]
        spot = float(self.spot_ticks.close[i])
        return ChainSnapshot(
            underlying=self.underlying,
            ts=ts,
            spot=spot,
            expiry=expiry,
            tte=years_to_settlement(ts, expiry, self.facts.settlement_clock),
            strike=chain.strike[seen],
            is_call=chain.is_call[seen],
            bid=chain.bid[idx],
            ask=chain.ask[idx],
            close=chain.close[idx],
            volume=chain.volume[idx],
            oi=chain.oi[idx],
            iv=chain.iv[idx],
            delta=chain.delta[idx],
            lag=chain.lags[seen, i] if chain.lags.size else np.zeros(0, dtype=np.int64),
            rate=self.rate,
            div_yield=self.div_yield,
            strike_step=self.strike_step,
        )

    def select(
        self,
        i: int,
        right: Right | str,
        expiry: Any,
        rule: Selection | None,
        params: dict[str, Any],
    ) -> OptionContract | None:
        """The contract ``rule`` (or a :class:`Selection` built from ``params``) picks at tick ``i``.

        ``expiry``: ``None`` = the rule's own :class:`ExpiryRule` (whose default is the nearest
        expiry); an index or a listed date is used as given (out of range / not listed raises
        ``ValueError``); an :class:`ExpiryRule` is applied to today's expiries. When the expiry
        rule or the strike rule finds nothing the result is ``None`` and the reason is in
        :attr:`last_selection_reason`.
        """
        from workbench.engine.selection import ExpiryRule, Selection, resolve_expiry, resolve_strike

        if rule is not None and params:
            raise ValueError(f"select: give a rule or rule fields, not both (got {sorted(params)})")
        chosen = rule if rule is not None else Selection(**params)
        stale = self.stale_spot(i)
        if stale is not None:  # every strike rule reads spot (ATM, moneyness, computed deltas)
            self.last_selection_reason = f"refused: {stale}"
            return None
        target = chosen.expiry if expiry is None else expiry
        if isinstance(target, ExpiryRule):
            picked = resolve_expiry(self.expiries, self.day, target, underlying=self.underlying)
            if picked.expiry is None:
                self.last_selection_reason = f"expiry rule {target!r}: {picked.reason}"
                return None
            exp = picked.expiry
        else:
            exp = self.resolve_expiry(target)
        choice = resolve_strike(self.snapshot(exp, i), right, chosen)
        self.last_selection_reason = choice.reason
        if choice.strike is None:
            return None
        return OptionContract(self.underlying, exp, choice.strike, Right.parse(right))

    def select_each(
        self,
        i: int,
        right: Right | str,
        expiries: Sequence[Any],
        rule: Selection,
        values: Sequence[float] | None = None,
    ) -> list[OptionContract | None]:
        """:meth:`select` of ``rule`` on each of ``expiries`` (indices or listed dates) at tick
        ``i``, in order; ``values``: the rule's ``value`` for each expiry instead of its own (a
        wing at each expiry's short strike + width). :attr:`last_selection_reason` is then the
        last expiry's. A columnar end-of-day day decides them in one pass
        (:mod:`workbench.engine.selection_batch`), with the same result."""
        return [
            self.select(i, right, expiry, rule if one is None else one, {})
            for expiry, one in zip(expiries, _each_rule(rule, values, len(expiries)), strict=True)
        ]

    # -- market series and implied volatility (engine.market_series, engine.iv_rank) -------
    def series_value(self, name: str, i: int) -> SeriesValue:
        """Series ``name`` as of tick ``i`` (``-1``: before the first tick)."""
        return self._series_day().value(name, i, self.clock_ns, self._fp)

    def vix_name(self) -> str | None:
        """The run's VIX-like series (VIX / INDIAVIX in its datasets), ``None`` without one."""
        return self._series_day().run.vix_name(self.version)

    def _series_day(self) -> DaySeries:
        if self._day_series is None:
            from workbench.engine.market_series import DaySeries, RunSeries

            run = self.run_series or RunSeries(str(self.store.path), (), self.underlying)
            self._day_series = DaySeries(run, self.day)
        return self._day_series

    def atm_iv(self, i: int) -> float:
        """The underlying's 30-day ATM IV from the chains visible at tick ``i`` (once per tick)."""
        from workbench.engine.iv_rank import market_atm_iv

        self._check_tick(i)
        if self._iv_now is None:
            self._iv_now = {}
        if i not in self._iv_now:
            self._iv_now[i] = market_atm_iv(self, i)
        return self._iv_now[i]

    def iv_history(self) -> ClosingIvs:
        """Closing ATM IVs of earlier dataset days (computed once per process, see iv_rank)."""
        if self._iv_history is None:
            from workbench.engine.iv_rank import ClosingIvs

            cls, store, lru, rate = type(self), self.store, self._lru, self.rate
            underlying = self.underlying

            def open_day(day: date) -> DayMarket:
                return cls(store, underlying, day, lru, rate=rate)

            self._iv_history = ClosingIvs(
                self.version, underlying, store.days(underlying), rate, open_day
            )
        return self._iv_history

    def iv_stats(self, i: int, window: int, min_days: int) -> tuple[float, float, float, int]:
        """``(iv now, IV rank, IV percentile, days of history)`` at tick ``i`` (percent)."""
        from workbench.engine.iv_rank import iv_percentile, iv_rank

        iv = self.atm_iv(i)
        closes = self.iv_history()
        if self._custom_clock is None and i == self.n_ticks - 1:
            # the last tick of the dataset's own clock is the close a later day's window reads:
            # keep it, so that day does not open this one's chain again
            closes.remember(self.day, iv)
        history = closes.window(self.day, window)
        if history.size < min_days:
            return iv, math.nan, math.nan, int(history.size)
        return iv, iv_rank(iv, history), iv_percentile(iv, history), int(history.size)


def spot_underlying_of(store: MarketStore, underlying: str) -> str:
    """The dataset's spot series for an options underlying (SPXW -> SPX when the catalog names
    it and holds it; else the underlying itself), as the day cache reads it."""
    spec = store.catalog.underlyings.get(underlying)
    name = spec.spot if spec is not None and spec.spot else underlying
    return name if name in store.catalog.day_index else underlying


def previous_spot_day(store: MarketStore, underlying: str, day: date) -> date | None:
    """The dataset's latest day with a spot file before ``day`` (``None`` if there is none)."""
    import bisect

    entry = store.catalog.day_index.get(spot_underlying_of(store, underlying))
    if entry is None:
        return None
    days = sorted(entry.spot)
    j = bisect.bisect_left(days, day)
    return days[j - 1] if j > 0 else None


def last_close(store: MarketStore, underlying: str, day: date) -> float:
    """The last finite spot close of ``day`` (NaN when the day has none)."""
    arrays = store.spot_arrays(spot_underlying_of(store, underlying), day)
    closes = np.asarray(arrays["close"], dtype=np.float64)
    finite = closes[np.isfinite(closes)]
    return float(finite[-1]) if finite.size else math.nan


def _previous_close(store: MarketStore, underlying: str, day: date) -> float:
    prev = previous_spot_day(store, underlying, day)
    return math.nan if prev is None else last_close(store, underlying, prev)


def _clean(x: float) -> float:
    """NaN for missing and for negative prices (a negative price is not a quote)."""
    return x if (x == x and x >= 0.0 and not math.isinf(x)) else math.nan


def _each_rule(rule: Selection, values: Sequence[float] | None, n: int) -> list[Selection | None]:
    """Per expiry of :meth:`DayMarket.select_each`: ``None`` (``rule`` itself), or ``rule`` with
    that expiry's value, validated as a rule built with it would be."""
    if values is None:
        return [None] * n
    if len(values) != n:
        raise ValueError(f"select_each: {len(values)} values for {n} expiries")
    return [rule_with_value(rule, v) for v in values]


def rule_with_value(rule: Selection, value: float) -> Selection:
    """``rule`` with another ``value``, validated as a rule built with it would be."""
    return type(rule)(**{**dict(rule), "value": float(value)})
