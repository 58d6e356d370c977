"""Several underlyings in one book: the day's markets of a universe on one clock.

A run with ``Config.underlyings = ["SPY", "QQQ", "IWM"]`` is one strategy, one
:class:`~workbench.engine.simulator.Simulator`, one :class:`~workbench.engine.book.Book` (one
cash account, one equity path, one tradebook whose rows carry their underlying). Each trading day
the engine builds one :class:`~workbench.engine.market.DayMarket` per underlying that has data
that day and puts them behind a :class:`UniverseMarket`:

* **one clock**: the union of the underlyings' bar timestamps of the day. When the underlyings'
  own clocks differ, every market is re-aligned to the union (a bar at a tick another underlying
  alone has is seen with its lag, as for any instrument), so no underlying's bar is read before
  its time.
* **dispatch by contract**: an instrument's bars, quotes and chains come from the market of its
  own underlying (``contract.underlying``); spot, contract terms (lot, strike step, settlement)
  and settlement values are per underlying (:meth:`UniverseMarket.of`).
* **the primary underlying**: the first of the run's underlyings that has data today answers
  the unqualified calls (``bar.spot``, ``bar.atm()``, ``bar.chain()``), so single-underlying code
  runs unchanged; the contexts take ``underlying=`` everywhere else.
* **a day one underlying lacks**: it is absent from ``bar.underlyings`` that day; its open
  positions are held at their last marks, and those whose settlement session it is settle at
  the last spot at or before the settlement time (flagged) -- the single-underlying gap-day
  rules, applied to that underlying alone while the others trade.

A single-underlying run keeps its plain ``DayMarket`` (which answers :meth:`of` for its own
underlying), so nothing changes for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.engine.pool import clock_fingerprint
from workbench.model.contracts import OptionContract
from workbench.model.trades import Quote

if TYPE_CHECKING:
    from workbench.engine.market import DayMarket, InstrumentFacts
    from workbench.engine.selection import ChainSnapshot, Selection
    from workbench.engine.ticks import TickSeries
    from workbench.model.enums import Right


class NoDataToday(ValueError):
    """An underlying of the run with no data on this day (or not in the run at all)."""


class UniverseMarket:
    """The markets of several underlyings on one day and one clock (engine internal)."""

    def __init__(self, markets: Sequence[DayMarket], universe: Sequence[str]) -> None:
        if not markets:
            raise ValueError("a universe day needs at least one underlying with data")
        self.universe = tuple(universe)
        self.markets: dict[str, DayMarket] = {m.underlying: m for m in markets}
        self.primary: DayMarket = markets[0]
        self.day: date = self.primary.day
        self.store = self.primary.store
        self._last_reason = ""
        self._align()

    # -- clock ---------------------------------------------------------------------------------
    def _align(self) -> None:
        clocks = [m.clock_ns for m in self.markets.values()]
        if all(np.array_equal(c, clocks[0]) for c in clocks[1:]):
            return
        union = np.unique(np.concatenate(clocks)).astype(np.int64)
        from workbench.engine.market import _clock_list

        listed = _clock_list(union)
        for m in self.markets.values():
            m.use_clock(union, listed)

    @property
    def clock(self) -> list[datetime]:
        return self.primary.clock

    @property
    def clock_ns(self) -> np.ndarray:
        return self.primary.clock_ns

    @property
    def times(self) -> list[time]:
        return self.primary.times

    @property
    def n_ticks(self) -> int:
        return self.primary.n_ticks

    @property
    def default_clock(self) -> list[datetime]:
        return self.primary.default_clock

    def use_clock(self, clock_ns: np.ndarray, clock: list[datetime]) -> None:
        for m in self.markets.values():
            m.use_clock(clock_ns, clock)

    @property
    def fingerprint(self) -> str:
        return clock_fingerprint(self.clock_ns)

    # -- which underlying ----------------------------------------------------------------------
    @property
    def underlying(self) -> str:
        return self.primary.underlying

    @property
    def underlyings(self) -> tuple[str, ...]:
        """The run's underlyings with data today, in the run's order."""
        return tuple(u for u in self.universe if u in self.markets)

    def of(self, underlying: str | None) -> DayMarket:
        """The market of ``underlying`` today (``None``: the primary one). :class:`NoDataToday`
        when it has no data today or is not in the run."""
        if underlying is None:
            return self.primary
        name = str(underlying).strip().upper()
        found = self.markets.get(name)
        if found is not None:
            return found
        if name in self.universe:
            raise NoDataToday(f"{name} has no data on {self.day} (a gap day for {name})")
        raise NoDataToday(
            f"underlying {underlying!r} is not in this run (it trades {', '.join(self.universe)})"
        )

    def has(self, underlying: str) -> bool:
        return underlying in self.markets

    # -- per-day settings ----------------------------------------------------------------------
    @property
    def max_spot_lag(self) -> int:
        return self.primary.max_spot_lag

    @max_spot_lag.setter
    def max_spot_lag(self, value: int) -> None:
        for m in self.markets.values():
            m.max_spot_lag = value

    @property
    def last_selection_reason(self) -> str:
        return self._last_reason

    @last_selection_reason.setter
    def last_selection_reason(self, value: str) -> None:
        self._last_reason = value

    # -- the primary underlying's terms and spot (unqualified calls) ----------------------------
    @property
    def facts(self) -> InstrumentFacts:
        return self.primary.facts

    @property
    def lot_size(self) -> int:
        return self.primary.lot_size

    @property
    def strike_step(self) -> float:
        return self.primary.strike_step

    @property
    def spot_ticks(self) -> TickSeries:
        return self.primary.spot_ticks

    @property
    def open_spot(self) -> float:
        return self.primary.open_spot

    @property
    def close_spot(self) -> float:
        return self.primary.close_spot

    @property
    def previous_close(self) -> float:
        return self.primary.previous_close

    @property
    def expiries(self) -> list[date]:
        return self.primary.expiries

    def resolve_expiry(self, expiry: Any) -> date:
        return self.primary.resolve_expiry(expiry)

    def atm_strike(self, spot: float) -> float:
        return self.primary.atm_strike(spot)

    def contract(self, strike: float, right: Right | str, expiry: int | date) -> OptionContract:
        return self.primary.contract(strike, right, expiry)

    def snapshot(self, expiry: date, i: int) -> ChainSnapshot:
        return self.primary.snapshot(expiry, i)

    def stale_spot(self, i: int) -> str | None:
        return self.primary.stale_spot(i)

    def prefetch(self, expiry: date, strikes: Any, rights: Any) -> None:
        self.primary.prefetch(expiry, strikes, rights)

    def select(
        self, i: int, right: Right | str, expiry: Any, rule: Selection | None, params: dict
    ) -> OptionContract | None:
        out = self.primary.select(i, right, expiry, rule, params)
        self._last_reason = self.primary.last_selection_reason
        return out

    def select_each(
        self,
        i: int,
        right: Right | str,
        expiries: Any,
        rule: Selection,
        values: Any = None,
    ) -> list[OptionContract | None]:
        out = self.primary.select_each(i, right, expiries, rule, values)
        self._last_reason = self.primary.last_selection_reason
        return out  # type: ignore[no-any-return]

    # -- instruments: the market of their own underlying ---------------------------------------
    def ticks(self, contract: OptionContract) -> TickSeries | None:
        market = self.markets.get(contract.underlying)
        return None if market is None else market.ticks(contract)

    def ticks_many(
        self,
        contracts: list[OptionContract],
        *,
        quoted: list[bool] | None = None,
        inside: list[bool] | None = None,
    ) -> list[TickSeries | None]:
        """Each underlying's own :meth:`ticks_many`, in ``contracts`` order (``quoted`` and
        ``inside`` are left as given: the caller checks each leg's quote and bounds itself)."""
        out: list[TickSeries | None] = [None] * len(contracts)
        groups: dict[str, list[int]] = {}
        for j, c in enumerate(contracts):
            groups.setdefault(c.underlying, []).append(j)
        for name, where in groups.items():
            market = self.markets.get(name)
            if market is None:
                continue
            many = getattr(market, "ticks_many", None)
            picked = [contracts[j] for j in where]
            found = many(picked) if many is not None else [market.ticks(c) for c in picked]
            for j, series in zip(where, found, strict=True):
                out[j] = series
        return out

    def quote(self, contract: OptionContract, i: int) -> Quote:
        market = self.markets.get(contract.underlying)
        if market is None:
            import math

            return Quote(math.nan, math.nan, math.nan, None)
        return market.quote(contract, i)

    # -- the day's summaries ---------------------------------------------------------------------
    def stale_spot_summary(self) -> str | None:
        notes = []
        for name, m in self.markets.items():
            note = m.stale_spot_summary()
            if note is not None:
                notes.append(f"{name}: {note}")
        return "; ".join(notes) if notes else None

    @property
    def fetch_count(self) -> int:
        return sum(m.fetch_count for m in self.markets.values())

    def close_spots(self) -> dict[str, float]:
        """Each underlying's last spot close today."""
        return {name: m.close_spot for name, m in self.markets.items()}


def underlyings_of(market: Any) -> tuple[str, ...]:
    """The underlyings a day's market holds (a plain ``DayMarket``: its own)."""
    names = getattr(market, "underlyings", None)
    return tuple(names) if names is not None else (market.underlying,)


def market_of(market: Any, underlying: str | None) -> Any:
    """The ``DayMarket`` of ``underlying`` in ``market`` (a plain ``DayMarket`` or a
    :class:`UniverseMarket`); ``None`` = the primary one. :class:`NoDataToday` when absent."""
    if isinstance(market, UniverseMarket):
        return market.of(underlying)
    if underlying is None or str(underlying).strip().upper() == market.underlying:
        return market
    raise NoDataToday(
        f"underlying {underlying!r} is not in this run (it trades {market.underlying})"
    )


def has_market(market: Any, underlying: str) -> bool:
    if isinstance(market, UniverseMarket):
        return market.has(underlying)
    return bool(market.underlying == underlying)
