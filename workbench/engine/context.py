"""What a strategy sees: :class:`DayStartContext` before the first tick, :class:`BarContext` per tick.

Both are thin, read-only views over the engine's per-day market (:class:`~workbench.engine.market.DayMarket`).
The market holds the whole day's aligned arrays, so the views are the guard against look-ahead:

* every :class:`BarContext` accessor reads the current tick's index only (``price``, ``quote``,
  ``chain``, ``atm``, ``select``, ``spot``, ``pnl``, ``greeks``); the chain snapshot is built from
  the rows visible at this tick;
* the market and the tick index live in name-mangled ``__slots__`` (``_BarContext__market``); the
  context has no ``__dict__``, no public attribute and no method that returns the market, the raw
  :class:`~workbench.data.cache.DayCache` or a future row.

Python cannot make this impossible -- code that deliberately reads ``_BarContext__market`` can
see the future -- but no public path exists, and the look-ahead test (prices after ``t``
multiplied; everything before ``t`` unchanged) checks the engine itself.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from workbench.engine.errors import StaleSpotError
from workbench.engine.ticks import NO_LAG
from workbench.engine.universe import market_of, underlyings_of
from workbench.model.contracts import OptionContract
from workbench.model.enums import Right
from workbench.model.trades import Leg, Quote

if TYPE_CHECKING:
    from workbench.engine.account import Account
    from workbench.engine.market import DayMarket
    from workbench.engine.market_series import SeriesValue
    from workbench.engine.selection import ChainSnapshot, ExpiryRule, Selection
    from workbench.engine.simulator import Simulator
    from workbench.engine.trade import Trade

ExpiryRef = int | date


class SpotValue(float):
    """A spot price that also answers for the other underlyings of the run.

    ``bar.spot`` is this value: a plain ``float`` (the run's first underlying's spot, as in a
    single-underlying run) that can be called, ``bar.spot("QQQ")``, for another underlying's
    spot at the same instant (``bar.spot()`` is the float itself). Arithmetic on it gives plain
    floats."""

    __slots__ = ("_of",)
    _of: Any

    def __call__(self, underlying: str | None = None) -> float:
        if underlying is None:
            return float(self)
        return float(self._of(underlying))

    def __reduce__(self) -> tuple[Any, ...]:
        return (float, (float(self),))  # kept or pickled, it is the plain number


def _spot_value(value: float, of: Any) -> SpotValue:
    out = SpotValue(value)
    out._of = of
    return out


class ExpiryList(list):  # type: ignore[type-arg]
    """``bar.expiries``: today's listed expiries of the run's first underlying (a plain list),
    callable for another underlying's: ``bar.expiries("QQQ")``."""

    __slots__ = ("_of",)
    _of: Any

    def __call__(self, underlying: str | None = None) -> list[_dt.date]:
        if underlying is None:
            return list(self)
        return list(self._of(underlying))

    def __reduce__(self) -> tuple[Any, ...]:
        return (list, (list(self),))  # kept or pickled, it is the plain list


def _expiry_list(values: list[_dt.date], of: Any) -> ExpiryList:
    out = ExpiryList(values)
    out._of = of
    return out


def _contract_of(item: OptionContract | Leg | Trade) -> OptionContract:
    if isinstance(item, OptionContract):
        return item
    contract = getattr(item, "contract", None)
    if isinstance(contract, OptionContract):
        return contract
    raise TypeError(f"expected an OptionContract, Leg or option Trade, got {item!r}")


class DayStartContext:
    """The restricted view passed to ``on_day_start`` (and ``clock``/``on_day_end``): date,
    the previous close, ATM, expiries, prefetch.

    ``on_day_start`` runs before the day's first tick, when "now" is the previous session's
    close: ``spot`` is that session's last spot close (the dataset's latest earlier day, even
    before the run's start; NaN on the dataset's first day) and nothing here reads a bar of
    the new day. ``expiries`` are the expiries listed that day (with data), ascending -- the
    contract listing, not a price; ``expiry=0`` everywhere means the nearest.
    """

    __slots__ = ("__market", "__sim")

    def __init__(self, market: DayMarket, sim: Simulator | None = None) -> None:
        self.__market = market
        self.__sim = sim

    @property
    def account(self) -> Account:
        """The account as of now (:mod:`workbench.engine.account`): before the first tick the
        previous session's close (yesterday's book at its closing marks and margin); in
        ``on_day_end`` the day's last tick."""
        if self.__sim is None:
            from workbench.engine.errors import StrategyStateError

            raise StrategyStateError(f"{self!r}: no account (a context outside a run)")
        return self.__sim.account

    @property
    def date(self) -> _dt.date:
        return self.__market.day

    @property
    def underlying(self) -> str:
        """The run's first underlying with data today (the one unqualified calls answer for)."""
        return self.__market.underlying

    @property
    def underlyings(self) -> tuple[str, ...]:
        """The run's underlyings with data today, in the run's order (one in a
        single-underlying run; an underlying without data today is absent)."""
        return underlyings_of(self.__market)

    def _of(self, underlying: str | None) -> Any:
        return market_of(self.__market, underlying)

    @property
    def spot(self) -> SpotValue:
        """The previous session's last spot close (NaN when the dataset has no earlier day);
        ``day.spot("QQQ")`` for another underlying of the run."""
        return _spot_value(self.__market.previous_close, self.spot_of)

    def spot_of(self, underlying: str | None = None) -> float:
        """``underlying``'s previous session's last spot close."""
        return float(self._of(underlying).previous_close)

    @property
    def expiries(self) -> ExpiryList:
        """Expiries listed today, ascending; ``day.expiries("QQQ")`` for another underlying."""
        return _expiry_list(list(self.__market.expiries), self.expiries_of)

    def expiries_of(self, underlying: str | None = None) -> list[_dt.date]:
        return list(self._of(underlying).expiries)

    @property
    def strike_step(self) -> float:
        return self.__market.strike_step

    @property
    def lot_size(self) -> int:
        return self.__market.lot_size

    def expiry(self, expiry: ExpiryRef = 0, *, underlying: str | None = None) -> _dt.date:
        """The listed expiry for an index (0 = nearest) or a date (checked to be listed)."""
        return self._of(underlying).resolve_expiry(expiry)  # type: ignore[no-any-return]

    def atm(self, expiry: ExpiryRef = 0, *, underlying: str | None = None) -> float:
        """ATM strike before the open: :attr:`spot` (the previous close) rounded to the strike
        grid (half up). ``ValueError`` on the dataset's first day (no earlier close)."""
        market = self._of(underlying)
        market.resolve_expiry(expiry)
        spot = market.previous_close
        if not math.isfinite(spot):
            raise ValueError(
                f"{self.date}: no {market.underlying} spot before the first tick (the dataset "
                "has no earlier session); use bar.atm() from on_bar"
            )
        return market.atm_strike(spot)  # type: ignore[no-any-return]

    def atm_window(
        self, n: int, expiry: ExpiryRef = 0, *, underlying: str | None = None
    ) -> list[float]:
        """The ``2n + 1`` grid strikes centred on :meth:`atm` (ascending); empty on the
        dataset's first day, where there is no earlier close (a prefetch of nothing is a
        valid hint: the engine fetches lazily)."""
        if n < 0:
            raise ValueError(f"atm_window: n must be >= 0, got {n}")
        market = self._of(underlying)
        market.resolve_expiry(expiry)
        if not math.isfinite(market.previous_close):
            return []
        centre = self.atm(expiry, underlying=underlying)
        step = market.strike_step
        return [centre + k * step for k in range(-n, n + 1)]

    def prefetch(
        self,
        expiry: ExpiryRef = 0,
        strikes: Iterable[float] = (),
        rights: Sequence[Right | str] = ("C", "P"),
        *,
        underlying: str | None = None,
    ) -> None:
        """Hint: fetch these instruments' full days now (one query). The cache fetches lazily anyway
        if this is skipped; results are identical either way."""
        market = self._of(underlying)
        market.prefetch(market.resolve_expiry(expiry), strikes, rights)

    def series(self, name: str) -> SeriesValue:
        """A market series (VIX, INDIAVIX, an index) before the day's first tick: its last
        close before today, ``(value, lag)`` with the lag in sessions (1 = the previous
        session's close); see :mod:`workbench.engine.market_series`. ``UnknownSeriesError``
        names the series and the datasets searched when the run has no such series."""
        return market_of(self.__market, None).series_value(name, -1)

    def __repr__(self) -> str:
        return f"DayStartContext({self.date}, spot={float(self.spot):g})"


class BarContext:
    """The per-tick view passed to ``on_bar``/``adjust``/``exit_check``/``on_exit``.

    Created once per day and advanced by the engine; every accessor is bound to the current tick.
    Prices are per unit of underlying; ``lag`` counts clock ticks since the bar (``0`` = a bar at
    this tick, ``None`` = none yet today).
    """

    __slots__ = ("__i", "__market", "__sim", "__time", "__ts")

    def __init__(self, market: DayMarket, sim: Simulator) -> None:
        self.__market = market
        self.__sim = sim
        self.__i = -1
        self.__ts: datetime | None = None
        self.__time: time | None = None

    def __tick(self) -> int:
        """The current tick; a context the engine has not advanced yet has none (index -1
        would read the day's last tick)."""
        i = self.__i
        if i < 0:
            from workbench.engine.errors import StrategyStateError

            raise StrategyStateError(
                f"{self!r}: no current tick (a bar context is valid only inside its own day's "
                "hooks, from the first tick on)"
            )
        return i

    # -- time --------------------------------------------------------------------------------
    @property
    def ts(self) -> datetime:
        """The current tick's timestamp (exchange-local, naive)."""
        assert self.__ts is not None
        return self.__ts

    @property
    def time(self) -> _dt.time:
        assert self.__time is not None
        return self.__time

    @property
    def date(self) -> _dt.date:
        return self.__market.day

    @property
    def tick(self) -> int:
        """Index of the current tick in today's clock (0-based)."""
        return self.__i

    @property
    def is_last(self) -> bool:
        """True on the session's last tick (intraday: the force-close tick)."""
        return self.__i == self.__market.n_ticks - 1

    @property
    def underlying(self) -> str:
        """The run's first underlying with data today (the one unqualified calls answer for)."""
        return self.__market.underlying

    @property
    def underlyings(self) -> tuple[str, ...]:
        """The run's underlyings with data today, in the run's order (one in a
        single-underlying run; an underlying without data today is absent)."""
        return underlyings_of(self.__market)

    def __of(self, underlying: str | None) -> Any:
        return market_of(self.__market, underlying)

    @property
    def expiries(self) -> ExpiryList:
        """Expiries listed today, ascending; ``bar.expiries("QQQ")`` for another underlying."""
        return _expiry_list(list(self.__market.expiries), self.expiries_of)

    def expiries_of(self, underlying: str | None = None) -> list[_dt.date]:
        return list(self.__of(underlying).expiries)

    @property
    def lot_size(self) -> int:
        return self.__market.lot_size

    def lot_size_of(self, underlying: str | None = None) -> int:
        return int(self.__of(underlying).lot_size)

    def expiry(
        self, expiry: ExpiryRef | ExpiryRule = 0, *, underlying: str | None = None
    ) -> _dt.date | None:
        """A listed expiry: an index into today's expiries (0 = nearest), a listed date (either
        raises ``ValueError`` when out of range / not listed) or an
        :class:`~workbench.engine.selection.ExpiryRule` (kind, DTE target or window), which gives
        ``None`` when no listed expiry matches, the reason in :attr:`last_selection_reason`."""
        from workbench.engine.selection import ExpiryRule, resolve_expiry

        market = self.__of(underlying)
        if isinstance(expiry, ExpiryRule):
            choice = resolve_expiry(
                market.expiries, market.day, expiry, underlying=market.underlying
            )
            if choice.expiry is None:
                self.__market.last_selection_reason = f"expiry rule {expiry!r}: {choice.reason}"
            return choice.expiry
        return market.resolve_expiry(expiry)  # type: ignore[no-any-return]

    # -- prices ------------------------------------------------------------------------------
    @property
    def spot(self) -> SpotValue:
        """Spot close of the last spot bar at or before this tick; ``bar.spot("QQQ")`` for
        another underlying of the run (:class:`SpotValue`: a float that can be called)."""
        return _spot_value(self.__market.spot_ticks.close[self.__tick()], self.spot_of)

    def spot_of(self, underlying: str | None = None) -> float:
        """``underlying``'s spot close of its last spot bar at or before this tick."""
        return float(self.__of(underlying).spot_ticks.close[self.__tick()])

    def price(self, contract: OptionContract | Leg | Trade) -> tuple[float, int | None]:
        """``(close, lag)`` of the last bar with a close at or before this tick; ``(nan, None)``
        when the instrument has none yet today."""
        i = self.__tick()
        ticks = self.__market.ticks(_contract_of(contract))
        if ticks is None:
            return (math.nan, None)
        lag = ticks.close_lag[i]
        return (ticks.close[i], None if lag == NO_LAG else lag)

    def mark(self, contract: OptionContract | Leg | Trade) -> tuple[float, int | None]:
        """``(mark, lag)``: the engine's mark-to-market price (see :mod:`workbench.engine.ticks`)."""
        i = self.__tick()
        ticks = self.__market.ticks(_contract_of(contract))
        if ticks is None:
            return (math.nan, None)
        lag = ticks.mark_lag[i]
        return (ticks.mark[i], None if lag == NO_LAG else lag)

    def quote(self, contract: OptionContract | Leg | Trade) -> Quote:
        """``Quote(bid, ask, last, lag)`` of the bar visible at this tick (``mid`` is a property)."""
        return self.__market.quote(_contract_of(contract), self.__tick())

    def chain(self, expiry: ExpiryRef = 0, *, underlying: str | None = None) -> ChainSnapshot:
        """Every strike of one expiry as visible at this tick (a :class:`ChainSnapshot`);
        ``underlying=`` for another underlying of the run."""
        market = self.__of(underlying)
        return market.snapshot(market.resolve_expiry(expiry), self.__tick())  # type: ignore[no-any-return]

    @property
    def spot_lag(self) -> int | None:
        """How many ticks old :attr:`spot` is (0: a bar at this tick; ``None``: no spot bar
        yet today)."""
        return self.spot_lag_of(None)

    def spot_lag_of(self, underlying: str | None = None) -> int | None:
        """:attr:`spot_lag` of ``underlying``."""
        lag = self.__of(underlying).spot_ticks.close_lag[self.__tick()]
        return None if lag == NO_LAG else int(lag)

    def atm(self, expiry: ExpiryRef = 0, *, underlying: str | None = None) -> float:
        """ATM strike now: current spot rounded to the strike grid (half up); ``underlying=``
        for another underlying of the run.
        :class:`~workbench.engine.errors.StaleSpotError` when the spot is older than the
        strategy's ``max_spot_lag`` (check :attr:`spot_lag` first to skip such ticks)."""
        market = self.__of(underlying)
        market.resolve_expiry(expiry)
        i = self.__tick()
        stale = market.stale_spot(i)
        if stale is not None:
            raise StaleSpotError(f"bar.atm(): {stale}")
        return market.atm_strike(market.spot_ticks.close[i])  # type: ignore[no-any-return]

    def select(
        self,
        right: Right | str,
        *,
        expiry: ExpiryRef | ExpiryRule | None = None,
        rule: Selection | None = None,
        underlying: str | None = None,
        **params: Any,
    ) -> OptionContract | None:
        """The contract a selection rule picks now (see :mod:`workbench.engine.selection`).

        ``rule`` is a :class:`~workbench.engine.selection.Selection` or its fields as keywords
        (``method="delta", value=0.16, side="SELL"``). ``expiry`` overrides the rule's expiry: an
        index into today's expiries (0 = nearest), a listed date (either raises ``ValueError``
        when out of range / not listed), or an :class:`~workbench.engine.selection.ExpiryRule`;
        ``None`` (the default) uses the rule's own ``Selection.expiry``, which is the nearest
        expiry unless the rule says otherwise. ``None`` is returned when nothing qualifies,
        including an expiry rule that matches no listed expiry; the reason is then in
        :attr:`last_selection_reason`.
        """
        market = self.__of(underlying)
        picked = market.select(self.__tick(), right, expiry, rule, params)
        self.__market.last_selection_reason = market.last_selection_reason
        return picked  # type: ignore[no-any-return]

    def select_each(
        self,
        right: Right | str,
        expiries: Sequence[ExpiryRef],
        *,
        rule: Selection,
        values: Sequence[float] | None = None,
        underlying: str | None = None,
    ) -> list[OptionContract | None]:
        """:meth:`select` of one ``rule`` on each of ``expiries`` (indices or listed dates), in
        one pass over the day's chain where the data allows (every entry of a study); the same
        contracts as one :meth:`select` per expiry. ``values``: the rule's ``value`` for each
        expiry instead (e.g. ``method="strike"`` wings at each expiry's short strike + width).
        :attr:`last_selection_reason` is the last expiry's."""
        market = self.__of(underlying)
        picked = market.select_each(self.__tick(), right, list(expiries), rule, values)
        self.__market.last_selection_reason = market.last_selection_reason
        return picked  # type: ignore[no-any-return]

    @property
    def last_selection_reason(self) -> str:
        """Why the last :meth:`select` picked what it picked (or nothing)."""
        return self.__market.last_selection_reason

    # -- market series and implied volatility -------------------------------------------------
    def series(self, name: str) -> SeriesValue:
        """A market series as of now, ``(value, lag)`` (:mod:`workbench.engine.market_series`):
        a daily series gives its last close before today (a day's close is visible only after
        it), lag in sessions; an intraday series its last bar at or before this tick, lag in
        clock ticks (before its first bar today: the previous close, lag in sessions). The
        result's ``asof`` and ``unit`` say which. ``UnknownSeriesError`` names the series and
        the datasets searched when the run has no such series."""
        return self.__of(None).series_value(name, self.__tick())

    def vix_series_name(self) -> str | None:
        """The run's VIX-like series (``VIX`` or ``INDIAVIX`` in its datasets, the one of the
        underlying's time zone), ``None`` when it has none."""
        return self.__of(None).vix_name()

    def atm_iv(self, underlying: str | None = None) -> float:
        """The underlying's 30-day ATM implied volatility from the chains visible now (a
        fraction per year; NaN when no expiry has one): :mod:`workbench.engine.iv_rank`."""
        return self.__of(underlying).atm_iv(self.__tick())

    def iv_rank(
        self, window: int = 252, *, min_days: int = 20, underlying: str | None = None
    ) -> float:
        """IV rank now, percent: ``100 x (iv - min) / (max - min)`` of :meth:`atm_iv` against
        the closing ATM IVs of the ``window`` dataset days before today, clipped to
        ``[0, 100]`` (50 on a flat history); NaN with fewer than ``min_days`` days of history
        (:mod:`workbench.engine.iv_rank`, :mod:`workbench.engine.ivstats`)."""
        return self.__iv(window, min_days, underlying)[1]

    def iv_percentile(
        self, window: int = 252, *, min_days: int = 20, underlying: str | None = None
    ) -> float:
        """IV percentile now, percent: ``100 x`` the share of the ``window`` dataset days before
        today whose closing ATM IV is below :meth:`atm_iv` (``[0, 100]``); NaN with fewer than
        ``min_days`` days of history (:mod:`workbench.engine.iv_rank`)."""
        return self.__iv(window, min_days, underlying)[2]

    def __iv(
        self, window: int, min_days: int, underlying: str | None
    ) -> tuple[float, float, float, int]:
        from workbench.engine.iv_rank import check_window

        window, min_days = check_window(window, min_days)
        i = self.__tick()
        self.__sim.note_iv_window(window, min_days)
        return self.__of(underlying).iv_stats(i, window, min_days)

    # -- the strategy's book, valued now ------------------------------------------------------
    @property
    def pnl(self) -> float:
        """Current cycle's PnL in money, net of fees, open legs at the mark."""
        return self.__sim.cycle_pnl(self.__tick())

    @property
    def greeks(self) -> dict[str, float]:
        """Position Greeks now: ``delta`` and ``gamma`` in underlying units, ``vega`` money per
        1.00 vol, ``theta`` money per year (Black-Scholes from the mark's implied vol)."""
        return self.__sim.position_greeks(self.__tick(), self.__ts)

    def positions(self) -> dict[str, Trade]:
        """The strategy's open positions (a copy)."""
        return dict(self.__sim.book.open)

    @property
    def account(self) -> Account:
        """The account at this tick (:mod:`workbench.engine.account`): ``equity``, ``cash``,
        ``margin_in_use``, ``buying_power`` with the open positions at this tick's marks."""
        self.__tick()
        return self.__sim.account

    def __repr__(self) -> str:
        return f"BarContext({self.__ts}, tick {self.__i})"


def advance(bar: BarContext, i: int, ts: datetime, tod: time) -> None:
    """Move ``bar`` to tick ``i`` (engine only; a plain function so no method moves the clock)."""
    bar._BarContext__i = i  # type: ignore[attr-defined]
    bar._BarContext__ts = ts  # type: ignore[attr-defined]
    bar._BarContext__time = tod  # type: ignore[attr-defined]


def retire(bar: BarContext) -> None:
    """End ``bar``'s day: every accessor then raises (a context kept past its day would read
    that day's arrays through the engine's current books)."""
    bar._BarContext__i = -1  # type: ignore[attr-defined]
