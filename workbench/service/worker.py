"""What runs in a worker (a process of the pool, or a Dask worker): one job, start to end.

The server and its workers talk through a job's folder ``<reports>/service/jobs/<id>/``, so the
same code serves a local pool and a Dask cluster (whose workers see the reports folder at the
same path):

- the worker writes ``progress.json`` (its pid and host, when it started, days done of the
  total) -- atomically, at most every half second and at the end;
- the server writes ``stop.json`` to stop a job (``{"action": "cancel" | "requeue"}``); the
  worker sees it at its next progress report (between two days) and stops there;
- the server writes ``<reports>/service/server.json`` (its instance id and a heartbeat every
  few seconds): a job of another instance, or of a server whose heartbeat stopped, stops
  itself -- a Dask task never outlives the server that queued it by more than
  :data:`HEARTBEAT_STALE_S`.

A local pool's workers also watch the server process: when it dies (even by SIGKILL) they exit
within a second, so nothing is left running.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from workbench.service import adapter

PROGRESS_FILE = "progress.json"
STOP_FILE = "stop.json"
SERVER_FILE = "server.json"
PROGRESS_EVERY_S = 0.5
SERVER_CHECK_EVERY_S = 2.0
#: A worker stops a job when the server's heartbeat is older than this (seconds).
HEARTBEAT_STALE_S = 120.0


class JobStopped(Exception):
    """Raised inside a job (from its progress report) to stop it: ``action`` is ``cancel``,
    ``requeue`` or ``orphaned``."""

    def __init__(self, action: str, reason: str) -> None:
        super().__init__(reason)
        self.action = action
        self.reason = reason


def write_json(path: Path, document: Mapping[str, Any]) -> None:
    """Replace ``path`` with ``document`` atomically (a reader sees the old or the new)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(document, default=str))
    os.replace(tmp, path)


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class JobChannel:
    """The worker's side of a job's folder: progress out, stop requests in."""

    def __init__(self, folder: Path, service_dir: Path, instance: str) -> None:
        self.folder = Path(folder)
        self.service_dir = Path(service_dir)
        self.instance = instance
        self.state: dict[str, Any] = {}
        self._last_write = 0.0
        self._last_server_check = 0.0

    def started(self) -> None:
        self.state = {
            "state": "running",
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": _now(),
            "done": 0,
            "total": None,
        }
        self.folder.mkdir(parents=True, exist_ok=True)
        write_json(self.folder / PROGRESS_FILE, self.state)
        self.check(force=True)

    def progress(self, done: int, total: int) -> None:
        """The engine's progress report (days done of the total); stops the job if asked."""
        self.state.update(done=int(done), total=int(total))
        now = time.monotonic()
        if now - self._last_write >= PROGRESS_EVERY_S or done >= total:
            self._last_write = now
            write_json(self.folder / PROGRESS_FILE, self.state)
        self.check()

    def check(self, *, force: bool = False) -> None:
        stop = read_json(self.folder / STOP_FILE)
        if stop:
            raise JobStopped(str(stop.get("action", "cancel")), str(stop.get("reason", "stopped")))
        now = time.monotonic()
        if force or now - self._last_server_check >= SERVER_CHECK_EVERY_S:
            self._last_server_check = now
            server = read_json(self.service_dir / SERVER_FILE)
            if server.get("instance") != self.instance:
                raise JobStopped("orphaned", "server stopped (another server instance runs now)")
            beat = server.get("heartbeat")
            if isinstance(beat, int | float) and time.time() - beat > HEARTBEAT_STALE_S:
                raise JobStopped("orphaned", "server stopped (no heartbeat)")


def _now() -> str:
    from workbench.research.repository import now_utc

    return now_utc()


def run_job(job: Mapping[str, Any]) -> dict[str, Any]:
    """Run one queued job (a backtest or a Monte Carlo) and return its outcome; never raises
    for the job's own failure: ``{"status": "completed" | "failed" | "cancelled" | "requeue" |
    "orphaned", "error", "out", "manifest", "metrics", "started_at"}``."""
    channel = JobChannel(Path(job["folder"]), Path(job["service_dir"]), job["instance"])
    outcome: dict[str, Any] = {"status": "failed", "error": None}
    try:
        channel.started()
        outcome["started_at"] = channel.state.get("started_at")
        if job["kind"] == "single":
            result = adapter.execute_backtest(
                job["request"],
                out=Path(job["out"]),
                reports=Path(job["reports"]),
                templates_dir=Path(job["templates_dir"]) if job.get("templates_dir") else None,
                progress=channel.progress,
            )
        elif job["kind"] == "montecarlo":
            result = adapter.execute_montecarlo(
                job["request"],
                source=Path(job["source"]),
                capital=job["request"].get("capital"),
                out=Path(job["out"]),
            )
        else:
            raise ValueError(f"a worker runs backtests and Monte Carlo jobs, not {job['kind']!r}")
        outcome.update(
            status="completed", **{k: result.get(k) for k in ("out", "manifest", "metrics")}
        )
        failed_days = int((result.get("metrics") or {}).get("days_failed") or 0)
        if failed_days:
            outcome.update(
                status="failed", error=f"{failed_days} day(s) failed (days.csv has each error)"
            )
    except JobStopped as stop:
        outcome.update(status=stop.action, error=stop.reason)
    except Exception as exc:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        outcome.update(status="failed", error=f"{type(exc).__name__}: {exc}\n\n{text}")
    finally:
        channel.state["state"] = "finished"
        with contextlib.suppress(OSError):
            write_json(channel.folder / PROGRESS_FILE, channel.state)
    return outcome


def watch_server(owner: str, interval: float = 1.0) -> None:
    """Pool initializer: exit this worker within ``interval`` seconds of the server's end
    (``owner``: the server's ``host:pid:start``), even a SIGKILL: nothing is left running a
    job nobody will record."""
    from workbench.research.repository import owner_alive

    def watch() -> None:
        while True:
            time.sleep(interval)
            if owner_alive(owner) is False:
                os._exit(3)

    threading.Thread(target=watch, name="watch-server", daemon=True).start()
