"""IV rank and IV percentile of the underlying, from its chain's ATM implied volatility.

Definitions (docs/INTERFACES.md):

* **ATM IV of an expiry** (:func:`expiry_atm_iv`): :func:`workbench.engine.ivstats.atm_iv`,
  the definition the scanner's IV-percentile term shares: at the listed strike nearest the
  spot, the mean of the call's and the put's implied volatility (one of them when the other
  has none); a row's IV is the dataset's ``iv`` where positive, else implied from the mid
  (:func:`workbench.pricing.implied_vol`, at the run's rate). Annualised, a fraction.
* **the underlying's ATM IV** (:func:`constant_maturity_iv`): 30 calendar days constant
  maturity. Of the listed expiries at least :data:`MIN_DTE` days away, the nearest one at or
  below :data:`TARGET_DAYS` and the nearest one above it (each the first with an ATM IV) are
  interpolated linearly in total variance (``sigma^2 T``) to 30 days; with expiries on one side
  only, the nearest one's ATM IV. NaN when no expiry has one.
* **history**: the ATM IV at each earlier day's close (its last tick), for the ``window``
  dataset days before today (days of the run's dataset with data, before the run's start too).
  Days whose IV is NaN are left out; fewer than ``min_days`` finite values give NaN.
* **IV rank** = ``100 x (iv - min) / (max - min)`` with ``min``/``max`` over the history,
  clipped to ``[0, 100]`` (100 = a new high of the window), 50 when the history is flat;
* **IV percentile** = ``100 x`` the share of the history's days whose IV is strictly below
  today's ``iv`` (``[0, 100]``). Both in percent, computed by :mod:`workbench.engine.ivstats`
  (the scanner's and ``BearCallSpread``'s figures are the same numbers).

Today's ``iv`` is the chain as visible now (the tick's snapshot), never a later bar; the
history holds previous days' closes only, so perturbing a later day's chain changes no earlier
value. Each day's closing IV is computed once per process and dataset version (the process
LRU), so a run pays for each history day once, not per call.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from workbench.engine.selection import ChainSnapshot

#: Constant maturity of the underlying's ATM IV, calendar days.
TARGET_DAYS = 30
#: Expiries nearer than this (calendar days) are left out: their IV is dominated by the last days.
MIN_DTE = 7
#: Default trailing window (sessions) and the least history that gives a value.
DEFAULT_WINDOW = 252
DEFAULT_MIN_DAYS = 20


def expiry_atm_iv(snap: ChainSnapshot) -> float:
    """ATM IV of one expiry's snapshot: :func:`workbench.engine.ivstats.atm_iv` (the one
    definition the scanner's IV-percentile term uses too); NaN when none."""
    from workbench.engine.ivstats import atm_iv

    if len(snap) == 0 or not (math.isfinite(snap.spot) and snap.spot > 0):
        return math.nan
    return float(atm_iv(snap))


def constant_maturity_iv(points: Sequence[tuple[int, float, float]]) -> float:
    """30-day ATM IV from ``(dte, years to expiry, atm iv)`` of each expiry (module docstring)."""
    usable = [(d, t, v) for d, t, v in points if d >= MIN_DTE and t > 0 and math.isfinite(v)]
    below = [p for p in usable if p[0] <= TARGET_DAYS]
    above = [p for p in usable if p[0] > TARGET_DAYS]
    lo = max(below, key=lambda p: p[0]) if below else None
    hi = min(above, key=lambda p: p[0]) if above else None
    if lo is None and hi is None:
        return math.nan
    if lo is None or hi is None:
        return float((lo or hi)[2])  # type: ignore[index]
    (_, t1, v1), (_, t2, v2) = lo, hi
    # calendar days to the target from the nearer expiry, in the snapshots' own year fractions
    w = (TARGET_DAYS - lo[0]) / (hi[0] - lo[0])
    t = t1 + w * (t2 - t1)
    var = v1 * v1 * t1 + w * (v2 * v2 * t2 - v1 * v1 * t1)
    if not (var > 0 and t > 0):
        return math.nan
    return float(math.sqrt(var / t))


def market_atm_iv(market: Any, i: int) -> float:
    """The underlying's 30-day ATM IV from ``market``'s chains as visible at tick ``i``."""
    day = market.day
    points: list[tuple[int, float, float]] = []
    dated = [(e, (e - day).days) for e in market.expiries]
    below = sorted((p for p in dated if MIN_DTE <= p[1] <= TARGET_DAYS), key=lambda p: -p[1])
    above = sorted((p for p in dated if p[1] > TARGET_DAYS), key=lambda p: p[1])
    for side in (below, above):
        for expiry, dte in side:  # the first expiry of each side with an ATM IV
            snap = market.snapshot(expiry, i)
            value = expiry_atm_iv(snap)
            if math.isfinite(value):
                points.append((dte, snap.tte, value))
                break
    return constant_maturity_iv(points)


def iv_rank(iv: float, history: np.ndarray, min_days: int = 1) -> float:
    """IV rank in percent: :func:`workbench.engine.ivstats.iv_rank` (NaN where it has none)."""
    from workbench.engine.ivstats import iv_rank as shared

    value = shared(iv, history, min_history=min_days)
    return math.nan if value is None else float(value)


def iv_percentile(iv: float, history: np.ndarray, min_days: int = 1) -> float:
    """IV percentile in percent: :func:`workbench.engine.ivstats.iv_percentile` (NaN where it
    has none)."""
    from workbench.engine.ivstats import iv_percentile as shared

    value = shared(iv, history, min_history=min_days)
    return math.nan if value is None else float(value)


#: closing ATM IVs by (dataset version, underlying, rate), then by day, for this process
_CLOSING_IVS: dict[tuple[str, str, float], dict[date, float]] = {}
_MAX_HISTORIES = 64


def forget_closing_ivs() -> None:
    """Drop this process's closing IVs (tests that count how often they are computed)."""
    _CLOSING_IVS.clear()


class ClosingIvs:
    """Closing ATM IVs of the run's underlying by day, computed once per process and dataset
    version. ``open_day(day)`` gives the engine's market of a dataset day (its last tick is
    the close)."""

    def __init__(
        self,
        version: str,
        underlying: str,
        days: Sequence[date],
        rate: float,
        open_day: Callable[[date], Any],
    ) -> None:
        self.version = version
        self.underlying = underlying
        self.days = sorted(days)
        self.rate = float(rate)
        self._open_day = open_day

    def closing_iv(self, day: date) -> float:
        """The ATM IV at ``day``'s last tick (NaN when the day has no usable chain)."""
        known = self._known()
        value = known.get(day)
        if value is None:
            try:
                market = self._open_day(day)
                value = market_atm_iv(market, market.n_ticks - 1) if market.n_ticks else math.nan
            except (ValueError, OSError, KeyError, IndexError):  # a day without a readable chain
                value = math.nan
            known[day] = value
        return value

    def remember(self, day: date, value: float) -> None:
        """Record ``day``'s closing IV computed by the run's own market of that day at its
        last tick (the same figure :meth:`closing_iv` would compute by opening the day)."""
        self._known().setdefault(day, float(value))

    def _known(self) -> dict[date, float]:
        """This process's closing IVs of (dataset version, underlying, rate): a plain dict,
        not the bounded series LRU, because a window reads ~250 of them on every call (the LRU's
        lock and key per read made IV percentile half of a three-underlying book's time) and
        a day's figure is one float."""
        key = (self.version, self.underlying, self.rate)
        known = _CLOSING_IVS.get(key)
        if known is None:
            if len(_CLOSING_IVS) >= _MAX_HISTORIES:
                _CLOSING_IVS.clear()
            known = _CLOSING_IVS.setdefault(key, {})
        return known

    def window(self, day: date, window: int) -> np.ndarray:
        """Finite closing IVs of the ``window`` dataset days before ``day``, oldest first."""
        import bisect

        j = bisect.bisect_left(self.days, day)
        past = self.days[max(0, j - window) : j]
        known = self._known()
        values = np.fromiter(
            (known[d] if d in known else self.closing_iv(d) for d in past),
            dtype=np.float64,
            count=len(past),
        )
        return values[np.isfinite(values)]


def check_window(window: Any, min_days: Any) -> tuple[int, int]:
    """Validated ``(window, min_days)``: positive whole numbers, ``min_days <= window``."""
    for name, value in (("window", window), ("min_days", min_days)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{name} must be a whole number of sessions >= 1, got {value!r}")
    if min_days > window:
        raise ValueError(f"min_days ({min_days}) must not exceed window ({window})")
    return int(window), int(min_days)
