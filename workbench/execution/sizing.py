"""Position sizing (seed 004): pure functions returning a whole number of contracts.

Money arguments are in the account currency; "per contract" amounts are for one contract (the
lot size / multiplier already applied: e.g. a SPX credit spread 5 points wide with a 1.20
credit has ``max_loss_per_contract = (5 - 1.20) x 100 = 380``). Every function rounds *down*
(never sizes above the budget), returns ``0`` when the budget does not cover one contract, and
honours an optional ``max_contracts`` cap. Bad parameters raise ``ValueError`` naming the
parameter.
"""

from __future__ import annotations

import math


def _positive(value: float, parameter: str, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{parameter} must be a number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{parameter} must be a number, got {value!r}") from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{parameter} must be a finite number {bound}, got {value!r}")
    return v


def _fraction(value: float, parameter: str) -> float:
    v = _positive(value, parameter, allow_zero=True)
    if v > 1:
        raise ValueError(f"{parameter} must be a fraction in [0, 1], got {value!r}")
    return v


def _cap(n: int, max_contracts: int | None) -> int:
    if max_contracts is None:
        return n
    if isinstance(max_contracts, bool) or not isinstance(max_contracts, int) or max_contracts < 0:
        raise ValueError(f"max_contracts must be a whole number >= 0, got {max_contracts!r}")
    return min(n, max_contracts)


def _whole(budget: float, per_contract: float) -> int:
    # The tiny relative tolerance keeps 1000 / 100 == 10 from flooring to 9 after float error.
    return max(math.floor(budget / per_contract * (1 + 1e-12)), 0)


def fixed_quantity(qty: int, *, max_contracts: int | None = None) -> int:
    """Always ``qty`` contracts (a whole number >= 0)."""
    if isinstance(qty, bool) or not isinstance(qty, int) or qty < 0:
        raise ValueError(f"qty must be a whole number of contracts >= 0, got {qty!r}")
    return _cap(qty, max_contracts)


def percent_of_capital(
    capital: float, fraction: float, cost_per_contract: float, *, max_contracts: int | None = None
) -> int:
    """``floor(capital x fraction / cost_per_contract)``.

    ``cost_per_contract`` is what one contract ties up: the premium paid for a debit position or
    the margin for a credit position.
    """
    cap = _positive(capital, "capital", allow_zero=True)
    f = _fraction(fraction, "fraction")
    cost = _positive(cost_per_contract, "cost_per_contract")
    return _cap(_whole(cap * f, cost), max_contracts)


def risk_based(
    capital: float,
    risk_fraction: float,
    max_loss_per_contract: float,
    *,
    max_contracts: int | None = None,
) -> int:
    """``floor(capital x risk_fraction / max_loss_per_contract)``: the most contracts whose
    combined maximum loss stays within ``risk_fraction`` of capital (seed 003: per-trade risk
    ``spread.max_loss <= equity x max_risk_per_trade``)."""
    cap = _positive(capital, "capital", allow_zero=True)
    f = _fraction(risk_fraction, "risk_fraction")
    loss = _positive(max_loss_per_contract, "max_loss_per_contract")
    return _cap(_whole(cap * f, loss), max_contracts)


def kelly_fraction(win_prob: float, win_loss_ratio: float) -> float:
    """Kelly fraction ``f* = p - (1 - p) / b`` for win probability ``p`` and payoff ratio ``b``
    (average win / average loss). May be negative (no edge)."""
    p = _fraction(win_prob, "win_prob")
    b = _positive(win_loss_ratio, "win_loss_ratio")
    return p - (1.0 - p) / b


def kelly(
    capital: float,
    win_prob: float,
    win_loss_ratio: float,
    max_loss_per_contract: float,
    *,
    multiplier: float = 1.0,
    cap: float = 0.25,
    max_contracts: int | None = None,
) -> int:
    """Contracts so that the capital at risk is ``min(multiplier x f*, cap)`` of capital.

    ``f*`` is :func:`kelly_fraction`; ``multiplier`` scales it (0.5 = half Kelly); ``cap`` (a
    fraction in (0, 1]) bounds it, since full Kelly on estimated odds is far too aggressive.
    No edge (``f* <= 0``) gives 0 contracts. Risk per contract is ``max_loss_per_contract``.
    """
    capital_v = _positive(capital, "capital", allow_zero=True)
    m = _positive(multiplier, "multiplier")
    c = _fraction(cap, "cap")
    if c == 0:
        raise ValueError(f"cap must be in (0, 1], got {cap!r}")
    loss = _positive(max_loss_per_contract, "max_loss_per_contract")
    f = kelly_fraction(win_prob, win_loss_ratio)
    if f <= 0:
        return 0
    return _cap(_whole(capital_v * min(m * f, c), loss), max_contracts)
