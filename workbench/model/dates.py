"""One reading of "a day" for every layer: a ``date``, a ``datetime`` (its date) or ``YYYY-MM-DD``."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

#: ``date(1970, 1, 1).toordinal()``: a day's proleptic ordinal minus this is its number of
#: days since the Unix epoch (``datetime64[D]``'s integer), and back.
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


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


class TimeOfDayError(ValueError):
    """A value that is not a time of day; the message names the argument."""


def as_time_of_day(value: Any, what: str = "time") -> time:
    """``value`` as a naive time of day (exchange-local).

    Accepts a naive ``time``, text as people write it (``9:30``, ``09:30``, ``0930``,
    ``930``, ``09:30:15``) and a whole number read as HHMM (``930``). Anything else -- a number such as ``9.30`` (or the seconds a JSON
    number would silently become), a time with a time zone, ``25:00`` -- raises
    :class:`TimeOfDayError` naming ``what`` (when given).
    """
    where = f"{what}: " if what else ""
    if isinstance(value, datetime):
        raise TimeOfDayError(
            f"{where}expected a time of day such as 09:30, got a date-time {value!r}"
        )
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise TimeOfDayError(
                f"{where}times of day are exchange-local and carry no time zone, got {value!r}"
            )
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 2359:
        value = f"{value:04d}"  # 930 (from --set entry=930) reads as 09:30
    if isinstance(value, str):
        text = value.strip()
        parts = text.split(":")
        if len(parts) == 1 and text.isdigit() and len(text) in (3, 4):
            parts = [text[:-2], text[-2:]]
        if 2 <= len(parts) <= 3 and all(p.isdigit() and 1 <= len(p) <= 2 for p in parts):
            hour, minute = int(parts[0]), int(parts[1])
            second = int(parts[2]) if len(parts) == 3 else 0
            if len(parts[1]) == 2 and (len(parts) == 2 or len(parts[2]) == 2):
                try:
                    return time(hour, minute, second)
                except ValueError:
                    pass
    raise TimeOfDayError(
        f"{where}{value!r} is not a time of day; write HH:MM (e.g. 09:30, 9:30 or 0930)"
    )
