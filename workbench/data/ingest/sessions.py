"""Per-day venue facts the adapters need, looked up once per distinct day.

For an underlying of the instrument registry and a day: whether the venue traded
(``None`` outside the calendar's coverage, where it cannot be told; adapters refuse such rows as
``date_out_of_range`` first), the exchange-local session open and close (the calendar's early
closes and the registry's overrides included: a Muhurat hour, a weekend session; outside the
coverage the spec's regular hours), the breaks inside a session (the 2024 disaster-recovery
Saturdays) and the strike step in force.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np

from workbench.model.calendars import (
    CalendarRangeError,
    coverage,
    expiry_coverage,
    is_trading_day,
    session_windows,
)
from workbench.model.instruments import get_instrument


@dataclass(frozen=True)
class DayFacts:
    trading: bool | None
    open: datetime
    close: datetime
    strike_step: float
    #: ``(start, end)`` of the pauses between a session's trading windows
    breaks: tuple[tuple[datetime, datetime], ...] = ()


class VenueDays:
    """Cached :class:`DayFacts` of one registered underlying."""

    def __init__(self, underlying: str) -> None:
        self.spec = get_instrument(underlying)
        self.name = self.spec.name
        self._cache: dict[date, DayFacts] = {}
        #: First and last day of the venue calendar's coverage.
        self.first, self.last = coverage(self.name)
        #: First and last expiry the expiry calendar knows.
        self.expiry_first, self.expiry_last = self.first, expiry_coverage()[1]

    def facts(self, day: date) -> DayFacts:
        got = self._cache.get(day)
        if got is None:
            got = self._cache[day] = self._lookup(day)
        return got

    def _lookup(self, day: date) -> DayFacts:
        try:
            step = float(self.spec.strike_step_on(day))
        except ValueError:  # before the registry's history
            step = float("nan")
        regular = (
            datetime.combine(day, self.spec.session_open),
            datetime.combine(day, self.spec.session_close),
        )
        try:
            trading: bool | None = is_trading_day(self.name, day)
        except CalendarRangeError:
            return DayFacts(None, *regular, step)
        if not trading:
            return DayFacts(False, *regular, step)
        windows = session_windows(self.name, day)
        breaks = tuple((a[1], b[0]) for a, b in itertools.pairwise(windows))
        return DayFacts(True, windows[0][0], windows[-1][1], step, breaks)

    def out_of_range(self, days: np.ndarray, *, expiry: bool = False) -> np.ndarray:
        """Rows of ``datetime64[D]`` ``days`` outside the calendar's coverage (``expiry``: the
        expiry calendar's range, which runs past the session coverage); NaT is not flagged."""
        lo, hi = (self.expiry_first, self.expiry_last) if expiry else (self.first, self.last)
        valid = ~np.isnat(days)
        out = np.zeros(len(days), dtype=bool)
        out[valid] = (days[valid] < np.datetime64(lo, "D")) | (days[valid] > np.datetime64(hi, "D"))
        return out

    def outside(self, days: np.ndarray, ts: np.ndarray, *, close_inclusive: bool) -> np.ndarray:
        """Rows whose exchange-local ``ts`` (``datetime64[us]``) is outside the session of its
        trading day: before the open, after the close (at the close too unless
        ``close_inclusive``: a minute bar labelled 15:30 starts after a 15:30 close) or inside a
        break. Rows of non-trading or unknown days are not flagged (other rules handle them)."""
        trading, opens, closes, _ = self.table(days)
        is_trading = trading == True  # noqa: E712 (object array)
        with np.errstate(invalid="ignore"):
            late = ts > closes if close_inclusive else ts >= closes
            out = is_trading & ~np.isnat(ts) & ((ts < opens) | late)
        if not is_trading.any():
            return out
        for day in np.unique(days[is_trading]):
            facts = self.facts(day.astype(object))
            rows = is_trading & (days == day)
            for start, end in facts.breaks:
                a, b = np.datetime64(start, "us"), np.datetime64(end, "us")
                inside = (ts > a) if close_inclusive else (ts >= a)
                out |= rows & inside & (ts < b)
        return out

    def arrays(self, days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For ``datetime64[D]`` days (NaT allowed): ``trading`` (object: True/False/None),
        ``close`` (``datetime64[us]``), ``strike_step`` (float; NaN for NaT)."""
        trading, _, close, step = self.table(days)
        return trading, close, step

    def table(self, days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(trading, open, close, strike_step)`` for ``datetime64[D]`` days (NaT allowed)."""
        n = len(days)
        trading = np.full(n, None, dtype=object)
        start = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
        close = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
        step = np.full(n, np.nan)
        valid = ~np.isnat(days)
        if not valid.any():
            return trading, start, close, step
        uniq, inverse = np.unique(days[valid], return_inverse=True)
        facts = [self.facts(d.astype(object)) for d in uniq]
        idx = np.flatnonzero(valid)
        trading[idx] = np.array([f.trading for f in facts], dtype=object)[inverse]
        start[idx] = np.array([np.datetime64(f.open, "us") for f in facts])[inverse]
        close[idx] = np.array([np.datetime64(f.close, "us") for f in facts])[inverse]
        step[idx] = np.array([f.strike_step for f in facts])[inverse]
        return trading, start, close, step
