"""The run repository: lifecycle, filters, several processes at once, SIGKILL mid-write."""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import warnings
from datetime import date
from pathlib import Path

import pytest

from workbench.research.database import database_path
from workbench.research.repository import (
    RunRecorder,
    RunRepository,
    UnknownRunError,
    check_record_id,
    owner_alive,
    this_process,
)


def test_lifecycle_and_final_records_never_change(tmp_path: Path) -> None:
    repo = RunRepository(tmp_path)
    rid = repo.create("single", origin="test", template="t@1", data=tmp_path, request={"a": 1})
    entry = repo.get(rid)
    assert (entry.status, entry.started_at, entry.finished_at) == ("queued", None, None)
    assert entry.request == {"a": 1} and entry.data == str(tmp_path)
    assert repo.requeue(rid) is False  # only a running record goes back to the queue
    assert repo.start(rid, total=5)
    assert repo.start(rid) is False  # already running
    assert repo.progress(rid, 2, 5)
    entry = repo.get(rid)
    assert (entry.status, entry.progress_done, entry.progress_total) == ("running", 2, 5)
    manifest = {"run_id": "abc", "start": date(2024, 1, 2), "x": math.nan}
    assert repo.complete(rid, manifest=manifest, metrics={"total_pnl": 1.5, "sharpe": math.inf})
    entry = repo.get(rid)
    assert entry.status == "completed" and entry.final and entry.run_id == "abc"
    assert entry.manifest == {"run_id": "abc", "start": "2024-01-02", "x": None}
    assert entry.metrics == {"total_pnl": 1.5, "sharpe": None}
    assert entry.progress_done == 5  # completed: all of it
    assert entry.started_at <= entry.finished_at  # type: ignore[operator]
    # a final record never changes
    assert repo.fail(rid, "late") is False
    assert repo.cancel(rid) is False
    assert repo.complete(rid, metrics={}) is False
    assert repo.progress(rid, 1, 5) is False
    assert repo.get(rid).metrics == {"total_pnl": 1.5, "sharpe": None}
    failing = repo.create("single", origin="test", status="running")
    assert repo.fail(failing, "ValueError: bad day\n\ntraceback...")
    assert repo.get(failing).error == "ValueError: bad day\n\ntraceback..."
    with pytest.raises(ValueError, match="kind"):
        repo.create("bogus", origin="test")
    with pytest.raises(ValueError, match="queued or running"):
        repo.create("single", origin="test", status="completed")
    with pytest.raises(UnknownRunError, match="no run"):
        repo.get("20990101-000000-00000000")


def test_filters_and_counts(tmp_path: Path) -> None:
    repo = RunRepository(tmp_path)
    day = tmp_path / "2026-01-02"
    a = repo.create("single", origin="cli", template="short-straddle@1", out=day / "a")
    b = repo.create("grid", origin="cli", template="short-straddle@2", out=day)
    c = repo.create(
        "grid-member", origin="grid", parent=b, template="short_straddle@2", out=day / "c"
    )
    d = repo.create("single", origin="service", strategy="m:C", out=day / "sub" / "d")
    repo.start(a)
    repo.complete(a)
    repo.start(c)
    repo.fail(c, "boom")
    assert [e.id for e in repo.list()] == [a, b, c, d]
    assert [e.id for e in repo.list(newest_first=True, limit=2)] == [d, c]
    assert [e.id for e in repo.list(kind="single")] == [a, d]
    assert [e.id for e in repo.list(kind=["grid", "grid-member"])] == [b, c]
    assert [e.id for e in repo.list(status="failed")] == [c]
    assert [e.id for e in repo.list(status=("queued", "completed"))] == [a, b, d]
    # a name matches every version; name@version one; '_' and '%' are not wildcards
    assert [e.id for e in repo.list(template="short-straddle")] == [a, b]
    assert [e.id for e in repo.list(template="short-straddle@2")] == [b]
    assert [e.id for e in repo.list(template="short_straddle")] == [c]
    assert [e.id for e in repo.list(template="short%")] == []
    assert [e.id for e in repo.list(parent=b)] == [c]
    assert [e.id for e in repo.list(origin="service")] == [d]
    assert [e.id for e in repo.list(out_under=day)] == [a, c]  # directly inside only
    assert repo.counts() == {"queued": 2, "running": 0, "completed": 1, "failed": 1, "cancelled": 0}
    assert repo.counts(origin="service")["queued"] == 1
    with pytest.raises(ValueError, match="status 'done'"):
        repo.list(status="done")
    with pytest.raises(ValueError, match="limit"):
        repo.list(limit=0)


def test_record_ids_are_checked_before_they_become_paths() -> None:
    assert check_record_id("20260102-030405-0a1b2c3d") == "20260102-030405-0a1b2c3d"
    for bad in ("../etc", "20260102-030405-0A1B2C3D", "20260102-030405-0a1b2c3d/..", "", "x" * 24):
        with pytest.raises(ValueError, match="not a record id"):
            check_record_id(bad)


def test_reading_never_creates_the_file(tmp_path: Path) -> None:
    repo = RunRepository(tmp_path / "reports")
    assert repo.list() == [] and repo.find("20260102-030405-0a1b2c3d") is None
    assert repo.counts()["queued"] == 0
    assert not (tmp_path / "reports").exists()


def test_a_repository_created_while_another_connection_writes_waits_for_it(
    tmp_path: Path,
) -> None:
    # Switching a file to write-ahead logging needs an exclusive lock, and SQLite returns
    # "database is locked" at once (no busy wait) while another connection holds a write
    # lock: the repository waits for the writer and is created after it, as a writer does.
    import threading

    path = database_path(tmp_path)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        conn = sqlite3.connect(str(path), isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")  # a rollback-journal file with a pending write
        holding.set()
        release.wait(10)
        time.sleep(0.5)
        conn.execute("COMMIT")
        conn.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(10)
        release.set()
        repo = RunRepository(tmp_path)
        rid = repo.create("single", origin="after-writer", request={})
    finally:
        release.set()
        holder.join()
    assert [e.id for e in repo.list()] == [rid]
    with sqlite3.connect(str(path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def _writer(reports: str, n: int, tag: str) -> None:
    repo = RunRepository(reports)
    for i in range(n):
        rid = repo.create("single", origin=tag, request={"i": i})
        repo.start(rid)
        repo.complete(rid, metrics={"i": i})


def test_two_processes_write_at_once_and_readers_are_never_blocked(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    writers = [ctx.Process(target=_writer, args=(str(tmp_path), 60, f"p{k}")) for k in range(2)]
    for process in writers:
        process.start()
    repo = RunRepository(tmp_path)
    seen = []
    while any(p.is_alive() for p in writers):
        seen.append(len(repo.list()))  # reads while both processes write
        time.sleep(0.01)
    for process in writers:
        process.join()
        assert process.exitcode == 0
    entries = repo.list()
    assert len(entries) == 120 and all(e.status == "completed" for e in entries)
    assert sorted(e.metrics["i"] for e in entries if e.origin == "p0") == list(range(60))  # type: ignore[index]
    assert seen == sorted(seen)  # a reader never sees a record disappear


KILLED_WRITER = textwrap.dedent(
    """
    import sys
    from workbench.research.repository import RunRepository
    repo = RunRepository(sys.argv[1])
    print("ready", flush=True)
    i = 0
    while True:
        rid = repo.create("single", origin="killed", request={"i": i}, status="running")
        repo.progress(rid, 1, 2)
        repo.complete(rid, manifest={"run_id": str(i)}, metrics={"total_pnl": float(i)})
        i += 1
    """
)


@pytest.mark.parametrize("delay", [0.05, 0.3, 0.9])
def test_sigkill_while_writing_leaves_only_whole_records(tmp_path: Path, delay: float) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(database_path(tmp_path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    repo = RunRepository(tmp_path)
    entries = repo.list()
    for entry in entries:  # each write is a transaction: all of it or none of it
        if entry.status == "completed":
            assert entry.manifest == {"run_id": str(entry.request["i"])}  # type: ignore[index]
            assert entry.metrics == {"total_pnl": float(entry.request["i"])}  # type: ignore[index]
            assert entry.finished_at is not None and entry.progress_done == 2
        else:
            assert entry.status == "running" and entry.manifest is None
    assert sum(e.status == "running" for e in entries) <= 1
    # the killed process is gone: its running record is failed by the reaper
    reaped = repo.reap()
    assert len(reaped) == sum(e.status == "running" for e in entries)
    assert all("ended without finishing" in (repo.get(r).error or "") for r in reaped)
    repo.create("single", origin="after")  # and the file takes writes again


def test_reap_only_fails_records_of_dead_processes(tmp_path: Path) -> None:
    repo = RunRepository(tmp_path)
    gone = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    owner = f"{this_process().split(':')[0]}:{gone.pid}:"
    gone.kill()
    gone.wait()
    assert owner_alive(owner) is False
    assert owner_alive(this_process()) is True
    assert owner_alive("another-host:1:1") is None
    dead = repo.create("single", origin="cli", status="running", owner=owner)
    alive = repo.create("single", origin="cli", status="running")
    remote = repo.create("single", origin="cli", status="running", owner="another-host:1:1")
    assert repo.reap() == [dead]
    assert repo.get(dead).status == "failed" and f"process {gone.pid}" in (
        repo.get(dead).error or ""
    )
    assert repo.get(alive).status == "running" and repo.get(remote).status == "running"
    # pid reuse: the same pid with another start time is another process
    reused = f"{this_process().rsplit(':', 1)[0]}:1"
    assert owner_alive(reused) is False


def test_recorder_records_errors_interrupts_and_never_stops_a_run(tmp_path: Path) -> None:
    with RunRecorder.open(tmp_path, "single", origin="cli") as ok:
        ok.update(run_id="r1")
    assert RunRepository(tmp_path).get(str(ok.id)).status == "completed"
    with (
        pytest.raises(ValueError, match="bad"),
        RunRecorder.open(tmp_path, "single", origin="cli") as rec,
    ):
        raise ValueError("bad")
    assert RunRepository(tmp_path).get(str(rec.id)).error == "ValueError: bad"
    with (
        pytest.raises(KeyboardInterrupt),
        RunRecorder.open(tmp_path, "single", origin="cli") as rec,
    ):
        raise KeyboardInterrupt
    assert RunRepository(tmp_path).get(str(rec.id)).status == "cancelled"
    # a reports "folder" that is a file: the run goes on, one warning says it is not recorded
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("x")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with RunRecorder.open(blocked, "single", origin="cli") as rec:
            done = True
    assert done and rec.id is None
    assert any("not recorded" in str(w.message) for w in caught)
    assert os.path.isfile(blocked)
