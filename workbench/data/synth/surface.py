"""Implied-volatility surface of the synthetic market.

Conventions: volatilities are annualised fractions (0.15 = 15 %), times to expiry ``T`` are in
years (ACT/365 calendar time), moneyness is ``k = ln(K / F)`` against the forward
``F = S exp((r - q) T)``.

The surface is driven by one state variable, the instantaneous ATM volatility ``v`` of the
stochastic-volatility path:

* term structure: the ATM volatility for maturity ``T`` is the root mean expected variance of a
  mean-reverting variance ``v^2 -> theta^2`` at speed ``kappa``, so short maturities follow
  ``v`` and long ones stay near ``theta``;
* smile: with the standardised moneyness ``x = k / (atm * sqrt(T))`` (``T`` floored at
  :attr:`SurfaceParams.min_t_years`, ``x`` clipped to ``±x_clip``)
  ``iv = atm * (1 - skew * tanh(x) + curvature * (sqrt(1 + x^2) - 1))``:
  puts (``x < 0``) carry higher volatility than calls the same distance away, and both wings
  curve up. The slopes keep call prices decreasing and put prices increasing in strike for the
  default parameters (checked by the tests).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class SurfaceParams:
    """Shape of the implied-volatility surface (all dimensionless unless stated)."""

    theta: float  # long-run ATM volatility, annualised fraction
    kappa: float  # mean-reversion speed of variance, per year
    skew: float = 0.18  # put-side lift per unit of tanh(x)
    curvature: float = 0.10  # wing lift per unit of (sqrt(1 + x^2) - 1)
    x_clip: float = 6.0  # standardised moneyness beyond which the smile is flat
    min_t_years: float = 1.0 / (365.0 * 24.0)  # one hour: floor of T in the standardisation
    floor: float = 0.03  # lowest volatility the surface returns


def atm_vol(params: SurfaceParams, v: np.ndarray, t_years: np.ndarray) -> np.ndarray:
    """ATM implied volatility for maturity ``t_years`` given the instantaneous level ``v``.

    ``sqrt(theta^2 + (v^2 - theta^2) * (1 - exp(-kappa T)) / (kappa T))``; equals ``v`` at
    ``T = 0``.
    """
    kt = params.kappa * np.maximum(t_years, 0.0)
    weight = np.where(kt > 1e-8, -np.expm1(-kt) / np.where(kt > 1e-8, kt, 1.0), 1.0 - 0.5 * kt)
    var = params.theta**2 + (np.asarray(v) ** 2 - params.theta**2) * weight
    return np.sqrt(np.maximum(var, params.floor**2))


def standardised_moneyness(
    params: SurfaceParams, log_moneyness: np.ndarray, atm: np.ndarray, t_years: np.ndarray
) -> np.ndarray:
    """``x = ln(K/F) / (atm * sqrt(max(T, min_t_years)))`` clipped to ``±x_clip``."""
    scale = atm * np.sqrt(np.maximum(t_years, params.min_t_years))
    return np.clip(log_moneyness / scale, -params.x_clip, params.x_clip)


def smile_vol(
    params: SurfaceParams, v: np.ndarray, log_moneyness: np.ndarray, t_years: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Implied volatility at ``ln(K/F)`` and ``T``; returns ``(iv, x)`` with ``x`` standardised."""
    atm = atm_vol(params, v, t_years)
    x = standardised_moneyness(params, log_moneyness, atm, t_years)
    shape = 1.0 - params.skew * np.tanh(x) + params.curvature * (np.sqrt(1.0 + x * x) - 1.0)
    return np.maximum(atm * shape, params.floor), x
