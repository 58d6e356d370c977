"""The variance clock: how much of the path's variance is still to come before a settlement.

Options are priced on the calendar clock every consumer uses (ACT/365 to the settlement
instant, :func:`workbench.pricing.year_fraction`), but the synthetic path does not accrue its
variance evenly in calendar time (:mod:`.paths`): one trading day carries ``1/252`` of a year's
variance, a share ``overnight_share`` of it in the gap between the previous close and the open
and the rest inside the session along the U-shaped :func:`~.paths.intraday_weights`; weekends
and holidays carry none. Intraday jumps land at a uniformly drawn minute, a share
``overnight_jump_share`` of them in the gap.

Business time ``tau`` (years of 252 trading days) is the variance clock: a process with
annualised variance ``sigma^2`` accrues ``sigma^2 * tau`` between the valuation and the
settlement. :mod:`.surface` turns the expected variance over ``tau`` into a total implied
variance ``w`` and quotes ``iv = sqrt(w / T)`` on the calendar clock ``T``, so that pricing with
``T`` charges exactly the variance the path will deliver (plus the premium): over a session
``T`` falls by about 6.25 / 8760 of a year while the path delivers about 0.85 / 252.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date, datetime

import numpy as np
from numpy.typing import ArrayLike

from workbench.data.synth.paths import TRADING_DAYS_PER_YEAR

__all__ = ["days_after", "settle_session_share", "variance_time"]


def variance_time(
    overnight_share: float,
    elapsed_today: ArrayLike,
    days_after_today: ArrayLike,
    settle_session_share: ArrayLike,
) -> np.ndarray:
    """Business time (years of 252 trading days) from a valuation today to a settlement.

    Parameters
    ----------
    overnight_share : share of a trading day's variance in the gap before its open, in [0, 1].
    elapsed_today : share of today's session variance already accrued at the valuation, in
        [0, 1] (0 at the open, 1 at the close).
    days_after_today : trading days after today up to and including the expiry day (0: the
        option settles today), integers >= 0.
    settle_session_share : share of the expiry day's session variance accrued before the
        settlement instant, in [0, 1] (1: settles at the close, 0: at the open).

    The arguments broadcast against each other. A settlement already passed gives 0.
    """
    ov = float(overnight_share)
    if not 0.0 <= ov <= 1.0:
        raise ValueError(f"overnight_share must be in [0, 1], got {overnight_share!r}")
    elapsed = np.clip(np.asarray(elapsed_today, dtype=np.float64), 0.0, 1.0)
    after = np.asarray(days_after_today)
    if np.any(after < 0):
        raise ValueError("days_after_today must be >= 0 (the expiry is before the valuation day)")
    share = np.clip(np.asarray(settle_session_share, dtype=np.float64), 0.0, 1.0)
    later = np.where(after > 0, (after - 1) + ov + (1.0 - ov) * share, 0.0)
    today = (1.0 - ov) * np.where(after > 0, 1.0 - elapsed, np.maximum(share - elapsed, 0.0))
    out: np.ndarray = (today + later) / TRADING_DAYS_PER_YEAR
    return out


def days_after(trading_days: list[date], day: date, expiry: date) -> int:
    """Trading days in ``(day, expiry]`` among ``trading_days`` (ascending, covering both).

    ``ValueError`` if ``expiry`` lies beyond the last listed day (the count would be short).
    """
    if expiry < day:
        raise ValueError(f"expiry {expiry} is before the valuation day {day}")
    if not trading_days or expiry > trading_days[-1]:
        last = trading_days[-1] if trading_days else None
        raise ValueError(f"expiry {expiry} is beyond the trading days given (last {last})")
    return bisect_right(trading_days, expiry) - bisect_right(trading_days, day)


def settle_session_share(settle: datetime, session: tuple[datetime, datetime]) -> float:
    """Share of the expiry day's session before ``settle``, linear in clock time within it.

    Exact for the settlements the profiles use: at or after the close (NSE 15:30, SPXW PM)
    gives 1, at or before the open (SPX AM) gives 0.
    """
    open_, close = session
    if settle >= close:
        return 1.0
    if settle <= open_:
        return 0.0
    return (settle - open_) / (close - open_)
