"""Bid/ask construction: ordering, tick grid, no-quote semantics, widening."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.data.synth.quotes import (
    QuoteParams,
    bid_ask,
    tick_decimals,
    trade_probability,
    traded_price,
)

TICK = 0.05


@settings(max_examples=80, deadline=None)
@given(
    mid=st.lists(st.floats(0.0, 5000.0), min_size=1, max_size=50),
    x=st.floats(-6.0, 6.0),
    days=st.floats(0.0, 60.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_bid_le_mid_le_ask_on_the_tick_grid(
    mid: list[float], x: float, days: float, seed: int
) -> None:
    m = np.array(mid)
    bid, ask = bid_ask(
        QuoteParams(),
        m,
        np.full(m.shape, x),
        np.full(m.shape, days),
        TICK,
        np.random.default_rng(seed),
    )
    quoted = ~np.isnan(bid)
    assert np.all(bid[quoted] >= TICK - 1e-9)  # NaN = no bid; never a zero or negative bid
    assert np.all(bid[quoted] <= m[quoted] + 1e-9)
    assert np.all(ask >= m - 1e-9)
    assert np.all(ask >= TICK - 1e-9)
    assert np.all(ask - np.where(quoted, bid, 0.0) >= TICK - 1e-9)
    for prices in (bid[quoted], ask, traded_price(m, TICK)):
        assert np.allclose(prices / TICK, np.round(prices / TICK), atol=1e-6)
        assert np.array_equal(prices, np.round(prices, 2))  # 123.45, not 123.45000000000002
    close = traded_price(m, TICK)
    assert np.all(close >= TICK - 1e-9)
    assert np.all(close <= ask + 1e-9)


def test_spread_widens_away_from_the_money_and_towards_expiry() -> None:
    params = QuoteParams(noise_sd=0.0)
    rng = np.random.default_rng(0)
    mid = np.full(4, 100.0)
    bid, ask = bid_ask(params, mid, np.array([0.0, 1.0, 2.0, 4.0]), np.full(4, 10.0), TICK, rng)
    spread = ask - bid
    assert np.all(np.diff(spread) >= 0) and spread[-1] > spread[0]
    bid, ask = bid_ask(
        params, np.full(3, 20.0), np.full(3, 2.0), np.array([30.0, 3.0, 0.0]), TICK, rng
    )
    spread = ask - bid
    assert np.all(np.diff(spread) >= 0) and spread[-1] > spread[0]


def test_tick_decimals() -> None:
    assert [tick_decimals(t) for t in (0.05, 0.5, 1.0, 0.01, 0.25)] == [2, 1, 0, 2, 2]


def test_worthless_option_has_an_ask_and_no_bid() -> None:
    bid, ask = bid_ask(
        QuoteParams(),
        np.array([0.001]),
        np.array([5.0]),
        np.array([1.0]),
        TICK,
        np.random.default_rng(1),
    )
    assert np.isnan(bid[0]) and ask[0] >= TICK


def test_trade_probability_is_one_at_the_money_and_decays() -> None:
    p = trade_probability(QuoteParams(), np.array([0.0, 0.5, 2.0, 4.0, 10.0]))
    assert p[0] == 1.0 and p[1] == 1.0
    assert np.all(np.diff(p) <= 0) and p[-1] == QuoteParams().min_trade_prob
