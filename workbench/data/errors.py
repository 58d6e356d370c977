"""Errors raised by the data layer, each naming the path, underlying, day or column at fault.

Every error derives from :class:`DatasetError`, itself a :class:`ValueError`, so the command
line prints it as one clear line. ``DatasetNotFoundError`` and ``MissingDayError`` also derive
from :class:`LookupError`, so callers can treat "not there" apart from "there but broken"
(``CorruptFileError``, ``SchemaError``).
"""

from __future__ import annotations


class DatasetError(ValueError):
    """Base class of every data-layer error."""


class DatasetNotFoundError(DatasetError, LookupError):
    """The dataset folder or its ``catalog.json`` does not exist."""


class MissingDayError(DatasetError, LookupError):
    """No data file for (underlying, day): the message names both and the path looked at."""


class UnknownUnderlyingError(DatasetError, LookupError):
    """An underlying the dataset does not hold (or the instrument registry does not know)."""


class CorruptFileError(DatasetError):
    """A data or catalog file that exists but cannot be read (truncated, not Parquet, bad JSON)."""


class SchemaError(DatasetError):
    """A table or file whose columns, types or values break the canonical layout."""


class DatasetChangedError(DatasetError):
    """A new version of the dataset was published after the reader opened it: reopen it."""
