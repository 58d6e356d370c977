"""The same rules on each underlying of a universe, in one book.

A single-underlying strategy (its ``on_bar``, ``exit_check``, ``adjust``, ``on_exit``, its
``self.idle`` / ``self.pnl`` / ``self.entry_credit`` bookkeeping) runs unchanged on every
underlying of a run of several (``Config.underlyings``) when it is wrapped::

    class PutCreditSpreadEach(PerUnderlying):
        rules = PutCreditSpread
        Config = PutCreditSpread.Config

    run_backtest(PutCreditSpreadEach, data="data/etf",
                 params={"underlyings": ["SPY", "QQQ", "IWM"], "dte_window": (30, 45)})

Each underlying gets its own instance of the rules and its own view of the engine
(:class:`UnderlyingBook`): its positions (keys prefixed ``"SPY."``, so the tradebook says whose
they are), its own IDLE -> ACTIVE -> DONE cycle and ``max_cycles``, its cycle's PnL, entry credit,
days held and DTE, its refusals, and contexts bound to its own underlying's market
(``bar.spot``, ``bar.chain()``, ``bar.select()`` answer for it). Orders still go through the
run's one book, one cash account and one fill and fee model, all-or-nothing as always.

Per tick, for each underlying with data today in the run's order: a cycle its last leg left
since the previous tick (an exit, a settlement at expiry) calls the rules' ``on_exit``; then,
when ACTIVE, ``adjust`` -> ``exit_check`` -> exit of that underlying's legs; then ``on_bar``. An
underlying without data today gets no hooks that day (its positions are held, and settle, by
the engine's gap-day rules). Results are those of running the rules on each underlying alone,
summed, whenever nothing shared binds (``tests/engine/test_engine_per_underlying.py``).

The rules must use the run's clock (a ``clock`` override is refused), and cannot place resting
orders (``place_limit``/``place_stop`` raise; a strategy trading the universe itself can).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from workbench.engine.config import StrategyConfig, cycle_limit
from workbench.engine.context import BarContext, DayStartContext, advance, retire
from workbench.engine.errors import StrategyStateError
from workbench.engine.strategy import Strategy
from workbench.engine.trade import Asset, StrategyState, Trade
from workbench.engine.universe import market_of, underlyings_of

if TYPE_CHECKING:
    from workbench.engine.simulator import Refusal, Simulator
    from workbench.model.trades import Leg

_KEY = 1  # tradebook row: position key
_CASH = 22  # tradebook row: cash


class _BookView:
    """The part of :class:`~workbench.engine.book.Book` the strategy base reads, for one
    underlying's positions (keys without the prefix)."""

    def __init__(self, owner: UnderlyingBook) -> None:
        self._owner = owner

    @property
    def open(self) -> dict[str, Trade]:
        p = self._owner.prefix
        n = len(p)
        return {k[n:]: t for k, t in self._owner.sim.book.open.items() if k.startswith(p)}

    @property
    def closed(self) -> list[Trade]:
        p = self._owner.prefix
        return [t for t in self._owner.sim.book.closed if t.key.startswith(p)]


class UnderlyingBook:
    """One underlying's view of the run's simulator (what ``Strategy._engine`` is for the rules
    of that underlying); see the module docstring."""

    def __init__(self, sim: Simulator, underlying: str, config: StrategyConfig, mode: str) -> None:
        self.sim = sim
        self.underlying = underlying
        self.prefix = f"{underlying}."
        self.book = _BookView(self)
        self.cycle = 0
        self.max_cycles = cycle_limit(config.max_cycles, mode)
        self.cycle_trades: list[Trade] = []
        self.entry_credit = 0.0
        self._cycle_start_row = 0
        self._cycle_day = 0
        self._in_cycle = False
        self.pending_exit: str | None = None
        self._bar: BarContext | None = None
        #: the rules' on_exit (set by PerUnderlying)
        self.on_exit: Callable[[BarContext, list[Trade]], None] | None = None

    def release(self) -> None:
        """After the run: drop the links back to the simulator, the day's context, the rules'
        ``on_exit`` and the book view (which refers back to this object), so that nothing
        here waits for the collector."""
        self._bar = None
        self.on_exit = None
        self.book = None  # type: ignore[assignment]
        self.sim = None  # type: ignore[assignment]

    # -- state -------------------------------------------------------------------------------
    def _has_open(self) -> bool:
        p = self.prefix
        return any(k.startswith(p) for k in self.sim.book.open)

    @property
    def state(self) -> StrategyState:
        if self._has_open():
            return StrategyState.ACTIVE
        if self.cycle >= self.max_cycles:
            return StrategyState.DONE
        return StrategyState.IDLE

    @property
    def tick(self) -> int:
        return self.sim.tick

    @property
    def day_index(self) -> int:
        return self.sim.day_index

    @property
    def market(self) -> Any:
        return market_of(self.sim.market, self.underlying)

    @property
    def refusals(self) -> list[Refusal]:
        p = self.prefix
        return [r for r in self.sim.refusals if r.key.startswith(p)]

    # -- valuation ---------------------------------------------------------------------------
    def cycle_pnl(self, i: int) -> float:
        """This underlying's current cycle PnL, money, net of fees, open legs at the mark."""
        if not self._in_cycle:
            return 0.0
        p = self.prefix
        sim = self.sim
        rows = sim.book.rows
        total = 0.0
        for row in rows[self._cycle_start_row :]:
            if str(row[_KEY]).startswith(p):
                total += float(row[_CASH])
        for k, t in sim.book.open.items():
            if not k.startswith(p):
                continue
            if i < 0:
                mark = sim._last_marks.get(k, t.entry_price)
            else:
                mark, _ = sim._mark(k, t, i)
            total += t.signed_units * mark
        return total

    def position_greeks(self, i: int, ts: datetime | None) -> dict[str, float]:
        out = {"delta": 0.0, "gamma": 0.0, "vega": 0.0, "theta": 0.0}
        sim = self.sim
        if i < 0:
            return out
        p = self.prefix
        mine = [(k, t) for k, t in sim.book.open.items() if k.startswith(p)]
        for _, t in mine:
            if t.asset is Asset.UNDERLYING:
                out["delta"] += t.signed_units
        options = [(k, t) for k, t in mine if t.contract is not None]
        if options:
            when = ts if ts is not None else sim.market.clock[i]
            g = sim._greeks_by_underlying(
                [t.contract for _, t in options],  # type: ignore[misc]
                [sim._mark(k, t, i)[0] for k, t in options],
                i,
                when,
            )
            for name in out:
                for (_, t), v in zip(options, g[name], strict=True):
                    if v == v:
                        out[name] += t.signed_units * float(v)
        return out

    def days_held(self) -> int:
        return self.sim.day_index - self._cycle_day if self.cycle_trades else 0

    def min_dte(self) -> int | None:
        today = self.sim.market.day
        dtes = [
            (t.contract.expiry - today).days
            for t in self.book.open.values()
            if t.contract is not None
        ]
        return min(dtes) if dtes else None

    # -- orders ------------------------------------------------------------------------------
    # -- the run's one account and models (sizing from equity; workbench.engine.sizing) ------
    @property
    def account(self) -> Any:
        """The run's account: one cash account and equity for every underlying."""
        return self.sim.account

    @property
    def costs(self) -> Any:
        return self.sim.costs

    @property
    def mode(self) -> str:
        return self.sim.mode

    @property
    def position_of_key(self) -> dict[str, str]:
        return self.sim.position_of_key

    def _lot(self, underlying: str) -> int:
        return self.sim._lot(underlying)

    def margin_of_legs(self, items: Any) -> float:
        return self.sim.margin_of_legs(items)

    def _no_resting_orders(self, what: str) -> StrategyStateError:
        return StrategyStateError(
            f"{what}: resting orders are not available to rules run per underlying "
            f"({self.underlying}); place them from a strategy that trades the universe itself"
        )

    def _check_tick(self, what: str) -> None:
        raise self._no_resting_orders(what)

    @property
    def orders(self) -> Any:
        raise self._no_resting_orders("orders")

    def _outer(self, key: str) -> str:
        return self.prefix + key

    def _inner(self, trades: Mapping[str, Trade]) -> dict[str, Trade]:
        n = len(self.prefix)
        return {k[n:]: t for k, t in trades.items()}

    def _check_legs(self, legs: Sequence[Leg] | Mapping[str, Leg]) -> None:
        items = legs.values() if isinstance(legs, Mapping) else legs
        for leg in items:
            contract = getattr(leg, "contract", None)
            if contract is not None and contract.underlying != self.underlying:
                raise ValueError(
                    f"{contract.symbol}: the rules running on {self.underlying} may trade only "
                    f"{self.underlying}"
                )

    def try_fill(
        self, legs: Sequence[Leg] | Mapping[str, Leg], reason: str
    ) -> dict[str, Trade] | None:
        if self.state is StrategyState.DONE:
            raise StrategyStateError(
                f"try_fill on {self.underlying}: its rules are DONE "
                f"(max_cycles={self.max_cycles} reached)"
            )
        self._check_legs(legs)
        if isinstance(legs, Mapping):
            keyed = {self._outer(str(k)): leg for k, leg in legs.items()}
        else:
            keyed = {self._outer(leg.contract.symbol): leg for leg in legs}
        start = len(self.sim.book.rows)
        done = self.sim.try_fill(keyed, reason)
        if done is None:
            return None
        if not self._in_cycle:
            self._in_cycle = True
            self._cycle_start_row = start
            self._cycle_day = self.sim.day_index
            self.cycle_trades = []
            self.entry_credit = 0.0
            self.pending_exit = None
        for t in done.values():
            self.cycle_trades.append(t)
            self.entry_credit += -t.signed_units * t.entry_price
        return self._inner(done)

    def close_keys(
        self, keys: Sequence[str], reason: str, *, force: bool = False
    ) -> list[Trade] | None:
        for key in keys:
            if self._outer(key) not in self.sim.book.open:
                raise KeyError(
                    f"no open position {key!r} on {self.underlying} "
                    f"(open: {', '.join(self.book.open) or 'none'})"
                )
        closed = self.sim.close_keys([self._outer(k) for k in keys], reason, force=force)
        if closed is not None:
            self.finish_if_flat()
        return closed

    def roll(self, rolls: Mapping[str, Leg], reason: str) -> dict[str, Trade] | None:
        self._check_legs(rolls)
        done = self.sim.roll({self._outer(k): leg for k, leg in rolls.items()}, reason)
        if done is None:
            return None
        self.cycle_trades.extend(done.values())
        return self._inner(done)

    # -- cycles ------------------------------------------------------------------------------
    def finish_if_flat(self) -> list[Trade] | None:
        """End the cycle when this underlying's last leg has closed (by an exit, a settlement
        or a forced close): the cycle's trades, for ``on_exit`` (``None`` if still open)."""
        if not self._in_cycle or self._has_open():
            return None
        self._in_cycle = False
        self.cycle += 1
        self.pending_exit = None
        trades = list(self.cycle_trades)
        on_exit = getattr(self, "on_exit", None)
        if on_exit is not None and self._bar is not None:
            on_exit(self._bar, trades)
        return trades


class PerUnderlying(Strategy):
    """Runs ``rules`` (a single-underlying :class:`Strategy` class) on each underlying of the
    run; see the module docstring. Subclass it with ``rules`` and ``Config`` set."""

    rules: ClassVar[type[Strategy]]

    def __init__(self, config: StrategyConfig | Mapping[str, Any] | None = None) -> None:
        super().__init__(config)
        rules = getattr(type(self), "rules", None)
        if not (isinstance(rules, type) and issubclass(rules, Strategy)):
            raise TypeError(f"{type(self).__name__}: set rules = <a Strategy class>")
        if rules.clock is not Strategy.clock:
            raise TypeError(
                f"{type(self).__name__}: {rules.__name__} sets its own clock; rules run per "
                "underlying use the run's clock"
            )
        self._inner: dict[str, tuple[Strategy, UnderlyingBook]] = {}
        self._skipped: set[str] = set()
        self._bars: dict[str, BarContext] = {}
        self._days: dict[str, DayStartContext] = {}
        self._day: Any = None

    def _release(self) -> None:
        """Each underlying's rules let go of their view of the simulator too (a view refers to
        the simulator, which refers to this strategy)."""
        for rules, view in self._inner.values():
            rules._release()
            view.release()
        self._inner = {}
        self._bars, self._days, self._day = {}, {}, None
        super()._release()

    def _rules_for(self, underlying: str) -> tuple[Strategy, UnderlyingBook]:
        found = self._inner.get(underlying)
        if found is None:
            sim = self._engine
            config = self.config.model_copy(update={"underlyings": None, "underlying": underlying})
            rules = type(self).rules(config)
            view = UnderlyingBook(sim, underlying, config, type(self).mode)
            view.on_exit = rules.on_exit
            rules._attach(view)  # type: ignore[arg-type]
            found = (rules, view)
            self._inner[underlying] = found
        return found

    def _contexts(self, market: Any) -> None:
        """Today's per-underlying contexts (once a day)."""
        if self._day is market:
            return
        self._day = market
        self._bars = {}
        self._days = {}
        sim = self._engine
        sim.max_cycles = 2**62  # the cycles that count are each underlying's own
        for name in underlyings_of(market):
            _, view = self._rules_for(name)
            own = market_of(market, name)
            bar = BarContext(own, view)  # type: ignore[arg-type]
            view._bar = bar
            self._bars[name] = bar
            self._days[name] = DayStartContext(own)

    # -- hooks -------------------------------------------------------------------------------
    def on_day_start(self, day: DayStartContext) -> bool:
        market = self._engine.market
        self._contexts(market)
        self._skipped = set()
        for name in underlyings_of(market):
            rules, _ = self._rules_for(name)
            if rules.on_day_start(self._days[name]) is False:
                self._skipped.add(name)
        return True

    def _sync(self, name: str, bar: BarContext) -> BarContext:
        inner = self._bars[name]
        advance(inner, bar.tick, bar.ts, bar.time)
        return inner

    def on_bar(self, bar: BarContext) -> None:
        self._contexts(self._engine.market)
        for name in bar.underlyings:
            if name in self._skipped:
                continue
            rules, view = self._rules_for(name)
            inner = self._sync(name, bar)
            view.finish_if_flat()
            if view.state is StrategyState.ACTIVE:
                if type(rules).adjust is not Strategy.adjust:
                    rules.adjust(inner)
                if view.state is StrategyState.ACTIVE:
                    reason = view.pending_exit or rules.exit_check(inner)
                    if reason:
                        keys = list(view.book.open)
                        if view.close_keys(keys, str(reason)) is None:
                            view.pending_exit = str(reason)
            rules.on_bar(inner)

    def on_day_end(self, day: DayStartContext) -> None:
        market = self._engine.market
        last = market.n_ticks - 1
        for name in underlyings_of(market):
            rules, view = self._rules_for(name)
            inner = self._bars.get(name)
            if inner is not None and last >= 0:
                advance(inner, last, market.clock[last], market.times[last])
            view.finish_if_flat()
            if name not in self._skipped:
                rules.on_day_end(self._days[name])
        for inner in self._bars.values():
            retire(inner)  # a context kept past its day raises, as the engine's own does

    def exit_check(self, bar: BarContext) -> str | None:
        return None  # each underlying's exits run in on_bar

    @property
    def underlying_rules(self) -> dict[str, Strategy]:
        """Each underlying's instance of the rules (created on its first day with data)."""
        return {name: rules for name, (rules, _) in self._inner.items()}
