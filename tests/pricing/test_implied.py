"""Implied volatility: high-precision hard cases (mpmath), round trips, bounds, bad input."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from workbench.pricing import (
    black76_implied_vol,
    black76_price,
    bs_greeks,
    bs_price,
    implied_vol,
)
from workbench.pricing.inputs import PARALLEL_MIN_SIZE_IV

MINUTE = 1.0 / (365.0 * 1440.0)


def _mp_price(
    S: float, K: float, T: float, r: float, q: float, sigma: float, is_call: bool
) -> float:
    """The exact Black-Scholes-Merton price of the double inputs, rounded once to double."""
    with mpmath.workdps(50):
        S_, K_, T_, r_, q_, s_ = (mpmath.mpf(v) for v in (S, K, T, r, q, sigma))
        fwd = S_ * mpmath.exp((r_ - q_) * T_)
        v = s_ * mpmath.sqrt(T_)
        d1 = mpmath.log(fwd / K_) / v + v / 2
        d2 = d1 - v
        df = mpmath.exp(-r_ * T_)
        if is_call:
            value = df * (fwd * mpmath.ncdf(d1) - K_ * mpmath.ncdf(d2))
        else:
            value = df * (K_ * mpmath.ncdf(-d2) - fwd * mpmath.ncdf(-d1))
        return float(value)


def _hard_cases(n: int, seed: int) -> dict[str, np.ndarray]:
    """Deep OTM (up to ~9 standard deviations) and one minute to one day, plus longer dates."""
    rng = np.random.default_rng(seed)
    S = np.full(n, 100.0)
    near = rng.random(n) < 0.6
    T = np.where(
        near,
        np.exp(rng.uniform(math.log(MINUTE), math.log(1440 * MINUTE), n)),
        np.exp(rng.uniform(math.log(2 / 365), math.log(5.0), n)),
    )
    sigma = np.exp(rng.uniform(math.log(0.03), math.log(2.0), n))
    r = rng.uniform(0.0, 0.08, n)
    q = np.where(rng.random(n) < 0.5, 0.0, rng.uniform(0.0, 0.04, n))
    is_call = rng.random(n) < 0.5
    std_devs = rng.uniform(0.0, 9.0, n)
    fwd = S * np.exp((r - q) * T)
    # OTM side: strike above the forward for calls, below for puts
    K = fwd * np.exp(np.where(is_call, 1.0, -1.0) * std_devs * sigma * np.sqrt(T))
    price = np.array(
        [_mp_price(S[i], K[i], T[i], r[i], q[i], sigma[i], bool(is_call[i])) for i in range(n)]
    )
    keep = price >= 1e-18
    return {
        k: v[keep]
        for k, v in {
            "price": price,
            "S": S,
            "K": K,
            "T": T,
            "r": r,
            "q": q,
            "sigma": sigma,
            "is_call": is_call,
        }.items()
    }


@pytest.fixture(scope="module")
def hard_cases() -> dict[str, np.ndarray]:
    return _hard_cases(1500, seed=5)


def test_hard_cases_against_high_precision_prices(hard_cases) -> None:
    c = hard_cases
    assert len(c["price"]) > 1000 and c["price"].min() < 1e-15  # the hard tail is exercised
    iv = implied_vol(c["price"], c["S"], c["K"], c["T"], c["r"], c["is_call"], q=c["q"])
    assert not np.isnan(iv).any()
    worst = np.max(np.abs(iv - c["sigma"]))
    assert worst < 1e-9, worst


def test_hard_cases_in_the_money_through_parity(hard_cases) -> None:
    """The ITM twin (same strike, other right) priced exactly: accuracy limited by its time value."""
    c = hard_cases
    sel = c["T"] < 1.0
    S, K, T, r, q, sigma = (c[k][sel] for k in ("S", "K", "T", "r", "q", "sigma"))
    itm_call = ~c["is_call"][sel]
    price = np.array(
        [
            _mp_price(S[i], K[i], T[i], r[i], q[i], sigma[i], bool(itm_call[i]))
            for i in range(len(S))
        ]
    )
    iv = implied_vol(price, S, K, T, r, itm_call, q=q)
    vega = bs_greeks(S, K, T, r, sigma, itm_call, q=q)["vega"]
    # Rounding of the inputs (an ulp of the price and of the strike-sized intrinsic value)
    # divided by vega bounds what any solver can do with an in-the-money price.
    floor = np.spacing(price + K) / np.maximum(vega, 1e-300)
    ok = floor < 1e-11
    assert ok.sum() > 200
    assert not np.isnan(iv[ok]).any()
    err = np.abs(iv[ok] - sigma[ok])
    assert np.max(err / (floor[ok] + 1e-12)) < 100.0


def test_round_trip_price_iv_price() -> None:
    rng = np.random.default_rng(2)
    n = 2 * PARALLEL_MIN_SIZE_IV  # through the multi-threaded kernel too
    S = rng.uniform(50.0, 150.0, n)
    K = S * np.exp(rng.uniform(-0.8, 0.8, n))
    T = np.exp(rng.uniform(math.log(MINUTE), math.log(10.0), n))
    r, q = rng.uniform(-0.01, 0.08, n), rng.uniform(0.0, 0.05, n)
    sigma = rng.uniform(0.02, 1.5, n)
    is_call = rng.random(n) < 0.5
    price = bs_price(S, K, T, r, sigma, is_call, q=q)
    iv = implied_vol(price, S, K, T, r, is_call, q=q)
    intrinsic = np.maximum(np.where(is_call, 1, -1) * (S * np.exp(-q * T) - K * np.exp(-r * T)), 0)
    has_time_value = price - intrinsic > 1e-9 * (S + K)
    assert not np.isnan(iv[has_time_value]).any()
    valid = ~np.isnan(iv)
    repriced = bs_price(
        S[valid], K[valid], T[valid], r[valid], iv[valid], is_call[valid], q=q[valid]
    )
    np.testing.assert_allclose(repriced, price[valid], rtol=0, atol=1e-12 * 300)
    serial = np.concatenate(
        [implied_vol(price[i : i + 1000], S[i : i + 1000], K[i : i + 1000], T[i : i + 1000],
                     r[i : i + 1000], is_call[i : i + 1000], q=q[i : i + 1000]) for i in range(0, n, 1000)]
    )  # fmt: skip
    np.testing.assert_array_equal(serial, iv)


def test_black76_implied_matches_bsm_on_the_forward() -> None:
    rng = np.random.default_rng(4)
    n = 500
    S, T, r, q = 100.0, rng.uniform(0.01, 3.0, n), 0.04, 0.015
    F = S * np.exp((r - q) * T)
    K = F * np.exp(rng.uniform(-0.5, 0.5, n))
    sigma = rng.uniform(0.05, 0.9, n)
    is_call = rng.random(n) < 0.5
    price = black76_price(F, K, T, r, sigma, is_call)
    vega = bs_greeks(S, K, T, r, sigma, is_call, q=q)["vega"]
    iv76 = black76_implied_vol(price, F, K, T, r, is_call)
    iv = implied_vol(price, S, K, T, r, is_call, q=q)
    assert not np.isnan(iv76).any() and not np.isnan(iv).any()
    well_posed = np.spacing(price + K) / vega < 1e-12  # deep ITM at low vol: time value ~ an ulp
    assert well_posed.sum() > 450
    np.testing.assert_allclose(iv76[well_posed], sigma[well_posed], rtol=0, atol=1e-10)
    np.testing.assert_allclose(iv76[well_posed], iv[well_posed], rtol=0, atol=1e-10)
    # ill-posed ones still reproduce the price
    repriced = black76_price(F, K, T, r, iv76, is_call)
    np.testing.assert_allclose(repriced, price, rtol=0, atol=1e-12 * 300)


def test_hand_example() -> None:
    # Hull 15.6 call (S=42, K=40, T=0.5, r=0.1) worth 4.7594 -> about 20% vol
    assert implied_vol(4.759422392871532, 42.0, 40.0, 0.5, 0.1, True) == pytest.approx(
        0.2, abs=1e-12
    )
    assert implied_vol(0.8085993729000922, 42.0, 40.0, 0.5, 0.1, "P") == pytest.approx(
        0.2, abs=1e-12
    )


def test_no_volatility_reproduces_the_price_gives_nan() -> None:
    S, K, T, r, q = 100.0, 90.0, 0.5, 0.05, 0.02
    df, dq = math.exp(-r * T), math.exp(-q * T)
    intrinsic = S * dq - K * df
    cases = {
        "below intrinsic": (intrinsic - 1e-6, S, K, T, True),
        "negative": (-0.01, S, K, T, True),
        "call at the upper bound": (S * dq, S, K, T, True),
        "put above the upper bound": (K * df + 0.01, S, K, T, False),
        "zero time": (12.0, S, K, 0.0, True),
        "negative time": (12.0, S, K, -1.0, True),
        "negative spot": (1.0, -S, K, T, True),
        "zero strike": (1.0, S, 0.0, T, True),
        "NaN price": (np.nan, S, K, T, True),
        "infinite spot": (1.0, np.inf, K, T, True),
    }
    for label, (price, s, k, t, c) in cases.items():
        assert np.isnan(implied_vol(price, s, k, t, r, c, q=q)), label
    assert np.isnan(implied_vol(1.0, S, K, T, np.nan, True))
    # exactly intrinsic: zero volatility reproduces it
    assert implied_vol(0.0, S, 120.0, T, r, True, q=q) == 0.0
    assert np.isnan(black76_implied_vol(0.5, 100.0, 100.0, 0.0, 0.01, True))


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match=r"price\(3,\), S\(2,\)"):
        implied_vol(np.ones(3), np.ones(2), 100.0, 1.0, 0.0, True)
    with pytest.raises(ValueError, match="'T' must be numeric"):
        implied_vol(1.0, 100.0, 100.0, "1y", 0.0, True)


@settings(max_examples=400, deadline=None)
@given(
    moneyness=st.floats(-2.0, 2.0),
    T=st.floats(1e-6, 30.0),
    sigma=st.floats(0.005, 4.0),
    r=st.floats(-0.02, 0.2),
    q=st.floats(0.0, 0.1),
    is_call=st.booleans(),
)
def test_property_round_trip(moneyness, T, sigma, r, q, is_call) -> None:
    S = 100.0
    K = S * math.exp(moneyness)
    g = bs_greeks(S, K, T, r, sigma, is_call, q=q)
    price, vega = float(g["price"]), float(g["vega"])
    intrinsic = max((1 if is_call else -1) * (S * math.exp(-q * T) - K * math.exp(-r * T)), 0.0)
    upper = S * math.exp(-q * T) if is_call else K * math.exp(-r * T)
    # well-posed: a price clearly inside the no-arbitrage band and some sensitivity to vol. In
    # the money the solver works on the out-of-the-money twin (parity), whose price is the time
    # value: it must stand above the rounding of the parity terms (~1e-16 x upper), or there is
    # no volatility to find (found by hypothesis: a 30-year call 15x in the money on the forward
    # at 6 % vol has a time value of 1e-15)
    floor = 1e-13 * upper if intrinsic > 0 else 1e-300
    assume(price - intrinsic > floor and upper - price > 1e-9 * upper)
    iv = float(implied_vol(price, S, K, T, r, is_call, q=q))
    assert not math.isnan(iv)
    # backward error: the solved vol reprices to the input within rounding of the inputs
    repriced = float(bs_price(S, K, T, r, iv, is_call, q=q))
    assert repriced == pytest.approx(price, abs=1e-12 * (S + K))
    # forward error where the price is sensitive to vol
    if vega > 1e-6:
        assert abs(iv - sigma) <= 1e-12 * (S + K) / vega + 1e-12
