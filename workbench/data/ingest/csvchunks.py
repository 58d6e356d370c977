"""Stream a CSV file as chunks of string columns with their physical line numbers.

Every field is read as text (PyArrow's multi-megabyte blocks, no per-row Python), so the
adapters parse values themselves, vectorised, and can quarantine a row with its raw fields and
the exact field at fault. Memory is bounded by the block size, whatever the file size.

Line numbers are 1-based physical lines of the file (the header is line 1), so a reject names
the line a person opens in an editor. Rows with the wrong number of fields (a truncated last
line, a stray delimiter) do not reach the chunk: they come back in :attr:`CsvChunk.malformed`
with their line number and text. Blank lines are kept as rows whose fields are all empty
(the adapters quarantine them as ``blank_line``), so nothing in a file is skipped silently.
Fields spanning several physical lines (quoted newlines) are not expected in market data and
would shift the numbering of later rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from workbench.data.ingest.errors import UnreadableFileError
from workbench.data.ingest.sources import open_text_stream, read_header

#: Bytes per parsed block (about 30-60k rows of a chain CSV).
BLOCK_SIZE = 4 << 20


@dataclass(frozen=True)
class MalformedRow:
    """A physical line whose field count differs from the header's."""

    line: int
    text: str
    fields: int
    expected: int


@dataclass
class CsvChunk:
    """Up to one block of rows: ``table`` (all string columns), ``lines`` (int64, 1-based)."""

    table: pa.Table
    lines: np.ndarray
    malformed: list[MalformedRow] = field(default_factory=list)


def iter_csv_chunks(path: Path, names: list[str] | None = None) -> Iterator[CsvChunk]:
    """Yield the rows of the CSV ``path`` as string chunks (see the module docstring).

    ``names`` are the header's column names (as :func:`read_header` gives them); they are read
    when not given. Raises :class:`UnreadableFileError` naming the file when the content cannot
    be parsed or decompressed.
    """
    if names is None:
        names = read_header(path)
    bad: list[MalformedRow] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        number = int(row.number) if row.number is not None else -1
        bad.append(MalformedRow(number, row.text, row.actual_columns, row.expected_columns))
        return "skip"

    read = pacsv.ReadOptions(
        column_names=names, skip_rows=1, block_size=BLOCK_SIZE, use_threads=False
    )
    parse = pacsv.ParseOptions(invalid_row_handler=on_invalid, ignore_empty_lines=False)
    convert = pacsv.ConvertOptions(
        column_types={n: pa.string() for n in names},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    next_line = 2
    reported = 0
    try:
        stream = open_text_stream(path)
        reader = pacsv.open_csv(
            stream, read_options=read, parse_options=parse, convert_options=convert
        )
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            table = pa.Table.from_batches([batch])
            n = table.num_rows
            skipped = sorted(m.line for m in bad if m.line >= next_line)
            lines = _assign_lines(next_line, n, skipped)
            if n:
                next_line = int(lines[-1]) + 1
            fresh, reported = bad[reported:], len(bad)
            yield CsvChunk(table, lines, list(fresh))
        if reported < len(bad):
            yield CsvChunk(_empty(names), np.empty(0, np.int64), list(bad[reported:]))
    except (pa.ArrowInvalid, OSError, EOFError) as exc:
        raise UnreadableFileError(f"{path}: cannot parse as CSV ({exc})") from None


def _assign_lines(start: int, n: int, skipped: list[int]) -> np.ndarray:
    """The ``n`` smallest line numbers >= ``start`` that are not in ``skipped``."""
    candidates = np.arange(start, start + n + len(skipped), dtype=np.int64)
    if skipped:
        candidates = candidates[~np.isin(candidates, np.asarray(skipped, dtype=np.int64))]
    return candidates[:n]


def _empty(names: list[str]) -> pa.Table:
    return pa.table({n: pa.array([], pa.string()) for n in names})
