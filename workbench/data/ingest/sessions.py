"""Per-day venue facts the adapters need, looked up once per distinct day.

For an underlying of the instrument registry and a day: whether the venue traded
(``None`` outside the calendar's coverage, where it cannot be told), the exchange-local session
close (the calendar's early closes included; outside the coverage the spec's regular close)
and the strike step in force.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np

from workbench.model.calendars import CalendarRangeError, is_trading_day, session_bounds
from workbench.model.instruments import get_instrument


@dataclass(frozen=True)
class DayFacts:
    trading: bool | None
    open: datetime
    close: datetime
    strike_step: float


class VenueDays:
    """Cached :class:`DayFacts` of one registered underlying."""

    def __init__(self, underlying: str) -> None:
        self.spec = get_instrument(underlying)
        self.name = self.spec.name
        self._cache: dict[date, DayFacts] = {}

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
        start, end = session_bounds(self.name, day)
        return DayFacts(True, start, end, step)

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
