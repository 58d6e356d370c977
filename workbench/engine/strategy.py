"""The strategy base class: a frozen ``Config`` plus lifecycle hooks; the engine owns the rest.

A strategy author subclasses :class:`Strategy`, declares ``class Config(StrategyConfig)`` and
overrides the hooks it needs::

    class ShortStraddle(Strategy):
        class Config(StrategyConfig):
            entry: time = time(9, 20)
            stop_loss: float = 0.25

        def on_bar(self, bar):
            if self.idle and bar.time >= self.config.entry:
                atm = bar.atm(expiry=0)
                self.try_fill([self.add(atm, "C", "SELL"), self.add(atm, "P", "SELL")])

        def exit_check(self, bar):
            return "stop_loss" if self.pnl(bar) < -self.config.stop_loss * self.entry_credit else None

Lifecycle per day (DESIGN.md, Engine): ``on_day_start(day)`` (return ``False`` to skip the day),
then per tick: when ACTIVE ``adjust(bar)`` -> ``exit_check(bar)`` -> exit of every open leg with
the returned reason (``on_exit(bar, trades)``, then the cycle ends: IDLE again while cycles
remain, else DONE); then ``on_bar(bar)`` (entries). Intraday: the last tick force-closes what is
open (reason ``"eod"``), then ``on_day_end(day)``. A strategy instance is created per day in
intraday mode (days are independent) and once per run in positional mode.

No look-ahead: a strategy reads the market only through the contexts (bound to the current
tick); its link to the engine is name-mangled (``_Strategy__sim``) and exposes no public path to
the day's data. Python cannot forbid deliberate access to private attributes.

The state machine IDLE -> ACTIVE -> DONE is the engine's: ``try_fill`` moves IDLE -> ACTIVE;
closing every open leg ends the cycle; ``Config.max_cycles`` bounds the cycles (default: one a
day intraday, "until the data ends" positionally).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, overload

from typing_extensions import TypeVar

from workbench.engine.config import StrategyConfig, build_config
from workbench.engine.errors import StrategyStateError
from workbench.engine.trade import StrategyState, Trade
from workbench.model.contracts import OptionContract
from workbench.model.enums import Right, Side
from workbench.model.trades import Leg

if TYPE_CHECKING:
    from workbench.engine.account import Account
    from workbench.engine.context import BarContext, DayStartContext
    from workbench.engine.orders import Order
    from workbench.engine.simulator import Refusal, Simulator
    from workbench.engine.sizing import Sizing

Mode = Literal["intraday", "positional"]
_IDLE = StrategyState.IDLE
_ACTIVE = StrategyState.ACTIVE

ConfigT = TypeVar("ConfigT", bound=StrategyConfig, default=Any)
"""The type of a strategy's ``self.config``: ``Strategy[MyConfig]`` types it for mypy and
IDEs; a plain ``Strategy`` subclass leaves it ``Any``."""


class Strategy(Generic[ConfigT]):
    """Base of every strategy (see the module docstring).

    Class attributes a subclass may set: ``Config`` (its parameters), ``name`` (default: the
    class name), ``version`` (bump when behaviour changes; recorded in the manifest), ``mode``
    (``"intraday"`` or ``"positional"``).

    For a typed ``self.config``, declare the config class first and parameterise the base::

        class StraddleConfig(StrategyConfig):
            entry: time = time(9, 20)

        class Straddle(Strategy[StraddleConfig]):
            Config = StraddleConfig

            def on_bar(self, bar: BarContext) -> None:
                if bar.time >= self.config.entry: ...   # typed: datetime.time
    """

    Config: ClassVar[type[StrategyConfig]] = StrategyConfig
    name: ClassVar[str | None] = None
    version: ClassVar[str] = "1"
    mode: ClassVar[Mode] = "intraday"

    def __init__(self, config: StrategyConfig | Mapping[str, Any] | None = None) -> None:
        if config is None or isinstance(config, Mapping):
            config = build_config(self.Config, dict(config or {}))
        elif not isinstance(config, self.Config):
            raise TypeError(
                f"{type(self).__name__} needs a {self.Config.__qualname__}, got {type(config).__qualname__}"
            )
        self.config: ConfigT = config  # type: ignore[assignment]
        self.__sim: Simulator | None = None

    @classmethod
    def strategy_name(cls) -> str:
        return cls.name or cls.__name__

    # -- hooks (override) ---------------------------------------------------------------------
    def on_day_start(self, day: DayStartContext) -> bool:
        """Before the first tick. Return ``False`` to skip the day (recorded with the reason)."""
        return True

    def clock(self, day: DayStartContext, ticks: list[datetime]) -> list[datetime]:
        """The day's clock; default: the spot bars' timestamps. Must be strictly increasing."""
        return ticks

    def on_bar(self, bar: BarContext) -> None:
        """Every tick, after the ACTIVE-state processing: decisions and entries."""

    def adjust(self, bar: BarContext) -> None:
        """Every tick while ACTIVE, first: adjustments (close/open legs, ``roll``)."""

    def exit_check(self, bar: BarContext) -> str | None:
        """Every tick while ACTIVE, after ``adjust``: an exit reason closes every open leg."""
        return None

    def on_exit(self, bar: BarContext, trades: list[Trade]) -> None:
        """After a cycle's last leg closed; ``trades`` are the cycle's trades."""

    def on_day_end(self, day: DayStartContext) -> None:
        """After the last tick (intraday: after the force close)."""

    # -- engine services ------------------------------------------------------------------------
    def _attach(self, sim: Simulator | None) -> None:
        """Engine only: bind this strategy to the simulator running it."""
        self.__sim = sim

    def _release(self) -> None:
        """Engine only, after the run's days: let go of the simulator (and of anything else
        that refers back to it), so that no reference cycle keeps the run's books alive."""
        self._attach(None)

    @property
    def _engine(self) -> Simulator:
        if self.__sim is None:
            raise StrategyStateError(
                f"{type(self).__name__}: not attached to a running engine (use run_backtest)"
            )
        return self.__sim

    @property
    def state(self) -> StrategyState:
        return self._engine.state

    @property
    def idle(self) -> bool:
        sim = self.__sim
        return (sim if sim is not None else self._engine).state is _IDLE

    @property
    def active(self) -> bool:
        sim = self.__sim
        return (sim if sim is not None else self._engine).state is _ACTIVE

    @property
    def done(self) -> bool:
        return self._engine.state is StrategyState.DONE

    @property
    def cycle(self) -> int:
        """Cycles completed so far (0 during the first)."""
        return self._engine.cycle

    @property
    def positions(self) -> dict[str, Trade]:
        """Open positions by key (a copy; the engine's books are not editable through it)."""
        return dict(self._engine.book.open)

    @property
    def closed_trades(self) -> list[Trade]:
        """Every closed trade, across cycles, in closing order (a copy)."""
        return list(self._engine.book.closed)

    @property
    def cycle_trades(self) -> list[Trade]:
        """Trades opened in the current cycle (open and closed)."""
        return list(self._engine.cycle_trades)

    @property
    def entry_credit(self) -> float:
        """Net premium of the current cycle's opening fills, money: > 0 received, < 0 paid."""
        sim = self.__sim
        return (sim if sim is not None else self._engine).entry_credit

    @property
    def refusals(self) -> list[Refusal]:
        """Fills refused so far (this day in intraday mode), each saying which leg and why."""
        return list(self._engine.refusals)

    @property
    def last_refusal(self) -> Refusal | None:
        refusals = self._engine.refusals
        return refusals[-1] if refusals else None

    @property
    def account(self) -> Account:
        """The account as of now (:mod:`workbench.engine.account`): ``equity``, ``cash``,
        ``margin_in_use``, ``buying_power``; before the day's first tick, the previous close."""
        return self._engine.account

    def size(
        self,
        order: Sequence[Leg] | Mapping[str, Leg] = (),
        sizing: Sizing | Mapping[str, Any] | None = None,
        *,
        max_loss: float | None = None,
        cost: float | None = None,
        **rule: Any,
    ) -> int:
        """How many units of ``order`` (one unit = its legs at their ``qty``) to trade now:
        a whole number >= 0 (:mod:`workbench.engine.sizing` gives each rule with its units).

        ``sizing`` is a :class:`~workbench.engine.sizing.Sizing` or its fields; default the
        Config's ``sizing`` parameter when it has one, else 1 unit (fixed). Keywords override
        its fields: ``self.size(order, rule="risk", risk_pct=0.02)``. ``max_loss`` / ``cost``
        (money per unit) replace the amounts computed from the order's legs priced now.
        """
        from workbench.engine.sizing import as_sizing, size_units

        if sizing is None:
            sizing = getattr(self.config, "sizing", None)
        chosen = as_sizing(sizing, **rule)
        legs = list(order.values()) if isinstance(order, Mapping) else list(order)
        if (
            not legs
            and chosen.rule != "fixed"
            and (
                (chosen.rule == "percent_equity" and cost is None)
                or (chosen.rule != "percent_equity" and max_loss is None)
            )
        ):
            raise ValueError(
                f"size: rule {chosen.rule!r} needs the order (its legs give the amounts per "
                "unit) or max_loss= / cost="
            )
        sim = self._engine
        if sim.tick < 0:
            raise StrategyStateError(
                "size needs a tick (quotes and the account now): call it from on_bar, adjust "
                "or exit_check"
            )
        return size_units(sim, legs, chosen, max_loss=max_loss, cost=cost)  # type: ignore[arg-type]

    @overload
    def sized(
        self, order: Mapping[str, Leg], sizing: Sizing | Mapping[str, Any] | None = None, **kw: Any
    ) -> dict[str, Leg] | None: ...

    @overload
    def sized(
        self, order: Sequence[Leg], sizing: Sizing | Mapping[str, Any] | None = None, **kw: Any
    ) -> list[Leg] | None: ...

    def sized(
        self,
        order: Sequence[Leg] | Mapping[str, Leg],
        sizing: Sizing | Mapping[str, Any] | None = None,
        **kw: Any,
    ) -> list[Leg] | dict[str, Leg] | None:
        """``order`` with every leg's ``qty`` multiplied by :meth:`size` (same arguments), or
        ``None`` when the size is 0: ``self.try_fill(self.sized(order))`` after a ``None``
        check is sizing in one call."""
        from workbench.engine.sizing import scaled_order

        n = self.size(order, sizing, **kw)
        return scaled_order(order, n) if n > 0 else None

    def try_fill_sized(
        self, order: Sequence[Leg] | Mapping[str, Leg], *, reason: str = "entry"
    ) -> dict[str, Trade] | None:
        """:meth:`try_fill` of ``order`` sized by the Config's ``sizing`` parameter (one unit =
        the order as given); the order unchanged when the Config has none or it is ``None``.
        ``None`` (nothing recorded) when the size is 0 units."""
        if getattr(self.config, "sizing", None) is None:
            return self.try_fill(order, reason=reason)
        sized = self.sized(order)
        return None if sized is None else self.try_fill(sized, reason=reason)

    def pnl(self, bar: BarContext | None = None) -> float:
        """Current cycle's PnL in money, net of fees, open legs at the mark (now)."""
        sim = self.__sim if self.__sim is not None else self._engine
        return sim.cycle_pnl(sim.tick)

    def days_held(self, bar: BarContext | None = None) -> int:
        """Trading days since the cycle's first fill (0 on the entry day)."""
        return self._engine.days_held()

    def dte(self, bar: BarContext | None = None) -> int | None:
        """Calendar days to the nearest expiry among open option legs (``None`` without one)."""
        return self._engine.min_dte()

    @overload
    def add(self, strike: OptionContract, right: Side | str, *, qty: int = 1) -> Leg: ...

    @overload
    def add(
        self,
        strike: float,
        right: Right | str,
        side: Side | str,
        qty: int = 1,
        expiry: int | date = 0,
        *,
        underlying: str | None = None,
    ) -> Leg: ...

    def add(
        self,
        strike: float | OptionContract,
        right: Right | Side | str | None = None,
        side: Side | str | None = None,
        qty: int = 1,
        expiry: int | date = 0,
        *,
        underlying: str | None = None,
    ) -> Leg:
        """A leg on today's chain: ``add(strike, right, side, qty=1, expiry=0)`` with ``expiry``
        an index into today's listed expiries (0 = nearest) or a listed date and ``qty``
        contracts (lots); or ``add(contract, side, qty=1)`` with a contract from
        :meth:`BarContext.select <workbench.engine.context.BarContext.select>` (its strike,
        right and expiry), ``qty`` by keyword or third. In a run of several underlyings
        (``Config.underlyings``) ``underlying=`` names the chain (default: the run's first
        underlying); a contract carries its own."""
        from workbench.engine.universe import market_of, underlyings_of

        market = self._engine.market
        if isinstance(strike, OptionContract):
            contract = strike
            if isinstance(side, int) and not isinstance(side, bool):  # add(contract, "SELL", 2)
                qty, side = side, None
            if side is None:  # add(contract, "SELL")
                right, side = None, right  # type: ignore[assignment]
            if right is not None and Right.parse(right) is not contract.right:  # type: ignore[arg-type]
                raise ValueError(
                    f"add: {contract.symbol} is a {contract.right.name}, got right={right!r}"
                )
            held = underlyings_of(market)
            if contract.underlying not in held:
                names = ", ".join(held)
                raise ValueError(
                    f"add: {contract.symbol} is not on today's underlying"
                    f"{'s' if len(held) > 1 else ''} {names}"
                )
            if underlying is not None and underlying.strip().upper() != contract.underlying:
                raise ValueError(
                    f"add: {contract.symbol} is on {contract.underlying}, got underlying={underlying!r}"
                )
            if side is None:
                raise ValueError("add: give the side, e.g. add(contract, 'SELL')")
            own = market_of(market, contract.underlying)
            return Leg(
                own.contract(contract.strike, contract.right, contract.expiry),
                Side.parse(side),
                qty,
            )
        if right is None or side is None:
            raise ValueError("add: give strike, right and side, e.g. add(22000, 'C', 'SELL')")
        own = market_of(market, underlying)
        return Leg(own.contract(strike, right, expiry), Side.parse(side), qty)  # type: ignore[arg-type]

    def try_fill(
        self, legs: Sequence[Leg] | Mapping[str, Leg], *, reason: str = "entry"
    ) -> dict[str, Trade] | None:
        """Open every leg at this tick or none (all-or-nothing).

        A list gets automatic keys (the contract's display symbol); a dict uses its keys. Returns
        the new trades by key, or ``None`` when a leg had no live price (its bar's lag must be 0,
        or at most ``Config.max_fill_lag``) or the fill model refused it; the refusal is recorded
        (:attr:`refusals`). A key already open raises ``ValueError``.
        """
        return self._engine.try_fill(legs, reason)

    def record_refusal(self, reason: str, *, action: str = "entry") -> None:
        """Record that the strategy refused to act now and why (an entry filter: VIX above a
        band, IV percentile too low); it appears in :attr:`refusals` and ``days.csv`` beside
        refused fills (action ``"entry"``, no leg)."""
        self._engine.note_refusal(action, str(reason))

    def close(self, key: str, *, reason: str = "close") -> Trade | None:
        """Close one position now (``None`` if refused: no live price)."""
        closed = self._engine.close_keys([key], reason)
        return None if closed is None else closed[0]

    def close_all(self, *, reason: str = "close") -> list[Trade] | None:
        """Close every open position now, all or none."""
        return self._engine.close_keys(list(self._engine.book.open), reason)

    @overload
    def roll(self, key: str, leg: Leg, *, reason: str = "roll") -> Trade | None: ...

    @overload
    def roll(
        self, key: Mapping[str, Leg], leg: None = None, *, reason: str = "roll"
    ) -> dict[str, Trade] | None: ...

    def roll(
        self, key: str | Mapping[str, Leg], leg: Leg | None = None, *, reason: str = "roll"
    ) -> Trade | dict[str, Trade] | None:
        """Roll positions: close each and open its new leg under the same key, in ONE
        all-or-nothing order -- ``roll("call", leg)`` for one, ``roll({"call": c, "put": p})``
        for several (the new trades by key). ``None`` when any leg cannot fill (nothing is
        done; the refusal is recorded). A roll is an adjustment inside the position, never
        a new position (:mod:`workbench.engine.positions`), and keeps the cycle's entry
        credit."""
        if isinstance(key, Mapping):
            if leg is not None:
                raise TypeError("roll: give a key and a leg, or a mapping of keys to legs")
            return self._engine.roll(dict(key), reason)
        if leg is None:
            raise TypeError(f"roll({key!r}): the new leg is missing")
        done = self._engine.roll({key: leg}, reason)
        return None if done is None else done[key]

    # -- orders that rest (workbench.engine.orders) ----------------------------------------------
    def place_limit(
        self,
        legs: Sequence[Leg] | Mapping[str, Leg] | Leg | str | Sequence[str] | None,
        *,
        limit: float,
        tif: Literal["bar", "day", "gtc"] = "day",
        touch_probability: float = 0.0,
        reason: str | None = None,
    ) -> str:
        """Place a multi-leg limit order at a net price; returns its order id.

        ``legs``: legs to open (a list gets automatic keys, a dict its keys, as ``try_fill``)
        or the keys of open positions to close (a key, a list of keys; ``None`` = every open
        position). ``limit``: the net debit per unit of underlying, ``sum(qty x price)`` of
        bought legs minus sold legs; negative = a credit (``limit=-1.20``: open a credit spread
        for at least 1.20; ``limit=0.60`` on the spread's keys: buy it back for at most 0.60).
        The order rests and fills, all legs or none, at the first LATER tick at which the
        run's fill model prices the combo at or better than the limit (at the fill model's
        prices on its first tick, at the limit afterwards); at the touch it fills with
        probability ``touch_probability`` (default 0: never). ``tif``: ``"bar"`` (the next
        tick only), ``"day"`` (default; until the session's end), ``"gtc"`` (positional: until
        filled or cancelled; intraday runs expire every order at the day's end).
        ``reason``: the tradebook reason of its fills (default ``"entry"`` for an opening
        order, ``"limit"`` for a closing one). Details: :mod:`workbench.engine.orders`.
        """
        from workbench.engine.orders import (
            check_limit,
            check_probability,
            check_tif,
            is_closing_target,
        )

        sim = self._engine
        sim._check_tick("place_limit")
        closing = is_closing_target(legs)
        return sim.orders.place(
            sim,
            legs,
            kind="limit",
            action="close" if closing else "open",
            tif=check_tif(tif),
            limit=check_limit(limit),
            trigger_on=None,
            above=None,
            below=None,
            touch_probability=check_probability(touch_probability),
            reason=reason or ("limit" if closing else "entry"),
        )

    def place_stop(
        self,
        target: Sequence[Leg] | Mapping[str, Leg] | Leg | str | Sequence[str] | None = None,
        *,
        on: Literal["value", "spot"] = "value",
        above: float | None = None,
        below: float | None = None,
        tif: Literal["bar", "day", "gtc"] = "gtc",
        reason: str | None = None,
    ) -> str:
        """Place a stop order; returns its order id. It triggers at the first LATER tick where
        the watched number is ``>= above`` or ``<= below`` and then becomes a market order at
        that tick (retried each tick until it fills or its ``tif`` ends).

        ``target``: open position keys to close (a key, keys, ``None`` = every open position)
        or legs to open (then only ``on="spot"``). ``on="value"``: the positions' value at the
        mark, ``sum(side sign x qty x mark)`` per unit (a short spread is negative: stop it out
        with ``below=-2 x credit``); ``on="spot"``: the underlying's spot close. ``reason``:
        default ``"stop"`` (closing) / ``"entry"`` (opening)."""
        from workbench.engine.orders import check_tif, is_closing_target

        sim = self._engine
        sim._check_tick("place_stop")
        closing = is_closing_target(target)
        if on not in ("value", "spot"):
            raise ValueError(f"place_stop: on must be 'value' or 'spot', got {on!r}")
        if not closing and on != "spot":
            raise ValueError("place_stop: a stop that opens legs watches the spot (on='spot')")
        if above is None and below is None:
            raise ValueError("place_stop: give above= or below= (the trigger)")
        from workbench.engine.orders import check_limit

        return sim.orders.place(
            sim,
            target,
            kind="stop",
            action="close" if closing else "open",
            tif=check_tif(tif),
            limit=None,
            trigger_on=on,
            above=None if above is None else check_limit(above),
            below=None if below is None else check_limit(below),
            touch_probability=0.0,
            reason=reason or ("stop" if closing else "entry"),
        )

    def cancel(self, order_id: str) -> bool:
        """Cancel an open order now (``False`` when it had already filled, expired or was
        cancelled); ``KeyError`` for an unknown id."""
        sim = self._engine
        sim._check_tick("cancel")
        return sim.orders.cancel(sim, order_id)

    def replace(
        self,
        order_id: str,
        *,
        limit: float | None = None,
        above: float | None = None,
        below: float | None = None,
    ) -> None:
        """Amend a working order's limit (limit orders) or trigger (stops); the amended order
        is a new arrival, eligible from the next tick."""
        from workbench.engine.orders import check_limit

        sim = self._engine
        sim._check_tick("replace")
        changes = {
            name: check_limit(value)
            for name, value in (("limit", limit), ("above", above), ("below", below))
            if value is not None
        }
        if not changes:
            raise ValueError("replace: give limit=, above= or below=")
        sim.orders.replace(sim, order_id, changes)

    @property
    def orders(self) -> dict[str, Order]:
        """Open orders (working, or triggered stops not yet filled) by id, in placement order;
        each an immutable :class:`~workbench.engine.orders.Order` snapshot as of this tick."""
        return self._engine.orders.open_orders()

    def order(self, order_id: str) -> Order:
        """Any order placed in this simulation by id (its status as of now)."""
        return self._engine.orders.get(order_id)
