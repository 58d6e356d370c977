"""The event engine: strategy base and lifecycle, contexts, simulator, tradebook, results.

Public names (imported lazily so ``import workbench.engine.selection`` stays light):
``Strategy``, ``StrategyConfig``, ``run_backtest``, ``BacktestResult``, ``BarContext``,
``DayStartContext``, ``Trade``, ``StrategyState``, ``TRADEBOOK_SCHEMA`` and the errors
``EngineError``, ``ChronologyError``, ``ReconciliationError``, ``StrategyStateError``,
``DayFailedError``, ``ConfigError``, the run specification ``RunSpec``, contract selection
(``Selection``, ``ExpiryRule``, ``LiquidityFilter``; more in :mod:`workbench.engine.selection`)
and the exit rules (``Exits``, ``StopLoss``, ``ProfitTarget``, ``TrailingStop``, ``TimeOfDay``,
``DaysHeld``, ``DteExit``; :mod:`workbench.engine.exits`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.engine.config import (
        StrategyConfig as StrategyConfig,
    )
    from workbench.engine.context import (
        BarContext as BarContext,
    )
    from workbench.engine.context import (
        DayStartContext as DayStartContext,
    )
    from workbench.engine.errors import (
        ChronologyError as ChronologyError,
    )
    from workbench.engine.errors import (
        ConfigError as ConfigError,
    )
    from workbench.engine.errors import (
        DayFailedError as DayFailedError,
    )
    from workbench.engine.errors import (
        EngineError as EngineError,
    )
    from workbench.engine.errors import (
        ReconciliationError as ReconciliationError,
    )
    from workbench.engine.errors import (
        StrategyStateError as StrategyStateError,
    )
    from workbench.engine.exits import (
        DaysHeld as DaysHeld,
    )
    from workbench.engine.exits import (
        DteExit as DteExit,
    )
    from workbench.engine.exits import (
        Exits as Exits,
    )
    from workbench.engine.exits import (
        ProfitTarget as ProfitTarget,
    )
    from workbench.engine.exits import (
        StopLoss as StopLoss,
    )
    from workbench.engine.exits import (
        TimeOfDay as TimeOfDay,
    )
    from workbench.engine.exits import (
        TrailingStop as TrailingStop,
    )
    from workbench.engine.result import (
        BacktestResult as BacktestResult,
    )
    from workbench.engine.runner import (
        run_backtest as run_backtest,
    )
    from workbench.engine.selection import (
        ExpiryRule as ExpiryRule,
    )
    from workbench.engine.selection import (
        LiquidityFilter as LiquidityFilter,
    )
    from workbench.engine.selection import (
        Selection as Selection,
    )
    from workbench.engine.spec import (
        RunSpec as RunSpec,
    )
    from workbench.engine.strategy import (
        Strategy as Strategy,
    )
    from workbench.engine.trade import (
        StrategyState as StrategyState,
    )
    from workbench.engine.trade import (
        Trade as Trade,
    )
    from workbench.engine.tradebook import (
        TRADEBOOK_SCHEMA as TRADEBOOK_SCHEMA,
    )

_NAMES: dict[str, str] = {
    "RunSpec": "workbench.engine.spec",
    "Selection": "workbench.engine.selection",
    "ExpiryRule": "workbench.engine.selection",
    "LiquidityFilter": "workbench.engine.selection",
    "Exits": "workbench.engine.exits",
    "StopLoss": "workbench.engine.exits",
    "ProfitTarget": "workbench.engine.exits",
    "TrailingStop": "workbench.engine.exits",
    "TimeOfDay": "workbench.engine.exits",
    "DaysHeld": "workbench.engine.exits",
    "DteExit": "workbench.engine.exits",
    "Strategy": "workbench.engine.strategy",
    "StrategyConfig": "workbench.engine.config",
    "run_backtest": "workbench.engine.runner",
    "BacktestResult": "workbench.engine.result",
    "BarContext": "workbench.engine.context",
    "DayStartContext": "workbench.engine.context",
    "Trade": "workbench.engine.trade",
    "StrategyState": "workbench.engine.trade",
    "TRADEBOOK_SCHEMA": "workbench.engine.tradebook",
    "EngineError": "workbench.engine.errors",
    "ChronologyError": "workbench.engine.errors",
    "ReconciliationError": "workbench.engine.errors",
    "StrategyStateError": "workbench.engine.errors",
    "DayFailedError": "workbench.engine.errors",
    "ConfigError": "workbench.engine.errors",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench.engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_NAMES))
