"""The REST service end to end: a real uvicorn server in a subprocess, talked to with httpx.

Results are checked against independent references: the same backtest run directly with
``run_backtest`` (the tradebook byte for byte, the run id), the tradebook's cash flows (total
PnL of an intraday run), and ``analytics.montecarlo`` called directly on the run's daily PnL.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
from service_helpers import STRADDLE, Server, wait_for

from workbench import run_backtest
from workbench.research.repository import RunRepository
from workbench.research.templates import TemplateRepository

SLOW = "service_strategies:SlowStraddle"


def _submit(client: Any, body: dict[str, Any]) -> str:
    answer = client.post("/api/backtests", json=body)
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


def test_whole_flow_submit_poll_fetch(server: Server, data_root: Path, tmp_path: Path) -> None:
    client = server.client()
    answer = client.post(
        "/api/backtests",
        json={"template": "short-straddle", "data": "nifty", "params": {"stop_loss_pct": 0.4}},
    )
    assert answer.status_code == 202, answer.text
    record_id = answer.json()["id"]
    assert answer.headers["location"] == f"/api/backtests/{record_id}"
    done = wait_for(client, f"/api/backtests/{record_id}")
    assert done["status"] == "completed", done
    assert done["template"] == "short-straddle@1"  # pinned at submission
    assert done["progress"] == {"done": 3, "total": 3}
    assert done["started_at"] <= done["finished_at"]

    # the same run made directly: same run id, the same tradebook byte for byte
    template = TemplateRepository().get("short-straddle")
    direct = run_backtest(
        template.strategy,
        data=data_root / "nifty",
        params=template.resolved_params({"stop_loss_pct": 0.4}),
        executor="serial",
        progress=False,
    )
    assert done["run_id"] == direct.run_id
    direct.save(tmp_path / "direct")
    parquet = client.get(f"/api/backtests/{record_id}/tradebook")
    assert parquet.status_code == 200
    assert parquet.headers["content-type"] == "application/vnd.apache.parquet"
    assert parquet.content == (tmp_path / "direct" / "tradebook.parquet").read_bytes()
    book = pq.read_table(io.BytesIO(parquet.content)).to_pandas()

    csv = client.get(f"/api/backtests/{record_id}/tradebook", params={"format": "csv"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    from_csv = pd.read_csv(io.StringIO(csv.text))
    assert len(from_csv) == len(book) > 0
    assert from_csv["cash"].sum() == pytest.approx(book["cash"].sum(), abs=1e-6)

    # headline metrics: an intraday run's total PnL is the sum of its cash flows
    assert done["metrics"]["total_pnl"] == pytest.approx(book["cash"].sum(), abs=0.01)
    assert done["metrics"]["trades"] == direct.metrics["trades"]

    daily = client.get(f"/api/backtests/{record_id}/daily")
    assert daily.status_code == 200
    frame = pd.read_csv(io.StringIO(daily.text))
    assert list(frame["date"]) == ["2024-01-02", "2024-01-03", "2024-01-04"]
    assert frame["equity"].iloc[-1] == pytest.approx(book["cash"].sum(), abs=0.01)
    rows = client.get(f"/api/backtests/{record_id}/daily", params={"format": "json"}).json()
    assert [r["equity"] for r in rows] == pytest.approx(list(frame["equity"]))

    manifest = client.get(f"/api/backtests/{record_id}/manifest").json()
    assert manifest["run_id"] == direct.run_id
    assert manifest["template"]["name"] == "short-straddle"
    assert manifest["template"]["overrides"] == {"stop_loss_pct": 0.4}

    sheet = client.get(f"/api/backtests/{record_id}/tearsheet")
    assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/html")
    assert "<html" in sheet.text and "data:image/png;base64," in sheet.text

    analysis = client.get(f"/api/analysis/{record_id}").json()
    assert analysis["metrics"]["net_pnl"] == pytest.approx(book["cash"].sum(), abs=0.01)
    assert analysis["trades"]["trades"] == direct.metrics["trades"]
    assert analysis["capital"] == 1_000_000.0

    # the run repository has it, with the manifest; the list filters
    (entry,) = RunRepository(server.reports).list(kind="single")
    assert entry.id == record_id and entry.origin == "service" and entry.manifest == manifest
    listed = client.get("/api/runs", params={"template": "short-straddle"}).json()
    assert [r["id"] for r in listed["runs"]] == [record_id]
    assert client.get("/api/runs", params={"template": "collar"}).json()["runs"] == []
    assert client.get("/api/runs", params={"status": "failed"}).json()["count"] == 0
    assert client.get("/api/runs", params={"status": "bogus"}).status_code == 422
    run = client.get(f"/api/runs/{record_id}").json()
    assert run["request"]["template"] == "short-straddle@1" and run["out"].endswith(record_id)
    assert client.get("/api/runs/20990101-000000-00000000").status_code == 404
    assert client.get("/api/backtests/not-an-id").status_code == 422

    # the runs page lists it with a link to its tearsheet
    page = client.get("/")
    assert page.status_code == 200 and record_id in page.text
    assert f"/runs/{record_id}/tearsheet" in page.text
    assert client.get(f"/runs/{record_id}/tearsheet").text == sheet.text

    # the day's report index lists it (rewritten by the server once the job finished)
    index = Path(entry.out or "").parent / "index.html"
    deadline = time.monotonic() + 120
    while not (index.is_file() and record_id in index.read_text()):
        assert time.monotonic() < deadline, "the day's index.html does not list the run"
        time.sleep(0.2)
    assert ">completed<" in index.read_text()

    health = client.get("/health").json()
    assert health["status"] == "ok" and health["jobs"] == {"queued": 0, "running": 0}
    assert health["workers"] == 2

    # one JSON log line per request and per job state change
    lines = server.log_lines()
    states = [x["status"] for x in lines if x.get("event") == "job" and x.get("job") == record_id]
    assert states == ["queued", "running", "completed"]
    requests = [x for x in lines if x.get("event") == "request"]
    assert {"method", "path", "status", "duration_ms", "client"} <= set(requests[0])


def test_strategy_runs_and_cancel(server: Server, data_root: Path) -> None:
    client = server.client()
    # a strategy class from an allowed module, run exactly as run_backtest runs it
    record_id = _submit(client, {"strategy": STRADDLE, "data": "nifty", "params": {"qty": 2}})
    done = wait_for(client, f"/api/backtests/{record_id}")
    assert done["status"] == "completed" and done["strategy"] == STRADDLE
    direct = run_backtest(
        STRADDLE, data=data_root / "nifty", params={"qty": 2}, executor="serial", progress=False
    )
    assert done["run_id"] == direct.run_id
    assert done["metrics"]["total_pnl"] == pytest.approx(direct.metrics["total_pnl"], abs=1e-9)

    # a running job is stopped after its current day; a queued one never starts
    slow = [
        _submit(client, {"strategy": SLOW, "data": "nifty", "params": {"delay": 3}})
        for _ in range(3)
    ]
    running = wait_for(client, f"/api/backtests/{slow[0]}", ("running",))
    assert running["status"] == "running"
    queued = client.get(f"/api/backtests/{slow[2]}").json()
    assert queued["status"] == "queued"  # two workers, two slow jobs ahead of it
    gone = client.delete(f"/api/backtests/{slow[2]}")
    assert gone.status_code == 202 and gone.json()["status"] == "cancelled"
    stopping = client.delete(f"/api/backtests/{slow[0]}")
    assert stopping.status_code == 202 and stopping.json()["status"] == "cancelling"
    cancelled = wait_for(client, f"/api/backtests/{slow[0]}")
    assert cancelled["status"] == "cancelled"
    assert cancelled["error"] == "cancelled by the client"
    never = wait_for(client, f"/api/backtests/{slow[2]}")
    assert never["status"] == "cancelled" and never["started_at"] is None
    entry = RunRepository(server.reports).get(slow[0])
    assert entry.out is not None and not Path(entry.out).exists()  # nothing half-written
    assert wait_for(client, f"/api/backtests/{slow[1]}")["status"] == "completed"
    assert client.get(f"/api/backtests/{slow[0]}/tearsheet").status_code == 404
    # finished jobs cannot be cancelled; unknown ones are not found
    assert client.delete(f"/api/backtests/{record_id}").status_code == 409
    assert client.delete(f"/api/backtests/{slow[0]}").status_code == 409
    assert client.delete("/api/backtests/20990101-000000-00000000").status_code == 404


@pytest.mark.parametrize(
    ("body", "loc", "fragment"),
    [
        ({"template": "short-straddle"}, ["body", "data"], "Field required"),
        ({"template": "short-straddle", "strategy": STRADDLE, "data": "nifty"}, ["body"], "exactly one"),
        ({"data": "nifty"}, ["body"], "exactly one"),
        ({"template": "short-straddle", "data": "nifty", "params": {"stop_loss_pct": "x"}},
         ["body", "params"], "stop_loss_pct"),
        ({"strategy": STRADDLE, "data": "nifty", "params": {"nonsense": 1}},
         ["body", "params"], "nonsense"),
        ({"template": "short-straddle", "data": "nifty", "start": "2024-01-04", "end": "2024-01-02"},
         ["body"], "before start"),
        ({"template": "short-straddle", "data": "nifty", "start": "1980-01-01", "end": "2024-01-04"},
         ["body", "end"], "at most"),
        ({"template": "short-straddle", "data": "nifty", "start": "2025-01-01"}, ["body", "start"],
         "no NIFTY data"),
        ({"template": "short-straddle", "data": "nifty", "fill": "bogus"}, ["body", "fill"], "bogus"),
        ({"template": "short-straddle", "data": "nifty", "fees": "per-contract:x"}, ["body", "fees"], "fees"),
        ({"template": "short-straddle", "data": "nifty", "surprise": 1}, ["body", "surprise"], "Extra"),
        ({"template": "no-such-template", "data": "nifty"}, ["body", "template"], "unknown template"),
        ({"template": "Short Straddle", "data": "nifty"}, ["body", "template"], "pattern"),
        ({"template": "short-straddle", "data": "nifty", "capital": -5}, ["body", "capital"], "greater"),
        ({"template": "short-straddle", "data": "nifty", "mode": "weekly"}, ["body", "mode"], "intraday"),
    ],
)  # fmt: skip
def test_bad_backtest_bodies_are_422_naming_the_field(
    server: Server, body: dict[str, Any], loc: list[Any], fragment: str
) -> None:
    answer = server.client().post("/api/backtests", json=body)
    assert answer.status_code == 422, answer.text
    (problem, *_) = answer.json()["detail"]
    assert problem["loc"] == loc, problem
    assert fragment.lower() in problem["msg"].lower(), problem
    assert RunRepository(server.reports).list() == []  # nothing queued


def test_bodies_that_are_not_json_or_too_large(server: Server) -> None:
    client = server.client()
    answer = client.post(
        "/api/backtests", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert answer.status_code == 422
    big = {"template": "short-straddle", "data": "nifty", "params": {"x": "y" * 2_000_000}}
    assert client.post("/api/backtests", json=big).status_code == 413
    answer = client.post(
        "/api/grids", content=b"template = [", headers={"content-type": "application/toml"}
    )
    assert answer.status_code == 422 and "TOML" in answer.json()["detail"][0]["msg"]
    answer = client.post("/api/grids", json=[1, 2])
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body"]

    def streamed(size: int) -> Any:  # no Content-Length: chunked transfer
        yield b'{"template": "short-straddle", "data": "nifty", "params": {"x": "'
        yield b"y" * size
        yield b'"}}'

    chunked = client.post("/api/backtests", content=streamed(1_500_000),
                          headers={"content-type": "application/json"})  # fmt: skip
    assert chunked.status_code == 413 and "over 1000000 bytes" in chunked.json()["detail"]
    small = client.post(
        "/api/backtests", content=streamed(3), headers={"content-type": "application/json"}
    )
    assert small.status_code == 422 and small.json()["detail"][0]["loc"] == ["body", "params"]


def test_data_paths_must_lie_under_the_data_roots(
    server: Server, data_root: Path, tmp_path: Path
) -> None:
    from workbench.data.synth import generate

    outside = tmp_path / "outside"
    generate(
        "nifty-intraday", outside, seed=3, start="2024-01-02", days=1, progress=False, workers=1
    )
    link = data_root / f"link-{tmp_path.name}"
    link.symlink_to(outside, target_is_directory=True)
    try:
        client = server.client()
        for data, fragment in [
            (str(outside), "outside the data roots"),  # a real dataset, but not under a root
            (link.name, "outside the data roots"),  # a link inside a root pointing out of it
            ("../outside", "'..' is not allowed"),
            ("nifty/../nifty", "'..' is not allowed"),
            ("no-such-set", "no dataset"),
            ("/etc", "outside the data roots"),
            ("nifty\u0000", "NUL"),
        ]:
            answer = client.post(
                "/api/backtests", json={"template": "short-straddle", "data": data}
            )
            assert answer.status_code == 422, (data, answer.text)
            (problem,) = answer.json()["detail"]
            assert problem["loc"] == ["body", "data"] and fragment in problem["msg"], (
                data,
                problem,
            )
        # the same dataset named by its absolute path under the root is accepted
        ok = client.post(
            "/api/backtests", json={"template": "short-straddle", "data": str(data_root / "nifty")}
        )
        assert ok.status_code == 202
        assert wait_for(client, f"/api/backtests/{ok.json()['id']}")["status"] == "completed"
    finally:
        link.unlink()


def test_only_allowed_strategy_modules_run(server: Server) -> None:
    client = server.client()
    for strategy, fragment in [
        ("os:system", "not one the server allows"),
        ("workbench.strategies.iron_condor:WeeklyIronCondor", "not one the server allows"),
        ("service_strategies:Strategy", "not one the server allows"),  # the base class
        ("tests/service/service_strategies.py:SlowStraddle", "pattern"),
        ("builtins:eval", "not one the server allows"),
    ]:
        answer = client.post("/api/backtests", json={"strategy": strategy, "data": "nifty"})
        assert answer.status_code == 422, (strategy, answer.text)
        (problem,) = answer.json()["detail"]
        assert problem["loc"] == ["body", "strategy"] and fragment in problem["msg"], problem
    # a grid or a walk-forward: a strategy from the allowed modules, never a folder of the client's
    windows = {"windows": {"train": 1, "validate": 1, "test": 1}}
    for body, loc in [
        ({"strategy": "os:system"}, ["body", "strategy"]),
        ({"strategy": "/tmp/evil.py:Strategy"}, ["body", "strategy"]),
        ({"template": "short-straddle", "templates": "/tmp"}, ["body", "templates"]),
    ]:
        grid = client.post("/api/grids", json={**body, "data": "nifty"})
        assert grid.status_code == 422 and grid.json()["detail"][0]["loc"] == loc, grid.text
        walk = client.post(
            "/api/walkforward", json={**body, "data": "nifty", "grid": {"qty": [1]}, **windows}
        )
        assert walk.status_code == 422 and walk.json()["detail"][0]["loc"] == loc, walk.text
    answer = client.post(
        "/api/grids", json={"strategy": STRADDLE, "data": "nifty", "grid": {"qty": [2]}}
    )
    assert answer.status_code == 202, answer.text
    grid = wait_for(client, f"/api/grids/{answer.json()['id']}")
    assert grid["status"] == "completed" and grid["strategy"] == STRADDLE
    (member,) = grid["members"]
    assert member["status"] == "completed" and member["strategy"] == STRADDLE
    # a template may name a new version only with an allowed (or a known) strategy
    answer = client.post(
        "/api/templates",
        json={"name": "evil", "version": 1, "strategy": "os:system", "params": {}},
    )
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "strategy"]


def test_token_protects_the_api(server_factory: Any) -> None:
    token = "s3cret-token-for-tests"
    server = server_factory("--workers", "1", env={"WORKBENCH_SERVICE_TOKEN": token}).start()
    anonymous = server.client()
    for method, path in [("GET", "/api/runs"), ("POST", "/api/backtests"), ("GET", "/api/templates"),
                         ("DELETE", "/api/backtests/20990101-000000-00000000")]:  # fmt: skip
        answer = anonymous.request(method, path, json={})
        assert answer.status_code == 401, (method, path)
        assert answer.headers["www-authenticate"] == "Bearer"
    assert server.client("wrong-token-000").get("/api/runs").status_code == 401
    assert anonymous.get("/api/runs", headers={"Authorization": token}).status_code == 401
    authorised = server.client(token)
    assert authorised.get("/api/runs").status_code == 200
    record_id = _submit(authorised, {"template": "short-straddle", "data": "nifty"})
    assert wait_for(authorised, f"/api/backtests/{record_id}")["status"] == "completed"
    # health and the API description stay open; the page needs the token (once, as a cookie)
    assert anonymous.get("/health").status_code == 200
    assert anonymous.get("/openapi.json").status_code == 200
    assert anonymous.get("/").status_code == 401
    assert anonymous.get(f"/runs/{record_id}/tearsheet").status_code == 401
    assert anonymous.get("/", params={"token": "wrong"}).status_code == 401
    login = anonymous.get("/", params={"token": token}, follow_redirects=False)
    assert login.status_code == 303 and token not in login.headers["set-cookie"]
    page = anonymous.get("/")  # the cookie is kept by the client
    assert page.status_code == 200 and record_id in page.text
    assert anonymous.get(f"/runs/{record_id}/tearsheet").status_code == 200
    assert anonymous.get("/api/runs").status_code == 401  # the cookie is for the page only


def test_rate_limit_per_client(server_factory: Any) -> None:
    server = server_factory("--workers", "1", "--rate-limit", "3").start()
    client = server.client()
    body = {"template": "short-straddle", "data": "nifty"}
    codes = [client.post("/api/backtests", json=body).status_code for _ in range(3)]
    assert codes == [202, 202, 202]
    refused = client.post("/api/backtests", json=body)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert "at most 3 a minute" in refused.json()["detail"]
    assert client.get("/api/runs").status_code == 200  # reading is not limited
    assert len(RunRepository(server.reports).list()) == 3


def test_templates_versions_and_statuses(server: Server) -> None:
    client = server.client()
    names = {t["name"]: t for t in client.get("/api/templates").json()}
    assert names["short-straddle"]["ref"] == "short-straddle@1"
    versions = client.get("/api/templates/short-straddle").json()["versions"]
    assert [(v["version"], v["status"], v["source"]) for v in versions] == [(1, "active", "file")]
    assert client.get("/api/templates/no-such").status_code == 404
    assert client.get("/api/templates/Bad_Name").status_code == 422

    v1 = {"name": "svc-straddle", "version": 1, "strategy": STRADDLE,
          "params": {"stop_loss_pct": 0.3, "exit_time": "15:00"}, "description": "v1"}  # fmt: skip
    assert client.post("/api/templates", json=v1).status_code == 201
    assert client.post("/api/templates", json=v1).status_code == 201  # the same text: no change
    bad = {**v1, "version": 9, "params": {"stop_loss_pct": "high"}}
    answer = client.post("/api/templates", json=bad)
    assert answer.status_code == 422 and "stop_loss_pct" in answer.json()["detail"][0]["msg"]
    first = _submit(client, {"template": "svc-straddle", "data": "nifty"})
    assert wait_for(client, f"/api/backtests/{first}")["template"] == "svc-straddle@1"
    # referenced: immutable; a new text needs a new version
    changed = {**v1, "params": {"stop_loss_pct": 0.6}}
    answer = client.post("/api/templates", json=changed)
    assert answer.status_code == 409 and "bump" in answer.json()["detail"]
    toml = (
        'name = "svc-straddle"\nversion = 2\n'
        f'strategy = "{STRADDLE}"\n[params]\nstop_loss_pct = 0.6\n'
    )
    answer = client.post(
        "/api/templates", content=toml, headers={"content-type": "application/toml"}
    )
    assert answer.status_code == 201, answer.text
    second = _submit(client, {"template": "svc-straddle", "data": "nifty"})
    pinned_v1 = _submit(client, {"template": "svc-straddle@1", "data": "nifty"})
    runs = {i: wait_for(client, f"/api/backtests/{i}") for i in (second, pinned_v1)}
    assert runs[second]["template"] == "svc-straddle@2"
    assert runs[pinned_v1]["template"] == "svc-straddle@1"  # version 1 for ever
    m1 = client.get(f"/api/backtests/{pinned_v1}/manifest").json()
    assert m1["params"]["stop_loss_pct"] == 0.3 and m1["params"]["exit_time"] == "15:00:00"
    # archived: never the default, still runnable by name@version
    answer = client.patch("/api/templates/svc-straddle/2", json={"status": "archived"})
    assert answer.status_code == 200 and answer.json()["status"] == "archived"
    third = _submit(client, {"template": "svc-straddle", "data": "nifty"})
    assert wait_for(client, f"/api/backtests/{third}")["template"] == "svc-straddle@1"
    assert (
        client.patch("/api/templates/svc-straddle/2", json={"status": "draft"}).status_code == 409
    )
    assert (
        client.patch("/api/templates/svc-straddle/7", json={"status": "active"}).status_code == 404
    )
    # a draft is stored but not runnable
    draft = {**v1, "version": 3, "status": "draft"}
    assert client.post("/api/templates", json=draft).status_code == 201
    answer = client.post("/api/backtests", json={"template": "svc-straddle@3", "data": "nifty"})
    assert answer.status_code == 422 and "draft" in answer.json()["detail"][0]["msg"]
    statuses = [(v["version"], v["status"], v["referenced"])
                for v in client.get("/api/templates/svc-straddle").json()["versions"]]  # fmt: skip
    assert statuses == [(1, "active", True), (2, "archived", True), (3, "draft", False)]


def test_grid_walkforward_events_and_montecarlo(
    server_factory: Any, data_root: Path, tmp_path: Path
) -> None:
    events = tmp_path / "events"
    events.mkdir()
    (events / "spx-jan-2024.toml").write_text(
        'slug = "spx-jan-2024"\ndisplay_name = "On SPX"\nsymbol = "SPX"\n'
        'window_start = 2024-01-03\nwindow_end = 2024-01-04\nevent_type = "stress_test"\n'
        'default_template_slugs = ["collar"]\nnormalize_start_value = false\n'
    )
    (events / "synthetic-jan-2024.toml").write_text(
        'slug = "synthetic-jan-2024"\ndisplay_name = "Synthetic January"\nsymbol = "NIFTY"\n'
        'window_start = 2024-01-03\nwindow_end = 2024-01-04\nevent_type = "stress_test"\n'
        'default_template_slugs = ["short-straddle", "short-straddle-reentry"]\n'
        "normalize_start_value = false\n"
    )
    server = server_factory("--workers", "2", "--events", str(events)).start()
    client = server.client()
    repo = RunRepository(server.reports)

    # a grid as TOML text, run by the research layer's grid (papermill notebooks)
    grid_toml = 'template = "short-straddle"\ndata = "nifty"\nname = "svc"\n[grid]\nstop_loss_pct = [0.25, 0.5]\n'
    answer = client.post(
        "/api/grids", content=grid_toml, headers={"content-type": "application/toml"}
    )
    assert answer.status_code == 202, answer.text
    grid_id = answer.json()["id"]
    # a walk-forward as JSON
    wf = {"template": "short-straddle", "data": "nifty", "objective": "total_pnl", "top_n": 2,
          "grid": {"stop_loss_pct": [0.25, 0.5]}, "windows": {"train": 1, "validate": 1, "test": 1}}  # fmt: skip
    answer = client.post("/api/walkforward", json=wf)
    assert answer.status_code == 202, answer.text
    wf_id = answer.json()["id"]
    # an event comparison over the preset
    assert [e["slug"] for e in client.get("/api/events").json()] == [
        "spx-jan-2024",
        "synthetic-jan-2024",
    ]
    answer = client.post("/api/events/spx-jan-2024/compare", json={"data": "nifty"})
    assert answer.status_code == 422 and "the event is on SPX" in answer.json()["detail"][0]["msg"]
    answer = client.post("/api/events/synthetic-jan-2024/compare", json={"data": "nifty"})
    assert answer.status_code == 202, answer.text
    event_id = answer.json()["id"]
    assert client.post("/api/events/no-such/compare", json={"data": "nifty"}).status_code == 422
    answer = client.post("/api/events/synthetic-jan-2024/compare",
                         json={"data": "nifty", "templates": ["collar", "nope"]})  # fmt: skip
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == [
        "body",
        "templates",
        1,
    ]

    grid = wait_for(client, f"/api/grids/{grid_id}")
    assert grid["status"] == "completed", grid
    members = grid["members"]
    assert len(members) == 2 and {m["status"] for m in members} == {"completed"}
    assert grid["progress"] == {"done": 2, "total": 2} and grid["metrics"]["failed"] == 0
    for member in members:  # each member's folder is a complete run with its notebook
        folder = Path(repo.get(member["id"]).out or "")
        assert (folder / "tearsheet.html").is_file() and (folder / "backtest.ipynb").is_file()
        # a member is a backtest: its files are served like a submitted one's
        assert member["links"]["tearsheet"] == f"/api/backtests/{member['id']}/tearsheet"
        assert (
            client.get(member["links"]["tradebook"]).content
            == (folder / "tradebook.parquet").read_bytes()
        )
        assert (
            member["metrics"]["total_pnl"]
            == json.loads((folder / "metrics.json").read_text())["total_pnl"]
        )
    assert (Path(repo.get(grid_id).out or "") / "index.html").is_file()

    walk = wait_for(client, f"/api/walkforward/{wf_id}")
    assert walk["status"] == "completed", walk
    (window,) = walk["windows"]
    assert window["kind"] == "walkforward-window" and window["status"] == "completed"
    assert walk["result"]["summary"]["windows"] == 1
    assert window["metrics"]["test_pnl"] == pytest.approx(
        walk["result"]["summary"]["oos_total_pnl"]
    )

    event = wait_for(client, f"/api/runs/{event_id}")
    assert event["status"] == "completed", event
    summary = event["metrics"]["summary"]
    assert {row["template"] for row in summary} == {"short-straddle", "short-straddle-reentry"}
    assert [row["rank"] for row in summary] == [1, 2]
    out = Path(repo.get(event_id).out or "")
    assert (out / "summary.csv").is_file() and (out / "paths.csv").is_file()

    # Monte Carlo of a finished backtest, against analytics.montecarlo on its daily PnL
    run_id = _submit(client, {"template": "short-straddle", "data": "nifty"})
    assert wait_for(client, f"/api/backtests/{run_id}")["status"] == "completed"
    answer = client.post(
        "/api/montecarlo", json={"run": run_id, "method": "shuffle", "paths": 200, "seed": 5}
    )
    assert answer.status_code == 202, answer.text
    mc = wait_for(client, f"/api/montecarlo/{answer.json()['id']}")
    assert mc["status"] == "completed", mc
    from workbench.analytics.montecarlo import monte_carlo

    daily = pd.read_csv(Path(repo.get(run_id).out or "") / "daily.csv")
    direct = monte_carlo(
        daily["pnl"].to_numpy(), method="shuffle", n_paths=200, seed=5, capital=1_000_000.0
    )
    assert mc["result"]["summary"]["final_pnl_p50"] == pytest.approx(
        direct.summary()["final_pnl_p50"]
    )
    # a shuffle keeps the multiset of days: every path ends at the realised total
    fan_ends = [path[-1] for path in mc["result"]["fan"].values()]
    assert fan_ends == pytest.approx([daily["pnl"].sum()] * len(fan_ends))
    for body, loc in [({"run": run_id, "paths": 10**6}, ["body", "paths"]),
                      ({"run": "20990101-000000-00000000"}, ["body", "run"]),
                      ({"run": run_id, "method": "magic"}, ["body", "method"]),
                      ({"run": grid_id}, ["body", "run"])]:  # fmt: skip
        answer = client.post("/api/montecarlo", json=body)
        assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == loc, answer.text

    # grid limits and names
    many = {
        "template": "short-straddle",
        "data": "nifty",
        "grid": {"stop_loss_pct": [0.1 * i for i in range(1, 20)], "qty": list(range(1, 20))},
    }
    answer = client.post("/api/grids", json=many)
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "grid"]
    answer = client.post(
        "/api/grids", json={"template": "short-straddle", "data": "nifty", "name": "../x"}
    )
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "name"]
    kinds = {e.kind for e in repo.list()}
    assert kinds == {
        "grid",
        "grid-member",
        "walkforward",
        "walkforward-window",
        "event-comparison",
        "single",
        "montecarlo",
    }
    assert (
        json.loads(json.dumps(client.get("/api/runs", params={"kind": "grid-member"}).json()))[
            "count"
        ]
        == 2
    )


def test_serve_refuses_bad_settings_in_one_line(
    server: Server, data_root: Path, tmp_path: Path
) -> None:
    import subprocess
    import sys

    base = [sys.executable, "-m", "workbench", "serve", "--port", "0"]
    cases = [
        (["--reports", str(tmp_path / "r"), "--data-root", str(tmp_path / "nope")], "is not a folder"),
        (["--reports", str(tmp_path / "r"), "--data-root", str(data_root), "--strategies", "no_such_mod"],
         "cannot import"),
        (["--reports", str(tmp_path / "r"), "--data-root", str(data_root), "--token", "short"],
         "at least 8"),
        # a second server on the reports folder of a running one
        (["--reports", str(server.reports), "--data-root", str(data_root)], "another workbench serve"),
    ]  # fmt: skip
    for args, fragment in cases:
        done = subprocess.run([*base, *args], capture_output=True, text=True, timeout=300)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.count("\n") == 1 and fragment in done.stderr, done.stderr
    assert server.client().get("/health").status_code == 200  # the first server is unharmed


def test_cancel_a_running_grid(server_factory: Any) -> None:
    server = server_factory("--workers", "1").start()
    client = server.client()
    grid = {
        "template": "short-straddle",
        "data": "nifty",
        "grid": {"stop_loss_pct": [0.2, 0.3, 0.4, 0.5]},
    }
    grid_id = client.post("/api/grids", json=grid).json()["id"]
    deadline = time.monotonic() + 600
    while not any(
        m["status"] == "completed" for m in client.get(f"/api/grids/{grid_id}").json()["members"]
    ):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    answer = client.delete(f"/api/runs/{grid_id}")
    assert answer.status_code == 202 and answer.json()["status"] == "cancelling"
    stopped = wait_for(client, f"/api/grids/{grid_id}")
    assert stopped["status"] == "cancelled" and stopped["error"] == "cancelled by the client"
    statuses = [m["status"] for m in stopped["members"]]
    assert statuses.count("completed") >= 1 and "cancelled" in statuses
    assert all(s in ("completed", "cancelled") for s in statuses), statuses
    assert client.delete(f"/api/runs/{grid_id}").status_code == 409
