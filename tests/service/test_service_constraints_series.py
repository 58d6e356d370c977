"""``constraints`` and ``series`` in the service's bodies (issue 14): a backtest's constraints
are the Constraints model's fields (a bad one is a 422 naming it), a binding one shows its
refusals in the run's days and metrics, and ``series`` datasets (backtests, grids,
walk-forwards) are resolved under the data roots like ``data``.

The reference for the binding constraint is the same backtest run directly with
``run_backtest(..., constraints=...)``: the same run id, the same refusal counts.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from service_helpers import Server, wait_for

from workbench import run_backtest
from workbench.research.repository import RunRepository
from workbench.research.templates import TemplateRepository


def test_a_binding_constraint_shows_refusals_in_days_and_metrics(
    server: Server, data_root: Path
) -> None:
    client = server.client()
    body = {"template": "short-straddle", "data": "nifty",
            "constraints": {"max_open_positions": 0}}  # fmt: skip
    answer = client.post("/api/backtests", json=body)
    assert answer.status_code == 202, answer.text
    record_id = answer.json()["id"]
    done = wait_for(client, f"/api/backtests/{record_id}")
    assert done["status"] == "completed", done
    manifest = client.get(f"/api/backtests/{record_id}/manifest").json()
    assert manifest["constraints"] == {"max_open_positions": 0}

    template = TemplateRepository().get("short-straddle")
    direct = run_backtest(
        template.strategy,
        data=data_root / "nifty",
        params=template.resolved_params({}),
        constraints={"max_open_positions": 0},
        executor="serial",
        progress=False,
    )
    refused = direct.metrics["refused_by_constraint"]["max_open_positions"]
    assert refused > 0 and direct.metrics["trades"] == 0
    assert done["run_id"] == manifest["run_id"] == direct.run_id
    run = client.get(f"/api/runs/{record_id}").json()
    assert done["metrics"]["refused_by_constraint"] == {"max_open_positions": refused}
    assert run["request"]["constraints"] == {"max_open_positions": 0}
    days = pd.read_csv(Path(run["out"]) / "days.csv", keep_default_na=False)
    counted = days["constraint_refusals"].str.extract(r"max_open_positions: (\d+)")[0]
    assert counted.dropna().astype(int).sum() == refused
    book = client.get(f"/api/backtests/{record_id}/tradebook", params={"format": "csv"})
    assert len(pd.read_csv(io.StringIO(book.text))) == 0
    # without the constraint the same body trades (the constraint is what refused)
    plain = client.post("/api/backtests", json={"template": "short-straddle", "data": "nifty"})
    free = wait_for(client, f"/api/backtests/{plain.json()['id']}")
    assert free["status"] == "completed" and free["metrics"]["trades"] > 0


@pytest.mark.parametrize(
    ("constraints", "loc", "fragment"),
    [
        ({"max_heat": 0.1}, ["body", "constraints", "max_heat"], "extra"),
        ({"max_open_positions": -1}, ["body", "constraints", "max_open_positions"], "greater"),
        ({"max_portfolio_heat": "lots"}, ["body", "constraints", "max_portfolio_heat"], "number"),
        ({"max_correlation": 2}, ["body", "constraints", "max_correlation"], "less"),
        ([1, 2], ["body", "constraints"], "valid"),
    ],
)  # fmt: skip
def test_a_bad_constraint_is_422_naming_the_field(
    server: Server, constraints: Any, loc: list[Any], fragment: str
) -> None:
    body = {"template": "short-straddle", "data": "nifty", "constraints": constraints}
    answer = server.client().post("/api/backtests", json=body)
    assert answer.status_code == 422, answer.text
    (problem, *_) = answer.json()["detail"]
    assert problem["loc"] == loc and fragment in problem["msg"].lower(), problem
    assert RunRepository(server.reports).list() == []  # nothing queued


def test_series_paths_are_resolved_under_the_data_roots(
    server: Server, data_root: Path, tmp_path: Path
) -> None:
    from workbench.data.synth import generate

    outside = tmp_path / "outside"
    generate(
        "nifty-intraday", outside, seed=3, start="2024-01-02", days=1, progress=False, workers=1
    )
    client = server.client()
    for series, fragment in [
        (str(outside), "outside the data roots"),
        ("../outside", "'..' is not allowed"),
        ("no-such-set", "no dataset"),
        ("/etc", "outside the data roots"),
    ]:
        body = {"template": "short-straddle", "data": "nifty", "series": ["nifty", series]}
        answer = client.post("/api/backtests", json=body)
        assert answer.status_code == 422, (series, answer.text)
        (problem,) = answer.json()["detail"]
        assert problem["loc"] == ["body", "series", 1] and fragment in problem["msg"], problem
        grid = {"template": "short-straddle", "data": "nifty", "series": [series],
                "grid": {"stop_loss_pct": [0.25]}}  # fmt: skip
        answer = client.post("/api/grids", json=grid)
        assert answer.status_code == 422, (series, answer.text)
        (problem,) = answer.json()["detail"]
        assert problem["loc"] == ["body", "series", 0] and fragment in problem["msg"], problem
        wf = {"template": "short-straddle", "data": "nifty", "series": [series],
              "grid": {"stop_loss_pct": [0.25]},
              "windows": {"train": 1, "validate": 1, "test": 1}}  # fmt: skip
        answer = client.post("/api/walkforward", json=wf)
        assert answer.status_code == 422, (series, answer.text)
        assert answer.json()["detail"][0]["loc"] == ["body", "series", 0]
    grid = {"template": "short-straddle", "data": "nifty", "vix": str(outside),
            "grid": {"stop_loss_pct": [0.25]}}  # fmt: skip
    answer = client.post("/api/grids", json=grid)
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "vix"]
    assert RunRepository(server.reports).list() == []  # nothing queued
    # another dataset under the root is accepted and recorded as the run's series (real path)
    extra = data_root / f"extra-{tmp_path.name}"
    generate("nifty-intraday", extra, seed=4, start="2024-01-02", days=1, progress=False, workers=1)
    try:
        body = {"template": "short-straddle", "data": "nifty", "series": [extra.name]}
        answer = client.post("/api/backtests", json=body)
        assert answer.status_code == 202, answer.text
        record_id = answer.json()["id"]
        assert wait_for(client, f"/api/backtests/{record_id}")["status"] == "completed"
        run = client.get(f"/api/runs/{record_id}").json()
        assert run["request"]["series"] == [str(extra.resolve())]
        manifest = client.get(f"/api/backtests/{record_id}/manifest").json()
        assert [Path(e["path"]).resolve() for e in manifest["series"]] == [extra.resolve()]
    finally:
        shutil.rmtree(extra)


def test_a_grid_body_with_a_bad_constraints_table_is_422(server: Server) -> None:
    client = server.client()
    grid = {"template": "short-straddle", "data": "nifty", "grid": {"stop_loss_pct": [0.25]},
            "constraints": {"max_heat": 0.1}}  # fmt: skip
    answer = client.post("/api/grids", json=grid)
    assert answer.status_code == 422, answer.text
    (problem,) = answer.json()["detail"]
    assert problem["loc"] == ["body", "constraints"] and "max_heat" in problem["msg"], problem
    toml = (
        'template = "short-straddle"\ndata = "nifty"\nobjective = "total_pnl"\n'
        "[constraints]\nmax_open_positions = -1\n[grid]\nstop_loss_pct = [0.25]\n"
        "[windows]\ntrain = 1\nvalidate = 1\ntest = 1\n"
    )
    answer = client.post(
        "/api/walkforward", content=toml, headers={"content-type": "application/toml"}
    )
    assert answer.status_code == 422, answer.text
    (problem,) = answer.json()["detail"]
    assert problem["loc"] == ["body", "constraints"] and "max_open_positions" in problem["msg"]
    assert RunRepository(server.reports).list() == []
