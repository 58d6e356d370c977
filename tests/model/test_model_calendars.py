"""Trading calendars and sessions, checked against the exchanges' published holiday lists."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from workbench.model import (
    CalendarRangeError,
    UnknownInstrumentError,
    is_trading_day,
    next_trading_day,
    previous_trading_day,
    session_bounds,
    trading_calendar,
    trading_days,
)


def _weekday_holidays(underlying: str, year: int) -> list[str]:
    """Weekdays without a regular session (an exchange's holiday list counts the Diwali day of a
    one-hour Muhurat session as a holiday)."""
    regular = set(trading_days(underlying, date(year, 1, 1), date(year, 12, 31), special=False))
    out = []
    d = date(year, 1, 1)
    while d.year == year:
        if d.weekday() < 5 and d not in regular:
            out.append(d.isoformat())
        d += timedelta(days=1)
    return out


# NSE trading holidays on weekdays, from NSE's annual holiday circulars (2024 includes the
# special closures of 2024-01-22, 2024-05-20 and 2024-11-20).
NSE_2024 = [
    "2024-01-22", "2024-01-26", "2024-03-08", "2024-03-25", "2024-03-29", "2024-04-11",
    "2024-04-17", "2024-05-01", "2024-05-20", "2024-06-17", "2024-07-17", "2024-08-15",
    "2024-10-02", "2024-11-01", "2024-11-15", "2024-11-20", "2024-12-25",
]  # fmt: skip
NSE_2025 = [
    "2025-02-26", "2025-03-14", "2025-03-31", "2025-04-10", "2025-04-14", "2025-04-18",
    "2025-05-01", "2025-08-15", "2025-08-27", "2025-10-02", "2025-10-21", "2025-10-22",
    "2025-11-05", "2025-12-25",
]  # fmt: skip
NYSE_2019 = [
    "2019-01-01", "2019-01-21", "2019-02-18", "2019-04-19", "2019-05-27", "2019-07-04",
    "2019-09-02", "2019-11-28", "2019-12-25",
]  # fmt: skip


@pytest.mark.parametrize(
    ("underlying", "year", "expected"),
    [("NIFTY", 2024, NSE_2024), ("BANKNIFTY", 2025, NSE_2025), ("SPX", 2019, NYSE_2019)],
)
def test_holidays_match_exchange_lists(underlying: str, year: int, expected: list[str]) -> None:
    assert _weekday_holidays(underlying, year) == expected


def test_2025_08_27_is_an_nse_holiday() -> None:
    assert not is_trading_day("NIFTY", date(2025, 8, 27))
    assert is_trading_day("NIFTY", date(2025, 8, 29))


def test_trading_days_inclusive_and_sorted() -> None:
    days = trading_days("NIFTY", date(2024, 4, 8), date(2024, 4, 19))
    assert days == [
        date(2024, 4, 8), date(2024, 4, 9), date(2024, 4, 10), date(2024, 4, 12),
        date(2024, 4, 15), date(2024, 4, 16), date(2024, 4, 18), date(2024, 4, 19),
    ]  # fmt: skip
    assert trading_days("SPX", date(2019, 7, 4), date(2019, 7, 4)) == []
    assert len(trading_days("SPX", date(2019, 1, 1), date(2019, 12, 31))) == 252


def test_trading_days_rejects_reversed_range() -> None:
    with pytest.raises(ValueError, match="before start"):
        trading_days("NIFTY", date(2024, 2, 1), date(2024, 1, 1))


def test_previous_and_next_trading_day() -> None:
    assert previous_trading_day("NIFTY", date(2024, 4, 12)) == date(2024, 4, 10)
    assert next_trading_day("SPX", date(2019, 7, 3)) == date(2019, 7, 5)


def test_session_bounds() -> None:
    assert session_bounds("NIFTY", date(2024, 1, 2)) == (
        datetime(2024, 1, 2, 9, 15),
        datetime(2024, 1, 2, 15, 30),
    )
    assert session_bounds("SPXW", date(2024, 1, 2)) == (
        datetime(2024, 1, 2, 9, 30),
        datetime(2024, 1, 2, 16, 0),
    )
    # NYSE early close the day after Thanksgiving
    assert session_bounds("SPX", date(2024, 11, 29))[1] == datetime(2024, 11, 29, 13, 0)
    assert session_bounds("GOLDM", date(2024, 1, 2)) == (
        datetime(2024, 1, 2, 9, 0),
        datetime(2024, 1, 2, 23, 30),
    )


def test_session_bounds_on_a_holiday_names_the_day() -> None:
    with pytest.raises(ValueError, match=r"2024-04-11 is not a XBOM trading day"):
        session_bounds("NIFTY", date(2024, 4, 11))


def test_dates_outside_the_calendar_raise() -> None:
    with pytest.raises(CalendarRangeError, match="2030-01-02"):
        is_trading_day("NIFTY", date(2030, 1, 2))
    with pytest.raises(CalendarRangeError, match="XNYS"):
        trading_days("SPX", date(1989, 1, 1), date(2000, 1, 1))


def test_unknown_underlying_in_calendar_functions() -> None:
    with pytest.raises(UnknownInstrumentError, match="'NOPE'"):
        is_trading_day("NOPE", date(2024, 1, 2))
    with pytest.raises(UnknownInstrumentError, match="'NOPE'"):
        session_bounds("NOPE", date(2024, 1, 2))


def test_bad_date_type_is_named() -> None:
    with pytest.raises(TypeError, match="day must be a date"):
        is_trading_day("NIFTY", 20240102)  # type: ignore[arg-type]


def test_calendar_is_cached() -> None:
    assert trading_calendar("NIFTY") is trading_calendar("BANKNIFTY")
    assert trading_calendar("SPX").name == "XNYS"


def test_one_reading_of_a_day_across_layers() -> None:
    from datetime import datetime

    from workbench.model.dates import DateInputError, as_date

    assert as_date(" 2024-01-02 ") == date(2024, 1, 2)
    assert as_date(datetime(2024, 1, 2, 15, 30)) == date(2024, 1, 2)
    for bad in ("2024-13-01", 20240102, None):
        with pytest.raises(DateInputError, match=r"start must be a date \(YYYY-MM-DD\)"):
            as_date(bad, "start")
    assert issubclass(DateInputError, TypeError) and issubclass(DateInputError, ValueError)
