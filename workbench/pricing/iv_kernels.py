"""Numba kernels for implied volatility: a safeguarded Halley solver in normalised Black.

Method (after Jaeckel's "By Implication" / "Let's Be Rational" papers, re-derived, not ported):

- Normalise: with ``F = S exp((r - q) T)``, ``D = exp(-r T)``, ``x = ln(F / K)``, the
  undiscounted price divided by ``sqrt(F K)`` is
  ``b(x, s) = exp(x/2) N(x/s + s/2) - exp(-x/2) N(x/s - s/2)`` for a call, with ``s = sigma sqrt(T)``.
- Reduce every option to an out-of-the-money call (``x <= 0``): a put is a call at ``-x``, and an
  in-the-money call is turned into its out-of-the-money twin by put-call parity
  (``b(x) - b(-x) = 2 sinh(x/2)``). Only time value is solved for; the rounding floor of deep
  in-the-money prices is therefore that of their time value.
- Evaluate ``b`` and ``db/ds`` from one exponential and the scaled complementary error function
  (:func:`workbench.pricing.normal.erfcx`): a difference of two ``erfcx`` values below the
  inflection point ``s_c = sqrt(2|x|)`` (relative accuracy however small the price), the bound
  minus a sum above it.
- Solve ``ln b(s) = ln beta`` with Halley steps (the analytic ``b' = exp(-x^2/(2 s^2) - s^2/8) /
  sqrt(2 pi)`` and ``b''/b' = x^2/s^3 - s/4``), from an asymptotic initial guess, inside a
  bracket that shrinks with every evaluation (bisection when a step leaves it).

Domain: ``price`` finite and ``>= 0``, ``S``/``F`` ``> 0``, ``K > 0``, ``T > 0``, ``r``/``q``
finite. Outside it, below intrinsic value, or at/above the upper bound (the discounted forward
for a call, the discounted strike for a put) the result is NaN. A price equal to the intrinsic
(time value exactly 0) gives 0.
"""

from __future__ import annotations

import math

from numba import njit, prange

from workbench.pricing.normal import INV_SQRT2, erfcx

SQRT2PI = math.sqrt(2.0 * math.pi)
INV_SQRT2PI = 1.0 / SQRT2PI
LOG_SQRT2PI = math.log(SQRT2PI)
#: Relative bracket width at which a bisecting search stops.
STEP_TOL = 1e-13
#: A Halley step at most this relative size is the last one needed (cubic convergence leaves an
#: error of order its cube times the curvature, ~1e-16 relative here).
FINAL_STEP = 1e-6
MAX_ITER = 60


@njit(cache=True, error_model="numpy")
def normalised_call(x: float, s: float) -> tuple[float, float]:
    """Normalised Black call ``b(x, s)`` and ``db/ds`` for ``x <= 0``, ``s > 0``.

    Both share ``E = exp(x/2) n(d1) sqrt(2 pi) = exp(-x^2/(2 s^2) - s^2/8)``: ``db/ds = E / sqrt(2 pi)``
    and, with ``erfcx`` carrying the tails, ``b = E (erfcx(-d1/sqrt 2) - erfcx(-d2/sqrt 2)) / 2``
    below the inflection point (``d1 <= 0``: relative precision however small ``b`` is) and
    ``b = exp(x/2) - E (erfcx(d1/sqrt 2) + erfcx(-d2/sqrt 2)) / 2`` above it.
    """
    gauss = math.exp(-0.5 * x * x / (s * s) - 0.125 * s * s)
    d1 = x / s + 0.5 * s
    d2 = d1 - s
    if d1 <= 0.0:
        b = 0.5 * gauss * (erfcx(-d1 * INV_SQRT2) - erfcx(-d2 * INV_SQRT2))
    else:
        b = math.exp(0.5 * x) - 0.5 * gauss * (erfcx(d1 * INV_SQRT2) + erfcx(-d2 * INV_SQRT2))
    return b, INV_SQRT2PI * gauss


@njit(cache=True, error_model="numpy")
def _initial_guess(x: float, beta: float, upper: float) -> float:
    """Starting ``s`` for ``b(x, s) = beta`` (``x <= 0``, ``0 < beta < upper = exp(x/2)``)."""
    ax = -x
    if ax == 0.0:
        # At the money b = erf(s / (2 sqrt 2)) ~ s / sqrt(2 pi) for small s.
        if beta < 0.3:
            return SQRT2PI * beta
        s_c = 0.0
        b_c = 0.0
    else:
        s_c = math.sqrt(2.0 * ax)
        b_c = normalised_call(x, s_c)[0]
    if beta <= b_c:
        # Lower region: b ~ s^3/x^2 exp(-x^2/(2 s^2)) / sqrt(2 pi); three fixed-point passes.
        s = s_c
        base = -math.log(beta) - 2.0 * math.log(ax) - LOG_SQRT2PI
        for _ in range(3):
            lg = base + 3.0 * math.log(s)
            if lg <= 0.0:
                break
            s_new = ax / math.sqrt(2.0 * lg)
            if s_new > s_c:
                break
            s = s_new
        return s
    # Upper region: b_max - b ~ (exp(x/2) + exp(-x/2)) N(-s/2); invert N with Abramowitz &
    # Stegun 26.2.23 (absolute error < 4.5e-4, plenty for a start).
    tail = (upper - beta) / (upper + 1.0 / upper)
    if not (tail < 0.5):
        return s_c
    t = math.sqrt(-2.0 * math.log(tail))
    z = t - (2.515517 + t * (0.802853 + t * 0.010328)) / (
        1.0 + t * (1.432788 + t * (0.189269 + t * 0.001308))
    )
    return max(2.0 * z, s_c)


@njit(cache=True, error_model="numpy")
def normalised_implied(x: float, beta: float) -> float:
    """``s = sigma sqrt(T)`` solving ``b(x, s) = beta`` for an OTM call (``x <= 0``).

    NaN if ``beta`` is outside ``[0, exp(x/2))``; 0 if ``beta == 0``.
    """
    upper = math.exp(0.5 * x)
    if not (beta >= 0.0) or not (beta < upper):
        return math.nan
    if beta == 0.0:
        return 0.0
    log_beta = math.log(beta)
    lo = 0.0
    hi = math.inf
    s = _initial_guess(x, beta, upper)
    if not (s > 0.0) or not math.isfinite(s):
        s = 1.0
    x2 = x * x
    for _ in range(MAX_ITER):
        b, db = normalised_call(x, s)
        if not (b > 0.0):
            # Underflow (or cancellation to zero): s far too small.
            lo = s
            s = 2.0 * s if hi == math.inf else 0.5 * (lo + hi)
            continue
        g = math.log(b) - log_beta
        if g < 0.0:
            lo = s
        elif g > 0.0:
            hi = s
        else:
            return s
        g1 = db / b
        if not (g1 > 0.0):
            s_new = 2.0 * s if hi == math.inf else 0.5 * (lo + hi)
        else:
            nu = g / g1
            h = (x2 / (s * s * s) - 0.25 * s) - g1
            denom = 1.0 - 0.5 * nu * h
            step = nu / denom if denom > 0.5 else nu
            if abs(step) <= FINAL_STEP * s:
                # Converged: Halley's error is cubic, so after a step this small the remaining
                # error is far below rounding (checked before the bracket test, which a step
                # below rounding could fail).
                return s - step
            s_new = s - step
            if not (lo < s_new < hi):
                s_new = 2.0 * s if hi == math.inf else (0.5 * (lo + hi) if lo > 0.0 else 0.5 * hi)
        if hi - lo <= STEP_TOL * s:
            return 0.5 * (lo + hi)
        s = s_new
    return s


@njit(cache=True, error_model="numpy")
def implied_one(
    price: float, S: float, K: float, T: float, r: float, q: float, is_call: bool
) -> float:
    """Black-Scholes-Merton implied volatility of one option (per sqrt(year)); NaN if none."""
    if not (
        price >= 0.0
        and math.isfinite(price)
        and S > 0.0
        and math.isfinite(S)
        and K > 0.0
        and math.isfinite(K)
        and T > 0.0
        and math.isfinite(T)
        and math.isfinite(r)
        and math.isfinite(q)
    ):
        return math.nan
    df = math.exp(-r * T)
    fwd = S * math.exp((r - q) * T)
    x = math.log(fwd / K)
    undiscounted = price / df
    if not is_call:
        x = -x
    # Now a call at log-moneyness x with the price's normalisation sqrt(F K).
    norm = math.sqrt(fwd) * math.sqrt(K)
    if x > 0.0:
        # In the money: time value via put-call parity, then the OTM twin at -x.
        intrinsic = fwd - K if is_call else K - fwd
        beta = (undiscounted - intrinsic) / norm
        x = -x
    else:
        beta = undiscounted / norm
    s = normalised_implied(x, beta)
    return s / math.sqrt(T)


@njit(cache=True, error_model="numpy")
def implied_serial(price, S, K, T, r, q, is_call, out):  # type: ignore[no-untyped-def]
    """Fill ``out`` (length n) with implied vols; inputs of length n or 1 (broadcast)."""
    n = out.shape[0]
    a = 1 if price.shape[0] > 1 else 0
    b = 1 if S.shape[0] > 1 else 0
    c = 1 if K.shape[0] > 1 else 0
    d = 1 if T.shape[0] > 1 else 0
    e = 1 if r.shape[0] > 1 else 0
    f = 1 if q.shape[0] > 1 else 0
    g = 1 if is_call.shape[0] > 1 else 0
    for i in range(n):
        out[i] = implied_one(
            price[i * a], S[i * b], K[i * c], T[i * d], r[i * e], q[i * f], is_call[i * g]
        )


@njit(cache=True, parallel=True, error_model="numpy")
def implied_parallel(price, S, K, T, r, q, is_call, out):  # type: ignore[no-untyped-def]
    """Multi-threaded :func:`implied_serial`."""
    n = out.shape[0]
    a = 1 if price.shape[0] > 1 else 0
    b = 1 if S.shape[0] > 1 else 0
    c = 1 if K.shape[0] > 1 else 0
    d = 1 if T.shape[0] > 1 else 0
    e = 1 if r.shape[0] > 1 else 0
    f = 1 if q.shape[0] > 1 else 0
    g = 1 if is_call.shape[0] > 1 else 0
    for i in prange(n):
        out[i] = implied_one(
            price[i * a], S[i * b], K[i * c], T[i * d], r[i * e], q[i * f], is_call[i * g]
        )
