"""The liquidity cost model, by hand: s = base + impact x sqrt(qty / (volume + oi_weight x oi)),
buy = bid + s x width, sell = ask - s x width (workbench.execution.liquidity)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.execution.fills import parse_fill
from workbench.execution.liquidity import Liquidity, LiquiditySlippage
from workbench.execution.spec import SpecError
from workbench.model.enums import Side
from workbench.model.trades import Quote

Q = Quote(bid=99.0, ask=101.0, last=100.0, lag=0)
DEEP = Liquidity(volume=100, oi=1000)  # depth 100 + 0.1 x 1000 = 200 contracts


@pytest.mark.parametrize(
    ("qty", "buy", "sell"),
    [
        (2, 99 + 0.6 * 2, 101 - 0.6 * 2),  # rho 0.01 -> s 0.6
        (50, 101.0, 99.0),  # rho 0.25 -> s 1.0: the far side
        (200, 102.0, 98.0),  # rho 1 -> s 1.5: half a spread beyond it
    ],
)
def test_slippage_grows_with_size_against_volume_and_open_interest(qty, buy, sell) -> None:
    model = LiquiditySlippage()
    b = model.fill_sized(Side.BUY, Q, qty=qty, liquidity=DEEP)
    s = model.fill_sized(Side.SELL, Q, qty=qty, liquidity=DEEP)
    assert b.price == pytest.approx(buy, abs=1e-12)
    assert s.price == pytest.approx(sell, abs=1e-12)
    assert b.warning is None and b.basis.startswith("liquidity:")


def test_open_interest_weight_and_impact_are_parameters() -> None:
    # oi_weight 0: depth = volume 100; qty 25 -> sqrt(0.25) = 0.5; impact 2 -> s = 0.5 + 1.0
    model = LiquiditySlippage(impact=2.0, oi_weight=0.0)
    assert model.fill_sized(Side.BUY, Q, qty=25, liquidity=DEEP).price == pytest.approx(102.0)


def test_no_volume_and_no_open_interest_is_refused() -> None:
    fp = LiquiditySlippage().fill_sized(Side.BUY, Q, qty=1, liquidity=Liquidity(0, 0))
    assert not fp.filled and "no volume and no open interest" in (fp.warning or "")
    nan = LiquiditySlippage().fill_sized(
        Side.BUY, Q, qty=1, liquidity=Liquidity(math.nan, math.nan)
    )
    assert not nan.filled


def test_order_larger_than_the_quoted_size_is_refused_all_or_nothing() -> None:
    sized = Liquidity(volume=100, oi=1000, bid_size=5, ask_size=3)
    model = LiquiditySlippage()
    fp = model.fill_sized(Side.BUY, Q, qty=4, liquidity=sized)
    assert not fp.filled
    assert fp.warning == "order of 4 contracts larger than the quoted ask size 3"
    assert model.fill_sized(Side.BUY, Q, qty=3, liquidity=sized).filled
    assert model.fill_sized(Side.SELL, Q, qty=5, liquidity=sized).filled
    assert not model.fill_sized(Side.SELL, Q, qty=6, liquidity=sized).filled


def test_without_a_quote_it_refuses_unless_told_to_use_the_close() -> None:
    one_sided = Quote(bid=math.nan, ask=101.0, last=100.0, lag=0)
    assert not LiquiditySlippage().fill_sized(Side.BUY, one_sided, qty=1, liquidity=DEEP).filled
    fp = LiquiditySlippage(fallback="close").fill_sized(Side.BUY, one_sided, qty=1, liquidity=DEEP)
    assert fp.price == 100.0 and fp.warning


def test_a_sell_far_past_the_bid_is_floored_at_zero() -> None:
    thin = Quote(bid=0.05, ask=0.10, last=0.05, lag=0)
    fp = LiquiditySlippage(impact=10).fill_sized(Side.SELL, thin, qty=200, liquidity=DEEP)
    assert fp.price == 0.0


@given(
    a=st.integers(1, 1000),
    b=st.integers(1, 1000),
    volume=st.floats(0, 1e5),
    oi=st.floats(0, 1e6),
)
def test_a_larger_order_never_fills_at_a_better_price(a, b, volume, oi) -> None:
    small, large = sorted((a, b))
    model = LiquiditySlippage()
    liq = Liquidity(volume, oi)
    if volume + 0.1 * oi <= 0:
        return
    buy_s = model.fill_sized(Side.BUY, Q, qty=small, liquidity=liq).price
    buy_l = model.fill_sized(Side.BUY, Q, qty=large, liquidity=liq).price
    sell_s = model.fill_sized(Side.SELL, Q, qty=small, liquidity=liq).price
    sell_l = model.fill_sized(Side.SELL, Q, qty=large, liquidity=liq).price
    assert buy_l >= buy_s and sell_l <= sell_s and buy_s >= sell_s


def test_specs_round_trip_and_bad_specs_name_the_fault() -> None:
    model = parse_fill("liquidity:2,base=0.6,oi_weight=0")
    assert model == LiquiditySlippage(impact=2.0, base=0.6, oi_weight=0.0)
    assert parse_fill(model.spec) == model
    assert parse_fill(model.describe()) == model
    assert parse_fill("liquidity") == LiquiditySlippage()
    for bad, fault in (
        ("liquidity:abc", "impact 'abc' is not a number"),
        ("liquidity,depth=3", "unknown option(s) depth"),
        ("liquidity,base=2", "base must be in [0, 1]"),
        ("liquidity:-1", "impact must be a finite number >= 0"),
        ("liquidity,fallback=mid", "fallback 'mid' not allowed"),
    ):
        with pytest.raises(SpecError, match="liquidity") as err:
            parse_fill(bad)
        assert fault in str(err.value), str(err.value)
