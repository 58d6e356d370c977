"""Weekly iron condor by delta, held across days (positional mode).

- **expiry**: the expiry ``expiry`` selects (default the nearest listed); the strategy enters only
  when its DTE (calendar days) is inside ``entry_dte`` and never twice on the same expiry.
- **entry** (at or after ``entry_time``, when flat): sell the put and the call whose |delta| is
  nearest ``short_delta``; buy wings either ``wing_width`` price units further out (nearest listed
  strike to short strike -/+ width) or at |delta| nearest ``wing_delta``. Ties follow
  :mod:`workbench.engine.selection` (a sold leg takes the strike further out of the money, a bought
  wing the one nearer the money). The order is skipped unless long put < short put < short call <
  long call. Four legs, one all-or-nothing order.
- **entry filters** (:mod:`workbench.strategies.filters`, all off by default): a VIX band
  and ``iv_percentile_min``; a refused entry is recorded with its reason.
- **exits**, checked in order each tick: ``profit_target`` when the cost to close is at most
  ``(1 - profit_target_pct)`` x the opening credit; ``stop_loss`` when it is at least
  ``(1 + stop_loss_pct)`` x the credit (``engine.exits`` on the premium); ``dte_exit`` at
  ``exit_dte`` days to expiry if set; otherwise the engine settles the legs at intrinsic value
  on expiry.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time
from typing import Any

from pydantic import Field, model_validator

from workbench.engine.config import StrategyConfig
from workbench.engine.context import BarContext
from workbench.engine.exits import credit_exits
from workbench.engine.selection import ExpiryRule, LiquidityFilter, Selection
from workbench.engine.sizing import Sizing
from workbench.engine.strategy import Strategy
from workbench.model.enums import Side
from workbench.model.trades import MAX_LEG_QTY
from workbench.strategies.filters import EntryFilterConfig, EntryFilters

__all__ = ["WeeklyIronCondor"]


class WeeklyIronCondor(EntryFilters, Strategy):
    """Short 4-leg iron condor on the weekly expiry; see the module docstring."""

    name = "weekly-iron-condor"
    version = "1"
    mode = "positional"

    class Config(EntryFilterConfig):
        expiry: ExpiryRule = Field(default=ExpiryRule(index=0), description="which expiry to trade")
        entry_dte: tuple[int, int] = Field(
            default=(1, 7), description="inclusive DTE window to enter"
        )
        entry_time: time = Field(default=time(0, 0), description="earliest entry time of day")
        short_delta: float = Field(
            default=0.16, gt=0, lt=0.5, description="|delta| of the short legs"
        )
        wing_width: float | None = Field(
            default=None, gt=0, description="wing distance, price units"
        )
        wing_delta: float | None = Field(
            default=0.05, gt=0, lt=0.5, description="|delta| of the wings"
        )
        filters: LiquidityFilter = LiquidityFilter()
        qty: int = Field(default=1, ge=1, le=MAX_LEG_QTY, description="contracts (lots) per leg")
        sizing: Sizing | None = Field(
            default=None,
            description="position sizing from the account (workbench.engine.sizing); one unit "
            "is the order at qty; None: qty contracts",
        )
        profit_target_pct: float | None = Field(default=0.5, gt=0, le=1)
        stop_loss_pct: float | None = Field(default=1.0, gt=0)
        exit_dte: int | None = Field(default=None, ge=0, description="close at this DTE or less")

        @model_validator(mode="after")
        def _wings(self) -> WeeklyIronCondor.Config:
            if (self.wing_width is None) == (self.wing_delta is None):
                raise ValueError(
                    "wing_width: give exactly one of wing_width and wing_delta "
                    f"(got wing_width={self.wing_width}, wing_delta={self.wing_delta})"
                )
            if self.wing_delta is not None and self.wing_delta >= self.short_delta:
                raise ValueError(
                    f"wing_delta: {self.wing_delta} must be below short_delta {self.short_delta}"
                )
            lo, hi = self.entry_dte
            if not 0 <= lo <= hi:
                raise ValueError(f"entry_dte: expected 0 <= min <= max, got {self.entry_dte}")
            return self

    def __init__(self, config: StrategyConfig | Mapping[str, Any] | None = None) -> None:
        super().__init__(config)
        self._traded: set[date] = set()

    def _select(self, bar: BarContext, right: str, expiry: date, rule: Selection) -> float | None:
        contract = bar.select(right, expiry=expiry, rule=rule)
        return None if contract is None else contract.strike

    def on_bar(self, bar: BarContext) -> None:
        c = self.config
        if not self.idle or bar.time < c.entry_time:
            return
        expiry = bar.expiry(c.expiry)
        if expiry is None or expiry in self._traded:
            return
        dte = (expiry - bar.date).days
        if not c.entry_dte[0] <= dte <= c.entry_dte[1]:
            return
        if c.exit_dte is not None and dte <= c.exit_dte:
            return
        if not self.entry_allowed(bar):
            return
        sell = {"side": Side.SELL, "filters": c.filters}
        buy = {"side": Side.BUY, "filters": c.filters}
        short_put = self._select(
            bar, "P", expiry, Selection(method="delta", value=c.short_delta, **sell)
        )
        short_call = self._select(
            bar, "C", expiry, Selection(method="delta", value=c.short_delta, **sell)
        )
        if short_put is None or short_call is None:
            return
        if c.wing_width is not None:
            long_put = self._select(
                bar, "P", expiry, Selection(method="strike", value=short_put - c.wing_width, **buy)
            )
            long_call = self._select(
                bar, "C", expiry, Selection(method="strike", value=short_call + c.wing_width, **buy)
            )
        else:
            long_put = self._select(
                bar, "P", expiry, Selection(method="delta", value=c.wing_delta, **buy)
            )
            long_call = self._select(
                bar, "C", expiry, Selection(method="delta", value=c.wing_delta, **buy)
            )
        if long_put is None or long_call is None:
            return
        if not long_put < short_put < short_call < long_call:
            return
        filled = self.try_fill_sized(
            {
                "short_put": self.add(short_put, "P", "SELL", c.qty, expiry),
                "long_put": self.add(long_put, "P", "BUY", c.qty, expiry),
                "short_call": self.add(short_call, "C", "SELL", c.qty, expiry),
                "long_call": self.add(long_call, "C", "BUY", c.qty, expiry),
            }
        )
        if filled is not None:
            self._traded.add(expiry)

    def exit_check(self, bar: BarContext) -> str | None:
        return credit_exits(
            self.config.profit_target_pct, self.config.stop_loss_pct, self.config.exit_dte
        )(self, bar)
