"""Open interest of the synthetic market, recomputable for any (instrument, day).

``oi_level`` is the open interest (contracts) at the end of a day: a Gaussian bump in log
moneyness around that day's reference spot, heavier on the out-of-the-money side (puts below
the spot, calls above), larger for monthlies, times a per-(instrument, day) uniform factor from
:func:`workbench.data.synth.seeding.hash_uniform`. Being a pure function of its keys, the
previous day's level is available when building any day in isolation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.data.synth.seeding import hash_uniform


@dataclass(frozen=True, slots=True)
class OpenInterestParams:
    peak: float = 60_000.0  # contracts at the money for a weekly
    width: float = 0.03  # sd of the bump in log moneyness
    otm_weight: float = 1.4  # out-of-the-money side multiplier
    itm_weight: float = 0.5  # in-the-money side multiplier
    monthly_factor: float = 1.5
    noise: float = 0.6  # level multiplied by (1 - noise/2 + noise * u)


def oi_level(
    params: OpenInterestParams,
    seed: int,
    expiry_ordinal: np.ndarray,
    strike: np.ndarray,
    is_call: np.ndarray,
    day_ordinal: int,
    spot: float,
    monthly: np.ndarray,
) -> np.ndarray:
    """End-of-day open interest in contracts (float; callers round)."""
    k = np.log(strike / spot)
    otm = np.where(is_call, k > 0, k < 0)
    side = np.where(otm, params.otm_weight, params.itm_weight)
    u = hash_uniform(
        seed, "oi", expiry_ordinal, np.rint(strike * 100), is_call.astype(np.int64), day_ordinal
    )
    level = params.peak * np.exp(-0.5 * (k / params.width) ** 2) * side
    level *= np.where(monthly, params.monthly_factor, 1.0)
    return np.floor(level * (1.0 - 0.5 * params.noise + params.noise * u))
