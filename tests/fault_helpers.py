"""Real subprocesses for the fault tests: start a ``workbench`` command, pause it at a named
point (:mod:`workbench.data.faults`), kill it with SIGKILL, look at its process tree.

Waits are bounded polls that fail only when nothing happens for minutes (a command that neither
reaches its pause point nor exits), never timing assertions.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from workbench.data.faults import FLAG_ENV, PAUSE_ENV

#: Longest wait for a command to reach a pause point or a condition (a bound, not a timing).
PATIENCE_SECONDS = 300.0


@dataclass
class Command:
    """A ``python -m workbench ...`` subprocess with its output files and pause flag."""

    proc: subprocess.Popen[bytes]
    flag: Path
    stdout: Path
    stderr: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def out(self) -> str:
        return self.stdout.read_text()

    def err(self) -> str:
        return self.stderr.read_text()

    def wait_paused(self) -> str:
        """Wait until the command pauses; return the point's name (fails if it exits first)."""
        until(
            lambda: self.flag.exists() or self.proc.poll() is not None,
            f"{self.proc.args} to pause",
        )
        assert self.flag.exists(), (
            f"exited with {self.proc.returncode} before pausing:\n{self.err()}"
        )
        return self.flag.read_text().split()[0]

    def resume(self) -> None:
        self.flag.unlink()

    def kill(self) -> None:
        """SIGKILL the command; one that already exited (and was reaped by a poll) is left as
        it is -- a kill that lands after the end is a legitimate outcome of a race test."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def finish(self) -> int:
        """Wait for the command to exit (bounded); its exit status."""
        until(lambda: self.proc.poll() is not None, f"{self.proc.args} to exit")
        return int(self.proc.returncode)


def until(condition: Callable[[], bool], what: str, patience: float = PATIENCE_SECONDS) -> None:
    """Poll ``condition`` every 50 ms; fail naming ``what`` after ``patience`` seconds."""
    deadline = time.monotonic() + patience
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what} after {patience:.0f} s")
        time.sleep(0.05)


def start(
    args: Sequence[str],
    tmp: Path,
    *,
    pause: str | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    tag: str = "cmd",
) -> Command:
    """Start ``python -m workbench <args>``, pausing at ``pause`` when given."""
    flag = tmp / f"{tag}.paused"
    stdout, stderr = tmp / f"{tag}.out", tmp / f"{tag}.err"
    environment = {**os.environ, **(env or {})}
    environment.pop(PAUSE_ENV, None)
    if pause is not None:
        environment[PAUSE_ENV] = pause
        environment[FLAG_ENV] = str(flag)
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "workbench", *args],
            cwd=cwd or tmp,
            env=environment,
            stdout=out,
            stderr=err,
        )
    return Command(proc, flag, stdout, stderr)


def children(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (Linux ``/proc``), recursively."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
    out: list[int] = []
    frontier = [pid]
    while frontier:
        current = frontier.pop()
        for child, parent in parents.items():
            if parent == current and child not in out:
                out.append(child)
                frontier.append(child)
    return out


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting to be reaped counts as dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2 :].split()[0] != "Z"
