"""The calibration statistics on hand-made inputs, against independent references."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest
from scipy import integrate, stats

from workbench.data.synth.calibration import (
    MarketSample,
    bipower_jump_share,
    excess_kurtosis,
    forward_realised_vol,
    implied_sigma_exceedance,
    iv_rv_ratio,
    measure,
    model_free_vol,
    overnight_share,
    session_profile,
    session_realised_vol,
    yearly,
)
from workbench.data.synth.sample import intraday_straddle_pnl, sample_market
from workbench.data.synth.surface import SurfaceParams, smile_vol
from workbench.pricing import bs_price


def test_forward_realised_vol_looks_at_the_days_after() -> None:
    r = np.array([np.nan, 0.01, -0.02, 0.03, np.nan, 0.01, 0.01])
    got = forward_realised_vol(r, 2)
    expected = np.sqrt(252 * np.array([(1e-4 + 4e-4) / 2, (4e-4 + 9e-4) / 2]))
    assert np.allclose(got[:2], expected)
    assert np.isnan(got[2]) and np.isnan(got[3])  # windows holding the NaN
    assert np.isclose(got[4], np.sqrt(252 * 1e-4))
    assert np.isnan(got[5:]).all()  # runs past the end
    assert np.isnan(forward_realised_vol(r[:2], 2)).all()


def test_iv_over_realised_of_a_steady_market() -> None:
    r = np.full(60, 0.01)  # 15.87 % a year
    ratio = iv_rv_ratio(np.full(60, 0.2), r, horizon=21)
    assert np.allclose(ratio[:39], 0.2 / (0.01 * math.sqrt(252)))
    assert np.isnan(ratio[39:]).all()


def test_exceedances_count_moves_beyond_the_previous_implied_sigma() -> None:
    sigma = 0.16 / math.sqrt(252)
    r = np.array([np.nan, 2.9, 3.1, -3.5, 4.2, 0.1]) * sigma
    iv_prev = np.array([np.nan, 0.16, 0.16, 0.16, 0.16, np.nan])
    assert implied_sigma_exceedance(r, iv_prev, 3.0) == pytest.approx(3 / 4)
    assert implied_sigma_exceedance(r, iv_prev, 4.0) == pytest.approx(1 / 4)


def test_excess_kurtosis_and_years() -> None:
    x = np.random.default_rng(3).standard_t(6, 5000)
    assert excess_kurtosis(x) == pytest.approx(stats.kurtosis(x, fisher=True, bias=True))
    years = np.repeat([2020, 2021, 2022], [250, 199, 300])
    values = np.arange(749, dtype=float)
    got = yearly(values, years)
    assert list(got) == [2020, 2022]  # 2021 has fewer than 200 days
    assert got[2020] == 124.5


def test_session_statistics() -> None:
    rng = np.random.default_rng(5)
    calm = rng.standard_normal((400, 375)) * 1e-4
    # a flat profile reads 1 in every bucket; a day's RV annualises its sum of squares
    assert np.allclose(session_profile(calm, [0, 1, 30, 375]), 1.0, atol=0.1)
    assert np.allclose(session_realised_vol(calm[:1]), np.sqrt(252 * np.sum(calm[0] ** 2)))
    spiky = calm.copy()
    spiky[:, 0] *= 5.0
    prof = session_profile(spiky, [0, 1, 375])
    assert prof[0] == pytest.approx(25 * 375 / 399, rel=0.1)
    # a pure diffusion has (almost) no jump share; one big minute is most of the day
    assert np.median(bipower_jump_share(calm)) < 0.02
    jumpy = calm[:1].copy()
    jumpy[0, 200] = 0.01
    share = bipower_jump_share(jumpy)[0]
    # BV still holds the big minute twice, times its small neighbours: a few % under the truth
    assert share == pytest.approx(1e-4 / np.sum(jumpy**2), abs=0.06)
    assert overnight_share([0.01, -0.02, np.nan], [0.02, 0.01, 0.5]) == pytest.approx(
        5e-4 / (5e-4 + 5e-4)
    )


def _quad_vix(surface: SurfaceParams, atm: float, t: float) -> float:
    """Model-free volatility by scipy quadrature over strike, with the pricing layer's BS."""

    def otm(strike: float) -> float:
        k = math.log(strike)
        iv, _ = smile_vol(surface, np.array(atm), np.array(k), np.array(t))
        price = bs_price(1.0, strike, t, 0.0, float(iv), strike >= 1.0)
        return float(price) / strike**2

    lo, hi = math.exp(-14 * atm * math.sqrt(t)), math.exp(14 * atm * math.sqrt(t))
    total = integrate.quad(otm, lo, 1.0, limit=200)[0] + integrate.quad(otm, 1.0, hi, limit=200)[0]
    return math.sqrt(2.0 / t * total)


@pytest.mark.parametrize("atm", [0.08, 0.16, 0.45])
def test_model_free_vol_matches_a_quadrature(atm: float) -> None:
    t = 30 / 365
    skewed = SurfaceParams(skew=0.3, curvature=0.2)
    assert model_free_vol(skewed, np.array([atm]), t)[0] == pytest.approx(
        _quad_vix(skewed, atm, t), rel=1e-5
    )
    flat = SurfaceParams(skew=0.0, curvature=0.0)
    assert model_free_vol(flat, np.array([atm]), t)[0] == pytest.approx(atm, rel=1e-4)
    # the smile's downside lifts the VIX above the ATM level
    assert model_free_vol(skewed, np.array([atm]), t)[0] > 1.05 * atm


def test_model_free_vol_table_agrees_with_direct_integrals() -> None:
    surface = SurfaceParams(skew=0.11, curvature=0.18)
    atm = np.random.default_rng(1).uniform(0.05, 0.9, 500)
    table = model_free_vol(surface, atm, 30 / 365)
    direct = np.concatenate([model_free_vol(surface, a, 30 / 365) for a in np.split(atm, 10)])
    assert np.allclose(table, direct, rtol=1e-5)
    with pytest.raises(ValueError, match="t_years"):
        model_free_vol(surface, atm, 0.0)


def test_measure_names_only_what_a_sample_holds() -> None:
    daily = MarketSample(
        years=np.full(300, 2020),
        log_returns=np.random.default_rng(2).standard_normal(300) * 0.01,
        iv=np.full(300, 0.2),
    )
    got = measure(daily)
    assert "iv_rv_median" in got and "exceed3" in got
    assert "overnight_share" not in got and "term_7_30" not in got
    assert got["iv_median"] == pytest.approx(0.2)
    assert math.isnan(got["return_iv_corr"])  # a constant IV moves with nothing


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="profile 'nope'"):
        sample_market("nope", 1, date(2024, 1, 1), date(2024, 2, 1))
    with pytest.raises(ValueError, match="fewer than 2"):
        sample_market("spx-eod", 1, date(2024, 1, 6), date(2024, 1, 7))
    with pytest.raises(ValueError, match="otm_steps"):
        intraday_straddle_pnl(1, date(2024, 1, 1), date(2024, 1, 5), otm_steps=(-1,))
