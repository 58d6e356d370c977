"""IV percentile and IV rank from past days only (seed 003's score term), by hand."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.engine.ivstats import IvHistory, atm_iv, iv_percentile, iv_rank
from workbench.engine.selection import ChainSnapshot
from workbench.pricing import bs_price


def test_percentile_and_rank_by_hand() -> None:
    past = [0.20, 0.15, 0.30, 0.25, float("nan")]  # the NaN is not an observation
    # below 0.22: 0.20 and 0.15 -> 2 of 4 = 50 %
    assert iv_percentile(0.22, past) == pytest.approx(50.0)
    # equal values are not below: 0.25 -> 0.20, 0.15 -> 50 %
    assert iv_percentile(0.25, past) == pytest.approx(50.0)
    assert iv_percentile(0.31, past) == pytest.approx(100.0)
    # rank: (0.22 - 0.15) / (0.30 - 0.15) = 46.67 %
    assert iv_rank(0.22, past) == pytest.approx(100 * 0.07 / 0.15)
    assert iv_rank(0.40, past) == 100.0 and iv_rank(0.10, past) == 0.0
    assert iv_rank(0.2, [0.3, 0.3]) == 50.0
    assert iv_percentile(0.2, []) is None and iv_rank(0.2, []) is None
    assert iv_percentile(0.2, past, min_history=5) is None
    assert iv_percentile(float("nan"), past) is None


def test_history_answers_from_earlier_days_only() -> None:
    h = IvHistory(window=3, min_history=1)
    d0 = date(2024, 1, 1)
    for i, iv in enumerate([0.10, 0.20, 0.30, 0.40]):
        h.observe(d0 + timedelta(days=i), iv)
    # for day 3 (0.40 observed that day) the past is days 0..2, last 3: 0.10, 0.20, 0.30
    assert h.past(d0 + timedelta(days=3)) == [0.10, 0.20, 0.30]
    assert h.percentile(d0 + timedelta(days=3), 0.25) == pytest.approx(100 * 2 / 3)
    # a later day's window is the last three before it: 0.20, 0.30, 0.40
    assert h.past(d0 + timedelta(days=9)) == [0.20, 0.30, 0.40]
    assert h.past(d0) == [] and h.percentile(d0, 0.2) is None
    h.observe(d0 + timedelta(days=3), 0.45)  # the same day again replaces it
    assert h.past(d0 + timedelta(days=4))[-1] == 0.45
    with pytest.raises(ValueError, match="before"):
        h.observe(d0, 0.2)
    with pytest.raises(ValueError, match="window"):
        IvHistory(window=0)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0.05, 1.0), min_size=2, max_size=40),
    st.integers(1, 39),
    st.floats(0.05, 1.0),
)
def test_a_later_observation_never_changes_an_earlier_answer(
    ivs: list[float], cut: int, changed: float
) -> None:
    """Perturb every observation from day ``cut`` on: answers for days up to ``cut`` are
    unchanged (no look-ahead)."""
    cut = min(cut, len(ivs) - 1)
    d0 = date(2024, 1, 1)
    a, b = IvHistory(window=10, min_history=1), IvHistory(window=10, min_history=1)
    for i, iv in enumerate(ivs):
        a.observe(d0 + timedelta(days=i), iv)
        b.observe(d0 + timedelta(days=i), iv if i < cut else changed)
    for i in range(cut + 1):
        day = d0 + timedelta(days=i)
        assert a.percentile(day, 0.3) == b.percentile(day, 0.3)
        assert a.rank(day, 0.3) == b.rank(day, 0.3)


def test_atm_iv_of_a_chain_implies_from_mid_at_the_strike_nearest_spot() -> None:
    spot, tte = 101.0, 30 / 365
    strikes = [95.0, 100.0, 105.0]
    rows = [(k, r) for k in strikes for r in ("C", "P")]
    sigma = {95.0: 0.25, 100.0: 0.20, 105.0: 0.18}
    mids = np.array(
        [
            float(bs_price(np.array([spot]), np.array([k]), np.array([tte]), np.array([0.0]),
                           np.array([sigma[k]]), np.array([r == "C"]))[0])
            for k, r in rows
        ]
    )  # fmt: skip
    snap = ChainSnapshot.build(
        underlying="SPY", ts=datetime(2024, 3, 1, 16), spot=101.0, expiry=date(2024, 3, 31),
        tte=tte, strike=[k for k, _ in rows], right=[r for _, r in rows], bid=mids - 0.01,
        ask=mids + 0.01, close=mids,
    )  # fmt: skip
    # nearest strike to 101 is 100, whose call and put were priced at 20 % volatility
    assert atm_iv(snap) == pytest.approx(0.20, abs=1e-6)
    with_iv = ChainSnapshot.build(
        underlying="SPY", ts=datetime(2024, 3, 1, 16), spot=101.0, expiry=date(2024, 3, 31),
        tte=tte, strike=[k for k, _ in rows], right=[r for _, r in rows], bid=mids - 0.01,
        ask=mids + 0.01, close=mids, iv=[0.3, 0.2, 0.22, 0.24, 0.4, 0.5],
    )  # fmt: skip
    assert atm_iv(with_iv) == pytest.approx((0.22 + 0.24) / 2)
