"""The seed-002 collateral view: hand-computed paths, summary, ranking, and the collar run."""

from __future__ import annotations

import math
import re
from datetime import date

import numpy as np
import pandas as pd
import pytest

from workbench.analytics.collateral import (
    PATH_COLUMNS,
    SUMMARY_KEYS,
    CollateralInputError,
    Portfolio,
    collateral_path,
    collateral_summary,
    rank_hedges,
)

DAYS = pd.to_datetime(["2024-03-01", "2024-03-04", "2024-03-05", "2024-03-06"])


def _put_hedge() -> tuple[pd.DataFrame, pd.DataFrame]:
    """100 units; one 95 put (100 units) bought at 2.00 on day 1, marked 2, 6, 15, sold at 10.

    spot 100, 90, 80, 85; option cash -200, -200, -200, +800 (cumulative); mtm 200, 600, 1500, 0.
    """
    daily = pd.DataFrame(
        {
            "date": DAYS,
            "spot_close": [100.0, 90.0, 80.0, 85.0],
            "cash": [-200.0, -200.0, -200.0, 800.0],
            "mtm": [200.0, 600.0, 1500.0, 0.0],
            "open_legs": [1, 1, 1, 0],
        }
    )
    tradebook = pd.DataFrame(
        {
            "day": [DAYS[0].date(), DAYS[3].date()],
            "ts": [DAYS[0] + pd.Timedelta(hours=16), DAYS[3] + pd.Timedelta(hours=16)],
            "action": ["open", "close"],
            "reason": ["entry", "exit"],
            "right": ["P", "P"],
            "signed_units": [100.0, -100.0],
            "cash": [-200.0, 1000.0],
        }
    )
    return daily, tradebook


PORTFOLIO = Portfolio(underlying_units=100, loan_amount=7000, margin_call_ltv=0.8)


def test_path_by_hand() -> None:
    daily, tb = _put_hedge()
    path = collateral_path(daily, tb, PORTFOLIO)
    assert list(path.columns) == list(PATH_COLUMNS)
    assert path["underlying_value"].tolist() == [10000.0, 9000.0, 8000.0, 8500.0]
    assert path["net_portfolio_value"].tolist() == [10000.0, 9400.0, 9300.0, 9300.0]
    assert path["premium_cashflow"].tolist() == [-200.0, 0.0, 0.0, 0.0]
    assert path["realized_option_cashflow"].tolist() == [0.0, 0.0, 0.0, 1000.0]
    assert path["ltv_unhedged"].tolist() == pytest.approx([0.7, 7000 / 9000, 0.875, 7000 / 8500])
    assert path["ltv_hedged"].tolist() == pytest.approx(
        [0.7, 7000 / 9400, 7000 / 9300, 7000 / 9300]
    )
    assert path["margin_call_unhedged"].tolist() == [False, False, True, True]
    assert not path["margin_call_hedged"].any()


def test_scenario_end_liquidation_by_hand() -> None:
    """Seed 002's scenario end: the put still open on day 3 (marked 15.00, 1500) is sold at
    that mark when the scenario ends there; the cash is counted, the value is unchanged."""
    daily, tb = _put_hedge()
    daily, tb = daily.iloc[:3], tb.iloc[:1]
    kept = collateral_path(daily, tb, PORTFOLIO)
    sold = collateral_path(daily, tb, PORTFOLIO, liquidate_at_end=True)
    assert kept["liquidation"].tolist() == [0.0, 0.0, 0.0]
    assert sold["liquidation"].tolist() == [0.0, 0.0, 1500.0]
    assert sold["option_market_value"].tolist() == [200.0, 600.0, 0.0]
    assert sold["option_cash"].tolist() == [-200.0, -200.0, 1300.0]
    assert sold["realized_option_cashflow"].tolist() == [0.0, 0.0, 1500.0]
    assert sold["net_portfolio_value"].tolist() == kept["net_portfolio_value"].tolist()
    summary = collateral_summary(sold, tb, PORTFOLIO)
    assert summary["scenario_end_liquidation"] == 1500.0
    assert summary["total_option_payoff_realized"] == 1500.0
    assert summary["end_value_hedged_net"] == 8000.0 - 200.0 + 1500.0
    assert collateral_summary(kept, tb, PORTFOLIO)["total_option_payoff_realized"] == 0.0
    # nothing open at the end: nothing to sell
    full = collateral_path(*_put_hedge(), PORTFOLIO, liquidate_at_end=True)
    assert full["liquidation"].sum() == 0.0


def test_summary_by_hand() -> None:
    daily, tb = _put_hedge()
    summary = collateral_summary(collateral_path(daily, tb, PORTFOLIO), tb, PORTFOLIO)
    assert list(summary) == list(SUMMARY_KEYS)
    assert summary == pytest.approx(
        {
            "start_value": 10000.0,
            "end_value_unhedged": 8500.0,
            "end_value_hedged_net": 9300.0,
            "total_hedge_cost": 200.0,
            "total_option_payoff_realized": 1000.0,
            "max_ltv_unhedged": 0.875,
            "max_ltv_hedged": 7000 / 9300,
            "margin_call_days_unhedged": 2,
            "margin_call_days_hedged": 0,
            "worst_drawdown_unhedged": -0.2,
            "worst_drawdown_hedged": -0.07,
            "days_protected_below_threshold": 2,
            "roll_count": 0,
            "hedge_coverage": 1.0,
            "days_spot_carried": 0,
            "scenario_end_liquidation": 0.0,
        }
    )


def test_a_day_without_data_keeps_the_last_close_and_says_so() -> None:
    daily, tb = _put_hedge()
    gap = daily.assign(spot_close=[100.0, np.nan, 80.0, 85.0])
    path = collateral_path(gap, tb, PORTFOLIO)
    assert path["spot_close"].tolist() == [100.0, 100.0, 80.0, 85.0]
    assert path["spot_carried"].tolist() == [False, True, False, False]
    assert path["underlying_value"].iloc[1] == 10000.0
    assert collateral_summary(path, tb, PORTFOLIO)["days_spot_carried"] == 1
    with pytest.raises(
        CollateralInputError, match=r"no spot_close on the first day \(2024-03-01\)"
    ):
        collateral_path(daily.assign(spot_close=[np.nan, 90.0, 80.0, 85.0]), tb, PORTFOLIO)


def test_financing_accrues_and_cash_balance_counts() -> None:
    daily, tb = _put_hedge()
    p = Portfolio(
        underlying_units=100, loan_amount=7000, margin_call_ltv=0.8, financing_rate=0.05,
        cash_balance=500,
    )  # fmt: skip
    path = collateral_path(daily, tb, p)
    elapsed = np.array([0, 3, 4, 5]) / 365.0  # calendar days from 2024-03-01
    assert path["loan"].to_numpy() == pytest.approx(7000 * np.exp(0.05 * elapsed), rel=1e-15)
    assert path["underlying_value"].tolist() == [10500.0, 9500.0, 8500.0, 9000.0]
    assert path["ltv_unhedged"].iloc[2] == pytest.approx(7000 * math.exp(0.05 * 4 / 365) / 8500)


def test_no_loan_has_zero_ltv_and_a_worthless_holding_is_infinite() -> None:
    daily, tb = _put_hedge()
    free = collateral_path(
        daily, tb, Portfolio(underlying_units=100, loan_amount=0, margin_call_ltv=0.8)
    )
    assert (free["ltv_unhedged"] == 0).all() and (free["ltv_hedged"] == 0).all()
    crash = daily.assign(spot_close=[100.0, 50.0, 1e-9, 1e-9], mtm=[200.0, 600.0, -1e5, -1e5])
    path = collateral_path(crash, tb, PORTFOLIO)
    assert math.isinf(path["ltv_hedged"].iloc[2]) and path["margin_call_hedged"].iloc[2]


@pytest.mark.parametrize(
    ("change", "names"),
    [
        (lambda d: d.drop(columns=["mtm"]), "missing column(s) ['mtm']"),
        (lambda d: d.iloc[:0], "no days"),
        (
            lambda d: d.assign(spot_close=[100.0, -1.0, 80.0, 85.0]),
            "spot_close on 2024-03-04 is -1.0",
        ),
    ],
)
def test_bad_daily_paths_are_named(change, names: str) -> None:
    daily, tb = _put_hedge()
    with pytest.raises(CollateralInputError, match=re.escape(names)):
        collateral_path(change(daily), tb, PORTFOLIO)


def test_a_loan_above_the_collateral_and_bad_fields_are_refused() -> None:
    daily, tb = _put_hedge()
    with pytest.raises(CollateralInputError, match=r"loan_amount 10,000\.00 must be below"):
        collateral_path(
            daily, tb, Portfolio(underlying_units=100, loan_amount=10000, margin_call_ltv=0.8)
        )
    with pytest.raises(ValueError, match="underlying_units"):
        Portfolio(underlying_units=0, loan_amount=1, margin_call_ltv=0.8)
    with pytest.raises(ValueError, match="units"):
        Portfolio(units=5, loan_amount=1, margin_call_ltv=0.8)  # type: ignore[call-arg]
    stray = tb.assign(day=[date(2024, 3, 1), date(2024, 3, 9)])
    with pytest.raises(CollateralInputError, match="a fill on 2024-03-09"):
        collateral_path(daily, stray, PORTFOLIO)


def test_ranking_follows_seed_002() -> None:
    rows = pd.DataFrame(
        [
            # template, calls hedged, max ltv hedged, cost, end value
            ("b-cheap", 0, 0.70, 100.0, 9000.0),
            ("a-cheap", 0, 0.70, 100.0, 9000.0),  # tie on every key: by name
            ("c-richer", 0, 0.70, 100.0, 9100.0),  # same calls, LTV, cost: higher end value
            ("d-calls", 1, 0.60, 10.0, 9900.0),  # a margin call day outweighs everything else
            ("e-ltv", 0, 0.65, 900.0, 8000.0),  # lower max LTV beats lower cost
            ("f-missing", 0, np.nan, 1.0, 9999.0),  # unknown LTV ranks last on that key
        ],
        columns=[
            "template", "margin_call_days_hedged", "max_ltv_hedged", "total_hedge_cost",
            "end_value_hedged_net",
        ],
    )  # fmt: skip
    ranked = rank_hedges(rows)
    assert ranked["template"].tolist() == [
        "e-ltv", "c-richer", "a-cheap", "b-cheap", "f-missing", "d-calls",
    ]  # fmt: skip
    assert ranked["rank"].tolist() == [1, 2, 3, 4, 5, 6]
