"""Benchmark ``greeks``: price + 5 Greeks for 1,000,000 options, Numba vs NumPy/SciPy.

Baseline: the same closed forms vectorised with NumPy and ``scipy.special.ndtr``, measured in the
same run on the same inputs. Also reports the worst disagreement between the two (they are
independent implementations) and the serial kernel's rate.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import ndtr

from workbench.pricing import bs_greeks, kernels
from workbench.pricing.inputs import prepare


def numpy_greeks(S, K, T, r, sigma, is_call, q) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    """Price, delta, gamma, vega, theta, rho with NumPy and ``scipy.special.ndtr`` (baseline)."""
    sq_t = np.sqrt(T)
    v = sigma * sq_t
    d1 = (np.log(S / K) + (r - q) * T) / v + 0.5 * v
    d2 = d1 - v
    dq, df = np.exp(-q * T), np.exp(-r * T)
    sign = np.where(is_call, 1.0, -1.0)
    n1, n2 = ndtr(sign * d1), ndtr(sign * d2)
    pdf1 = np.exp(-0.5 * d1 * d1) / np.sqrt(2.0 * np.pi)
    s_dq, k_df = S * dq, K * df
    return {
        "price": sign * (s_dq * n1 - k_df * n2),
        "delta": sign * dq * n1,
        "gamma": dq * pdf1 / (S * v),
        "vega": s_dq * pdf1 * sq_t,
        "theta": -s_dq * pdf1 * sigma / (2.0 * sq_t) - sign * (r * k_df * n2 - q * s_dq * n1),
        "rho": sign * K * T * df * n2,
    }


def _interleaved_medians(fns: list[Callable[[], Any]], repeats: int) -> list[float]:
    """Median seconds of each function, run in turn so a noisy neighbour hits them alike."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, bucket in zip(fns, times):
            start = time.perf_counter()
            fn()
            bucket.append(time.perf_counter() - start)
    return [statistics.median(bucket) for bucket in times]


def run(quick: bool) -> dict:
    n = 100_000 if quick else 1_000_000
    repeats = 3 if quick else 11
    rng = np.random.default_rng(0)
    S = rng.uniform(50.0, 150.0, n)
    K = S * np.exp(rng.uniform(-0.5, 0.5, n))
    T = rng.uniform(1.0 / 365.0, 2.0, n)
    sigma = rng.uniform(0.05, 0.8, n)
    is_call = rng.random(n) < 0.5
    r, q = 0.04, 0.01

    def numba_call() -> dict[str, np.ndarray]:
        return bs_greeks(S, K, T, r, sigma, is_call, q=q)

    def numpy_call() -> dict[str, np.ndarray]:
        return numpy_greeks(S, K, T, r, sigma, is_call, q)

    prep = prepare(S=S, K=K, T=T, r=r, q=q, sigma=sigma, is_call=is_call)
    out = kernels.empty_greeks(n)

    serial_kernel: Any = kernels.greeks_serial

    def serial_call() -> None:
        serial_kernel(*prep.arrays, False, out)

    got, ref = numba_call(), numpy_call()  # warm-up (and compile if the cache is cold)
    serial_call()
    worst = max(float(np.max(np.abs(got[k] - ref[k]))) for k in got)
    t_numba, t_numpy, t_serial = _interleaved_medians(
        [numba_call, numpy_call, serial_call], repeats
    )
    return {
        "benchmark": "greeks",
        "ratio": t_numpy / t_numba,
        "baseline": "NumPy + scipy.special.ndtr, vectorised, same inputs, same run",
        "figures": {
            "options": n,
            "numba_parallel_options_per_s": n / t_numba,
            "numba_serial_options_per_s": n / t_serial,
            "numpy_options_per_s": n / t_numpy,
            "numba_parallel_ms_median": 1e3 * t_numba,
            "numpy_ms_median": 1e3 * t_numpy,
            "max_abs_diff_vs_numpy": worst,
        },
    }
