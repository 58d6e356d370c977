"""Per-process reuse across runs: open market stores and a bounded LRU of aligned series.

A second run in the same process (a sweep, a notebook re-run, the warm benchmark) should not
touch DuckDB again for the instrument-days it already aligned. Two pools, both private to the
process (a worker process of a pool gets its own):

* :func:`open_store` keeps one :class:`~workbench.data.store.MarketStore` per resolved dataset
  path (and process and thread), so its DuckDB connection and prepared statements are reused.
* :class:`SeriesLRU` keeps :class:`~workbench.engine.ticks.TickSeries` keyed by
  ``(content_version, underlying, day, instrument, clock fingerprint)``; the dataset's content
  version in the key means a re-generated dataset never serves stale arrays. Memory is bounded
  by ``max_bytes`` (estimated from the arrays' sizes), evicting least recently used entries.
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Hashable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from workbench.data.store import MarketStore

DEFAULT_MAX_BYTES = 128 * 1024 * 1024
"""Default bound of the per-process series LRU (bytes, estimated). A year of a few legs a day
takes about 80 MB; the bound keeps a process's memory flat however long the run (a five-year
minute backtest peaks near 450 MB, most of it the imported libraries)."""

_stores: dict[str, MarketStore] = {}
_lock = threading.Lock()


def open_store(path: str | Path) -> MarketStore:
    """The :class:`MarketStore` for the dataset at ``path``, opened once per process and thread."""
    from workbench.data.store import MarketStore

    # one connection per process and thread: a forked connection must not be reused, and a
    # DuckDB connection must not be used by two threads at once (thread-pool executors)
    key = f"{os.getpid()}:{threading.get_ident()}:{_resolved(str(path), os.getcwd())}"
    with _lock:
        store = _stores.get(key)
        if store is not None and store.stale():  # a writer published a new version since
            store.close()
            store = None
        if store is None:
            store = MarketStore(Path(path).expanduser().resolve())
            _stores[key] = store
        return store


@functools.lru_cache(maxsize=64)
def _resolved(path: str, cwd: str) -> Path:
    """``path`` resolved from ``cwd`` (a positional run asks once a day; resolving walks every
    component with a system call each)."""
    return Path(path).expanduser().resolve()


def close_stores() -> None:
    """Close and forget every pooled store (tests; a long-lived process that wants memory back)."""
    with _lock:
        for store in _stores.values():
            close = getattr(store, "close", None)
            if close is not None:
                close()
        _stores.clear()


def clock_fingerprint(clock_ns: NDArray[np.int64]) -> str:
    """A short digest identifying a clock (its length and every timestamp)."""
    return hashlib.blake2b(np.ascontiguousarray(clock_ns).tobytes(), digest_size=12).hexdigest()


class SeriesLRU:
    """Bounded least-recently-used map of aligned instrument-day series."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._sizes: dict[Hashable, int] = {}
        self.nbytes = 0
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[bool, Any]:
        """``(found, value)``; a cached ``None`` means "the instrument never traded that day"."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return True, self._items[key]
            self.misses += 1
            return False, None

    def put(self, key: Hashable, series: Any, nbytes: int | None = None) -> None:
        """Store ``series`` (any value; a :class:`TickSeries`, a chain, ``None``) under ``key``.

        Its size is ``nbytes`` if given, else its ``nbytes`` attribute (64 for ``None``).
        """
        if nbytes is not None:
            size = int(nbytes)
        elif series is None:
            size = 64
        else:
            size = int(getattr(series, "nbytes", 1024))
        with self._lock:
            if key in self._items:
                self.nbytes -= self._sizes[key]
                del self._items[key]
            if size > self.max_bytes:
                return
            self._items[key] = series
            self._sizes[key] = size
            self.nbytes += size
            while self.nbytes > self.max_bytes and self._items:
                old, _ = self._items.popitem(last=False)
                self.nbytes -= self._sizes.pop(old)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._sizes.clear()
            self.nbytes = 0

    def __len__(self) -> int:
        return len(self._items)

    def stats(self) -> dict[str, Any]:
        return {
            "entries": len(self),
            "bytes": self.nbytes,
            "hits": self.hits,
            "misses": self.misses,
        }


_series_lru = SeriesLRU()


def series_lru() -> SeriesLRU:
    """The process's shared series LRU."""
    return _series_lru
