"""Entry filters on the market as of now: seed 003's ``iv_percentile_min`` and VIX bands.

A strategy whose ``Config`` derives from :class:`EntryFilterConfig` and which mixes in
:class:`EntryFilters` calls ``self.entry_allowed(bar)`` before it looks for an entry; when a
filter refuses, the strategy does not enter and the refusal is recorded with its reason
(``Strategy.record_refusal``: ``refusals``, ``days.csv``), once per day and filter (an
intraday strategy asking at every tick does not repeat it).

Fields (all off by default, so a strategy that mixes them in runs as before):

* ``vix_min`` / ``vix_max``: enter only while the VIX-like level (``bar.series``; a daily
  series is the previous session's close) is inside ``[vix_min, vix_max]``. ``vix_series``
  names the series (default: the run's VIX-like series, ``VIX`` or ``INDIAVIX``);
  ``vix_max_lag`` refuses a level older than that many sessions (default 5). A run without
  such a series cannot use the band: the first check raises ``UnknownSeriesError`` naming the
  datasets searched.
* ``iv_percentile_min`` / ``iv_percentile_max``, ``iv_rank_min``: enter only when the
  underlying's IV percentile / IV rank (``bar.iv_percentile`` / ``bar.iv_rank``, percent,
  ``0..100`` as seed 003 and ``BearCallSpread`` write them) over ``iv_window`` sessions is
  inside the bounds; while there are fewer than
  ``iv_min_days`` sessions of history the value is unknown and the entry is refused.
"""

from __future__ import annotations

import math
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import Field, model_validator

from workbench.engine.config import StrategyConfig

if TYPE_CHECKING:
    from workbench.engine.context import BarContext

__all__ = ["EntryFilterConfig", "EntryFilters", "entry_refusal"]


class EntryFilterConfig(StrategyConfig):
    """Entry-filter parameters (see the module docstring); every one ``None`` = off."""

    vix_min: float | None = Field(default=None, ge=0, description="lowest VIX-like level")
    vix_max: float | None = Field(default=None, gt=0, description="highest VIX-like level")
    vix_series: str | None = Field(default=None, description="series name (default: VIX-like)")
    vix_max_lag: int = Field(default=5, ge=1, description="oldest VIX close, sessions")
    iv_percentile_min: float | None = Field(default=None, ge=0, le=100, description="percent")
    iv_percentile_max: float | None = Field(default=None, ge=0, le=100, description="percent")
    iv_rank_min: float | None = Field(default=None, ge=0, le=100, description="percent")
    iv_window: int = Field(default=252, ge=2, description="IV history window, sessions")
    iv_min_days: int = Field(default=20, ge=1, description="least IV history, sessions")

    @model_validator(mode="after")
    def _bands(self) -> EntryFilterConfig:
        if self.vix_min is not None and self.vix_max is not None and self.vix_min > self.vix_max:
            raise ValueError(f"vix_min: {self.vix_min} is above vix_max {self.vix_max}")
        lo, hi = self.iv_percentile_min, self.iv_percentile_max
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"iv_percentile_min: {lo} is above iv_percentile_max {hi}")
        if self.iv_min_days > self.iv_window:
            raise ValueError(
                f"iv_min_days: {self.iv_min_days} is more than iv_window {self.iv_window}"
            )
        return self


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def entry_refusal(config: Any, bar: BarContext) -> tuple[str, str] | None:
    """``(filter, reason)`` of the first filter of ``config`` that refuses entry now, else
    ``None`` (VIX band first: it is the cheaper read)."""
    if config.vix_min is not None or config.vix_max is not None:
        name = config.vix_series
        if name is None:
            found = bar.vix_series_name()
            if found is None:
                from workbench.engine.market_series import UnknownSeriesError

                raise UnknownSeriesError(
                    "vix_min/vix_max: the run has no VIX-like series (VIX or INDIAVIX) in its "
                    "datasets; give one with series=[...] / --series DATASET, or name it with "
                    "vix_series"
                )
            name = found
        level = bar.series(name)
        value, lag = level.value, level.lag
        if lag is None or not math.isfinite(value):
            return "vix", f"entry filter: no {name} level before {bar.date}"
        if level.unit == "days" and lag > config.vix_max_lag:
            return "vix", (
                f"entry filter: {name} close of {level.asof} is {lag} sessions old "
                f"(vix_max_lag={config.vix_max_lag})"
            )
        if config.vix_min is not None and value < config.vix_min:
            return "vix", f"entry filter: {name} {_fmt(value)} below vix_min {_fmt(config.vix_min)}"
        if config.vix_max is not None and value > config.vix_max:
            return "vix", f"entry filter: {name} {_fmt(value)} above vix_max {_fmt(config.vix_max)}"
    window, least = config.iv_window, config.iv_min_days
    lo, hi = config.iv_percentile_min, config.iv_percentile_max
    if lo is not None or hi is not None:
        pct = bar.iv_percentile(window, min_days=least)
        if not math.isfinite(pct):
            return "iv", (
                f"entry filter: IV percentile unknown (fewer than {least} sessions of ATM IV "
                f"history in the last {window}, or no ATM IV now)"
            )
        if lo is not None and pct < lo:
            return "iv", f"entry filter: IV percentile {_fmt(pct)} below iv_percentile_min {lo}"
        if hi is not None and pct > hi:
            return "iv", f"entry filter: IV percentile {_fmt(pct)} above iv_percentile_max {hi}"
    if config.iv_rank_min is not None:
        rank = bar.iv_rank(window, min_days=least)
        if not math.isfinite(rank):
            return "iv", f"entry filter: IV rank unknown (fewer than {least} sessions of history)"
        if rank < config.iv_rank_min:
            return (
                "iv",
                f"entry filter: IV rank {_fmt(rank)} below iv_rank_min {config.iv_rank_min}",
            )
    return None


class EntryFilters:
    """Mixin for a :class:`~workbench.engine.strategy.Strategy` whose config derives from
    :class:`EntryFilterConfig`: :meth:`entry_allowed` applies the filters and records a
    refusal (once per day and filter)."""

    _filter_noted: tuple[date, set[str]] | None = None

    def entry_allowed(self, bar: BarContext) -> bool:
        refused = entry_refusal(self.config, bar)  # type: ignore[attr-defined]
        if refused is None:
            return True
        kind, reason = refused
        noted = self._filter_noted
        if noted is None or noted[0] != bar.date:
            noted = self._filter_noted = (bar.date, set())
        if kind not in noted[1]:
            noted[1].add(kind)
            self.record_refusal(reason)  # type: ignore[attr-defined]
        return False
