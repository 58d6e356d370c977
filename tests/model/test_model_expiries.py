"""Expiry calendars against known real expiry dates and real listed chains."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from workbench.model import (
    CalendarRangeError,
    ExpiryKind,
    UnknownInstrumentError,
    expiries_between,
    expiry_kind,
    get_instrument,
    instruments,
    is_expiry,
    is_trading_day,
    listed_expiries,
    monthly_expiry,
)


def _d(*texts: str) -> list[date]:
    return [date.fromisoformat(t) for t in texts]


def _thursdays(year: int) -> list[date]:
    d = date(year, 1, 1)
    d += timedelta(days=(3 - d.weekday()) % 7)
    out = []
    while d.year == year:
        out.append(d)
        d += timedelta(days=7)
    return out


def test_nifty_2024_expiries_are_thursdays_with_holiday_shifts() -> None:
    # Every NIFTY expiry of 2024 (weekly and monthly) was a Thursday except the two
    # Thursday holidays: 2024-04-11 (Eid) -> 04-10 and 2024-08-15 -> 08-14.
    expected = [
        date(2024, 4, 10)
        if d == date(2024, 4, 11)
        else date(2024, 8, 14)
        if d == date(2024, 8, 15)
        else d
        for d in _thursdays(2024)
    ]
    assert expiries_between("NIFTY", date(2024, 1, 1), date(2024, 12, 31)) == expected


NIFTY_2024_MONTHLIES = _d(
    "2024-01-25", "2024-02-29", "2024-03-28", "2024-04-25", "2024-05-30", "2024-06-27",
    "2024-07-25", "2024-08-29", "2024-09-26", "2024-10-31", "2024-11-28", "2024-12-26",
)  # fmt: skip


def test_nifty_2024_monthlies() -> None:
    assert [monthly_expiry("NIFTY", 2024, m) for m in range(1, 13)] == NIFTY_2024_MONTHLIES
    for d in expiries_between("NIFTY", date(2024, 1, 1), date(2024, 12, 31)):
        kind = ExpiryKind.MONTHLY if d in NIFTY_2024_MONTHLIES else ExpiryKind.WEEKLY
        assert expiry_kind("NIFTY", d) is kind


def test_nse_tuesday_switch_2025_09() -> None:
    # real 2025-08-29 chains: NIFTY weekly 2025-09-02, BANKNIFTY monthly 2025-09-30 (Tuesdays)
    assert monthly_expiry("NIFTY", 2025, 8) == date(2025, 8, 28)
    assert expiries_between("NIFTY", date(2025, 8, 29), date(2025, 9, 10)) == _d(
        "2025-09-02", "2025-09-09"
    )
    assert monthly_expiry("BANKNIFTY", 2025, 9) == date(2025, 9, 30)
    assert monthly_expiry("NIFTY", 2025, 9) == date(2025, 9, 30)


def test_banknifty_history() -> None:
    # monthlies: last Thursday to 2024-02, last Wednesday 2024-03..12 (Dec 25 holiday -> 24th),
    # last Thursday in 2025 until the Tuesday switch
    assert [monthly_expiry("BANKNIFTY", 2024, m) for m in range(1, 13)] == _d(
        "2024-01-25", "2024-02-29", "2024-03-27", "2024-04-24", "2024-05-29", "2024-06-26",
        "2024-07-31", "2024-08-28", "2024-09-25", "2024-10-30", "2024-11-27", "2024-12-24",
    )  # fmt: skip
    assert monthly_expiry("BANKNIFTY", 2025, 1) == date(2025, 1, 30)
    # Wednesday weeklies from 2023-09-04, none in the monthly week, last one 2024-11-13
    assert expiries_between("BANKNIFTY", date(2023, 9, 1), date(2023, 10, 5)) == _d(
        "2023-09-06", "2023-09-13", "2023-09-20", "2023-09-28", "2023-10-04"
    )
    assert expiries_between("BANKNIFTY", date(2024, 11, 1), date(2024, 12, 31)) == _d(
        "2024-11-06", "2024-11-13", "2024-11-27", "2024-12-24"
    )


def test_finnifty_midcpnifty_weeklies_end_in_november_2024() -> None:
    fin = expiries_between("FINNIFTY", date(2024, 11, 1), date(2025, 1, 31))
    assert fin == _d(
        "2024-11-05", "2024-11-12", "2024-11-19", "2024-11-26", "2024-12-31", "2025-01-30"
    )
    mid = expiries_between("MIDCPNIFTY", date(2024, 11, 1), date(2024, 12, 31))
    assert mid == _d("2024-11-04", "2024-11-11", "2024-11-18", "2024-11-25", "2024-12-30")


def test_sensex_weekday_changes() -> None:
    assert expiries_between("SENSEX", date(2024, 12, 1), date(2024, 12, 31))[-1] == date(
        2024, 12, 27
    )
    assert date(2025, 1, 7) in expiries_between("SENSEX", date(2025, 1, 1), date(2025, 1, 31))
    sep = expiries_between("SENSEX", date(2025, 9, 1), date(2025, 9, 30))
    assert sep == _d("2025-09-04", "2025-09-11", "2025-09-18", "2025-09-25")


SPX_2019 = _d(
    "2019-01-18",
    "2019-02-15",
    "2019-03-15",
    "2019-04-18",
    "2019-05-17",
    "2019-06-21",
    "2019-07-19",
    "2019-08-16",
    "2019-09-20",
    "2019-10-18",
    "2019-11-15",
    "2019-12-20",
)  # fmt: skip  (2019-04-19 was Good Friday)
SPX_2024 = _d(
    "2024-01-19", "2024-02-16", "2024-03-15", "2024-04-19", "2024-05-17", "2024-06-21",
    "2024-07-19", "2024-08-16", "2024-09-20", "2024-10-18", "2024-11-15", "2024-12-20",
)  # fmt: skip


@pytest.mark.parametrize(("year", "expected"), [(2019, SPX_2019), (2024, SPX_2024)])
def test_spx_third_friday_monthlies(year: int, expected: list[date]) -> None:
    assert [monthly_expiry("SPX", year, m) for m in range(1, 13)] == expected
    assert expiries_between("SPX", date(year, 1, 1), date(year, 12, 31)) == expected


def test_spx_good_friday_2025_moves_to_thursday() -> None:
    assert monthly_expiry("SPX", 2025, 4) == date(2025, 4, 17)
    assert expiry_kind("SPX", date(2025, 4, 17)) is ExpiryKind.MONTHLY


def test_spxw_dailies() -> None:
    # 2019: Mon/Wed/Fri weeklies, EOM on Friday 2019-05-31; the Memorial Day Monday weekly
    # expired on Tuesday 2019-05-28 (real CBOE chain of 2019-05-03)
    assert expiries_between("SPXW", date(2019, 5, 20), date(2019, 5, 31)) == _d(
        "2019-05-20", "2019-05-22", "2019-05-24", "2019-05-28", "2019-05-29", "2019-05-31"
    )
    # EOM on a Tuesday: 2019-12-31
    assert is_expiry("SPXW", date(2019, 12, 31))
    # 2023: every weekday
    week = expiries_between("SPXW", date(2023, 6, 12), date(2023, 6, 18))
    assert week == _d("2023-06-12", "2023-06-13", "2023-06-14", "2023-06-15", "2023-06-16")
    # 2023-06-19 Juneteenth: the Monday daily moves to Tuesday (merges with Tuesday's)
    assert expiries_between("SPXW", date(2023, 6, 19), date(2023, 6, 21)) == _d(
        "2023-06-20", "2023-06-21"
    )
    assert expiry_kind("SPXW", date(2023, 6, 16)) is ExpiryKind.MONTHLY
    assert expiry_kind("SPXW", date(2023, 6, 15)) is ExpiryKind.WEEKLY


def test_spxw_dailies_start_2022() -> None:
    before = expiries_between("SPXW", date(2022, 3, 7), date(2022, 3, 11))
    assert before == _d("2022-03-07", "2022-03-09", "2022-03-11")
    after = expiries_between("SPXW", date(2022, 5, 9), date(2022, 5, 13))
    assert after == _d("2022-05-09", "2022-05-10", "2022-05-11", "2022-05-12", "2022-05-13")


def test_nifty_listing_matches_real_chain_2025_08_29() -> None:
    # the 18 expiries of the real NSE NIFTY chain of 2025-08-29, except 2026-03-31, which NSE
    # later declared a holiday (XBOM has it), so the contract expires 2026-03-30
    real = _d(
        "2025-09-02", "2025-09-09", "2025-09-16", "2025-09-23", "2025-09-30", "2025-10-28",
        "2025-11-25", "2025-12-30", "2026-03-30", "2026-06-30", "2026-12-29", "2027-06-29",
        "2027-12-28", "2028-06-27", "2028-12-26", "2029-06-26", "2029-12-24", "2030-06-25",
    )  # fmt: skip
    assert listed_expiries("NIFTY", date(2025, 8, 29)) == real
    bank = _d("2025-09-30", "2025-10-28", "2025-11-25", "2025-12-30", "2026-03-30", "2026-06-30")
    assert listed_expiries("BANKNIFTY", date(2025, 8, 29)) == bank


def test_spxw_and_spx_listing_match_real_chain_2019_05_03() -> None:
    # real CBOE chain of 2019-05-03 less its quarter-end EOMs 2019-12-31 and 2020-03-31
    spxw = _d(
        "2019-05-03", "2019-05-06", "2019-05-08", "2019-05-10", "2019-05-13", "2019-05-15",
        "2019-05-17", "2019-05-20", "2019-05-22", "2019-05-24", "2019-05-28", "2019-05-29",
        "2019-05-31", "2019-06-03", "2019-06-07", "2019-06-14", "2019-06-21", "2019-06-28",
        "2019-07-05", "2019-07-12", "2019-07-19", "2019-07-31", "2019-08-16", "2019-08-30",
        "2019-09-20", "2019-09-30", "2019-10-18", "2019-10-31",
    )  # fmt: skip
    ours = listed_expiries("SPXW", date(2019, 5, 3))
    assert [d for d in ours if d <= date(2019, 10, 31)] == spxw
    # real SPX root less 2020-01-17
    spx = _d(
        "2019-05-17", "2019-06-21", "2019-07-19", "2019-08-16", "2019-09-20", "2019-10-18",
        "2019-12-20", "2020-03-20", "2020-06-19", "2020-12-18", "2021-12-17",
    )  # fmt: skip
    assert listed_expiries("SPX", date(2019, 5, 3)) == spx


def test_listing_includes_today_and_respects_horizon() -> None:
    on = date(2024, 1, 25)
    listed = listed_expiries("NIFTY", on, horizon_days=14)
    assert listed == _d("2024-01-25", "2024-02-01", "2024-02-08")
    assert listed_expiries("NIFTY", on, horizon_days=0) == [on]
    with pytest.raises(ValueError, match="horizon_days"):
        listed_expiries("NIFTY", on, horizon_days=-1)


def test_banknifty_listing_before_and_after_weekly_discontinuation() -> None:
    assert listed_expiries("BANKNIFTY", date(2024, 11, 4), horizon_days=30) == _d(
        "2024-11-06", "2024-11-13", "2024-11-27"
    )


def test_goldm_monthly_rule_by_hand() -> None:
    # FEB 2024 contract: future expires Mon 2024-02-05; 7 trading days back, skipping the
    # 2024-01-26 holiday: 02-02, 02-01, 01-31, 01-30, 01-29, 01-25, 01-24.
    assert monthly_expiry("GOLDM", 2024, 2) == date(2024, 1, 24)
    assert expiry_kind("GOLDM", date(2024, 1, 24)) is ExpiryKind.MONTHLY
    assert len(listed_expiries("GOLDM", date(2024, 1, 2))) == 3


def test_bad_input() -> None:
    with pytest.raises(ValueError, match=r"month must be 1\.\.12"):
        monthly_expiry("NIFTY", 2024, 13)
    with pytest.raises(CalendarRangeError, match="1990-01"):
        monthly_expiry("NIFTY", 1990, 1)
    with pytest.raises(UnknownInstrumentError, match="'XYZ'"):
        listed_expiries("XYZ", date(2024, 1, 2))
    with pytest.raises(UnknownInstrumentError, match="'XYZ'"):
        expiry_kind("XYZ", date(2024, 1, 2))
    with pytest.raises(CalendarRangeError):
        listed_expiries("NIFTY", date(1999, 1, 1))


NAMES = [spec.name for spec in instruments()]


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(NAMES),
    on=st.dates(min_value=date(2010, 1, 1), max_value=date(2026, 11, 30)),
)
@example(name="SPXW", on=date(2016, 2, 20))  # the Saturday before SPXW Wednesdays began
def test_listed_expiries_invariants(name: str, on: date) -> None:
    listed = listed_expiries(name, on)
    assert listed == sorted(set(listed))
    assert listed and listed[0] >= on
    for e in listed:
        assert e.weekday() < 5
        if e <= date(2026, 12, 31):
            assert is_trading_day(name, e), (name, e)
    # the nearest expiry is the first expiry on or after `on`, unless the venue's rules change
    # in between: an expiry of a weekday launched after `on` is not listed yet on `on` (SPXW
    # Wednesdays from 2016-02-22: on 2016-02-20 the nearest listed is Friday 02-26, not 02-24)
    changes = [start for start, _ in get_instrument(name).expiry_rules if start > on]
    ahead = expiries_between(name, on, on + timedelta(days=60))
    assert listed[0] in ahead
    assert all(changes and changes[0] <= e for e in ahead if e < listed[0]), (listed[0], ahead)
    # every monthly of the next 2 months is listed
    for e in expiries_between(name, on, on + timedelta(days=55)):
        if expiry_kind(name, e) is ExpiryKind.MONTHLY:
            assert e in listed
