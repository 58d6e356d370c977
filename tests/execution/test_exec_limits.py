"""Limit-order fill rule: crossing by quote or bar range, at the limit price."""

from __future__ import annotations

import pytest
from exec_builders import NAN, quote

from workbench.execution import LimitFill
from workbench.model.enums import Side


@pytest.mark.parametrize(
    ("side", "limit", "bid", "ask", "filled"),
    [
        (Side.BUY, 2.00, 1.90, 2.00, True),  # ask touches the limit
        (Side.BUY, 2.00, 1.90, 2.05, False),
        (Side.BUY, 2.10, 1.90, 2.00, True),  # ask below the limit: fills at the limit
        (Side.SELL, 3.00, 3.00, 3.20, True),
        (Side.SELL, 3.00, 2.95, 3.20, False),
    ],
)
def test_quote_rule(side, limit, bid, ask, filled):
    got = LimitFill().fill(side, limit, quote(bid, ask, 2.0))
    assert got.filled is filled
    if filled:
        assert got.price == limit and got.basis == "limit"
    else:
        assert got.warning is None


def test_through_requires_strict_cross():
    q = quote(1.90, 2.00, 2.0)
    assert not LimitFill(through=True).fill(Side.BUY, 2.00, q).filled
    assert LimitFill(through=True).fill(Side.BUY, 2.01, q).filled


def test_range_rule():
    rule = LimitFill(rule="range")
    assert rule.fill(Side.BUY, 5.0, high=6.0, low=4.9).price == 5.0
    assert not rule.fill(Side.BUY, 5.0, high=6.0, low=5.1).filled
    assert rule.fill(Side.SELL, 5.5, high=5.5, low=4.0).price == 5.5
    assert not LimitFill(rule="range", through=True).fill(Side.SELL, 5.5, high=5.5, low=4).filled


def test_missing_data_is_unfilled_with_warning():
    got = LimitFill().fill(Side.BUY, 2.0, quote(2.1, 2.0, 2.0))
    assert not got.filled and "crossed" in (got.warning or "")
    got = LimitFill(rule="range").fill(Side.SELL, 2.0, high=NAN, low=1.0)
    assert not got.filled and "no bar high" in (got.warning or "")


@pytest.mark.parametrize(
    ("call", "fault"),
    [
        (lambda: LimitFill(rule="touch"), "rule"),  # type: ignore[arg-type]
        (lambda: LimitFill(through=1), "through"),  # type: ignore[arg-type]
        (lambda: LimitFill().fill(Side.BUY, 0.0, quote()), "limit"),
        (lambda: LimitFill().fill(Side.BUY, NAN, quote()), "limit"),
        (lambda: LimitFill().fill(Side.BUY, 1.0), "needs the bar's quote"),
    ],
)
def test_bad_input(call, fault):
    with pytest.raises(ValueError, match=fault):
        call()
