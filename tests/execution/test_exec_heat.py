"""Portfolio heat and seed 003's entry risk checks."""

from __future__ import annotations

import pytest

from workbench.execution import fits_risk_limits, portfolio_heat


def test_portfolio_heat_by_hand():
    # three spreads with max losses 380, 420 and 1,200 on 50,000 equity: 2,000 / 50,000 = 4%
    assert portfolio_heat([380, 420, 1200], 50_000) == pytest.approx(0.04)
    assert portfolio_heat([], 50_000) == 0.0


def test_seed_003_limits():
    # 2% per trade (1,000 on 50,000) and 10% heat (5,000)
    kwargs = {"max_risk_per_trade": 0.02, "max_portfolio_heat": 0.10}
    assert fits_risk_limits(1_000, [2_000, 2_000], 50_000, **kwargs)  # heat exactly 10%
    assert not fits_risk_limits(1_001, [], 50_000, **kwargs)  # per-trade risk exceeded
    assert not fits_risk_limits(1_000, [2_000, 2_001], 50_000, **kwargs)  # heat exceeded


@pytest.mark.parametrize(
    ("call", "param"),
    [
        (lambda: portfolio_heat([1.0], 0), "equity"),
        (lambda: portfolio_heat([-1.0], 100), r"max_losses\[0\]"),
        (lambda: portfolio_heat([float("inf")], 100), r"max_losses\[0\]"),
        (
            lambda: fits_risk_limits(1, [], 100, max_risk_per_trade=-1, max_portfolio_heat=1),
            "max_risk_per_trade",
        ),
        (
            lambda: fits_risk_limits("x", [], 100, max_risk_per_trade=1, max_portfolio_heat=1),  # type: ignore[arg-type]
            "new_max_loss",
        ),
    ],
)
def test_bad_input(call, param):
    with pytest.raises(ValueError, match=param):
        call()
