"""Worker processes that die with their parent.

A process pool's workers block reading their task queue; when the parent is killed with
``SIGKILL`` nothing tells them, and with the ``forkserver`` start method the fork server, the
workers and multiprocessing's resource tracker stayed alive (about 240 MB a set) long after.
The data layer's pools therefore start workers with ``spawn`` (a worker is a direct child of
the process that owns the pool, no fork server) and run :func:`watch_parent` first in each
worker:

- on Linux the worker asks the kernel for ``SIGKILL`` when its parent dies
  (``prctl(PR_SET_PDEATHSIG)``), then checks the parent did not die before that request;
- everywhere, a daemon thread polls ``os.getppid()`` every :data:`POLL_SECONDS` and exits the
  worker once it changes (the parent died and the worker was re-parented).

With the workers gone, the resource tracker (which exits when every process holding its pipe
has exited) goes too. Use :func:`worker_pool` to get such a pool.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

#: Seconds between two checks of the parent by the watchdog thread.
POLL_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1


def _exit_when_orphaned(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(1)
        time.sleep(POLL_SECONDS)


def watch_parent(parent: int) -> None:
    """Make this (worker) process exit when the process ``parent`` dies."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no prctl: the thread suffices
            pass
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
    threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True).start()


def _initialize(parent: int, initializer: Callable[..., Any] | None, args: tuple[Any, ...]) -> None:
    watch_parent(parent)
    if initializer is not None:
        initializer(*args)


def worker_pool(
    workers: int,
    *,
    initializer: Callable[..., Any] | None = None,
    initargs: tuple[Any, ...] = (),
) -> ProcessPoolExecutor:
    """A ``spawn`` process pool of ``workers`` whose workers exit when this process dies.

    ``initializer(*initargs)`` runs in each worker after the parent watch is set up. Scripts
    that use it need the ``if __name__ == "__main__":`` guard (``spawn`` imports the main
    module in each worker).
    """
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_initialize,
        initargs=(os.getpid(), initializer, initargs),
    )
