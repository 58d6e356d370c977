"""Which expiries and strikes the synthetic market lists on each day.

Expiries come from the instrument registry's calendar
(:func:`workbench.model.calendars.listed_expiries`); the synthetic market keeps a subset of
them (the nearest few, the next monthly, ...) chosen by each profile.

Strikes: for every kept expiry, a band of the registry's strike grid around the spot. The band
is the union, over every dataset day the expiry has been kept so far, of ``±half_width`` grid
steps around that day's reference spot, so within a day the strike set is fixed and across days
it only grows: a strike listed once stays listed until expiry. The grid step of an expiry is
fixed on the first day it is kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np


@dataclass(frozen=True, slots=True)
class ExpiryPlan:
    """One expiry listed on one day: settlement instant and strike band ``lo..hi`` by ``step``."""

    expiry: date
    settle: datetime  # exchange-local naive settlement instant
    monthly: bool
    lo: float
    hi: float
    step: float

    def strikes(self) -> np.ndarray:
        """The band's strikes, ascending (price units)."""
        n = round((self.hi - self.lo) / self.step) + 1
        return self.lo + self.step * np.arange(n, dtype=np.float64)


class StrikeBands:
    """Running strike bands per (underlying, expiry); see the module docstring."""

    def __init__(self) -> None:
        self._bands: dict[tuple[str, date], tuple[float, float, float]] = {}

    def band(
        self, underlying: str, expiry: date, spot: float, half_width: int, step: float
    ) -> tuple[float, float, float]:
        """``(lo, hi, step)`` for ``expiry`` today, around today's reference ``spot``.

        Call once per day per kept expiry, in day order; ``step`` is used only on the first
        call for an expiry.
        """
        key = (underlying, expiry)
        known = self._bands.get(key)
        if known is not None:
            step = known[2]
        centre = round(spot / step) * step
        lo = max(centre - half_width * step, step)
        hi = centre + half_width * step
        if known is not None:
            lo, hi = min(lo, known[0]), max(hi, known[1])
        self._bands[key] = (lo, hi, step)
        return lo, hi, step


def nice_step(raw: float, base: float) -> float:
    """Smallest of ``base x (1, 2, 5, 10, 20, 50, ...)`` at least ``raw`` (a grid multiple)."""
    if raw <= base:
        return base
    exponent = 10 ** math.floor(math.log10(raw / base))
    for mult in (1, 2, 5, 10):
        if base * exponent * mult >= raw:
            return base * exponent * mult
    return base * exponent * 10
