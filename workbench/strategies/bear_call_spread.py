"""30-45 DTE bear call credit spread with seed 003's scanner and exits (positional mode).

The mirror of :mod:`workbench.strategies.put_credit_spread`:

- **entry** (when flat, at or after ``entry_time``): scan every listed expiry whose DTE (calendar
  days) is inside ``dte_window`` and above ``dte_exit`` with :func:`~workbench.strategies.scanner.
  scan_credit_spreads` (``scan.right`` is ``C``: short call by |delta| range, or by distance out
  of the money with ``scan.short_offset``; long call ``width_min..width_max`` above it; minimum
  credit as a fraction of width; liquidity filter; scored and ranked deterministically) and open
  the best candidate: sell the short call, buy the long call, ``qty`` contracts each, one
  all-or-nothing order. If the order is refused the strategy tries again on the next tick.
- **IV percentile** (seed 003's score term and ``iv_percentile_min`` filter): the engine's
  ``bar.iv_percentile`` (30-day ATM implied volatility against the closes of the last
  ``iv_window`` earlier sessions, at least ``iv_min_history`` of them, so a run's first days have
  none; see :mod:`workbench.engine.iv_rank`), read once a day. With ``iv_percentile_min`` set, a
  day without a percentile, or with one below it, opens nothing.
- **exits**, checked in seed 003's order: ``profit_target`` (cost to close <= credit x (1 -
  ``profit_target_pct``)), ``stop_loss`` (cost to close >= credit x (1 + ``stop_loss_pct``)),
  ``dte_exit`` (DTE <= ``dte_exit``); otherwise the engine settles at intrinsic value on expiry.

One spread is open at a time. Fills and commissions are the run's fill and fee models.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, time
from typing import Any

from pydantic import Field, model_validator

from workbench.engine.config import StrategyConfig
from workbench.engine.context import BarContext
from workbench.engine.exits import credit_exits
from workbench.engine.selection import LiquidityFilter
from workbench.engine.sizing import Sizing
from workbench.engine.strategy import Strategy
from workbench.model.enums import Right
from workbench.model.trades import MAX_LEG_QTY
from workbench.strategies.scanner import SpreadCandidate, SpreadScan, scan_credit_spreads

__all__ = ["BearCallSpread"]

_DEFAULT_SCAN = SpreadScan(
    right=Right.CALL,
    short_delta=(0.10, 0.15),
    width_min=2.0,
    width_max=10.0,
    min_credit_pct=0.25,
    filters=LiquidityFilter(min_oi=100, min_volume=10, max_spread_pct=0.08),
)

#: the DTE whose expiry gives the day's ATM IV (the usual 30-day implied volatility)


class BearCallSpread(Strategy):
    """Bear call spread found by the seed 003 scanner; see the module docstring."""

    name = "bear-call-spread"
    version = "1"
    mode = "positional"

    class Config(StrategyConfig):
        dte_window: tuple[int, int] = Field(default=(30, 45), description="inclusive DTE window")
        scan: SpreadScan = Field(
            default=_DEFAULT_SCAN, description="scanner rules (right must be C)"
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
        iv_percentile_min: float | None = Field(
            default=None, ge=0, le=100, description="open only when IV percentile >= this (0..100)"
        )
        iv_window: int = Field(default=252, ge=1, description="past days in the IV percentile")
        iv_min_history: int = Field(
            default=20, ge=1, description="past days needed before an IV percentile exists"
        )

        @model_validator(mode="after")
        def _check(self) -> BearCallSpread.Config:
            lo, hi = self.dte_window
            if not 0 <= lo <= hi:
                raise ValueError(f"dte_window: expected 0 <= min <= max, got {self.dte_window}")
            if self.scan.right is not Right.CALL:
                raise ValueError("scan: a bear call spread scans calls (scan.right must be 'C')")
            return self

    def __init__(self, config: StrategyConfig | Mapping[str, Any] | None = None) -> None:
        super().__init__(config)
        self._iv_day: date | None = None
        self._ivp: float | None = None
        #: the last candidate opened (its score and rationale), for notebooks and tests
        self.last_candidate: SpreadCandidate | None = None

    def _uses_iv(self) -> bool:
        c = self.config
        return c.iv_percentile_min is not None or c.scan.weights.iv_percentile > 0

    def _iv_percentile(self, bar: BarContext) -> float | None:
        """Today's IV percentile from earlier days only (computed once per day)."""
        if self._iv_day == bar.date:
            return self._ivp
        self._iv_day = bar.date
        c = self.config
        value = bar.iv_percentile(window=c.iv_window, min_days=min(c.iv_min_history, c.iv_window))
        self._ivp = None if value is None or not math.isfinite(value) else float(value)
        return self._ivp

    def on_bar(self, bar: BarContext) -> None:
        c = self.config
        ivp = self._iv_percentile(bar) if self._uses_iv() else None
        if not self.idle or bar.time < c.entry_time:
            return
        if c.iv_percentile_min is not None and (ivp is None or ivp < c.iv_percentile_min):
            return
        lo, hi = c.dte_window
        floor = -1 if c.dte_exit is None else c.dte_exit
        expiries = [
            e
            for e in bar.expiries
            if lo <= (e - bar.date).days <= hi and (e - bar.date).days > floor
        ]
        if not expiries:
            return
        candidates = scan_credit_spreads(
            [bar.chain(e) for e in expiries], c.scan, iv_percentile=ivp
        )
        if not candidates:
            return
        best = candidates[0]
        filled = self.try_fill_sized(
            {
                "short": self.add(best.short_strike, "C", "SELL", c.qty, best.expiry),
                "long": self.add(best.long_strike, "C", "BUY", c.qty, best.expiry),
            }
        )
        if filled is not None:
            self.last_candidate = best

    def exit_check(self, bar: BarContext) -> str | None:
        return credit_exits(
            self.config.profit_target_pct, self.config.stop_loss_pct, self.config.dte_exit
        )(self, bar)
