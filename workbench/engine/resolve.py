"""Resolving ``run_backtest``'s inputs: the strategy class, fill/fee/margin models, dates.

Each resolver accepts the forms the public API documents and raises ``ValueError`` naming the
argument and what it expected.
"""

from __future__ import annotations

import sys
from datetime import date
from typing import Any

from workbench.engine.strategy import Strategy
from workbench.engine.usercode import resolve_class
from workbench.model.dates import as_date as to_date


def resolve_strategy(strategy: type[Strategy] | str) -> type[Strategy]:
    """A :class:`Strategy` subclass, ``"package.module:ClassName"`` or
    ``"path/to/file.py:ClassName"`` (:mod:`workbench.engine.usercode`)."""
    if isinstance(strategy, str):
        strategy = resolve_class(strategy.strip())
    if not (isinstance(strategy, type) and issubclass(strategy, Strategy)):
        raise ValueError(
            "strategy must be a Strategy subclass, 'module:Class' or 'path/to/file.py:Class', "
            f"got {strategy!r}"
        )
    return strategy


def strategy_ref(cls: type[Strategy]) -> str:
    """How the manifest names a class: ``module:Class``, or ``path/to/file.py:Class`` for a
    class loaded from a file."""
    module = sys.modules.get(cls.__module__)
    if cls.__module__.startswith("workbench_user.") and getattr(module, "__file__", None):
        return f"{module.__file__}:{cls.__qualname__}"  # type: ignore[union-attr]
    return f"{cls.__module__}:{cls.__qualname__}"


def resolve_fills(fill: Any) -> Any:
    """``None`` (ORATS both sides), a ``FillPolicy``, a fill model (both sides), a spec string
    (both sides), ``"ENTRY/EXIT"`` specs, or a dict ``{"entry": ..., "exit": ...}``."""
    from workbench.execution.fills import FillModel, FillPolicy

    if fill is None:
        return FillPolicy()
    if isinstance(fill, FillPolicy):
        return fill
    if isinstance(fill, dict) and set(fill) <= {"entry", "exit"} and fill:
        entry = fill.get("entry", fill.get("exit"))
        exit_ = fill.get("exit", entry)
        return FillPolicy(entry=_model(entry), exit=_model(exit_))
    if isinstance(fill, str):
        if "/" in fill and not fill.startswith("orats:"):
            return FillPolicy(**_entry_exit(fill))
        return FillPolicy.parse(fill)
    if isinstance(fill, FillModel):
        return FillPolicy(entry=fill, exit=fill)
    raise ValueError(f"fill: expected a FillPolicy, a fill model or a spec string, got {fill!r}")


def _entry_exit(fill: str) -> dict[str, Any]:
    """``"ENTRY/EXIT"`` -> both fill models; a missing or bad side is named in the error."""
    from workbench.execution.fills import parse_fill
    from workbench.execution.spec import SpecError

    parts = fill.split("/")
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise SpecError(
            f"fill {fill!r}: ENTRY/EXIT takes one fill model on each side of a single '/', "
            "e.g. 'mid/cross' or 'orats/close'"
        )
    models: dict[str, Any] = {}
    for side, text in zip(("entry", "exit"), parts):
        try:
            models[side] = parse_fill(text.strip())
        except ValueError as exc:
            raise SpecError(f"fill {fill!r}, {side} side: {exc}") from None
    return models


def _model(value: Any) -> Any:
    from workbench.execution.fills import FillModel, parse_fill

    if isinstance(value, FillModel):
        return value
    return parse_fill(value)


def default_fees(venue: str) -> str:
    """The default fee spec by venue: NSE/BSE Rs 20 per executed leg plus statutory charges;
    elsewhere $0.65 per contract (minimum $1 per order)."""
    if venue.upper() in ("NSE", "BSE"):
        return "per-order:20,per_leg=true+india"
    return "per-contract:0.65,min=1"


def resolve_fees(fees: Any, venue: str) -> Any:
    from workbench.execution.fees import FeeModel, parse_fees

    if fees is None:
        return parse_fees(default_fees(venue))
    if isinstance(fees, str):
        return parse_fees(fees)
    if isinstance(fees, FeeModel):
        return fees
    raise ValueError(f"fees: expected a fee model or a spec string, got {fees!r}")


def resolve_margin(margin: Any) -> Any:
    from workbench.execution.margin import MarginModel, parse_margin

    if margin is None or isinstance(margin, MarginModel):
        return margin
    if isinstance(margin, str):
        return parse_margin(margin)
    raise ValueError(f"margin: expected a margin model or a spec string, got {margin!r}")


def as_date(value: date | str | None, what: str) -> date | None:
    """``None``, or ``value`` read by :func:`workbench.model.dates.as_date`."""
    return None if value is None else to_date(value, what)
