"""Position sizing: hand-computed sizes, edge cases, bad parameters, invariants."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.execution import (
    fixed_quantity,
    kelly,
    kelly_fraction,
    percent_of_capital,
    risk_based,
)


def test_fixed_quantity():
    assert fixed_quantity(3) == 3
    assert fixed_quantity(0) == 0
    assert fixed_quantity(10, max_contracts=4) == 4


def test_percent_of_capital_by_hand():
    # 100,000 x 10% = 10,000 budget; 2,600 per contract -> 3.85 -> 3
    assert percent_of_capital(100_000, 0.10, 2_600) == 3
    # exact multiple must not lose a contract to float error: 0.3 x 1000 / 100 = 3
    assert percent_of_capital(1_000, 0.3, 100) == 3
    assert percent_of_capital(1_000, 0.0, 100) == 0
    assert percent_of_capital(0, 0.5, 100) == 0


def test_risk_based_seed_003_example():
    # Seed 003: 2% risk per trade. 5-wide SPX call spread for a 1.20 credit:
    # max loss (5 - 1.20) x 100 = 380 per contract; 50,000 x 2% = 1,000 -> 2.63 -> 2 contracts.
    assert risk_based(50_000, 0.02, 380) == 2
    assert risk_based(50_000, 0.02, 380, max_contracts=1) == 1
    assert risk_based(1_000, 0.02, 380) == 0  # budget below one contract


def test_kelly_fraction_by_hand():
    # p = 0.6, b = 1: f* = 0.6 - 0.4 / 1 = 0.2
    assert kelly_fraction(0.6, 1.0) == pytest.approx(0.2)
    # p = 0.8, b = 0.25 (credit spread: small wins, big losses): 0.8 - 0.2 / 0.25 = 0
    assert kelly_fraction(0.8, 0.25) == pytest.approx(0.0)
    assert kelly_fraction(0.3, 1.0) == pytest.approx(-0.4)


def test_kelly_sizes_with_cap_and_multiplier():
    # f* = 0.2; capital 100,000; max loss 1,000 per contract
    assert kelly(100_000, 0.6, 1.0, 1_000, cap=1.0) == 20  # 20,000 at risk
    assert kelly(100_000, 0.6, 1.0, 1_000, cap=0.05) == 5  # capped at 5%
    assert kelly(100_000, 0.6, 1.0, 1_000, multiplier=0.5, cap=1.0) == 10  # half Kelly
    assert kelly(100_000, 0.3, 1.0, 1_000) == 0  # no edge
    assert kelly(100_000, 0.6, 1.0, 1_000, cap=1.0, max_contracts=7) == 7


@pytest.mark.parametrize(
    ("call", "param"),
    [
        (lambda: fixed_quantity(-1), "qty"),
        (lambda: fixed_quantity(1.5), "qty"),  # type: ignore[arg-type]
        (lambda: fixed_quantity(True), "qty"),  # type: ignore[arg-type]
        (lambda: fixed_quantity(2, max_contracts=-1), "max_contracts"),
        (lambda: percent_of_capital(-1, 0.1, 100), "capital"),
        (lambda: percent_of_capital(1000, 1.5, 100), "fraction"),
        (lambda: percent_of_capital(1000, 0.1, 0), "cost_per_contract"),
        (lambda: percent_of_capital(float("nan"), 0.1, 10), "capital"),
        (lambda: risk_based(1000, -0.01, 100), "risk_fraction"),
        (lambda: risk_based(1000, 0.01, float("inf")), "max_loss_per_contract"),
        (lambda: risk_based(1000, "2%", 100), "risk_fraction"),  # type: ignore[arg-type]
        (lambda: kelly_fraction(1.2, 1.0), "win_prob"),
        (lambda: kelly_fraction(0.5, 0.0), "win_loss_ratio"),
        (lambda: kelly(1000, 0.6, 1.0, 100, cap=0.0), "cap"),
        (lambda: kelly(1000, 0.6, 1.0, 100, cap=1.5), "cap"),
        (lambda: kelly(1000, 0.6, 1.0, 100, multiplier=0), "multiplier"),
        (lambda: kelly(1000, 0.6, 1.0, -5), "max_loss_per_contract"),
    ],
)
def test_bad_parameters_name_the_parameter(call, param):
    with pytest.raises(ValueError, match=param):
        call()


money = st.floats(0, 1e9, allow_nan=False)
positive = st.floats(0.01, 1e7, allow_nan=False)
fraction = st.floats(0, 1)


@settings(deadline=None)
@given(capital=money, f=fraction, per=positive)
def test_sizes_stay_within_budget(capital, f, per):
    for n in (percent_of_capital(capital, f, per), risk_based(capital, f, per)):
        assert isinstance(n, int) and n >= 0
        assert n * per <= capital * f * (1 + 1e-9) + 1e-6
        assert (n + 1) * per > capital * f * (1 - 1e-9)


@settings(deadline=None)
@given(capital=money, p=fraction, b=positive, per=positive, cap=st.floats(0.01, 1))
def test_kelly_never_exceeds_cap(capital, p, b, per, cap):
    n = kelly(capital, p, b, per, cap=cap)
    assert isinstance(n, int) and n >= 0
    assert n * per <= capital * cap * (1 + 1e-9) + 1e-6
