"""Orders that rest: multi-leg net-price limit orders and stop orders, worked by the engine.

A strategy places an order at a tick (``Strategy.place_limit`` / ``Strategy.place_stop``); the
simulator works every resting order at each LATER tick, before the strategy's hooks see that
tick (:meth:`OrderBook.work`). An order placed (or replaced) at tick ``i`` can fill at tick
``i + 1`` at the earliest, even when it was fillable at ``i``. A fill goes through the same
all-or-nothing order path as ``try_fill`` / ``close`` (the run's fill model -- entry model for
opening orders, exit model for closing ones --, fees, the tradebook, the state machine).

Prices and signs
----------------
``limit`` is the order's **net debit per unit of underlying**: ``sum(qty x price)`` over the
legs bought minus the same over the legs sold (``qty`` in contracts, ``price`` per unit, so a
1x1 spread's net is a price difference). A positive limit is the most the order pays; a
negative one is a credit, the least it receives: ``limit=-1.20`` on a put credit spread opens
it only for a credit of 1.20 or more; ``limit=0.60`` on the closing order of that spread buys it
back for a debit of 0.60 or less (seed 003/004 profit taking). The order fills at tick ``k``
when the combo's net at the fill model's leg prices ``N`` satisfies ``N <= limit``:

* at the order's first eligible tick (its arrival: the tick after it was placed or replaced)
  the order is marketable and fills at the fill model's leg prices (``N``, at or better than
  the limit);
* at any later tick it is a resting order the market came to, and it fills **at the limit**
  (no price improvement): the difference ``d = limit - N >= 0`` is spread over the legs in
  proportion to their premium (``G = sum(qty x price)``; bought legs ``price x (1 + d/G)``,
  sold legs ``price x (1 - d/G)``), so the legs' net equals the limit exactly. The tradebook's
  ``fill_model`` is then ``limit/<model>``. (When that would make a sold leg's price negative,
  ``d > G``, the legs fill at the model's prices instead.)
* **at the touch** (``N`` equal to the limit within 1e-9 relative, no improvement) the order
  fills only with probability ``touch_probability`` (default 0: it does not fill at the touch;
  1: it always does). The draw is deterministic: ``u = sha256("<config hash>|<order
  id>|<revision>|<tick timestamp>")`` read as a fraction in [0, 1), the order fills when
  ``u < p``; so a rerun (in any process, any executor) draws the same numbers.
* all legs or none: a leg without a live price (no bar at the tick beyond ``max_fill_lag``,
  no usable quote for the model) means no fill at that tick; the order keeps resting and its
  ``last_reason`` says why (no refusal is recorded for a resting order's tick: it is not an
  order sent to the market).

Stop orders
-----------
``place_stop(keys, on="value", above=..., below=...)`` watches the **value** of open positions
``keys`` at the engine's mark: ``sum(side sign x qty x mark)`` per unit (bought legs +, sold
legs -: a short credit spread is worth about ``-1.20`` at entry, and ``below=-2.40`` stops it
out when buying it back would cost 2.40). ``on="spot"`` watches the underlying's spot close at
the tick. The stop triggers at the first eligible tick where the watched number is ``>= above``
or ``<= below``, and becomes a market order at that tick: the keys close through ``close``
(the exit fill model). A triggered stop that cannot fill (no live price) stays triggered and is
retried at every tick until it fills or its time in force ends. A stop may also open legs
(``place_stop(legs, on="spot", above=...)``, a breakout entry): only ``on="spot"`` then.

Time in force
-------------
``"bar"``: tried at one tick only, the next one (in positional mode possibly the next session's
first tick), then expired. ``"day"``: expires at the end of the session it was placed in (after
``on_day_end``). ``"gtc"``: rests across days in positional mode until filled or cancelled;
in intraday mode every order expires at the day's end (days are independent simulations).
A closing order whose positions are no longer open (closed by another order, an exit or
expiry settlement) is cancelled at the next tick it is worked, reason ``"positions closed"``;
so a profit-taking limit and a stop on the same spread behave as one-cancels-other.
``cancel(order_id)`` and ``replace(order_id, limit=...)`` act at once; a replaced order is a
new arrival (eligible from the next tick, ``revision`` + 1). Orders are worked on the ticks the
simulator runs: a day whose ``on_day_start`` returns ``False`` delivers no tick, and resting
orders wait (positional) or expire (intraday) with it.

Records
-------
Every event is a row of :data:`ORDER_COLUMNS` (``orders.csv`` in a saved run): ``placed``,
``replaced``, ``cancelled``, ``expired``, ``rejected``, ``triggered``, ``filled``, with the
day and the tick's timestamp.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

from workbench.model.enums import Side
from workbench.model.trades import Leg

if TYPE_CHECKING:
    from workbench.engine.simulator import Simulator, _Priced

TimeInForce = Literal["bar", "day", "gtc"]
OrderStatus = Literal["working", "triggered", "filled", "cancelled", "expired", "rejected"]
TIFS: tuple[str, ...] = ("bar", "day", "gtc")
OPEN_STATUSES = ("working", "triggered")

ORDER_COLUMNS: tuple[str, ...] = (
    "order_id",
    "revision",
    "day",
    "ts",
    "event",
    "kind",
    "action",
    "tif",
    "legs",
    "limit",
    "trigger_on",
    "above",
    "below",
    "touch_probability",
    "net_price",
    "reason",
)
"""``orders.csv``: one row per order event. ``net_price``: the filled net debit per unit
(``filled`` rows), the watched value (``triggered`` rows). ``legs``: ``key:SIDE qty SYMBOL``
joined by ``;`` (closing orders: the keys)."""

_TOUCH_TOL = 1e-9


@dataclass(frozen=True, slots=True)
class Order:
    """An order as the strategy sees it (a snapshot; the engine replaces it as it changes).

    ``legs`` (opening orders) are ``(key, Leg)`` pairs -- key ``""`` means the leg's display
    symbol, as ``try_fill`` with a list; ``keys`` (closing orders) are the open positions it
    closes. ``placed`` / ``done`` are tick timestamps. ``filled_net`` is the net debit per unit
    it filled at. ``last_reason`` says why it did not fill at the last tick it was worked."""

    id: str
    kind: Literal["limit", "stop"]
    action: Literal["open", "close"]
    tif: TimeInForce
    legs: tuple[tuple[str, Leg], ...]
    keys: tuple[str, ...]
    limit: float | None
    trigger_on: Literal["value", "spot"] | None
    above: float | None
    below: float | None
    touch_probability: float
    reason: str
    status: OrderStatus
    placed: datetime
    revision: int = 0
    done: datetime | None = None
    filled_net: float | None = None
    last_reason: str = ""

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(slots=True)
class _Slot:
    order: Order
    eligible: tuple[int, int]  # (day index, tick): worked at this serial or later
    tried: bool = False  # worked at least once since placement / the last replace
    #: why the last tick did not fill it, kept raw and worded only when read (hot path)
    why: tuple[Any, ...] | None = None

    def snapshot(self) -> Order:
        order = self.order
        if self.why is None or not order.is_open:
            return order
        return replace(order, last_reason=_why_text(self.why))


def _why_text(why: tuple[Any, ...]) -> str:
    kind = why[0]
    if kind == "worse":
        return f"net {why[1]:.6g} worse than the limit {why[2]:g}"
    if kind == "touch":
        return f"at the touch (net {why[1]:.6g}), not filled (p={why[2]:g}, u={why[3]:.4f})"
    if kind == "refused":
        r = why[1]
        return "" if r is None else f"{r.key} ({r.symbol}): {r.reason}"
    if kind == "unwatched":
        return f"no {why[1]} to watch"
    if kind == "waiting":
        return f"{why[1]} {why[2]:.6g} not at the trigger"
    return str(why)


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(out):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return out


def _tif(tif: str) -> TimeInForce:
    if tif not in TIFS:
        raise ValueError(f"tif must be one of {', '.join(TIFS)}; got {tif!r}")
    return tif  # type: ignore[return-value]


def _probability(p: Any) -> float:
    v = _number(p, "touch_probability")
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"touch_probability must be in [0, 1], got {p!r}")
    return v


def touch_draw(seed: str, order_id: str, revision: int, ts: datetime) -> float:
    """The deterministic uniform draw in [0, 1) for a touch of ``order_id`` at tick ``ts``."""
    text = f"{seed}|{order_id}|{revision}|{ts.isoformat()}"
    digest = hashlib.sha256(text.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def net_debit(priced: Sequence[_Priced]) -> float:
    """``sum(qty x price)`` of bought legs minus sold legs (per unit)."""
    return sum(p.side.sign * p.qty * p.price for p in priced)


def legs_text(order: Order) -> str:
    if order.action == "close":
        return ";".join(order.keys)
    return ";".join(
        f"{key or leg.contract.symbol}:{leg.side.value} {leg.qty} {leg.contract.symbol}"
        for key, leg in order.legs
    )


class OrderBook:
    """The simulator's resting orders and their event rows (engine only)."""

    def __init__(self, seed: str) -> None:
        self.seed = seed
        self._slots: dict[str, _Slot] = {}
        self._open: dict[str, _Slot] = {}  # working or triggered, in placement order
        self._count = 0
        self.events: list[tuple[Any, ...]] = []

    # -- what the strategy sees ------------------------------------------------------------------
    def open_orders(self) -> dict[str, Order]:
        return {k: s.snapshot() for k, s in self._open.items()}

    def get(self, order_id: str) -> Order:
        slot = self._slots.get(order_id)
        if slot is None:
            raise KeyError(f"no order {order_id!r} (orders: {', '.join(self._slots) or 'none'})")
        return slot.snapshot()

    def __bool__(self) -> bool:
        return bool(self._open)

    # -- events ----------------------------------------------------------------------------------
    def _record(
        self, order: Order, day: date, ts: datetime, event: str, net: float | None, reason: str
    ) -> None:
        self.events.append(
            (
                order.id,
                order.revision,
                day,
                ts,
                event,
                order.kind,
                order.action,
                order.tif,
                legs_text(order),
                math.nan if order.limit is None else order.limit,
                order.trigger_on or "",
                math.nan if order.above is None else order.above,
                math.nan if order.below is None else order.below,
                order.touch_probability,
                math.nan if net is None else net,
                reason,
            )
        )

    def take_events(self) -> list[tuple[Any, ...]]:
        out, self.events = self.events, []
        return out

    # -- placing ---------------------------------------------------------------------------------
    def place(self, sim: Simulator, target: Any, **fields: Any) -> str:
        """Validate and add an order placed at the simulator's current tick; its id."""
        market = sim.market
        if fields["action"] == "open":
            keyed = _keyed_legs(target)
            for key, leg in keyed:
                if (key or leg.contract.symbol) in sim.book.open:
                    raise ValueError(f"position key {key or leg.contract.symbol!r} is already open")
            fields["legs"], fields["keys"] = tuple(keyed), ()
        else:
            keys = _keys(target, sim)
            fields["legs"], fields["keys"] = (), tuple(keys)
        self._count += 1
        order_id = f"{market.day:%Y%m%d}-{self._count}"
        order = Order(id=order_id, status="working", placed=sim._now(), **fields)  # type: ignore[arg-type]
        slot = _Slot(order, (sim.day_index, sim.tick + 1))
        self._slots[order_id] = self._open[order_id] = slot
        self._record(order, market.day, sim._now(), "placed", None, order.reason)
        return order_id

    def cancel(self, sim: Simulator, order_id: str) -> bool:
        """Cancel a working or triggered order now; ``False`` if it was no longer open."""
        slot = self._slot(order_id)
        if not slot.order.is_open:
            return False
        self._finish(sim, slot, "cancelled", "cancelled", "cancelled by the strategy")
        return True

    def replace(self, sim: Simulator, order_id: str, changes: dict[str, Any]) -> None:
        slot = self._slot(order_id)
        order = slot.order
        if order.status != "working":
            raise ValueError(f"replace: order {order_id} is {order.status}, not working")
        if order.kind == "limit" and set(changes) - {"limit"}:
            raise ValueError(f"replace: a limit order takes limit=, got {sorted(changes)}")
        if order.kind == "stop":
            if set(changes) - {"above", "below"}:
                raise ValueError(
                    f"replace: a stop order takes above=/below=, got {sorted(changes)}"
                )
            above = changes.get("above", order.above)
            below = changes.get("below", order.below)
            if above is None and below is None:
                raise ValueError("replace: a stop needs above= or below=")
        slot.order = replace(order, revision=order.revision + 1, **changes)
        slot.eligible = (sim.day_index, sim.tick + 1)
        slot.tried = False
        slot.why = None
        self._record(slot.order, sim.market.day, sim._now(), "replaced", None, "")

    def _slot(self, order_id: str) -> _Slot:
        slot = self._slots.get(order_id)
        if slot is None:
            raise KeyError(f"no order {order_id!r} (orders: {', '.join(self._slots) or 'none'})")
        return slot

    def _finish(
        self,
        sim: Simulator,
        slot: _Slot,
        status: OrderStatus,
        event: str,
        reason: str,
        net: float | None = None,
    ) -> None:
        ts = sim._now()
        self._open.pop(slot.order.id, None)
        slot.why = None
        slot.order = replace(
            slot.order,
            status=status,
            done=ts,
            filled_net=net if status == "filled" else None,
            last_reason=reason if status != "filled" else "",
        )
        self._record(slot.order, sim.market.day, ts, event, net, reason)

    # -- the engine's side ----------------------------------------------------------------------
    def work(self, sim: Simulator) -> None:
        """Work every open order eligible at the current tick, in placement order."""
        now = (sim.day_index, sim.tick)
        for slot in list(self._open.values()):
            order = slot.order
            if not order.is_open or slot.eligible > now:
                continue
            arrival = not slot.tried
            slot.tried = True
            if order.action == "close":
                gone = [k for k in order.keys if k not in sim.book.open]
                if gone:
                    self._finish(
                        sim, slot, "cancelled", "cancelled", "positions closed: " + ", ".join(gone)
                    )
                    continue
            elif sim.state_done():
                self._finish(sim, slot, "cancelled", "cancelled", "the strategy is DONE")
                continue
            else:
                taken = [k for k in (k or leg.contract.symbol for k, leg in order.legs)
                         if k in sim.book.open]  # fmt: skip
                if taken:
                    self._finish(
                        sim, slot, "rejected", "rejected", f"key {taken[0]!r} is already open"
                    )
                    continue
            if order.kind == "limit":
                self._work_limit(sim, slot, arrival)
            else:
                self._work_stop(sim, slot)
            if slot.order.is_open and order.tif == "bar":
                self._finish(sim, slot, "expired", "expired", "bar order not filled at its tick")

    def _work_limit(self, sim: Simulator, slot: _Slot, arrival: bool) -> None:
        order = slot.order
        assert order.limit is not None
        limit = order.limit
        why: list[tuple[Any, ...]] = []
        net_seen: list[float] = []

        def accept(priced: list[_Priced]) -> str | None:
            net = net_debit(priced)
            net_seen.append(net)
            gap = limit - net
            touch = abs(gap) <= _TOUCH_TOL * max(1.0, abs(limit))
            if gap < 0 and not touch:
                why.append(("worse", net, limit))
                return "worse"
            if touch:
                p = order.touch_probability
                u = touch_draw(self.seed, order.id, order.revision, sim._now())
                if not u < p:
                    why.append(("touch", net, p, u))
                    return "touch"
                return None
            if not arrival:
                _at_limit(priced, gap)
                net_seen.append(net_debit(priced))
            return None

        filled: Any
        if order.action == "open":
            request = _request(order.legs)
            filled = sim.try_fill(request, order.reason, accept=accept, quiet=True)
        else:
            filled = sim.close_keys(list(order.keys), order.reason, accept=accept, quiet=True)
        if filled is None:
            slot.why = why[-1] if why else ("refused", sim.quiet_refusal())
            return
        self._finish(sim, slot, "filled", "filled", "", net=net_seen[-1])

    def _work_stop(self, sim: Simulator, slot: _Slot) -> None:
        order = slot.order
        if order.status == "working":
            value = sim.watched_value(order.trigger_on or "spot", order.keys, order.legs)
            if value is None or value != value:
                slot.why = ("unwatched", order.trigger_on)
                return
            hit = (order.above is not None and value >= order.above) or (
                order.below is not None and value <= order.below
            )
            if not hit:
                slot.why = ("waiting", order.trigger_on, value)
                return
            slot.order = replace(order, status="triggered")
            self._record(slot.order, sim.market.day, sim._now(), "triggered", value, "")
        net: list[float] = []

        def accept(priced: list[_Priced]) -> str | None:
            net.append(net_debit(priced))
            return None

        filled: Any
        if order.action == "open":
            filled = sim.try_fill(_request(order.legs), order.reason, accept=accept, quiet=True)
        else:
            filled = sim.close_keys(list(order.keys), order.reason, accept=accept, quiet=True)
        if filled is None:
            slot.why = ("refused", sim.quiet_refusal())
            return
        self._finish(sim, slot, "filled", "filled", "", net=net[-1])

    def end_day(self, sim: Simulator, *, intraday: bool) -> None:
        """At the day's end: expire day orders (intraday: every open order)."""
        for slot in list(self._open.values()):
            order = slot.order
            if intraday:
                self._finish(sim, slot, "expired", "expired", "day end (intraday run)")
            elif order.tif == "day":
                self._finish(sim, slot, "expired", "expired", "day end")


def _at_limit(priced: list[_Priced], gap: float) -> None:
    """Move the legs' prices so their net equals the limit (``gap = limit - net >= 0``)."""
    if gap <= 0:
        return
    gross = sum(p.qty * p.price for p in priced)
    if gross <= 0 or gap > gross:
        return
    scale = gap / gross
    for p in priced:
        p.price = p.price * (1.0 + scale) if p.side is Side.BUY else p.price * (1.0 - scale)
        model = p.info.fill_model.split("/", 1)[0]
        p.info.fill_model = f"limit/{model}"


def _request(legs: tuple[tuple[str, Leg], ...]) -> Any:
    if all(k for k, _ in legs):
        return dict(legs)
    return [leg for _, leg in legs]


def _keyed_legs(target: Any) -> list[tuple[str, Leg]]:
    if isinstance(target, Leg):
        target = [target]
    if isinstance(target, Mapping):
        out = [(str(k), v) for k, v in target.items()]
    elif isinstance(target, Sequence) and not isinstance(target, str):
        out = [("", v) for v in target]
    else:
        raise TypeError(f"an opening order needs legs (a list or dict of Leg), got {target!r}")
    if not out:
        raise ValueError("an order needs at least one leg")
    for key, leg in out:
        if not isinstance(leg, Leg):
            raise TypeError(
                f"order leg {key or len(out)!r} must be a Leg (use Strategy.add), got {leg!r}"
            )
    keys = [k or leg.contract.symbol for k, leg in out]
    if len(set(keys)) != len(keys):
        raise ValueError(f"an order names a position key twice: {keys}")
    return out


def _keys(target: Any, sim: Simulator) -> list[str]:
    if target is None:
        keys = list(sim.book.open)
    elif isinstance(target, str):
        keys = [target]
    else:
        keys = [str(k) for k in target]
    if not keys:
        raise ValueError("a closing order needs open positions (none are open)")
    for key in keys:
        if key not in sim.book.open:
            raise KeyError(f"no open position {key!r} (open: {', '.join(sim.book.open) or 'none'})")
    if len(set(keys)) != len(keys):
        raise ValueError(f"a closing order names a key twice: {keys}")
    return keys


def is_closing_target(target: Any) -> bool:
    """True when ``target`` names open positions (a key, keys, or ``None`` = all open)."""
    if target is None or isinstance(target, str):
        return True
    if isinstance(target, Mapping | Leg):
        return False
    items = list(target)
    return bool(items) and all(isinstance(k, str) for k in items)


def check_limit(limit: Any) -> float:
    return _number(limit, "limit")


def check_tif(tif: str) -> TimeInForce:
    return _tif(tif)


def check_probability(p: Any) -> float:
    return _probability(p)


def orders_frame(rows: Sequence[tuple[Any, ...]]) -> Any:
    """The run's order events as a DataFrame of :data:`ORDER_COLUMNS` (placement order)."""
    import pandas as pd

    return pd.DataFrame(list(rows), columns=list(ORDER_COLUMNS))
