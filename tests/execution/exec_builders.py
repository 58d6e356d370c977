"""Builders with defaults for execution tests."""

from __future__ import annotations

from datetime import date

from workbench.execution.fees import FillEvent
from workbench.model.contracts import OptionContract
from workbench.model.enums import Right, Side
from workbench.model.trades import Quote

NAN = float("nan")


def quote(bid: float = 10.0, ask: float = 12.0, last: float = 11.0, lag: int | None = 0) -> Quote:
    return Quote(bid=bid, ask=ask, last=last, lag=lag)


def contract(
    underlying: str = "NIFTY",
    strike: float = 25000.0,
    right: str = "C",
    expiry: date = date(2024, 10, 3),
) -> OptionContract:
    return OptionContract(underlying, expiry, strike, Right.parse(right))


def fill(
    side: str = "SELL",
    qty: int = 1,
    units: float = 25.0,
    price: float = 100.0,
    day: date = date(2024, 10, 1),
    strike: float = 25000.0,
    right: str = "C",
    underlying: str = "NIFTY",
) -> FillEvent:
    return FillEvent(
        contract(underlying, strike, right, expiry=max(day, date(2024, 10, 3))),
        Side.parse(side),
        qty,
        units,
        price,
        day,
    )
