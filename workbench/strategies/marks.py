"""Position value helpers shared by the example strategies (multi-leg credit positions).

Money conventions follow the engine (:mod:`workbench.engine.book`): ``signed_units`` is ``+`` for
a long and ``-`` for a short (contracts x lot size); prices are per unit of underlying.

- ``opening_credit`` = ``-sum(signed_units x entry_price)``: money received when the position was
  opened (> 0 for a credit position), before fees.
- ``cost_to_close`` = ``-sum(signed_units x mark)``: money it would take to buy the position back
  at the engine's marks now (> 0 for a net-short position). ``NaN`` if any leg has no mark yet.

A profit target of ``p`` (seed 003: "current value <= entry credit x (1 - p)") and a stop of
``s`` ("current value >= entry credit x (1 + s)") compare the two.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from workbench.engine.context import BarContext
from workbench.engine.trade import Trade

__all__ = ["cost_to_close", "credit_exit_reason", "credit_position_exit", "opening_credit"]


def opening_credit(trades: Iterable[Trade]) -> float:
    """Money received at entry (> 0 for a credit), before fees."""
    return -sum(t.signed_units * t.entry_price for t in trades)


def cost_to_close(bar: BarContext, trades: Iterable[Trade]) -> float:
    """Money to close every trade at the current marks; ``NaN`` if a leg has no mark."""
    total = 0.0
    for t in trades:
        mark, lag = bar.mark(t)
        if lag is None or not math.isfinite(mark):
            return math.nan
        total -= t.signed_units * mark
    return total


def credit_exit_reason(
    credit: float,
    cost: float,
    *,
    profit_target_pct: float | None,
    stop_loss_pct: float | None,
) -> str | None:
    """Seed 003's first two exit checks, in order: ``"profit_target"`` when ``cost <= credit x
    (1 - profit_target_pct)``, ``"stop_loss"`` when ``cost >= credit x (1 + stop_loss_pct)``;
    ``None`` otherwise (and always when the credit or the cost is not a positive finite number)."""
    if not (math.isfinite(credit) and credit > 0 and math.isfinite(cost)):
        return None
    if profit_target_pct is not None and cost <= credit * (1.0 - profit_target_pct) + 1e-9:
        return "profit_target"
    if stop_loss_pct is not None and cost >= credit * (1.0 + stop_loss_pct) - 1e-9:
        return "stop_loss"
    return None


def credit_position_exit(
    bar: BarContext,
    trades: Iterable[Trade],
    *,
    profit_target_pct: float | None,
    stop_loss_pct: float | None,
    dte: int | None,
    dte_exit: int | None,
) -> str | None:
    """Seed 003's exit checks for an open credit position, in order: profit target and stop on
    the cost to close (:func:`credit_exit_reason`), then ``"dte_exit"`` at ``dte <= dte_exit``."""
    legs = list(trades)
    reason = credit_exit_reason(
        opening_credit(legs),
        cost_to_close(bar, legs),
        profit_target_pct=profit_target_pct,
        stop_loss_pct=stop_loss_pct,
    )
    if reason is not None:
        return reason
    if dte_exit is not None and dte is not None and dte <= dte_exit:
        return "dte_exit"
    return None
