"""The simulator: runs one strategy over the ticks of a day, owns its state machine and books.

One :class:`Simulator` serves one strategy instance: one day in intraday mode (a fresh strategy
per day; days are independent), the whole run in positional mode (positions carry across days).
Per day (:meth:`Simulator.run_day`):

1. positional: re-bind open positions to today's prices;
2. ``on_day_start(day)`` before the first tick ("now" is the previous session's close);
   ``False`` skips the day (positional: no ticks are delivered, but settlement and marking
   still happen); positional, at the first tick: ``on_exit`` of cycles that ended on a day
   without data, then settlement of AM-settled expiries (:mod:`~workbench.engine.settlement`);
3. the clock (``Strategy.clock``; default the spot bars' timestamps) is checked: an out-of-order
   or repeated timestamp raises :class:`~workbench.engine.errors.ChronologyError`;
4. per tick: when ACTIVE ``adjust`` -> ``exit_check`` -> exit; then ``on_bar``;
5. intraday: the last tick force-closes every open leg (reason ``"eod"``; a leg without a live
   price closes at its mark and a warning says so); positional: PM-settled expiries settle at
   the session's last close (or the official settlement series);
6. ``on_day_end(day)``; intraday: a position still open raises ``ChronologyError`` (open after
   the stop time);
7. reconciliation (:meth:`~workbench.engine.book.Book.reconcile`) and the day's record.

Positional runs also get :meth:`Simulator.run_gap_day` for each trading day without data while
positions are open: expiries whose settlement session it is settle there, at the last spot at
or before the settlement time, flagged; the rest are held at their last marks.

Fills: a leg fills only from a live bar (lag 0, or up to ``Config.max_fill_lag`` ticks) through the
run's fill model (entry model for opening fills, exit model for closing fills; a model's
fallback is counted as a warning); fees come from the run's fee model per order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.engine.book import Book, FillInfo
from workbench.engine.config import cycle_limit
from workbench.engine.context import BarContext, DayStartContext, advance, retire
from workbench.engine.entries import entry_row
from workbench.engine.errors import ChronologyError, StrategyStateError
from workbench.engine.excursions import day_excursions
from workbench.engine.greeks import (
    book_greeks,
    implied_greeks,
    implied_greeks_columns,
    years_to_settlement,
)
from workbench.engine.markbounds import MarkBound, bound_mark, marks_inside_bounds
from workbench.engine.orders import OrderBook
from workbench.engine.settlement import Settlements, SettlementValue
from workbench.engine.strategy import Strategy
from workbench.engine.ticks import (
    NO_LAG,
    TickSeries,
    bar_liquidity,
    clock_to_ns,
    constant_ticks,
    usable_quote,
)
from workbench.engine.trade import Asset, StrategyState, Trade
from workbench.engine.universe import has_market, market_of
from workbench.model.contracts import OptionContract
from workbench.model.dates import EPOCH_ORDINAL
from workbench.model.enums import Right, Settlement, SettlementTime, Side
from workbench.model.trades import Leg

if TYPE_CHECKING:
    from workbench.engine.account import Account
    from workbench.engine.constraints import Constraints
    from workbench.engine.market import DayMarket
    from workbench.execution.fees import FeeModel
    from workbench.execution.fills import FillPolicy
    from workbench.execution.margin import MarginModel
    from workbench.execution.payoff import PositionLeg

_IDLE = StrategyState.IDLE
_ACTIVE = StrategyState.ACTIVE
_DONE = StrategyState.DONE


@dataclass(frozen=True, slots=True)
class Costs:
    """The run's execution models: fills (entry/exit), fees, margin (optional), rate for Greeks;
    and ``series``, the extra datasets whose market series the strategy reads."""

    fills: FillPolicy
    fees: FeeModel
    margin: MarginModel | None = None
    rate: float = 0.0
    #: the account's starting capital (money; :mod:`workbench.engine.account`); None: none
    capital: float | None = None
    #: the run's portfolio constraints (:mod:`workbench.engine.constraints`); None: none
    constraints: Constraints | None = None
    series: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Refusal:
    """A refused order: when, what it tried (``open``/``close``/``roll``), which leg, and why."""

    ts: datetime
    action: str
    key: str
    symbol: str
    reason: str
    #: the constraint that refused the order (:mod:`workbench.engine.constraints`), else ""
    constraint: str = ""

    def __str__(self) -> str:
        if not self.key and not self.symbol:  # the strategy's own refusal (an entry filter)
            return f"{self.ts:%H:%M:%S} {self.action}: {self.reason}"
        return f"{self.ts:%H:%M:%S} {self.action} {self.key} ({self.symbol}): {self.reason}"


@dataclass(slots=True)
class DayRecord:
    """What one simulated day produced (money in the quote currency; Greeks as in greeks.py)."""

    day: date
    status: str = "ok"
    reason: str = ""
    ticks: int = 0
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    cash: float = 0.0
    realized: float = 0.0
    fees: float = 0.0
    mtm: float = 0.0
    unrealized: float = 0.0
    open_legs: int = 0
    delta: float = 0.0
    gamma: float = 0.0
    vega: float = 0.0
    theta: float = 0.0
    margin: float = math.nan
    #: the largest margin of the day: at its close and after every tick whose fills changed
    #: the book (intraday books are flat at the close; this is what they needed during it)
    peak_margin: float = math.nan
    spot_close: float = math.nan
    fills: int = 0
    warnings: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    fetches: int = 0
    error: str = ""
    #: intraday: one row per trade of the day (:data:`~workbench.engine.excursions.EXCURSION_COLUMNS`)
    excursions: list[tuple[Any, ...]] = field(default_factory=list)
    #: the day's order events (:data:`~workbench.engine.orders.ORDER_COLUMNS`)
    orders: list[tuple[Any, ...]] = field(default_factory=list)
    #: orders refused by each portfolio constraint that day (name -> count)
    constraint_refusals: dict[str, int] = field(default_factory=dict)
    #: the strategy read the account's capital-based figures (so far in the run)
    account_used: bool = False
    #: one row per opening order of the day: the market at entry
    #: (:data:`~workbench.engine.entries.ENTRY_COLUMNS`)
    entries: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass(slots=True)
class _Priced:
    key: str
    trade: Trade | None
    contract: OptionContract | None
    side: Side
    qty: int
    lot: float
    price: float
    info: FillInfo


class Simulator:
    """Runs ``strategy`` day by day (see the module docstring)."""

    def __init__(self, strategy: Strategy, costs: Costs, *, mode: str) -> None:
        if mode not in ("intraday", "positional"):
            raise ValueError(f"mode must be 'intraday' or 'positional', got {mode!r}")
        self.strategy = strategy
        strategy._attach(self)
        self.costs = costs
        self.mode = mode
        self.book = Book(trade_prefix="")
        self.state = _IDLE
        self.cycle = 0
        self.cycle_cash = 0.0
        self.entry_credit = 0.0
        self.cycle_trades: list[Trade] = []
        self.refusals: list[Refusal] = []
        self.warnings: list[str] = []
        self.tick = -1
        self.day_index = 0
        self._cycle_day = 0
        self._pending_exit: str | None = None
        self._series: dict[str, TickSeries] = {}  # open positions' prices (spot for stock)
        self._last_marks: dict[str, float] = {}
        self._su: dict[str, float] = {}
        self._legs: list[tuple[list[float], float, float, float]] = []
        self._legs_stale = False  # rebuilt on the next cycle_pnl after fills or a re-bind
        self._order_warnings: list[str] = []
        self._market: DayMarket | None = None
        self._bar: BarContext | None = None
        self._settle_books: dict[str, Settlements] = {}
        self._facts: dict[str, Any] = {}  # each underlying's contract terms, last seen
        self._held_spots: dict[tuple[str, date], float] = {}
        self._deferred_exits: list[list[Trade]] = []
        self._margin_dirty = False  # a fill changed the book at this tick
        #: the market at each opening order of the day (engine.entries)
        self._entries: list[tuple[Any, ...]] = []
        #: (window, min_days) of the strategy's last IV rank/percentile read: entries record them
        self._iv_window: tuple[int, int] | None = None
        self._peak_margin = math.nan  # the day's largest margin after such a tick
        #: today's day-end marks moved into their no-arbitrage bounds: key -> (raw mark, bound)
        self._mark_bounds: dict[str, tuple[float, MarkBound]] = {}
        self._marks_checked: set[str] = set()  # legs whose day-end mark was looked at
        #: open legs known (at the morning's binding, one-tick days) to have a two-sided
        #: quote at the day's tick: their marks are quote mids (no bound, no warning)
        self._quoted_keys: set[str] = set()
        #: the strategy read a figure of the account that depends on the capital
        self.account_used = False
        #: the book's margin at the last close ("now" before the first tick; 0 when flat)
        self._close_margin = 0.0
        #: the position each open key belongs to (:mod:`workbench.engine.constraints`)
        self.position_of_key: dict[str, str] = {}
        self._orders = 0  # opening orders filled so far (ids of ordinary positions)
        #: open keys by position, and a stamp that changes whenever a position's legs do
        self.open_by_position: dict[str, dict[str, None]] = {}
        self.position_stamp: dict[str, int] = {}
        self._stamps = 0
        self._guard: Any = None  # the constraints' guard, built on first use
        cfg = strategy.config
        self.max_cycles: int = cycle_limit(cfg.max_cycles, strategy.mode)
        self.max_lag: int = int(cfg.max_fill_lag)
        self.max_spot_lag: int = int(cfg.max_spot_lag)
        #: resting orders (:mod:`workbench.engine.orders`); touch draws seeded by the config
        self.orders = OrderBook(cfg.config_hash())
        self._quiet_refusal: Refusal | None = None

    # -- accessors used by the strategy and contexts ---------------------------------------
    @property
    def market(self) -> DayMarket:
        if self._market is None:
            raise StrategyStateError("no trading day is running")
        return self._market

    def _now(self) -> datetime:
        if self.tick < 0:  # clock[-1] would be the day's last tick: never read it as "now"
            raise StrategyStateError("no tick yet today: the clock has not started")
        return self.market.clock[self.tick]

    def _mark(self, key: str, trade: Trade, i: int) -> tuple[float, int]:
        series = self._series[key]
        if trade.asset is Asset.UNDERLYING:
            m, lag = series.close[i], series.close_lag[i]
        else:
            m, lag = series.mark[i], series.mark_lag[i]
        if m != m:
            return trade.entry_price, NO_LAG
        return m, lag

    def cycle_pnl(self, i: int) -> float:
        """Current cycle's PnL, money, net of fees; open legs at the mark at tick ``i``.

        Hot path (called every tick by most exits): plain floats and lists, no lookups by key.
        """
        if self._legs_stale:
            self._rebuild_legs()
        total = self.cycle_cash
        if i < 0:  # before the day's first tick "now" is the previous session's close
            for _marks, su, _entry, previous in self._legs:
                total += su * previous
            return total
        for marks, su, entry, _previous in self._legs:
            m = marks[i]
            total += su * (entry if m != m else m)
        return total

    def _rebuild_legs(self) -> None:
        """Refresh the hot-path view of open positions: (mark list, signed units, entry price,
        previous session's closing mark -- "now" before the first tick)."""
        self._legs_stale = False
        last = self._last_marks
        self._legs = [
            (
                self._series[k].close if t.asset is Asset.UNDERLYING else self._series[k].mark,
                self._su[k],
                t.entry_price,
                last.get(k, t.entry_price),
            )
            for k, t in self.book.open.items()
        ]

    def marks(self, i: int) -> dict[str, float]:
        return {k: self._mark(k, t, i)[0] for k, t in self.book.open.items()}

    # -- the account (workbench.engine.account) --------------------------------------------
    @property
    def account(self) -> Account:
        from workbench.engine.account import Account

        return Account(self)

    def market_value(self) -> float:
        """The open positions at their marks now (money): :meth:`account_marks` summed with
        signed units, on the hot path's view of the book (no lookups by key)."""
        if self._legs_stale:
            self._rebuild_legs()
        i = self.tick
        if i < 0:
            return sum(su * previous for _marks, su, _entry, previous in self._legs)
        total = 0.0
        for marks, su, entry, _previous in self._legs:
            m = marks[i]
            total += su * (entry if m != m else m)
        return total

    def _position_changed(self, key: str, opened: bool) -> None:
        pid = self.position_of_key.get(key, key)
        keys = self.open_by_position.setdefault(pid, {})
        if opened:
            keys[key] = None
        else:
            keys.pop(key, None)
            if not keys:
                del self.open_by_position[pid]
        self._stamps += 1
        self.position_stamp[pid] = self._stamps

    def account_marks(self) -> dict[str, float]:
        """The open positions' marks now: at the current tick, or before the day's first tick
        the previous session's closing marks (never a bar of the new day)."""
        if self.tick < 0:
            last = self._last_marks
            return {k: last.get(k, t.entry_price) for k, t in self.book.open.items()}
        return self.marks(self.tick)

    def account_margin(self) -> float:
        """The margin model's requirement for the open positions now (before the first tick:
        the previous close's). A warning the model gives is kept once per day."""
        if not self.book.open:
            return 0.0
        if self.tick < 0:
            return self._close_margin
        before = len(self.warnings)
        value = self._margin(self.tick, self.marks(self.tick))
        new = self.warnings[before:]
        del self.warnings[before:]
        self.warnings.extend(w for w in dict.fromkeys(new) if w not in self.warnings)
        return value

    def position_greeks(
        self, i: int, ts: datetime | None, marks: Mapping[str, float] | None = None
    ) -> dict[str, float]:
        """The book's delta, gamma, vega and theta at tick ``i`` (``ts``: its time), each leg's
        IV from its mark (``marks``: :meth:`marks` of tick ``i``, when the caller has them)."""
        market = self.market
        out = {"delta": 0.0, "gamma": 0.0, "vega": 0.0, "theta": 0.0}
        if i < 0 or not self.book.open:
            return out
        when = ts if ts is not None else market.clock[i]
        su = self._su
        options = [(k, t) for k, t in self.book.open.items() if t.contract is not None]
        for k, t in self.book.open.items():
            if t.asset is Asset.UNDERLYING:
                out["delta"] += su[k]
        if options:
            names = dict.fromkeys(t.underlying for _, t in options)
            # each total adds the legs in book order, as leg by leg would (one compiled pass)
            return book_greeks(
                [t.contract for _, t in options],  # type: ignore[misc]
                [self._mark(k, t, i)[0] for k, t in options]
                if marks is None
                else [marks[k] for k, _ in options],
                [su[k] for k, _ in options],
                {name: self._spot(name, i) for name in names},
                when,
                {name: self._facts_of(name).settlement_clock for name in names},
                self.costs.rate,
                (out["delta"], 0.0, 0.0, 0.0),
            )
        return out

    def _spot(self, underlying: str, i: int) -> float:
        """``underlying``'s spot close at tick ``i``; on a day it has no data (a run of several
        underlyings), its last close before today (its positions are held at their last marks,
        so their Greeks and margin are valued as of then)."""
        market = self.market
        if has_market(market, underlying):
            return float(market_of(market, underlying).spot_ticks.close[i])
        key = (underlying, market.day)
        found = self._held_spots.get(key)
        if found is None:
            from workbench.engine.market import _previous_close

            if any(day != market.day for _, day in self._held_spots):
                self._held_spots = {}  # one day at a time
            found = _previous_close(market.store, underlying, market.day)
            self._held_spots[key] = found
        return found

    def _facts_of(self, underlying: str) -> Any:
        """``underlying``'s contract terms: today's, else the last seen (a day it lacks)."""
        market = self.market
        if has_market(market, underlying):
            facts = market_of(market, underlying).facts
            self._facts[underlying] = facts
            return facts
        facts = self._facts.get(underlying)
        if facts is None:
            from workbench.engine.market import InstrumentFacts

            facts = InstrumentFacts.resolve(market.store, underlying, market.day)
            self._facts[underlying] = facts
        return facts

    def _greeks_by_underlying(
        self, contracts: list[OptionContract], prices: list[float], i: int, when: datetime
    ) -> dict[str, list[float]]:
        """:func:`implied_greeks_columns` of ``contracts``, each against its own underlying's
        spot and settlement clock; the columns in the order given."""
        names = {c.underlying for c in contracts}
        if len(names) == 1:
            (name,) = names
            return implied_greeks_columns(  # type: ignore[no-any-return]
                contracts,
                prices,
                self._spot(name, i),
                when,
                self._facts_of(name).settlement_clock,
                self.costs.rate,
            )
        out: dict[str, list[float]] = {}
        for name in sorted(names):
            where = [j for j, c in enumerate(contracts) if c.underlying == name]
            part = implied_greeks_columns(
                [contracts[j] for j in where],
                [prices[j] for j in where],
                self._spot(name, i),
                when,
                self._facts_of(name).settlement_clock,
                self.costs.rate,
            )
            for column, values in part.items():
                dest = out.setdefault(column, [math.nan] * len(contracts))
                for j, v in zip(where, values, strict=True):
                    dest[j] = float(v)
        return out

    def days_held(self) -> int:
        return self.day_index - self._cycle_day if self.cycle_trades else 0

    def min_dte(self) -> int | None:
        today = self.market.day
        dtes = [
            (t.contract.expiry - today).days
            for t in self.book.open.values()
            if t.contract is not None
        ]
        return min(dtes) if dtes else None

    # -- orders ------------------------------------------------------------------------------
    def _check_tick(self, what: str) -> None:
        if self.tick < 0:
            raise StrategyStateError(
                f"{what} needs a tick: call it from on_bar, adjust or exit_check"
            )

    def _price(
        self,
        key: str,
        contract: OptionContract | None,
        side: Side,
        n_legs: int,
        action: str,
        trade: Trade | None,
        force: bool,
        qty: int = 1,
    ) -> tuple[float, FillInfo, str | None]:
        """Price one leg of ``qty`` contracts at the current tick: ``(price, info, refusal)``;
        warnings recorded. A sized model (``liquidity``) sees the fill bar's volume and open
        interest."""
        market = self.market
        i = self.tick
        clock = market.clock
        name = contract.underlying if contract is not None else trade.underlying  # type: ignore[union-attr]
        if not has_market(market, name):
            info = FillInfo(None, None, "", math.nan, math.nan, math.nan, math.nan)
            absent = f"{name} has no data today"
            if force and trade is not None:
                m, _ = self._mark(key, trade, i)
                self.warnings.append(
                    f"{clock[i]:%H:%M:%S} forced close of {key} ({trade.symbol}) at the mark "
                    f"{m:g}: {absent}"
                )
                return (
                    m,
                    FillInfo(None, None, "force/mark", math.nan, math.nan, math.nan, math.nan),
                    None,
                )
            return math.nan, info, absent
        own = market_of(market, name)
        spot = own.spot_ticks.close[i]
        if contract is None:  # the underlying itself
            lag = own.spot_ticks.close_lag[i]
            price = own.spot_ticks.close[i]
            info = FillInfo(
                clock[i - lag] if lag >= 0 else None,
                None if lag < 0 else lag,
                "spot/close",
                math.nan,
                spot,
                math.nan,
                math.nan,
            )
            if lag < 0 or price != price:
                return math.nan, info, "no spot price yet today"
            return price, info, None
        ticks = market.ticks(contract)
        quote = market.quote(contract, i)
        qlag = quote.lag
        refusal: str | None = None
        if ticks is None:
            refusal = "no bars today"
        elif qlag is None:
            refusal = "no bar yet today"
        elif qlag > self.max_lag:
            refusal = f"no live price: last bar {qlag} ticks old (max_fill_lag={self.max_lag})"
        price = math.nan
        info = FillInfo(None, qlag, "", quote.mid, spot, math.nan, math.nan)
        if refusal is None:
            assert qlag is not None
            model = self.costs.fills.entry if action == "open" else self.costs.fills.exit
            sized = getattr(model, "fill_sized", None)
            if sized is not None and ticks is not None:
                fp = sized(side, quote, legs=n_legs, qty=qty, liquidity=bar_liquidity(ticks, i))
            else:
                fp = model.fill(side, quote, legs=n_legs)
            info.fill_model = f"{model.name}/{fp.basis}"
            info.price_ts = clock[i - qlag]
            if not fp.filled:
                refusal = f"{model.name} fill refused: {fp.warning}"
            else:
                price = float(fp.price)
                if fp.warning:  # recorded only if the whole order executes (see _commit_warnings)
                    self._order_warnings.append(
                        f"{clock[i]:%H:%M:%S} {key} {contract.symbol}: {fp.warning}"
                    )
        if refusal is not None and force:
            assert trade is not None
            m, mlag = self._mark(key, trade, i)
            self.warnings.append(
                f"{clock[i]:%H:%M:%S} forced close of {key} ({contract.symbol}) at the mark "
                f"{m:g}: {refusal}"
            )
            info = FillInfo(
                clock[i - mlag] if mlag >= 0 else None,
                None if mlag < 0 else mlag,
                "force/mark",
                quote.mid,
                spot,
                math.nan,
                math.nan,
            )
            return m, info, None
        return price, info, refusal

    def _fees(
        self, priced: Sequence[_Priced], settlement: bool = False, day: date | None = None
    ) -> list[float]:
        from workbench.execution.fees import FillEvent

        day = self.market.day if day is None else day
        events: list[FillEvent] = []
        where: list[int] = []
        for j, p in enumerate(priced):
            if p.contract is not None:
                events.append(FillEvent(p.contract, p.side, p.qty, p.qty * p.lot, p.price, day))
                where.append(j)
        out = [0.0] * len(priced)
        if events:
            model = self.costs.fees
            values = model.settlement_fees(events) if settlement else model.fees(events)
            for j, v in zip(where, values):
                out[j] = float(v)
        return out

    def note_iv_window(self, window: int, min_days: int) -> None:
        """The strategy read IV rank/percentile with this window: entries record them."""
        self._iv_window = (window, min_days)

    def _fill_greeks(self, priced: Sequence[_Priced]) -> dict[str, list[float]] | None:
        options = [p for p in priced if p.contract is not None]
        if not options:
            return None
        market = self.market
        g = self._greeks_by_underlying(
            [p.contract for p in options],  # type: ignore[misc]
            [p.price for p in options],
            self.tick,
            market.clock[self.tick],
        )
        for p, iv, delta in zip(options, g["iv"], g["delta"], strict=True):
            p.info.iv = iv
            p.info.delta = delta
        return g

    def _refuse(
        self,
        action: str,
        key: str,
        symbol: str,
        reason: str,
        quiet: bool = False,
        constraint: str = "",
    ) -> None:
        self._order_warnings.clear()  # fallbacks of legs that were not filled are not warnings
        refusal = Refusal(self._now(), action, key, symbol, reason, constraint)
        if quiet:  # a resting order's tick: kept on the order, not counted as a refusal
            self._quiet_refusal = refusal
        else:
            self.refusals.append(refusal)

    def quiet_refusal(self) -> Refusal | None:
        """Why the last quiet (resting-order) attempt did not fill."""
        return self._quiet_refusal

    def state_done(self) -> bool:
        return self.state is _DONE

    def watched_value(
        self, on: str, keys: Sequence[str], legs: Sequence[tuple[str, Leg]] = ()
    ) -> float | None:
        """What a stop order watches at the current tick: the underlying's spot close
        (``on="spot"``) or the positions' value at the mark, ``sum(side sign x qty x mark)``
        per unit (``on="value"``; ``None`` when a key is not open). In a run of several
        underlyings the spot is that of the order's own underlying (its positions' or its
        legs'; the run's first when they are on several)."""
        i = self.tick
        if on == "spot":
            names = {t.underlying for k in keys if (t := self.book.open.get(k)) is not None}
            names |= {leg.contract.underlying for _, leg in legs}
            if len(names) == 1:
                name = names.pop()
                if not has_market(self.market, name):
                    return math.nan  # no data today: nothing to watch
                return self._spot(name, i)
            return float(self.market.spot_ticks.close[i])
        total = 0.0
        for key in keys:
            trade = self.book.open.get(key)
            if trade is None:
                return None
            mark, _lag = self._mark(key, trade, i)
            total += trade.side.sign * trade.qty * mark
        return total

    def guard_opening(
        self,
        priced: Sequence[_Priced],
        *,
        closing: Sequence[str] = (),
        action: str = "open",
        quiet: bool = False,
    ) -> bool:
        """The run's portfolio constraints (:mod:`workbench.engine.constraints`) on an order
        about to fill at this tick, its opening legs ``priced`` (and, for a roll, the keys
        ``closing`` it closes): ``True`` to let it fill; ``False`` when a constraint refuses
        it (the refusal is recorded with the constraint's name and why; ``quiet``: a resting
        order's attempt, kept on the order and not counted). Every order that opens legs goes
        through here; closes and settlements never do."""
        constraints = self.costs.constraints
        if constraints is None or not priced:
            return True
        if self._guard is None:
            from workbench.engine.constraints import ConstraintGuard

            self._guard = ConstraintGuard(constraints)
        refused = self._guard.check(self, priced, self._positions_of(priced, closing), closing)
        if refused is None:
            return True
        name, why = refused
        first = priced[0]
        symbol = first.contract.symbol if first.contract is not None else "underlying"
        self._refuse(action, first.key, symbol, f"{name}: {why}", quiet, constraint=name)
        return False

    def _positions_of(self, priced: Sequence[_Priced], closing: Sequence[str] = ()) -> list[str]:
        """The position each opening leg joins: a key ``"<position>/<leg>"`` names its
        position (studies); a key a roll replaces keeps its position; otherwise the legs of
        one order form a new position."""
        from workbench.engine.study import SEPARATOR, position_of

        rolled = set(closing)
        out = []
        for p in priced:
            if p.key in rolled and p.key in self.position_of_key:
                out.append(self.position_of_key[p.key])
            elif SEPARATOR in p.key:
                out.append(position_of(p.key))
            else:
                out.append(f"order-{self._orders + 1}")
        return out

    def _opened_together(self, priced: Sequence[_Priced], closing: Sequence[str] = ()) -> None:
        """Remember which position each key of a filled order belongs to (see
        :meth:`_positions_of`)."""
        positions = self._positions_of(priced, closing)
        self._orders += 1
        for p, pid in zip(priced, positions, strict=True):
            self.position_of_key[p.key] = pid

    def note_refusal(self, action: str, reason: str) -> None:
        """A refusal the strategy decided itself (an entry filter), at the current tick."""
        self._check_tick(action)
        self.refusals.append(Refusal(self._now(), action, "", "", reason))

    def _commit_warnings(self) -> None:
        self.warnings.extend(self._order_warnings)
        self._order_warnings.clear()

    def _start_cycle_if_idle(self) -> None:
        if self.state is _IDLE:
            self.state = _ACTIVE
            self.cycle_cash = 0.0
            self.entry_credit = 0.0
            self.cycle_trades = []
            self._cycle_day = self.day_index
            self._pending_exit = None

    def _record_open(
        self,
        p: _Priced,
        fee: float,
        reason: str,
        asset: Asset = Asset.OPTION,
        when: tuple[date, datetime] | None = None,
        underlying: str | None = None,
    ) -> Trade:
        market = self.market
        day, ts = when if when is not None else (market.day, self._now())
        self._margin_dirty = True
        name = p.contract.underlying if p.contract is not None else underlying
        assert name is not None
        trade = self.book.open_position(
            p.key,
            asset=asset,
            underlying=name,
            contract=p.contract,
            side=p.side,
            qty=p.qty,
            lot_size=p.lot,
            cycle=self.cycle,
            day=day,
            ts=ts,
            price=p.price,
            fees=fee,
            reason=reason,
            info=p.info,
        )
        su = trade.signed_units
        self._su[p.key] = su
        self._position_changed(p.key, True)
        if p.contract is None:
            if has_market(market, name):
                ticks = market_of(market, name).spot_ticks
            else:  # physical delivery on a day the underlying has no data: held at the price
                ticks = constant_ticks(market.n_ticks, p.price)
        else:
            ticks = market.ticks(p.contract)
        assert ticks is not None  # a fill needs a live bar
        self._series[p.key] = ticks
        self._legs_stale = True
        self.cycle_cash += -su * p.price - fee
        self.entry_credit += -su * p.price
        self.cycle_trades.append(trade)
        return trade

    def _record_close(
        self,
        p: _Priced,
        fee: float,
        reason: str,
        action: str = "close",
        when: tuple[date, datetime] | None = None,
    ) -> Trade:
        day, ts = when if when is not None else (self.market.day, self._now())
        self._margin_dirty = True
        self._marks_checked.discard(p.key)  # a new leg may reuse the key today
        self._quoted_keys.discard(p.key)
        self._mark_bounds.pop(p.key, None)
        trade = self.book.close_position(
            p.key,
            day=day,
            ts=ts,
            price=p.price,
            fees=fee,
            reason=reason,
            info=p.info,
            action=action,
        )
        self.cycle_cash += self._su.pop(p.key) * p.price - fee
        self._position_changed(p.key, False)
        del self._series[p.key]
        self._legs_stale = True
        return trade

    def try_fill(
        self,
        legs: Sequence[Leg] | Mapping[str, Leg],
        reason: str,
        *,
        accept: Callable[[list[_Priced]], str | None] | None = None,
        quiet: bool = False,
    ) -> dict[str, Trade] | None:
        """Open every leg at this tick or none. ``accept`` (resting orders) sees the priced
        legs before anything is booked and may decline (a reason) or move their prices
        (a limit order filling at its limit); ``quiet`` keeps a refusal on the order instead
        of the day's refusals."""
        self._check_tick("try_fill")
        if self.state is _DONE:
            raise StrategyStateError(
                f"try_fill at {self._now()}: the strategy is DONE (max_cycles={self.max_cycles} reached)"
            )
        if isinstance(legs, Mapping):
            keyed = [(str(k), leg) for k, leg in legs.items()]
        else:
            keyed = [(leg.contract.symbol if isinstance(leg, Leg) else "", leg) for leg in legs]
        if not keyed:
            raise ValueError("try_fill needs at least one leg")
        seen: set[str] = set()
        for key, leg in keyed:
            if not isinstance(leg, Leg):
                raise TypeError(
                    f"try_fill: leg {key!r} must be a Leg (use Strategy.add), got {leg!r}"
                )
            if key in self.book.open:
                raise ValueError(f"position key {key!r} is already open ({self.book.open[key]!r})")
            if key in seen:
                raise ValueError(f"position key {key!r} appears twice in one order")
            seen.add(key)
        n = len(keyed)
        priced: list[_Priced] = []
        for key, leg in keyed:
            price, info, refusal = self._price(
                key, leg.contract, leg.side, n, "open", None, False, leg.qty
            )
            if refusal is not None:
                self._refuse("open", key, leg.contract.symbol, refusal, quiet)
                return None
            lot = float(self._lot(leg.contract.underlying))
            priced.append(_Priced(key, None, leg.contract, leg.side, leg.qty, lot, price, info))
        if accept is not None and accept(priced) is not None:
            self._order_warnings.clear()
            return None
        if not self.guard_opening(priced, quiet=quiet):
            return None
        fees = self._fees(priced)
        greeks = self._fill_greeks(priced)
        self._commit_warnings()
        self._start_cycle_if_idle()
        self._opened_together(priced)
        opened = {p.key: self._record_open(p, fee, reason) for p, fee in zip(priced, fees)}
        self._entries.append(
            entry_row(self, list(opened.values()), [p for p in priced if p.contract], greeks)
        )
        return opened

    def _close_priced(
        self,
        keys: Sequence[str],
        n_legs: int,
        force: bool,
        action: str = "close",
        quiet: bool = False,
    ) -> list[_Priced] | None:
        priced: list[_Priced] = []
        for key in keys:
            trade = self.book.open[key]
            side = trade.side.opposite
            price, info, refusal = self._price(
                key, trade.contract, side, n_legs, "close", trade, force, trade.qty
            )
            if refusal is not None:
                self._refuse(action, key, trade.symbol, refusal, quiet)
                return None
            priced.append(
                _Priced(key, trade, trade.contract, side, trade.qty, trade.lot_size, price, info)
            )
        return priced

    def close_keys(
        self,
        keys: Sequence[str],
        reason: str,
        *,
        force: bool = False,
        accept: Callable[[list[_Priced]], str | None] | None = None,
        quiet: bool = False,
    ) -> list[Trade] | None:
        self._check_tick("close")
        for key in keys:
            if key not in self.book.open:
                raise KeyError(
                    f"no open position {key!r} (open: {', '.join(self.book.open) or 'none'})"
                )
        if not keys:
            return []
        priced = self._close_priced(keys, len(keys), force, quiet=quiet)
        if priced is None:
            return None
        if accept is not None and accept(priced) is not None:
            self._order_warnings.clear()
            return None
        fees = self._fees(priced)
        self._fill_greeks(priced)
        self._commit_warnings()
        closed = [self._record_close(p, fee, reason) for p, fee in zip(priced, fees)]
        self._after_close()
        return closed

    def roll(self, rolls: Mapping[str, Leg], reason: str) -> dict[str, Trade] | None:
        """Close each open position of ``rolls`` and open its new leg under the same key, all in
        one all-or-nothing order of ``2 x len(rolls)`` legs (the fill model prices every leg as
        part of that order); ``None`` (nothing done, refusal recorded) if any leg cannot fill."""
        self._check_tick("roll")
        if not rolls:
            raise ValueError("roll: give at least one position key and its new leg")
        for key, leg in rolls.items():
            if key not in self.book.open:
                raise KeyError(
                    f"roll: no open position {key!r} (open: {', '.join(self.book.open) or 'none'})"
                )
            if not isinstance(leg, Leg):
                raise TypeError(f"roll {key!r}: leg must be a Leg (use Strategy.add), got {leg!r}")
        n_legs = 2 * len(rolls)
        closing = self._close_priced(list(rolls), n_legs, False, "roll")
        if closing is None:
            return None
        opening: list[_Priced] = []
        for key, leg in rolls.items():
            price, info, refusal = self._price(
                key, leg.contract, leg.side, n_legs, "open", None, False, leg.qty
            )
            if refusal is not None:
                self._refuse("roll", key, leg.contract.symbol, refusal)
                return None
            opening.append(
                _Priced(
                    key, None, leg.contract, leg.side, leg.qty,
                    float(self._lot(leg.contract.underlying)), price, info,
                )
            )  # fmt: skip
        if not self.guard_opening(opening, closing=list(rolls), action="roll"):
            return None
        order = [*closing, *opening]
        fees = self._fees(order)
        self._fill_greeks(order)
        self._commit_warnings()
        self._opened_together(opening, list(rolls))
        for priced, fee in zip(closing, fees[: len(closing)], strict=True):
            self._record_close(priced, fee, reason)
        entry_credit = self.entry_credit
        trades = {
            priced.key: self._record_open(priced, fee, reason)
            for priced, fee in zip(opening, fees[len(closing) :], strict=True)
        }
        self.entry_credit = entry_credit  # a roll does not change the cycle's entry credit
        return trades

    def _lot(self, underlying: str) -> int:
        return int(market_of(self.market, underlying).lot_size)

    def _after_close(self) -> None:
        if self.state is _ACTIVE and not self.book.open:
            self._finish_cycle()

    def _finish_cycle(self) -> None:
        trades = list(self.cycle_trades)
        self.cycle += 1
        self.state = _IDLE if self.cycle < self.max_cycles else _DONE
        self._pending_exit = None
        if self._bar is None:  # settled on a day without data: on_exit at the next first tick
            self._deferred_exits.append(trades)
            return
        self.strategy.on_exit(self._bar, trades)

    # -- settlement (positional) ---------------------------------------------------------
    def _settlements(self, underlying: str | None = None) -> Settlements:
        market = self.market
        name = market.underlying if underlying is None else underlying
        book = self._settle_books.get(name)
        if book is None:
            book = Settlements(market.store, name)
            self._settle_books[name] = book
        return book

    def _open_underlyings(self) -> list[str]:
        """The underlyings of the open positions, in the order first opened."""
        return list(dict.fromkeys(t.underlying for t in self.book.open.values()))

    def _due(self, pred: Any, underlying: str | None = None) -> dict[date, list[str]]:
        """Open option positions of ``underlying`` (default: the primary) by settlement
        session, for the sessions ``pred`` accepts."""
        name = self.market.underlying if underlying is None else underlying
        book = self._settlements(name)
        out: dict[date, list[str]] = {}
        due: dict[date, date | None] = {}  # expiry -> its session when pred accepts it
        for k, t in self.book.open.items():
            contract = t.contract
            if contract is None or contract.underlying != name:
                continue
            expiry = contract.expiry
            if expiry in due:
                session = due[expiry]
            else:
                session = book.session(expiry)
                session = due[expiry] = session if pred(session) else None
            if session is not None:
                out.setdefault(session, []).append(k)
        return out

    def _settle_due(
        self,
        pred: Any,
        here: SettlementValue | None,
        tick: int,
        underlying: str | None = None,
    ) -> None:
        """Settle the positions of ``underlying`` whose session ``pred`` accepts: the official
        value of their session first, else ``here`` (today's own spot) when the session is
        today, else the last spot at or before the settlement time (flagged)."""
        name = self.market.underlying if underlying is None else underlying
        book = self._settlements(name)
        today = self.market.day
        for session, keys in sorted(self._due(pred, name).items()):
            value = book.official(session)
            if value is None:
                value = here if session == today else book.last_spot(session)
            if value is None or not math.isfinite(value.value):
                self.warnings.append(
                    f"positions {keys} reached their settlement session {session} and no spot "
                    "at or before it is known: they stay open"
                )
                continue
            self._settle(keys, value, tick, "expiry", session=session)

    def _settle_gap(self, day: date, underlying: str) -> None:
        """Settle ``underlying``'s positions whose settlement session is ``day`` or earlier,
        on a day ``underlying`` has no data: the official value, else the last spot at or
        before the settlement time (flagged); the rest are held at their last marks."""
        book = self._settlements(underlying)
        for session, keys in sorted(self._due(lambda s: s <= day, underlying).items()):
            value = book.official(session) or book.last_spot(session)
            if value is None:
                self.warnings.append(
                    f"positions {keys} reached their settlement session {session} and no spot "
                    "at or before it is known: they stay open"
                )
                continue
            ts = datetime.combine(day, self._facts_of(underlying).settlement_clock)
            self._settle(keys, value, -1, "expiry", session=session, when=(day, ts))

    def _settle(
        self,
        keys: list[str],
        value: SettlementValue,
        tick: int,
        reason: str,
        *,
        session: date,
        when: tuple[date, datetime] | None = None,
    ) -> None:
        """Settle ``keys`` at intrinsic value against ``value`` (at tick ``tick`` of today, or
        at ``when`` = (day, ts) on a day without data)."""
        if not keys:
            return
        if when is None:
            self.tick = tick
        spot = value.value
        name = self.book.open[keys[0]].underlying
        physical = self._facts_of(name).settlement is Settlement.PHYSICAL
        if value.basis == "last-spot":
            expiries = sorted({str(self.book.open[k].contract.expiry) for k in keys})  # type: ignore[union-attr]
            self.warnings.append(
                f"{len(keys)} position(s) expiring {', '.join(expiries)} settled at {spot:g}, the "
                f"last spot close at or before the settlement time (from {value.source_day}): "
                f"no data for the settlement session {session}"
            )
        priced: list[_Priced] = []
        for key in keys:
            t = self.book.open[key]
            assert t.contract is not None
            intrinsic = t.contract.intrinsic(spot)
            delta = 0.0 if intrinsic == 0 else (1.0 if t.contract.is_call else -1.0)
            info = FillInfo(None, None, value.fill_model, math.nan, spot, math.nan, delta)
            priced.append(
                _Priced(key, t, t.contract, t.side.opposite, t.qty, t.lot_size, intrinsic, info)
            )
        fees = self._fees(priced, settlement=True, day=None if when is None else when[0])
        for p, fee in zip(priced, fees):
            trade = p.trade
            assert trade is not None and trade.contract is not None
            self._record_close(p, fee, reason, action="settle", when=when)
            if physical and p.price > 0:
                long_stock = (trade.side is Side.BUY) == trade.contract.is_call
                units = trade.qty * trade.lot_size
                stock = _Priced(
                    p.key,
                    None,
                    None,
                    Side.BUY if long_stock else Side.SELL,
                    round(units),
                    1.0,
                    spot,
                    FillInfo(
                        None,
                        None,
                        "settle/physical",
                        math.nan,
                        spot,
                        math.nan,
                        1.0 if long_stock else -1.0,
                    ),
                )
                why = "exercise" if trade.side is Side.BUY else "assignment"
                self._record_open(
                    stock, 0.0, why, asset=Asset.UNDERLYING, when=when, underlying=trade.underlying
                )
        self._after_close()

    def run_gap_day(self, day: date, reason: str) -> DayRecord | None:
        """Positional: a trading day without data while positions are open (``None`` when
        flat, or before the first simulated day). Positions whose settlement session is this
        day (or earlier) settle here at the last spot at or before the settlement time (or the
        official value); the others are held at their last marks. The record is "skipped" with
        ``reason`` and carries the day's settlement fills."""
        if self._market is None or not self.book.open:
            return None
        market = self.market
        self.warnings = []
        self.refusals = []
        self._entries = []
        record = DayRecord(day=day, status="skipped", reason=reason)
        self._peak_margin = math.nan
        rows_before = len(self.book.rows)
        cash0, realized0, fees0 = self.book.cash, self.book.realized, self.book.fees
        self.book.set_prefix(day.strftime("%Y%m%d"))
        for name in self._open_underlyings():
            self._settle_gap(day, name)
        last = market.n_ticks - 1
        marks = self.marks(last)
        valued = self.book.reconcile(f"{day} (no data) day end", marks)
        self._fill_record(record, rows_before, cash0, realized0, fees0, marks, last, valued)
        record.spot_close = math.nan
        record.fetches = 0
        self._last_marks = marks
        return record

    # -- the day -----------------------------------------------------------------------------
    def run_day(self, market: DayMarket, day_index: int) -> DayRecord:
        """Simulate one trading day (see the module docstring)."""
        strategy = self.strategy
        self._market = market
        self.day_index = day_index
        self.tick = -1
        self.warnings = []
        self.refusals = []
        self._entries = []
        self._mark_bounds = {}
        self._marks_checked = set()
        self._quoted_keys = set()
        self._margin_dirty = False
        self._peak_margin = math.nan
        market.max_spot_lag = self.max_spot_lag
        day = market.day
        record = DayRecord(day=day)
        rows_before = len(self.book.rows)
        cash0, realized0, fees0 = self.book.cash, self.book.realized, self.book.fees
        self.book.set_prefix(day.strftime("%Y%m%d"))
        bar = BarContext(market, self)
        self._bar = bar
        day_ctx = DayStartContext(market, self)
        positional = self.mode == "positional"
        if market.n_ticks == 0:
            raise ChronologyError(f"{day}: the clock has no ticks (no spot bars)")
        if positional:
            self._bind_open()
        trading = strategy.on_day_start(day_ctx)
        if trading is False:
            record.status = "skipped"
            record.reason = "on_day_start returned False"
        if positional:  # at the open: exits deferred from days without data, AM settlement
            self.tick = 0
            advance(bar, 0, market.clock[0], market.times[0])
            while self._deferred_exits:
                strategy.on_exit(bar, self._deferred_exits.pop(0))
            for name in self._open_underlyings():
                if not has_market(market, name):  # a day this underlying has no data
                    self._settle_gap(day, name)
                    continue
                own = market_of(market, name)
                am = own.facts.settlement_time is SettlementTime.AM
                here = SettlementValue(own.open_spot, "open", day)
                self._settle_due(lambda s, am=am: s < day or (am and s == day), here, 0, name)
            self.tick = -1
        if trading is not False:
            default = market.default_clock
            clock = strategy.clock(day_ctx, default)
            if type(strategy).clock is not Strategy.clock or clock != market.clock:
                clock = _user_clock(clock, day)
                clock_ns = _checked_clock(clock, day)
                market.use_clock(clock_ns, [_as_datetime(t) for t in clock])
                self._bind_open()
            else:
                _checked_clock(market.clock_ns, day)
            self._loop(bar)
            stale = market.stale_spot_summary()
            if stale is not None:
                self.warnings.append(stale)
        last = market.n_ticks - 1
        if not positional:
            if self.book.open:
                self.tick = last
                advance(bar, last, market.clock[last], market.times[last])
                self.close_keys(list(self.book.open), "eod", force=True)
        else:
            self.tick = last
            advance(bar, last, market.clock[last], market.times[last])
            for name in self._open_underlyings():
                if not has_market(market, name):
                    continue
                own = market_of(market, name)
                if own.facts.settlement_time is SettlementTime.PM:
                    here = SettlementValue(own.close_spot, "close", day)
                    self._settle_due(lambda s: s == day, here, last, name)
        strategy.on_day_end(day_ctx)
        self.orders.end_day(self, intraday=not positional)
        record.orders = self.orders.take_events()
        if not positional and self.book.open:
            raise ChronologyError(
                f"{day}: position(s) {sorted(self.book.open)} open after the stop time "
                f"{market.clock[last]:%H:%M:%S} (opened in on_day_end?)"
            )
        if positional:
            self._bound_day_end_marks()  # legs opened today
            self.warnings.extend(self._unquoted_marks(last))
        else:
            record.excursions = day_excursions(
                day,
                [t for t in self.book.closed if t.entry_day == day],
                market.clock,
                lambda t: (
                    market_of(market, t.underlying).spot_ticks
                    if t.contract is None
                    else market.ticks(t.contract)
                ),
            )
        marks = self.marks(last)
        valued = self.book.reconcile(f"{day} day end", marks)
        record.ticks = market.n_ticks if trading is not False else 0
        self._fill_record(record, rows_before, cash0, realized0, fees0, marks, last, valued)
        record.spot_close = market.close_spot
        record.fetches = market.fetch_count
        if positional:
            self._market_release(marks)
        retire(bar)
        self._bar = None  # the day's context refers to this simulator: no cycle outlives the day
        return record

    def _fill_record(
        self,
        record: DayRecord,
        rows_before: int,
        cash0: float,
        realized0: float,
        fees0: float,
        marks: dict[str, float],
        last: int,
        valued: tuple[float, float] | None = None,
    ) -> None:
        """The day's books into ``record``: fills, money, marks, Greeks and margin at tick
        ``last``, warnings and refusals (``valued``: the book's ``(mtm, unrealized)`` at
        ``marks`` when the reconciliation has just computed them)."""
        greeks = self.position_greeks(last, self.market.clock[last], marks)
        record.rows = self.book.rows[rows_before:]
        record.cash = self.book.cash - cash0
        record.realized = self.book.realized - realized0
        record.fees = self.book.fees - fees0
        if valued is None:
            valued = (self.book.mtm(marks), self.book.unrealized(marks))
        record.mtm, record.unrealized = valued
        record.open_legs = len(self.book.open)
        record.delta, record.gamma = greeks["delta"], greeks["gamma"]
        record.vega, record.theta = greeks["vega"], greeks["theta"]
        record.margin = self._margin(last, marks)
        record.peak_margin = float(np.fmax(self._peak_margin, record.margin))
        record.fills = len(record.rows)
        record.warnings = list(self.warnings)
        record.refusals = [str(r) for r in self.refusals]
        for r in self.refusals:
            if r.constraint:
                counts = record.constraint_refusals
                counts[r.constraint] = counts.get(r.constraint, 0) + 1
        self._close_margin = 0.0 if not self.book.open else record.margin
        record.account_used = self.account_used
        record.entries = list(self._entries)

    def _unquoted_marks(self, i: int) -> list[str]:
        """Warnings for option legs held overnight whose mark at tick ``i`` is not a quote mid:
        the visible bar has no usable two-sided quote, so the mark is a last trade that may be
        stale (seed 002: a mark fallback is never silent)."""
        out = []
        quoted = self._quoted_keys
        for key, trade in self.book.open.items():
            if key in quoted:
                continue
            series = self._series.get(key)
            if trade.asset is Asset.UNDERLYING or series is None or not len(series.bid):
                continue
            r = int(series.row[i])
            if r < 0:
                continue  # no bar today: _bind_open has said so
            bid, ask = float(series.bid[r]), float(series.ask[r])
            if usable_quote(bid, ask):
                continue
            mark, _ = self._mark(key, trade, i)
            close = float(series.last[r])
            source = (
                "a last trade"
                if math.isfinite(close) and close >= 0
                else "carried from an earlier bar (this one has no trade either)"
            )
            bounded = self._mark_bounds.get(key)
            if bounded is not None:
                raw, bound = bounded
                out.append(
                    f"{key} ({trade.symbol}) bounded mark {mark:g} instead of {raw:g} "
                    f"({source}; its bar has no two-sided quote, bid {bid:g}, ask {ask:g}): "
                    f"{bound.note}"
                )
                continue
            out.append(
                f"{key} ({trade.symbol}) marked at {mark:g}, {source}: its bar has no "
                f"two-sided quote (bid {bid:g}, ask {ask:g})"
            )
        return out

    def _bound_day_end_marks(self) -> None:
        """Positional: move the day-end mark of every open option leg whose last bar has no
        two-sided quote into its no-arbitrage bounds against the quoted neighbour strikes
        (:mod:`workbench.engine.markbounds`; ``Config.mark_bounds``, on by default). Only the
        day's last tick is changed: it values the book overnight (equity, margin, the next
        day's previous close); marks inside the day stay the rule's."""
        if self.mode != "positional" or not self.strategy.config.mark_bounds:
            return
        market = self.market
        last = market.n_ticks - 1
        checked = self._marks_checked
        # the legs to bound, by the chain that bounds them
        todo: dict[tuple[str, date, bool], list[tuple[str, float, float]]] = {}
        for key, trade in self.book.open.items():
            if key in checked:
                continue
            checked.add(key)
            contract = trade.contract
            series = self._series.get(key)
            if contract is None or series is None:
                continue
            if not len(series.bid) or int(series.row[last]) < 0:
                continue  # no bar today: marked at the last mark, said by _bind_open
            r = int(series.row[last])
            if usable_quote(float(series.bid[r]), float(series.ask[r])):
                continue
            group = (contract.underlying, contract.expiry, contract.right is Right.CALL)
            todo.setdefault(group, []).append(
                (key, float(contract.strike), float(series.mark[last]))
            )
        for (underlying, expiry, is_call), legs in todo.items():
            snap = market_of(market, underlying).snapshot(expiry, last)
            # most such marks sit inside their bounds: those are found for the chain at once,
            # the rest bounded one by one
            inside = marks_inside_bounds(
                snap,
                np.fromiter((k for _, k, _ in legs), dtype=np.float64, count=len(legs)),
                is_call,
                np.fromiter((m for _, _, m in legs), dtype=np.float64, count=len(legs)),
            )
            for (key, strike, raw), skip in zip(legs, inside.tolist(), strict=True):
                if skip:
                    continue
                found = bound_mark(snap, strike, is_call, raw)
                if found is None:
                    continue
                series = self._series[key]
                marks = list(series.mark)
                marks[last] = found.value
                self._series[key] = replace(series, mark=marks)
                self._mark_bounds[key] = (raw, found)
                self._legs_stale = True

    def _market_release(self, marks: Mapping[str, float]) -> None:
        """Positional: remember today's closing marks (:meth:`marks` of the day's last tick)
        and drop today's market."""
        self._last_marks = dict(marks)
        self._bar = None

    def _bind_open(self) -> None:
        """Point open positions at today's prices; one with no bars today keeps its last mark."""
        market = self.market
        open_legs = self.book.open
        many = getattr(market, "ticks_many", None)
        found: list[TickSeries | None] | None = None
        quoted: list[bool] = []
        inside: list[bool] = []
        if many is not None:  # one vectorised lookup for every open option leg
            found = many(
                [t.contract for t in open_legs.values() if t.contract is not None],
                quoted=quoted,
                inside=inside,
            )
        if found is None or len(quoted) != len(found):
            quoted = []  # not known at once: each leg's quote is looked at on its own
        if found is None or len(inside) != len(found):
            inside = []  # likewise each unquoted leg's bounds (_bound_day_end_marks)
        quoted_keys: set[str] = set()
        inside_keys: list[str] = []
        j = 0
        for key, trade in open_legs.items():
            if trade.contract is None:
                if has_market(market, trade.underlying):
                    self._series[key] = market_of(market, trade.underlying).spot_ticks
                else:
                    last = self._last_marks.get(key, trade.entry_price)
                    self._series[key] = constant_ticks(market.n_ticks, last)
                continue
            if found is not None:
                ticks = found[j]
                if quoted and quoted[j]:
                    quoted_keys.add(key)
                elif inside and inside[j]:
                    inside_keys.append(key)
                j += 1
            else:
                ticks = market.ticks(trade.contract)
            if ticks is None:
                last = self._last_marks.get(key, trade.entry_price)
                ticks = constant_ticks(market.n_ticks, last)
                if not has_market(market, trade.underlying):
                    self.warnings.append(
                        f"{key} ({trade.symbol}) held at {last:g}: {trade.underlying} has no "
                        "data today"
                    )
                elif not self._settles_at_open(trade.contract):
                    self.warnings.append(
                        f"{key} ({trade.symbol}) has no bars today: marked at {last:g}"
                    )
            self._series[key] = ticks
        self._legs_stale = True
        self._mark_bounds = {}  # the series were just re-read: bound them again
        # a leg with a two-sided quote at the day's tick needs no bound and no warning
        self._quoted_keys = quoted_keys
        # a leg whose mark is inside its bounds is not bounded either (its warning stays)
        self._marks_checked = quoted_keys.union(inside_keys)
        self._bound_day_end_marks()

    def _settles_at_open(self, contract: OptionContract) -> bool:
        """An AM-settled option on (or past) its settlement session: it settles at the open
        and does not trade that day, so its missing bars are not news."""
        market = self.market
        return (
            self._facts_of(contract.underlying).settlement_time is SettlementTime.AM
            and self._settlements(contract.underlying).session(contract.expiry) <= market.day
        )

    def _margin(self, i: int, marks: dict[str, float]) -> float:
        """The margin model's requirement for the open positions at tick ``i`` (money).

        Each option leg goes to the model with its mark and the volatility implied by that mark.
        A mark that no volatility reproduces (below intrinsic value, e.g. the mid of a wide quote
        on a deep in-the-money option, typically on the day of a big move) leaves the leg without
        one; a model that needs it (``span``) then raises
        :class:`~workbench.execution.margin.MissingVolatilityError`, and the leg is revalued
        at the implied volatility of the position's nearest-strike leg that has one (same expiry
        first), with a warning naming both legs. Such a leg is worth about its intrinsic value,
        so the borrowed volatility moves the requirement little, whereas a missing day would
        hide the requirement when it matters most. A model's own ``fallback_sigma``
        (``span:...,sigma=0.15``) applies first. When the model still cannot price the position
        (:class:`~workbench.execution.margin.MarginUnavailableError`: unbounded risk under
        ``defined-risk``, no leg with a volatility) the day's margin is NaN with a warning
        naming the model and the reason.
        """
        model = self.costs.margin
        if model is None:
            return 0.0 if not self.book.open else math.nan
        if not self.book.open:
            return 0.0
        items = [
            (k, t.contract, t.symbol, self._su[k], marks[k])
            for k, t in self.book.open.items()
            if t.contract is not None
        ]
        return self._margin_by_underlying(i, items)

    def _margin_by_underlying(
        self, i: int, items: Sequence[tuple[str, OptionContract | None, str, float, float]]
    ) -> float:
        """The requirement for option legs ``(key, contract, symbol, signed units, price)``:
        each underlying's legs against its own spot, the requirements added."""
        if not items:
            return 0.0
        names = list(dict.fromkeys(c.underlying for _, c, _, _, _ in items if c is not None))
        if len(names) <= 1:
            return self._margin_of(i, items, names[0] if names else None)
        total = 0.0
        for name in names:
            part = [it for it in items if it[1] is not None and it[1].underlying == name]
            total += self._margin_of(i, part, name)
        return total

    def margin_with(self, extra: Sequence[_Priced], without: Sequence[str] = ()) -> float:
        """The margin model's requirement now for the open positions (at their marks) less the
        keys ``without`` (closed by the same order) plus the option legs of ``extra`` (an order
        about to fill, at its fill prices): the margin after the fill. NaN when the model
        cannot price it (a warning says why)."""
        i = self.tick
        marks = self.marks(i)
        gone = set(without)
        items = [
            (k, t.contract, t.symbol, self._su[k], marks[k])
            for k, t in self.book.open.items()
            if t.contract is not None and k not in gone
        ]
        items += [
            (p.key, p.contract, p.contract.symbol, p.side.sign * p.qty * p.lot, p.price)
            for p in extra
            if p.contract is not None
        ]
        return self._margin_by_underlying(i, items)

    def margin_of_legs(
        self, items: Sequence[tuple[str, OptionContract | None, str, float, float]]
    ) -> float:
        """The margin model's requirement now for option legs ``(key, contract, symbol,
        signed units, price)`` alone (a position being sized)."""
        return self._margin_by_underlying(self.tick, items)

    def _margin_of(
        self,
        i: int,
        items: Sequence[tuple[str, OptionContract | None, str, float, float]],
        underlying: str | None,
    ) -> float:
        """:meth:`_margin` of option legs ``(key, contract, symbol, signed units, price)``,
        all on ``underlying``."""
        from workbench.execution.margin import MarginUnavailableError, MissingVolatilityError
        from workbench.execution.payoff import PositionLeg

        model = self.costs.margin
        assert model is not None
        if not items:
            return 0.0
        market = self.market
        name = market.underlying if underlying is None else underlying
        spot = self._spot(name, i)
        settle_clock = self._facts_of(name).settlement_clock
        greeks = implied_greeks(
            [c for _, c, _, _, _ in items],  # type: ignore[misc]
            [price for _, _, _, _, price in items],
            spot,
            market.clock[i],
            settle_clock,
            self.costs.rate,
        )
        legs = []
        for (_, c, _, units, price), g in zip(items, greeks):
            assert c is not None
            legs.append(
                PositionLeg(
                    strike=c.strike,
                    is_call=c.is_call,
                    units=units,
                    price=price,
                    years=years_to_settlement(market.clock[i], c.expiry, settle_clock),
                    sigma=g["iv"] if g["iv"] == g["iv"] and g["iv"] > 0 else math.nan,
                )
            )
        try:
            try:
                return float(model.margin(legs, spot))
            except MissingVolatilityError as exc:
                legs, notes = _borrow_volatility(items, legs)
                if not notes:
                    raise MarginUnavailableError(
                        f"{exc}; no leg of the position has an implied volatility"
                    ) from None
                self.warnings.extend(f"margin {model.name}: {note}" for note in notes)
                return float(model.margin(legs, spot))
        except MarginUnavailableError as exc:
            self.warnings.append(f"margin {model.name} unavailable, NaN for the day: {exc}")
            return math.nan

    def _loop(self, bar: BarContext) -> None:
        strategy = self.strategy
        market = self.market
        on_bar = strategy.on_bar
        adjust = strategy.adjust if type(strategy).adjust is not Strategy.adjust else None
        exit_check = strategy.exit_check
        clock = market.clock
        times = market.times
        orders = self.orders
        for i in range(market.n_ticks):
            self.tick = i
            advance(bar, i, clock[i], times[i])
            if orders:  # resting orders first: the hooks see this tick's fills
                orders.work(self)
            if self.state is _ACTIVE:
                if adjust is not None:
                    adjust(bar)
                if self.state is _ACTIVE:
                    reason = self._pending_exit or exit_check(bar)
                    if reason and self.close_keys(list(self.book.open), str(reason)) is None:
                        self._pending_exit = str(reason)
            on_bar(bar)
            if self._margin_dirty:
                self._track_margin(i)

    def _track_margin(self, i: int) -> None:
        """The margin after tick ``i``'s fills, into the day's peak (many-tick days only: a
        one-tick day's close is its only tick). A warning the margin model gives is kept once."""
        self._margin_dirty = False
        if self.costs.margin is None or self.market.n_ticks < 2:
            return
        before = len(self.warnings)
        value = self._margin(i, self.marks(i))
        new = self.warnings[before:]
        del self.warnings[before:]
        self.warnings.extend(w for w in dict.fromkeys(new) if w not in self.warnings)
        self._peak_margin = float(np.fmax(self._peak_margin, value))


def _borrow_volatility(
    items: Sequence[tuple[str, OptionContract | None, str, float, float]],
    legs: Sequence[PositionLeg],
) -> tuple[list[PositionLeg], list[str]]:
    """Legs with time left and no volatility take the implied volatility of the position's
    nearest-strike leg that has one (same expiry first; ties to the lower strike). ``items``
    are the legs' ``(key, contract, symbol, signed units, mark)``. Returns the new legs and one
    note per leg filled; no notes when no leg has a volatility."""
    import dataclasses

    have = [j for j, leg in enumerate(legs) if leg.sigma == leg.sigma and leg.sigma > 0]
    if not have:
        return list(legs), []
    out = list(legs)
    notes = []
    for j, leg in enumerate(legs):
        if leg.years <= 0 or j in have:
            continue
        key, contract, symbol, _, mark = items[j]
        expiry = contract.expiry if contract is not None else None

        def distance(m: int, expiry: Any = expiry, strike: float = leg.strike) -> tuple:
            other = items[m][1]
            same = other is not None and other.expiry == expiry
            return (not same, abs(legs[m].strike - strike), legs[m].strike)

        donor = min(have, key=distance)
        sigma = legs[donor].sigma
        out[j] = dataclasses.replace(leg, sigma=sigma)
        notes.append(
            f"{key} ({symbol}, mark {mark:g}) has no implied volatility at the close; "
            f"revalued at {items[donor][0]}'s ({items[donor][2]}) {sigma:.4f}"
        )
    return out, notes


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return np.datetime64(value, "us").astype(datetime)  # type: ignore[no-any-return]


def _user_clock(clock: Any, day: date) -> list[Any]:
    """What a strategy's ``clock()`` returned, as a list of timestamps. Plain numbers
    (``list(range(n))``) are refused: they are not times of the session (they would read as
    nanoseconds after 1970)."""
    values = list(clock)
    for j, v in enumerate(values):
        if isinstance(v, (int, float, np.integer, np.floating)):
            raise ChronologyError(
                f"{day}: clock() must return timestamps of the day (datetimes, e.g. ticks[::5] "
                f"of the default clock), not numbers (tick {j} is {v!r})"
            )
    return values


_NS_PER_DAY = 86_400 * 1_000_000_000


def _checked_clock(clock: Any, day: date) -> np.ndarray:
    """The clock as int64 ns, strictly increasing, all on ``day``; ``ChronologyError`` otherwise.

    ``clock`` is int64 ns (the market's own clock) or what a strategy's ``clock()`` returned;
    see :func:`_user_clock`."""
    try:
        ns = clock_to_ns(clock)
    except (TypeError, ValueError) as exc:
        raise ChronologyError(f"{day}: the clock must hold timestamps ({exc})") from None
    if ns.size == 0:
        raise ChronologyError(f"{day}: the clock is empty")
    if ns.size == 1 and int(ns[0]) // _NS_PER_DAY == day.toordinal() - EPOCH_ORDINAL:
        return ns  # an end-of-day clock: its one tick on the day (the general checks below)
    days = ns.astype("datetime64[ns]").astype("datetime64[D]")
    off = np.flatnonzero(days != np.datetime64(day, "D"))
    if off.size:
        j = int(off[0])
        raise ChronologyError(
            f"{day}: clock tick {j} ({np.datetime64(int(ns[j]), 'ns')}) is not on the session day"
        )
    steps = np.diff(ns)
    bad = np.flatnonzero(steps <= 0)
    if bad.size:
        j = int(bad[0]) + 1
        a = np.datetime64(int(ns[j - 1]), "ns")
        b = np.datetime64(int(ns[j]), "ns")
        kind = "repeated" if ns[j] == ns[j - 1] else "out-of-order (stale)"
        raise ChronologyError(f"{day}: {kind} timestamp at tick {j}: {b} after {a}")
    return ns
