"""Series lookups against a brute-force reference of the (price, lag) rule."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.data.series import Series, clock_to_ns


def reference(
    ts: list[int], close: list[float], clock: list[int], i: int
) -> tuple[float, int | None]:
    """The DESIGN.md rule, by brute force: last bar at or before the tick; lag in ticks since
    the first tick at or after that bar's time."""
    seen = [j for j, t in enumerate(ts) if t <= clock[i]]
    if not seen:
        return math.nan, None
    j = seen[-1]
    first = min(k for k, c in enumerate(clock) if c >= ts[j])
    return close[j], i - first


times = st.lists(st.integers(0, 200), min_size=0, max_size=30, unique=True).map(sorted)


@settings(max_examples=200, deadline=None)
@given(bar_times=times, tick_times=times.filter(bool))
def test_price_at_matches_reference(bar_times: list[int], tick_times: list[int]) -> None:
    close = [100.0 + t for t in bar_times]
    series = Series(
        "X",
        np.asarray(bar_times, dtype=np.int64),
        {"close": np.asarray(close), "bid": np.asarray(close) - 1},
        np.asarray(tick_times, dtype=np.int64),
    )
    for i in range(len(tick_times)):
        want = reference(bar_times, close, tick_times, i)
        got = series.price_at(i)
        if want[1] is None:
            assert math.isnan(got[0]) and got[1] is None
            assert series.row_at(i) == -1 and series.lag_at(i) is None
        else:
            assert got == want
            assert series.lag_by_tick[i] == want[1]
            assert series.price_at(i, "bid") == (want[0] - 1, want[1])


def test_missing_columns_are_nan_and_zero() -> None:
    s = Series(
        "SPOT",
        np.array([5], dtype=np.int64),
        {"close": np.array([1.0])},
        np.array([5], dtype=np.int64),
    )
    assert math.isnan(s.bid[0]) and s.oi[0] == 0
    assert s.price_at(0) == (1.0, 0)


def test_bars_out_of_order_are_refused() -> None:
    with pytest.raises(ValueError, match="not strictly increasing"):
        Series(
            "X",
            np.array([2, 1], dtype=np.int64),
            {"close": np.zeros(2)},
            np.array([3], dtype=np.int64),
        )


def test_clock_validation() -> None:
    with pytest.raises(ValueError, match="one-dimensional"):
        clock_to_ns(np.zeros((2, 2), dtype=np.int64))
    with pytest.raises(ValueError, match="strictly increasing: tick 2"):
        clock_to_ns([1, 2, 2])
    with pytest.raises(ValueError, match="clock must hold timestamps"):
        clock_to_ns(["not a time"])
