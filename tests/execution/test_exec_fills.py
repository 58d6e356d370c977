"""Fill models: hand-computed prices, fallbacks, validation, specs, invariants."""

from __future__ import annotations

import math
import re

import pytest
from exec_builders import NAN, quote
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.execution import (
    BarClose,
    CrossSpread,
    FillModel,
    FillPolicy,
    FillPrice,
    Mid,
    OratsSlippage,
    PercentSlippage,
    SpecError,
    SpreadFraction,
    parse_fill,
)
from workbench.execution.fills import quote_problem
from workbench.model.enums import Side

BUY, SELL = Side.BUY, Side.SELL


def test_bar_close_fills_at_close_both_sides():
    q = quote(10.0, 12.0, 11.4)
    assert BarClose().fill(BUY, q) == FillPrice(11.4, "close")
    assert BarClose().fill(SELL, q) == FillPrice(11.4, "close")


def test_bar_close_falls_back_to_mid_with_warning():
    got = BarClose().fill(BUY, quote(10.0, 12.0, NAN))
    assert got.price == 11.0 and got.basis == "mid"
    assert got.warning is not None and "no bar close" in got.warning


def test_bar_close_refuses_without_close_or_quote():
    got = BarClose().fill(BUY, quote(NAN, NAN, NAN))
    assert not got.filled and math.isnan(got.price) and "no bid and no ask" in (got.warning or "")
    refused = BarClose(fallback="none").fill(BUY, quote(10, 12, NAN))
    assert not refused.filled and "fallback disabled" in (refused.warning or "")


def test_mid_and_cross():
    q = quote(4.10, 4.50, 4.0)
    assert Mid().fill(BUY, q).price == pytest.approx(4.30)
    assert Mid().fill(SELL, q).price == pytest.approx(4.30)
    assert CrossSpread().fill(BUY, q) == FillPrice(4.50, "ask")
    assert CrossSpread().fill(SELL, q) == FillPrice(4.10, "bid")


@pytest.mark.parametrize(
    ("s", "buy", "sell"),
    [
        # bid 2.00, ask 2.40, width 0.40: buy = 2.00 + s*0.40, sell = 2.40 - s*0.40
        (0.0, 2.00, 2.40),
        (0.25, 2.10, 2.30),
        (0.5, 2.20, 2.20),
        (1.0, 2.40, 2.00),
    ],
)
def test_spread_fraction_by_hand(s, buy, sell):
    q = quote(2.00, 2.40, 2.10)
    assert SpreadFraction(s).fill(BUY, q).price == pytest.approx(buy, abs=1e-12)
    assert SpreadFraction(s).fill(SELL, q).price == pytest.approx(sell, abs=1e-12)


@pytest.mark.parametrize(
    ("legs", "buy", "sell"),
    [
        # bid 1.00, ask 2.00 (width 1): buy = 1 + s, sell = 2 - s
        (1, 1.75, 1.25),
        (2, 1.66, 1.34),
        (3, 1.56, 1.44),
        (4, 1.53, 1.47),
        (6, 1.53, 1.47),
    ],
)
def test_orats_by_leg_count(legs, buy, sell):
    q = quote(1.00, 2.00, 1.5)
    buy_fill = OratsSlippage().fill(BUY, q, legs=legs)
    assert buy_fill.price == pytest.approx(buy, abs=1e-12)
    assert OratsSlippage().fill(SELL, q, legs=legs).price == pytest.approx(sell, abs=1e-12)
    assert buy_fill.warning is None


def test_orats_vertical_credit_is_below_mid_credit():
    # Selling a 2-leg vertical: short leg bid 3.00/ask 3.40, long leg bid 1.00/ask 1.20.
    short = OratsSlippage().fill(SELL, quote(3.00, 3.40, 3.2), legs=2).price  # 3.40 - .66*.40
    long = OratsSlippage().fill(BUY, quote(1.00, 1.20, 1.1), legs=2).price  # 1.00 + .66*.20
    assert short == pytest.approx(3.136)
    assert long == pytest.approx(1.132)
    assert short - long == pytest.approx(2.004)
    assert short - long < (3.20 - 1.10)  # mid credit 2.10


def test_percent_slippage_on_close():
    q = quote(9.0, 11.0, 10.0)
    assert PercentSlippage(0.02).fill(BUY, q).price == pytest.approx(10.2)
    assert PercentSlippage(0.02).fill(SELL, q).price == pytest.approx(9.8)
    fb = PercentSlippage(0.02).fill(SELL, quote(9.0, 11.0, NAN))
    assert fb.price == pytest.approx(9.8) and fb.warning and fb.basis.startswith("mid")


@pytest.mark.parametrize(
    ("bid", "ask", "reason"),
    [
        (NAN, 2.0, "no bid"),
        (1.0, NAN, "no ask"),
        (NAN, NAN, "no bid and no ask"),
        (2.5, 2.0, "crossed"),
        (0.0, 0.0, "non-positive ask"),
    ],
)
@pytest.mark.parametrize(
    "model", [Mid(), CrossSpread(), SpreadFraction(0.3), OratsSlippage()], ids=lambda m: m.name
)
def test_quote_models_fall_back_to_close_with_warning(model, bid, ask, reason):
    got = model.fill(BUY, quote(bid, ask, 1.7), legs=2)
    assert got.price == 1.7 and got.basis == "close" and got.filled
    assert reason in (got.warning or "")


@pytest.mark.parametrize(
    "model",
    [Mid(fallback="none"), CrossSpread(fallback="none"), SpreadFraction(0.3, fallback="none")],
    ids=lambda m: m.name,
)
def test_fallback_none_refuses(model):
    got = model.fill(SELL, quote(2.5, 2.0, 1.7))
    assert not got.filled and "crossed" in (got.warning or "")


def test_fallback_without_close_is_unfilled():
    got = OratsSlippage().fill(BUY, quote(NAN, 2.0, NAN))
    assert not got.filled and "no bar close" in (got.warning or "")


def test_zero_bid_is_a_real_quote():
    assert quote_problem(quote(0.0, 0.10, 0.05)) is None
    assert CrossSpread().fill(SELL, quote(0.0, 0.10, 0.05)).price == 0.0


@pytest.mark.parametrize(
    ("factory", "param"),
    [
        (lambda: SpreadFraction(1.5), "fraction"),
        (lambda: SpreadFraction(-0.1), "fraction"),
        (lambda: OratsSlippage((0.75, 0.66, 1.2, 0.5)), "fractions[2]"),
        (lambda: OratsSlippage((0.75, 0.66)), "fractions must hold 4"),  # type: ignore[arg-type]
        (lambda: PercentSlippage(1.0), "pct"),
        (lambda: PercentSlippage(-0.01), "pct"),
        (lambda: Mid(fallback="mid"), "fallback"),  # type: ignore[arg-type]
        (lambda: BarClose(fallback="close"), "fallback"),  # type: ignore[arg-type]
    ],
)
def test_bad_parameters_name_the_parameter(factory, param):
    with pytest.raises(ValueError, match=re.escape(param)):
        factory()


@pytest.mark.parametrize("legs", [0, -1, 1.5, True])
def test_bad_leg_count(legs):
    with pytest.raises(ValueError, match="legs"):
        OratsSlippage().fill(BUY, quote(), legs=legs)


def test_bad_side():
    with pytest.raises(ValueError, match="side"):
        Mid().fill("HOLD", quote())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("orats", OratsSlippage()),
        ("ORATS", OratsSlippage()),
        ("fraction:0.5", SpreadFraction(0.5)),
        ("mid", Mid()),
        ("mid,fallback=none", Mid(fallback="none")),
        ("cross", CrossSpread()),
        ("market", CrossSpread()),
        ("close", BarClose()),
        ("bar-close,fallback=none", BarClose(fallback="none")),
        ("percent:0.01", PercentSlippage(0.01)),
        ("percent:1%", PercentSlippage(0.01)),
        ("orats:0.8/0.7/0.6/0.5", OratsSlippage((0.8, 0.7, 0.6, 0.5))),
    ],
)
def test_parse_fill(spec, expected):
    model = parse_fill(spec)
    assert model == expected
    assert parse_fill(model.spec) == model
    assert parse_fill(model.describe()) == model
    assert isinstance(model, FillModel)


@pytest.mark.parametrize(
    ("spec", "fault"),
    [
        ("", "non-empty"),
        ("vwap", "unknown fill model 'vwap'"),
        ("fraction", "needs a value"),
        ("fraction:abc", "'abc' is not a number"),
        ("fraction:1.5", "fraction must be in [0, 1]"),
        ("mid:0.3", "takes no ':' value"),
        ("mid,fallback=mid", "fallback 'mid' not allowed"),
        ("mid,speed=3", "unknown option"),
        ("mid,fallback", "not key=value"),
        ("orats:0.7/0.6", "4 values"),
        ("percent:100%", "pct must be in [0, 1)"),
    ],
)
def test_parse_fill_errors_name_the_spec(spec, fault):
    with pytest.raises(SpecError) as err:
        parse_fill(spec)
    assert fault in str(err.value)
    if spec:
        assert repr(spec) in str(err.value)


def test_parse_fill_bad_dict():
    with pytest.raises(SpecError, match="unknown name"):
        parse_fill({"name": "vwap"})
    with pytest.raises(SpecError, match="fraction"):
        parse_fill({"name": "fraction", "fraction": 2})


def test_fill_policy_entry_exit():
    policy = FillPolicy.parse("orats", "mid")
    assert policy.for_action("open") == OratsSlippage()
    assert policy.for_action("close") == Mid()
    assert policy.describe()["exit"] == {"name": "mid", "fallback": "close"}
    with pytest.raises(ValueError, match="action"):
        policy.for_action("settle")
    with pytest.raises(ValueError, match="entry"):
        FillPolicy(entry="orats")  # type: ignore[arg-type]
    assert FillPolicy.parse("cross") == FillPolicy(CrossSpread(), CrossSpread())


prices = st.floats(min_value=0.0, max_value=5000.0, allow_nan=False)


@settings(deadline=None)
@given(bid=prices, width=prices, s=st.floats(0.5, 1.0), legs=st.integers(1, 8))
def test_buy_fill_never_below_sell_fill(bid, width, s, legs):
    q = quote(bid, bid + width + 0.01, bid)
    for model in (SpreadFraction(s), OratsSlippage(), Mid(), CrossSpread()):
        buy = model.fill(BUY, q, legs=legs).price
        sell = model.fill(SELL, q, legs=legs).price
        assert buy >= sell
        tol = 1e-12 * (1 + q.ask)
        assert q.bid - tol <= sell <= buy <= q.ask + tol


@settings(deadline=None)
@given(close=st.floats(0.05, 5000.0), pct=st.floats(0.0, 0.99))
def test_percent_buy_at_least_sell(close, pct):
    q = quote(NAN, NAN, close)
    assert PercentSlippage(pct).fill(BUY, q).price >= PercentSlippage(pct).fill(SELL, q).price >= 0


@settings(deadline=None)
@given(bid=prices, width=prices, s=st.floats(0.0, 1.0))
def test_fraction_buy_minus_sell_is_2s_minus_1_widths(bid, width, s):
    # Below s = 0.5 the model assumes price improvement past the mid, so a buy can price below
    # a sell; the gap is always (2s - 1) x width and both stay inside the quote.
    q = quote(bid, bid + width + 0.01, bid + 1.0)
    width = q.ask - q.bid
    buy = SpreadFraction(s).fill(BUY, q).price
    sell = SpreadFraction(s).fill(SELL, q).price
    assert buy - sell == pytest.approx((2 * s - 1) * width, abs=1e-9 * (1 + width))
    assert q.bid - 1e-9 <= min(buy, sell) and max(buy, sell) <= q.ask + 1e-9


def test_zero_close_is_not_a_price():
    got = Mid().fill(BUY, quote(NAN, 2.0, 0.0))
    assert not got.filled and "no bar close" in (got.warning or "")
    fallback = BarClose().fill(SELL, quote(1.0, 1.2, 0.0))
    assert fallback.price == pytest.approx(1.1) and fallback.basis == "mid"
    assert fallback.warning == "no bar close; filled at mid"
