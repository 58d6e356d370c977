"""Jobs survive the server: SIGKILL of the server during jobs, SIGTERM, a worker that dies.

Each test uses a real server process; "killed" is SIGKILL of the server process alone, so its
workers have to notice by themselves (they must not go on running jobs nobody will record).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from service_helpers import FINAL, Server, wait_for

from workbench.research.repository import RunRepository
from workbench.service.worker import PROGRESS_FILE, read_json

SLOW = "service_strategies:SlowStraddle"


def _submit(client: Any, body: dict[str, Any]) -> str:
    answer = client.post("/api/backtests", json=body)
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


def _worker_pid(server: Server, record_id: str) -> int:
    state = read_json(server.reports / "service" / "jobs" / record_id / PROGRESS_FILE)
    return int(state["pid"])


def _gone(pid: int, timeout: float = 120.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists() or "Z" in _state(pid):
            return True
        time.sleep(0.2)
    return False


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return "Z"


def test_kill_9_during_jobs_then_restart(server_factory: Any) -> None:
    server = server_factory("--workers", "2").start()
    client = server.client()
    slow = [
        _submit(client, {"strategy": SLOW, "data": "nifty", "params": {"delay": 5}})
        for _ in range(2)
    ]
    queued = [_submit(client, {"template": "short-straddle", "data": "nifty"}) for _ in range(2)]
    for record_id in slow:
        assert wait_for(client, f"/api/backtests/{record_id}", ("running",))["status"] == "running"
    workers = [_worker_pid(server, r) for r in slow]
    server.kill()
    # the workers notice the server is gone and exit: nothing runs a job nobody records
    assert all(_gone(pid) for pid in workers), workers
    repo = RunRepository(server.reports)
    assert [repo.get(r).status for r in slow] == ["running", "running"]  # as the kill left them
    assert [repo.get(r).status for r in queued] == ["queued", "queued"]

    server.start()  # same reports folder
    client = server.client()
    for record_id in slow:
        entry = client.get(f"/api/backtests/{record_id}").json()
        assert entry["status"] == "failed" and "server stopped" in entry["error"], entry
        out = Path(repo.get(record_id).out or "")
        assert not out.exists()  # nothing half-written, no temporary folder left
        assert not list(out.parent.glob(f".{out.name}*")) if out.parent.is_dir() else True
    for record_id in queued:  # queued jobs were not lost: they run after the restart
        assert wait_for(client, f"/api/backtests/{record_id}")["status"] == "completed"
    entries = {e.id: e for e in repo.list()}
    assert set(entries) == {*slow, *queued} and all(e.status in FINAL for e in entries.values())
    failed_lines = [
        x for x in server.log_lines() if x.get("event") == "job" and x.get("status") == "failed"
    ]
    assert {x["job"] for x in failed_lines} == set(slow)


def test_sigterm_stops_cleanly_and_requeues(server_factory: Any) -> None:
    server = server_factory("--workers", "1").start()
    client = server.client()
    running = _submit(client, {"strategy": SLOW, "data": "nifty", "params": {"delay": 2}})
    waiting = _submit(client, {"template": "short-straddle", "data": "nifty"})
    assert wait_for(client, f"/api/backtests/{running}", ("running",))["status"] == "running"
    worker = _worker_pid(server, running)
    # a clean exit (uvicorn re-raises the signal once the shutdown is complete)
    assert server.stop() in (0, -signal.SIGTERM)
    assert _gone(worker)
    repo = RunRepository(server.reports)
    # the running job stopped after its day and went back to the queue; the queued one stayed
    assert repo.get(running).status == "queued" and repo.get(running).started_at is None
    assert repo.get(waiting).status == "queued"
    events = [x.get("event") for x in server.log_lines()]
    assert "shutdown" in events and "stopped" in events
    server.start()
    client = server.client()
    for record_id in (running, waiting):
        assert wait_for(client, f"/api/backtests/{record_id}")["status"] == "completed"


def test_a_worker_that_dies_fails_its_own_job_only(server_factory: Any) -> None:
    server = server_factory("--workers", "2").start()
    client = server.client()
    killer = _submit(client, {"strategy": "service_strategies:WorkerKiller", "data": "nifty"})
    others = [
        _submit(
            client,
            {
                "template": "short-straddle",
                "data": "nifty",
                "params": {"stop_loss_pct": 0.2 + i / 10},
            },
        )
        for i in range(3)
    ]
    died = wait_for(client, f"/api/backtests/{killer}")
    assert died["status"] == "failed" and "worker process died" in died["error"], died
    for record_id in others:
        assert wait_for(client, f"/api/backtests/{record_id}")["status"] == "completed"
    # the service still takes work afterwards
    after = _submit(client, {"template": "short-straddle", "data": "nifty"})
    assert wait_for(client, f"/api/backtests/{after}")["status"] == "completed"
    lines = server.log_lines()
    assert any(x.get("event") == "pool-replaced" for x in lines)  # a new pool took over
    retried = [x for x in lines if x.get("event") == "job" and x.get("status") == "queued"
               and "runs again, alone" in x.get("error", "")]  # fmt: skip
    assert killer in {x["job"] for x in retried}
    assert os.path.isdir(server.reports)
