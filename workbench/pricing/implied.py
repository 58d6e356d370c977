"""Implied volatility for Black-Scholes-Merton (spot) and Black-76 (forward) prices.

``sigma`` per sqrt(year), ``T`` in years, ``r``/``q`` continuous per year, prices in the units of
``S``/``F``. Inputs broadcast like NumPy ufuncs (scalars in give a NumPy float out).

NaN is returned, element by element, where no volatility reproduces the price: a price below
the intrinsic value of the forward (``max(F - K, 0) exp(-rT)`` for a call), at or above the upper
bound (``S exp(-qT)`` / ``F exp(-rT)`` for a call, ``K exp(-rT)`` for a put), ``T <= 0``,
``S``/``F``/``K <= 0``, or any NaN/infinite input. A price exactly at the intrinsic value gives 0.
In-the-money options are solved through their out-of-the-money twin (put-call parity), so their
accuracy is bounded by the rounding of their time value. See
:mod:`workbench.pricing.iv_kernels` for the method.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.pricing import iv_kernels, kernels
from workbench.pricing.inputs import (
    PARALLEL_MIN_SIZE_IV,
    prepare,
    scalar_args,
    scalar_is_call,
    shaped,
)

# Numba dispatchers, typed loosely: mypy cannot see their compiled signatures.
_IMPLIED_ONE: Any = iv_kernels.implied_one
_GREEKS_ONE: Any = kernels.greeks_one

_NAN5 = (float("nan"),) * 5


def _implied(
    price: Any, S: Any, K: Any, T: Any, r: Any, q: Any, is_call: Any, spot_name: str
) -> Any:
    numbers = scalar_args(price, S, K, T, r, r if q is None else q)
    call = scalar_is_call(is_call)
    if numbers is not None and call is not None:
        return np.float64(_IMPLIED_ONE(*numbers, call))
    if q is None:  # Black-76: the carry is the rate; errors name only what the caller passed
        prep = prepare(price=price, **{spot_name: S}, K=K, T=T, r=r, is_call=is_call)
        p_, s_, k_, t_, r_, call_ = prep.arrays
        arrays: tuple[np.ndarray, ...] = (p_, s_, k_, t_, r_, r_, call_)
    else:
        prep = prepare(price=price, **{spot_name: S}, K=K, T=T, r=r, q=q, is_call=is_call)
        arrays = prep.arrays
    out = np.empty(prep.size, dtype=np.float64)
    kernel: Any = (
        iv_kernels.implied_parallel
        if prep.size >= PARALLEL_MIN_SIZE_IV
        else iv_kernels.implied_serial
    )
    kernel(*arrays, out)
    return shaped(out, prep.shape)


def implied_vol(price: Any, S: Any, K: Any, T: Any, r: Any, is_call: Any, q: Any = 0.0) -> Any:
    """Black-Scholes-Merton implied volatility of European option prices on spot ``S``.

    Returns volatility per sqrt(year); NaN where no volatility reproduces the price (module
    docstring).
    """
    return _implied(price, S, K, T, r, q, is_call, "S")


def black76_implied_vol(price: Any, F: Any, K: Any, T: Any, r: Any, is_call: Any) -> Any:
    """Black-76 implied volatility of European options on a forward/futures price ``F``.

    Prices are discounted at ``r``; returns volatility per sqrt(year), NaN where none exists.
    """
    return _implied(price, F, K, T, r, None, is_call, "F")


def implied_greeks_one(
    price: float, S: float, K: float, T: float, r: float, is_call: bool
) -> tuple[float, float, float, float, float]:
    """``(iv, delta, gamma, vega, theta)`` of one European option on spot ``S`` (no dividend
    yield) from its ``price``: :func:`implied_vol`, then
    :func:`~workbench.pricing.black_scholes.bs_greeks` at that volatility, the same compiled
    kernels with the same arguments and so the same bits, without their argument checks and
    result wrapping (a few microseconds a leg instead of ~7: the engine's per-order Greeks).
    Arguments are taken as given: floats and a bool. All NaN when no positive volatility
    reproduces the price.
    """
    vol = float(_IMPLIED_ONE(price, S, K, T, r, 0.0, is_call))
    if not (vol == vol and vol > 0):
        return _NAN5
    _, delta, gamma, vega, theta, _ = _GREEKS_ONE(S, K, T, r, 0.0, vol, is_call, False)
    return vol, float(delta), float(gamma), float(vega), float(theta)


def implied_book_greeks(
    price: np.ndarray,
    S: np.ndarray,
    K: np.ndarray,
    T: np.ndarray,
    r: float,
    is_call: np.ndarray,
    units: np.ndarray,
    start: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0),
) -> tuple[float, float, float, float]:
    """A book's ``(delta, gamma, vega, theta)``: ``start`` plus each leg's ``units x`` Greek
    implied by its ``price`` (:func:`implied_greeks_one`), added leg by leg in the order given
    (NaN Greeks skipped), in one compiled loop: the same bits as that loop in Python.

    Arrays of one length (float64; ``is_call`` bool); ``S`` per leg (a book may hold several
    underlyings). A leg whose spot is not finite and positive adds nothing; a leg with
    ``T <= 0`` adds its payoff's delta (0.5 at the money) and zero gamma, vega and theta
    (:mod:`workbench.pricing.book_kernels`)."""
    from workbench.pricing.book_kernels import implied_book_serial

    n = price.shape[0]
    for name, values in (("S", S), ("K", K), ("T", T), ("is_call", is_call), ("units", units)):
        if values.shape != (n,):
            raise ValueError(f"implied_book_greeks: {name} has shape {values.shape}, price ({n},)")
    totals = np.array(start, dtype=np.float64)
    kernel: Any = implied_book_serial
    kernel(
        np.ascontiguousarray(price, dtype=np.float64),
        np.ascontiguousarray(S, dtype=np.float64),
        np.ascontiguousarray(K, dtype=np.float64),
        np.ascontiguousarray(T, dtype=np.float64),
        float(r),
        np.ascontiguousarray(is_call, dtype=np.bool_),
        np.ascontiguousarray(units, dtype=np.float64),
        totals,
    )
    d, g, v, t = totals.tolist()
    return d, g, v, t
