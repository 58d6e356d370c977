"""A strategy in a file of the researcher's own (outside the repository, not on ``sys.path``) is
a first-class spec: ``path/to/file.py:Class`` through ``workbench run``, a grid file, a
walk-forward file, ``events --compare``, the backtest notebook and templates of one's own; each
writes a tearsheet, and changing one line of the file's code changes the run id."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from workbench.cli.main import main

STRATEGY = textwrap.dedent(
    '''
    from datetime import time

    from workbench import Strategy, StrategyConfig


    class FileStraddle(Strategy):
        """An ATM short straddle kept in a file of its own."""

        class Config(StrategyConfig):
            entry: time = time(9, 20)
            stop_loss: float = 0.25

        def on_bar(self, bar):
            if self.idle and bar.time >= self.config.entry:
                atm = bar.atm(expiry=0)
                self.try_fill([self.add(atm, "C", "SELL"), self.add(atm, "P", "SELL")])

        def exit_check(self, bar):
            limit = -self.config.stop_loss * self.entry_credit
            return "stop_loss" if self.pnl(bar) < limit else None
    '''
)


@pytest.fixture
def strategy_file(tmp_path: Path) -> Path:
    folder = tmp_path / "my-research"
    folder.mkdir()
    path = folder / "file_straddle.py"
    path.write_text(STRATEGY)
    return path


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_run_with_a_file_spec_writes_a_tearsheet_and_hashes_the_code(
    strategy_file: Path, nifty_tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = f"{strategy_file}:FileStraddle"
    base = ["run", spec, "--data", str(nifty_tiny), "--executor", "serial", "--no-progress"]
    code, _, err = _run([*base, "--out", str(tmp_path / "a")], capsys)
    assert code == 0, err
    folder = tmp_path / "a"
    assert (folder / "tearsheet.html").is_file()
    manifest = json.loads((folder / "manifest.json").read_text())
    code_info = manifest["strategy"]["code"]
    assert code_info["origin"] == "file" and code_info["file"] == str(strategy_file)
    assert manifest["strategy"]["ref"] == spec
    assert len(code_info["sha256"]) == 64
    # the same file again: the same run id; one line changed: a different one
    code, _, err = _run([*base, "--out", str(tmp_path / "b")], capsys)
    assert code == 0, err
    again = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert again["run_id"] == manifest["run_id"]
    strategy_file.write_text(STRATEGY.replace("stop_loss: float = 0.25", "stop_loss: float = 0.26"))
    code, _, err = _run([*base, "--out", str(tmp_path / "c")], capsys)
    assert code == 0, err
    changed = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert changed["run_id"] != manifest["run_id"]
    assert changed["strategy"]["code"]["sha256"] != code_info["sha256"]
    # a comment is code too: the hash is of the source, not of the behaviour
    strategy_file.write_text(STRATEGY + "\n# a note\n")
    code, _, err = _run([*base, "--out", str(tmp_path / "d")], capsys)
    assert code == 0, err
    noted = json.loads((tmp_path / "d" / "manifest.json").read_text())
    assert noted["run_id"] not in (manifest["run_id"], changed["run_id"])


def test_run_with_a_file_spec_on_the_local_pool_matches_serial(
    strategy_file: Path, nifty_tiny: Path
) -> None:
    """Workers never saw the file: the class travels by value."""
    import pandas as pd

    from workbench import run_backtest

    spec = f"{strategy_file}:FileStraddle"
    serial = run_backtest(spec, data=nifty_tiny, executor="serial", progress=False)
    pooled = run_backtest(spec, data=nifty_tiny, executor="process", progress=False)
    assert len(serial.tradebook) > 0
    pd.testing.assert_frame_equal(serial.tradebook, pooled.tradebook)


def test_bad_file_specs_name_the_file_and_the_class(
    strategy_file: Path, nifty_tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--data", str(nifty_tiny), "--out", str(tmp_path / "x")]
    code, _, err = _run(["run", f"{strategy_file}:FileStradle", *base], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "FileStradle" in err and "did you mean 'FileStraddle'" in err
    code, _, err = _run(["run", f"{tmp_path}/nope.py:X", *base], capsys)
    assert code == 2 and "nope.py" in err and "no file" in err
    broken = tmp_path / "broken.py"
    broken.write_text("class X(:\n")
    code, _, err = _run(["run", f"{broken}:X", *base], capsys)
    assert code == 2 and "broken.py, line 1: syntax error" in err
    assert not (tmp_path / "x").exists()


def test_unknown_template_suggests_close_names(
    nifty_tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["run", "short-stradle", "--data", str(nifty_tiny), "--out", str(tmp_path / "x")]
    code, _, err = _run(args, capsys)
    assert code == 2 and err.count("\n") == 1
    assert "did you mean 'short-straddle'" in err and "known: " in err


def test_template_parameter_typo_lists_known_names(
    nifty_tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["run", "short-straddle", "--data", str(nifty_tiny), "--set", "stop_los_pct=0.3"]
    code, _, err = _run([*args, "--out", str(tmp_path / "x")], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "did you mean 'stop_loss_pct'" in err and "known: " in err and "exit_time" in err


def _user_templates(tmp_path: Path, strategy_file: Path) -> Path:
    folder = tmp_path / "my-templates"
    folder.mkdir()
    relative = Path("..") / strategy_file.parent.name / strategy_file.name
    (folder / "file-straddle.toml").write_text(
        textwrap.dedent(
            f"""
            name = "file-straddle"
            version = 1
            strategy = "{relative}:FileStraddle"
            description = "a template of one's own over a strategy file"

            [params]
            stop_loss = 0.3
            """
        )
    )
    return folder


def test_templates_of_ones_own(
    strategy_file: Path, nifty_tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _user_templates(tmp_path, strategy_file)
    code, out, err = _run(["templates", "--templates", str(folder), "--check"], capsys)
    assert code == 0, err
    assert "file-straddle@1" in out
    reports = tmp_path / "reports"
    args = ["run", "file-straddle", "--templates", str(folder), "--data", str(nifty_tiny)]
    args += ["--executor", "serial", "--no-progress", "--reports", str(reports)]
    code, _, err = _run([*args, "--out", str(tmp_path / "run")], capsys)
    assert code == 0, err
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["template"]["name"] == "file-straddle"
    assert manifest["params"]["stop_loss"] == 0.3
    assert (tmp_path / "run" / "tearsheet.html").is_file()
    # immutable once referenced, as the shipped templates
    template = folder / "file-straddle.toml"
    template.write_text(template.read_text().replace("0.3", "0.35"))
    code, _, err = _run([*args, "--out", str(tmp_path / "run2")], capsys)
    assert code == 2 and "bump `version`" in err


def test_grid_and_walkforward_files_name_a_file_strategy(
    strategy_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from workbench.research.demo import ensure_demo_data
    from workbench.research.grid import REPO_ROOT

    data = ensure_demo_data(REPO_ROOT, progress=False)
    grid = tmp_path / "grid.toml"
    grid.write_text(
        textwrap.dedent(
            f"""
            strategy = "{strategy_file}:FileStraddle"
            data = "{data}"
            start = 2024-01-02
            end = 2024-01-04
            [grid]
            stop_loss = [0.2, 0.4]
            """
        )
    )
    reports = tmp_path / "reports"
    code, out, err = _run(["grid", str(grid), "--reports", str(reports), "--workers", "2"], capsys)
    assert code == 0, out + err
    (day,) = [p for p in reports.iterdir() if p.is_dir()]  # beside it: the run repository
    folders = [p for p in day.iterdir() if p.is_dir()]
    assert len(folders) == 2
    for folder in folders:
        assert (folder / "tearsheet.html").is_file()
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["strategy"]["code"]["origin"] == "file"

    wf = tmp_path / "wf.toml"
    wf.write_text(
        textwrap.dedent(
            f"""
            strategy = "{strategy_file}:FileStraddle"
            data = "{data}"
            start = 2024-01-01
            end = 2024-01-12
            objective = "total_pnl"
            top_n = 1
            [grid]
            stop_loss = [0.2, 0.4]
            [windows]
            train = 3
            validate = 2
            test = 2
            """
        )
    )
    out_dir = tmp_path / "wf-out"
    code, out, err = _run(["walkforward", str(wf), "--out", str(out_dir), "--no-progress"], capsys)
    assert code == 0, out + err
    saved = json.loads((out_dir / "walk_forward.json").read_text())
    assert saved["config"]["strategy"].endswith("file_straddle.py:FileStraddle")
    assert saved["config"]["code"]["origin"] == "file"


def test_events_compare_takes_file_strategies(
    strategy_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from workbench.research.demo import ensure_demo_data
    from workbench.research.grid import REPO_ROOT

    data = ensure_demo_data(REPO_ROOT, progress=False)
    presets = tmp_path / "events"
    presets.mkdir()
    (presets / "demo-week.toml").write_text(
        textwrap.dedent(
            """
            slug = "demo-week"
            display_name = "A week of the demo market"
            symbol = "NIFTY"
            window_start = 2024-01-08
            window_end = 2024-01-12
            anchor_date = 2024-01-10
            event_type = "selloff"
            tags = []
            description = "test preset"
            lookback_days = 1
            recovery_days = 1
            default_template_slugs = ["short-straddle"]
            normalize_start_value = false
            """
        )
    )
    spec = f"{strategy_file}:FileStraddle"
    args = ["events", "demo-week", "--dir", str(presets), "--compare", "--data", str(data)]
    args += ["--strategies", f"short-straddle,{spec}", "--workers", "2", "--no-progress"]
    code, out, err = _run([*args, "--out", str(tmp_path / "cmp")], capsys)
    assert code == 0, out + err
    assert "FileStraddle" in out and "short-straddle" in out


def test_the_tearsheet_is_written_before_the_run_folder_is_swapped_in(
    nifty_tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run whose tearsheet fails (or a process killed while drawing it) leaves the previous
    run folder as it was: the tearsheet is part of the new folder before the rename."""
    from workbench.research.runs import run_strategy

    out = tmp_path / "run"
    common = dict(data=nifty_tiny, out=out, executor="serial", refs_dir=tmp_path / "reports")
    first = run_strategy("short-straddle", **common)
    before = (out / "manifest.json").read_text()
    assert (out / "tearsheet.html").is_file()

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("killed while drawing")

    monkeypatch.setattr("workbench.analytics.tearsheet.render_tearsheet", boom)
    with pytest.raises(RuntimeError, match="killed while drawing"):
        run_strategy("short-straddle", overrides={"stop_loss_pct": 0.5}, **common)
    assert (out / "manifest.json").read_text() == before
    assert (out / "tearsheet.html").is_file()
    assert first.manifest["run_id"] in before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.slow
def test_a_file_strategy_runs_on_dask_workers_that_never_saw_the_file(
    strategy_file: Path, nifty_tiny: Path
) -> None:
    """Dask workers started fresh (other processes, no PYTHONPATH, the file's folder not on
    their path) run the class by value: same tradebook as serial, in a sweep too."""
    import pandas as pd
    from dask.distributed import Client, LocalCluster

    from workbench import run_backtest, sweep

    spec = f"{strategy_file}:FileStraddle"
    serial = run_backtest(spec, data=nifty_tiny, executor="serial", progress=False)
    grid = {"stop_loss": [0.2, 0.4]}
    local = sweep(spec, grid, data=nifty_tiny, executor="serial", progress=False)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        remote = run_backtest(spec, data=nifty_tiny, executor=client, progress=False)
        swept = sweep(spec, grid, data=nifty_tiny, executor=client, progress=False)
    pd.testing.assert_frame_equal(serial.tradebook, remote.tradebook)
    pd.testing.assert_frame_equal(local, swept)
