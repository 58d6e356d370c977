"""What every ingest adapter provides, and what it hands to the ingest driver.

An adapter reads one input file at a time and yields :class:`Staged` pieces:

- ``options`` / ``spot``: pandas frames of accepted rows in canonical columns (see
  ``workbench.data.schema``) plus ``underlying``, ``day`` (``datetime64[D]``) and the
  bookkeeping columns ``_file, _line, _rank`` (:mod:`daybuffer`);
- ``rejects``: a rejects table (:mod:`quarantine`) of the rows refused, with reasons;
- ``rows_read``: input rows this piece accounts for. Each input row ends up in exactly one of
  the accepted frame of the adapter's :attr:`Adapter.input_kind` or ``rejects``, so
  ``accepted + rejected == rows_read`` can be checked file by file.

Frames of the other kind are derived (the daily spot bar of a chain, spot from put-call parity)
and are not counted as input rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from workbench.data.catalog import UnderlyingSpec
from workbench.data.ingest.daybuffer import Columns
from workbench.data.ingest.sessions import VenueDays

InputKind = Literal["options", "spot"]


@dataclass
class Staged:
    """One piece of one input file, ready for the day buffer (see the module docstring)."""

    rows_read: int
    options: pd.DataFrame | None = None
    spot: pd.DataFrame | None = None
    rejects: pa.Table | None = None


@dataclass(frozen=True)
class InputFile:
    """An input file: its ``path``, the ``display`` name rejects record (relative path), its
    position in the read order, the ``sha256`` of its bytes and its ``resolved`` path."""

    path: Path
    display: str
    index: int
    sha256: str = ""
    resolved: str = ""


class Adapter:
    """Base class of the ingest adapters (``cboe-eod``, ``orats``, ``nse-chain``, ``ohlc``)."""

    name: ClassVar[str]
    #: File name endings searched for when a folder is given.
    suffixes: ClassVar[tuple[str, ...]] = (".csv", ".csv.gz")
    input_kind: ClassVar[InputKind] = "options"
    #: Whether ``--underlying`` means something for this format.
    takes_underlying: ClassVar[bool] = False

    venue: str
    timezone: str
    bar_interval: str

    def __init__(self, underlying: str | None = None) -> None:
        if underlying is not None and not self.takes_underlying:
            raise ValueError(f"--underlying does not apply to --format {self.name}")
        self.underlying = underlying
        self.notes: list[str] = []
        self._calendars: dict[str, VenueDays] = {}

    def _days(self, underlying: str) -> VenueDays:
        """The trading days of ``underlying``'s venue (built once per underlying)."""
        got = self._calendars.get(underlying)
        if got is None:
            got = self._calendars[underlying] = VenueDays(underlying)
        return got

    def prepare(self, files: list[InputFile]) -> None:
        """Look at the inputs before the dataset is opened (venue, timezone, interval)."""

    def underlying_specs(self) -> dict[str, UnderlyingSpec]:
        """Explicit specs for underlyings the instrument registry does not know."""
        return {}

    def source_note(self) -> str:
        """What the catalog's ``source`` records for this ingest."""
        return f"ingest {self.name}"

    def read(self, file: InputFile) -> Iterator[Staged]:
        """Parse, validate and stage one file; raise an ``IngestError`` naming it if unusable."""
        raise NotImplementedError

    def finish_options(self, underlying: str, cols: Columns) -> Columns:
        """Last step on one day's kept option rows (sorted by key) before writing."""
        return cols

    def finish(self) -> None:
        """Called once after every file was read (summary notes)."""

    def note(self, text: str) -> None:
        """Record something the report should tell the user (a warning or a fact).

        Notes about one file start with its display name and a colon; the catalog keeps them
        with that input.
        """
        if text not in self.notes:
            self.notes.append(text)

    def note_out_of_range(
        self,
        file: InputFile,
        field: str,
        mask: np.ndarray,
        raw: pa.ChunkedArray | pa.Array,
        lines: np.ndarray,
        days: VenueDays,
        *,
        expiry: bool = False,
    ) -> None:
        """Name the first line whose ``field`` is outside the calendar (``date_out_of_range``)."""
        if not mask.any():
            return
        first = int(np.flatnonzero(mask)[0])
        text = raw[first].as_py() if hasattr(raw, "__getitem__") else None
        lo, hi = (days.expiry_first, days.expiry_last) if expiry else (days.first, days.last)
        which = "expiry calendar" if expiry else f"{days.spec.calendar} calendar"
        hint = ""
        stripped = str(text or "").strip()
        if stripped and len(stripped.replace("-", "/").split("/")[-1]) == 2:
            hint = "; a two-digit year is not read as 20YY: write the year in full"
        self.note(
            f"{file.display}: {int(mask.sum()):,} row(s) with {field} outside the {which} "
            f"({lo} .. {hi}), first at line {int(lines[first])}: {text!r}{hint}; quarantined "
            "as date_out_of_range"
        )

    def note_mismatch_lines(
        self, file: InputFile, field: str, named: date, mask: np.ndarray, lines: np.ndarray
    ) -> None:
        """Name the lines whose ``field`` disagrees with the date in the file's name."""
        hit = np.flatnonzero(mask)
        shown = ", ".join(str(int(lines[i])) for i in hit[:10]) + (", ..." if len(hit) > 10 else "")
        self.note(
            f"{file.display}: {len(hit):,} row(s) with a {field} other than the file name's "
            f"{named} (line(s) {shown}); the file is quarantined as quote_date_mismatch_file"
        )
