"""Protective put, or collar, that rolls before expiry (seed 002's hedge templates; positional).

The strategy holds the hedge legs only; the underlying they protect is outside the book (its
exposure is the analysis's business: seed 002 computes hedged vs unhedged value from the run).

- **entry** (when flat, at or after ``entry_time``): choose the nearest listed expiry at or beyond
  ``target_expiry_days`` calendar days (seed 002), buy ``qty`` puts at the listed strike nearest
  ``put_strike_pct`` x spot (``spot_pct`` rule; a tie takes the higher strike, the more protective
  one) and, for a collar (``call_strike_pct`` set), sell ``qty`` calls at the strike nearest
  ``call_strike_pct`` x spot (a tie takes the higher strike, further out of the money).
- **roll** (``roll_days_before_expiry`` = n > 0): when the legs' expiry is n trading days away or
  fewer (trading days after today up to and including the expiry, on the underlying's exchange
  calendar; Monday-Friday for an underlying the registry does not know), each leg is rolled -- closed and replaced under the same key in one order -- into a
  new leg chosen by the entry rules on today's spot and chain (same-day close execution when the
  data is end-of-day). A leg whose roll is refused (no live price) is retried next tick.
- ``roll_days_before_expiry = 0`` holds to expiry: the engine settles the legs at intrinsic value
  and the strategy re-enters on the next tick it sees.

Sizing (seed 002's quantity rule): ``qty`` contracts per leg, or ``cover_units`` (units of the
underlying to protect) x ``target_coverage_pct`` turned into listed contracts with the lot size
on the day (see :meth:`ProtectivePut.contracts` for the rounding). A ``ladder`` of
``(strike / spot, weight)`` rungs buys several puts (keys ``put1``, ``put2``, ...) instead of
one at ``put_strike_pct``; a collar's call covers the total.

Exit reasons in the tradebook: ``roll`` (the closing fill of a roll and its new leg's opening),
``expiry`` (settlement).
"""

from __future__ import annotations

import math
from datetime import date, time, timedelta

import numpy as np
from pydantic import Field, model_validator

from workbench.engine.config import StrategyConfig
from workbench.engine.context import BarContext
from workbench.engine.selection import ExpiryRule, LiquidityFilter, Selection
from workbench.engine.strategy import Strategy
from workbench.model.calendars import trading_days
from workbench.model.enums import Side
from workbench.model.instruments import UnknownInstrumentError
from workbench.model.trades import MAX_LEG_QTY, Leg

__all__ = ["ProtectivePut"]


class ProtectivePut(Strategy):
    """Long put (or put + short call collar) rolled n trading days before expiry."""

    name = "protective-put"
    version = "1"
    mode = "positional"

    class Config(StrategyConfig):
        put_strike_pct: float = Field(
            default=0.95, gt=0, description="put strike as a fraction of spot"
        )
        call_strike_pct: float | None = Field(
            default=None, gt=0, description="collar call strike / spot"
        )
        target_expiry_days: int = Field(
            default=90, ge=0, description="calendar days, nearest at or beyond"
        )
        roll_days_before_expiry: int = Field(
            default=5, ge=0, description="trading days; 0 = hold to expiry"
        )
        entry_time: time = Field(default=time(0, 0), description="earliest entry/roll time of day")
        filters: LiquidityFilter = LiquidityFilter()
        qty: int = Field(default=1, ge=1, le=MAX_LEG_QTY, description="contracts per leg")
        ladder: tuple[tuple[float, float], ...] = Field(
            default=(),
            description="(put strike / spot, weight) rungs, weights summing to 1; replaces "
            "put_strike_pct",
        )
        cover_units: float | None = Field(
            default=None, gt=0, description="units of the underlying to protect (sizes the puts)"
        )
        target_coverage_pct: float = Field(
            default=1.0, gt=0, le=2, description="fraction of cover_units the puts cover"
        )

        @model_validator(mode="after")
        def _check_sizing(self) -> ProtectivePut.Config:
            given = self.model_fields_set
            if self.cover_units is not None and self.qty != 1:
                # qty = 1 is the default (the templates spell it out) and yields to cover_units
                raise ValueError("give qty (contracts per leg) or cover_units, not both")
            if "target_coverage_pct" in given and self.cover_units is None:
                raise ValueError("target_coverage_pct needs cover_units")
            if self.ladder:
                if "put_strike_pct" in given:
                    raise ValueError("give put_strike_pct or a ladder, not both")
                for pct, weight in self.ladder:
                    if not (pct > 0 and weight > 0):
                        raise ValueError(f"ladder: rung {(pct, weight)} needs pct > 0, weight > 0")
                if abs(sum(w for _, w in self.ladder) - 1.0) > 1e-9:
                    raise ValueError(
                        f"ladder: weights sum to {sum(w for _, w in self.ladder):g}, not 1"
                    )
                if len({pct for pct, _ in self.ladder}) != len(self.ladder):
                    raise ValueError("ladder: two rungs at the same strike fraction")
            return self

    def rungs(self) -> list[tuple[str, float, float]]:
        """``(key, put strike / spot, weight)`` of each put leg: ``put`` for a single put,
        ``put1``, ``put2``, ... for a ladder (in the order given)."""
        c = self.config
        if not c.ladder:
            return [("put", c.put_strike_pct, 1.0)]
        return [(f"put{i}", pct, w) for i, (pct, w) in enumerate(c.ladder, 1)]

    def contracts(self, lot_size: int) -> tuple[list[int], int]:
        """Contracts per put rung and for the collar's call.

        Without ``cover_units``: ``qty`` each. With it, the puts cover ``target_coverage_pct x
        cover_units`` units: the total is that over the lot size rounded to the nearest contract
        (halves up, at least one), split across the rungs by weight with the largest remainders
        getting the leftover contracts (ties to the earlier rung, the order given); a rung left
        with none is not bought. The call sells the total.
        """
        c = self.config
        rungs = self.rungs()
        if c.cover_units is None:
            return [c.qty] * len(rungs), c.qty
        total = max(1, math.floor(c.target_coverage_pct * c.cover_units / lot_size + 0.5))
        total = min(total, MAX_LEG_QTY)
        shares = [total * w for _, _, w in rungs]
        counts = [math.floor(x) for x in shares]
        leftover = total - sum(counts)
        by_remainder = sorted(range(len(rungs)), key=lambda i: (-(shares[i] - counts[i]), i))
        for i in by_remainder[:leftover]:
            counts[i] += 1
        return counts, total

    def _legs(self, bar: BarContext) -> dict[str, Leg] | None:
        """The hedge the entry rules pick now, by key, or ``None`` if a leg cannot be chosen."""
        c = self.config
        rule = ExpiryRule(dte=c.target_expiry_days, dte_bound="at_least")
        expiry = bar.expiry(rule)
        if expiry is None:
            return None
        counts, call_qty = self.contracts(bar.lot_size)
        legs: dict[str, Leg] = {}
        for (key, pct, _), n in zip(self.rungs(), counts, strict=True):
            if n == 0:
                continue
            put = bar.select(
                "P",
                expiry=expiry,
                rule=Selection(method="pct_spot", value=pct, side=Side.BUY, filters=c.filters),
            )
            if put is None:
                return None
            legs[key] = self.add(put, "BUY", qty=n)
        if c.call_strike_pct is not None:
            call = bar.select(
                "C",
                expiry=expiry,
                rule=Selection(
                    method="pct_spot", value=c.call_strike_pct, side=Side.SELL, filters=c.filters
                ),
            )
            if call is None:
                return None
            legs["call"] = self.add(call, "SELL", qty=call_qty)
        return legs

    def on_bar(self, bar: BarContext) -> None:
        if not self.idle or bar.time < self.config.entry_time:
            return
        legs = self._legs(bar)
        if legs is not None:
            self.try_fill(legs)

    def trading_days_to(self, bar: BarContext, expiry: date) -> int:
        """Trading days after today up to and including ``expiry`` (0 on expiry day), on the
        underlying's exchange calendar; Monday-Friday for an underlying the instrument registry
        does not know (a dataset-only underlying has no exchange calendar)."""
        if expiry <= bar.date:
            return 0
        first = bar.date + timedelta(days=1)
        try:
            return len(trading_days(bar.underlying, first, expiry))
        except UnknownInstrumentError:
            return int(np.busday_count(first, expiry + timedelta(days=1)))

    def adjust(self, bar: BarContext) -> None:
        c = self.config
        if c.roll_days_before_expiry == 0 or bar.time < c.entry_time:
            return
        due = [
            key
            for key, trade in self.positions.items()
            if trade.contract is not None
            and self.trading_days_to(bar, trade.contract.expiry) <= c.roll_days_before_expiry
        ]
        if not due:
            return
        legs = self._legs(bar)
        if legs is None:
            return
        rolls = {
            key: legs[key]
            for key in due
            if key in legs and legs[key].contract != self.positions[key].contract
        }
        if rolls:  # the put(s) and the call of a collar roll together or not at all
            self.roll(rolls, reason="roll")
