"""workbench: an options research workbench (see DESIGN.md).

``from workbench import Strategy, StrategyConfig, run_backtest`` -- the names are imported on
first use (module ``__getattr__``), so ``import workbench`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY: dict[str, str] = {
    "Strategy": "workbench.engine.strategy",
    "StrategyConfig": "workbench.engine.config",
    "run_backtest": "workbench.engine.runner",
    "BacktestResult": "workbench.engine.result",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
