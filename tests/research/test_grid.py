"""Grid mechanics with a stand-in notebook (the real backtest notebook is exercised in
tests/research/test_notebooks.py): papermill in a process pool, failing combinations recorded,
dated folders, the day's index and heatmap."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from workbench.engine.config import StrategyConfig
from workbench.engine.strategy import Strategy
from workbench.research.grid import GridError, load_grid, run_grid
from workbench.research.repository import RunRepository
from workbench.research.versions import TemplateVersions

FAKE_NOTEBOOK = Path(__file__).parent / "fixtures" / "fake_backtest.ipynb"


class FakeStrategy(Strategy):
    class Config(StrategyConfig):
        stop_loss: float = 0.25
        lots: int = 1


TEMPLATE = """
name = "fake"
version = 1
strategy = "test_grid:FakeStrategy"
[params]
stop_loss = 0.25
"""

GRID = """
template = "fake"
data = "{data}"
[grid]
stop_loss = [0.25, 0.5, 0.9]
lots = [1, 2]
[heatmap]
x = "stop_loss"
y = "lots"
metric = "sharpe"
"""


@pytest.fixture
def setup(tmp_path: Path, nifty_tiny: Path) -> tuple[Path, Path, Path]:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "fake.toml").write_text(TEMPLATE)
    grid = tmp_path / "demo.toml"
    grid.write_text(GRID.format(data=nifty_tiny))
    return templates, grid, tmp_path / "reports"


def test_grid_runs_every_combination_and_reports_failures(setup: tuple[Path, Path, Path]) -> None:
    templates, grid_file, reports = setup
    spec = load_grid(grid_file)
    assert len(spec.combinations()) == 6
    result = run_grid(
        spec,
        reports_root=reports,
        day=date(2026, 1, 2),
        templates_dir=templates,
        notebook=FAKE_NOTEBOOK,
        progress=False,
    )
    assert result.day_folder == reports.resolve() / "2026-01-02"
    assert len(result.runs) == 6
    failed = result.failed
    assert len(failed) == 2 and all(r.params["stop_loss"] == 0.9 for r in failed)
    assert all("boom for stop_loss 0.9" in (r.error or "") for r in failed)
    for run in result.runs:
        assert (run.folder / "backtest.ipynb").exists(), "executed notebook kept for every run"
        if run.ok:
            assert run.metrics["sharpe"] == pytest.approx(
                run.params["stop_loss"] * 10 + run.params["lots"]
            )
    # no temporary folders left behind
    assert not [p for p in result.day_folder.iterdir() if p.name.startswith(".")]
    html = result.index.read_text()
    runs_table = html.split('<table id="runs">', 1)[1].split("</table>", 1)[0]
    assert runs_table.count("<tr") == 7  # header + 6 runs
    assert "boom for stop_loss 0.9" in html
    # the heat map of sharpe over the two parameters: a coloured table, 2 rows of 3
    assert "lots \\ stop_loss" in html and html.count("background:#") >= 4
    assert 'href="grid-demo.html"' in html
    assert not re.search(r"(src|href)=\"https?://", html)
    # the grid's own page: every combination, each completed run's tearsheet linked
    page = (result.day_folder / "grid-demo.html").read_text()
    assert page.count('id="sort-') == 2 + 7  # two parameters and the metrics shown
    assert "boom for stop_loss 0.9" in page
    # the template version is recorded for immutability
    stored = TemplateVersions(reports).get("fake", 1)
    assert stored is not None and stored.referenced
    # the run repository holds the grid and each combination, failures with their error
    repo = RunRepository(reports)
    (grid,) = repo.list(kind="grid")
    assert (grid.status, grid.template, grid.progress_done) == ("completed", "fake@1", 6)
    assert grid.metrics["runs"] == 6 and grid.metrics["failed"] == 2
    members = repo.list(parent=grid.id)
    assert len(members) == 6 and all(m.kind == "grid-member" for m in members)
    assert {m.out for m in members} == {str(r.folder) for r in result.runs}
    bad = [m for m in members if m.status == "failed"]
    assert len(bad) == 2 and all("boom for stop_loss 0.9" in (m.error or "") for m in bad)
    assert all(m.started_at is not None for m in members)  # each worker said it started
    assert sum(m.status == "completed" for m in members) == 4
    # a worker SIGKILLed mid-combination leaves its temporary folder beside the run folder; the
    # next writer of that run folder sweeps it
    leftovers = [r.folder.parent / f".{r.folder.name}.k1ll3d00.tmp" for r in result.runs]
    for left in leftovers:
        (left / "run").mkdir(parents=True)
    again = run_grid(
        spec,
        reports_root=reports,
        day=date(2026, 1, 2),
        templates_dir=templates,
        notebook=FAKE_NOTEBOOK,
        progress=False,
    )
    assert {r.folder for r in again.runs} == {r.folder for r in result.runs}
    assert not [p for p in again.day_folder.iterdir() if p.name.startswith(".")]


def test_grid_file_errors_name_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('template = "fake"\ndata = "x"\n[grid]\nstop_loss = []\n')
    with pytest.raises(GridError, match=r"grid\.stop_loss"):
        load_grid(bad)
    bad.write_text('template = "fake"\ndata = "x"\n[grid]\na = [1]\n[heatmap]\nx = "a"\ny = "b"\n')
    with pytest.raises(GridError, match="heatmap axis 'b'"):
        load_grid(bad)
    bad.write_text('template = "fake"\n')
    with pytest.raises(GridError, match="data"):
        load_grid(bad)
    with pytest.raises(GridError, match="cannot read"):
        load_grid(tmp_path / "missing.toml")


def test_grid_rejects_bad_parameter_before_running(setup: tuple[Path, Path, Path]) -> None:
    templates, grid_file, reports = setup
    grid_file.write_text(grid_file.read_text().replace("lots = [1, 2]", "lots = [1, 'many']"))
    with pytest.raises(ValueError, match="lots"):
        run_grid(
            load_grid(grid_file),
            reports_root=reports,
            templates_dir=templates,
            notebook=FAKE_NOTEBOOK,
        )
    assert not list((reports).glob("*/*"))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("data = ", 'data = "/nonexistent/dataset"\n#'), r"demo\.toml: data: dataset folder"),
        (("[grid]", 'fees = "per-ordr:20"\n[grid]'), r"demo\.toml: fees: .*per-ordr"),
        (("[grid]", 'fill = "mid/"\n[grid]'), r"demo\.toml: fill: "),
        (("[grid]", 'margin = "span:x"\n[grid]'), r"demo\.toml: margin: .*price_scan"),
        (
            ("lots = [1, 2]", "lots = [1, 'many']"),
            r"demo\.toml: combination \{'stop_loss': 0\.25, 'lots': 'many'\}: .*lots",
        ),
    ],
)
def test_grid_bad_inputs_fail_before_anything_is_written(
    setup: tuple[Path, Path, Path], edit: tuple[str, str], message: str
) -> None:
    """A bad dataset, model spec or parameter in the grid file is one error naming the grid
    file and the field, raised before any notebook runs or any report folder is created."""
    templates, grid_file, reports = setup
    old, new = edit
    grid_file.write_text(grid_file.read_text().replace(old, new, 1))
    with pytest.raises(ValueError, match=message):
        run_grid(
            load_grid(grid_file),
            reports_root=reports,
            templates_dir=templates,
            notebook=FAKE_NOTEBOOK,
            progress=False,
        )
    assert not reports.exists()


def test_grid_end_before_start_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('template = "fake"\ndata = "x"\nstart = 2024-03-01\nend = 2024-01-01\n')
    with pytest.raises(GridError, match=r"bad\.toml: .*end 2024-01-01 is before start 2024-03-01"):
        load_grid(bad)


def test_grid_heatmap_metric_missing_from_every_run_is_reported(
    setup: tuple[Path, Path, Path],
) -> None:
    templates, grid_file, reports = setup
    grid_file.write_text(grid_file.read_text().replace('metric = "sharpe"', 'metric = "sharp"'))
    grid_file.write_text(grid_file.read_text().replace("0.9]", "0.75]"))
    result = run_grid(
        load_grid(grid_file),
        reports_root=reports,
        day=date(2026, 1, 2),
        templates_dir=templates,
        notebook=FAKE_NOTEBOOK,
        progress=False,
    )
    assert not result.failed
    assert any("heatmap metric 'sharp'" in w and "sharpe" in w for w in result.warnings)


# -- a kernel that does not start is started once more; a notebook's own error is not -----------
def _member_job(tmp_path: Path) -> dict[str, Any]:
    keys = ("strategy", "templates_dir", "data", "start", "end", "fill", "fees", "margin")
    job: dict[str, Any] = dict.fromkeys(keys)
    job.update(
        notebook=str(FAKE_NOTEBOOK), overrides={}, capital=None, vix=None, series=None,
        refs_dir=None, cwd=str(tmp_path),
    )  # fmt: skip
    return job


def _fake_papermill(monkeypatch: pytest.MonkeyPatch, failures: list[BaseException]) -> list[int]:
    import papermill

    calls: list[int] = []

    def execute(notebook: str, output: str, *, parameters: dict[str, Any], **kw: Any) -> None:
        calls.append(kw["start_timeout"])
        if len(calls) <= len(failures):
            raise failures[len(calls) - 1]
        out = Path(parameters["out"])
        out.mkdir(parents=True)
        (out / "metrics.json").write_text("{}")

    monkeypatch.setattr(papermill, "execute_notebook", execute)
    return calls


def test_a_kernel_that_did_not_start_is_started_once_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workbench.research.grid import KERNEL_START_TIMEOUT, _execute_locked

    calls = _fake_papermill(monkeypatch, [RuntimeError("Kernel didn't respond in 60 seconds")])
    final = tmp_path / "run-a"
    outcome = _execute_locked(_member_job(tmp_path), final)
    assert outcome["error"] is None and calls == [KERNEL_START_TIMEOUT] * 2
    assert (final / "metrics.json").is_file()
    assert "starting it again" in (final / "kernel.log").read_text()


def test_a_notebook_error_or_a_second_start_failure_is_recorded_not_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from papermill.exceptions import PapermillExecutionError

    from workbench.research.grid import _execute_locked

    boom = PapermillExecutionError(1, 1, "raise", "RuntimeError", "boom", [])
    calls = _fake_papermill(monkeypatch, [boom])
    outcome = _execute_locked(_member_job(tmp_path), tmp_path / "run-b")
    assert len(calls) == 1 and outcome["error"] == "RuntimeError: boom"

    dead = RuntimeError("Kernel died before replying to kernel_info")
    calls = _fake_papermill(monkeypatch, [dead, dead])
    outcome = _execute_locked(_member_job(tmp_path), tmp_path / "run-c")
    assert len(calls) == 2 and "Kernel died" in outcome["error"]
