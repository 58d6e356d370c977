"""The generator's NumPy Black-Scholes equals the pricing layer's (QuantLib-checked) kernels."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.data.synth import bs
from workbench.pricing import bs_greeks, bs_price, year_fraction


def _cases(n: int = 4000, seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "S": rng.uniform(50, 150, n),
        "K": rng.uniform(40, 160, n),
        "T": np.where(rng.random(n) < 0.05, 0.0, rng.uniform(1 / 525_600, 2.0, n)),
        "r": rng.uniform(-0.01, 0.08, n),
        "sigma": rng.uniform(0.05, 1.2, n),
        "is_call": rng.random(n) < 0.5,
        "q": rng.uniform(0.0, 0.04, n),
    }


def test_prices_and_greeks_match_the_pricing_layer() -> None:
    c = _cases()
    ours = bs.bs_greeks(**c)
    ref = bs_greeks(c["S"], c["K"], c["T"], c["r"], c["sigma"], c["is_call"], q=c["q"])
    scale = {"price": c["S"], "delta": 1.0, "gamma": 1.0 / c["S"], "vega": c["S"], "theta": c["S"]}
    for name in ("price", "delta", "gamma", "vega", "theta"):
        err = np.abs(np.asarray(ours[name]) - np.asarray(ref[name])) / scale[name]
        assert err.max() < 1e-12, name
    price = bs.bs_price(c["S"], c["K"], c["T"], c["r"], c["sigma"], c["is_call"], q=c["q"])
    np.testing.assert_array_equal(price, ours["price"])
    ref_price = bs_price(c["S"], c["K"], c["T"], c["r"], c["sigma"], c["is_call"], q=c["q"])
    np.testing.assert_allclose(price, ref_price, rtol=0, atol=1e-12)


def test_at_settlement_the_payoff() -> None:
    got = bs.bs_greeks([110.0, 90.0, 100.0], 100.0, 0.0, 0.05, 0.2, [True, True, False])
    assert got["price"].tolist() == [10.0, 0.0, 0.0]
    assert got["delta"].tolist() == [1.0, 0.0, -0.5]
    assert got["gamma"].tolist() == got["vega"].tolist() == got["theta"].tolist() == [0.0] * 3


@pytest.mark.parametrize(
    ("valuation", "expiry"),
    [
        ("2024-01-02T09:15", "2024-01-04T15:30"),
        ("2024-01-04T15:31", "2024-01-04T15:30"),  # after settlement: 0
        ("2024-01-02T09:15:00.000001", "2025-01-02T09:15"),
    ],
)
def test_year_fraction_is_the_pricing_layers_to_the_bit(valuation: str, expiry: str) -> None:
    v, e = np.datetime64(valuation, "us"), np.datetime64(expiry, "us")
    assert bs.year_fraction(v, e) == year_fraction(v, e)
    grid = v + np.arange(0, 600, 7).astype("timedelta64[m]")
    np.testing.assert_array_equal(
        bs.year_fraction(grid[None, :], e), year_fraction(grid[None, :], e)
    )


def test_zero_volatility_before_settlement_is_refused() -> None:
    with pytest.raises(ValueError, match="volatility must be > 0"):
        bs.bs_price(100.0, 90.0, 0.5, 0.05, [0.2, 0.0], True)
    assert bs.bs_price(100.0, 90.0, 0.0, 0.05, 0.0, True) == 10.0  # at settlement: the payoff
