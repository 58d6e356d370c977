"""``workbench runs``: every run the command line makes is in the run repository.

``workbench run`` (a strategy, a template), ``workbench walkforward`` (and each window),
``workbench events --compare``; ``workbench runs`` lists and filters them, ``runs show ID``
prints one; a ``workbench run`` killed with SIGKILL is shown failed, not running for ever; bad
input is one error line and no record; the day's report index shows the repository's status.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbench.cli.main import main
from workbench.research.repository import RunRepository

STRADDLE = "workbench.strategies.short_straddle:IntradayShortStraddle"
SERVICE_TESTS = Path(__file__).resolve().parents[1] / "service"


@pytest.fixture(scope="module")
def nifty_three(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from workbench.data.synth import generate

    out = tmp_path_factory.mktemp("nifty-three") / "data"
    generate("nifty-intraday", out, seed=3, start="2024-01-02", days=3, progress=False, workers=1)
    return out


def _run(*args: str) -> int:
    return main(list(args))


def test_runs_lists_filters_and_shows(
    nifty_tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = str(tmp_path / "reports")
    common = [
        "--data",
        str(nifty_tiny),
        "--executor",
        "serial",
        "--no-progress",
        "--reports",
        reports,
    ]
    assert _run("run", STRADDLE, *common, "--out", str(tmp_path / "a")) == 0
    assert _run("run", "short-straddle", *common, "--out", str(tmp_path / "b")) == 0
    capsys.readouterr()
    assert _run("runs", "--reports", reports) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:4] == ["id", "kind", "status", "run"]
    assert len(table) == 3 and all(" completed " in line for line in table[1:])
    assert STRADDLE in table[1] and "short-straddle@1" in table[2]
    assert _run("runs", "--reports", reports, "--template", "short-straddle", "--json") == 0
    (only,) = json.loads(capsys.readouterr().out)
    assert only["template"] == "short-straddle@1" and only["out"] == str((tmp_path / "b").resolve())
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert only["manifest"] == manifest and only["origin"] == "cli"
    assert _run("runs", "show", only["id"], "--reports", reports) == 0
    shown = capsys.readouterr().out
    assert f"id         {only['id']}" in shown and manifest["run_id"] in shown
    assert '"total_pnl"' in shown
    assert _run("runs", "--reports", reports, "--status", "failed") == 0
    assert capsys.readouterr().out.strip() == "no runs match"
    assert _run("runs", "show", "20990101-000000-00000000", "--reports", reports) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no run '20990101-000000-00000000'" in err
    assert _run("runs", "--reports", str(tmp_path / "empty")) == 0
    assert "no runs recorded yet" in capsys.readouterr().out
    assert not (tmp_path / "empty").exists()


def test_bad_input_is_one_line_and_no_record(
    nifty_tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = tmp_path / "reports"
    for args in (
        [STRADDLE, "--set", "stop_loss_pct=abc"],
        ["short-straddle", "--set", "nonsense=1"],
        [STRADDLE, "--start", "2030-01-01"],
        [STRADDLE, "--fill", "bogus"],
    ):
        code = _run("run", *args, "--data", str(nifty_tiny), "--reports", str(reports),
                    "--out", str(tmp_path / "x"))  # fmt: skip
        assert code == 2, args
        assert capsys.readouterr().err.count("\n") == 1
    assert RunRepository(reports).list() == []


def test_a_killed_run_is_failed_not_running_for_ever(nifty_three: Path, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SERVICE_TESTS), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench", "run", "service_strategies:SlowStraddle",
         "--data", str(nifty_three), "--set", "delay=30", "--executor", "serial",
         "--no-progress", "--reports", str(reports), "--out", str(tmp_path / "out")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    repo = RunRepository(reports)
    deadline = time.monotonic() + 300
    while not [e for e in repo.list() if e.status == "running"]:
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    (entry,) = repo.list()
    assert entry.status == "running"  # as the kill left it
    assert _run("runs", "--reports", str(reports)) == 0
    entry = repo.get(entry.id)
    assert entry.status == "failed" and f"process {proc.pid} ended without finishing" in (
        entry.error or ""
    )
    assert not (tmp_path / "out").exists()


def test_walkforward_and_events_are_recorded(nifty_three: Path, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    spec = tmp_path / "wf.toml"
    spec.write_text(
        f'template = "short-straddle"\ndata = "{nifty_three}"\nobjective = "total_pnl"\n'
        "top_n = 2\n[grid]\nstop_loss_pct = [0.25, 0.5]\n[windows]\ntrain = 1\nvalidate = 1\ntest = 1\n"
    )
    code = _run("walkforward", str(spec), "--workers", "1", "--no-progress", "--reports", str(reports),
                "--out", str(tmp_path / "wf"))  # fmt: skip
    assert code == 0
    repo = RunRepository(reports)
    (walk,) = repo.list(kind="walkforward")
    (window,) = repo.list(kind="walkforward-window")
    assert walk.status == "completed" and window.parent == walk.id and window.status == "completed"
    assert walk.out == str((tmp_path / "wf").resolve()) and walk.progress_done == 1
    saved = json.loads((tmp_path / "wf" / "walk_forward.json").read_text())
    assert walk.metrics == saved["summary"]
    assert window.metrics["test_pnl"] == pytest.approx(saved["windows"][0]["test_pnl"])  # type: ignore[index]
    assert window.request["test_start"] == "2024-01-04"  # type: ignore[index]

    events = tmp_path / "events"
    events.mkdir()
    (events / "tiny.toml").write_text(
        'slug = "tiny"\ndisplay_name = "Tiny"\nsymbol = "NIFTY"\nwindow_start = 2024-01-03\n'
        'window_end = 2024-01-04\nevent_type = "stress_test"\n'
        'default_template_slugs = ["short-straddle"]\nnormalize_start_value = false\n'
    )
    code = _run("events", "tiny", "--dir", str(events), "--compare", "--data", str(nifty_three),
                "--workers", "1", "--no-progress", "--reports", str(reports))  # fmt: skip
    assert code == 0
    (event,) = repo.list(kind="event-comparison")
    assert event.status == "completed" and event.metrics["preset"] == "tiny"  # type: ignore[index]
    assert [row["template"] for row in event.metrics["summary"]] == ["short-straddle"]  # type: ignore[index]


def test_the_day_index_shows_the_repository_status(tmp_path: Path) -> None:
    from workbench.research.index import write_index

    reports = tmp_path / "reports"
    day = reports / "2026-01-02"
    day.mkdir(parents=True)
    repo = RunRepository(reports)
    queued = repo.create(
        "grid-member", origin="grid", template="short-straddle@1", out=day / "q-run"
    )
    broken = repo.create(
        "single", origin="cli", template="collar@1", out=day / "b-run", status="running"
    )
    repo.fail(broken, "ValueError: no SPX data")
    elsewhere = repo.create("single", origin="cli", out=tmp_path / "runs" / "x")
    html = write_index(day).read_text()
    assert "q-run" in html and ">queued<" in html
    assert "b-run" in html and "ValueError: no SPX data" in html and ">failed<" in html
    assert "runs/x" not in html and elsewhere not in html
    assert queued not in html  # rows are named by their folder
