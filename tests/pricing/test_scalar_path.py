"""The scalar fast path gives exactly what the array path gives."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.pricing import (
    GREEK_NAMES,
    black76_greeks,
    black76_implied_vol,
    black76_price,
    bs_greeks,
    bs_price,
    implied_vol,
)


@pytest.mark.parametrize("is_call", [True, False, "C", "p", np.True_, 1, 0])
def test_scalar_equals_array(is_call) -> None:
    args = (101.0, 95, 0.25, np.float64(0.03), 0.4)
    flag = np.asarray([is_call])
    assert bs_price(*args, is_call, q=0.01) == bs_price(*args, flag, q=0.01)[0]
    scalar = bs_greeks(*args, is_call, q=0.01)
    array = bs_greeks(*args, flag, q=0.01)
    for name in GREEK_NAMES:
        assert isinstance(scalar[name], np.float64)
        assert scalar[name] == array[name][0]
    b76 = black76_greeks(*args, is_call)
    assert b76["price"] == black76_price(*args, flag)[0]
    price = float(scalar["price"])
    assert (
        implied_vol(price, 101.0, 95, 0.25, 0.03, is_call, q=0.01)
        == implied_vol([price], 101.0, 95, 0.25, 0.03, flag, q=0.01)[0]
    )
    assert black76_implied_vol(
        float(b76["price"]), 101.0, 95, 0.25, 0.03, is_call
    ) == pytest.approx(0.4, abs=1e-12)


def test_scalar_path_validates_like_the_array_path() -> None:
    assert np.isnan(bs_price(-1.0, 95.0, 0.25, 0.03, 0.4, True))
    with pytest.raises(ValueError, match="'is_call'"):
        bs_price(100.0, 95.0, 0.25, 0.03, 0.4, "X")
    with pytest.raises(ValueError, match="'is_call' must be boolean"):
        bs_price(100.0, 95.0, 0.25, 0.03, 0.4, 3)
    with pytest.raises(ValueError, match="'K' must be numeric"):
        bs_price(100.0, "ninety-five", 0.25, 0.03, 0.4, True)


@pytest.mark.parametrize("rate", [0.0, 0.043])
@pytest.mark.parametrize("is_call", [True, False])
def test_implied_greeks_one_equals_implied_vol_then_bs_greeks(is_call: bool, rate: float) -> None:
    """The engine's per-leg path: the same bits as the public scalar functions, and all NaN
    where no volatility reproduces the price (below intrinsic, expired)."""
    from workbench.pricing import implied_greeks_one

    rng = np.random.default_rng(7)
    for _ in range(200):
        S = 5000.0
        K = float(4000 + 50 * rng.integers(0, 40))
        T = float(rng.uniform(1e-4, 1.5))
        sigma = float(rng.uniform(0.05, 0.9))
        price = float(bs_price(S, K, T, rate, sigma, is_call)) * float(rng.uniform(0.5, 1.5))
        got = implied_greeks_one(price, S, K, T, rate, is_call)
        vol = float(implied_vol(price, S, K, T, rate, is_call))
        if not (vol == vol and vol > 0):
            assert all(v != v for v in got)
            continue
        g = bs_greeks(S, K, T, rate, vol, is_call)
        want = (vol, *(float(g[n]) for n in ("delta", "gamma", "vega", "theta")))
        assert got == want
        assert all(type(v) is float for v in got)
    assert all(v != v for v in implied_greeks_one(1.0, 100.0, 100.0, 0.0, rate, is_call))
