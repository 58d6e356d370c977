"""Leg, Quote and OptionContract value objects."""

from __future__ import annotations

import dataclasses
import math
from datetime import date, datetime

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.model import Leg, OptionContract, Quote, Right, Side

ATM = OptionContract("NIFTY", date(2024, 1, 25), 21500, Right.CALL)


def test_leg_defaults_and_parsing() -> None:
    leg = Leg(ATM, "sell")  # type: ignore[arg-type]
    assert leg.side is Side.SELL and leg.qty == 1 and leg.signed_qty == -1
    assert Leg(ATM, Side.BUY, np.int64(3)).qty == 3  # type: ignore[arg-type]
    assert Leg(ATM, Side.BUY, 2.0).qty == 2  # type: ignore[arg-type]
    assert str(Leg(ATM, Side.BUY, 2)) == "BUY 2 NIFTY24JAN21500CE"


@pytest.mark.parametrize("qty", [0, -1, 1.5, True, "2", None])
def test_leg_rejects_bad_qty(qty: object) -> None:
    with pytest.raises(ValueError, match=r"Leg\.qty"):
        Leg(ATM, Side.BUY, qty)  # type: ignore[arg-type]


def test_leg_qty_has_an_upper_bound_that_keeps_cash_exact() -> None:
    from workbench.model.trades import MAX_LEG_QTY

    assert Leg(ATM, Side.BUY, MAX_LEG_QTY).qty == MAX_LEG_QTY
    with pytest.raises(ValueError, match=r"Leg\.qty 1,000,001 is above 1,000,000"):
        Leg(ATM, Side.BUY, MAX_LEG_QTY + 1)
    # the bound is where float64 still holds a large fill's cash to the cent: a 100,000-point
    # premium on the largest multiplier in the registry
    from workbench.model.instruments import instruments

    biggest = max(spec.lot_size(date(2024, 1, 2)) for spec in instruments())
    cash = MAX_LEG_QTY * biggest * 100_000.0
    assert cash * 100 < 2**53  # every cent below it is a float64


def test_leg_rejects_bad_side_and_contract() -> None:
    with pytest.raises(ValueError, match="side 'HOLD'"):
        Leg(ATM, "HOLD")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"Leg\.contract"):
        Leg("NIFTY24JAN21500CE", Side.BUY)  # type: ignore[arg-type]


def test_leg_is_frozen_and_hashable() -> None:
    leg = Leg(ATM, Side.BUY, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        leg.qty = 3  # type: ignore[misc]
    assert {leg: 1}[Leg(ATM, Side.BUY, 2)] == 1


def test_quote_mid() -> None:
    assert Quote(10.0, 11.0, 10.4, 0).mid == 10.5
    assert Quote(0.0, 0.1, math.nan, 2).mid == pytest.approx(0.05)  # zero bid is a real bid
    assert math.isnan(Quote(math.nan, 11.0, 10.4).mid)
    assert math.isnan(Quote(10.0, None, 10.4).mid)  # type: ignore[arg-type]
    assert math.isnan(Quote(11.0, 10.0, 10.4).mid)  # crossed
    assert Quote(10.0, 11.0, 10.4).spread == 1.0
    assert not Quote(11.0, 10.0, 10.4).has_two_sides
    assert Quote(1, 2, 1, None).lag is None


@given(
    bid=st.floats(0, 1e6, allow_nan=False),
    width=st.floats(0, 1e3, allow_nan=False),
)
def test_quote_mid_lies_between_bid_and_ask(bid: float, width: float) -> None:
    q = Quote(bid, bid + width, bid)
    assert q.bid <= q.mid <= q.ask


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"bid": -1.0}, "bid"),
        ({"ask": math.inf}, "ask"),
        ({"last": "x"}, "last"),
        ({"lag": -1}, "lag"),
        ({"lag": 1.5}, "lag"),
    ],
)
def test_quote_rejects_bad_fields(kwargs: dict[str, object], field: str) -> None:
    base: dict[str, object] = {"bid": 1.0, "ask": 2.0, "last": 1.5, "lag": 0}
    base.update(kwargs)
    with pytest.raises(ValueError, match=rf"Quote\.{field}"):
        Quote(**base)  # type: ignore[arg-type]


def test_option_contract_normalises_and_orders() -> None:
    c = OptionContract(" nifty", datetime(2024, 1, 25, 15, 30), 21500, "CE")  # type: ignore[arg-type]
    assert c == ATM and hash(c) == hash(ATM)
    assert c.strike == 21500.0 and isinstance(c.strike, float)
    assert ATM.intrinsic(21600) == 100 and ATM.intrinsic(21400) == 0
    put = OptionContract("NIFTY", date(2024, 1, 25), 21500, Right.PUT)
    assert put.intrinsic(21400) == 100
    assert sorted([put, ATM]) == [ATM, put]


@pytest.mark.parametrize(
    ("args", "fault"),
    [
        (("", date(2024, 1, 25), 100, "C"), "underlying"),
        (("NIFTY", "2024-01-25", 100, "C"), "expiry"),
        (("NIFTY", date(2024, 1, 25), -5, "C"), "strike"),
        (("NIFTY", date(2024, 1, 25), math.nan, "C"), "strike"),
        (("NIFTY", date(2024, 1, 25), "abc", "C"), "strike"),
        (("NIFTY", date(2024, 1, 25), 100, "X"), "right"),
    ],
)
def test_option_contract_validation(args: tuple[object, ...], fault: str) -> None:
    with pytest.raises(ValueError, match=fault):
        OptionContract(*args)  # type: ignore[arg-type]
