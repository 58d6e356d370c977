"""Exact money arithmetic for fees: decimals, half-up rounding, cent-exact allocation.

Fees are computed in :class:`decimal.Decimal` from the shortest decimal representation of the
float inputs (``repr``), so ``102.35 x 75`` is exactly ``7676.25``, then rounded half-up (the
convention of contract notes) to the currency's minor unit (0.01 for USD cents and INR paise).
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
UNIT = Decimal("1")


def dec(x: float | int | Decimal) -> Decimal:
    """``x`` as a Decimal via its shortest repr (no binary noise)."""
    if isinstance(x, Decimal):
        return x
    if isinstance(x, float) and not math.isfinite(x):
        raise ValueError(f"money amount must be finite, got {x!r}")
    return Decimal(repr(x)) if isinstance(x, float) else Decimal(x)


def round_money(x: Decimal, unit: Decimal = CENT) -> Decimal:
    """Round half-up to ``unit`` (0.01 by default; ``UNIT`` for whole rupees/dollars)."""
    return x.quantize(unit, rounding=ROUND_HALF_UP)


def allocate(total: Decimal, weights: list[Decimal], unit: Decimal = CENT) -> list[Decimal]:
    """Split ``total`` (a multiple of ``unit``) over ``weights`` so the parts sum exactly.

    Largest-remainder method: each part is floored to ``unit``, then the leftover units go to the
    largest fractional remainders (ties to the earlier position). All-zero weights split equally.
    """
    n = len(weights)
    if n == 0:
        return []
    if any(w < 0 for w in weights):
        raise ValueError(f"allocation weights must be non-negative, got {weights!r}")
    wsum = sum(weights, Decimal(0))
    if wsum == 0:
        weights = [Decimal(1)] * n
        wsum = Decimal(n)
    units_total = int((total / unit).to_integral_value(rounding=ROUND_HALF_UP))
    raw = [Decimal(units_total) * w / wsum for w in weights]
    floors = [int(r) for r in raw]
    left = units_total - sum(floors)
    order = sorted(range(n), key=lambda i: (-(raw[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [Decimal(f) * unit for f in floors]
