"""Implied-volatility surface of the synthetic market.

Conventions: volatilities are annualised fractions (0.15 = 15 %) quoted on the pricing clock,
times to expiry ``T`` in years ACT/365 to the settlement instant
(:func:`workbench.pricing.year_fraction`, what every consumer of the data uses to imply
volatility), moneyness ``k = ln(K / F)`` against the forward ``F = S exp((r - q) T)``.
Business times ``tau`` are years of 252 trading days on the path's variance clock
(:mod:`.variance_clock`).

ATM level and term structure: the total ATM implied variance to a settlement is the path's
expected realised variance until then times a variance risk premium,

    ``w = variance_premium * (E[int v^2 d tau_diffusive] + jump_rate E[J^2] tau_jump)``,

where the expectation follows the path model of :mod:`.paths` from the current volatility
state ``v`` (log-Ornstein-Uhlenbeck mean reversion towards ``theta``, raised on average by the
down-jump lifts), so short maturities follow ``v`` and long ones its long-run level, and the
jumps are priced. The quoted ATM volatility is ``sqrt(w / T)``: on expiry day, with most of
the day's variance still to come in a few calendar hours, it is well above the level of the
same ``v`` a week out, as in real weekly-expiry markets quoted ACT/365.

Smile: with the standardised moneyness ``x = k / (atm * sqrt(T))`` (``T`` floored at
:attr:`SurfaceParams.min_t_years`, ``x`` clipped to ``±x_clip``)
``iv = atm * (1 - skew * tanh(x) + curvature * (sqrt(1 + x^2) - 1))``: puts (``x < 0``) carry
higher volatility than calls the same distance away (the jump risk is to the downside), and
both wings curve up. The slopes keep call prices decreasing and put prices increasing in strike
for the default parameters (checked by the tests).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from workbench.data.synth.paths import PathParams

# Gauss-Legendre nodes on [0, 1] for the integral of the expected variance over business time.
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(12)
_NODES = 0.5 * (_NODES + 1.0)
_WEIGHTS = 0.5 * _WEIGHTS


@dataclass(frozen=True, slots=True)
class SurfaceParams:
    """Shape of the implied-volatility surface (all dimensionless unless stated)."""

    # ATM implied variance / expected realised variance (1.2: implied vol ~1.095x realised).
    variance_premium: float = 1.2
    skew: float = 0.18  # put-side lift per unit of tanh(x)
    curvature: float = 0.10  # wing lift per unit of (sqrt(1 + x^2) - 1)
    x_clip: float = 6.0  # standardised moneyness beyond which the smile is flat
    min_t_years: float = 1.0 / (365.0 * 24.0)  # one hour: floor of T in the standardisation
    floor: float = 0.03  # lowest volatility the surface returns

    def __post_init__(self) -> None:
        if not (math.isfinite(self.variance_premium) and self.variance_premium > 0):
            raise ValueError(
                f"SurfaceParams.variance_premium must be a positive number, "
                f"got {self.variance_premium!r}"
            )


def _positive_part_moments(mean: float, sd: float) -> tuple[float, float]:
    """``E[X+]`` and ``E[(X+)^2]`` for ``X ~ N(mean, sd)``."""
    if sd <= 0:
        pos = max(mean, 0.0)
        return pos, pos * pos
    z = mean / sd
    cdf = 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))
    pdf = math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    return mean * cdf + sd * pdf, (mean * mean + sd * sd) * cdf + mean * sd * pdf


def expected_variance(
    paths: PathParams, v: ArrayLike, tau_diffusive: ArrayLike, tau_jump: ArrayLike
) -> np.ndarray:
    """Expected realised variance of log returns (total, not annualised) over business times.

    Diffusive part: ``int_0^tau E[v(s)^2] ds`` with ``ln v(s) ~ N(m(s), S^2(s))``,
    ``m(s) = a + (ln v - a) exp(-kappa s)``, ``S^2(s) = xi_e^2 (1 - exp(-2 kappa s)) / (2 kappa)``;
    the down-jump lifts of ``ln v`` (rate ``jump_rate``, size ``jump_vol_beta * (-J)+``) enter
    through their mean (``a = ln theta + jump_rate * beta * E[(-J)+] / kappa``) and variance
    (``xi_e^2 = xi^2 + jump_rate * beta^2 * E[((-J)+)^2]``); the ``v_min``/``v_max`` clip is
    ignored. Integrated by 12-point Gauss-Legendre (exact to ~1e-12 for ``kappa tau < 5``).
    Jump part: ``jump_rate * (jump_mean^2 + jump_sd^2) * tau_jump``.
    """
    if paths.kappa <= 0:
        raise ValueError(f"PathParams.kappa must be > 0, got {paths.kappa!r}")
    lift, lift_sq = _positive_part_moments(-paths.jump_mean, paths.jump_sd)
    a = math.log(paths.theta) + paths.jump_rate * paths.jump_vol_beta * lift / paths.kappa
    xi2 = paths.xi**2 + paths.jump_rate * paths.jump_vol_beta**2 * lift_sq
    ln_v = np.log(np.asarray(v, dtype=np.float64))[..., None]
    tau = np.maximum(np.asarray(tau_diffusive, dtype=np.float64), 0.0)
    s = tau[..., None] * _NODES
    decay = np.exp(-paths.kappa * s)
    mean = a + (ln_v - a) * decay
    var = xi2 * (1.0 - decay * decay) / (2.0 * paths.kappa)
    diffusive = tau * np.sum(_WEIGHTS * np.exp(2.0 * mean + 2.0 * var), axis=-1)
    jump_var = paths.jump_rate * (paths.jump_mean**2 + paths.jump_sd**2)
    return diffusive + jump_var * np.maximum(np.asarray(tau_jump, dtype=np.float64), 0.0)


def atm_total_variance(
    params: SurfaceParams,
    paths: PathParams,
    v: ArrayLike,
    tau_diffusive: ArrayLike,
    tau_jump: ArrayLike,
) -> np.ndarray:
    """Total ATM implied variance ``w = variance_premium * expected_variance`` (not annualised)."""
    return params.variance_premium * expected_variance(paths, v, tau_diffusive, tau_jump)


def atm_vol(
    params: SurfaceParams,
    paths: PathParams,
    v: ArrayLike,
    tau_diffusive: ArrayLike,
    tau_jump: ArrayLike,
    t_years: ArrayLike,
) -> np.ndarray:
    """ATM implied volatility on the pricing clock: ``sqrt(w / T)``, at least ``floor``.

    At ``T = 0`` (settled: the price is intrinsic whatever the volatility) it is
    ``sqrt(variance_premium) * v``.
    """
    w = atm_total_variance(params, paths, v, tau_diffusive, tau_jump)
    t = np.asarray(t_years, dtype=np.float64)
    live = t > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        quoted = np.sqrt(np.where(live, w / np.where(live, t, 1.0), 0.0))
    settled = np.sqrt(params.variance_premium) * np.asarray(v, dtype=np.float64)
    return np.maximum(np.where(live, quoted, settled), params.floor)


def standardised_moneyness(
    params: SurfaceParams, log_moneyness: np.ndarray, atm: np.ndarray, t_years: np.ndarray
) -> np.ndarray:
    """``x = ln(K/F) / (atm * sqrt(max(T, min_t_years)))`` clipped to ``±x_clip``."""
    scale = atm * np.sqrt(np.maximum(t_years, params.min_t_years))
    return np.clip(log_moneyness / scale, -params.x_clip, params.x_clip)


def smile_vol(
    params: SurfaceParams, atm: np.ndarray, log_moneyness: np.ndarray, t_years: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Implied volatility at ``ln(K/F)`` and ``T`` around the ATM level ``atm`` (:func:`atm_vol`).

    Returns ``(iv, x)`` with ``x`` the standardised moneyness.
    """
    x = standardised_moneyness(params, log_moneyness, atm, t_years)
    shape = 1.0 - params.skew * np.tanh(x) + params.curvature * (np.sqrt(1.0 + x * x) - 1.0)
    return np.maximum(atm * shape, params.floor), x
