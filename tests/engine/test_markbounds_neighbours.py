"""``bound_mark`` finds its quoted neighbours once per snapshot (issue 13); the bounds are those
of the nearest quoted strikes below and above, found here by a plain scan of every row."""

from __future__ import annotations

import math
from datetime import date, datetime

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from workbench.engine.markbounds import bound_mark
from workbench.engine.selection import ChainSnapshot


def _reference(rows: list[tuple[float, bool, float, float]], strike: float, is_call: bool):
    """(low, high) from a plain scan, or None when no quoted neighbour exists."""
    below = above = None
    for k, call, bid, ask in rows:
        usable = math.isfinite(bid) and math.isfinite(ask) and bid >= 0 and ask > 0 and ask >= bid
        if call != is_call or not usable or k == strike:
            continue
        mid = (bid + ask) / 2.0
        if k < strike and (below is None or k > below[0]):
            below = (k, mid)
        if k > strike and (above is None or k < above[0]):
            above = (k, mid)
    if below is None and above is None:
        return None
    lows, highs = [0.0], []
    if below is not None:
        k, m = below
        if is_call:
            highs.append(m)
            lows.append(m - (strike - k))
        else:
            lows.append(m)
            highs.append(m + (strike - k))
    if above is not None:
        k, m = above
        if is_call:
            lows.append(m)
            highs.append(m + (k - strike))
        else:
            highs.append(m)
            lows.append(m - (k - strike))
    return max(lows), (min(highs) if highs else math.inf)


quote = st.one_of(st.just(math.nan), st.floats(0, 60, allow_nan=False).map(lambda x: round(x, 2)))


@given(
    rows=st.dictionaries(
        st.tuples(st.integers(1, 40).map(lambda k: 2900.0 + 5 * k), st.booleans()),
        st.tuples(quote, quote),
        min_size=1,
        max_size=40,
    ),
    strike=st.integers(0, 41).map(lambda k: 2900.0 + 5 * k),
    is_call=st.booleans(),
    mark=st.one_of(st.just(math.nan), st.floats(0, 80, allow_nan=False)),
    shuffle=st.randoms(use_true_random=False),
)
def test_bounds_are_the_nearest_quoted_neighbours(rows, strike, is_call, mark, shuffle) -> None:
    items = [(k, call, bid, ask) for (k, call), (bid, ask) in rows.items()]
    shuffle.shuffle(items)  # any row order
    snap = ChainSnapshot.build(
        underlying="SPX",
        ts=datetime(2019, 5, 1, 16),
        spot=2950.0,
        expiry=date(2019, 5, 17),
        tte=0.04,
        strike=[r[0] for r in items],
        right=["C" if r[1] else "P" for r in items],
        bid=[r[2] for r in items],
        ask=[r[3] for r in items],
    )
    want = _reference(items, strike, is_call)
    for _ in range(2):  # the neighbours found once serve the second call too
        got = bound_mark(snap, strike, is_call, mark)
        if want is None:
            assert got is None
            continue
        low, high = want
        if got is None:  # inside the bounds: kept
            assert mark == mark and low <= high and low <= mark <= high
            continue
        assert (got.low, got.high) == (low, high)
        if low > high:
            assert got.value == (low + high) / 2.0
        elif mark != mark:
            assert got.value == (low if math.isinf(high) else (low + high) / 2.0)
        else:
            assert got.value == (low if mark < low else high)
    assert np.isfinite(snap.strike).all()


@given(
    rows=st.dictionaries(
        st.tuples(st.integers(1, 40).map(lambda k: 2900.0 + 5 * k), st.booleans()),
        st.tuples(quote, quote),
        min_size=1,
        max_size=40,
    ),
    legs=st.lists(
        st.tuples(
            st.integers(0, 41).map(lambda k: 2900.0 + 5 * k),
            st.one_of(st.just(math.nan), st.floats(0, 80, allow_nan=False)),
        ),
        min_size=1,
        max_size=30,
    ),
    is_call=st.booleans(),
)
def test_marks_inside_bounds_for_a_chain_at_once(rows, legs, is_call) -> None:
    """The day-end pre-check: ``True`` exactly where the mark is strictly inside the nearest
    quoted neighbours' bounds or no neighbour exists (then ``bound_mark`` keeps it); marks
    exactly on a bound and NaN marks go to ``bound_mark``."""
    from workbench.engine.markbounds import marks_inside_bounds

    items = [(k, call, bid, ask) for (k, call), (bid, ask) in rows.items()]
    snap = ChainSnapshot.build(
        underlying="SPX",
        ts=datetime(2019, 5, 1, 16),
        spot=2950.0,
        expiry=date(2019, 5, 17),
        tte=0.04,
        strike=[r[0] for r in items],
        right=["C" if r[1] else "P" for r in items],
        bid=[r[2] for r in items],
        ask=[r[3] for r in items],
    )
    cases = []
    for strike, mark in legs:
        cases.append((strike, mark))
        want = _reference(items, strike, is_call)
        if want is not None:  # on each bound too
            cases += [(strike, want[0]), (strike, want[1])]
    got = marks_inside_bounds(
        snap, np.array([k for k, _ in cases]), is_call, np.array([m for _, m in cases])
    )
    for (strike, mark), inside in zip(cases, got.tolist(), strict=True):
        want = _reference(items, strike, is_call)
        assert inside == (want is None or want[0] < mark < want[1]), (strike, mark, want)
        if inside:
            assert bound_mark(snap, strike, is_call, mark) is None
