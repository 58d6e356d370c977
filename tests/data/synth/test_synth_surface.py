"""The volatility surface: term structure limits, put skew, and static no-arbitrage in strike."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.data.synth.surface import SurfaceParams, atm_vol, smile_vol
from workbench.pricing import bs_price

PARAMS = SurfaceParams(theta=0.15, kappa=6.0)


def test_atm_term_structure_starts_at_v_and_tends_to_theta() -> None:
    assert atm_vol(PARAMS, np.array(0.3), np.array(0.0)) == np.float64(0.3)
    far = float(atm_vol(PARAMS, np.array(0.3), np.array(50.0)))
    assert abs(far - 0.15) < 0.01
    # Hand value: T = 1/12, kappa T = 0.5, weight (1 - e^-0.5)/0.5 = 0.786939
    expected = np.sqrt(0.15**2 + (0.25**2 - 0.15**2) * (1 - np.exp(-0.5)) / 0.5)
    assert np.isclose(atm_vol(PARAMS, np.array(0.25), np.array(1 / 12)), expected)


def test_otm_puts_carry_more_vol_than_calls_the_same_distance_away() -> None:
    k = np.array([-0.05, 0.05])
    iv, _ = smile_vol(PARAMS, np.array(0.15), k, np.array(30 / 365))
    assert iv[0] > iv[1] + 0.01


@settings(max_examples=60, deadline=None)
@given(
    v=st.floats(0.06, 0.9),
    t_days=st.floats(0.01, 120.0),
    s=st.floats(1000.0, 50_000.0),
)
def test_prices_from_the_surface_are_monotone_in_strike(v: float, t_days: float, s: float) -> None:
    t = t_days / 365.0
    strikes = s * np.exp(np.linspace(-0.4, 0.4, 801))
    r, q = 0.065, 0.013
    fwd = s * np.exp((r - q) * t)
    iv, _ = smile_vol(PARAMS, np.array(v), np.log(strikes / fwd), np.array(t))
    calls = bs_price(s, strikes, t, r, iv, True, q=q)
    puts = bs_price(s, strikes, t, r, iv, False, q=q)
    tol = 1e-9 * s
    assert np.all(np.diff(calls) <= tol)
    assert np.all(np.diff(puts) >= -tol)
