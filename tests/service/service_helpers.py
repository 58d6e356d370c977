"""Test helpers: a real ``workbench serve`` in a subprocess on a free port, talked to with httpx.

:class:`Server` starts the command line (``python -m workbench serve``) with a reports folder of
the test's own, the test dataset's folder as the one data root and ``service_strategies`` as the
allowed strategy module; it waits for ``/health``, and on teardown kills whatever of its process
group is left (a test may already have stopped or killed it).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
FINAL = ("completed", "failed", "cancelled")
#: generous: the suite must pass on a loaded 2-core machine (these bound a wait, not a speed)
START_TIMEOUT_S = 180.0
JOB_TIMEOUT_S = 600.0
STRADDLE = "workbench.strategies.short_straddle:IntradayShortStraddle"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """One ``workbench serve`` process (restartable on the same reports folder)."""

    def __init__(
        self, root: Path, data_root: Path, *args: str, env: dict[str, str] | None = None
    ) -> None:
        self.root = root
        self.reports = root / "reports"
        self.data_root = data_root
        self.args = list(args)
        self.env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.starts = 0
        self.logs: list[Path] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *extra: str) -> Server:
        self.port = free_port()
        self.starts += 1
        log = self.root / f"server-{self.starts}.log"
        self.logs.append(log)
        env = {**os.environ, **self.env}
        env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")]).rstrip(
            os.pathsep
        )
        command = [
            sys.executable, "-m", "workbench", "serve", "--port", str(self.port),
            "--reports", str(self.reports), "--data-root", str(self.data_root),
            *self.args, *extra,
        ]  # fmt: skip
        if "--strategies" not in command:
            command += ["--strategies", "service_strategies", "workbench.strategies.short_straddle"]
        with open(log, "wb") as handle:
            self.proc = subprocess.Popen(
                command, cwd=REPO, env=env, stdout=handle, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited ({self.proc.returncode}):\n{log.read_text()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server did not answer /health:\n{log.read_text()}")

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, timeout=120, headers=headers)

    def stop(self) -> int:
        """SIGTERM and wait for a clean exit; returns the exit code."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=180)

    def kill(self) -> None:
        """SIGKILL the server process alone (its workers must notice by themselves)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=60)

    def cleanup(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=30)

    def log_lines(self) -> list[dict[str, Any]]:
        """Every JSON log line of every start (lines that are not JSON are skipped)."""
        lines = []
        for log in self.logs:
            for line in log.read_text().splitlines():
                try:
                    lines.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return lines


def wait_for(
    client: httpx.Client,
    path: str,
    statuses: tuple[str, ...] = FINAL,
    timeout: float = JOB_TIMEOUT_S,
) -> dict[str, Any]:
    """Poll ``path`` until its ``status`` is one of ``statuses``; returns the last answer."""
    deadline = time.monotonic() + timeout
    while True:
        answer = client.get(path)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        if body["status"] in statuses:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} still {body['status']} after {timeout} s: {body}")
        time.sleep(0.2)
