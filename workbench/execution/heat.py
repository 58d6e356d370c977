"""Portfolio heat (seed 003, 6.4.4): the sum of open positions' maximum losses over equity.

Pure functions on money amounts in the account currency. A position's maximum loss is normally
:func:`workbench.execution.payoff.max_loss_at_expiry` (or a margin model's requirement) times
its size.
"""

from __future__ import annotations

import math
from collections.abc import Iterable


def _amount(value: float, parameter: str, *, positive: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{parameter} must be a number, got {value!r}") from None
    if not math.isfinite(v) or v < 0 or (positive and v == 0):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"{parameter} must be a finite number {bound}, got {value!r}")
    return v


def portfolio_heat(max_losses: Iterable[float], equity: float) -> float:
    """``sum(max_losses) / equity`` as a fraction (0.10 = 10% of equity at risk)."""
    eq = _amount(equity, "equity", positive=True)
    total = sum(_amount(x, f"max_losses[{i}]") for i, x in enumerate(max_losses))
    return total / eq


def fits_risk_limits(
    new_max_loss: float,
    open_max_losses: Iterable[float],
    equity: float,
    *,
    max_risk_per_trade: float,
    max_portfolio_heat: float,
) -> bool:
    """Seed 003's entry checks: ``new_max_loss <= equity x max_risk_per_trade`` and
    ``heat(open) + new_max_loss / equity <= max_portfolio_heat`` (fractions of equity)."""
    new = _amount(new_max_loss, "new_max_loss")
    eq = _amount(equity, "equity", positive=True)
    per_trade = _amount(max_risk_per_trade, "max_risk_per_trade")
    cap = _amount(max_portfolio_heat, "max_portfolio_heat")
    if new > eq * per_trade * (1 + 1e-12):
        return False
    return portfolio_heat(open_max_losses, eq) + new / eq <= cap * (1 + 1e-12)
