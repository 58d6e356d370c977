"""The volatility surface: expected variance (term structure), pricing-clock quotes, put skew,
and static no-arbitrage in strike."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from workbench.data.synth.paths import PathParams
from workbench.data.synth.surface import (
    SurfaceParams,
    atm_total_variance,
    atm_vol,
    expected_variance,
    smile_vol,
)
from workbench.pricing import bs_price

PARAMS = SurfaceParams(variance_premium=1.2)
NO_JUMPS = PathParams(s0=100.0, v0=0.15, theta=0.15, jump_rate=0.0)


def test_constant_volatility_accrues_theta_squared_tau() -> None:
    calm = PathParams(s0=100.0, v0=0.15, theta=0.15, xi=0.0, jump_rate=0.0)
    tau = np.array([0.0, 1 / 252, 0.5])
    assert np.allclose(expected_variance(calm, np.full(3, 0.15), tau, tau), 0.0225 * tau)
    # Quoted on the pricing clock: total variance over T of calendar time.
    w = atm_total_variance(PARAMS, calm, np.array(0.15), np.array(1 / 252), np.array(1 / 252))
    assert np.isclose(w, 1.2 * 0.0225 / 252)
    t = 1.0 / 365.0
    assert np.isclose(atm_vol(PARAMS, calm, np.array(0.15), 1 / 252, 1 / 252, t), np.sqrt(w / t))


def test_expected_variance_matches_an_independent_quadrature_with_jumps() -> None:
    # Reference: scipy quad of E[v(s)^2] for the log-OU with jump lifts, the lift moments by
    # numerical integration over the jump-size density (not the closed forms in the module).
    p = PathParams(s0=100.0, v0=0.2, theta=0.12, kappa=5.0, xi=1.0, jump_rate=5.0,
                   jump_mean=-0.01, jump_sd=0.025, jump_vol_beta=6.0)  # fmt: skip
    dens = stats.norm(p.jump_mean, p.jump_sd)
    lift = integrate.quad(lambda j: max(-j, 0.0) * dens.pdf(j), -1, 1, points=[0.0])[0]
    lift2 = integrate.quad(lambda j: max(-j, 0.0) ** 2 * dens.pdf(j), -1, 1, points=[0.0])[0]
    a = math.log(p.theta) + p.jump_rate * p.jump_vol_beta * lift / p.kappa
    xi2 = p.xi**2 + p.jump_rate * p.jump_vol_beta**2 * lift2

    def ev2(s: float, v: float) -> float:
        m = a + (math.log(v) - a) * math.exp(-p.kappa * s)
        var = xi2 * (1 - math.exp(-2 * p.kappa * s)) / (2 * p.kappa)
        return math.exp(2 * m + 2 * var)

    for v, tau in [(0.2, 1 / 252), (0.08, 0.1), (0.35, 0.4)]:
        ref = integrate.quad(ev2, 0.0, tau, args=(v,))[0]
        ref += p.jump_rate * (p.jump_mean**2 + p.jump_sd**2) * tau
        got = float(expected_variance(p, np.array(v), np.array(tau), np.array(tau)))
        assert got == pytest.approx(ref, rel=1e-9)


def test_term_structure_starts_at_v_and_tends_to_the_long_run_level() -> None:
    short = expected_variance(NO_JUMPS, np.array(0.3), np.array(1e-6), np.array(1e-6)) / 1e-6
    assert np.isclose(short, 0.09, rtol=1e-4)
    # Stationary log-normal: E[v^2] = theta^2 exp(xi^2 / kappa).
    far = expected_variance(NO_JUMPS, np.array(0.3), np.array(60.0), np.array(60.0)) / 60.0
    assert np.isclose(far, 0.0225 * np.exp(1.1**2 / 5.0), rtol=0.01)


def test_a_settled_option_is_quoted_at_the_current_level() -> None:
    got = atm_vol(PARAMS, NO_JUMPS, np.array(0.2), np.array(0.0), np.array(0.0), np.array(0.0))
    assert np.isclose(got, np.sqrt(1.2) * 0.2)


def test_variance_premium_must_be_positive() -> None:
    with pytest.raises(ValueError, match="variance_premium"):
        SurfaceParams(variance_premium=0.0)
    with pytest.raises(ValueError, match="variance_premium"):
        SurfaceParams(variance_premium=float("nan"))


def test_otm_puts_carry_more_vol_than_calls_the_same_distance_away() -> None:
    k = np.array([-0.05, 0.05])
    iv, _ = smile_vol(PARAMS, np.array(0.15), k, np.array(30 / 365))
    assert iv[0] > iv[1] + 0.01


@settings(max_examples=60, deadline=None)
@given(
    atm=st.floats(0.06, 0.9),
    t_days=st.floats(0.01, 120.0),
    s=st.floats(1000.0, 50_000.0),
)
def test_prices_from_the_surface_are_monotone_in_strike(
    atm: float, t_days: float, s: float
) -> None:
    t = t_days / 365.0
    strikes = s * np.exp(np.linspace(-0.4, 0.4, 801))
    r, q = 0.065, 0.013
    fwd = s * np.exp((r - q) * t)
    iv, _ = smile_vol(PARAMS, np.array(atm), np.log(strikes / fwd), np.array(t))
    calls = bs_price(s, strikes, t, r, iv, True, q=q)
    puts = bs_price(s, strikes, t, r, iv, False, q=q)
    tol = 1e-9 * s
    assert np.all(np.diff(calls) <= tol)
    assert np.all(np.diff(puts) >= -tol)


@pytest.mark.parametrize("profile", ["nifty-intraday", "spx-eod"])
@settings(max_examples=40, deadline=None)
@given(atm=st.floats(0.06, 0.9), t_days=st.floats(0.01, 120.0))
def test_the_calibrated_smiles_are_free_of_static_arbitrage(
    profile: str, atm: float, t_days: float
) -> None:
    # The profiles' own smiles (NIFTY's fitted on 2025-08-29, SPX's steeper one on 2019's
    # 30-day chains): calls fall and puts rise with the strike, and both are convex in it.
    from workbench.data.synth import nifty, spx

    surface = (nifty.DEFAULT_PARAMS if profile == "nifty-intraday" else spx.DEFAULT_PARAMS).surface
    t = t_days / 365.0
    strikes = 100.0 * np.exp(np.linspace(-0.5, 0.5, 1001))
    iv, _ = smile_vol(surface, np.array(atm), np.log(strikes), np.array(t))
    for is_call in (True, False):
        price = bs_price(100.0, strikes, t, 0.0, iv, is_call)
        slope = np.diff(price) / np.diff(strikes)
        assert np.all(slope <= 1e-9 if is_call else slope >= -1e-9)
        assert np.all(np.diff(slope) >= -1e-9 * (1.0 + np.abs(slope[1:])))
