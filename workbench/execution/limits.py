"""Limit orders: when a resting limit order fills, and at what price.

A limit order to buy at ``limit`` fills on a bar when the market reaches the limit, and then
fills *at the limit price* (conservative: no price improvement is assumed for a resting order).

Two fill rules:

* ``rule="quote"``: buy fills when the bar's ask ``<= limit``; sell fills when the bid ``>= limit``.
  Needs a usable two-sided quote (see :func:`workbench.execution.fills.quote_problem`).
* ``rule="range"``: buy fills when the bar's low ``<= limit``; sell fills when the high ``>= limit``.
  For data without quotes (OHLC only).

``through=True`` demands that the market trade *through* the limit (strict ``<`` / ``>``), the
usual guard against assuming a fill merely because the price touched the limit while others
were ahead in the queue.

When the data needed by the rule is missing the order is not filled and the reason is the
``warning`` of the returned :class:`~workbench.execution.fills.FillPrice`; when the market did not
reach the limit the order is simply not filled (``warning`` is ``None``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from workbench.execution.fills import UNFILLED, FillPrice, QuoteLike, quote_problem
from workbench.model.enums import Side

LimitRule = Literal["quote", "range"]


def _finite(x: float | None) -> float | None:
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


@dataclass(frozen=True, slots=True)
class LimitFill:
    """The fill rule for limit orders (see module docstring)."""

    rule: LimitRule = "quote"
    through: bool = False
    name: ClassVar[str] = "limit"

    def __post_init__(self) -> None:
        if self.rule not in ("quote", "range"):
            raise ValueError(f"rule must be 'quote' or 'range', got {self.rule!r}")
        if not isinstance(self.through, bool):
            raise ValueError(f"through must be True or False, got {self.through!r}")

    def fill(
        self,
        side: Side | str,
        limit: float,
        quote: QuoteLike | None = None,
        *,
        high: float | None = None,
        low: float | None = None,
    ) -> FillPrice:
        """Price a limit order at ``limit`` (per unit, > 0) on one bar.

        ``quote`` is needed for ``rule="quote"``; ``high``/``low`` (the bar's range of the option
        price) for ``rule="range"``.
        """
        side = Side.parse(side)
        lim = _finite(limit)
        if lim is None or lim <= 0:
            raise ValueError(f"limit must be a positive finite price, got {limit!r}")
        if self.rule == "quote":
            if quote is None:
                raise ValueError("rule='quote' needs the bar's quote")
            problem = quote_problem(quote)
            if problem is not None:
                return FillPrice(math.nan, UNFILLED, f"limit not checked: {problem}")
            level = _finite(quote.ask) if side is Side.BUY else _finite(quote.bid)
            what = "ask" if side is Side.BUY else "bid"
        else:
            level = _finite(low) if side is Side.BUY else _finite(high)
            what = "low" if side is Side.BUY else "high"
            if level is None:
                return FillPrice(math.nan, UNFILLED, f"limit not checked: no bar {what}")
        assert level is not None
        if side is Side.BUY:
            reached = level < lim if self.through else level <= lim
        else:
            reached = level > lim if self.through else level >= lim
        if not reached:
            return FillPrice(math.nan, UNFILLED, None)
        return FillPrice(lim, "limit")

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "rule": self.rule, "through": self.through}
