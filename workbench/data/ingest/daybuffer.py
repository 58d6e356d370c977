"""Accepted rows waiting for their day to be written, with bounded memory.

Adapters stage rows per ``(kind, underlying, day)`` as :data:`Columns` (column name -> NumPy
array; plain arrays, because per-day pandas overhead dominates files of thousands of one-row
days) carrying three bookkeeping columns: ``_file`` (index of the input file), ``_line`` (its
physical line or row number) and ``_rank`` (lower is preferred when keys collide). When more
than :data:`SPILL_ROWS` rows are held in memory they are spilled to Parquet parts in a private
temporary folder, so memory stays bounded by one day plus the spill threshold whatever the
input size. The spill folder is a sibling of the dataset (``.<dataset>.ingest-<random>``),
outside the version being written, and is removed at the end or, after a kill, by the
dataset's next writer. A file that fails half-way is withdrawn with
:meth:`DayBuffer.discard`, so its rows never reach the dataset.

:func:`split_duplicates` keeps, for every key, the row with the smallest ``(_rank, _file,
_line)`` (deterministic whatever the order files were given) and returns the others.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

BOOKKEEPING = ("_file", "_line", "_rank")
SPILL_ROWS = 2_000_000

Key = tuple[str, str, date]  # (kind, underlying, day)
Columns = dict[str, np.ndarray]


def n_rows(cols: Columns) -> int:
    return len(next(iter(cols.values()))) if cols else 0


def take_rows(cols: Columns, idx: np.ndarray) -> Columns:
    return {k: v[idx] for k, v in cols.items()}


@dataclass
class _Parts:
    memory: list[tuple[int, Columns]] = field(default_factory=list)
    spilled: list[tuple[int, Path]] = field(default_factory=list)


class DayBuffer:
    """Rows staged per (kind, underlying, day); see the module docstring."""

    def __init__(
        self, parent: Path, spill_rows: int | None = None, prefix: str = ".ingest-"
    ) -> None:
        self._parent = Path(parent)
        self._prefix = prefix
        self._spill_rows = SPILL_ROWS if spill_rows is None else spill_rows
        self._parts: dict[Key, _Parts] = {}
        self._in_memory = 0
        self._tmp: Path | None = None
        self._seq = 0

    def add(self, key: Key, file_index: int, cols: Columns) -> None:
        rows = n_rows(cols)
        if rows == 0:
            return
        self._parts.setdefault(key, _Parts()).memory.append((file_index, cols))
        self._in_memory += rows
        if self._in_memory > self._spill_rows:
            self._spill()

    def discard(self, file_index: int) -> None:
        """Withdraw every row staged from ``file_index``."""
        for parts in self._parts.values():
            kept = [(i, f) for i, f in parts.memory if i != file_index]
            self._in_memory -= sum(n_rows(f) for i, f in parts.memory if i == file_index)
            parts.memory = kept
            for i, path in parts.spilled:
                if i == file_index:
                    path.unlink(missing_ok=True)
            parts.spilled = [(i, p) for i, p in parts.spilled if i != file_index]
        self._parts = {k: v for k, v in self._parts.items() if v.memory or v.spilled}

    def keys(self) -> list[Key]:
        return sorted(self._parts)

    def take(self, key: Key) -> Columns:
        """Every row staged for ``key`` (memory and spilled parts), removed from the buffer."""
        parts = self._parts.pop(key)
        frames: list[Columns] = []
        for _, path in parts.spilled:
            table = pq.read_table(path)
            frames.append({c: table.column(c).to_numpy() for c in table.column_names})
        frames += [cols for _, cols in parts.memory]
        self._in_memory -= sum(n_rows(f) for _, f in parts.memory)
        for _, path in parts.spilled:
            path.unlink(missing_ok=True)
        if len(frames) == 1:
            return frames[0]
        return {c: np.concatenate([f[c] for f in frames]) for c in frames[0]}

    def __iter__(self) -> Iterator[Key]:
        return iter(self.keys())

    def _spill(self) -> None:
        if self._tmp is None:
            self._parent.mkdir(parents=True, exist_ok=True)
            self._tmp = Path(tempfile.mkdtemp(prefix=self._prefix, dir=self._parent))
        for parts in self._parts.values():
            for file_index, frame in parts.memory:
                self._seq += 1
                path = self._tmp / f"part-{self._seq:08d}.parquet"
                pq.write_table(pa.table(frame), path)
                parts.spilled.append((file_index, path))
            parts.memory = []
        self._in_memory = 0

    def close(self) -> None:
        """Remove the temporary folder (also on error)."""
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        self._parts.clear()
        self._in_memory = 0


def split_duplicates(cols: Columns, keys: list[str]) -> tuple[Columns, Columns | None]:
    """``(kept, duplicates)``: one row per ``keys``, the smallest ``(_rank, _file, _line)``.

    ``kept`` is sorted by ``keys``; ``duplicates`` (``None`` when there are none) carries
    ``kept_file``/``kept_line`` naming the row that was kept instead.
    """
    arrays = [_sortable(cols[c]) for c in [*keys, "_rank", "_file", "_line"]]
    order = np.lexsort(arrays[::-1])
    n = len(order)
    same = np.zeros(n, dtype=bool)
    if n > 1:
        eq = np.ones(n - 1, dtype=bool)
        for arr in arrays[: len(keys)]:
            s = arr[order]
            eq &= s[1:] == s[:-1]
        same[1:] = eq
    ordered = take_rows(cols, order)
    if not same.any():
        return ordered, None
    group_start = np.maximum.accumulate(np.where(~same, np.arange(n), 0))
    dup_idx = np.flatnonzero(same)
    dups = take_rows(ordered, dup_idx)
    dups["kept_file"] = ordered["_file"][group_start[dup_idx]]
    dups["kept_line"] = ordered["_line"][group_start[dup_idx]]
    return take_rows(ordered, np.flatnonzero(~same)), dups


def _sortable(values: np.ndarray) -> np.ndarray:
    """A NumPy array ``lexsort`` can order (dates and times as int64)."""
    if values.dtype.kind in "mM":
        return values.astype(np.int64)
    return values
