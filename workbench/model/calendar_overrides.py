"""Dated calendar overrides: sessions the exchange calendars miss, and closures they miss.

``exchange_calendars``' ``XBOM`` (the calendar the registry uses for NSE and BSE) lists the
regular sessions and holidays, not the special sessions the Indian exchanges hold on days that
are otherwise holidays or weekends, and it occasionally misses a late change. Real bars of
those days were quarantined as ``exchange_holiday``. This table corrects the calendar for the
venues it names; :mod:`workbench.model.calendars` applies it everywhere (trading days, session
bounds, expiry calendar), so ingest, the engine and the expiry calendar agree.

Each override is one dated fact:

- ``kind="session"``: the venue traded that day, in the given ``hours`` (one or more
  exchange-local windows; two windows = a session with a break). ``special=True`` marks a
  session that is not an ordinary trading day: a Muhurat hour, a weekend disaster-recovery
  test, a Budget-day Saturday. Special sessions never host an expiry (an expiry due on a
  holiday still moves to the previous regular session: NSE does not settle contracts on a
  Muhurat evening), and the synthetic market does not simulate them. ``special=False`` is a
  correction: an ordinary full session the calendar lists as a holiday.
- ``kind="closed"``: the venue did not trade on a day the calendar lists as a session (the
  reverse correction); expiries due that day move to the previous session.

Sources are NSE circulars as reported at the time (each entry names its source); hours are
the normal-market hours of the equity derivatives segment. Not covered (say so rather than
guess): Muhurat sessions before 2017 (dates known, hours not verified), the pre-2015 special
Saturday sessions, and MCX, whose evening session also trades on some equity holidays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import Literal

OverrideKind = Literal["session", "closed"]

#: Venues of the Indian equity derivatives segment (the registry's NSE and BSE indices).
INDIA_EQUITY = frozenset({"NSE", "BSE"})
_FULL_DAY = ((time(9, 15), time(15, 30)),)
_DR_TEST = ((time(9, 15), time(10, 0)), (time(11, 30), time(12, 30)))


@dataclass(frozen=True, slots=True)
class SessionOverride:
    """One dated correction of a venue calendar (see the module docstring)."""

    day: date
    kind: OverrideKind
    venues: frozenset[str]
    note: str
    source: str
    hours: tuple[tuple[time, time], ...] = ()
    special: bool = True

    def __post_init__(self) -> None:
        if self.kind == "session":
            if not self.hours:
                raise ValueError(f"calendar override {self.day}: a session needs its hours")
            previous = time(0, 0)
            for start, end in self.hours:
                if not previous <= start < end:
                    raise ValueError(
                        f"calendar override {self.day}: hours {self.hours} must be ascending, "
                        "non-overlapping windows"
                    )
                previous = end
        elif self.hours:
            raise ValueError(f"calendar override {self.day}: a closed day has no hours")

    @property
    def open(self) -> time:
        return self.hours[0][0]

    @property
    def close(self) -> time:
        return self.hours[-1][1]


def _session(
    day: str,
    note: str,
    source: str,
    hours: tuple[tuple[time, time], ...] = _FULL_DAY,
    *,
    special: bool = True,
) -> SessionOverride:
    return SessionOverride(
        date.fromisoformat(day), "session", INDIA_EQUITY, note, source, hours, special
    )


def _muhurat(day: str, start: time, end: time, source: str) -> SessionOverride:
    return _session(day, "Diwali Muhurat trading (one hour)", source, ((start, end),))


OVERRIDES: tuple[SessionOverride, ...] = (
    # 2013: the Muharram holiday moved from Thursday 14 to Friday 15 November (NSE/BSE circulars
    # of November 2013: "November 14, 2013 shall be a trading day and November 15, 2013 shall
    # be a trading holiday ... as per the normal market timings"). XBOM keeps the original date.
    _session(
        "2013-11-14",
        "normal trading day (Muharram holiday moved to 15 November)",
        "NSE circular, November 2013",
        special=False,
    ),
    SessionOverride(
        date(2013, 11, 15),
        "closed",
        INDIA_EQUITY,
        "Muharram holiday (moved from 14 November)",
        "NSE circular, November 2013",
    ),
    _session(
        "2015-02-28", "Union Budget, Saturday session", "NSE circular for the Union Budget 2015"
    ),
    _session(
        "2020-02-01", "Union Budget, Saturday session", "NSE circular for the Union Budget 2020"
    ),
    # 2024-01-20: announced as a disaster-recovery test in two parts, turned into a full
    # session when Monday 22 January was declared a holiday; the real NIFTY minute file of set 5
    # has regular bars from 09:15 to 15:29 that day.
    _session(
        "2024-01-20",
        "Saturday full session (22 January declared a holiday)",
        "NSE circulars, January 2024; bars of set 5's NIFTY_2024.csv",
    ),
    _session(
        "2024-03-02",
        "Saturday live session with intra-day switch to the disaster-recovery site",
        "NSE circular, February 2024; bars of set 5's NIFTY_2024.csv",
        _DR_TEST,
    ),
    _session(
        "2024-05-18",
        "Saturday live session with intra-day switch to the disaster-recovery site",
        "NSE circular, May 2024; bars of set 5's NIFTY_2024.csv (11:30-12:29)",
        _DR_TEST,
    ),
    _session(
        "2025-02-01", "Union Budget, Saturday session", "NSE circular for the Union Budget 2025"
    ),
    _session(
        "2026-02-01", "Union Budget, Sunday session", "NSE circular for the Union Budget 2026"
    ),
    _muhurat("2017-10-19", time(18, 30), time(19, 30), "NSE circular for Diwali 2017"),
    _muhurat("2018-11-07", time(17, 30), time(18, 30), "NSE circular for Diwali 2018"),
    _muhurat("2019-10-27", time(18, 15), time(19, 15), "NSE circular for Diwali 2019"),
    _muhurat("2020-11-14", time(18, 15), time(19, 15), "NSE circular for Diwali 2020"),
    _muhurat("2021-11-04", time(18, 15), time(19, 15), "NSE circular for Diwali 2021"),
    _muhurat("2022-10-24", time(18, 15), time(19, 15), "NSE circular for Diwali 2022"),
    _muhurat("2023-11-12", time(18, 15), time(19, 15), "NSE circular for Diwali 2023"),
    _muhurat("2024-11-01", time(18, 0), time(19, 0), "NSE circular for Diwali 2024"),
    _muhurat("2025-10-21", time(13, 45), time(14, 45), "NSE circular for Diwali 2025"),
)


def overrides_for(
    venue: str, table: tuple[SessionOverride, ...] = OVERRIDES
) -> dict[date, SessionOverride]:
    """The overrides that apply to instruments of ``venue``, by day (one per day at most)."""
    out: dict[date, SessionOverride] = {}
    for entry in table:
        if venue in entry.venues:
            if entry.day in out:
                raise ValueError(f"calendar overrides: two entries for {venue} on {entry.day}")
            out[entry.day] = entry
    return out
