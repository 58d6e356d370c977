"""The event engine: strategy base and lifecycle, contexts, simulator, tradebook, results.

Public names (imported lazily so ``import workbench.engine.selection`` stays light):
``Strategy``, ``StrategyConfig``, ``run_backtest``, ``BacktestResult``, ``BarContext``,
``DayStartContext``, ``Trade``, ``StrategyState``, ``TRADEBOOK_SCHEMA`` and the errors
``EngineError``, ``ChronologyError``, ``ReconciliationError``, ``StrategyStateError``,
``DayFailedError``, ``ConfigError``. Exit helpers live in :mod:`workbench.engine.exits`, contract
discovery in :mod:`workbench.engine.selection`.
"""

from __future__ import annotations

import importlib
from typing import Any

_NAMES: dict[str, str] = {
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
