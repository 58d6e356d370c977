"""Numba kernels for European prices and Greeks (Black-Scholes-Merton and Black-76).

Arrays in, arrays out; no pandas, no validation beyond the per-element domain check. Every
array argument is 1-D float64 (``is_call``: 1-D bool) of length ``n`` or of length 1 (a broadcast
scalar, read at index 0), so a single compiled specialisation serves every call.

Model: continuous compounding, ``F = S exp((r - q) T)``, discount ``D = exp(-r T)``.
Units: price in the units of ``S``/``K``; delta per unit of the underlying; gamma per unit of the
underlying squared; vega per 1.00 of volatility; theta per year (calendar, ``dV/dt = -dV/dT``);
rho per 1.00 of rate. Black-76 is the same model with ``q = r`` (the underlying is the forward
``F``) and rho taken with ``F`` held fixed (``rho = -T * price``).

Domain: ``S > 0``, ``K > 0``, ``T >= 0``, ``sigma >= 0``, all finite, ``r``/``q`` finite.
Anything else (including NaN) gives NaN in every output. ``T == 0`` is the payoff: intrinsic
value, delta of the payoff (0.5 exactly at the money), every other Greek zero. ``sigma == 0``
with ``T > 0`` is the deterministic forward (gamma and vega zero); so is any total volatility
``sigma sqrt(T)`` below ``MIN_TOTAL_VOL`` (1e-100), where the closed forms would divide by an
underflowed number.

No fast-math: the scalar, serial and multi-threaded paths give bit-identical results (fast-math
reassociation would make the last bits depend on the array length and the path), which keeps
tradebooks reproducible byte for byte.

Nothing is compiled at import: the dispatchers compile (or load from the on-disk cache) on
first call.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from workbench.pricing.normal import cdf_with_gauss

INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)
#: Total volatility ``sigma sqrt(T)`` below which an option is priced as deterministic.
MIN_TOTAL_VOL = 1e-100


@njit(cache=True, error_model="numpy")
def _gauss_pair(d1: float, d2: float, s_dq: float, k_df: float) -> tuple[float, float]:
    """``(exp(-d1^2/2), exp(-d2^2/2))`` with one exponential: the second is the first times F/K."""
    g1 = math.exp(-0.5 * d1 * d1)
    g2 = g1 * (s_dq / k_df)
    if g1 < 1e-290 or not g2 < 1e290:
        # the shortcut would lose precision to underflow or overflow
        g2 = math.exp(-0.5 * d2 * d2)
    return g1, g2


@njit(cache=True, error_model="numpy")
def _carry_discount(q: float, r: float, T: float, df: float) -> float:
    """``exp(-q T)``, skipping the exponential when ``q`` is 0 or equals ``r`` (Black-76)."""
    if q == 0.0:
        return 1.0
    if q == r:
        return df
    return math.exp(-q * T)


@njit(cache=True, error_model="numpy")
def _valid(S: float, K: float, T: float, r: float, q: float, sigma: float) -> bool:
    return (
        S > 0.0
        and K > 0.0
        and T >= 0.0
        and sigma >= 0.0
        and math.isfinite(S)
        and math.isfinite(K)
        and math.isfinite(T)
        and math.isfinite(sigma)
        and math.isfinite(r)
        and math.isfinite(q)
    )


@njit(cache=True, error_model="numpy")
def price_one(
    S: float, K: float, T: float, r: float, q: float, sigma: float, is_call: bool
) -> float:
    """Price of one European option (see the module docstring for the conventions)."""
    if not _valid(S, K, T, r, q, sigma):
        return math.nan
    v = sigma * math.sqrt(T)
    df = math.exp(-r * T)
    dq = _carry_discount(q, r, T, df)
    if v < MIN_TOTAL_VOL:
        fwd_s = S * dq
        fwd_k = K * df
        if is_call:
            return max(fwd_s - fwd_k, 0.0)
        return max(fwd_k - fwd_s, 0.0)
    d1 = (math.log(S / K) + (r - q) * T) / v + 0.5 * v
    d2 = d1 - v
    s_dq = S * dq
    k_df = K * df
    g1, g2 = _gauss_pair(d1, d2, s_dq, k_df)
    w = 1.0 if is_call else -1.0
    return w * (s_dq * cdf_with_gauss(w * d1, g1) - k_df * cdf_with_gauss(w * d2, g2))


@njit(cache=True, error_model="numpy")
def greeks_one(
    S: float,
    K: float,
    T: float,
    r: float,
    q: float,
    sigma: float,
    is_call: bool,
    forward_rho: bool,
) -> tuple[float, float, float, float, float, float]:
    """``(price, delta, gamma, vega, theta, rho)`` of one option (module docstring conventions).

    ``forward_rho`` selects the Black-76 rho (``-T * price``, forward held fixed).
    """
    nan = math.nan
    if not _valid(S, K, T, r, q, sigma):
        return nan, nan, nan, nan, nan, nan
    sq_t = math.sqrt(T)
    v = sigma * sq_t
    df = math.exp(-r * T)
    dq = _carry_discount(q, r, T, df)
    if v < MIN_TOTAL_VOL:
        # Deterministic limit: the option is the discounted payoff on the forward.
        fwd = S * dq
        strike_pv = K * df
        if fwd > strike_pv:
            n1 = 1.0
        elif fwd < strike_pv:
            n1 = 0.0
        else:
            n1 = 0.5
        if is_call:
            price = max(fwd - strike_pv, 0.0)
            delta = dq * n1
            theta = -r * strike_pv * n1 + q * fwd * n1
            rho = K * T * df * n1
        else:
            price = max(strike_pv - fwd, 0.0)
            delta = -dq * (1.0 - n1)
            theta = r * strike_pv * (1.0 - n1) - q * fwd * (1.0 - n1)
            rho = -K * T * df * (1.0 - n1)
        if T == 0.0:
            theta = 0.0
            rho = 0.0
        if forward_rho:
            rho = -T * price
        return price, delta, 0.0, 0.0, theta, rho
    d1 = (math.log(S / K) + (r - q) * T) / v + 0.5 * v
    d2 = d1 - v
    s_dq = S * dq
    k_df = K * df
    g1, g2 = _gauss_pair(d1, d2, s_dq, k_df)
    pdf1 = INV_SQRT2PI * g1
    gamma = dq * pdf1 / (S * v)
    vega = s_dq * pdf1 * sq_t
    decay = -s_dq * pdf1 * sigma / (2.0 * sq_t)
    # w = +1 call, -1 put: N(w d) on the option's own side keeps OTM values accurate, and the
    # arithmetic is the same for both rights (no unpredictable branch in a mixed chain)
    w = 1.0 if is_call else -1.0
    n1 = cdf_with_gauss(w * d1, g1)
    n2 = cdf_with_gauss(w * d2, g2)
    price = w * (s_dq * n1 - k_df * n2)
    delta = w * dq * n1
    theta = decay - w * (r * k_df * n2 - q * s_dq * n1)
    rho = w * K * T * df * n2
    if forward_rho:
        rho = -T * price
    return price, delta, gamma, vega, theta, rho


@njit(cache=True, error_model="numpy")
def price_serial(S, K, T, r, q, sigma, is_call, out):  # type: ignore[no-untyped-def]
    """Fill ``out`` (length n) with prices; inputs of length n or 1 (broadcast)."""
    n = out.shape[0]
    a = 1 if S.shape[0] > 1 else 0
    b = 1 if K.shape[0] > 1 else 0
    c = 1 if T.shape[0] > 1 else 0
    d = 1 if r.shape[0] > 1 else 0
    e = 1 if q.shape[0] > 1 else 0
    f = 1 if sigma.shape[0] > 1 else 0
    g = 1 if is_call.shape[0] > 1 else 0
    for i in range(n):
        out[i] = price_one(
            S[i * a], K[i * b], T[i * c], r[i * d], q[i * e], sigma[i * f], is_call[i * g]
        )


@njit(cache=True, parallel=True, error_model="numpy")
def price_parallel(S, K, T, r, q, sigma, is_call, out):  # type: ignore[no-untyped-def]
    """Multi-threaded :func:`price_serial`."""
    n = out.shape[0]
    a = 1 if S.shape[0] > 1 else 0
    b = 1 if K.shape[0] > 1 else 0
    c = 1 if T.shape[0] > 1 else 0
    d = 1 if r.shape[0] > 1 else 0
    e = 1 if q.shape[0] > 1 else 0
    f = 1 if sigma.shape[0] > 1 else 0
    g = 1 if is_call.shape[0] > 1 else 0
    for i in prange(n):
        out[i] = price_one(
            S[i * a], K[i * b], T[i * c], r[i * d], q[i * e], sigma[i * f], is_call[i * g]
        )


@njit(cache=True, error_model="numpy")
def greeks_serial(S, K, T, r, q, sigma, is_call, forward_rho, out):  # type: ignore[no-untyped-def]
    """Fill ``out`` (shape (6, n): price, delta, gamma, vega, theta, rho)."""
    n = out.shape[1]
    a = 1 if S.shape[0] > 1 else 0
    b = 1 if K.shape[0] > 1 else 0
    c = 1 if T.shape[0] > 1 else 0
    d = 1 if r.shape[0] > 1 else 0
    e = 1 if q.shape[0] > 1 else 0
    f = 1 if sigma.shape[0] > 1 else 0
    g = 1 if is_call.shape[0] > 1 else 0
    for i in range(n):
        p, de, ga, ve, th, rh = greeks_one(
            S[i * a],
            K[i * b],
            T[i * c],
            r[i * d],
            q[i * e],
            sigma[i * f],
            is_call[i * g],
            forward_rho,
        )
        out[0, i] = p
        out[1, i] = de
        out[2, i] = ga
        out[3, i] = ve
        out[4, i] = th
        out[5, i] = rh


@njit(cache=True, parallel=True, error_model="numpy")
def greeks_parallel(S, K, T, r, q, sigma, is_call, forward_rho, out):  # type: ignore[no-untyped-def]
    """Multi-threaded :func:`greeks_serial`."""
    n = out.shape[1]
    a = 1 if S.shape[0] > 1 else 0
    b = 1 if K.shape[0] > 1 else 0
    c = 1 if T.shape[0] > 1 else 0
    d = 1 if r.shape[0] > 1 else 0
    e = 1 if q.shape[0] > 1 else 0
    f = 1 if sigma.shape[0] > 1 else 0
    g = 1 if is_call.shape[0] > 1 else 0
    for i in prange(n):
        p, de, ga, ve, th, rh = greeks_one(
            S[i * a],
            K[i * b],
            T[i * c],
            r[i * d],
            q[i * e],
            sigma[i * f],
            is_call[i * g],
            forward_rho,
        )
        out[0, i] = p
        out[1, i] = de
        out[2, i] = ga
        out[3, i] = ve
        out[4, i] = th
        out[5, i] = rh


def empty_greeks(n: int) -> np.ndarray:
    """Output buffer for the Greeks kernels: shape (6, n), float64."""
    return np.empty((6, n), dtype=np.float64)
