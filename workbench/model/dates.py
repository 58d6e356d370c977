"""One reading of "a day" for every layer: a ``date``, a ``datetime`` (its date) or ``YYYY-MM-DD``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any


class DateInputError(TypeError, ValueError):
    """A value that is not a day; the message names the argument. Both a ``TypeError`` and a
    ``ValueError``, so callers of either convention catch it."""


def as_date(value: Any, what: str = "day") -> date:
    """``value`` as a ``date``: a ``datetime`` gives its date, a string is read as ISO
    ``YYYY-MM-DD`` (surrounding spaces ignored); anything else raises :class:`DateInputError`
    naming ``what``."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise DateInputError(f"{what} must be a date (YYYY-MM-DD), got {value!r}")
