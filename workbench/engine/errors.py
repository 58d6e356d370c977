"""Errors raised by the engine, each naming the day, tick, position key or parameter at fault.

Every engine error derives from :class:`EngineError` (a :class:`RuntimeError`); bad strategy
parameters raise :class:`ConfigError` (a :class:`ValueError`) so the command line prints them as
one clear line.
"""

from __future__ import annotations


class EngineError(RuntimeError):
    """Base class of the engine's run-time errors."""


class ChronologyError(EngineError):
    """An out-of-order or repeated clock timestamp, or a position open after the stop time."""


class ReconciliationError(EngineError):
    """Positions rebuilt from the tradebook differ from the engine's, or the equity path differs
    from cash flows plus mark-to-market by more than a cent."""


class StrategyStateError(EngineError):
    """A strategy call not allowed in the current lifecycle state (e.g. ``try_fill`` when DONE)."""


class DayFailedError(EngineError):
    """A simulated day raised; the message names the date and carries the traceback."""


class ConfigError(ValueError):
    """Strategy parameters that do not validate; the message names the parameter at fault."""
