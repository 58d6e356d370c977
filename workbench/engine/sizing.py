"""Position sizing in one call: ``Strategy.size(order)`` / ``Strategy.sized(order)``, or a
strategy's ``sizing`` parameter (a :class:`Sizing` block in its Config and template).

An **order** is what a strategy would pass to ``try_fill`` (a list or dict of legs from
``self.add``) describing ONE UNIT of the position: its legs' ``qty`` are the ratio (1 short put
+ 1 long put for a vertical). ``size(order)`` returns how many units to trade (a whole number
>= 0); ``sized(order)`` returns the order with every leg's ``qty`` multiplied by that number,
or ``None`` when it is 0. The execution layer's pure functions do the arithmetic
(:mod:`workbench.execution.sizing`: each rounds down, never above the budget).

Amounts per unit (money, the lot size / multiplier applied), from the order's legs priced now
by the run's entry fill model on the current quotes (what ``try_fill`` would pay, fees left
out; ``max_loss=`` / ``cost=`` override them):

``max loss``
    The unit's worst loss at expiry (:func:`workbench.execution.payoff.max_loss_at_expiry`): a
    5-point SPX put vertical sold for 1.20 risks ``(5 - 1.20) x 100 = 380``. Legs on several
    expiries or an unbounded loss (more calls sold than bought) have none: the rules that need
    it raise ``ValueError`` saying so (give ``max_loss=``).
``cost``
    What one unit ties up: the larger of the run's margin model's requirement for the unit
    and the net premium it pays (a debit); without a margin model, the max loss (= the
    premium of a debit position, ``width - credit`` of a credit spread).

Rules (``Sizing.rule``; fractions are fractions, 0.02 = 2 %; equity is the account's now,
:mod:`workbench.engine.account`):

``fixed``
    ``contracts`` units.
``percent_equity``
    ``floor(equity x equity_pct / cost)``.
``risk``
    ``floor(equity x risk_pct / max_loss)``: the position's max loss at most ``risk_pct`` of
    equity (seed 003).
``kelly``
    ``floor(equity x min(kelly_multiplier x f*, kelly_cap) / max_loss)`` with the Kelly fraction
    ``f* = p - (1 - p) / b`` (0 units when ``f* <= 0``). ``p`` (win rate) and ``b`` (average
    win / average loss) are ``win_rate`` and ``payoff`` when given; otherwise they come from
    the strategy's OWN positions closed so far in this run (a position's PnL net of fees; a
    position is the legs opened together, or a study's ``"<entry>/<expiry>"``), never from a
    position still open or yet to come. Until ``kelly_min_trades`` positions have closed the
    size is ``kelly_fallback`` units. No losing position yet: ``f* = p``. Intraday runs cannot
    see earlier days' trades (days run in parallel): Kelly from own trades is refused there.

Then caps and rounding, in this order: at most ``max_contracts`` units; rounded down to a
multiple of ``lot_step`` units.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from workbench.engine.errors import ConfigError
from workbench.model.trades import MAX_LEG_QTY, Leg

if TYPE_CHECKING:
    from workbench.engine.simulator import Simulator

__all__ = ["Sizing", "as_sizing", "kelly_odds", "scaled_order"]

Rule = Literal["fixed", "percent_equity", "risk", "kelly"]


class Sizing(BaseModel):
    """A sizing rule with its caps (see the module docstring for the arithmetic and units)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    rule: Rule = Field(default="fixed", description="fixed | percent_equity | risk | kelly")
    contracts: int = Field(default=1, ge=0, le=MAX_LEG_QTY, description="fixed: units")
    equity_pct: float | None = Field(
        default=None, gt=0, le=1, description="percent_equity: fraction of equity per position"
    )
    risk_pct: float | None = Field(
        default=None, gt=0, le=1, description="risk: max loss as a fraction of equity"
    )
    kelly_multiplier: float = Field(default=1.0, gt=0, le=1, description="kelly: 0.5 = half Kelly")
    kelly_cap: float = Field(
        default=0.25, gt=0, le=1, description="kelly: most equity at risk (fraction)"
    )
    win_rate: float | None = Field(
        default=None, ge=0, le=1, description="kelly: given win probability (else own trades)"
    )
    payoff: float | None = Field(
        default=None, gt=0, description="kelly: given average win / average loss"
    )
    kelly_min_trades: int = Field(
        default=20, ge=1, description="kelly from own trades: closed positions needed first"
    )
    kelly_fallback: int = Field(
        default=1, ge=0, le=MAX_LEG_QTY, description="kelly: units before kelly_min_trades"
    )
    max_contracts: int | None = Field(default=None, ge=0, le=MAX_LEG_QTY, description="cap")
    lot_step: int = Field(default=1, ge=1, description="round down to a multiple of this")

    @model_validator(mode="after")
    def _complete(self) -> Sizing:
        if self.rule == "percent_equity" and self.equity_pct is None:
            raise ValueError("rule 'percent_equity' needs equity_pct (a fraction, 0.02 = 2 %)")
        if self.rule == "risk" and self.risk_pct is None:
            raise ValueError("rule 'risk' needs risk_pct (a fraction of equity, 0.02 = 2 %)")
        if self.rule == "kelly" and (self.win_rate is None) != (self.payoff is None):
            raise ValueError(
                "rule 'kelly': give both win_rate and payoff, or neither (then the strategy's "
                "own closed positions give them)"
            )
        return self

    @property
    def uses_equity(self) -> bool:
        return self.rule != "fixed"

    @property
    def kelly_from_trades(self) -> bool:
        return self.rule == "kelly" and self.win_rate is None

    def check_run(self, *, mode: str, capital: float | None, margin: Any) -> None:
        """What the run must give this rule (checked before the first day): a ``capital``
        for rules on equity, positional mode for Kelly from own trades."""
        from workbench.engine.account import NO_CAPITAL

        if self.uses_equity and capital is None:
            raise ConfigError(
                f"parameter 'sizing': rule {self.rule!r} sizes from equity: {NO_CAPITAL}"
            )
        if self.kelly_from_trades and mode != "positional":
            raise ConfigError(
                "parameter 'sizing': Kelly from the strategy's own closed trades needs positional "
                "mode (intraday days run in parallel and cannot see earlier days' trades); give "
                "win_rate and payoff"
            )


def as_sizing(value: Sizing | Mapping[str, Any] | None, **overrides: Any) -> Sizing:
    """A :class:`Sizing` from a rule, a mapping of its fields or ``None`` (fixed, 1 unit),
    with ``overrides`` applied; errors are :class:`ConfigError` naming the field."""
    if value is None:
        base: dict[str, Any] = {}
    elif isinstance(value, Sizing):
        base = value.model_dump(exclude_unset=True)
    elif isinstance(value, Mapping):
        base = dict(value)
    else:
        raise ConfigError(f"sizing: expected a Sizing or a mapping, got {type(value).__name__}")
    base.update(overrides)
    try:
        return Sizing(**base)
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]) or "sizing"
            parts.append(f"{name}: {str(err['msg']).removeprefix('Value error, ')}")
        raise ConfigError("sizing: " + "; ".join(parts)) from None


def scaled_order(order: Sequence[Leg] | Mapping[str, Leg], n: int) -> list[Leg] | dict[str, Leg]:
    """``order`` with every leg's ``qty`` multiplied by ``n`` (a whole number >= 1)."""
    if isinstance(order, Mapping):
        return {k: Leg(leg.contract, leg.side, leg.qty * n) for k, leg in order.items()}
    return [Leg(leg.contract, leg.side, leg.qty * n) for leg in order]


def kelly_odds(sim: Simulator) -> tuple[int, float, float]:
    """``(closed positions, win rate, payoff)`` of the strategy's own positions closed so far
    (payoff = average win / average |loss|; ``inf`` without a loss, NaN without a win)."""
    pnl: dict[str, float] = {}
    where = sim.position_of_key
    for trade in sim.book.closed:
        pid = f"{trade.cycle}/{where.get(trade.key, trade.key)}"
        value = trade.signed_units * ((trade.exit_price or 0.0) - trade.entry_price)
        value -= trade.entry_fees + (trade.exit_fees or 0.0)
        pnl[pid] = pnl.get(pid, 0.0) + value
    # a position with a leg still open is not closed yet
    for trade in sim.book.open.values():
        pnl.pop(f"{trade.cycle}/{where.get(trade.key, trade.key)}", None)
    values = list(pnl.values())
    wins = [v for v in values if v > 0]
    losses = [-v for v in values if v <= 0]
    n = len(values)
    if not n:
        return 0, math.nan, math.nan
    p = len(wins) / n
    if not wins:
        return n, p, math.nan
    if not any(x > 0 for x in losses):
        return n, p, math.inf
    return n, p, (math.fsum(wins) / len(wins)) / (math.fsum(losses) / len(losses))


def unit_terms(sim: Simulator, order: Sequence[Leg]) -> tuple[float, float]:
    """``(max loss, cost)`` of one unit of ``order`` now, money (see the module docstring)."""
    from workbench.engine.constraints import position_max_loss
    from workbench.engine.universe import market_of

    i = sim.tick
    model = sim.costs.fills.entry
    legs = []
    for leg in order:
        underlying = leg.contract.underlying
        lot = float(sim._lot(underlying))
        quote = market_of(sim.market, underlying).quote(leg.contract, i)
        fp = model.fill(leg.side, quote, legs=len(order))
        if not fp.filled or not math.isfinite(fp.price):
            raise ValueError(
                f"size: {leg.contract.symbol} has no price now ({fp.warning or 'no quote'}); "
                "give max_loss= / cost="
            )
        legs.append((leg.contract, leg.side.sign * leg.qty * lot, float(fp.price)))
    expiries = {leg.contract.expiry for leg in order}
    loss = position_max_loss(legs) if len(expiries) == 1 else math.nan
    debit = max(math.fsum(u * p for _, u, p in legs), 0.0)
    if sim.costs.margin is not None:
        items = [(f"unit-{j}", c, c.symbol, u, p) for j, (c, u, p) in enumerate(legs)]
        margin = sim.margin_of_legs(items)
        cost = max(margin, debit) if math.isfinite(margin) else math.nan
    else:
        cost = loss
    return loss, cost


def size_units(
    sim: Simulator,
    order: Sequence[Leg],
    sizing: Sizing,
    *,
    max_loss: float | None = None,
    cost: float | None = None,
) -> int:
    """Units of ``order`` to trade under ``sizing`` now (see the module docstring)."""
    from workbench.execution import sizing as ex

    rule = sizing.rule
    if rule == "fixed":
        n = ex.fixed_quantity(sizing.contracts)
        return _finish(n, sizing)
    if sizing.kelly_from_trades and sim.mode != "positional":
        raise ConfigError(
            "size: Kelly from the strategy's own closed trades needs positional mode (intraday "
            "days run in parallel and cannot see earlier days' trades); give win_rate and payoff"
        )
    equity = sim.account.equity
    if not equity > 0:
        return 0
    need_loss = rule in ("risk", "kelly")
    loss = max_loss
    unit_cost = cost
    if (need_loss and loss is None) or (rule == "percent_equity" and unit_cost is None):
        computed_loss, computed_cost = unit_terms(sim, order)
        loss = computed_loss if loss is None else loss
        unit_cost = computed_cost if unit_cost is None else unit_cost
    if rule == "percent_equity":
        assert sizing.equity_pct is not None and unit_cost is not None
        _defined(unit_cost, "cost per unit", "cost=")
        n = ex.percent_of_capital(equity, sizing.equity_pct, unit_cost)
        return _finish(n, sizing)
    assert loss is not None
    _defined(loss, "max loss per unit", "max_loss=")
    if rule == "risk":
        assert sizing.risk_pct is not None
        return _finish(ex.risk_based(equity, sizing.risk_pct, loss), sizing)
    # kelly
    if sizing.win_rate is not None and sizing.payoff is not None:
        p, b = sizing.win_rate, sizing.payoff
    else:
        closed, p, b = kelly_odds(sim)
        if closed < sizing.kelly_min_trades:
            return _finish(sizing.kelly_fallback, sizing)
    if b != b:  # no winning position: no edge
        return 0
    f = p if math.isinf(b) else ex.kelly_fraction(p, b)
    if f <= 0:
        return 0
    share = min(sizing.kelly_multiplier * f, sizing.kelly_cap)
    return _finish(ex.risk_based(equity, share, loss), sizing)


def _defined(amount: float, what: str, hint: str) -> None:
    if not math.isfinite(amount):
        why = (
            "unbounded (more calls sold than bought)"
            if amount == math.inf
            else "not defined (legs on several expiries, or the margin model cannot price it)"
        )
        raise ValueError(f"size: the {what} is {why}; give {hint}")
    if amount <= 0:
        raise ValueError(f"size: the {what} is {amount:g}, not positive; give {hint}")


def _finish(n: int, sizing: Sizing) -> int:
    if sizing.max_contracts is not None:
        n = min(n, sizing.max_contracts)
    n = (n // sizing.lot_step) * sizing.lot_step
    return max(int(n), 0)
