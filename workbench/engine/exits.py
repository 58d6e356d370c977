"""Reusable exit rules a strategy combines in ``exit_check``; each returns its reason or ``None``.

Every rule is called as ``rule(strategy, bar)`` and reads only what the strategy sees at this
tick (the cycle's PnL at the mark, the entry premium, the time, days held, DTE)::

    class Condor(Strategy):
        def on_day_start(self, day):
            self.exits = Exits(StopLoss(pct=1.25), ProfitTarget(pct=0.5), TimeOfDay(time(15, 15)))
            return True

        def exit_check(self, bar):
            return self.exits(self, bar)

The workbench's one set of exit rules and reason names (the example strategies use them too).
Two measures, named by ``on``:

``on="pnl"`` (default)
    The current cycle's PnL, in money, net of the fees paid so far, open legs at the engine's mark
    (``Strategy.pnl``), against a fraction ``pct`` of the absolute entry premium of the cycle
    (``abs(Strategy.entry_credit)``, money) or an ``amount`` of money: for a credit of 10,000, a
    stop at ``pct=0.25`` exits when the loss reaches 2,500.
``on="premium"``
    Seed 003's rule on the open legs themselves, before fees: their cost to close at the marks
    (:func:`cost_to_close`) against the credit they were opened for (:func:`opening_credit`) --
    ``ProfitTarget(pct=p)`` when ``cost <= credit x (1 - p)``, ``StopLoss(pct=s)`` when
    ``cost >= credit x (1 + s)``; nothing is decided while a leg has no mark or without a credit.

Reasons: ``stop_loss``, ``profit_target``, ``trailing_stop``, ``time_exit``, ``days_held``,
``dte_exit`` (override with ``reason=``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import time
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from workbench.engine.context import BarContext
    from workbench.engine.strategy import Strategy
    from workbench.engine.trade import Trade


class ExitRule(Protocol):
    def __call__(self, strategy: Strategy, bar: BarContext) -> str | None: ...


_TOLERANCE = 1e-9
"""Thresholds are reached within this much money (binary noise at an exact threshold)."""


def opening_credit(trades: Iterable[Trade]) -> float:
    """Money received when ``trades`` were opened (> 0 for a credit), before fees."""
    return -sum(t.signed_units * t.entry_price for t in trades)


def cost_to_close(bar: BarContext, trades: Iterable[Trade]) -> float:
    """Money to close every trade at the current marks (> 0 for a net short position); ``NaN``
    if a leg has no mark yet."""
    total = 0.0
    for t in trades:
        mark, lag = bar.mark(t)
        if lag is None or not math.isfinite(mark):
            return math.nan
        total -= t.signed_units * mark
    return total


def _premium(strategy: Strategy, bar: BarContext) -> tuple[float, float]:
    """(opening credit, cost to close) of the open legs; NaN when undecidable."""
    legs = list(strategy.positions.values())
    if not legs:
        return math.nan, math.nan
    credit, cost = opening_credit(legs), cost_to_close(bar, legs)
    if not (math.isfinite(credit) and credit > 0 and math.isfinite(cost)):
        return math.nan, math.nan
    return credit, cost


def _check_on(on: str, amount: float | None, what: str) -> None:
    if on not in ("pnl", "premium"):
        raise ValueError(f"{what}: on must be 'pnl' or 'premium', got {on!r}")
    if on == "premium" and amount is not None:
        raise ValueError(f"{what}: on='premium' takes pct (a fraction of the credit), not amount")


def _threshold(pct: float | None, amount: float | None, strategy: Strategy, what: str) -> float:
    if pct is not None:
        return pct * abs(strategy.entry_credit)
    assert amount is not None, what
    return amount


def _check_one(pct: float | None, amount: float | None, what: str) -> None:
    if (pct is None) == (amount is None):
        raise ValueError(f"{what}: give exactly one of pct (fraction of premium) or amount (money)")
    value = pct if pct is not None else amount
    assert value is not None
    if not (math.isfinite(value) and value > 0):
        raise ValueError(
            f"{what}: {'pct' if pct is not None else 'amount'} must be > 0, got {value!r}"
        )


@dataclass(frozen=True)
class StopLoss:
    """Exit when the cycle's loss reaches ``pct`` x |entry premium| or ``amount`` (money)."""

    pct: float | None = None
    amount: float | None = None
    reason: str = "stop_loss"
    on: str = "pnl"

    def __post_init__(self) -> None:
        _check_one(self.pct, self.amount, "StopLoss")
        _check_on(self.on, self.amount, "StopLoss")

    def __call__(self, strategy: Strategy, bar: BarContext) -> str | None:
        if self.on == "premium":
            credit, cost = _premium(strategy, bar)
            hit = cost >= credit * (1.0 + float(self.pct or 0.0)) - _TOLERANCE
            return self.reason if hit else None
        limit = _threshold(self.pct, self.amount, strategy, "StopLoss")
        return self.reason if strategy.pnl(bar) <= -limit + _TOLERANCE else None


@dataclass(frozen=True)
class ProfitTarget:
    """Exit when the cycle's profit reaches ``pct`` x |entry premium| or ``amount`` (money)."""

    pct: float | None = None
    amount: float | None = None
    reason: str = "profit_target"
    on: str = "pnl"

    def __post_init__(self) -> None:
        _check_one(self.pct, self.amount, "ProfitTarget")
        _check_on(self.on, self.amount, "ProfitTarget")

    def __call__(self, strategy: Strategy, bar: BarContext) -> str | None:
        if self.on == "premium":
            credit, cost = _premium(strategy, bar)
            hit = cost <= credit * (1.0 - float(self.pct or 0.0)) + _TOLERANCE
            return self.reason if hit else None
        target = _threshold(self.pct, self.amount, strategy, "ProfitTarget")
        return self.reason if strategy.pnl(bar) >= target - _TOLERANCE else None


@dataclass
class TrailingStop:
    """Exit when the cycle's PnL falls ``pct`` x |entry premium| or ``amount`` below its peak.

    The peak is the highest PnL seen at this rule's checks during the current cycle (it resets
    when a new cycle starts). ``activate`` (money, optional): trail only once the peak reached it.
    """

    pct: float | None = None
    amount: float | None = None
    activate: float | None = None
    reason: str = "trailing_stop"
    _peak: float = field(default=-math.inf, init=False, repr=False)
    _cycle: tuple[int, str] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        _check_one(self.pct, self.amount, "TrailingStop")

    def __call__(self, strategy: Strategy, bar: BarContext) -> str | None:
        trades = strategy.cycle_trades
        ident = (strategy.cycle, trades[0].trade_id if trades else "")
        if ident != self._cycle:
            self._cycle = ident
            self._peak = -math.inf
        pnl = strategy.pnl(bar)
        self._peak = max(self._peak, pnl)
        if self.activate is not None and self._peak < self.activate:
            return None
        trail = _threshold(self.pct, self.amount, strategy, "TrailingStop")
        return self.reason if pnl <= self._peak - trail else None


@dataclass(frozen=True)
class TimeOfDay:
    """Exit at or after ``at`` (exchange-local time of day)."""

    at: time
    reason: str = "time_exit"

    def __call__(self, strategy: Strategy, bar: BarContext) -> str | None:
        return self.reason if bar.time >= self.at else None


@dataclass(frozen=True)
class DaysHeld:
    """Exit once the cycle has been held ``days`` trading days (positional)."""

    days: int
    reason: str = "days_held"

    def __post_init__(self) -> None:
        if self.days < 0:
            raise ValueError(f"DaysHeld: days must be >= 0, got {self.days}")

    def __call__(self, strategy: Strategy, bar: BarContext) -> str | None:
        return self.reason if strategy.days_held(bar) >= self.days else None


@dataclass(frozen=True)
class DteExit:
    """Exit when the nearest open expiry is ``dte`` calendar days away or less (seed 003: 21)."""

    dte: int
    reason: str = "dte_exit"

    def __post_init__(self) -> None:
        if self.dte < 0:
            raise ValueError(f"DteExit: dte must be >= 0, got {self.dte}")

    def __call__(self, strategy: Strategy, bar: BarContext) -> str | None:
        left = strategy.dte(bar)
        return self.reason if left is not None and left <= self.dte else None


class Exits:
    """Several rules checked in order; the first that fires gives the reason."""

    def __init__(self, *rules: ExitRule) -> None:
        for i, rule in enumerate(rules):
            if not callable(rule):
                raise TypeError(f"Exits: rule {i} is not callable: {rule!r}")
        self.rules = rules

    def __call__(self, strategy: Strategy, bar: BarContext) -> str | None:
        for rule in self.rules:
            reason = rule(strategy, bar)
            if reason:
                return reason
        return None


_credit_exits: dict[tuple[float | None, float | None, int | None], Exits] = {}


def credit_exits(
    profit_target_pct: float | None, stop_loss_pct: float | None, dte_exit: int | None
) -> Exits:
    """Seed 003's exits for a credit position, in order: profit target and stop on the premium
    (``on="premium"``), then the DTE exit; a ``None`` leaves its rule out (built once per set
    of values)."""
    key = (profit_target_pct, stop_loss_pct, dte_exit)
    found = _credit_exits.get(key)
    if found is None:
        rules: list[ExitRule] = []
        if profit_target_pct is not None:
            rules.append(ProfitTarget(pct=profit_target_pct, on="premium"))
        if stop_loss_pct is not None:
            rules.append(StopLoss(pct=stop_loss_pct, on="premium"))
        if dte_exit is not None:
            rules.append(DteExit(dte_exit))
        found = _credit_exits.setdefault(key, Exits(*rules))
    return found
