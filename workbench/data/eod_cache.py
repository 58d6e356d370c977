"""A month of one underlying's end-of-day files as Arrow IPC: read in microseconds (issue 13).

A positional end-of-day run needs each day's whole option file as columns. Reading one from
Parquet costs about 0.7 ms even for an end-of-day file (a footer, then ~80 column chunks: one
row group per expiry, kept for the intraday per-instrument reads) and another ~0.3 ms to turn
it into the engine's arrays; a 5-year run reads 1,258 of them. The same arrays stored
uncompressed in an Arrow IPC file, one record batch per day, come back in tens of
microseconds.

:class:`EodColumnCache` keeps such files, one per underlying and calendar month, under
:func:`cache_root` (``$WORKBENCH_EOD_CACHE``; ``0`` turns the cache off), and builds a month the
first time a run needs one of its days, from the same checked reads the engine uses without
it (so the arrays are identical; ``tests/data/test_eod_cache.py``). What makes it safe to
trust:

- **Stale never served.** A month file's name carries a fingerprint of the catalog file and
  of every spot and option file of the month (size and mtime, from ``stat``): a file
  rewritten, added or removed gives a new name, and the old file is removed when the new one
  is built. A dataset's own checks (catalog sizes and rows, Parquet page checksums) run when
  the month is built.
- **Corruption detected.** Each batch carries the CRC-32 of its arrays; a mismatch, an
  unreadable file or an unexpected schema drops to the Parquet read for that day (and the
  month is rebuilt by the next run). A batch is checked the first time a process reads it
  from a file as it is on disk (its path, device, inode, size and modification time): month
  files are only ever replaced whole, so a later run in the same process (a warm rerun, a
  sweep in one kernel) does not hash the same bytes again, while a file replaced or
  rewritten since is checked afresh.
- **Nothing half-written.** A month is written to a temporary file and renamed into place; a
  run killed while building leaves either no file or a complete one. Two processes building the
  same month write the same bytes; the last rename wins.
- **Only an optimisation.** A month that cannot be built (a missing or unreadable day, a
  folder that is not writable) is simply not cached: the days are read from Parquet, which
  raises its errors where it always did.

Memory stays flat: a day's batch is read into fresh buffers (no memory map whose touched
pages would count towards the process's resident set) and released with the day.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import zlib
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

from workbench.data.atomic import atomic_path

__all__ = ["ENV", "EodColumnCache", "cache_root", "cache_summary", "clear_cache"]

#: Environment variable: a folder for the cache, or ``0``/``off`` to turn it off.
ENV = "WORKBENCH_EOD_CACHE"
#: A temporary this old is a killed builder's, removed by the next build of its month.
STALE_TEMPORARY_S = 3600.0
#: Months a cache keeps open at once (each is two open files).
OPEN_MONTHS = 3
#: Bumped whenever the file layout or the arrays' meaning changes.
FORMAT = 1

#: ``(spot arrays or None, option arrays or None)`` of one day, as the engine's reads give them.
DayArrays = tuple[dict[str, np.ndarray] | None, dict[str, np.ndarray] | None]


def cache_root() -> Path | None:
    """The cache's folder, or ``None`` when turned off (``WORKBENCH_EOD_CACHE=0``)."""
    value = os.environ.get(ENV, "").strip()
    if value.lower() in ("0", "off", "false", "no"):
        return None
    if value:
        return Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "workbench" / "eod"


def _stat(path: str | Path) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def _crc(arrays: dict[str, np.ndarray]) -> int:
    crc = 0
    for name in sorted(arrays):
        raw: Any = np.ascontiguousarray(arrays[name]).view(np.uint8)
        crc = zlib.crc32(raw, crc)
    return crc


def _batch(arrays: dict[str, np.ndarray]) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(
        [pa.array(arrays[name]) for name in arrays], names=list(arrays)
    )


#: In each dataset's folder: the dataset's path, for ``workbench data cache``.
DATASET_FILE = "dataset.txt"


def _tag(data: Path) -> str:
    """A dataset's folder name in the cache: a hash of its resolved path."""
    return hashlib.sha256(str(data).encode()).hexdigest()[:16]


def _ours(path: Path) -> bool:
    """A file this module writes (a month file, a folder's label, a build's temporary)."""
    name = path.name
    return (
        name.endswith(".arrow")
        or name == DATASET_FILE
        or (name.startswith(".") and name.endswith(".tmp"))
    )


def _folders(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(
        p
        for p in root.iterdir()
        if p.is_dir() and len(p.name) == 16 and all(c in "0123456789abcdef" for c in p.name)
    )


def cache_summary(root: Path) -> list[dict[str, Any]]:
    """Per dataset folder of the cache at ``root``: ``dataset`` (its path, ``None`` if not
    recorded), ``months`` (month files), ``bytes`` and ``folder``."""
    out = []
    for folder in _folders(root):
        files = [p for p in folder.iterdir() if p.is_file() and _ours(p)]
        label = folder / DATASET_FILE
        try:
            dataset: str | None = label.read_text().strip() or None
        except OSError:
            dataset = None
        out.append(
            {
                "dataset": dataset,
                "months": sum(p.name.endswith(".options.arrow") for p in files),
                "bytes": sum(p.stat().st_size for p in files),
                "folder": folder,
            }
        )
    return out


def clear_cache(root: Path, data: str | Path | None = None) -> tuple[int, int]:
    """Remove the cache's files (of dataset ``data`` only, when given): ``(files, bytes)``.
    Only files this module writes are removed, and then their emptied folders."""
    folders = _folders(root)
    if data is not None:
        wanted = root / _tag(Path(data).resolve())
        folders = [f for f in folders if f == wanted]
    files = removed = 0
    for folder in folders:
        for path in folder.iterdir():
            if path.is_file() and _ours(path):
                size = path.stat().st_size
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    files += 1
                    removed += size
        with contextlib.suppress(OSError):
            folder.rmdir()  # only when empty
    return files, removed


#: Batches whose CRC this process found intact, per month file as it was on disk when opened
#: (path, device, inode, size, mtime): see the module doc. At most :data:`VERIFIED_FILES`
#: files, the longest known forgotten first (a long-lived kernel or service opens new month
#: files as datasets change; a forgotten file's batches are simply checked again).
_VERIFIED: dict[tuple[str, int, int, int, int], set[int]] = {}
VERIFIED_FILES = 1024


def _identity(path: Path) -> tuple[str, int, int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


class _Month:
    """An open month file: day -> batch index, read on demand."""

    def __init__(self, path: Path, kind: str) -> None:
        self.path = path
        self.kind = kind
        self._reader: Any = None
        self._names: list[str] = []
        self._verified: set[int] = set()
        self.index: dict[date, int] = {}

    def open(self) -> bool:
        try:
            before = _identity(self.path)
            reader = ipc.open_file(pa.OSFile(str(self.path)))
            meta = reader.schema.metadata or {}
            days = json.loads(meta[b"days"].decode())
        except (OSError, pa.ArrowInvalid, KeyError, ValueError):
            return False
        # the file opened is the one stat'ed when nothing changed around the open; otherwise
        # its batches are checked as if never seen
        if before is not None and _identity(self.path) == before:
            known = _VERIFIED.get(before)
            if known is None:
                known = _VERIFIED[before] = set()
                while len(_VERIFIED) > VERIFIED_FILES:
                    del _VERIFIED[next(iter(_VERIFIED))]
            self._verified = known
        else:
            self._verified = set()
        self._reader = reader
        self._names = reader.schema.names  # every batch of an IPC file has the file's schema
        self.index = {date.fromisoformat(d): j for j, d in enumerate(days)}
        return True

    def get(self, day: date) -> dict[str, np.ndarray] | None:
        j = self.index.get(day)
        if j is None or self._reader is None:
            return None
        try:
            batch, meta = self._reader.get_batch_with_custom_metadata(j)
            out = dict(
                zip(
                    self._names,
                    [column.to_numpy(zero_copy_only=False) for column in batch.columns],
                    strict=True,
                )
            )
            if j not in self._verified:
                if meta is None or int(meta[b"crc"]) != _crc(out):
                    return None
                self._verified.add(j)
        except (OSError, pa.ArrowInvalid, KeyError, ValueError):
            return None
        return out

    def close(self) -> None:
        self._reader = None


class EodColumnCache:
    """One underlying's days of one dataset, served from month files (see the module doc).

    ``read_spot(day)`` / ``read_options(day)`` are the engine's own reads of a day (``None``
    when the direct read cannot answer); they build a month the first time it is needed.
    """

    def __init__(
        self,
        data: str | Path,
        underlying: str,
        days: Sequence[date],
        read_spot: Callable[[date], dict[str, np.ndarray] | None],
        read_options: Callable[[date], dict[str, np.ndarray] | None],
        spot_path: Callable[[date], str | Path],
        options_path: Callable[[date], str | Path],
        columns: Sequence[str],
        root: Path | None = None,
        build: bool = True,
    ) -> None:
        self.data = Path(data).resolve()
        #: ``False``: only months already built are served (another thread builds them); a
        #: month not found is looked for again at its next day
        self.build = build
        self.underlying = underlying
        self.root = cache_root() if root is None else root
        self._read_spot = read_spot
        self._read_options = read_options
        self._spot_path = spot_path
        self._options_path = options_path
        self._columns = tuple(columns)
        self._months: dict[tuple[int, int], tuple[_Month, _Month] | None] = {}
        self._days: dict[tuple[int, int], list[date]] = {}
        for d in days:
            self._days.setdefault((d.year, d.month), []).append(d)
        #: months built / served from a file already there, for the benchmark and tests
        self.built = 0
        self.opened = 0

    def folder(self) -> Path | None:
        if self.root is None:
            return None
        return self.root / _tag(self.data)

    def ready(self, day: date) -> bool:
        """Whether ``day``'s month is served from the cache: opened here, or found (or, when
        this cache builds, built) now."""
        if self.root is None:
            return False
        key = (day.year, day.month)
        if key not in self._months:
            found = self._month(key)
            if found is None and not self.build:
                return False  # not built yet: looked for again next time
            self._months[key] = found
            self._keep_recent()
        return self._months[key] is not None

    def get(self, day: date) -> DayArrays | None:
        """``day``'s (spot, option) arrays from the cache (each ``None`` when the month has no
        such file that day), or ``None`` when the month is not cached (read it from Parquet)."""
        if not self.ready(day):
            return None
        month = self._months[(day.year, day.month)]
        assert month is not None
        spot_file, options_file = month
        if day not in spot_file.index and day not in options_file.index:
            return None  # not a day of the dataset's: the reads say what is wrong
        spot = spot_file.get(day) if day in spot_file.index else None
        options = options_file.get(day) if day in options_file.index else None
        if (day in spot_file.index and spot is None) or (
            day in options_file.index and options is None
        ):
            return None  # a batch failed its check: read the day from Parquet
        return spot, options

    def tried(self, day: date) -> bool:
        """Whether ``day``'s month was looked for (found, built, or found not cacheable)."""
        return (day.year, day.month) in self._months

    def has(self, day: date) -> bool:
        """Whether ``day``'s month is open here (its days are served without a build)."""
        return self._months.get((day.year, day.month)) is not None

    def _keep_recent(self) -> None:
        """Close all but the last :data:`OPEN_MONTHS` months opened: a run goes forward in
        time, and a long one would otherwise hold two files per month open."""
        while len(self._months) > OPEN_MONTHS:
            oldest = next(iter(self._months))
            month = self._months.pop(oldest)
            if month is not None:
                for m in month:
                    m.close()

    def _fingerprint(self, days: list[date]) -> tuple[str, list[date], list[date]]:
        """A hash of every file the month's arrays come from, and the days that have a spot
        and an option file."""
        from workbench.data.layout import catalog_path

        stats = [(d, _stat(self._spot_path(d)), _stat(self._options_path(d))) for d in days]
        spot_days = [d for d, spot, _ in stats if spot is not None]
        option_days = [d for d, _, options in stats if options is not None]
        record = [
            FORMAT,
            self.underlying,
            list(self._columns),
            _stat(catalog_path(self.data)),
            [[d.isoformat(), spot, options] for d, spot, options in stats],
        ]
        digest = hashlib.sha256(json.dumps(record).encode()).hexdigest()[:20]
        return digest, spot_days, option_days

    def _month(self, key: tuple[int, int]) -> tuple[_Month, _Month] | None:
        folder = self.folder()
        days = self._days.get(key, [])
        if folder is None or not days:
            return None
        digest, spot_days, option_days = self._fingerprint(days)
        stem = f"{self.underlying}-{key[0]:04d}-{key[1]:02d}"
        spot = _Month(folder / f"{stem}-{digest}.spot.arrow", "spot")
        options = _Month(folder / f"{stem}-{digest}.options.arrow", "options")
        if spot.open() and options.open():
            self.opened += 1
            return spot, options
        if not self.build:
            return None
        try:
            self._build(folder, stem, spot, options, spot_days, option_days)
        except Exception:
            return None
        if spot.open() and options.open():
            self.built += 1
            return spot, options
        return None

    def _build(
        self,
        folder: Path,
        stem: str,
        spot: _Month,
        options: _Month,
        spot_days: list[date],
        option_days: list[date],
    ) -> None:
        """Write the month's two files (options first: a month counts only with both)."""
        folder.mkdir(parents=True, exist_ok=True)
        label = folder / DATASET_FILE
        if not label.is_file():  # which dataset the folder holds (``workbench data cache``)
            with contextlib.suppress(OSError):
                label.write_text(f"{self.data}\n")
        for month, days, read in (
            (options, option_days, self._read_options),
            (spot, spot_days, self._read_spot),
        ):
            self._write(month.path, days, read)
        for old in folder.glob(f"{stem}-*.arrow"):  # earlier versions of this month
            if old not in (spot.path, options.path):
                with contextlib.suppress(OSError):
                    old.unlink()
        # temporaries of builders killed mid-write (an hour old: not another one at work)
        for tmp in folder.glob(f".{stem}-*.tmp"):
            with contextlib.suppress(OSError):
                if time.time() - tmp.stat().st_mtime > STALE_TEMPORARY_S:
                    tmp.unlink()

    @staticmethod
    def _write(
        path: Path, days: list[date], read: Callable[[date], dict[str, np.ndarray] | None]
    ) -> None:
        writer: Any = None
        with atomic_path(path) as tmp:
            try:
                for d in days:
                    arrays = read(d)
                    if arrays is None:
                        raise ValueError(f"{d}: the direct read cannot answer; not cached")
                    batch = _batch(arrays)
                    if writer is None:
                        schema = batch.schema.with_metadata(
                            {"days": json.dumps([x.isoformat() for x in days])}
                        )
                        writer = ipc.new_file(str(tmp), schema)
                    writer.write_batch(batch, custom_metadata={"crc": str(_crc(arrays))})
                if writer is None:
                    raise ValueError("no days")
            finally:
                if writer is not None:
                    writer.close()

    def close(self) -> None:
        for month in self._months.values():
            if month is not None:
                for m in month:
                    m.close()
        self._months.clear()
