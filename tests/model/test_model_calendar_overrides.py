"""Real sessions are not holidays: the registry's dated calendar overrides.

exchange_calendars' XBOM lacks NSE's special sessions (the 2024 weekend sessions, the
2020-02-01 budget day, Muhurat hours) and kept the original date of the 2013 Muharram holiday
after NSE moved it. The overrides are applied by trading days, session bounds and windows and
the expiry calendar.
"""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from workbench.model import calendars
from workbench.model.calendar_overrides import OVERRIDES, SessionOverride, overrides_for


def _dt(d: date, hhmm: str) -> datetime:
    h, m = hhmm.split(":")
    return datetime.combine(d, time(int(h), int(m)))


@pytest.mark.parametrize(
    ("day", "windows"),
    [
        (date(2024, 1, 20), [("09:15", "15:30")]),  # Saturday full session
        (date(2024, 3, 2), [("09:15", "10:00"), ("11:30", "12:30")]),  # DR test, two parts
        (date(2024, 5, 18), [("09:15", "10:00"), ("11:30", "12:30")]),
        (date(2020, 2, 1), [("09:15", "15:30")]),  # Budget Saturday
        (date(2024, 11, 1), [("18:00", "19:00")]),  # Muhurat
        (date(2023, 11, 12), [("18:15", "19:15")]),  # Muhurat on a Sunday
        (date(2025, 10, 21), [("13:45", "14:45")]),  # the afternoon Muhurat of 2025
        (date(2013, 11, 14), [("09:15", "15:30")]),  # the Muharram holiday moved away
    ],
)
def test_special_sessions_are_trading_days_with_their_hours(
    day: date, windows: list[tuple[str, str]]
) -> None:
    for underlying in ("NIFTY", "BANKNIFTY", "SENSEX"):
        assert calendars.is_trading_day(underlying, day)
        got = calendars.session_windows(underlying, day)
        assert got == [(_dt(day, a), _dt(day, b)) for a, b in windows]
        assert calendars.session_bounds(underlying, day) == (got[0][0], got[-1][1])
    assert day in calendars.trading_days("NIFTY", day, day)


def test_the_reverse_a_session_the_calendar_lists_but_nse_did_not_hold() -> None:
    assert not calendars.is_trading_day("NIFTY", date(2013, 11, 15))
    assert calendars.next_trading_day("NIFTY", date(2013, 11, 14)) == date(2013, 11, 18)
    with pytest.raises(ValueError, match="2013-11-15 is not a XBOM trading day"):
        calendars.session_bounds("NIFTY", date(2013, 11, 15))


def test_overrides_apply_to_their_venues_only() -> None:
    # MCX trades on XBOM's days too, but these sessions are the equity segments'
    assert not calendars.is_trading_day("GOLDM", date(2024, 1, 20))
    assert calendars.is_trading_day("SPX", date(2024, 1, 19))
    assert not calendars.is_trading_day("SPX", date(2024, 1, 20))


def test_special_sessions_never_host_an_expiry() -> None:
    # BANKNIFTY weekly of the Diwali week 2018: Thursday 8 November (Balipratipada) was a
    # holiday and Wednesday 7 November had only the Muhurat hour: it expired on Tuesday 6.
    assert date(2018, 11, 6) in calendars.expiries_between(
        "BANKNIFTY", date(2018, 11, 5), date(2018, 11, 9)
    )
    assert not calendars.is_expiry("BANKNIFTY", date(2018, 11, 7))
    # NIFTY weekly of Diwali 2021: Thursday 4 November was the Muhurat day -> Wednesday 3
    assert calendars.expiries_between("NIFTY", date(2021, 11, 1), date(2021, 11, 5)) == [
        date(2021, 11, 3)
    ]


def test_regular_days_leave_out_special_sessions_only() -> None:
    every = calendars.trading_days("NIFTY", date(2024, 1, 15), date(2024, 3, 5))
    regular = calendars.trading_days("NIFTY", date(2024, 1, 15), date(2024, 3, 5), special=False)
    assert sorted(set(every) - set(regular)) == [date(2024, 1, 20), date(2024, 3, 2)]
    # a correction is a regular session
    assert date(2013, 11, 14) in calendars.trading_days(
        "NIFTY", date(2013, 11, 14), date(2013, 11, 14), special=False
    )
    assert calendars.is_special_session("NIFTY", date(2024, 3, 2))
    assert not calendars.is_special_session("NIFTY", date(2013, 11, 14))


def test_the_table_is_well_formed() -> None:
    by_day = overrides_for("NSE")
    assert len(by_day) == len(OVERRIDES)  # one entry per day
    for entry in OVERRIDES:
        assert entry.source and entry.note
        if entry.kind == "session" and entry.special:
            assert (
                entry.day.weekday() >= 5 or entry.close <= time(15, 30) or entry.open >= time(13, 0)
            )
    with pytest.raises(ValueError, match="ascending"):
        SessionOverride(
            date(2030, 1, 5), "session", frozenset({"NSE"}), "n", "s", ((time(12), time(11)),)
        )
    with pytest.raises(ValueError, match="needs its hours"):
        SessionOverride(date(2030, 1, 5), "session", frozenset({"NSE"}), "n", "s")
