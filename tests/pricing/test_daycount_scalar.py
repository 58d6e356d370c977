"""years_between: the pure-Python scalar path of year_fraction, used by the engine and selection."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.engine.greeks import years_to_settlement
from workbench.engine.selection import years_to_expiry
from workbench.pricing import daycount, year_fraction, years_between

naive = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2060, 1, 1))


def _pandas_path(a: datetime, b: datetime) -> float:
    """year_fraction's array path on the same two values (pandas, int64 ns)."""
    return float(year_fraction(np.array([np.datetime64(a, "us")]), np.datetime64(b, "us"))[0])


@given(naive, naive)
def test_bit_identical_to_the_array_path(a: datetime, b: datetime) -> None:
    expected = _pandas_path(a, b)
    assert years_between(a, b) == expected
    assert year_fraction(a, b) == expected  # plain scalars take the fast path
    assert years_to_expiry(a, b.date(), b.time()) == expected
    assert years_to_settlement(a, b.date(), b.time()) == expected


def test_by_hand() -> None:
    assert years_between(datetime(2024, 1, 1), datetime(2025, 1, 1)) == 366 / 365
    assert years_between(datetime(2024, 3, 1, 9, 30), datetime(2024, 3, 1, 9, 31)) == 1 / 525_600
    assert years_between(date(2024, 3, 1), date(2024, 3, 2)) == 1 / 365  # dates are midnight
    assert years_between(datetime(2024, 3, 2), datetime(2024, 3, 1)) == 0.0  # never negative
    one_us = datetime(2024, 3, 1) + timedelta(microseconds=1)
    assert years_between(datetime(2024, 3, 1), one_us) == 1_000 / daycount.NS_PER_YEAR
    # expiry day after the settlement time: expired
    assert years_to_expiry(datetime(2024, 1, 4, 15, 31), date(2024, 1, 4), time(15, 30)) == 0.0


def test_pandas_and_numpy_scalars_keep_the_pandas_path() -> None:
    # a Timestamp carries nanoseconds a datetime cannot: it is not taken for a plain datetime
    a = pd.Timestamp("2024-03-01 09:30:00.000000001")
    assert year_fraction(a, datetime(2024, 3, 1, 9, 31)) == (60e9 - 1) / daycount.NS_PER_YEAR
    assert np.isnan(year_fraction(np.datetime64("NaT"), datetime(2024, 3, 1)))


def test_aware_and_non_datetime_values_are_refused_by_name() -> None:
    aware = datetime(2024, 3, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="expiry: time-zone-aware"):
        years_between(datetime(2024, 3, 1), aware)
    with pytest.raises(ValueError, match="valuation: time-zone-aware"):
        years_between(aware, datetime(2024, 3, 1))
    with pytest.raises(TypeError, match="valuation: expected a datetime"):
        years_between("2024-03-01", datetime(2024, 3, 1))  # type: ignore[arg-type]
