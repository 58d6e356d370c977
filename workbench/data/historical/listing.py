"""Which contracts the synthetic historical provider lists on a day (registry rules).

Expiries come from the instrument registry (:func:`workbench.model.calendars.listed_expiries`,
the listing rule in force on the day), only those after the day (a same-day expiry has no
end-of-day chain):

* monthly expiries (serial monthlies, quarterlies, half-yearlies and December LEAPS, as the
  registry lists them) of the *monthly root* -- the first of the roots (``SPX`` for the SPX
  family, the one root for NIFTY) -- within ``monthly_months`` months of the day, plus the first
  one beyond, so a template asking for an expiry at or beyond 12 months always finds one;
* the other expiries of every root (weeklies, end-of-month, dailies) where the registry lists
  them on that day: those on the rule's weekly weekday (Friday in the US) within
  ``weekly_horizon_days``, the others within ``daily_horizon_days``. A second root's monthly
  dates (``SPXW`` on a third Friday) are left to the monthly root. The registry lists NSE
  weeklies on every date; they did not exist before their launch (:data:`WEEKLIES_SINCE`), so
  no weekly is listed before it.

Strikes: for every kept expiry a band of ``±half_width`` grid steps around the day's close,
growing with the path and never shrinking (:class:`workbench.data.synth.plan.StrikeBands`),
on a step of the registry's grid widened for long maturities so the band spans about
``width_sd`` standard deviations at the day's volatility (fixed on the first day the expiry is
listed). Only the day's close and the day's volatility are used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from workbench.data.historical.config import Listing
from workbench.data.synth.plan import StrikeBands, nice_step
from workbench.model import calendars
from workbench.model.enums import ExpiryKind
from workbench.model.instruments import get_instrument

DAYS_PER_MONTH = 365.25 / 12.0

#: First day weekly options traded, for roots whose registry rule lists weeklies from its
#: start: NSE launched BANKNIFTY weeklies on 2016-05-27 and NIFTY 50 weeklies on 2019-02-11.
WEEKLIES_SINCE: dict[str, date] = {"BANKNIFTY": date(2016, 5, 27), "NIFTY": date(2019, 2, 11)}


@dataclass(frozen=True, slots=True)
class ListedExpiry:
    """One expiry listed on one day with its settlement instant and strike band."""

    root: str
    expiry: date
    settle: datetime  # exchange-local naive settlement instant
    strikes: np.ndarray


def kept_expiries(roots: tuple[str, ...], day: date, listing: Listing) -> dict[str, list[date]]:
    """Expiries kept per root on ``day`` (see the module docstring), ascending."""
    out: dict[str, list[date]] = {}
    monthly_limit = day + timedelta(days=listing.monthly_months * DAYS_PER_MONTH)
    weekly_limit = day + timedelta(days=listing.weekly_horizon_days)
    daily_limit = day + timedelta(days=listing.daily_horizon_days)
    for i, root in enumerate(roots):
        spec = get_instrument(root)
        weekly_day = max(spec.expiry_rule(day).weekly_weekdays, default=4)
        weeklies = day >= WEEKLIES_SINCE.get(root, date.min)
        kept: list[date] = []
        beyond = False
        for expiry in calendars.listed_expiries(root, day):
            if expiry <= day:
                continue
            if calendars.expiry_kind(root, expiry) is ExpiryKind.MONTHLY:
                if i != 0:
                    continue
                if expiry <= monthly_limit:
                    kept.append(expiry)
                elif not beyond:
                    kept.append(expiry)
                    beyond = True
            elif not weeklies:
                continue
            elif expiry.weekday() == weekly_day:
                if expiry <= weekly_limit:
                    kept.append(expiry)
            elif expiry <= daily_limit:
                kept.append(expiry)
        out[root] = kept
    return out


class Lister:
    """Lists each day's contracts; call :meth:`day` once per day in date order (the strike
    bands carry from one day to the next)."""

    def __init__(self, spot: str, roots: tuple[str, ...], listing: Listing) -> None:
        self.spot = spot
        self.roots = roots
        self.listing = listing
        self._bands = StrikeBands()

    def day(self, day: date, close: float, vol: float) -> list[ListedExpiry]:
        """Contracts listed on ``day`` from that day's ``close`` and 30-day ``vol`` only."""
        _, session_close = calendars.session_bounds(self.spot, day)
        out = []
        for root, expiries in kept_expiries(self.roots, day, self.listing).items():
            spec = get_instrument(root)
            base = spec.strike_step_on(day)
            for expiry in expiries:
                settle = datetime.combine(
                    calendars.settlement_day(root, expiry), spec.settlement_clock
                )
                t = max((settle - session_close).total_seconds(), 0.0) / (365.0 * 86400.0)
                raw = self.listing.width_sd * vol * np.sqrt(t) * close / self.listing.half_width
                step = nice_step(raw, base)
                lo, hi, step = self._bands.band(root, expiry, close, self.listing.half_width, step)
                n = round((hi - lo) / step) + 1
                strikes = lo + step * np.arange(n, dtype=np.float64)
                out.append(ListedExpiry(root, expiry, settle, strikes))
        return out
