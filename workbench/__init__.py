"""workbench: an options research workbench (see DESIGN.md).

``from workbench import Strategy, StrategyConfig, run_backtest`` -- the names are imported on
first use (module ``__getattr__``), so ``import workbench`` stays cheap; type checkers and IDEs
see them through the ``TYPE_CHECKING`` imports below (the package ships ``py.typed``).

Writing a strategy: :class:`Strategy`, :class:`StrategyConfig`, the contexts
(:class:`BarContext`, :class:`DayStartContext`), contract selection (:class:`Selection`,
:class:`ExpiryRule`, :class:`LiquidityFilter`) and exit rules (:class:`Exits`, :class:`StopLoss`,
:class:`ProfitTarget`, :class:`TrailingStop`, :class:`TimeOfDay`, :class:`DaysHeld`,
:class:`DteExit`). Running it: :func:`run_backtest` with a :class:`RunSpec`, giving a
:class:`BacktestResult`; :func:`run_strategy` (a run folder with its tearsheet), :func:`sweep`
and :func:`walk_forward` for research.
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
    from workbench.model.contracts import (
        OptionContract as OptionContract,
    )
    from workbench.research.runs import (
        run_strategy as run_strategy,
    )
    from workbench.research.sweep import (
        sweep as sweep,
    )
    from workbench.research.walkforward import (
        walk_forward as walk_forward,
    )

_LAZY: dict[str, str] = {
    "Strategy": "workbench.engine.strategy",
    "StrategyConfig": "workbench.engine.config",
    "run_backtest": "workbench.engine.runner",
    "BacktestResult": "workbench.engine.result",
    "RunSpec": "workbench.engine.spec",
    "BarContext": "workbench.engine.context",
    "DayStartContext": "workbench.engine.context",
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
    "OptionContract": "workbench.model.contracts",
    "run_strategy": "workbench.research.runs",
    "sweep": "workbench.research.sweep",
    "walk_forward": "workbench.research.walkforward",
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
