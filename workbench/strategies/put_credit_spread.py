"""30-45 DTE bull put credit spread with seed 003's scanner and exits (positional mode).

- **entry** (when flat, at or after ``entry_time``): scan every listed expiry whose DTE (calendar
  days) is inside ``dte_window`` and above ``dte_exit`` with :func:`~workbench.strategies.scanner.
  scan_credit_spreads` (short |delta| range, width range, minimum credit as a fraction of width,
  liquidity filter, scored and ranked deterministically) and open the best candidate: sell the
  short put, buy the long put, ``qty`` contracts each, one all-or-nothing order. If the best
  candidate's order is refused the strategy tries again on the next tick.
- **entry filters** (:mod:`workbench.strategies.filters`, all off by default): a VIX band
  (``vix_min``/``vix_max``, the previous session's close) and ``iv_percentile_min`` (and
  ``iv_percentile_max``, ``iv_rank_min``) over ``iv_window`` sessions; a refused entry is
  recorded with its reason.
- **exits**, checked in seed 003's order: ``profit_target`` (cost to close <= credit x (1 -
  ``profit_target_pct``)), ``stop_loss`` (cost to close >= credit x (1 + ``stop_loss_pct``)),
  ``dte_exit`` (DTE <= ``dte_exit``); otherwise the engine settles at intrinsic value on expiry.

One spread is open at a time (the engine's IDLE -> ACTIVE -> IDLE cycle). Fills, slippage
(ORATS: 66 % of the spread for a 2-leg order) and commissions (e.g. $0.65 per contract) are the
run's fill and fee models, not this strategy's parameters.
"""

from __future__ import annotations

from datetime import time

from pydantic import Field, model_validator

from workbench.engine.context import BarContext
from workbench.engine.exits import credit_exits
from workbench.engine.selection import LiquidityFilter
from workbench.engine.sizing import Sizing
from workbench.engine.strategy import Strategy
from workbench.model.enums import Right
from workbench.model.trades import MAX_LEG_QTY
from workbench.strategies.filters import EntryFilterConfig, EntryFilters
from workbench.strategies.scanner import SpreadScan, scan_credit_spreads

__all__ = ["PutCreditSpread"]

_DEFAULT_SCAN = SpreadScan(
    right=Right.PUT,
    short_delta=(0.10, 0.15),
    width_min=2.0,
    width_max=10.0,
    min_credit_pct=0.25,
    filters=LiquidityFilter(min_oi=100, min_volume=10, max_spread_pct=0.08),
)


class PutCreditSpread(EntryFilters, Strategy):
    """Bull put spread found by the seed 003 scanner; see the module docstring."""

    name = "put-credit-spread"
    version = "1"
    mode = "positional"

    class Config(EntryFilterConfig):
        dte_window: tuple[int, int] = Field(default=(30, 45), description="inclusive DTE window")
        scan: SpreadScan = Field(
            default=_DEFAULT_SCAN, description="scanner rules (right must be P)"
        )
        entry_time: time = Field(default=time(0, 0), description="earliest entry time of day")
        qty: int = Field(default=1, ge=1, le=MAX_LEG_QTY, description="spreads (contracts per leg)")
        sizing: Sizing | None = Field(
            default=None,
            description="position sizing from the account (workbench.engine.sizing); one unit "
            "is the order at qty; None: qty contracts",
        )
        profit_target_pct: float | None = Field(default=0.50, gt=0, le=1)
        stop_loss_pct: float | None = Field(default=1.25, gt=0)
        dte_exit: int | None = Field(default=21, ge=0)

        @model_validator(mode="after")
        def _check(self) -> PutCreditSpread.Config:
            lo, hi = self.dte_window
            if not 0 <= lo <= hi:
                raise ValueError(f"dte_window: expected 0 <= min <= max, got {self.dte_window}")
            if self.scan.right is not Right.PUT:
                raise ValueError("scan: a put credit spread scans puts (scan.right must be 'P')")
            return self

    def on_bar(self, bar: BarContext) -> None:
        c = self.config
        if not self.idle or bar.time < c.entry_time:
            return
        lo, hi = c.dte_window
        floor = -1 if c.dte_exit is None else c.dte_exit
        expiries = [
            e
            for e in bar.expiries
            if lo <= (e - bar.date).days <= hi and (e - bar.date).days > floor
        ]
        if not expiries or not self.entry_allowed(bar):
            return
        candidates = scan_credit_spreads([bar.chain(e) for e in expiries], c.scan)
        if not candidates:
            return
        best = candidates[0]
        self.try_fill_sized(
            {
                "short": self.add(best.short_strike, "P", "SELL", c.qty, best.expiry),
                "long": self.add(best.long_strike, "P", "BUY", c.qty, best.expiry),
            }
        )

    def exit_check(self, bar: BarContext) -> str | None:
        return credit_exits(
            self.config.profit_target_pct, self.config.stop_loss_pct, self.config.dte_exit
        )(self, bar)
