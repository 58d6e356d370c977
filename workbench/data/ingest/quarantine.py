"""Building the tables of refused rows that go to ``rejects/`` (one file per input file).

A rejects table has ``source_file`` (the input, relative to the folder it was found in),
``line`` (1-based physical line of a CSV; 1-based row number of a Parquet snapshot) and
``reason``, followed by the raw fields of the row exactly as read (text for CSV inputs).
Rows refused because their whole file was refused carry the file's reason. Duplicate keys found
after all files are read carry ``key`` (the canonical key, as text) and ``kept_source_file`` /
``kept_line`` naming the row that was kept instead.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyarrow as pa

from workbench.data.ingest.csvchunks import MalformedRow

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")

#: Reason for a line whose field count differs from the header's.
MALFORMED = "malformed_row"
#: Reason for a blank line inside a file.
BLANK = "blank_line"
#: Reason for a row whose key repeats one already kept.
DUPLICATE = "duplicate_key"


def source_name(fmt: str, display_name: str) -> str:
    """The rejects name earlier versions gave an input file: ``<format>.<display name>``.

    It depended on how the path was spelled (``SPX_1.csv`` and ``folder/SPX_1.csv`` gave two
    files, so the same rows were counted twice); :func:`input_key` replaces it. Still computed
    to remove such files when their input is read again.
    """
    name = _UNSAFE.sub("_", f"{fmt}.{display_name}")
    return name[:128]


def input_key(fmt: str, file_name: str, sha256: str) -> str:
    """The key of one input file: ``<format>.<file name>.<first 12 hex of its sha256>``.

    It names the file's ``rejects/<key>.parquet`` and its entry in the catalog's ``inputs``.
    Keyed by content: the same bytes read through any path spelling are the same input (its
    rejects are replaced, not added again); a changed file is a new input.
    """
    stem = _UNSAFE.sub("_", f"{fmt}.{Path(file_name).name}")
    return f"{stem[:110]}.{sha256[:12]}"


def reject_rows(
    raw: pa.Table, lines: np.ndarray, reasons: np.ndarray, source_file: str
) -> pa.Table | None:
    """The rows of ``raw`` whose reason is not empty, as a rejects table (``None`` if none)."""
    refused = reasons != ""
    if not refused.any():
        return None
    idx = np.flatnonzero(refused)
    picked = raw.take(pa.array(idx))
    head = pa.table(
        {
            "source_file": pa.array([source_file] * len(idx), pa.string()),
            "line": pa.array(lines[idx], pa.int64()),
            "reason": pa.array(reasons[idx].astype(str), pa.string()),
        }
    )
    for name in picked.column_names:
        head = head.append_column(_raw_name(name, head.column_names), picked.column(name))
    return head


def reject_all(raw: pa.Table, lines: np.ndarray, reason: str, source_file: str) -> pa.Table | None:
    """Every row of ``raw`` refused for ``reason`` (a whole file that cannot be trusted)."""
    return reject_rows(raw, lines, np.full(raw.num_rows, reason, dtype=object), source_file)


def malformed_rows(rows: list[MalformedRow], source_file: str) -> pa.Table | None:
    """Lines with the wrong number of fields, kept with their raw text."""
    if not rows:
        return None
    return pa.table(
        {
            "source_file": pa.array([source_file] * len(rows), pa.string()),
            "line": pa.array([r.line for r in rows], pa.int64()),
            "reason": pa.array([MALFORMED] * len(rows), pa.string()),
            "raw_line": pa.array(
                [f"{r.text} ({r.fields} fields, expected {r.expected})" for r in rows],
                pa.string(),
            ),
        }
    )


def _raw_name(name: str, taken: list[str]) -> str:
    return name if name not in taken else f"raw_{name}"


def empty_rejects() -> pa.Table:
    """A rejects table with no rows (replaces a stale file on re-ingest)."""
    return pa.table(
        {
            "source_file": pa.array([], pa.string()),
            "line": pa.array([], pa.int64()),
            "reason": pa.array([], pa.string()),
        }
    )
