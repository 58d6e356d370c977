"""Strategies the service tests allow with ``--strategies service_strategies``.

``SlowStraddle`` sleeps ``delay`` seconds at the start of each day (a job that is still running
when the test cancels it, kills the server or stops it); ``WorkerKiller`` kills the process it
runs in (SIGKILL) on its first day, as an out-of-memory kill would.
"""

from __future__ import annotations

import os
import signal
import time

from pydantic import Field

from workbench.engine.context import DayStartContext
from workbench.strategies.short_straddle import IntradayShortStraddle


class SlowStraddle(IntradayShortStraddle):
    name = "slow-straddle"

    class Config(IntradayShortStraddle.Config):
        delay: float = Field(default=1.0, ge=0, le=120, description="seconds slept each day")

    def on_day_start(self, day: DayStartContext) -> bool:
        time.sleep(self.config.delay)
        return super().on_day_start(day)


class WorkerKiller(IntradayShortStraddle):
    name = "worker-killer"

    def on_day_start(self, day: DayStartContext) -> bool:
        os.kill(os.getpid(), signal.SIGKILL)
        return True
