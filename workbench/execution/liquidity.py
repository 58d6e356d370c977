"""A liquidity-based cost model: slippage that grows with the order's size against the market.

:class:`LiquiditySlippage` (spec ``liquidity[:IMPACT][,base=B][,oi_weight=W][,fallback=close|none]``)
prices one leg of ``qty`` contracts against the bar it fills on:

* ``w = ask - bid`` (per unit of underlying), from a usable two-sided quote
  (:func:`~workbench.execution.fills.quote_problem`);
* depth ``D = volume + oi_weight x oi``, in contracts: the bar's traded volume plus a share of
  the open interest (default 0.1) standing for interest that would trade at a price;
* participation ``rho = qty / D`` (dimensionless);
* spread fraction ``s = base + impact x sqrt(rho)`` (square-root market impact measured in
  spreads; defaults ``base = 0.5``, the mid, and ``impact = 1``): an order of 1% of the depth
  pays ``s = 0.6``, one as large as the depth ``s = 1.5``, half a spread beyond the far side.
  ``s`` is not capped at 1 (a sell's price is floored at 0);
* buy = ``bid + s x w``, sell = ``ask - s x w`` (the ORATS convention of
  :mod:`~workbench.execution.fills`, extended past the far side).

Refusals (the whole all-or-nothing order is then not placed, the reason recorded):

* ``D = 0`` (no volume and no open interest at the bar): no measure of liquidity;
* the quoted size, where the data has it (``bid_size`` / ``ask_size`` of :class:`Liquidity`,
  contracts): an order larger than the size on the side it takes (a buy takes the ask's size,
  a sell the bid's) is refused, all or nothing -- it is not filled in part nor walked up an
  order book the data does not show;
* no usable quote: refused with ``fallback="none"`` (the default: a close carries no spread to
  scale), or filled at the bar close with a warning under ``fallback="close"``.

The model needs the order's size and the bar's liquidity, so it implements
:meth:`LiquiditySlippage.fill_sized`; the engine calls it with each leg's contracts and the
volume and open interest of the bar it fills on. Its plain ``fill`` (the
:class:`~workbench.execution.fills.FillModel` protocol, no size known) prices at ``base``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from workbench.execution.fills import (
    FillPrice,
    QuoteLike,
    _from_close,
    _side,
    _spread_price,
    _unfilled,
    _value,
    quote_problem,
)
from workbench.model.enums import Side


@dataclass(frozen=True, slots=True)
class Liquidity:
    """The market's depth for one leg at its fill bar, in contracts (NaN: not in the data):
    the bar's ``volume``, its open interest ``oi``, and the quoted sizes at the best bid and
    ask."""

    volume: float
    oi: float
    bid_size: float = math.nan
    ask_size: float = math.nan


@runtime_checkable
class SizedFillModel(Protocol):
    """A fill model that prices a leg by its size against the bar's liquidity."""

    name: ClassVar[str]

    def fill_sized(
        self, side: Side, quote: QuoteLike, *, legs: int, qty: int, liquidity: Liquidity
    ) -> FillPrice: ...


def _non_negative(value: Any, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number >= 0, got {value!r}") from None
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return v


def _count(x: float) -> float:
    """A volume or open interest as a count: NaN or negative counts as 0."""
    return x if x == x and x > 0 else 0.0


@dataclass(frozen=True, slots=True)
class LiquiditySlippage:
    """Spread fraction ``base + impact x sqrt(qty / (volume + oi_weight x oi))`` (module doc)."""

    impact: float = 1.0
    base: float = 0.5
    oi_weight: float = 0.1
    fallback: Literal["close", "none"] = "none"
    name: ClassVar[str] = "liquidity"

    def __post_init__(self) -> None:
        object.__setattr__(self, "impact", _non_negative(self.impact, "impact"))
        base = _non_negative(self.base, "base")
        if base > 1:
            raise ValueError(f"base must be in [0, 1], got {self.base!r}")
        object.__setattr__(self, "base", base)
        object.__setattr__(self, "oi_weight", _non_negative(self.oi_weight, "oi_weight"))
        if self.fallback not in ("close", "none"):
            raise ValueError(f"fallback must be one of close, none; got {self.fallback!r}")

    def fraction(self, qty: int, liquidity: Liquidity) -> float | None:
        """The spread fraction for ``qty`` contracts; ``None`` when the depth is 0."""
        depth = _count(liquidity.volume) + self.oi_weight * _count(liquidity.oi)
        if depth <= 0:
            return None
        return self.base + self.impact * math.sqrt(qty / depth)

    def fill_sized(
        self, side: Side, quote: QuoteLike, *, legs: int = 1, qty: int, liquidity: Liquidity
    ) -> FillPrice:
        side = _side(side)
        if isinstance(qty, bool) or not isinstance(qty, int) or qty < 1:
            raise ValueError(f"qty must be a whole number of contracts >= 1, got {qty!r}")
        size = liquidity.ask_size if side is Side.BUY else liquidity.bid_size
        if size == size and qty > size:
            where = "ask" if side is Side.BUY else "bid"
            return _unfilled(
                f"order of {qty} contracts larger than the quoted {where} size {size:g}"
            )
        problem = quote_problem(quote)
        if problem is not None:
            return _from_close(quote, self.fallback, problem)
        s = self.fraction(qty, liquidity)
        if s is None:
            return _unfilled(
                f"no volume and no open interest at the bar (volume {liquidity.volume:g}, "
                f"oi {liquidity.oi:g}): no liquidity to size the slippage by"
            )
        # a sell far past the bid is floored at 0: nobody pays to sell an option
        price = max(0.0, _spread_price(side, _value(quote.bid), _value(quote.ask), s))
        return FillPrice(price, f"liquidity:{s:.4g}")

    def fill(self, side: Side, quote: QuoteLike, *, legs: int = 1) -> FillPrice:
        """Without a size: at the ``base`` fraction of the spread (no impact)."""
        side = _side(side)
        problem = quote_problem(quote)
        if problem is not None:
            return _from_close(quote, self.fallback, problem)
        price = _spread_price(side, _value(quote.bid), _value(quote.ask), self.base)
        return FillPrice(price, f"liquidity:{self.base:.4g}")

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "impact": self.impact,
            "base": self.base,
            "oi_weight": self.oi_weight,
            "fallback": self.fallback,
        }

    @property
    def spec(self) -> str:
        return (
            f"{self.name}:{self.impact!r},base={self.base!r},oi_weight={self.oi_weight!r},"
            f"fallback={self.fallback}"
        )
