"""Payoff grids and margin models against hand formulas and an independent Black-Scholes."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.execution import (
    DefinedRisk,
    MarginModel,
    MarginUnavailableError,
    MissingVolatilityError,
    PositionLeg,
    RegTIndex,
    SpanLike,
    SpecError,
    UndefinedRiskError,
    expiry_pnl,
    expiry_value,
    max_loss_at_expiry,
    parse_margin,
    pnl_at,
    price_grid,
    value_at,
)
from workbench.model.contracts import OptionContract
from workbench.model.enums import Right


def bs_reference(S: float, K: float, T: float, r: float, sigma: float, call: bool, q: float = 0.0):
    """Black-Scholes-Merton from the textbook formula with math.erf (independent of pricing)."""
    if T <= 0:
        return max(S - K, 0.0) if call else max(K - S, 0.0)

    def n(x: float) -> float:
        return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))

    d1 = (math.log(S / K) + (r - q + 0.5 * sigma * sigma) * T) / (sigma * math.sqrt(T))
    d2 = d1 - sigma * math.sqrt(T)
    if call:
        return S * math.exp(-q * T) * n(d1) - K * math.exp(-r * T) * n(d2)
    return K * math.exp(-r * T) * n(-d2) - S * math.exp(-q * T) * n(-d1)


def put_credit_spread() -> list[PositionLeg]:
    """SPX 4800/4750 put credit spread, 1 contract (100 units): sold at 20.00, bought at 12.00."""
    return [
        PositionLeg(4800, False, -100, 20.0, years=30 / 365, sigma=0.18),
        PositionLeg(4750, False, 100, 12.0, years=30 / 365, sigma=0.20),
    ]


def iron_condor() -> list[PositionLeg]:
    return [
        PositionLeg(4700, False, -100, 10.0),
        PositionLeg(4650, False, 100, 6.0),
        PositionLeg(5000, True, -100, 9.0),
        PositionLeg(5060, True, 100, 5.0),
    ]


def hand_leg_pnl(leg: PositionLeg, s: float) -> float:
    intrinsic = max(s - leg.strike, 0.0) if leg.is_call else max(leg.strike - s, 0.0)
    return leg.units * (intrinsic - leg.price)


def test_expiry_pnl_matches_per_leg_hand_formula():
    legs = iron_condor()
    grid = np.array([0.0, 4600.0, 4650.0, 4680.0, 4700.0, 4850.0, 5000.0, 5030.0, 5060.0, 6000.0])
    expected = [sum(hand_leg_pnl(leg, s) for leg in legs) for s in grid]
    np.testing.assert_allclose(expiry_pnl(legs, grid), expected, rtol=0, atol=1e-9)
    # credit 10 - 6 + 9 - 5 = 8 per unit = 800; inside the wings the PnL is the credit
    assert expiry_pnl(legs, [4850.0])[0] == pytest.approx(800.0)
    assert expiry_value(legs, [4850.0])[0] == 0.0


def test_value_before_expiry_matches_independent_black_scholes():
    legs = put_credit_spread()
    grid = price_grid(4800, down=0.1, up=0.1, n=9)
    elapsed, r, q = 10 / 365, 0.05, 0.013
    got = value_at(legs, grid, elapsed=elapsed, r=r, q=q)
    expected = [
        sum(
            leg.units
            * bs_reference(s, leg.strike, leg.years - elapsed, r, leg.sigma, leg.is_call, q)
            for leg in legs
        )
        for s in grid
    ]
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-7)
    cost = -100 * 20.0 + 100 * 12.0
    np.testing.assert_allclose(
        pnl_at(legs, grid, elapsed=elapsed, r=r, q=q), np.array(expected) - cost
    )


def test_value_after_expiry_is_intrinsic_and_sigma_override():
    legs = put_credit_spread()
    grid = np.array([4700.0, 4780.0, 4900.0])
    np.testing.assert_allclose(value_at(legs, grid, elapsed=1.0), expiry_value(legs, grid))
    overridden = value_at(legs, grid, elapsed=0.0, sigma=0.3)
    expected = [
        sum(
            leg.units * bs_reference(s, leg.strike, leg.years, 0.0, 0.3, leg.is_call)
            for leg in legs
        )
        for s in grid
    ]
    np.testing.assert_allclose(overridden, expected, rtol=1e-9, atol=1e-7)


def test_value_needs_sigma_for_live_legs():
    legs = [PositionLeg(100, True, 1, 2.0, years=0.1)]
    with pytest.raises(ValueError, match="no volatility"):
        value_at(legs, [100.0])


def test_from_contract():
    c = OptionContract("SPX", date(2024, 1, 19), 4800, Right.PUT)
    leg = PositionLeg.from_contract(c, -100, 20.0, years=0.1, sigma=0.2)
    assert leg == PositionLeg(4800.0, False, -100.0, 20.0, 0.1, 0.2)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"strike": 0}, "strike"),
        ({"price": -1}, "price"),
        ({"years": -0.1}, "years"),
        ({"units": float("nan")}, "units"),
        ({"sigma": -0.2}, "sigma"),
    ],
)
def test_bad_leg_names_field(kwargs, field):
    base = {"strike": 100.0, "is_call": True, "units": 1.0, "price": 1.0}
    with pytest.raises(ValueError, match=field):
        PositionLeg(**{**base, **kwargs})


def test_bad_grids():
    with pytest.raises(ValueError, match="1-D"):
        expiry_value(iron_condor(), np.ones((2, 2)))
    with pytest.raises(ValueError, match="finite"):
        expiry_value(iron_condor(), [-1.0])
    with pytest.raises(ValueError, match="spot"):
        price_grid(0)
    with pytest.raises(ValueError, match="n must"):
        price_grid(100, n=1)


def test_defined_risk_vertical_is_width_times_units_minus_credit():
    # (4800 - 4750) x 100 - (20 - 12) x 100 = 5000 - 800 = 4200
    assert DefinedRisk().margin(put_credit_spread(), 4900) == pytest.approx(4200.0)
    assert max_loss_at_expiry(put_credit_spread()) == pytest.approx(4200.0)


def test_defined_risk_iron_condor_is_wider_wing_minus_total_credit():
    # wings 50 (puts) and 60 (calls); credit 8 x 100 = 800 -> 60 x 100 - 800 = 5200
    assert DefinedRisk().margin(iron_condor(), 4850) == pytest.approx(5200.0)


def test_defined_risk_refuses_unbounded_and_ignores_longs():
    naked_call = [PositionLeg(5000, True, -100, 5.0)]
    with pytest.raises(UndefinedRiskError, match="unbounded"):
        DefinedRisk().margin(naked_call, 4800)
    assert max_loss_at_expiry(naked_call) == math.inf
    assert DefinedRisk().margin([PositionLeg(5000, True, 100, 5.0)], 4800) == 0.0
    # naked put: worst case the index goes to 0: 4000 x 100 - 100 = 399,900
    assert DefinedRisk().margin([PositionLeg(4000, False, -100, 1.0)], 4800) == pytest.approx(
        399_900.0
    )


def test_reg_t_naked_by_hand():
    # SPX 4800. Short 1 SPX 4700 put at 20: OTM 100; 15% x 4800 = 720; 720 - 100 = 620;
    # floor 10% x 4700 = 470 -> (20 + 620) x 100 = 64,000
    model = RegTIndex()
    assert model.margin([PositionLeg(4700, False, -100, 20.0)], 4800) == pytest.approx(64_000)
    # Far OTM put 4000 at 1.00: 720 - 800 < floor 10% x 4000 = 400 -> 401 x 100 = 40,100
    assert model.margin([PositionLeg(4000, False, -100, 1.0)], 4800) == pytest.approx(40_100)
    # Short call 5000 at 5: OTM 200; 720 - 200 = 520 >= floor 480 -> 525 x 100 = 52,500
    assert model.margin([PositionLeg(5000, True, -100, 5.0)], 4800) == pytest.approx(52_500)
    # Strangle of the two: larger side plus the other side's premium:
    # max(52,500 + 100, 40,100 + 500) = 52,600
    strangle = [PositionLeg(4000, False, -100, 1.0), PositionLeg(5000, True, -100, 5.0)]
    assert model.margin(strangle, 4800) == pytest.approx(52_600)
    # Equity-style rates 20% / 10%: short 4700 put: (20 + 960 - 100) x 100 = 88,000
    assert RegTIndex(0.20, 0.10).margin([PositionLeg(4700, False, -100, 20.0)], 4800) == (
        pytest.approx(88_000)
    )


def test_reg_t_spread_uses_max_loss():
    assert RegTIndex().margin(put_credit_spread(), 4900) == pytest.approx(4200.0)
    assert RegTIndex().margin(iron_condor(), 4850) == pytest.approx(5200.0)
    assert RegTIndex().margin([PositionLeg(5000, True, 100, 5.0)], 4800) == 0.0


def test_span_expiring_short_call_by_hand():
    # NIFTY 25000, short 100 units of the 25000 call at expiry (intrinsic only).
    # price scan 6%: worst regular move +6% -> 1500 x 100 = 150,000; extreme +12% x 35% ->
    # 3000 x 100 x 0.35 = 105,000. Scan risk 150,000; exposure 2% x 100 x 25,000 = 50,000.
    legs = [PositionLeg(25000, True, -100, 0.0)]
    model = SpanLike(price_scan=0.06, vol_scan=0.04, exposure=0.02)
    assert model.scan_risk(legs, 25000) == pytest.approx(150_000)
    assert model.margin(legs, 25000) == pytest.approx(200_000)
    # 1% scan: +1% -> 250 x 100 = 25,000 beats the extreme +2% x 35% -> 500 x 100 x 0.35 = 17,500
    assert SpanLike(price_scan=0.01).scan_risk(legs, 25000) == pytest.approx(25_000)
    # short option minimum 5% of notional = 125,000 < scan risk; 10% = 250,000 > scan risk
    assert SpanLike(short_option_minimum=0.10, exposure=0).margin(legs, 25000) == pytest.approx(
        250_000
    )


def test_span_scan_risk_matches_independent_revaluation():
    legs = [
        PositionLeg(25000, True, -75, 180.0, years=7 / 365, sigma=0.13),
        PositionLeg(24500, False, -75, 90.0, years=7 / 365, sigma=0.15),
    ]
    model = SpanLike(price_scan=0.07, vol_scan=0.04, exposure=0.02, r=0.065)
    spot = 24800.0

    def value(s: float, dv: float) -> float:
        return sum(
            leg.units
            * bs_reference(s, leg.strike, leg.years, 0.065, max(leg.sigma + dv, 1e-4), leg.is_call)
            for leg in legs
        )

    base = value(spot, 0.0)
    losses = []
    for frac in (0, 1 / 3, -1 / 3, 2 / 3, -2 / 3, 1, -1):
        for dv in (0.04, -0.04):
            losses.append(base - value(spot * (1 + frac * 0.07), dv))
    for frac in (2.0, -2.0):
        losses.append(0.35 * (base - value(spot * (1 + frac * 0.07), 0.0)))
    expected_scan = max(losses)
    assert model.scan_risk(legs, spot) == pytest.approx(expected_scan, rel=1e-9)
    assert model.margin(legs, spot) == pytest.approx(expected_scan + 0.02 * 150 * spot, rel=1e-9)


def test_span_long_only_needs_nothing_and_requires_sigma():
    assert (
        SpanLike().margin([PositionLeg(25000, True, 75, 100.0, years=0.02, sigma=0.1)], 25000) == 0
    )
    no_sigma = [PositionLeg(25000, True, -75, 100.0, years=0.02)]
    with pytest.raises(MissingVolatilityError, match="no sigma"):
        SpanLike().margin(no_sigma, 25000)
    with_sigma = [PositionLeg(25000, True, -75, 100.0, years=0.02, sigma=0.15)]
    assert SpanLike(fallback_sigma=0.15).margin(no_sigma, 25000) == pytest.approx(
        SpanLike().margin(with_sigma, 25000)
    )
    assert issubclass(MissingVolatilityError, MarginUnavailableError)
    assert issubclass(UndefinedRiskError, MarginUnavailableError)
    with pytest.raises(ValueError, match="fallback_sigma"):
        SpanLike(fallback_sigma=0.0)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("defined-risk", DefinedRisk()),
        ("reg-t", RegTIndex()),
        ("reg-t:0.2,min=0.1", RegTIndex(0.2, 0.1)),
        ("span", SpanLike()),
        ("span:0.08,vol=0.05,exposure=0.03,r=0.065", SpanLike(0.08, 0.05, 0.03, r=0.065)),
        ("span,sigma=0.2", SpanLike(fallback_sigma=0.2)),
    ],
)
def test_parse_margin(spec, expected):
    model = parse_margin(spec)
    assert model == expected and isinstance(model, MarginModel)
    assert parse_margin(model.spec) == model


@pytest.mark.parametrize(
    ("spec", "fault"),
    [
        ("portfolio", "unknown margin model"),
        ("reg-t:0", "base_rate must be in (0, 1]"),
        ("reg-t,floor=0.1", "unknown option"),
        ("span:0.06,vol=-1", "vol_scan"),
        ("defined-risk:5", "takes no value"),
    ],
)
def test_parse_margin_errors(spec, fault):
    with pytest.raises(SpecError) as err:
        parse_margin(spec)
    assert fault in str(err.value) and repr(spec) in str(err.value)


def test_margin_bad_spot():
    for model in (DefinedRisk(), RegTIndex(), SpanLike()):
        with pytest.raises(ValueError, match="spot"):
            model.margin(put_credit_spread(), 0.0)


strikes = st.floats(50, 200).map(lambda x: round(x))


@settings(deadline=None)
@given(
    legs=st.lists(
        st.builds(
            PositionLeg,
            strike=strikes,
            is_call=st.booleans(),
            units=st.sampled_from([-2.0, -1.0, 1.0, 2.0]),
            price=st.floats(0, 20),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_max_loss_is_the_grid_minimum(legs):
    loss = max_loss_at_expiry(legs)
    grid = np.linspace(0, 400, 4001)  # 0.1 steps hit every whole strike
    worst_on_grid = max(-float(expiry_pnl(legs, grid).min()), 0.0)
    if math.isinf(loss):
        # unbounded: the PnL keeps falling past the last strike
        far = expiry_pnl(legs, [1e6, 2e6])
        assert far[1] < far[0]
    else:
        assert loss == pytest.approx(worst_on_grid, abs=1e-6)
        assert RegTIndex().margin(legs, 120.0) >= 0.0


@settings(deadline=None)
@given(
    legs=st.lists(
        st.builds(
            PositionLeg,
            strike=st.floats(1, 500),
            is_call=st.booleans(),
            units=st.floats(-100, 100),
            price=st.floats(0, 50),
        ),
        min_size=1,
        max_size=6,
    ),
    grid=st.lists(st.floats(0, 2000), min_size=1, max_size=30),
)
def test_expiry_pnl_equals_per_leg_sum_anywhere(legs, grid):
    expected = [sum(hand_leg_pnl(leg, s) for leg in legs) for s in grid]
    scale = 1 + sum(abs(leg.units) * (2000 + leg.price) for leg in legs)
    np.testing.assert_allclose(expiry_pnl(legs, grid), expected, rtol=0, atol=1e-11 * scale)


@pytest.mark.parametrize("model", [DefinedRisk(), RegTIndex(0.2, 0.1), SpanLike(0.08, r=0.065)])
def test_margin_describe_round_trips(model):
    assert parse_margin(model.describe()) == model
    with pytest.raises(SpecError, match="unknown name"):
        parse_margin({"name": "portfolio"})
