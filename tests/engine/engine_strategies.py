"""Strategies used by the engine tests (importable as ``engine_strategies:Name`` for the CLI and
for process pools). ``Scripted`` places orders at given times from its Config, so tests can
hand-compute every fill."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import numpy as np
from pydantic import BaseModel, ConfigDict

from workbench.engine.config import StrategyConfig
from workbench.engine.exits import Exits, StopLoss, TimeOfDay
from workbench.engine.strategy import Strategy
from workbench.model.contracts import OptionContract
from workbench.model.enums import Right


class LegSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    strike: float
    right: str
    side: str
    qty: int = 1
    expiry: int | date = 0


class Order(BaseModel):
    """At ``at`` (on ``day`` if given) open ``legs``; ``keys`` for dict keys (else auto keys)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    at: time
    legs: tuple[LegSpec, ...]
    keys: tuple[str, ...] | None = None
    day: date | None = None
    retry: bool = True


class Scripted(Strategy):
    """Opens its orders when due (while IDLE, retrying each tick if refused), exits by rules."""

    class Config(StrategyConfig):
        orders: tuple[Order, ...] = ()
        exit_at: time | None = None
        stop_loss: float | None = None  # money
        fail_on: date | None = None
        collide: bool = False
        clock_fault: str | None = None  # "reverse" | "repeat"
        open_in_day_end: bool = False
        roll_at: time | None = None  # roll key "c" to the next expiry
        # from this time on, roll "c" to the next expiry's 21500 C and "p" to the 21550 C of
        # the first expiry in ONE order (retried each bar until it fills)
        roll_both_at: time | None = None

    def on_day_start(self, day):
        self.done_orders: set[int] = set()
        rules = []
        if self.config.stop_loss is not None:
            rules.append(StopLoss(amount=self.config.stop_loss))
        if self.config.exit_at is not None:
            rules.append(TimeOfDay(self.config.exit_at))
        self.exits = Exits(*rules)
        if self.config.fail_on == day.date:
            raise RuntimeError(f"deliberate failure on {day.date}")
        return True

    def clock(self, day, ticks: list[datetime]) -> list[datetime]:
        if self.config.clock_fault == "reverse":
            return [ticks[0], ticks[2], ticks[1], *ticks[3:]]
        if self.config.clock_fault == "repeat":
            return [ticks[0], ticks[1], ticks[1], *ticks[2:]]
        if self.config.clock_fault == "sparse":  # not a fault: every other minute
            return ticks[::2]
        if self.config.clock_fault == "integers":
            return list(range(len(ticks)))
        if self.config.clock_fault == "next_day":
            return [*ticks[:-1], ticks[-1] + timedelta(days=1)]
        return ticks

    def on_bar(self, bar):
        for n, order in enumerate(self.config.orders):
            if n in self.done_orders or not self.idle or bar.time < order.at:
                continue
            if order.day is not None and order.day != bar.date:
                continue
            legs = [self.add(s.strike, s.right, s.side, s.qty, s.expiry) for s in order.legs]
            request = dict(zip(order.keys, legs)) if order.keys else legs
            filled = self.try_fill(request)
            if filled is not None or not order.retry:
                self.done_orders.add(n)
            if filled is not None and self.config.collide:
                self.try_fill(request)

    def adjust(self, bar):
        both = self.config.roll_both_at
        if both is not None and bar.time >= both and not getattr(self, "rolled_both", False):
            old = self.positions
            if "c" in old and "p" in old:
                rolls = {
                    "c": self.add(21500, "C", old["c"].side, old["c"].qty, expiry=1),
                    "p": self.add(21550, "C", old["p"].side, old["p"].qty),
                }
                self.rolled_both = self.roll(rolls) is not None
        roll_at = self.config.roll_at
        if roll_at is None or bar.time < roll_at or "c" not in self.positions:
            return
        if getattr(self, "rolled", None) == bar.date:
            return
        old = self.positions["c"]
        if self.roll("c", self.add(old.contract.strike, "C", old.side, old.qty, expiry=1)):
            self.rolled = bar.date

    def exit_check(self, bar):
        return self.exits(self, bar)

    def on_day_end(self, day):
        if self.config.open_in_day_end:
            self.try_fill({"late": self.add(21500, "P", "SELL")})


class PositionalScripted(Scripted):
    mode = "positional"


class Recorder(Strategy):
    """Records what it sees before each decision (for the look-ahead test), trades on it."""

    seen: list[tuple] = []

    class Config(StrategyConfig):
        max_cycles: int = 3

    def on_bar(self, bar):
        chain = bar.chain(0)
        Recorder.seen.append(
            (
                bar.ts,
                bar.spot,
                bar.price(self.add(21500, "C", "BUY").contract),
                tuple(chain.close.tolist()),
                tuple(chain.bid.tolist()),
                bar.pnl,
            )
        )
        if self.idle and bar.spot > 21500:
            self.try_fill(
                {"c": self.add(bar.atm(), "C", "SELL"), "p": self.add(bar.atm(), "P", "SELL")}
            )

    def exit_check(self, bar):
        return "stop" if bar.pnl < -200 else None


class RuleStrategy(Strategy):
    """Opens one 21500 C leg (nearest expiry) at the first tick of ``entry_day`` (or of every day)
    and exits by one rule from engine.exits."""

    class Config(StrategyConfig):
        side: str = "SELL"
        rule: str = "stop_pct"
        value: float = 0.1
        entry_day: date | None = None

    def on_day_start(self, day):
        from workbench.engine import exits

        v = self.config.value
        rules = {
            "stop_pct": lambda: exits.StopLoss(pct=v),
            "stop_amount": lambda: exits.StopLoss(amount=v),
            "target_amount": lambda: exits.ProfitTarget(amount=v),
            "target_pct": lambda: exits.ProfitTarget(pct=v),
            "trail_amount": lambda: exits.TrailingStop(amount=v),
            "days_held": lambda: exits.DaysHeld(int(v)),
            "dte": lambda: exits.DteExit(int(v)),
        }
        if not hasattr(self, "rule"):
            self.rule = rules[self.config.rule]()
        return True

    def on_bar(self, bar):
        if self.idle and (self.config.entry_day in (None, bar.date)):
            self.try_fill({"c": self.add(21500, "C", self.config.side)})

    def exit_check(self, bar):
        return self.rule(self, bar)


class Selector(Strategy):
    """At 09:17 buys the call whose mid is nearest ``premium`` (contract discovery); records the
    chain sizes it saw."""

    seen: list[tuple] = []

    class Config(StrategyConfig):
        premium: float = 90.0

    def on_bar(self, bar):
        chain = bar.chain(0)
        Selector.seen.append((bar.time, len(chain), bar.greeks["delta"]))
        if self.idle and bar.time == time(9, 17):
            contract = bar.select("C", method="premium", value=self.config.premium, side="BUY")
            if contract is not None:
                self.try_fill({"c": self.add(contract.strike, "C", "BUY")})


class PrefetchingScripted(Scripted):
    """Scripted plus a prefetch hint of the strikes around the open (results must not change)."""

    def on_day_start(self, day):
        day.prefetch(expiry=0, strikes=day.atm_window(2))
        return super().on_day_start(day)


class EarlyFill(Strategy):
    """Calls try_fill from on_day_start (not allowed: there is no tick yet)."""

    def on_day_start(self, day):
        self.try_fill([self.add(21500, "C", "SELL")])
        return True


class DesignShortStraddle(Strategy):
    """The example from DESIGN.md (Engine), verbatim apart from the class name."""

    class Config(StrategyConfig):  # frozen, validated, hashable
        entry: time = time(9, 20)
        stop_loss: float = 0.25

    def on_day_start(self, day) -> bool:  # DayStartContext: date, spot, atm, expiries, prefetch
        day.prefetch(expiry=0, strikes=day.atm_window(5))
        return True  # False skips the day

    def on_bar(self, bar):  # BarContext: ts, spot, price, quote, chain, atm, select
        if self.idle and bar.time >= self.config.entry:
            atm = bar.atm(expiry=0)
            self.try_fill([self.add(atm, "C", "SELL"), self.add(atm, "P", "SELL")])

    def exit_check(self, bar):
        return "stop_loss" if self.pnl(bar) < -self.config.stop_loss * self.entry_credit else None


class ExpiryProbe(Strategy):
    """At 09:17 asks ``bar.select`` for calls under several expiry arguments and records
    ``(label, contract or None, last_selection_reason)``, or ``(label, "error", message)``."""

    seen: list[tuple] = []

    def on_bar(self, bar):
        from workbench.engine.selection import ExpiryRule, Selection

        if bar.time != time(9, 17):
            return
        second = Selection(method="atm", expiry=ExpiryRule(index=1))
        probes = {
            "rule's expiry": lambda: bar.select("C", rule=second),
            "keyword rule's expiry": lambda: bar.select(
                "C", method="atm", expiry=ExpiryRule(dte=9)
            ),
            "default nearest": lambda: bar.select("C", method="atm"),
            "explicit index wins": lambda: bar.select("C", expiry=0, rule=second),
            "explicit date wins": lambda: bar.select("C", expiry=bar.expiries[0], rule=second),
            "rule matches nothing": lambda: bar.select(
                "C", rule=Selection(expiry=ExpiryRule(dte_window=(30, 60)))
            ),
            "argument rule matches nothing": lambda: bar.select(
                "C", expiry=ExpiryRule(kind="monthly", index=3)
            ),
            "index out of range": lambda: bar.select("C", expiry=5),
        }
        for label, probe in probes.items():
            try:
                got = probe()
            except ValueError as exc:
                ExpiryProbe.seen.append((label, "error", str(exc)))
            else:
                ExpiryProbe.seen.append((label, got, bar.last_selection_reason))


class ChainProbe(Strategy):
    """At 09:17 records the nearest expiry's snapshot (``rate``, ``div_yield``, |delta| by row)."""

    seen: list = []

    def on_bar(self, bar):
        from workbench.engine.selection import abs_delta

        if bar.time == time(9, 17):
            chain = bar.chain(0)
            ChainProbe.seen.append((chain, abs_delta(chain, np.arange(len(chain)))))


class HeldStraddle(Strategy):
    """Positional: sells one lot of the ATM straddle (nearest expiry) at 09:20 whenever flat and
    holds it to expiry."""

    mode = "positional"

    class Config(StrategyConfig):
        max_cycles: int = 100

    def on_bar(self, bar):
        if self.idle and bar.time >= time(9, 20):
            k = bar.atm()
            self.try_fill({"ce": self.add(k, "C", "SELL"), "pe": self.add(k, "P", "SELL")})


def _safe(fn):
    """``fn()`` or the error's type and message (a probe that raises is recorded, not fatal)."""
    try:
        return fn()
    except (ValueError, TypeError) as exc:
        return ("error", type(exc).__name__, str(exc))


class HookRecorder(Strategy):
    """Records what every hook sees (for the look-ahead tests) and trades on it.

    ``seen`` holds ``(hook, when, ...)``: ``when`` is the tick's timestamp for the per-tick hooks,
    the day at 00:00 for ``on_day_start`` (before the first tick) and the day at 23:59 for
    ``on_day_end`` (after the last). Trading: sells the ATM straddle of the nearest expiry from
    09:16 when flat, rolls the call to the next expiry at 09:18 when the PnL is negative, exits
    on a stop (-1500) or a target (+1500) of the cycle's PnL. Any mode."""

    seen: list[tuple] = []

    class Config(StrategyConfig):
        max_cycles: int = 50

    def _book(self):
        return (
            self.pnl(),
            tuple(sorted(self.positions)),
            self.dte(),
            self.days_held(),
            self.entry_credit,
            self.cycle,
            str(self.state),
            len(self.closed_trades),
        )

    def on_day_start(self, day):
        HookRecorder.seen.append(
            (
                "day_start",
                datetime.combine(day.date, time(0, 0)),
                day.spot,
                tuple(day.expiries),
                day.strike_step,
                day.lot_size,
                _safe(lambda: day.atm()),
                _safe(lambda: tuple(day.atm_window(1))),
                _safe(lambda: day.expiry(0)),
                *self._book(),
            )
        )
        day.prefetch(expiry=0, strikes=day.atm_window(1))
        return True

    def _bar(self, hook, bar):
        c = OptionContract("NIFTY", bar.expiries[0], 21500.0, Right.CALL)
        chain = bar.chain(0)
        q = bar.quote(c)
        HookRecorder.seen.append(
            (
                hook,
                bar.ts,
                bar.tick,
                bar.is_last,
                bar.spot,
                bar.price(c),
                bar.mark(c),
                (q.bid, q.ask, q.last, q.lag),
                tuple(chain.strike.tolist()),
                tuple(chain.close.tolist()),
                tuple(chain.bid.tolist()),
                tuple(chain.lag.tolist()),
                chain.spot,
                _safe(lambda: bar.atm()),
                _safe(lambda: bar.select("C", method="premium", value=100.0, side="BUY")),
                bar.last_selection_reason,
                bar.pnl,
                tuple(sorted(bar.greeks.items())),
                tuple(sorted(bar.positions())),
                *self._book(),
            )
        )

    def on_bar(self, bar):
        self._bar("on_bar", bar)
        if self.idle and bar.time >= time(9, 16):
            k = bar.atm()
            self.try_fill({"c": self.add(k, "C", "SELL"), "p": self.add(k, "P", "SELL")})

    def adjust(self, bar):
        self._bar("adjust", bar)
        if bar.time == time(9, 18) and "c" in self.positions and self.pnl() < 0:
            old = self.positions["c"]
            if len(bar.expiries) > 1 and old.contract.expiry == bar.expiries[0]:
                self.roll("c", self.add(old.contract.strike, "C", old.side, old.qty, expiry=1))

    def exit_check(self, bar):
        self._bar("exit_check", bar)
        pnl = self.pnl()
        return "stop" if pnl < -1500 else "target" if pnl > 1500 else None

    def on_exit(self, bar, trades):
        self._bar("on_exit", bar)
        HookRecorder.seen.append(
            (
                "on_exit_trades",
                bar.ts,
                tuple((t.trade_id, t.exit_price, t.exit_reason) for t in trades),
            )
        )

    def on_day_end(self, day):
        HookRecorder.seen.append(
            ("day_end", datetime.combine(day.date, time(23, 59)), day.spot, *self._book())
        )


class DayStartPnl(Strategy):
    """Positional: buys the 21500 C of the nearest expiry at the first tick of ``buy_on`` and
    records ``(day, self.pnl(), day.spot)`` in every ``on_day_start``."""

    mode = "positional"
    seen: list[tuple] = []

    class Config(StrategyConfig):
        buy_on: date

    def on_day_start(self, day):
        DayStartPnl.seen.append((day.date, self.pnl(), day.spot))
        return True

    def on_bar(self, bar):
        if self.idle and bar.date == self.config.buy_on:
            self.try_fill({"c": self.add(21500, "C", "BUY")})


class StaleContext(Strategy):
    """Positional: buys the 21500 C at D1's first tick, keeps its ``BarContext`` and, in the next
    ``on_day_start``, tries every accessor of the kept context (each must refuse)."""

    mode = "positional"
    seen: list[tuple] = []

    def on_bar(self, bar):
        self.kept = bar
        if self.idle:
            self.try_fill({"c": self.add(21500, "C", "BUY")})

    def on_day_start(self, day):
        kept = getattr(self, "kept", None)
        if kept is None:
            return True
        c = self.positions["c"].contract
        probes = {
            "spot": lambda: kept.spot,
            "price": lambda: kept.price(c),
            "mark": lambda: kept.mark(c),
            "quote": lambda: kept.quote(c),
            "chain": lambda: kept.chain(0),
            "select": lambda: kept.select("C", method="atm"),
            "pnl": lambda: kept.pnl,
            "greeks": lambda: kept.greeks,
        }
        for name, probe in probes.items():
            try:
                StaleContext.seen.append((day.date, name, "value", probe()))
            except Exception as exc:
                StaleContext.seen.append((day.date, name, type(exc).__name__, str(exc)))
        return True
