"""Jobs: queued in the run repository, run on a process pool or a Dask cluster.

The queue **is** the run repository: a submission is a ``queued`` record (with everything
needed to run it in ``request``), so a restart loses nothing. One dispatcher thread moves
records along; every state change is one JSON log line:

- a backtest or Monte Carlo job goes to the executor when a worker is free (at most as many in
  flight as there are workers, so the rest stay ``queued`` -- cancellable at once, and still
  queued after a shutdown); it becomes ``running`` when its worker reports that it started,
  then ``completed`` / ``failed`` (with the error) / ``cancelled``;
- a grid, walk-forward or event comparison is *driven* from a thread of the server (at most
  ``drivers`` at once): the research layer submits its runs to the same executor, and records
  its members and windows itself.

Cancelling (``DELETE``): a queued job is cancelled at once; a running one is asked to stop
(``stop.json``) and stops after the day it is simulating. A grid, walk-forward or comparison
stops after its current member or window; its pending runs are cancelled.

A clean shutdown (SIGTERM): no new job starts; running jobs are asked to stop and are put back
to ``queued`` (they run again, from the start, on the next start of the server); queued jobs
stay queued. After a kill (SIGKILL, a crash) the next start marks the jobs that were running
``failed`` with "server stopped ...", except a backtest whose folder was completely written,
which is recorded ``completed`` from its folder.

A worker that dies (killed, out of memory) breaks a local pool, and every job in flight with
it: the pool is replaced, the jobs that had not started go back to the queue, and the ones
that had started are run again one at a time (each alone in the pool), so a job that kills its
worker again is the one failed ("a worker process died ...") and the others complete.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import functools
import logging
import multiprocessing
import os
import queue
import secrets
import shutil
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from workbench.research.repository import (
    ACTIVE,
    RunEntry,
    RunRepository,
    UnknownRunError,
    this_process,
)
from workbench.service import adapter
from workbench.service.config import ServiceConfig
from workbench.service.worker import (
    PROGRESS_FILE,
    SERVER_FILE,
    STOP_FILE,
    JobStopped,
    read_json,
    run_job,
    watch_server,
    write_json,
)

TASK_KINDS: tuple[str, ...] = ("single", "montecarlo")
DRIVER_KINDS: tuple[str, ...] = ("grid", "walkforward", "event-comparison")
HEARTBEAT_EVERY_S = 5.0
TICK_S = 0.25
SERVER_STOPPED = "server stopped while the job was running (killed or crashed); submit it again"
WORKER_DIED = (
    "a worker process died while running this job (killed, or out of memory), also when it "
    "ran alone"
)

log = logging.getLogger("workbench.service.jobs")


class ServiceStopping(RuntimeError):
    """The server is shutting down: no new submissions (503)."""


class AlreadyFinished(ValueError):
    """The job is final (completed, failed or cancelled): nothing to cancel (409)."""


class ServerBusyError(RuntimeError):
    """Another ``workbench serve`` uses this reports folder."""


@dataclass
class InFlight:
    """A job handed to the executor (or to a driver thread)."""

    id: str
    kind: str
    future: cf.Future[Any]
    generation: int
    folder: Path
    started: bool = False
    done: int | None = None
    stop: str | None = None
    driver: Driver | None = None


@dataclass
class Driver:
    """The state a driver thread shares with the dispatcher: stop requests and its runs."""

    executor: TrackingExecutor
    action: str | None = None
    reason: str = ""

    def request_stop(self, action: str, reason: str) -> None:
        self.action, self.reason = action, reason
        self.executor.cancel_pending()

    def check(self, *_: Any) -> None:
        """Called between a driven job's members (windows): raises if asked to stop."""
        if self.action is not None:
            raise JobStopped(self.action, self.reason)


@dataclass
class TrackingExecutor(cf.Executor):
    """The service's executor as seen by one driven job: submissions go to the current pool
    (replaced if a worker died), and the job's pending runs can be cancelled together."""

    current: Callable[[], cf.Executor]
    capacity: Callable[[], int]
    futures: list[cf.Future[Any]] = field(default_factory=list)

    @property
    def _max_workers(self) -> int:  # what the research layer reads to size its chunks
        return self.capacity()

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        future = self.current().submit(fn, *args, **kwargs)
        self.futures.append(future)
        return future

    def cancel_pending(self) -> None:
        for future in self.futures:
            future.cancel()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if cancel_futures:
            self.cancel_pending()


def pool_context() -> multiprocessing.context.BaseContext:
    """Workers start from a fork server with the engine, the research layer and the
    tearsheet pre-imported (never a plain fork of the server: threads, DuckDB)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(
            [
                "workbench.service.worker",
                "workbench.engine.runner",
                "workbench.research.runs",
                "workbench.analytics.tearsheet",
            ]
        )
        return ctx
    return multiprocessing.get_context("spawn")


class JobManager:
    """Queue, dispatch, watch, cancel and recover the service's jobs (see the module)."""

    def __init__(self, config: ServiceConfig, repository: RunRepository) -> None:
        self.config = config
        self.repo = repository
        self.instance = secrets.token_hex(8)
        self.owner = this_process()
        self.jobs_dir = config.service_dir / "jobs"
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._done: queue.SimpleQueue[tuple[str, cf.Future[Any]]] = queue.SimpleQueue()
        self._inflight: dict[str, InFlight] = {}
        self._suspects: set[str] = set()
        self._executor: cf.Executor | None = None
        self._generation = 0
        self._client: Any = None
        self._capacity_cache: tuple[float, int] = (0.0, config.workers)
        self._stopping = False
        self._exit = False
        self._thread: threading.Thread | None = None
        self._server_lock: Any = None
        self._last_beat = 0.0
        self._last_reap = 0.0
        self._started = False
        self._dirty_days: set[Path] = set()
        self._last_index = 0.0

    # -- life cycle -----------------------------------------------------------------------------
    def start(self) -> None:
        """Take the reports folder (one server at a time), recover what a killed server left,
        start the executor and the dispatcher."""
        from filelock import FileLock, Timeout

        if self._started:
            return
        self.repo.ensure()
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.config.service_dir / "server.lock"))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise ServerBusyError(
                f"another workbench serve uses the reports folder {self.config.reports} "
                f"(lock {self.config.service_dir / 'server.lock'})"
            ) from None
        self._server_lock = lock
        self._heartbeat(force=True)
        self._recover()
        self._executor = self._make_executor()
        self._thread = threading.Thread(target=self._loop, name="job-dispatcher", daemon=True)
        self._thread.start()
        self._started = True
        log.info(
            "job manager started",
            extra={"event": "start", "instance": self.instance, "capacity": self.capacity(),
                   "executor": "dask" if self.config.dask else "process-pool"},
        )  # fmt: skip

    def shutdown(self) -> None:
        """Stop cleanly: nothing new starts; running jobs stop and go back to the queue."""
        with self._lock:
            if self._exit or not self._started:
                return
            self._stopping = True
            flying = list(self._inflight.values())
            for job in flying:
                self._request_stop(job, "requeue", "server shutting down; the job runs again")
        log.info("shutting down", extra={"event": "shutdown", "running": len(flying)})
        self._wake.set()
        deadline = time.monotonic() + self.config.shutdown_grace_s
        while time.monotonic() < deadline:
            with self._lock:
                if not self._inflight:
                    break
            time.sleep(TICK_S)
        with self._lock:
            self._exit = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._write_indexes(force=True)
        with self._lock:
            late = list(self._inflight.values())
            for job in late:  # did not stop within the grace period
                if self.repo.requeue(job.id):
                    self._log_state(job.id, job.kind, "queued", "server shutting down")
            self._inflight.clear()
        if self._executor is not None:
            processes = dict(getattr(self._executor, "_processes", None) or {})
            if late:  # a job that did not stop in time must not hold the exit
                self._executor.shutdown(wait=False, cancel_futures=True)
                for process in processes.values():
                    with contextlib.suppress(Exception):
                        process.terminate()
            else:
                self._executor.shutdown(wait=True, cancel_futures=True)
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()
        with contextlib.suppress(OSError):
            (self.config.service_dir / SERVER_FILE).unlink()
        if self._server_lock is not None:
            self._server_lock.release()
        log.info("job manager stopped", extra={"event": "stopped"})

    @property
    def stopping(self) -> bool:
        return self._stopping

    # -- executor -------------------------------------------------------------------------------
    def _make_executor(self) -> cf.Executor:
        self._generation += 1
        if self.config.dask:
            if self._client is None:
                from dask.distributed import Client

                self._client = Client(self.config.dask, timeout="30s")
            return self._client.get_executor(pure=False)  # type: ignore[no-any-return]
        return cf.ProcessPoolExecutor(
            max_workers=self.config.workers,
            mp_context=pool_context(),
            initializer=watch_server,
            initargs=(self.owner,),
        )

    def _current(self) -> cf.Executor:
        with self._lock:
            assert self._executor is not None
            return self._executor

    def capacity(self) -> int:
        """How many jobs run at once: the pool's workers, or the Dask cluster's threads."""
        if self._client is None:
            return self.config.workers
        stamp, value = self._capacity_cache
        if time.monotonic() - stamp > 5.0:
            with contextlib.suppress(Exception):
                value = max(1, sum(self._client.nthreads().values()))
            self._capacity_cache = (time.monotonic(), value)
        return value

    def _replace_broken_pool(self, generation: int) -> None:
        with self._lock:
            if generation != self._generation or self._executor is None:
                return  # already replaced
            old = self._executor
            self._executor = self._make_executor()
        old.shutdown(wait=False, cancel_futures=True)
        log.warning("worker pool replaced", extra={"event": "pool-replaced"})

    # -- submitting, cancelling -----------------------------------------------------------------
    def submit(
        self,
        kind: str,
        request: dict[str, Any],
        *,
        template: str | None = None,
        strategy: str | None = None,
        data: str | None = None,
        total: int | None = None,
    ) -> str:
        """Queue a job (a checked request from the adapter); returns its record id."""
        from workbench.research.repository import new_record_id

        if self._stopping:
            raise ServiceStopping("the server is shutting down; submit again once it is back")
        record_id = new_record_id()
        out = None
        if kind != "grid":  # a grid writes its members into the day folder
            out = self.config.reports / date.today().isoformat() / record_id
        self.repo.create(
            kind,
            status="queued",
            origin="service",
            id=record_id,
            template=template,
            strategy=strategy,
            data=data,
            out=out,
            request=request,
            progress_total=total,
        )
        self._log_state(record_id, kind, "queued")
        self._wake.set()
        return record_id

    def cancel(self, record_id: str) -> str:
        """Cancel a job: ``"cancelled"`` (it was queued) or ``"cancelling"`` (it runs and stops
        after its current day or member). :class:`AlreadyFinished` if it is final."""
        with self._lock:
            entry = self.repo.get(record_id)
            if entry.final:
                raise AlreadyFinished(f"run {record_id} is already {entry.status}")
            job = self._inflight.get(record_id)
            if job is None:
                if entry.origin != "service":
                    raise AlreadyFinished(
                        f"run {record_id} was started by {entry.origin}, not by this server"
                    )
                if self.repo.cancel(record_id, "cancelled by the client"):
                    self._log_state(record_id, entry.kind, "cancelled", "cancelled by the client")
                    return "cancelled"
                raise AlreadyFinished(
                    f"run {record_id} is already {self.repo.get(record_id).status}"
                )
            self._request_stop(job, "cancel", "cancelled by the client")
            self._wake.set()
            return "cancelling"

    def _request_stop(self, job: InFlight, action: str, reason: str) -> None:
        job.stop = action
        if job.driver is not None:
            job.driver.request_stop(action, reason)
            return
        with contextlib.suppress(OSError):
            write_json(job.folder / STOP_FILE, {"action": action, "reason": reason})
        job.future.cancel()  # not started yet: it never will

    def counts(self) -> dict[str, int]:
        counts = self.repo.counts(origin="service")
        return {"queued": counts["queued"], "running": counts["running"]}

    # -- the dispatcher -------------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            self._wake.wait(TICK_S)
            self._wake.clear()
            try:
                self._heartbeat()
                self._reap()
                self._collect()
                self._poll_progress()
                self._write_indexes()
                with self._lock:
                    if self._exit:
                        return
                    if not self._stopping:
                        self._dispatch()
            except Exception:  # the dispatcher must survive anything a job or the disk does
                log.error(
                    "dispatcher error",
                    extra={"event": "dispatcher-error", "traceback": traceback.format_exc()},
                )
                time.sleep(1.0)

    def _heartbeat(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_beat < HEARTBEAT_EVERY_S:
            return
        self._last_beat = now
        write_json(
            self.config.service_dir / SERVER_FILE,
            {"instance": self.instance, "pid": os.getpid(), "owner": self.owner,
             "heartbeat": time.time()},
        )  # fmt: skip

    def _write_indexes(self, force: bool = False) -> None:
        """Rewrite the ``index.html`` of the days whose runs finished: at most every 10 s while
        jobs run, at once when none does (a grid rewrites its own day's index)."""
        if not self._dirty_days:
            return
        now = time.monotonic()
        if not force and self._inflight and now - self._last_index < 10.0:
            return
        self._last_index = now
        days, self._dirty_days = self._dirty_days, set()
        for day in sorted(days):
            try:
                adapter.write_day_index(day)
            except Exception as exc:  # an index is a convenience: never stop the dispatcher
                log.warning("index not written", extra={"event": "index-error", "day": str(day),
                            "error": f"{type(exc).__name__}: {exc}"})  # fmt: skip

    def _reap(self) -> None:
        """Every half minute: runs of other processes (the command line) that were killed
        are marked failed, so the runs page does not show them running for ever."""
        now = time.monotonic()
        if now - self._last_reap < 30.0:
            return
        self._last_reap = now
        for record_id in self.repo.reap():
            self._log_state(record_id, "?", "failed", "its process ended without finishing")

    def _dispatch(self) -> None:
        tasks = [j for j in self._inflight.values() if j.driver is None]
        drivers = [j for j in self._inflight.values() if j.driver is not None]
        free = self.capacity() - len(tasks)
        if free > 0:
            # a job handed to the executor stays queued until its worker reports: skip those
            queued = [
                e
                for e in self.repo.list(
                    status="queued",
                    origin="service",
                    kind=TASK_KINDS,
                    limit=free + len(self._suspects) + len(tasks) + 8,
                )
                if e.id not in self._inflight
            ]
            suspects = [e for e in queued if e.id in self._suspects]
            if suspects:  # a job that was running when a worker died runs alone
                if not tasks:
                    self._dispatch_task(suspects[0])
                return
            for entry in queued[:free]:
                self._dispatch_task(entry)
        free_drivers = self.config.drivers - len(drivers)
        if free_drivers > 0:
            for entry in self.repo.list(
                status="queued", origin="service", kind=DRIVER_KINDS, limit=free_drivers
            ):
                self._dispatch_driver(entry)

    def _job_folder(self, record_id: str) -> Path:
        folder = self.jobs_dir / record_id
        if folder.exists():  # an earlier attempt's progress and stop request
            shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _dispatch_task(self, entry: RunEntry) -> None:
        request = entry.request or {}
        folder = self._job_folder(entry.id)
        job: dict[str, Any] = {
            "id": entry.id,
            "kind": entry.kind,
            "request": request,
            "out": entry.out,
            "folder": str(folder),
            "service_dir": str(self.config.service_dir),
            "instance": self.instance,
            "reports": str(self.config.reports),
            "templates_dir": None
            if self.config.templates_dir is None
            else str(self.config.templates_dir),
        }
        if entry.kind == "montecarlo":
            source = self.repo.find(str(request.get("run")))
            if (
                source is None
                or source.status != "completed"
                or not adapter.folder_complete(source.out)
            ):
                self._finish(entry.id, entry.kind, {"status": "failed",
                             "error": f"run {request.get('run')} is not a completed backtest"})  # fmt: skip
                return
            job["source"] = source.out
        try:
            future = self._current().submit(run_job, job)
        except cf.BrokenExecutor:
            self._replace_broken_pool(self._generation)
            future = self._current().submit(run_job, job)
        flying = InFlight(entry.id, entry.kind, future, self._generation, folder)
        self._inflight[entry.id] = flying
        future.add_done_callback(functools.partial(self._on_done, entry.id))

    def _dispatch_driver(self, entry: RunEntry) -> None:
        if not self.repo.start(entry.id, owner=self.owner):
            return
        self._log_state(entry.id, entry.kind, "running")
        driver = Driver(TrackingExecutor(self._current, self.capacity))
        future: cf.Future[Any] = cf.Future()
        flying = InFlight(entry.id, entry.kind, future, self._generation,
                          self.jobs_dir / entry.id, started=True, driver=driver)  # fmt: skip
        self._inflight[entry.id] = flying
        future.add_done_callback(functools.partial(self._on_done, entry.id))

        def drive() -> None:
            try:
                future.set_result(self._drive(entry, driver))
            except BaseException as exc:  # pragma: no cover - _drive returns its errors
                future.set_exception(exc)

        threading.Thread(target=drive, name=f"driver-{entry.id}", daemon=True).start()

    def _drive(self, entry: RunEntry, driver: Driver) -> dict[str, Any]:
        job = entry.request or {}
        reports, templates_dir = self.config.reports, self.config.templates_dir
        try:
            if entry.kind == "grid":
                result = adapter.execute_grid(
                    job, record_id=entry.id, reports=reports, templates_dir=templates_dir,
                    executor=driver.executor, on_member=driver.check,
                )  # fmt: skip
            elif entry.kind == "walkforward":
                result = adapter.execute_walkforward(
                    job, record_id=entry.id, reports=reports, templates_dir=templates_dir,
                    executor=driver.executor, out=Path(str(entry.out)), on_window=driver.check,
                )  # fmt: skip
            else:
                result = adapter.execute_event_compare(
                    job, reports=reports, templates_dir=templates_dir,
                    events_dir=self.config.events_dir, executor=driver.executor,
                    out=Path(str(entry.out)),
                )  # fmt: skip
        except JobStopped as stop:
            return {"status": stop.action, "error": stop.reason}
        except Exception as exc:
            if driver.action is not None:
                return {"status": driver.action, "error": driver.reason}
            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            return {"status": "failed", "error": f"{type(exc).__name__}: {exc}\n\n{text}"}
        if driver.action is not None:
            return {"status": driver.action, "error": driver.reason}
        return {"status": "completed", **result}

    def _on_done(self, record_id: str, future: cf.Future[Any]) -> None:
        self._done.put((record_id, future))
        self._wake.set()

    # -- watching -------------------------------------------------------------------------------
    def _poll_progress(self) -> None:
        with self._lock:
            flying = [j for j in self._inflight.values() if j.driver is None]
        for job in flying:
            state = read_json(job.folder / PROGRESS_FILE)
            if not state:
                continue
            total = state.get("total")
            if not job.started:
                job.started = True
                started_at = state.get("started_at")
                if self.repo.start(job.id, owner=self.owner, total=total, started_at=started_at):
                    self._log_state(job.id, job.kind, "running")
                elif job.stop is None:  # cancelled while it was being handed over
                    with self._lock:
                        self._request_stop(job, "cancel", "cancelled by the client")
            done = state.get("done")
            if done is not None and done != job.done:
                job.done = done
                self.repo.progress(job.id, int(done), total)

    def _collect(self) -> None:
        while True:
            try:
                record_id, future = self._done.get_nowait()
            except queue.Empty:
                return
            with self._lock:
                job = self._inflight.pop(record_id, None)
            if job is None:
                continue
            self._settle(job, future)

    def _settle(self, job: InFlight, future: cf.Future[Any]) -> None:
        if future.cancelled():
            outcome = {"status": job.stop or "cancel", "error": "cancelled by the client"}
            if job.stop == "requeue":
                outcome["error"] = "server shutting down"
            self._finish(job.id, job.kind, outcome)
            return
        try:
            outcome = future.result()
        except cf.BrokenExecutor:
            self._worker_died(job)
            return
        except Exception as exc:  # e.g. Dask's KilledWorker, a job that cannot be pickled
            outcome = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
        self._suspects.discard(job.id)
        self._finish(job.id, job.kind, outcome)

    def _worker_died(self, job: InFlight) -> None:
        self._replace_broken_pool(job.generation)
        state = read_json(job.folder / PROGRESS_FILE)
        started = bool(state) or job.started
        if not started:  # never ran: back to the queue as it was
            self.repo.requeue(job.id)
            return
        if job.id in self._suspects:  # it ran alone and its worker died again
            self._suspects.discard(job.id)
            self._finish(job.id, job.kind, {"status": "failed", "error": WORKER_DIED})
            return
        self._suspects.add(job.id)
        self.repo.requeue(job.id)
        self._log_state(job.id, job.kind, "queued", "a worker died; the job runs again, alone")

    def _finish(self, record_id: str, kind: str, outcome: dict[str, Any]) -> None:
        status = outcome.get("status")
        error = outcome.get("error")
        if status == "completed":
            changed = self.repo.complete(
                record_id,
                manifest=outcome.get("manifest"),
                metrics=outcome.get("metrics"),
                out=outcome.get("out"),
                started_at=outcome.get("started_at"),
            )
        elif status in ("cancel", "cancelled"):
            changed = self.repo.cancel(record_id, str(error or "cancelled by the client"))
            status = "cancelled"
        elif status == "requeue":
            self.repo.requeue(record_id)
            changed, status = True, "queued"
        else:
            if status == "orphaned":
                error = SERVER_STOPPED
            changed = self.repo.fail(
                record_id,
                str(error or "failed"),
                manifest=outcome.get("manifest"),
                metrics=outcome.get("metrics"),
                out=outcome.get("out"),
                started_at=outcome.get("started_at"),
            )
            status = "failed"
        if changed:
            first = str(error).strip().splitlines()[0] if error else None
            self._log_state(record_id, kind, str(status), first)
            out = outcome.get("out")
            if out and kind in TASK_KINDS and status in ("completed", "failed"):
                self._dirty_days.add(Path(out).parent)
        if status != "queued":
            shutil.rmtree(self.jobs_dir / record_id, ignore_errors=True)

    # -- recovery -------------------------------------------------------------------------------
    def _recover(self) -> None:
        """What a killed server left: its running jobs failed ("server stopped"), except a
        backtest whose folder is complete (completed from it); members of a stopped grid are
        not left queued or running."""
        for entry in self.repo.list(status="running", origin="service"):
            if entry.kind == "single" and adapter.folder_complete(entry.out):
                manifest, metrics = adapter.read_result(str(entry.out))
                if self.repo.complete(entry.id, manifest=manifest, metrics=metrics):
                    self._log_state(entry.id, entry.kind, "completed", "recovered from its folder")
                continue
            if self.repo.fail(entry.id, SERVER_STOPPED):
                self._log_state(entry.id, entry.kind, "failed", SERVER_STOPPED)
            if entry.out:  # the temporary folder the killed worker was writing, if any
                out = Path(entry.out)
                for tmp in out.parent.glob(f".{out.name}.*.tmp") if out.parent.is_dir() else []:
                    shutil.rmtree(tmp, ignore_errors=True)
        for member in self.repo.list(status=ACTIVE, origin="grid"):
            try:
                parent = self.repo.get(str(member.parent))
            except UnknownRunError:
                continue
            if parent.origin == "service" and parent.final:
                self.repo.cancel(member.id, "the grid stopped before this run finished")
        for folder in self.jobs_dir.iterdir() if self.jobs_dir.is_dir() else []:
            shutil.rmtree(folder, ignore_errors=True)

    # -- logging --------------------------------------------------------------------------------
    def _log_state(self, record_id: str, kind: str, status: str, error: str | None = None) -> None:
        extra: dict[str, Any] = {"event": "job", "job": record_id, "kind": kind, "status": status}
        if error:
            extra["error"] = error
        log.info("job %s %s", record_id, status, extra=extra)
