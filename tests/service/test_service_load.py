"""Load: 50 concurrent backtest submissions against a server with 2 workers.

Every job completes, every record is in the run repository with its manifest, and every
tradebook equals, byte for byte, the same run made directly with ``run_backtest``. The figures
(submissions per second, p95 time to completion) are printed and written to
``$WORKBENCH_SCREENSHOT_DIR/service-load.json`` when that is set; ``python -m workbench.bench
service`` measures them against a same-run baseline.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from service_helpers import Server

from workbench import run_backtest
from workbench.bench.service import bodies, load
from workbench.research.repository import RunRepository
from workbench.research.templates import TemplateRepository

pytestmark = pytest.mark.slow


def test_fifty_concurrent_submissions_on_two_workers(
    server: Server, data_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    requests = bodies(50)
    outcome = load(server.url, requests, timeout=3600)
    figures = outcome["figures"]
    assert figures["jobs_completed"] == 50, {
        i: r["error"] for i, r in outcome["runs"].items() if r["error"]
    }

    repo = RunRepository(server.reports)
    entries = {e.id: e for e in repo.list(kind="single")}
    assert set(entries) == set(outcome["ids"])  # every submission is a record
    assert all(e.status == "completed" and e.manifest and e.metrics for e in entries.values())

    template = TemplateRepository().get("short-straddle")
    for record_id, body in zip(outcome["ids"], requests, strict=True):
        entry = entries[record_id]
        direct = run_backtest(
            template.strategy,
            data=data_root / "nifty",
            params=template.resolved_params(body["params"]),
            executor="serial",
            progress=False,
        )
        assert entry.run_id == direct.run_id
        direct.save(tmp_path / record_id)
        served = Path(entry.out or "") / "tradebook.parquet"
        assert served.read_bytes() == (tmp_path / record_id / "tradebook.parquet").read_bytes()
        assert entry.metrics is not None
        assert entry.metrics["total_pnl"] == pytest.approx(direct.metrics["total_pnl"], abs=1e-9)

    shown = {k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}
    with capsys.disabled():
        print(f"\nservice load, 50 submissions, 2 workers: {json.dumps(shown)}")
    out_dir = os.environ.get("WORKBENCH_SCREENSHOT_DIR")
    if out_dir:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        (Path(out_dir) / "service-load.json").write_text(json.dumps(shown, indent=2))
