""" "Every entry" studies (optopsy-style): a new position every day for every expiry in a DTE
window, legs chosen by delta, held to a DTE exit or to expiry, all marked daily.

- :class:`EveryEntryPutSpread`: sell the put nearest ``short_delta`` |delta|, buy the put
  nearest ``long_delta`` (a bull put spread; the bought put has the lower strike);
- :class:`EveryEntryIronCondor`: sell the put and the call nearest ``short_delta``, buy the
  put and the call nearest ``wing_delta``.

Both are :class:`~workbench.engine.study.Study` subclasses: positions are keyed
``"<entry day>/<expiry>"``, exits (``exit_dte``, ``profit_target_pct``, ``stop_loss_pct``) are
per position, and :func:`workbench.analytics.study.study_trades` /
:func:`~workbench.analytics.study.study_aggregates` give the per-position table and the DTE x
delta buckets.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from workbench.engine.selection import LiquidityFilter, Selection
from workbench.engine.study import Study, StudyLeg
from workbench.model.enums import Right, Side

__all__ = ["EveryEntryIronCondor", "EveryEntryPutSpread"]


def _delta_leg(
    name: str, right: Right, side: Side, delta: float, filters: LiquidityFilter
) -> StudyLeg:
    return StudyLeg(
        name=name,
        right=right,
        side=side,
        rule=Selection(method="delta", value=delta, side=side, filters=filters),
    )


class EveryEntryPutSpread(Study):
    """Short put at ``short_delta``, long put at ``long_delta``, every day, every expiry in the
    DTE window."""

    name = "every-entry-put-spread"
    version = "1"

    class Config(Study.Config):
        legs: tuple[StudyLeg, ...] = ()  # built from the deltas below
        short_delta: float = Field(default=0.30, gt=0, lt=1)
        long_delta: float = Field(default=0.15, gt=0, lt=1)
        filters: LiquidityFilter = LiquidityFilter()

        @model_validator(mode="before")
        @classmethod
        def _legs(cls, data: Any) -> Any:
            if isinstance(data, dict) and not data.get("legs"):
                short = float(data.get("short_delta", 0.30))
                long = float(data.get("long_delta", 0.15))
                filters = LiquidityFilter.model_validate(data.get("filters") or {})
                data = {
                    **data,
                    "legs": (
                        _delta_leg("short", Right.PUT, Side.SELL, short, filters),
                        _delta_leg("long", Right.PUT, Side.BUY, long, filters),
                    ),
                }
            return data

        @model_validator(mode="after")
        def _order(self) -> EveryEntryPutSpread.Config:
            if self.long_delta >= self.short_delta:
                raise ValueError(
                    f"long_delta: {self.long_delta} must be below short_delta {self.short_delta} "
                    "(the bought put is further out of the money)"
                )
            return self


class EveryEntryIronCondor(Study):
    """Short put and call at ``short_delta``, long wings at ``wing_delta``, every day, every
    expiry in the DTE window."""

    name = "every-entry-iron-condor"
    version = "1"

    class Config(Study.Config):
        legs: tuple[StudyLeg, ...] = ()  # built from the deltas below
        short_delta: float = Field(default=0.20, gt=0, lt=0.5)
        wing_delta: float = Field(default=0.10, gt=0, lt=0.5)
        filters: LiquidityFilter = LiquidityFilter()

        @model_validator(mode="before")
        @classmethod
        def _legs(cls, data: Any) -> Any:
            if isinstance(data, dict) and not data.get("legs"):
                short = float(data.get("short_delta", 0.20))
                wing = float(data.get("wing_delta", 0.10))
                filters = LiquidityFilter.model_validate(data.get("filters") or {})
                data = {
                    **data,
                    "legs": (
                        _delta_leg("short_put", Right.PUT, Side.SELL, short, filters),
                        _delta_leg("long_put", Right.PUT, Side.BUY, wing, filters),
                        _delta_leg("short_call", Right.CALL, Side.SELL, short, filters),
                        _delta_leg("long_call", Right.CALL, Side.BUY, wing, filters),
                    ),
                }
            return data

        @model_validator(mode="after")
        def _order(self) -> EveryEntryIronCondor.Config:
            if self.wing_delta >= self.short_delta:
                raise ValueError(
                    f"wing_delta: {self.wing_delta} must be below short_delta {self.short_delta}"
                )
            return self
