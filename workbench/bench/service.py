"""Benchmark ``service``: 50 concurrent backtest submissions to ``workbench serve`` on 2 workers.

A real server (``python -m workbench serve --workers 2``) in a subprocess on a free port, on a
reports folder of its own; data: the synthetic NIFTY-like market (``nifty-intraday``, seed 3,
3 days from 2024-01-02; quick: 10 submissions). Each submission is the ``short-straddle``
template with its own ``stop_loss_pct`` (so 50 different runs, each writing its folder and
tearsheet), all sent at once from an asyncio httpx client.

Figures: ``submissions_per_s`` (submissions answered 202 per second of the burst),
``completion_s_p50/p95/max`` (per job, from the server's ``created_at`` to its ``finished_at``:
queueing included), ``wall_s`` (first submission to the last job final), ``jobs_completed``.
Baselines, in the same run: the same backtests made directly with ``run_template`` on a local
pool of 2 processes (``direct_pool_s``, measured just before the service) and one after the
other in one process (``direct_serial_s``). Headline ratio ``direct_pool_s / wall_s``: 1.0
means the service adds nothing to the same work on the same 2 workers (HTTP, queue, records,
progress files). The machine is shared: the 1-minute load average is reported beside them.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

FINAL = ("completed", "failed", "cancelled")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bodies(n: int) -> list[dict[str, Any]]:
    """``n`` different small backtests of the short-straddle template on ``nifty``."""
    return [
        {"template": "short-straddle", "data": "nifty",
         "params": {"stop_loss_pct": round(0.2 + 0.01 * i, 4)}}
        for i in range(n)
    ]  # fmt: skip


async def _drive(url: str, requests: list[dict[str, Any]], timeout: float) -> dict[str, Any]:
    import httpx

    async with httpx.AsyncClient(base_url=url, timeout=300) as client:
        started = time.perf_counter()

        async def submit(body: dict[str, Any]) -> str:
            answer = await client.post("/api/backtests", json=body)
            if answer.status_code != 202:
                raise RuntimeError(f"submission refused ({answer.status_code}): {answer.text}")
            return str(answer.json()["id"])

        ids = await asyncio.gather(*(submit(b) for b in requests))
        submitted = time.perf_counter() - started
        pending = set(ids)
        found: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + timeout
        while pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(pending)} jobs not final after {timeout} s")
            await asyncio.sleep(0.25)
            listing = (
                await client.get("/api/runs", params={"kind": "single", "limit": 1000})
            ).json()
            for run in listing["runs"]:
                if run["id"] in pending and run["status"] in FINAL:
                    pending.discard(run["id"])
                    found[run["id"]] = run
        wall = time.perf_counter() - started
    return {"ids": ids, "runs": found, "submitted_s": submitted, "wall_s": wall}


def load(url: str, requests: list[dict[str, Any]], *, timeout: float = 1800.0) -> dict[str, Any]:
    """Submit ``requests`` all at once to the server at ``url`` and wait for every job.

    Returns ``ids`` (in submission order), ``runs`` (id -> the final ``/api/runs`` entry) and
    the figures ``submissions_per_s``, ``completion_s_p50/p95/max``, ``wall_s``."""
    import numpy as np

    outcome = asyncio.run(_drive(url, requests, timeout))
    completion = []
    for run in outcome["runs"].values():
        created = datetime.fromisoformat(run["created_at"])
        finished = datetime.fromisoformat(run["finished_at"])
        completion.append((finished - created).total_seconds())
    values = np.array(completion)
    outcome["figures"] = {
        "submissions": len(requests),
        "submissions_per_s": len(requests) / outcome["submitted_s"],
        "completion_s_p50": float(np.percentile(values, 50)),
        "completion_s_p95": float(np.percentile(values, 95)),
        "completion_s_max": float(values.max()),
        "wall_s": outcome["wall_s"],
        "jobs_completed": sum(r["status"] == "completed" for r in outcome["runs"].values()),
    }
    return outcome


class ServedWorkbench:
    """``python -m workbench serve`` in a subprocess on a free port (a context manager)."""

    def __init__(self, reports: Path, data_root: Path, *args: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [
            sys.executable, "-m", "workbench", "serve", "--port", str(self.port),
            "--reports", str(reports), "--data-root", str(data_root), "--rate-limit", "100000",
            *args,
        ]  # fmt: skip
        self.log = reports.parent / f"serve-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ServedWorkbench:
        import httpx

        with open(self.log, "wb") as handle:
            self.proc = subprocess.Popen(
                self.command, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()}")
            try:
                if httpx.get(self.url + "/health", timeout=5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server did not start: {self.log.read_text()}")

    def __exit__(self, *_: Any) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def _direct(args: tuple[str, dict[str, Any], str, str, str]) -> None:
    from workbench.research.runs import run_template

    template, params, data, out, refs = args
    run_template(template, data=data, out=out, overrides=params, refs_dir=refs, executor="serial")


def run(quick: bool = False) -> dict[str, Any]:
    from workbench.data.synth import generate
    from workbench.research.runs import run_template

    n = 10 if quick else 50
    with tempfile.TemporaryDirectory(prefix="workbench-bench-service-") as tmp:
        root = Path(tmp)
        data_root = root / "data"
        generate("nifty-intraday", data_root / "nifty", seed=3, start="2024-01-02", days=3,
                 progress=False, workers=1)  # fmt: skip
        requests = bodies(n)
        # baseline: the same backtests, one after the other, in this process (after a warm-up)
        run_template("short-straddle", data=data_root / "nifty", out=root / "warm",
                     refs_dir=root / "direct-reports", executor="serial")  # fmt: skip
        started = time.perf_counter()
        for i, body in enumerate(requests):
            run_template(body["template"], data=data_root / "nifty", out=root / f"direct-{i}",
                         overrides=body["params"], refs_dir=root / "direct-reports",
                         executor="serial")  # fmt: skip
        direct = time.perf_counter() - started
        import concurrent.futures as cf

        from workbench.service.jobs import pool_context

        jobs = [
            (b["template"], b["params"], str(data_root / "nifty"), str(root / f"pool-{i}"),
             str(root / "direct-reports"))
            for i, b in enumerate(requests)
        ]  # fmt: skip
        with cf.ProcessPoolExecutor(max_workers=2, mp_context=pool_context()) as pool:
            list(pool.map(_direct, jobs[:2]))  # workers started and warm, as the service's
            started = time.perf_counter()
            list(pool.map(_direct, jobs))
            pooled = time.perf_counter() - started
        with ServedWorkbench(root / "reports", data_root, "--workers", "2") as server:
            # two jobs first, so the timed burst does not include the workers' start
            load(server.url, bodies(2))
            outcome = load(server.url, requests)
        figures = dict(outcome["figures"])
    figures["direct_pool_s"] = pooled
    figures["direct_serial_s"] = direct
    figures["load_avg_1m"] = os.getloadavg()[0]
    return {
        "benchmark": "service",
        "ratio": pooled / figures["wall_s"],
        "baseline": f"the same {n} backtests made directly on a local pool of 2 processes",
        "figures": figures,
    }
