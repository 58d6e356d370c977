"""A scripted strategy for the resting-order tests: each step places, cancels or replaces an
order (or opens legs at once) at a given time, so every fill can be computed by hand."""

from __future__ import annotations

from datetime import date, time
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from workbench.engine.config import StrategyConfig
from workbench.engine.strategy import Strategy


class LegSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    strike: float
    right: str
    side: str
    qty: int = 1
    expiry: int | date = 0


class Step(BaseModel):
    """``do``: ``open`` (try_fill now), ``limit``, ``stop``, ``cancel``, ``replace``.

    ``legs`` with ``keys`` (dict keys) open legs; ``close`` names open keys to close
    (``("*",)`` = every open position). ``target``: the index of the step whose order a
    ``cancel``/``replace`` acts on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    at: time
    do: str
    day: date | None = None
    legs: tuple[LegSpec, ...] = ()
    keys: tuple[str, ...] | None = None
    close: tuple[str, ...] | None = None
    limit: float | None = None
    tif: str = "day"
    on: str = "value"
    above: float | None = None
    below: float | None = None
    touch: float = 0.0
    target: int | None = None


class Resting(Strategy):
    seen: ClassVar[list[tuple[Any, ...]]] = []

    class Config(StrategyConfig):
        steps: tuple[Step, ...] = ()

    def on_day_start(self, day):
        if not hasattr(self, "ids"):
            self.ids: dict[int, str] = {}
            self.done_steps: set[int] = set()
        return True

    def _target(self, step: Step) -> Any:
        if step.close is not None:
            return None if step.close == ("*",) else list(step.close)
        legs = [self.add(s.strike, s.right, s.side, s.qty, s.expiry) for s in step.legs]
        return dict(zip(step.keys, legs)) if step.keys else legs

    def on_bar(self, bar):
        # what the strategy sees of its orders at this tick (look-ahead checks)
        Resting.seen.append(
            (
                bar.ts,
                tuple((o.id, o.status, o.revision, o.last_reason) for o in self.orders.values()),
                tuple(sorted(self.positions)),
            )
        )
        for n, step in enumerate(self.config.steps):
            if n in self.done_steps or bar.time < step.at:
                continue
            if step.day is not None and step.day != bar.date:
                continue
            self.done_steps.add(n)
            if step.do == "open":
                self.try_fill(self._target(step))
            elif step.do == "limit":
                self.ids[n] = self.place_limit(
                    self._target(step), limit=step.limit, tif=step.tif, touch_probability=step.touch
                )
            elif step.do == "stop":
                self.ids[n] = self.place_stop(
                    self._target(step), on=step.on, above=step.above, below=step.below, tif=step.tif
                )
            elif step.do == "cancel":
                assert step.target is not None
                self.cancel(self.ids[step.target])
            elif step.do == "replace":
                assert step.target is not None
                self.replace(
                    self.ids[step.target], limit=step.limit, above=step.above, below=step.below
                )
            else:
                raise ValueError(step.do)
