"""Where days and runs execute: in this process, on a local pool, or on any executor.

``executor`` arguments across the workbench (``run_backtest``, sweeps, walk-forward, event
comparisons) take the same values:

* ``None`` -- the default: a local pool, or this process when the work is too small to be worth
  starting workers (the caller decides);
* ``"process"`` -- the local pool;
* ``"serial"`` -- this process;
* any :class:`concurrent.futures.Executor` -- a ``ProcessPoolExecutor``, a loky executor, a
  thread pool, a Dask ``Client(...).get_executor()``;
* a ``dask.distributed.Client`` -- its executor.

The local pool is loky's reusable executor (the process pool of joblib): its workers start
clean (never a fork of this process, whose DuckDB connections must not be shared), they do not
re-run the caller's ``__main__``, so a script without an ``if __name__ == "__main__":`` guard
works, and they stay up between runs (a notebook's second run and a sweep's runs find them
warm), until idle for :data:`IDLE_SECONDS`, and exit when this process dies (even by
``SIGKILL``). Tasks carry strategies by value
(:class:`~workbench.engine.usercode.Portable`), so classes defined in a notebook, a script or a
file run on any of these executors.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
from dataclasses import dataclass
from typing import Any

IDLE_SECONDS = 300
"""A local pool's workers exit after this long without work."""

EXECUTOR_HELP = (
    "None, 'process', 'serial', a concurrent.futures.Executor "
    "(e.g. dask.distributed.Client(...).get_executor()) or a dask.distributed.Client"
)


def cores() -> int:
    """CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def local_pool(workers: int) -> cf.Executor:
    """The process-wide local pool (loky's reusable executor) with ``workers`` workers."""
    from loky import get_reusable_executor

    from workbench.data.workers import watch_parent

    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    # workers exit when this process dies, even by SIGKILL (loky's would outlive it)
    return get_reusable_executor(  # type: ignore[no-any-return]
        max_workers=workers,
        timeout=IDLE_SECONDS,
        initializer=watch_parent,
        initargs=(os.getpid(),),
    )


@dataclass(frozen=True)
class Placement:
    """A resolved ``executor`` argument: ``pool`` is ``None`` for this process."""

    pool: cf.Executor | None
    workers: int

    @property
    def serial(self) -> bool:
        return self.pool is None


def place(executor: Any, *, tasks: int, what: str = "executor") -> Placement:
    """Resolve an ``executor`` argument (see the module docstring) for ``tasks`` units of work.

    ``None`` and ``"process"`` give the local pool with at most one worker per task.
    Raises ``ValueError`` naming ``what`` for anything else.
    """
    if executor == "serial":
        return Placement(None, 1)
    if executor is None or executor == "process":
        workers = max(1, min(cores(), tasks))
        return Placement(local_pool(workers), workers)
    if isinstance(executor, cf.Executor):
        return Placement(executor, _executor_workers(executor))
    if hasattr(executor, "get_executor") and hasattr(executor, "nthreads"):  # dask Client
        pool = executor.get_executor()
        try:
            workers = max(1, sum(executor.nthreads().values()))
        except Exception:
            workers = cores()
        return Placement(pool, workers)
    raise ValueError(f"{what} must be {EXECUTOR_HELP}; got {executor!r}")


def _executor_workers(executor: cf.Executor) -> int:
    for attr in ("_max_workers", "max_workers"):
        value = getattr(executor, attr, None)
        if isinstance(value, int) and value > 0:
            return value
    client = getattr(executor, "_client", None)  # dask's ClientExecutor
    if client is not None:
        try:
            return max(1, sum(client.nthreads().values()))
        except Exception:
            pass
    return cores()
