"""Accepted rows waiting for their day to be written, with bounded memory.

Adapters stage rows per ``(kind, underlying, day)`` as pandas frames carrying three bookkeeping
columns: ``_file`` (index of the input file), ``_line`` (its physical line or row number) and
``_rank`` (lower is preferred when keys collide). When more than :data:`SPILL_ROWS` rows are held
in memory they are spilled to Parquet parts in a private temporary folder inside the dataset
(removed at the end), so memory stays bounded by one day plus the spill threshold whatever the
input size. A file that fails half-way is withdrawn with :meth:`DayBuffer.discard`, so its rows
never reach the dataset.

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

import pandas as pd

BOOKKEEPING = ("_file", "_line", "_rank")
SPILL_ROWS = 2_000_000

Key = tuple[str, str, date]  # (kind, underlying, day)


@dataclass
class _Parts:
    memory: list[tuple[int, pd.DataFrame]] = field(default_factory=list)
    spilled: list[tuple[int, Path]] = field(default_factory=list)


class DayBuffer:
    """Rows staged per (kind, underlying, day); see the module docstring."""

    def __init__(self, parent: Path, spill_rows: int = SPILL_ROWS) -> None:
        self._parent = Path(parent)
        self._spill_rows = spill_rows
        self._parts: dict[Key, _Parts] = {}
        self._in_memory = 0
        self._tmp: Path | None = None
        self._seq = 0

    def add(self, key: Key, file_index: int, frame: pd.DataFrame) -> None:
        if frame.empty:
            return
        self._parts.setdefault(key, _Parts()).memory.append((file_index, frame))
        self._in_memory += len(frame)
        if self._in_memory > self._spill_rows:
            self._spill()

    def discard(self, file_index: int) -> None:
        """Withdraw every row staged from ``file_index``."""
        for parts in self._parts.values():
            kept = [(i, f) for i, f in parts.memory if i != file_index]
            self._in_memory -= sum(len(f) for i, f in parts.memory if i == file_index)
            parts.memory = kept
            for i, path in parts.spilled:
                if i == file_index:
                    path.unlink(missing_ok=True)
            parts.spilled = [(i, p) for i, p in parts.spilled if i != file_index]
        self._parts = {k: v for k, v in self._parts.items() if v.memory or v.spilled}

    def keys(self) -> list[Key]:
        return sorted(self._parts)

    def take(self, key: Key) -> pd.DataFrame:
        """Every row staged for ``key`` (memory and spilled parts), removed from the buffer."""
        parts = self._parts.pop(key)
        frames = [pd.read_parquet(path) for _, path in parts.spilled]
        frames += [frame for _, frame in parts.memory]
        self._in_memory -= sum(len(f) for _, f in parts.memory)
        for _, path in parts.spilled:
            path.unlink(missing_ok=True)
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]

    def __iter__(self) -> Iterator[Key]:
        return iter(self.keys())

    def _spill(self) -> None:
        if self._tmp is None:
            self._parent.mkdir(parents=True, exist_ok=True)
            self._tmp = Path(tempfile.mkdtemp(prefix=".ingest-", dir=self._parent))
        for parts in self._parts.values():
            for file_index, frame in parts.memory:
                self._seq += 1
                path = self._tmp / f"part-{self._seq:08d}.parquet"
                frame.to_parquet(path, index=False)
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


def split_duplicates(frame: pd.DataFrame, keys: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(kept, duplicates)``: one row per ``keys``, the smallest ``(_rank, _file, _line)``.

    ``duplicates`` carries ``kept_file``/``kept_line`` naming the row that was kept instead.
    """
    ordered = frame.sort_values([*keys, "_rank", "_file", "_line"], kind="mergesort")
    dup = ordered.duplicated(keys, keep="first").to_numpy()
    if not dup.any():
        return ordered, ordered.iloc[0:0].assign(kept_file=[], kept_line=[])
    kept = ordered.loc[~dup]
    first_of_group = ordered[~ordered.duplicated(keys, keep="first")]
    dups = ordered.loc[dup]
    ref = first_of_group[[*keys, "_file", "_line"]].rename(
        columns={"_file": "kept_file", "_line": "kept_line"}
    )
    dups = dups.merge(ref, on=keys, how="left")
    return kept, dups
