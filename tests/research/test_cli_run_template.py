from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from workbench.cli.main import main
from workbench.research.repository import RunRepository
from workbench.research.templates import DEFAULT_TEMPLATES_DIR as TEMPLATES
from workbench.research.versions import TemplateVersions


def test_run_command_accepts_a_template_name(
    nifty_tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    reports = tmp_path / "reports"
    code = main(
        [
            "run",
            "short-straddle",
            "--data",
            str(nifty_tiny),
            "--set",
            "stop_loss_pct=0.4",
            "--executor",
            "serial",
            "--no-progress",
            "--reports",
            str(reports),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert str(out) in printed and "tearsheet" in printed
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["template"]["name"] == "short-straddle"
    assert manifest["params"]["stop_loss_pct"] == 0.4
    book = pd.read_parquet(out / "tradebook.parquet")
    assert json.loads((out / "metrics.json").read_text())["total_pnl"] == pytest.approx(
        book["cash"].sum(), abs=0.01
    )
    # the template version used is in the version store, referenced (immutable from now on)
    stored = TemplateVersions(reports).get("short-straddle", 1)
    assert stored is not None and stored.referenced and stored.status == "active"
    assert stored.text == (TEMPLATES / "short-straddle.toml").read_text()
    # and the run is in the run repository, completed, with its manifest and metrics
    (entry,) = RunRepository(reports).list()
    assert (entry.kind, entry.status, entry.origin) == ("single", "completed", "cli")
    assert entry.template == "short-straddle@1" and entry.out == str(out.resolve())
    assert entry.run_id == manifest["run_id"] and entry.manifest == manifest
    assert entry.metrics["total_pnl"] == pytest.approx(book["cash"].sum(), abs=0.01)
    assert entry.started_at is not None and entry.finished_at >= entry.started_at


def test_unknown_template_is_a_one_line_error(
    nifty_tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["run", "no-such-template", "--data", str(nifty_tiny), "--out", str(tmp_path / "x")]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "unknown template 'no-such-template'" in err and "short-straddle" in err


def test_mode_applies_to_a_template_too(nifty_tiny: Path, tmp_path: Path) -> None:
    """--mode used to be dropped without a word for a template, then refused; a strategy spec
    is a strategy spec, so --mode now runs the template's strategy in that mode."""
    out = tmp_path / "x"
    args = ["--mode", "positional", "--reports", str(tmp_path / "reports"), "--out", str(out)]
    code = main(["run", "short-straddle", "--data", str(nifty_tiny), "--no-progress", *args])
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["strategy"]["mode"] == "positional"
    assert manifest["template"]["name"] == "short-straddle"
    assert (out / "tearsheet.html").is_file()


def test_saving_a_result_over_a_dataset_is_refused(nifty_tiny: Path) -> None:
    from workbench import run_backtest

    day = "2024-01-02"
    result = run_backtest(
        "workbench.strategies.short_straddle:IntradayShortStraddle",
        data=nifty_tiny,
        start=day,
        end=day,
        executor="serial",
        progress=False,
    )
    with pytest.raises(ValueError, match="not a run folder"):
        result.save(nifty_tiny)
    assert (nifty_tiny / "catalog.json").exists()


def test_a_range_without_data_is_an_error_naming_the_dataset_range(nifty_tiny: Path) -> None:
    from workbench import run_backtest

    strategy = "workbench.strategies.short_straddle:IntradayShortStraddle"
    with pytest.raises(ValueError, match=r"it covers 2024-01-02 \.\. 2024-01-03"):
        run_backtest(
            strategy,
            data=nifty_tiny,
            start="2025-01-01",
            end="2025-02-01",
            executor="serial",
            progress=False,
        )
    # trading days of the range before the dataset's first day are reported as skipped
    result = run_backtest(
        strategy,
        data=nifty_tiny,
        start="2024-01-01",
        end="2024-01-03",
        executor="serial",
        progress=False,
    )
    assert result.metrics["days_skipped"] == 1
