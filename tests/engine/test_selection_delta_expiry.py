"""Delta selection when the chain has no delta column (checked against QuantLib), and expiries."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import numpy as np
import pytest
import QuantLib as ql
from pydantic import ValidationError

from workbench.engine.selection import (
    ChainSnapshot,
    ExpiryRule,
    Selection,
    abs_delta,
    resolve_expiry,
    resolve_strike,
    select_contract,
    select_expiry,
)
from workbench.model.enums import ExpiryKind, Side

S, T, R, Q = 100.0, 30 / 365, 0.05, 0.01
STRIKES = np.arange(80.0, 121.0, 2.5)


def ql_price_delta(strike: float, sigma: float, is_call: bool) -> tuple[float, float]:
    """QuantLib analytic European price and delta (ACT/365, flat curves, T = 30 days)."""
    today = ql.Date(1, 3, 2024)
    ql.Settings.instance().evaluationDate = today
    dc = ql.Actual365Fixed()
    process = ql.BlackScholesMertonProcess(
        ql.QuoteHandle(ql.SimpleQuote(S)),
        ql.YieldTermStructureHandle(ql.FlatForward(today, Q, dc)),
        ql.YieldTermStructureHandle(ql.FlatForward(today, R, dc)),
        ql.BlackVolTermStructureHandle(ql.BlackConstantVol(today, ql.NullCalendar(), sigma, dc)),
    )
    payoff = ql.PlainVanillaPayoff(ql.Option.Call if is_call else ql.Option.Put, strike)
    option = ql.EuropeanOption(payoff, ql.EuropeanExercise(today + 30))
    option.setPricingEngine(ql.AnalyticEuropeanEngine(process))
    return option.NPV(), option.delta()


def smile(k: float) -> float:
    return 0.20 + 0.4 * (k / S - 1.0) ** 2 - 0.05 * (k / S - 1.0)


def snapshot(*, with_iv: bool) -> tuple[ChainSnapshot, dict[tuple[float, bool], float]]:
    strikes, rights, closes, ivs = [], [], [], []
    deltas: dict[tuple[float, bool], float] = {}
    for k in STRIKES:
        for is_call in (True, False):
            price, delta = ql_price_delta(float(k), smile(float(k)), is_call)
            strikes.append(float(k))
            rights.append("C" if is_call else "P")
            closes.append(price)
            ivs.append(smile(float(k)))
            deltas[(float(k), is_call)] = delta
    snap = ChainSnapshot.build(
        underlying="SPX", ts=datetime(2024, 3, 1, 15, 46), spot=S, expiry=date(2024, 3, 31), tte=T,
        strike=strikes, right=rights, close=closes, iv=ivs if with_iv else None, rate=R, div_yield=Q,
    )  # fmt: skip
    return snap, deltas


@pytest.mark.parametrize("with_iv", [True, False])
def test_computed_delta_matches_quantlib(with_iv: bool) -> None:
    snap, deltas = snapshot(with_iv=with_iv)
    got = abs_delta(snap, np.arange(len(snap)))
    want = np.array([abs(deltas[(float(k), bool(c))]) for k, c in zip(snap.strike, snap.is_call)])
    tol = 1e-10 if with_iv else 1e-6  # backing the vol out of a price loses a little
    np.testing.assert_allclose(got, want, atol=tol)


@pytest.mark.parametrize("with_iv", [True, False])
@pytest.mark.parametrize(("right", "target"), [("P", 0.16), ("P", 0.30), ("C", 0.16), ("C", 0.25)])
def test_delta_selection_on_a_computed_chain_matches_quantlib_choice(
    with_iv: bool, right: str, target: float
) -> None:
    snap, deltas = snapshot(with_iv=with_iv)
    is_call = right == "C"
    # the independent answer: the QuantLib delta nearest the target
    ranked = sorted(STRIKES, key=lambda k: abs(abs(deltas[(float(k), is_call)]) - target))
    choice = resolve_strike(snap, right, Selection(method="delta", value=target, side=Side.SELL))
    assert choice.strike == float(ranked[0])
    assert choice.delta == pytest.approx(deltas[(float(ranked[0]), is_call)], abs=1e-6)
    assert (choice.delta > 0) == is_call


def test_expiry_day_delta_is_the_payoff_delta() -> None:
    snap = ChainSnapshot.build(
        underlying="NIFTY", ts=datetime(2024, 1, 25, 15, 30), spot=21510.0, expiry=date(2024, 1, 25),
        tte=0.0, strike=[21500.0, 21510.0, 21550.0] * 2, right=["C"] * 3 + ["P"] * 3,
        close=[10.0, 0.5, 0.05, 0.05, 0.5, 40.0],
    )  # fmt: skip
    np.testing.assert_array_equal(abs_delta(snap, np.arange(6)), [1.0, 0.5, 0.0, 0.0, 0.5, 1.0])


def test_unpriceable_rows_are_skipped_by_delta() -> None:
    # a put quoted below intrinsic has no implied vol: only the other row can be chosen
    snap = ChainSnapshot.build(
        underlying="SPX", ts=datetime(2024, 3, 1), spot=S, expiry=date(2024, 3, 31), tte=T,
        strike=[90.0, 120.0], right=["P", "P"], close=[0.4, 1.0], rate=R,
    )  # fmt: skip
    choice = resolve_strike(snap, "P", Selection(method="delta", value=0.9))
    assert choice.strike == 90.0
    nothing = ChainSnapshot.build(
        underlying="SPX", ts=datetime(2024, 3, 1), spot=S, expiry=date(2024, 3, 31), tte=T,
        strike=[120.0], right=["P"], close=[1.0], rate=R,
    )  # fmt: skip
    choice = resolve_strike(nothing, "P", Selection(method="delta", value=0.5))
    assert choice.strike is None and "implied vol" in choice.reason


# -------------------------------------------------------------------------------- expiries

ON = date(2024, 1, 18)  # a Thursday
# weekly Thursdays, the monthly is the last Thursday (25 Jan, 29 Feb); one expired in the list
LISTED = [date(2024, 1, 11), date(2024, 1, 18), date(2024, 1, 25), date(2024, 2, 1),
          date(2024, 2, 8), date(2024, 2, 29), date(2024, 3, 28)]  # fmt: skip
MONTHLIES = {date(2024, 1, 25), date(2024, 2, 29), date(2024, 3, 28)}


def kind_of(underlying: str, expiry: date) -> ExpiryKind:
    assert underlying == "NIFTY"
    return ExpiryKind.MONTHLY if expiry in MONTHLIES else ExpiryKind.WEEKLY


def test_expiry_by_index_counts_from_today() -> None:
    assert select_expiry(LISTED, ON) == date(2024, 1, 18)  # expiry day itself is index 0, DTE 0
    assert select_expiry(LISTED, ON, index=1) == date(2024, 1, 25)
    assert select_expiry(LISTED, ON, index=5) == date(2024, 3, 28)
    choice = resolve_expiry(LISTED, ON, ExpiryRule(index=6))
    assert choice.expiry is None and "out of range" in choice.reason


def test_expiry_by_kind() -> None:
    kw: dict[str, Any] = {"underlying": "NIFTY", "kind_of": kind_of}
    assert select_expiry(LISTED, ON, kind="monthly", **kw) == date(2024, 1, 25)
    assert select_expiry(LISTED, ON, kind="monthly", index=1, **kw) == date(2024, 2, 29)
    assert select_expiry(LISTED, ON, kind=ExpiryKind.WEEKLY, index=1, **kw) == date(2024, 2, 1)
    with pytest.raises(ValueError, match="underlying"):
        select_expiry(LISTED, ON, kind="monthly")


def test_expiry_kind_from_the_real_nse_calendar() -> None:
    # NIFTY, January 2024: weekly Thursdays; the monthly is the last Thursday, 25 January
    listed = [date(2024, 1, 18), date(2024, 1, 25), date(2024, 2, 1), date(2024, 2, 29)]
    assert select_expiry(listed, ON, kind="monthly", underlying="NIFTY") == date(2024, 1, 25)
    assert select_expiry(listed, ON, kind="weekly", index=1, underlying="NIFTY") == date(2024, 2, 1)


def test_expiry_by_dte_nearest_ties_to_the_earlier() -> None:
    # DTEs on 18 Jan: 0, 7, 14, 21, 42, 70
    assert select_expiry(LISTED, ON, dte=30) == date(2024, 2, 8)  # 21 is 9 away, 42 is 12
    assert select_expiry(LISTED, ON, dte=31) == date(2024, 2, 8)  # 21 and 42: 10 and 11
    assert select_expiry(LISTED, ON, dte=56) == date(2024, 2, 29)  # 42 and 70 both 14: earlier
    assert select_expiry(LISTED, ON, dte=30, dte_bound="at_least") == date(2024, 2, 29)
    assert select_expiry(LISTED, ON, dte=30, dte_bound="at_most") == date(2024, 2, 8)
    assert select_expiry(LISTED, ON, dte=100, dte_bound="at_least") is None


def test_expiry_by_dte_window() -> None:
    assert select_expiry(LISTED, ON, dte_window=(30, 45)) == date(2024, 2, 29)  # DTE 42
    assert select_expiry(LISTED, ON, dte_window=(7, 21), dte=20) == date(2024, 2, 8)
    assert select_expiry(LISTED, ON, dte_window=(7, 21), index=1) == date(2024, 2, 1)
    choice = resolve_expiry(LISTED, ON, ExpiryRule(dte_window=(22, 40)))
    assert choice.expiry is None and "22 <= DTE <= 40" in choice.reason


def test_expiry_nothing_listed_and_bad_input() -> None:
    assert resolve_expiry([date(2024, 1, 11)], ON, ExpiryRule()).expiry is None
    with pytest.raises(ValueError, match=r"expiries\[1\]"):
        select_expiry([date(2024, 1, 25), "2024-02-01"], ON)  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="index and dte"):
        ExpiryRule(index=1, dte=30)
    with pytest.raises(ValidationError, match="dte_window"):
        ExpiryRule(dte_window=(45, 30))
    with pytest.raises(ValidationError, match="dte_bound"):
        ExpiryRule(dte_bound="at_least")
    with pytest.raises(ValidationError, match="index"):
        ExpiryRule(index=-1)


def test_a_selection_carries_its_expiry_rule() -> None:
    rule = Selection(method="delta", value=0.3, expiry=ExpiryRule(dte=37, dte_window=(30, 45)))
    assert resolve_expiry(LISTED, ON, rule.expiry).expiry == date(2024, 2, 29)
    assert select_contract(snapshot(with_iv=True)[0], right="P", rule=rule) is not None
