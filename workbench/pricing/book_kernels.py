"""Numba kernel for the Greeks of a book of options implied by their prices, summed leg by leg.

A positional book values every open leg every day: its implied volatility from its mark, then
its Greeks at that volatility, then each Greek times the leg's signed units added to the book's
total. Done leg by leg in Python (or as arrays scattered back into lists) that is a dozen
interpreter steps a leg; here it is one compiled loop over arrays in the book's order.

The per-leg numbers are :func:`~workbench.pricing.iv_kernels.implied_one` then
:func:`~workbench.pricing.kernels.greeks_one` with no dividend yield and the spot rho, exactly
as :func:`~workbench.pricing.implied.implied_greeks_one` computes them, and each total adds
``units * greek`` in the order given, skipping NaN, as a Python loop over the legs would: the
same operations, so the same bits (no fast-math; see :mod:`workbench.pricing.kernels`).
"""

from __future__ import annotations

import math

from numba import njit

from workbench.pricing.iv_kernels import implied_one
from workbench.pricing.kernels import greeks_one


@njit(cache=True, error_model="numpy")
def implied_book_serial(price, S, K, T, r, is_call, units, totals):  # type: ignore[no-untyped-def]
    """Add each leg's ``units x (delta, gamma, vega, theta)`` to ``totals`` (length 4), in order.

    Per leg ``i`` (all arrays of one length): a spot ``S[i]`` that is not finite and positive
    adds nothing; ``T[i] <= 0`` (at or after settlement) adds the payoff's delta (1 / -1 in the
    money, 0 out, 0.5 / -0.5 at the money) and zero gamma, vega and theta; otherwise the
    volatility implied by ``price[i]`` (none: the leg adds nothing) and the Greeks at it, each
    added unless NaN.
    """
    for i in range(price.shape[0]):
        s = S[i]
        if not (math.isfinite(s) and s > 0.0):
            continue
        u = units[i]
        k = K[i]
        call = is_call[i]
        t = T[i]
        if t <= 0.0:
            m = s - k if call else k - s
            d = 1.0 if m > 0 else (0.0 if m < 0 else 0.5)
            totals[0] += u * (d if call else -d)
            totals[1] += u * 0.0
            totals[2] += u * 0.0
            totals[3] += u * 0.0
            continue
        vol = implied_one(price[i], s, k, t, r, 0.0, call)
        if not (vol == vol and vol > 0):
            continue
        _, delta, gamma, vega, theta, _ = greeks_one(s, k, t, r, 0.0, vol, call, False)
        if delta == delta:
            totals[0] += u * delta
        if gamma == gamma:
            totals[1] += u * gamma
        if vega == vega:
            totals[2] += u * vega
        if theta == theta:
            totals[3] += u * theta
