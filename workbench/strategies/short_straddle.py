"""Intraday short straddle with a combined or per-leg stop, a profit target and re-entries.

DESIGN.md's example, grown up. Each day (intraday mode: days are independent, everything is
closed by the session's last tick at the latest):

- **entry**: from ``entry`` until ``last_entry``, when flat, sell ``qty`` calls and ``qty`` puts of
  expiry index ``expiry`` at one strike chosen by ``strike`` (ATM by default: spot rounded to the
  strike grid; ``Selection(method="min_straddle")`` for the cheapest straddle). Both legs in one
  all-or-nothing order.
- **stop**, ``stop_mode="combined"``: close both legs when the cycle's PnL (money, net of fees, legs
  at the engine's mark) is a loss of at least ``stop_loss_pct`` x the entry credit.
  ``stop_mode="per_leg"``: close a leg on its own when its mark reaches ``(1 + stop_loss_pct)`` x
  its entry price; the other leg runs on.
- **target**: close both legs when the cycle's PnL is at least ``target_pct`` x the entry credit.
- **time exit**: close both legs at ``exit_time``.
- **re-entry**: ``max_cycles`` entry/exit cycles per day (default 1); after an exit the strategy
  waits ``reentry_wait`` ticks before it may enter again, at the strike selected then.

Exit reasons in the tradebook (the names of :mod:`workbench.engine.exits`): ``stop_loss``,
``leg_stop``, ``profit_target``, ``time_exit``, ``eod``.
"""

from __future__ import annotations

from datetime import time
from typing import Literal

from pydantic import Field, model_validator

from workbench.engine.config import StrategyConfig
from workbench.engine.context import BarContext, DayStartContext
from workbench.engine.selection import Selection
from workbench.engine.sizing import Sizing
from workbench.engine.strategy import Strategy
from workbench.engine.trade import Trade
from workbench.model.trades import MAX_LEG_QTY

__all__ = ["IntradayShortStraddle"]


class IntradayShortStraddle(Strategy):
    """Sell an ATM (or rule-selected) straddle intraday; see the module docstring."""

    name = "intraday-short-straddle"
    version = "1"
    mode = "intraday"

    class Config(StrategyConfig):
        entry: time = Field(default=time(9, 20), description="earliest entry time (exchange-local)")
        last_entry: time = Field(default=time(14, 30), description="no new entry after this time")
        exit_time: time = Field(default=time(15, 15), description="close everything at this time")
        expiry: int = Field(default=0, ge=0, description="expiry index, 0 = nearest listed")
        strike: Selection = Field(
            default=Selection(), description="strike rule (one strike, both legs)"
        )
        qty: int = Field(default=1, ge=1, le=MAX_LEG_QTY, description="contracts (lots) per leg")
        sizing: Sizing | None = Field(
            default=None,
            description="position sizing from the account (workbench.engine.sizing); one unit "
            "is the order at qty; None: qty contracts",
        )
        stop_mode: Literal["combined", "per_leg"] = "combined"
        stop_loss_pct: float = Field(
            default=0.25, gt=0, description="fraction of credit / of leg price"
        )
        target_pct: float | None = Field(default=None, gt=0, le=1, description="fraction of credit")
        reentry_wait: int = Field(default=0, ge=0, description="ticks to wait after an exit")

        @model_validator(mode="after")
        def _times(self) -> IntradayShortStraddle.Config:
            if not self.entry <= self.last_entry < self.exit_time:
                raise ValueError(
                    f"entry: need entry <= last_entry < exit_time, got {self.entry} / "
                    f"{self.last_entry} / {self.exit_time}"
                )
            if self.strike.method not in ("atm", "min_straddle", "otm_steps", "pct_spot", "strike"):
                raise ValueError(
                    f"strike: method {self.strike.method!r} does not give one strike for both legs"
                )
            return self

    def on_day_start(self, day: DayStartContext) -> bool:
        self._last_exit_tick: int | None = None
        return True

    def on_bar(self, bar: BarContext) -> None:
        c = self.config
        if not self.idle or not c.entry <= bar.time <= c.last_entry:
            return
        if self._last_exit_tick is not None and bar.tick - self._last_exit_tick < c.reentry_wait:
            return
        chosen = bar.select("C", expiry=c.expiry, rule=c.strike)
        if chosen is None:
            return
        k = chosen.strike
        self.try_fill_sized(
            {
                "call": self.add(k, "C", "SELL", c.qty, c.expiry),
                "put": self.add(k, "P", "SELL", c.qty, c.expiry),
            }
        )

    def adjust(self, bar: BarContext) -> None:
        c = self.config
        if c.stop_mode != "per_leg":
            return
        for key, trade in self.positions.items():
            mark, lag = bar.mark(trade)
            if lag is not None and mark >= trade.entry_price * (1.0 + c.stop_loss_pct) - 1e-9:
                self.close(key, reason="leg_stop")

    def exit_check(self, bar: BarContext) -> str | None:
        c = self.config
        if bar.time >= c.exit_time:
            return "time_exit"
        credit = self.entry_credit
        if credit <= 0:
            return None
        pnl = self.pnl(bar)
        if c.stop_mode == "combined" and pnl <= -c.stop_loss_pct * credit + 1e-9:
            return "stop_loss"
        if c.target_pct is not None and pnl >= c.target_pct * credit - 1e-9:
            return "profit_target"
        return None

    def on_exit(self, bar: BarContext, trades: list[Trade]) -> None:
        self._last_exit_tick = bar.tick
