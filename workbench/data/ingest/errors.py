"""Errors raised by the ingest adapters, each naming the file (and row or column) at fault.

They derive from :class:`workbench.data.errors.DatasetError` (a ``ValueError``), so the command
line prints them as one clear line. A file-level error stops that file only: the ingest records
it in its report and goes on with the other files.
"""

from __future__ import annotations

from workbench.data.errors import DatasetError


class IngestError(DatasetError):
    """Base class of every ingest error."""


class UnreadableFileError(IngestError):
    """A file that cannot be read as the format says: empty, binary, truncated compression."""


class HeaderError(IngestError):
    """A header with missing or unexpected columns; the message names the file and columns."""


class UnknownFormatError(IngestError, LookupError):
    """An ``--format`` no adapter handles; the message lists the known ones."""
