"""What a strategy asks for (:class:`Leg`) and what the market shows (:class:`Quote`).

Open and closed positions (``Trade``) belong to the engine, which builds them from fills.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from workbench.model.contracts import OptionContract
from workbench.model.enums import Side

MAX_LEG_QTY = 1_000_000
"""Most contracts one leg may hold (exchange order limits are far lower: NSE's NIFTY freeze
quantity is 1,800 lots; float64 cash stays exact to the cent well past this)."""


@dataclass(frozen=True, slots=True)
class Leg:
    """One leg of an order: ``qty`` contracts (a positive int; lots, not units) on ``side``.

    The number of underlying units is ``qty * lot_size(day)``, computed by the engine.
    """

    contract: OptionContract
    side: Side
    qty: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.contract, OptionContract):
            raise TypeError(f"Leg.contract must be an OptionContract, got {self.contract!r}")
        object.__setattr__(self, "side", Side.parse(self.side))
        qty: object = self.qty
        if isinstance(qty, bool) or not isinstance(qty, numbers.Integral):
            if isinstance(qty, float) and qty.is_integer():
                qty = int(qty)
            else:
                raise ValueError(
                    f"Leg.qty must be a positive whole number of contracts, got {self.qty!r}"
                )
        if not isinstance(qty, numbers.Integral) or int(qty) <= 0:
            raise ValueError(
                f"Leg.qty must be a positive whole number of contracts, got {self.qty!r}"
            )
        if int(qty) > MAX_LEG_QTY:
            raise ValueError(
                f"Leg.qty {int(qty):,} is above {MAX_LEG_QTY:,} contracts per leg: no exchange "
                "takes such an order, and the engine's cash (float64, reconciled to the cent) "
                "cannot hold its values exactly"
            )
        object.__setattr__(self, "qty", int(qty))

    @property
    def signed_qty(self) -> int:
        """``+qty`` bought, ``-qty`` sold."""
        return self.side.sign * self.qty

    def __str__(self) -> str:
        return f"{self.side.value} {self.qty} {self.contract.symbol}"


def _price(value: float | None, name: str) -> float:
    if value is None:
        return math.nan
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"Quote.{name} must be a number or None, got {value!r}") from None
    if math.isinf(out) or out < 0:
        raise ValueError(f"Quote.{name} must be a finite non-negative price or NaN, got {value!r}")
    return out


@dataclass(frozen=True, slots=True)
class Quote:
    """Prices of one instrument at one tick, per unit of underlying; NaN means none.

    ``lag`` is how many clock ticks old the underlying bar is: ``0`` a bar at this tick,
    ``> 0`` the last bar that many ticks ago, ``None`` nothing yet today. A zero bid is a
    real (empty) bid, not a missing one.
    """

    bid: float
    ask: float
    last: float
    lag: int | None = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "bid", _price(self.bid, "bid"))
        object.__setattr__(self, "ask", _price(self.ask, "ask"))
        object.__setattr__(self, "last", _price(self.last, "last"))
        lag = self.lag
        if lag is not None:
            if isinstance(lag, bool) or not isinstance(lag, numbers.Integral) or lag < 0:
                raise ValueError(f"Quote.lag must be a non-negative int or None, got {lag!r}")
            object.__setattr__(self, "lag", int(lag))

    @property
    def mid(self) -> float:
        """``(bid + ask) / 2``; NaN when either side is missing or the quote is crossed."""
        if math.isnan(self.bid) or math.isnan(self.ask) or self.ask < self.bid:
            return math.nan
        return 0.5 * (self.bid + self.ask)

    @property
    def spread(self) -> float:
        """``ask - bid``; NaN when either side is missing or the quote is crossed."""
        if math.isnan(self.mid):
            return math.nan
        return self.ask - self.bid

    @property
    def has_two_sides(self) -> bool:
        """Both sides present and not crossed."""
        return not math.isnan(self.mid)
