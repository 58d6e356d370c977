"""The clock check's one-tick shortcut (end-of-day runs) agrees with its general checks."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.engine.errors import ChronologyError
from workbench.engine.simulator import _checked_clock

DAY_NS = 86_400 * 10**9


def _on_day(ns: int, day: date) -> bool:
    """Independent: NumPy's own calendar day of the timestamp."""
    return bool(np.datetime64(ns, "ns").astype("datetime64[D]") == np.datetime64(day, "D"))


@given(
    day=st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)),
    offset=st.integers(min_value=-2 * DAY_NS, max_value=3 * DAY_NS),
)
def test_one_tick_is_accepted_exactly_on_its_day(day: date, offset: int) -> None:
    midnight = int(np.datetime64(day, "ns").astype(np.int64))
    ns = np.array([midnight + offset], dtype=np.int64)
    if _on_day(midnight + offset, day):
        assert _checked_clock(ns, day).tolist() == ns.tolist()
    else:
        with pytest.raises(ChronologyError, match="is not on the session day"):
            _checked_clock(ns, day)


@pytest.mark.parametrize("offset", [-1, 0, DAY_NS - 1, DAY_NS])
def test_midnight_edges(offset: int) -> None:
    day = date(2019, 3, 5)
    midnight = int(np.datetime64(day, "ns").astype(np.int64))
    ns = np.array([midnight + offset], dtype=np.int64)
    if 0 <= offset < DAY_NS:
        assert _checked_clock(ns, day)[0] == midnight + offset
    else:
        with pytest.raises(ChronologyError, match="tick 0"):
            _checked_clock(ns, day)
    # and a day before 1970 (floor division of negative nanoseconds)
    old = date(1969, 12, 31)
    first = int(np.datetime64(old, "ns").astype(np.int64))
    assert _checked_clock(np.array([first], dtype=np.int64), old)[0] == first
    with pytest.raises(ChronologyError):
        _checked_clock(np.array([first - 1], dtype=np.int64), old)
    with pytest.raises(ChronologyError):
        _checked_clock(np.array([first], dtype=np.int64), old + timedelta(days=1))
