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


class StaleSpotError(EngineError):
    """A spot-dependent request (``bar.atm()``) at a tick where the spot is older than the
    strategy's ``max_spot_lag``."""


class ReconciliationError(EngineError):
    """Positions rebuilt from the tradebook differ from the engine's, or the equity path differs
    from cash flows plus mark-to-market by more than a cent."""


class StrategyStateError(EngineError):
    """A strategy call not allowed in the current lifecycle state (e.g. ``try_fill`` when DONE)."""


class DayFailedError(EngineError):
    """A simulated day of a positional run raised.

    The message is one line naming the date, the error and where it was raised (the innermost
    frame: a strategy's own line, typically); ``traceback`` holds the full text, and the
    original exception is the ``__cause__``.
    """

    def __init__(self, day: object, exc: BaseException) -> None:
        import traceback as tb

        frames = tb.extract_tb(exc.__traceback__) if exc.__traceback__ else []
        where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
        self.day = day
        self.reason = f"{type(exc).__name__}: {exc}"
        self.traceback = "".join(tb.format_exception(type(exc), exc, exc.__traceback__))
        super().__init__(f"{day}: {self.reason}{where}")


class ConfigError(ValueError):
    """Strategy parameters that do not validate; the message names the parameter at fault."""
