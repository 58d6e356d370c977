"""Option contract value object.

``OptionContract(underlying, expiry, strike, right)`` is the identity of a listed option
everywhere in the workbench: datasets, the day cache, positions and the tradebook. Display
symbols (``NIFTY24JAN21500CE``, OCC ``SPXW  240119C04800000``) are produced and parsed by
:mod:`workbench.model.symbols`; code never parses a symbol string back into parts deep inside.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

from workbench.model.enums import Right


@dataclass(frozen=True, slots=True, order=True)
class OptionContract:
    """A listed option. ``strike`` is in the underlying's price units; ``expiry`` a calendar date."""

    underlying: str
    expiry: date
    strike: float
    right: Right

    def __post_init__(self) -> None:
        if not isinstance(self.underlying, str) or not self.underlying.strip():
            raise ValueError(f"underlying must be a non-empty string, got {self.underlying!r}")
        if self.underlying != self.underlying.strip().upper():
            object.__setattr__(self, "underlying", self.underlying.strip().upper())
        if isinstance(self.expiry, datetime) or not isinstance(self.expiry, date):
            if isinstance(self.expiry, datetime):
                object.__setattr__(self, "expiry", self.expiry.date())
            else:
                raise ValueError(f"expiry must be a date, got {self.expiry!r}")
        try:
            strike = float(self.strike)
        except (TypeError, ValueError):
            raise ValueError(f"strike must be a number, got {self.strike!r}") from None
        if not math.isfinite(strike) or strike <= 0:
            raise ValueError(f"strike must be a positive finite number, got {self.strike!r}")
        object.__setattr__(self, "strike", strike)
        if not isinstance(self.right, Right):
            object.__setattr__(self, "right", Right.parse(self.right))

    @property
    def is_call(self) -> bool:
        return self.right is Right.CALL

    def intrinsic(self, spot: float) -> float:
        """Payoff per unit of underlying at ``spot``."""
        if self.right is Right.CALL:
            return max(spot - self.strike, 0.0)
        return max(self.strike - spot, 0.0)

    @property
    def symbol(self) -> str:
        """Display symbol in the venue's style (see :func:`workbench.model.symbols.format_symbol`)."""
        from workbench.model.symbols import format_symbol

        return format_symbol(self)

    def __str__(self) -> str:
        return self.symbol
