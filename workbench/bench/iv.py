"""Benchmark ``iv``: implied volatility of 100,000 mixed options, with the worst error per bucket.

Buckets: regular (1 week to 2 years, within ~2 standard deviations), deep out-of-the-money
(3 to 9 standard deviations, prices down to 1e-18) and near expiry (one minute to one day).
Prices are computed by the workbench's own Black-Scholes kernel in double precision, so the
error figures include the input-rounding floor (the tests check the solver against mpmath-exact
prices). Baseline: SciPy ``brentq`` per option on a subsample, measured in the same run.
"""

from __future__ import annotations

import math
import statistics
import time

import numpy as np
from scipy.optimize import brentq

from workbench.pricing import bs_price, implied_vol

MINUTE = 1.0 / (365.0 * 1440.0)


def _bucket(rng: np.random.Generator, n: int, kind: str) -> dict[str, np.ndarray]:
    S = rng.uniform(50.0, 150.0, n)
    sigma = rng.uniform(0.05, 1.2, n)
    is_call = rng.random(n) < 0.5
    r, q = rng.uniform(0.0, 0.06, n), rng.uniform(0.0, 0.03, n)
    if kind == "regular":
        T = rng.uniform(7 / 365, 2.0, n)
        z = rng.uniform(-2.0, 2.0, n)
    elif kind == "deep_otm":
        T = rng.uniform(7 / 365, 2.0, n)
        z = rng.uniform(3.0, 9.0, n)
    else:  # near expiry
        T = np.exp(rng.uniform(math.log(MINUTE), math.log(1440 * MINUTE), n))
        z = rng.uniform(0.0, 5.0, n)
    fwd = S * np.exp((r - q) * T)
    # z standard deviations out of the money (negative z: in the money)
    K = fwd * np.exp(np.where(is_call, 1.0, -1.0) * z * sigma * np.sqrt(T))
    price = bs_price(S, K, T, r, sigma, is_call, q=q)
    keep = price >= 1e-18
    return {
        "S": S[keep],
        "K": K[keep],
        "T": T[keep],
        "r": r[keep],
        "q": q[keep],
        "sigma": sigma[keep],
        "is_call": is_call[keep],
        "price": price[keep],
    }


def _scalar_price(S: float, K: float, T: float, r: float, q: float, sigma: float, c: bool) -> float:
    """Plain-Python Black-Scholes-Merton price (the baseline's pricer)."""
    v = sigma * math.sqrt(T)
    d1 = (math.log(S / K) + (r - q) * T) / v + 0.5 * v
    d2 = d1 - v
    sign = 1.0 if c else -1.0
    n1 = 0.5 * math.erfc(-sign * d1 / math.sqrt(2.0))
    n2 = 0.5 * math.erfc(-sign * d2 / math.sqrt(2.0))
    return sign * (S * math.exp(-q * T) * n1 - K * math.exp(-r * T) * n2)


def _brentq_iv(price: float, S: float, K: float, T: float, r: float, q: float, c: bool) -> float:
    def f(s: float) -> float:
        return _scalar_price(S, K, T, r, q, s, c) - price

    try:
        return brentq(f, 1e-6, 10.0, xtol=1e-15, rtol=1e-15, maxiter=200)
    except ValueError:
        return math.nan


def run(quick: bool) -> dict:
    n = 20_000 if quick else 100_000
    repeats = 3 if quick else 7
    rng = np.random.default_rng(42)
    parts = {kind: _bucket(rng, n // 3, kind) for kind in ("regular", "deep_otm", "near_expiry")}
    allv = {k: np.concatenate([p[k] for p in parts.values()]) for k in parts["regular"]}
    total = len(allv["price"])
    args = (allv["price"], allv["S"], allv["K"], allv["T"], allv["r"], allv["is_call"])

    iv = implied_vol(*args, q=allv["q"])  # warm-up (and compile if the cache is cold)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        implied_vol(*args, q=allv["q"])
        times.append(time.perf_counter() - start)
    t_numba = statistics.median(times)

    figures: dict[str, float | int] = {"options": total, "ivs_per_s": total / t_numba}
    figures["ms_median"] = 1e3 * t_numba
    figures["nan_count"] = int(np.isnan(iv).sum())
    offset = 0
    for kind, part in parts.items():
        m = len(part["price"])
        err = np.abs(iv[offset : offset + m] - part["sigma"])
        figures[f"{kind}_count"] = m
        figures[f"{kind}_worst_abs_vol_error"] = float(np.nanmax(err))
        figures[f"{kind}_min_price"] = float(part["price"].min())
        offset += m

    sample = rng.choice(total, size=200 if quick else 1000, replace=False)
    start = time.perf_counter()
    for i in sample:
        price, S, K, T, r, q = (float(allv[k][i]) for k in ("price", "S", "K", "T", "r", "q"))
        _brentq_iv(price, S, K, T, r, q, bool(allv["is_call"][i]))
    t_brent = (time.perf_counter() - start) / len(sample)
    figures["brentq_ivs_per_s"] = 1.0 / t_brent
    return {
        "benchmark": "iv",
        "ratio": (total / t_numba) * t_brent,
        "baseline": "scipy.optimize.brentq per option on a plain-Python pricer (subsample), same run",
        "figures": figures,
    }
