"""``implied_book_greeks``: a book's Greeks in one compiled pass, the same bits as leg by leg."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.pricing import bs_price, implied_greeks_one
from workbench.pricing.implied import implied_book_greeks

legs = st.lists(
    st.tuples(
        st.sampled_from([80.0, 100.0, 125.0, math.nan, 0.0]),  # spot (not every one usable)
        st.floats(60.0, 160.0),  # strike
        st.sampled_from([0.0, -0.01, 1e-4, 0.02, 0.5, 2.0]),  # years (expired ones too)
        st.floats(0.05, 1.5),  # vol the price is made from
        st.sampled_from([1.0, 0.5, 1e-9, -1.0]),  # price scale (below intrinsic, zero...)
        st.booleans(),
        st.sampled_from([-300.0, -100.0, 100.0, 250.0]),
    ),
    max_size=40,
)


def _loop(rows: list[tuple], rate: float, start: tuple[float, ...]) -> tuple[float, ...]:
    """Leg by leg in Python: :func:`implied_greeks_one`, the payoff delta when expired."""
    totals = list(start)
    for spot, k, t, _vol, _scale, call, u, price in rows:
        if not (math.isfinite(spot) and spot > 0):
            continue
        if t <= 0:
            m = spot - k if call else k - spot
            d = 1.0 if m > 0 else (0.0 if m < 0 else 0.5)
            values = (d if call else -d, 0.0, 0.0, 0.0)
        else:
            values = implied_greeks_one(price, spot, k, t, rate, call)[1:]
        for j, v in enumerate(values):
            if v == v:
                totals[j] += u * v
    return tuple(totals)


@settings(max_examples=150, deadline=None)
@given(legs, st.sampled_from([0.0, 0.043]), st.floats(-50.0, 50.0))
def test_equals_the_legs_one_by_one(raw: list[tuple], rate: float, delta0: float) -> None:
    rows = []
    for spot, k, t, vol, scale, call, u in raw:
        s = spot if math.isfinite(spot) and spot > 0 else 100.0
        fair = float(bs_price(s, k, max(t, 1e-6), rate, vol, call))
        rows.append((spot, k, t, vol, scale, call, u, fair * scale))
    start = (delta0, 0.0, 0.0, 0.0)
    got = implied_book_greeks(
        np.array([r[7] for r in rows], dtype=float),
        np.array([r[0] for r in rows], dtype=float),
        np.array([r[1] for r in rows], dtype=float),
        np.array([r[2] for r in rows], dtype=float),
        rate,
        np.array([r[5] for r in rows], dtype=bool),
        np.array([r[6] for r in rows], dtype=float),
        start,
    )
    assert got == _loop(rows, rate, start)  # exact


def test_an_expired_leg_at_the_money_has_half_a_delta() -> None:
    one = np.ones(1)
    got = implied_book_greeks(one * 7.0, one * 100.0, one * 100.0, one * 0.0, 0.0,
                              np.array([False]), one * -100.0)  # fmt: skip
    assert got == (50.0, 0.0, 0.0, 0.0)


def test_arrays_of_different_lengths_are_refused_by_name() -> None:
    one = np.ones(1)
    with pytest.raises(ValueError, match="units has shape"):
        implied_book_greeks(one, one, one, one, 0.0, np.ones(1, dtype=bool), np.ones(2))
