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
from typing import Any

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
    days_after: int  # trading days after the listing day up to and including the expiry day
    settle_share: float  # share of the expiry day's session before settlement (1: at the close)

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


@dataclass(frozen=True, slots=True)
class InstrumentGrid:
    """Every listed option of one day, in the canonical order: expiry, strike, right (C, P).

    Arrays have one element per instrument; ``expiry_index`` points into the day's expiries.
    """

    strike: np.ndarray
    is_call: np.ndarray
    expiry_index: np.ndarray

    @classmethod
    def of(cls, expiries: tuple[ExpiryPlan, ...]) -> InstrumentGrid:
        strikes, calls, index = [], [], []
        for j, e in enumerate(expiries):
            ks = e.strikes()
            strikes.append(np.repeat(ks, 2))
            calls.append(np.tile([True, False], len(ks)))
            index.append(np.full(2 * len(ks), j))
        return cls(np.concatenate(strikes), np.concatenate(calls), np.concatenate(index))

    def per_instrument(self, values: list[Any]) -> np.ndarray:
        """``values`` (one per expiry) spread to one per instrument."""
        return np.asarray(values)[self.expiry_index]

    def settle(self, expiries: tuple[ExpiryPlan, ...]) -> np.ndarray:
        """Settlement instants (``datetime64[us]``, exchange-local) per instrument."""
        return self.per_instrument([np.datetime64(e.settle, "us") for e in expiries])

    def expiry_dates(self, expiries: tuple[ExpiryPlan, ...]) -> np.ndarray:
        """Expiry dates (``datetime64[D]``) per instrument."""
        return self.per_instrument([np.datetime64(e.expiry, "D") for e in expiries])

    def expiry_ordinals(self, expiries: tuple[ExpiryPlan, ...]) -> np.ndarray:
        """Expiry dates as proleptic ordinals per instrument (hash keys)."""
        return self.per_instrument([e.expiry.toordinal() for e in expiries])

    def monthly(self, expiries: tuple[ExpiryPlan, ...]) -> np.ndarray:
        """Whether each instrument's expiry is the venue's standard monthly."""
        return self.per_instrument([bool(e.monthly) for e in expiries])
