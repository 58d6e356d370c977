"""One writer at a time: an exclusive lock beside a dataset (or a run folder), its holder named.

``FolderLock(target)`` takes an operating-system lock (``filelock``, ``flock`` on POSIX) on
``<parent>/.<name>.lock``, beside the folder it protects rather than inside it, because a
writer replaces the whole folder when it publishes a new version. The kernel drops the lock
when its process dies, even by ``SIGKILL``, so a killed writer never blocks the next one.

While it holds the lock a process records who it is in ``<parent>/.<name>.lock.owner``
(pid, host, command line, start time, purpose); a process that finds the folder locked names
that holder in its warning while it waits, and in :class:`DatasetLockedError` when it gives up
(after ``timeout`` seconds; ``0`` = do not wait). A second writer in the same process fails at
once instead of waiting for itself. Both files are removed on release (the lock file while
still held, which filelock's acquire tolerates); a killed holder leaves them, harmless, until
the next writer of the folder takes and releases the lock.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import warnings
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from filelock import FileLock, Timeout

from workbench.data.atomic import write_bytes_atomic
from workbench.data.errors import DatasetError

#: Seconds a writer waits for another writer of the same dataset by default.
DEFAULT_LOCK_TIMEOUT = 600.0

_held: dict[str, str] = {}
_held_lock = threading.Lock()


class DatasetLockedError(DatasetError):
    """Another writer holds the dataset (or run folder); the message names it."""


def lock_path(target: Path | str) -> Path:
    """``<parent>/.<name>.lock`` of the folder ``target``."""
    target = Path(target).absolute()
    return target.parent / f".{target.name}.lock"


def owner_path(target: Path | str) -> Path:
    """``<parent>/.<name>.lock.owner``: who holds the lock of ``target`` (JSON)."""
    target = Path(target).absolute()
    return target.parent / f".{target.name}.lock.owner"


def read_owner(target: Path | str) -> dict[str, Any] | None:
    """The holder record of ``target``'s lock, ``None`` if there is none (or it is unreadable)."""
    try:
        raw = json.loads(owner_path(target).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return raw if isinstance(raw, dict) else None


def describe_owner(owner: dict[str, Any] | None) -> str:
    if not owner:
        return "another process (it has not recorded itself yet)"
    command = owner.get("command") or "?"
    return (
        f"pid {owner.get('pid')} on {owner.get('host')} ({owner.get('purpose', 'a writer')}: "
        f"{command}) since {owner.get('since')}"
    )


class FolderLock:
    """Exclusive lock on the folder ``target`` (see the module docstring).

    ``timeout``: seconds to wait for another holder (``None``: wait forever, ``0``: fail at
    once). ``purpose`` says what the holder is doing (shown to waiters).
    """

    def __init__(
        self,
        target: Path | str,
        *,
        purpose: str,
        timeout: float | None = DEFAULT_LOCK_TIMEOUT,
    ) -> None:
        if timeout is not None and (isinstance(timeout, bool) or timeout < 0):
            raise ValueError(f"lock timeout must be >= 0 seconds or None, got {timeout!r}")
        self.target = Path(target).absolute()
        self.purpose = purpose
        self.timeout = timeout
        self._key = str(self.target)
        self._lock = FileLock(str(lock_path(self.target)), thread_local=False)
        self.held = False

    def acquire(self) -> FolderLock:
        with _held_lock:
            mine = _held.get(self._key)
        if mine is not None:
            raise DatasetLockedError(
                f"{self.target}: this process is already writing it ({mine}); finalize or "
                "abort that writer first"
            )
        self.target.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            owner = read_owner(self.target)
            if self.timeout == 0:
                raise DatasetLockedError(
                    f"{self.target}: another writer holds it: {describe_owner(owner)}; try again "
                    "when it has finished (one writer at a time)"
                ) from None
            wait = "until it finishes" if self.timeout is None else f"up to {self.timeout:g} s"
            warnings.warn(
                f"{self.target} is being written by {describe_owner(owner)}; waiting {wait}",
                UserWarning,
                stacklevel=3,
            )
            try:
                self._lock.acquire(timeout=-1 if self.timeout is None else self.timeout)
            except Timeout:
                raise DatasetLockedError(
                    f"{self.target}: still held after {self.timeout:g} s by "
                    f"{describe_owner(read_owner(self.target))}; one writer at a time "
                    "(raise the wait with --lock-timeout)"
                ) from None
        self.held = True
        with _held_lock:
            _held[self._key] = self.purpose
        try:
            self._write_owner()
        except BaseException:
            self.release()
            raise
        return self

    def _write_owner(self) -> None:
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": " ".join(sys.argv) if sys.argv and sys.argv[0] else sys.executable,
            "purpose": self.purpose,
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        write_bytes_atomic(owner_path(self.target), json.dumps(record).encode("utf-8"))

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        with _held_lock:
            _held.pop(self._key, None)
        try:
            owner_path(self.target).unlink(missing_ok=True)
            # removed while still held: a waiter that opened this file finds it unlinked once
            # it gets the lock and retries on a fresh one (filelock checks st_nlink), so no two
            # processes ever hold the same path; nothing is left beside the folder
            lock_path(self.target).unlink(missing_ok=True)
        finally:
            self._lock.release(force=True)

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
