"""The synthetic market's own Black-Scholes pricer and ACT/365 clock (NumPy).

The data layer sits below :mod:`workbench.pricing` (DESIGN.md: nothing lower imports anything
higher), so the generator prices its options here rather than with the pricing layer's Numba
kernels. The conventions are the pricing layer's -- Black-Scholes-Merton with a continuous
dividend yield, ``T`` in ACT/365 years on exact timestamps floored at zero, theta per year,
vega per 1.00 of volatility, intrinsic value at ``T = 0`` -- for volatility above zero (the
generator's surface is floored; zero volatility before expiry is refused), and
``tests/data/synth/test_synth_bs.py`` holds the two implementations to each other, so every
consumer that implies volatility from these prices with :mod:`workbench.pricing` reads back
the generator's surface.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import ndtr

NS_PER_YEAR = 365.0 * 86_400.0 * 1e9


def year_fraction(valuation: Any, expiry: Any) -> Any:
    """ACT/365 years from ``valuation`` to ``expiry`` (``datetime64`` scalars or arrays,
    broadcast), floored at zero: the integer nanosecond difference over a 365-day year, the
    same arithmetic as :func:`workbench.pricing.year_fraction`."""
    val = np.asarray(valuation, dtype="datetime64[ns]").astype(np.int64)
    exp = np.asarray(expiry, dtype="datetime64[ns]").astype(np.int64)
    years = np.maximum(exp - val, 0) / NS_PER_YEAR
    return float(years) if years.ndim == 0 else years


def _inputs(S: Any, K: Any, T: Any, r: Any, sigma: Any, is_call: Any, q: Any) -> tuple:
    arrays = np.broadcast_arrays(
        np.asarray(S, dtype=np.float64),
        np.asarray(K, dtype=np.float64),
        np.asarray(T, dtype=np.float64),
        np.asarray(r, dtype=np.float64),
        np.asarray(sigma, dtype=np.float64),
        np.asarray(is_call, dtype=bool),
        np.asarray(q, dtype=np.float64),
    )
    return tuple(arrays)


def _live(T: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Options before settlement; zero or negative volatility there is outside the domain."""
    live = T > 0
    bad = live & ~(sigma > 0)
    if bad.any():
        raise ValueError(
            f"synthetic Black-Scholes: volatility must be > 0 before settlement, got "
            f"{float(sigma[bad].reshape(-1)[0])!r}"
        )
    return live


def bs_greeks(
    S: Any, K: Any, T: Any, r: Any, sigma: Any, is_call: Any, q: Any = 0.0
) -> dict[str, np.ndarray]:
    """``{"price", "delta", "gamma", "vega", "theta"}`` (delta per unit of ``S``, gamma per unit
    squared, vega per 1.00 of volatility, theta per year); at ``T = 0`` the payoff's: intrinsic
    value, delta 1/-1 in the money, 0 out, half at the money, the rest zero."""
    S, K, T, r, sigma, call, q = _inputs(S, K, T, r, sigma, is_call, q)
    live = _live(T, sigma)
    with np.errstate(divide="ignore", invalid="ignore"):
        sqrt_t = np.sqrt(np.where(live, T, 1.0))
        vol = np.where(live, sigma, 1.0) * sqrt_t
        tt = np.where(live, T, 0.0)
        d1 = (np.log(S / K) + (r - q + 0.5 * sigma * sigma) * tt) / vol
        d2 = d1 - vol
        dq, dr = np.exp(-q * tt), np.exp(-r * tt)
        pdf = np.exp(-0.5 * d1 * d1) / np.sqrt(2.0 * np.pi)
        n1, n2 = ndtr(d1), ndtr(d2)
        m1, m2 = ndtr(-d1), ndtr(-d2)
        price = np.where(call, S * dq * n1 - K * dr * n2, K * dr * m2 - S * dq * m1)
        delta = np.where(call, dq * n1, -dq * m1)
        gamma = dq * pdf / (S * vol)
        vega = S * dq * pdf * sqrt_t
        decay = -S * dq * pdf * sigma / (2.0 * sqrt_t)
        theta = np.where(
            call,
            decay - r * K * dr * n2 + q * S * dq * n1,
            decay + r * K * dr * m2 - q * S * dq * m1,
        )
    money = np.where(call, S - K, K - S)
    payoff_delta = np.where(money > 0, 1.0, np.where(money < 0, 0.0, 0.5))
    zero = np.zeros_like(S)
    return {
        "price": np.where(live, price, np.maximum(money, 0.0)),
        "delta": np.where(live, delta, np.where(call, payoff_delta, -payoff_delta)),
        "gamma": np.where(live, gamma, zero),
        "vega": np.where(live, vega, zero),
        "theta": np.where(live, theta, zero),
    }


def bs_price(S: Any, K: Any, T: Any, r: Any, sigma: Any, is_call: Any, q: Any = 0.0) -> Any:
    """Black-Scholes-Merton price, intrinsic value at ``T = 0`` (the price of
    :func:`bs_greeks` without its Greeks: the generator prices millions of bars)."""
    S, K, T, r, sigma, call, q = _inputs(S, K, T, r, sigma, is_call, q)
    live = _live(T, sigma)
    with np.errstate(divide="ignore", invalid="ignore"):
        tt = np.where(live, T, 0.0)
        vol = np.where(live, sigma, 1.0) * np.sqrt(np.where(live, T, 1.0))
        d1 = (np.log(S / K) + (r - q + 0.5 * sigma * sigma) * tt) / vol
        d2 = d1 - vol
        dq, dr = np.exp(-q * tt), np.exp(-r * tt)
        price = np.where(
            call,
            S * dq * ndtr(d1) - K * dr * ndtr(d2),
            K * dr * ndtr(-d2) - S * dq * ndtr(-d1),
        )
    return np.where(live, price, np.maximum(np.where(call, S - K, K - S), 0.0))
