"""European option prices and Greeks: Black-Scholes-Merton on spot, Black-76 on a forward.

Conventions (the same as QuantLib's ``AnalyticEuropeanEngine``):

- ``S`` spot, ``F`` forward or futures price, ``K`` strike (same units), ``T`` time to expiry in
  years (see :func:`workbench.pricing.year_fraction`), ``r`` continuously compounded risk-free
  rate per year, ``q`` continuous dividend yield per year, ``sigma`` volatility per sqrt(year),
  ``is_call`` bool (or ``"C"``/``"P"``).
- Greeks: delta per 1 unit of the underlying (``S`` or ``F``), gamma per unit squared, vega per
  1.00 of volatility (divide by 100 for "per vol point"), theta per year of calendar time
  (``dV/dt``; divide by 365 for "per day"), rho per 1.00 of rate.
- Black-76: ``price = exp(-rT) * (F N(d1) - K N(d2))``; its Greeks are with respect to ``F``,
  and its rho holds ``F`` fixed (``rho = -T * price``).

Inputs broadcast like NumPy ufuncs; the result has the broadcast shape (a NumPy float when every
input is a scalar). Elements outside the domain (``S`` or ``F`` ``<= 0``, ``K <= 0``, ``T < 0``,
``sigma < 0``, any NaN or infinity) give NaN; shapes that do not broadcast, or non-numeric
values, raise ``ValueError`` naming the parameter. ``T == 0`` is expiry: the payoff's value and
Greeks (delta 1/0, or 0.5 exactly at the money; the other Greeks 0).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.pricing import kernels
from workbench.pricing.inputs import (
    PARALLEL_MIN_SIZE,
    Prepared,
    prepare,
    scalar_args,
    scalar_is_call,
    shaped,
)

GREEK_NAMES: tuple[str, ...] = ("price", "delta", "gamma", "vega", "theta", "rho")

# Numba dispatchers, typed loosely: mypy cannot see their compiled signatures.
_PRICE_ONE: Any = kernels.price_one
_GREEKS_ONE: Any = kernels.greeks_one


def _kernel_args(
    S: Any, K: Any, T: Any, r: Any, q: Any, sigma: Any, is_call: Any, spot_name: str
) -> tuple[tuple[np.ndarray, ...], Prepared]:
    """Kernel arrays ``(S, K, T, r, q, sigma, is_call)``; ``q=None`` means ``q = r`` (Black-76),
    so errors only name parameters the caller passed."""
    if q is None:
        prep = prepare(**{spot_name: S}, K=K, T=T, r=r, sigma=sigma, is_call=is_call)
        s_, k_, t_, r_, sigma_, call_ = prep.arrays
        return (s_, k_, t_, r_, r_, sigma_, call_), prep
    prep = prepare(**{spot_name: S}, K=K, T=T, r=r, q=q, sigma=sigma, is_call=is_call)
    return prep.arrays, prep


def _price(S: Any, K: Any, T: Any, r: Any, q: Any, sigma: Any, is_call: Any, spot_name: str) -> Any:
    numbers = scalar_args(S, K, T, r, r if q is None else q, sigma)
    call = scalar_is_call(is_call)
    if numbers is not None and call is not None:
        return np.float64(_PRICE_ONE(*numbers, call))
    arrays, prep = _kernel_args(S, K, T, r, q, sigma, is_call, spot_name)
    out = np.empty(prep.size, dtype=np.float64)
    kernel: Any = kernels.price_parallel if prep.size >= PARALLEL_MIN_SIZE else kernels.price_serial
    kernel(*arrays, out)
    return shaped(out, prep.shape)


def _greeks(
    S: Any,
    K: Any,
    T: Any,
    r: Any,
    q: Any,
    sigma: Any,
    is_call: Any,
    spot_name: str,
    forward_rho: bool,
) -> dict[str, Any]:
    numbers = scalar_args(S, K, T, r, r if q is None else q, sigma)
    call = scalar_is_call(is_call)
    if numbers is not None and call is not None:
        values = _GREEKS_ONE(*numbers, call, forward_rho)
        return {name: np.float64(v) for name, v in zip(GREEK_NAMES, values)}
    arrays, prep = _kernel_args(S, K, T, r, q, sigma, is_call, spot_name)
    out = kernels.empty_greeks(prep.size)
    kernel: Any = (
        kernels.greeks_parallel if prep.size >= PARALLEL_MIN_SIZE else kernels.greeks_serial
    )
    kernel(*arrays, forward_rho, out)
    return {name: shaped(out[i], prep.shape) for i, name in enumerate(GREEK_NAMES)}


def bs_price(S: Any, K: Any, T: Any, r: Any, sigma: Any, is_call: Any, q: Any = 0.0) -> Any:
    """Black-Scholes-Merton price of European options on spot ``S`` with dividend yield ``q``.

    Returns prices in the units of ``S``; see the module docstring for units and domain.
    """
    return _price(S, K, T, r, q, sigma, is_call, "S")


def bs_greeks(
    S: Any, K: Any, T: Any, r: Any, sigma: Any, is_call: Any, q: Any = 0.0
) -> dict[str, Any]:
    """Black-Scholes-Merton price and Greeks.

    Returns ``{"price", "delta", "gamma", "vega", "theta", "rho"}``: delta per unit of ``S``,
    gamma per unit of ``S`` squared, vega per 1.00 of volatility, theta per year, rho per 1.00
    of ``r`` (``q`` held fixed).
    """
    return _greeks(S, K, T, r, q, sigma, is_call, "S", forward_rho=False)


def black76_price(F: Any, K: Any, T: Any, r: Any, sigma: Any, is_call: Any) -> Any:
    """Black-76 price of European options on a forward/futures price ``F``, discounted at ``r``."""
    return _price(F, K, T, r, None, sigma, is_call, "F")


def black76_greeks(F: Any, K: Any, T: Any, r: Any, sigma: Any, is_call: Any) -> dict[str, Any]:
    """Black-76 price and Greeks with respect to the forward ``F``.

    Returns ``{"price", "delta", "gamma", "vega", "theta", "rho"}``: delta per unit of ``F``,
    gamma per unit of ``F`` squared, vega per 1.00 of volatility, theta per year (``F`` fixed),
    rho per 1.00 of ``r`` with ``F`` fixed (``-T * price``).
    """
    return _greeks(F, K, T, r, None, sigma, is_call, "F", forward_rho=True)
