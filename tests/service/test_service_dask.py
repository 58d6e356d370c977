"""The same flow with ``--dask``: jobs on a local Dask cluster the test starts.

The cluster's workers are separate processes that see the reports and data folders at the same
paths (as a real cluster on a shared file system must).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from service_helpers import STRADDLE, wait_for

from workbench import run_backtest
from workbench.research.repository import RunRepository

pytestmark = pytest.mark.slow


@pytest.fixture
def cluster() -> Any:
    from dask.distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as local:
        yield local


def test_flow_on_a_dask_cluster(
    cluster: Any, server_factory: Any, data_root: Path, tmp_path: Path
) -> None:
    server = server_factory("--dask", cluster.scheduler_address).start()
    client = server.client()
    health = client.get("/health").json()
    assert health["executor"] == "dask" and health["workers"] == 2

    answer = client.post(
        "/api/backtests", json={"strategy": STRADDLE, "data": "nifty", "params": {"qty": 3}}
    )
    assert answer.status_code == 202
    record_id = answer.json()["id"]
    done = wait_for(client, f"/api/backtests/{record_id}")
    assert done["status"] == "completed", done
    assert done["progress"] == {"done": 3, "total": 3}
    direct = run_backtest(
        STRADDLE, data=data_root / "nifty", params={"qty": 3}, executor="serial", progress=False
    )
    direct.save(tmp_path / "direct")
    assert done["run_id"] == direct.run_id
    served = client.get(f"/api/backtests/{record_id}/tradebook")
    assert served.content == (tmp_path / "direct" / "tradebook.parquet").read_bytes()
    assert client.get(f"/api/backtests/{record_id}/tearsheet").status_code == 200

    # a running job on a Dask worker stops when cancelled
    slow = client.post("/api/backtests", json={"strategy": "service_strategies:SlowStraddle", "data": "nifty",
                                               "params": {"delay": 3}}).json()["id"]  # fmt: skip
    assert wait_for(client, f"/api/backtests/{slow}", ("running",))["status"] == "running"
    assert client.delete(f"/api/backtests/{slow}").json()["status"] == "cancelling"
    assert wait_for(client, f"/api/backtests/{slow}")["status"] == "cancelled"

    # a grid spreads its members over the cluster; a Monte Carlo runs there too
    grid = client.post("/api/grids", json={"template": "short-straddle", "data": "nifty",
                                           "grid": {"stop_loss_pct": [0.25, 0.5]}}).json()["id"]  # fmt: skip
    mc = client.post("/api/montecarlo", json={"run": record_id, "paths": 100}).json()["id"]
    finished = wait_for(client, f"/api/grids/{grid}")
    assert (
        finished["status"] == "completed"
        and [m["status"] for m in finished["members"]] == ["completed"] * 2
    )
    assert wait_for(client, f"/api/montecarlo/{mc}")["status"] == "completed"
    repo = RunRepository(server.reports)
    assert {e.status for e in repo.list()} == {"completed", "cancelled"}
