"""IV percentile and IV rank of an underlying from past days' at-the-money implied volatility.

Seed 003 scores candidates (and filters entries with ``iv_percentile_min``) by where today's
implied volatility sits in its own past. Both figures compare *today's* ATM IV with a history
of *earlier days* only -- never today's or a later observation:

* ``iv_percentile = 100 x (number of past days whose ATM IV is below today's) / (past days)``
  (0..100; the share of the window that was cheaper than today);
* ``iv_rank = 100 x (today - min(past)) / (max(past) - min(past))`` (0..100 when today is
  inside the past range; clipped to [0, 100]; 50 when the past range is flat).

Neither exists without ``min_history`` past observations (``None``): a run's first days have no
history of their own.

The ATM IV of one chain snapshot (:func:`atm_iv`) is the mean of the call's and the put's
implied volatility at the strike nearest the spot (the chain's ``iv`` column where present, else
implied from the mid by :func:`workbench.pricing.implied_vol`); one side alone when the other has
none; ``NaN`` when neither has one. :class:`IvHistory` keeps one observation per day and answers
for a day from the observations of strictly earlier days, so a strategy that feeds it as it goes
cannot see the future. The engine contexts (``bar.iv_percentile``, branch issue-14-series)
and the scanner's IV-percentile score term share these functions.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable
from datetime import date

import numpy as np

from workbench.engine.selection import ChainSnapshot
from workbench.pricing import implied_vol

__all__ = ["IvHistory", "atm_iv", "iv_percentile", "iv_rank"]


def _past(history: Iterable[float]) -> np.ndarray:
    values = np.asarray([float(v) for v in history], dtype=np.float64)
    return values[np.isfinite(values)]


def iv_percentile(
    current: float, history: Iterable[float], *, min_history: int = 1
) -> float | None:
    """Percent (0..100) of the finite ``history`` values strictly below ``current``; ``None``
    when ``current`` is not finite or fewer than ``min_history`` past values exist."""
    past = _past(history)
    if not math.isfinite(current) or past.size < max(1, min_history):
        return None
    return 100.0 * float(np.count_nonzero(past < current)) / float(past.size)


def iv_rank(current: float, history: Iterable[float], *, min_history: int = 1) -> float | None:
    """``100 x (current - min) / (max - min)`` of the finite ``history``, clipped to [0, 100]
    (50 when the history is flat); ``None`` as :func:`iv_percentile`."""
    past = _past(history)
    if not math.isfinite(current) or past.size < max(1, min_history):
        return None
    lo, hi = float(past.min()), float(past.max())
    if hi - lo <= 1e-12:
        return 50.0
    return float(min(100.0, max(0.0, 100.0 * (current - lo) / (hi - lo))))


def atm_iv(snapshot: ChainSnapshot) -> float:
    """ATM implied volatility of one expiry's chain (see the module docstring); ``NaN`` when
    the strike nearest the spot has no usable volatility."""
    if len(snapshot) == 0 or snapshot.tte <= 0.0:
        return math.nan
    strikes = snapshot.strike
    distance = np.abs(strikes - snapshot.spot)
    nearest = float(strikes[int(np.argmin(distance))])
    rows = np.flatnonzero(np.abs(strikes - nearest) <= 1e-9)
    sigma = snapshot.iv[rows].astype(np.float64, copy=True)
    need = ~(np.isfinite(sigma) & (sigma > 0))
    if need.any():
        idx = rows[need]
        prices = snapshot.price("mid")[idx]
        sigma[need] = implied_vol(
            prices,
            np.full(idx.size, snapshot.spot),
            strikes[idx],
            np.full(idx.size, snapshot.tte),
            np.full(idx.size, snapshot.rate),
            snapshot.is_call[idx],
            q=np.full(idx.size, snapshot.div_yield),
        )
    ok = sigma[np.isfinite(sigma) & (sigma > 0)]
    return float(ok.mean()) if ok.size else math.nan


class IvHistory:
    """One ATM IV observation per day, answering from strictly earlier days only.

    ``observe(day, iv)`` records (a later observation of the same day replaces it; a day
    earlier than the last recorded raises ``ValueError``: the history is built as time goes
    on). ``percentile(day, current)`` / ``rank(day, current)`` use the last ``window``
    observations dated before ``day``.
    """

    def __init__(self, window: int = 252, *, min_history: int = 20) -> None:
        if window < 1:
            raise ValueError(f"window: expected >= 1 day, got {window}")
        if min_history < 1:
            raise ValueError(f"min_history: expected >= 1, got {min_history}")
        self.window = int(window)
        self.min_history = int(min_history)
        self._days: list[date] = []
        self._values: list[float] = []

    def __len__(self) -> int:
        return len(self._days)

    def observe(self, day: date, iv: float) -> None:
        if not math.isfinite(iv) or iv <= 0:
            return
        if self._days and day < self._days[-1]:
            raise ValueError(f"IvHistory.observe: {day} is before {self._days[-1]}")
        if self._days and day == self._days[-1]:
            self._values[-1] = float(iv)
            return
        self._days.append(day)
        self._values.append(float(iv))

    def past(self, day: date) -> list[float]:
        """The last ``window`` observations dated strictly before ``day``."""
        end = bisect_left(self._days, day)
        return self._values[max(0, end - self.window) : end]

    def percentile(self, day: date, current: float) -> float | None:
        return iv_percentile(current, self.past(day), min_history=self.min_history)

    def rank(self, day: date, current: float) -> float | None:
        return iv_rank(current, self.past(day), min_history=self.min_history)
