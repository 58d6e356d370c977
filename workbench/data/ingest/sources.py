"""Opening ingest inputs: plain or gzipped text, sniffed before parsing.

``open_text_stream(path)`` returns a PyArrow input stream that decompresses ``.gz`` on the fly
(nothing is unpacked to disk, nothing read whole into memory). ``read_header(path)`` returns the
column names of a CSV file's first line with a UTF-8 byte-order mark removed and surrounding
blanks stripped from every name (set 2 writes ``" exchange"``). Empty files, binary content
(a NUL byte or undecodable UTF-8 in the first block) and damaged gzip streams raise
:class:`UnreadableFileError` naming the file and the reason.
"""

from __future__ import annotations

import csv
import gzip
import zlib
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa

from workbench.data.ingest.errors import HeaderError, UnreadableFileError

#: Bytes inspected to decide whether a file is text.
SNIFF_BYTES = 64 * 1024
BOM = "\ufeff"


def is_gzip(path: Path) -> bool:
    """True when ``path`` starts with the gzip magic bytes (whatever its name)."""
    with open(path, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def open_text_stream(path: Path) -> pa.NativeFile:
    """A streaming, decompressing PyArrow input stream over ``path``."""
    compression = "gzip" if is_gzip(path) else None
    return pa.input_stream(str(path), compression=compression)


def _head_bytes(path: Path) -> bytes:
    try:
        if is_gzip(path):
            with gzip.open(path, "rb") as handle:
                return handle.read(SNIFF_BYTES)
        with open(path, "rb") as handle:
            return handle.read(SNIFF_BYTES)
    except (OSError, EOFError, zlib.error) as exc:
        raise UnreadableFileError(f"{path}: cannot read ({exc})") from None


def read_header(path: Path) -> list[str]:
    """Column names on the first line of the CSV ``path`` (BOM removed, names stripped)."""
    if not path.is_file():
        raise UnreadableFileError(f"{path}: no such file")
    head = _head_bytes(path)
    if not head.strip():
        raise UnreadableFileError(f"{path}: empty file (no header line)")
    if b"\x00" in head:
        raise UnreadableFileError(f"{path}: binary content (NUL bytes), not a CSV text file")
    first = head.split(b"\n", 1)[0]
    try:
        text = first.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(
            f"{path}: not UTF-8 text (byte {exc.start} of the first line); not a CSV file"
        ) from None
    text = text.removeprefix(BOM).rstrip("\r")
    names = [name.strip() for name in next(csv.reader([text]))]
    if not any(names):
        raise HeaderError(f"{path}: the first line is blank; expected a header")
    return names


def check_header(
    path: Path, names: list[str], required: Iterable[str], optional: Iterable[str] = ()
) -> None:
    """Raise :class:`HeaderError` naming ``path`` and every missing or unexpected column."""
    required = list(required)
    allowed = set(required) | set(optional)
    missing = [c for c in required if c not in names]
    unexpected = [c for c in names if c not in allowed]
    dupes = sorted({c for c in names if names.count(c) > 1})
    problems = []
    if missing:
        problems.append(f"missing column(s) {missing}")
    if unexpected:
        problems.append(f"unexpected column(s) {unexpected}")
    if dupes:
        problems.append(f"duplicate column(s) {dupes}")
    if problems:
        raise HeaderError(f"{path}: {'; '.join(problems)}; expected {required}")


def count_rows(path: Path) -> int | None:
    """Data rows of a refused file when they can be counted: text lines after the header (a
    gzip stream decompressed), a Parquet file's rows from its footer; ``None`` for binary
    content, a damaged stream or an unreadable file."""
    try:
        if path.name.lower().endswith(".parquet"):
            import pyarrow.parquet as pq

            return int(pq.read_metadata(path).num_rows)
        opener = gzip.open if is_gzip(path) else open
        lines = 0
        last = b"\n"
        with opener(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                if b"\x00" in block:
                    return None
                lines += block.count(b"\n")
                last = block[-1:]
        if last != b"\n":
            lines += 1
        return max(lines - 1, 0)
    except (OSError, EOFError, zlib.error, ValueError):
        return None
