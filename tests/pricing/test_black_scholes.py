"""Prices and Greeks against QuantLib's AnalyticEuropeanEngine, parity, Black-76, expiry, bad input."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import QuantLib as ql
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.pricing import (
    GREEK_NAMES,
    black76_greeks,
    black76_price,
    bs_greeks,
    bs_price,
)
from workbench.pricing.inputs import PARALLEL_MIN_SIZE

TOL = 1e-10


def _random_options(n: int, seed: int) -> dict[str, np.ndarray]:
    """Short and long expiries (whole days for QuantLib's dates), deep ITM/OTM, low/high vol."""
    rng = np.random.default_rng(seed)
    days = np.concatenate(
        [
            rng.integers(1, 8, n // 4),
            rng.integers(8, 400, n // 2),
            rng.integers(400, 3650, n - n // 4 - n // 2),
        ]
    )
    rng.shuffle(days)
    S = rng.uniform(20.0, 200.0, n)
    return {
        "S": S,
        "K": S * np.exp(rng.uniform(-1.5, 1.5, n)),
        "days": days,
        "T": days / 365.0,
        "r": rng.uniform(-0.01, 0.10, n),
        "q": np.where(rng.random(n) < 0.5, 0.0, rng.uniform(0.0, 0.06, n)),
        "sigma": np.exp(rng.uniform(np.log(0.02), np.log(2.0), n)),
        "is_call": rng.random(n) < 0.5,
    }


def _quantlib(opts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The same options through AnalyticEuropeanEngine (ACT/365 fixed, continuous rates)."""
    today = ql.Date(15, ql.January, 2024)
    ql.Settings.instance().evaluationDate = today
    dc = ql.Actual365Fixed()
    spot, rate, div, vol = (
        ql.SimpleQuote(1.0),
        ql.SimpleQuote(0.0),
        ql.SimpleQuote(0.0),
        ql.SimpleQuote(0.1),
    )
    process = ql.BlackScholesMertonProcess(
        ql.QuoteHandle(spot),
        ql.YieldTermStructureHandle(ql.FlatForward(today, ql.QuoteHandle(div), dc)),
        ql.YieldTermStructureHandle(ql.FlatForward(today, ql.QuoteHandle(rate), dc)),
        ql.BlackVolTermStructureHandle(
            ql.BlackConstantVol(today, ql.NullCalendar(), ql.QuoteHandle(vol), dc)
        ),
    )
    engine = ql.AnalyticEuropeanEngine(process)
    out = {name: np.empty(len(opts["S"])) for name in GREEK_NAMES}
    for i in range(len(opts["S"])):
        spot.setValue(float(opts["S"][i]))
        rate.setValue(float(opts["r"][i]))
        div.setValue(float(opts["q"][i]))
        vol.setValue(float(opts["sigma"][i]))
        kind = ql.Option.Call if opts["is_call"][i] else ql.Option.Put
        option = ql.VanillaOption(
            ql.PlainVanillaPayoff(kind, float(opts["K"][i])),
            ql.EuropeanExercise(today + int(opts["days"][i])),
        )
        option.setPricingEngine(engine)
        out["price"][i] = option.NPV()
        out["delta"][i] = option.delta()
        out["gamma"][i] = option.gamma()
        out["vega"][i] = option.vega()
        out["theta"][i] = option.theta()
        out["rho"][i] = option.rho()
    return out


@pytest.fixture(scope="module")
def options_and_quantlib() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    opts = _random_options(3000, seed=7)
    return opts, _quantlib(opts)


@pytest.mark.parametrize("name", GREEK_NAMES)
def test_greeks_agree_with_quantlib(options_and_quantlib, name: str) -> None:
    opts, expected = options_and_quantlib
    got = bs_greeks(
        opts["S"], opts["K"], opts["T"], opts["r"], opts["sigma"], opts["is_call"], q=opts["q"]
    )
    np.testing.assert_allclose(got[name], expected[name], rtol=0, atol=TOL)


def test_price_agrees_with_quantlib_and_greeks_price(options_and_quantlib) -> None:
    opts, expected = options_and_quantlib
    price = bs_price(
        opts["S"], opts["K"], opts["T"], opts["r"], opts["sigma"], opts["is_call"], q=opts["q"]
    )
    np.testing.assert_allclose(price, expected["price"], rtol=0, atol=TOL)


def test_parallel_kernel_matches_serial(options_and_quantlib) -> None:
    opts, _ = options_and_quantlib
    reps = PARALLEL_MIN_SIZE // len(opts["S"]) + 1
    big = {k: np.tile(v, reps) for k, v in opts.items()}
    got = bs_greeks(
        big["S"], big["K"], big["T"], big["r"], big["sigma"], big["is_call"], q=big["q"]
    )
    small = bs_greeks(
        opts["S"], opts["K"], opts["T"], opts["r"], opts["sigma"], opts["is_call"], q=opts["q"]
    )
    for name in GREEK_NAMES:
        np.testing.assert_array_equal(got[name][: len(opts["S"])], small[name])
    price = bs_price(
        big["S"], big["K"], big["T"], big["r"], big["sigma"], big["is_call"], q=big["q"]
    )
    np.testing.assert_array_equal(price, got["price"])


def _theta_mp(S, K, T, r, q, sigma, is_call) -> float:
    with mpmath.workdps(40):
        S, K, T, r, q, sigma = (mpmath.mpf(float(v)) for v in (S, K, T, r, q, sigma))
        v = sigma * mpmath.sqrt(T)
        d1 = (mpmath.log(S / K) + (r - q) * T) / v + v / 2
        d2 = d1 - v
        decay = -S * mpmath.exp(-q * T) * mpmath.npdf(d1) * sigma / (2 * mpmath.sqrt(T))
        if is_call:
            value = (
                decay
                - r * K * mpmath.exp(-r * T) * mpmath.ncdf(d2)
                + q * S * mpmath.exp(-q * T) * mpmath.ncdf(d1)
            )
        else:
            value = (
                decay
                + r * K * mpmath.exp(-r * T) * mpmath.ncdf(-d2)
                - q * S * mpmath.exp(-q * T) * mpmath.ncdf(-d1)
            )
        return float(value)


def test_sub_day_expiries_agree_with_quantlib_black_calculator() -> None:
    """Minutes to expiry: the engine's own building block, BlackCalculator, as the reference."""
    rng = np.random.default_rng(3)
    n = 500
    S = np.full(n, 100.0)
    K = S * np.exp(rng.uniform(-0.05, 0.05, n))
    T = rng.uniform(1.0, 1440.0, n) / (365.0 * 1440.0)
    r, q = 0.05, 0.02
    sigma = rng.uniform(0.05, 1.0, n)
    is_call = rng.random(n) < 0.5
    got = bs_greeks(S, K, T, r, sigma, is_call, q=q)
    for i in range(n):
        kind = ql.Option.Call if is_call[i] else ql.Option.Put
        fwd = S[i] * math.exp((r - q) * T[i])
        calc = ql.BlackCalculator(
            ql.PlainVanillaPayoff(kind, K[i]), fwd, sigma[i] * math.sqrt(T[i]), math.exp(-r * T[i])
        )
        assert got["price"][i] == pytest.approx(calc.value(), abs=TOL)
        assert got["delta"][i] == pytest.approx(calc.delta(S[i]), abs=TOL)
        assert got["gamma"][i] == pytest.approx(calc.gamma(S[i]), rel=1e-12, abs=TOL)
        assert got["vega"][i] == pytest.approx(calc.vega(T[i]), abs=TOL)
        # BlackCalculator.theta divides by T and loses ~1e-12 relative at minutes to expiry;
        # the reference for theta is the same formula evaluated in 40-digit arithmetic.
        assert got["theta"][i] == pytest.approx(
            _theta_mp(S[i], K[i], T[i], r, q, sigma[i], is_call[i]), abs=TOL
        )
        assert got["theta"][i] == pytest.approx(calc.theta(S[i], T[i]), abs=1e-8)
        assert got["rho"][i] == pytest.approx(calc.rho(T[i]), abs=TOL)


def test_hand_computed_value() -> None:
    """Hull's example 15.6: S=42, K=40, r=10%, sigma=20%, T=0.5 -> call 4.76, put 0.81."""
    assert bs_price(42.0, 40.0, 0.5, 0.1, 0.2, True) == pytest.approx(4.7594, abs=1e-4)
    assert bs_price(42.0, 40.0, 0.5, 0.1, 0.2, False) == pytest.approx(0.8086, abs=1e-4)
    # d1 = (ln(42/40) + (0.1 + 0.02) * 0.5) / (0.2 sqrt(0.5)) = 0.7693; delta = N(d1)
    d1 = (math.log(42 / 40) + 0.12 * 0.5) / (0.2 * math.sqrt(0.5))
    assert bs_greeks(42.0, 40.0, 0.5, 0.1, 0.2, True)["delta"] == pytest.approx(
        0.5 * math.erfc(-d1 / math.sqrt(2)), abs=1e-15
    )


def test_put_call_parity(options_and_quantlib) -> None:
    opts, _ = options_and_quantlib
    args = (opts["S"], opts["K"], opts["T"], opts["r"], opts["sigma"])
    call = bs_greeks(*args, True, q=opts["q"])
    put = bs_greeks(*args, False, q=opts["q"])
    dq, df = np.exp(-opts["q"] * opts["T"]), np.exp(-opts["r"] * opts["T"])
    forward_value = opts["S"] * dq - opts["K"] * df
    np.testing.assert_allclose(call["price"] - put["price"], forward_value, rtol=0, atol=1e-10)
    np.testing.assert_allclose(call["delta"] - put["delta"], dq, rtol=0, atol=1e-14)
    np.testing.assert_allclose(call["gamma"], put["gamma"], rtol=1e-14, atol=0)
    np.testing.assert_allclose(call["vega"], put["vega"], rtol=1e-14, atol=0)


def test_black76_equals_bsm_on_the_forward(options_and_quantlib) -> None:
    opts, _ = options_and_quantlib
    S, K, T, r, q, sigma, c = (opts[k] for k in ("S", "K", "T", "r", "q", "sigma", "is_call"))
    F = S * np.exp((r - q) * T)
    b76 = black76_greeks(F, K, T, r, sigma, c)
    bsm = bs_greeks(S, K, T, r, sigma, c, q=q)
    np.testing.assert_allclose(
        black76_price(F, K, T, r, sigma, c), bsm["price"], rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(b76["price"], bsm["price"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b76["vega"], bsm["vega"], rtol=1e-12, atol=1e-12)
    growth = np.exp((r - q) * T)  # dF/dS
    np.testing.assert_allclose(b76["delta"] * growth, bsm["delta"], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b76["gamma"] * growth**2, bsm["gamma"], rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(b76["rho"], -T * b76["price"], rtol=1e-15, atol=0)


def test_black76_against_quantlib_with_dividend_equal_rate() -> None:
    """With q = r the BSM forward is the spot, so QuantLib's BSM Greeks are Black-76's (rho aside)."""
    opts = _random_options(300, seed=11)
    opts["q"] = opts["r"].copy()
    expected = _quantlib(opts)
    got = black76_greeks(opts["S"], opts["K"], opts["T"], opts["r"], opts["sigma"], opts["is_call"])
    for name in ("price", "delta", "gamma", "vega", "theta"):
        np.testing.assert_allclose(got[name], expected[name], rtol=0, atol=TOL, err_msg=name)


def test_expiry_is_the_payoff() -> None:
    S = np.array([90.0, 100.0, 110.0])
    call = bs_greeks(S, 100.0, 0.0, 0.05, 0.3, True, q=0.01)
    put = bs_greeks(S, 100.0, 0.0, 0.05, 0.3, False, q=0.01)
    np.testing.assert_array_equal(call["price"], [0.0, 0.0, 10.0])
    np.testing.assert_array_equal(put["price"], [10.0, 0.0, 0.0])
    np.testing.assert_array_equal(call["delta"], [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(put["delta"], [-1.0, -0.5, 0.0])
    for name in ("gamma", "vega", "theta", "rho"):
        np.testing.assert_array_equal(call[name], 0.0)
        np.testing.assert_array_equal(put[name], 0.0)


def test_zero_vol_is_the_discounted_forward_payoff() -> None:
    S, K, T, r, q = 100.0, 95.0, 0.5, 0.04, 0.01
    got = bs_greeks(S, K, T, r, 0.0, True, q=q)
    dq, df = math.exp(-q * T), math.exp(-r * T)
    assert got["price"] == pytest.approx(S * dq - K * df, abs=1e-13)
    assert got["delta"] == pytest.approx(dq, abs=1e-15)
    assert got["gamma"] == 0.0 and got["vega"] == 0.0
    assert got["theta"] == pytest.approx(q * S * dq - r * K * df, abs=1e-12)
    assert got["rho"] == pytest.approx(K * T * df, abs=1e-12)
    # the limit of small vol agrees with the zero-vol branch
    near = bs_greeks(S, K, T, r, 1e-9, True, q=q)
    for name in ("price", "delta", "theta", "rho"):
        assert near[name] == pytest.approx(got[name], abs=1e-9)


def test_scalars_in_give_a_float_out_and_shapes_broadcast() -> None:
    assert isinstance(bs_price(100.0, 100.0, 1.0, 0.0, 0.2, True), np.floating)
    grid = bs_price(
        100.0, np.array([[90.0], [100.0], [110.0]]), np.array([0.1, 0.5]), 0.01, 0.2, "C"
    )
    assert grid.shape == (3, 2)
    assert grid[0, 1] == bs_price(100.0, 90.0, 0.5, 0.01, 0.2, True)
    greeks = bs_greeks([100.0, 101.0], 100.0, 1.0, 0.0, 0.2, ["C", "P"])
    assert greeks["delta"][0] > 0 > greeks["delta"][1]
    assert bs_price(np.empty(0), 100.0, 1.0, 0.0, 0.2, True).shape == (0,)


def test_out_of_domain_elements_are_nan_and_others_unaffected() -> None:
    S = np.array([100.0, -1.0, 0.0, np.nan, np.inf, 100.0, 100.0, 100.0, 100.0])
    K = np.array([100.0, 100.0, 100.0, 100.0, 100.0, -5.0, 100.0, 100.0, 100.0])
    T = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, -0.1, 1.0, 1.0])
    sigma = np.array([0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, -0.2, np.nan])
    got = bs_greeks(S, K, T, 0.01, sigma, True)
    for name in GREEK_NAMES:
        assert np.isfinite(got[name][0])
        assert np.isnan(got[name][1:]).all(), name
    assert np.isnan(bs_price(100.0, 100.0, 1.0, np.nan, 0.2, True))
    assert np.isnan(bs_price(100.0, 100.0, 1.0, 0.01, 0.2, True, q=np.inf))


def test_bad_arguments_raise_naming_the_parameter() -> None:
    with pytest.raises(ValueError, match=r"shapes do not broadcast.*S\(3,\).*K\(2,\)"):
        bs_price(np.ones(3), np.ones(2), 1.0, 0.0, 0.2, True)
    with pytest.raises(ValueError, match="'sigma' must be numeric"):
        bs_price(100.0, 100.0, 1.0, 0.0, "high", True)
    with pytest.raises(ValueError, match=r"'is_call': 'X' \(element 1\) is not an option right"):
        bs_greeks(100.0, 100.0, 1.0, 0.0, 0.2, ["C", "X"])
    with pytest.raises(ValueError, match="'is_call' must be boolean"):
        bs_price(100.0, 100.0, 1.0, 0.0, 0.2, 2)
    with pytest.raises(ValueError, match=r"F\(2,\), K\(3,\)"):
        black76_price(np.ones(2), np.ones(3), 1.0, 0.0, 0.2, True)
    with pytest.raises(
        ValueError, match=r"F\(2,\), K\(\), T\(\), r\(4,\), sigma\(\), is_call"
    ) as err:
        black76_greeks(np.ones(2), 1.0, 1.0, np.ones(4), 0.2, True)
    assert "q(" not in str(err.value)  # Black-76 has no dividend yield to blame


finite = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(
    S=st.floats(1e-3, 1e5),
    moneyness=st.floats(-3.0, 3.0),
    T=st.floats(0.0, 30.0),
    r=st.floats(-0.05, 0.3),
    q=st.floats(0.0, 0.2),
    sigma=st.floats(0.0, 5.0),
)
def test_property_bounds_parity_and_signs(S, moneyness, T, r, q, sigma) -> None:
    K = S * math.exp(moneyness)
    call = bs_greeks(S, K, T, r, sigma, True, q=q)
    put = bs_greeks(S, K, T, r, sigma, False, q=q)
    dq, df = math.exp(-q * T), math.exp(-r * T)
    scale = max(S, K) * 1e-12
    # no-arbitrage bounds
    assert max(S * dq - K * df, 0.0) - scale <= call["price"] <= S * dq + scale
    assert max(K * df - S * dq, 0.0) - scale <= put["price"] <= K * df + scale
    assert call["price"] - put["price"] == pytest.approx(S * dq - K * df, abs=4 * scale)
    assert -1e-15 <= call["delta"] <= dq + 1e-15
    assert -dq - 1e-15 <= put["delta"] <= 1e-15
    assert call["gamma"] >= 0.0 and call["vega"] >= 0.0
    assert call["gamma"] == pytest.approx(put["gamma"], rel=1e-12, abs=1e-300)
