"""The commands that write report pages into a reports day: ``workbench sweep``, ``walkforward
--reports`` and ``events --compare --reports``; each page listed in that day's index; bad input
refused with one line before anything runs. Also a basket of intraday runs: its tearsheet's
intraday path is the sleeves' paths added up."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.cli.main import main

TODAY = date.today().isoformat()


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from workbench.data.synth import generate

    out = tmp_path_factory.mktemp("cli-pages") / "nifty"
    generate("nifty-intraday", out, seed=13, start="2024-01-02", days=4, progress=False, workers=1)
    return out


def _grid(tmp_path: Path, market: Path, extra: str = "") -> Path:
    path = tmp_path / "stops.toml"
    path.write_text(
        f'template = "short-straddle"\ndata = "{market}"\nname = "stops"\n{extra}\n'
        '[grid]\nstop_loss_pct = [0.25, 0.5]\nentry = ["09:20", "10:30"]\n'
        '[heatmap]\nx = "stop_loss_pct"\ny = "entry"\nmetric = "total_pnl"\n'
    )
    return path


def test_sweep_writes_its_page_the_best_run_and_the_index(
    tmp_path: Path, market: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = tmp_path / "reports"
    code = main(
        [
            "sweep",
            str(_grid(tmp_path, market)),
            "--reports",
            str(reports),
            "--workers",
            "1",
            "--no-progress",
        ]
    )
    assert code == 0, capsys.readouterr().err
    folder = reports / TODAY / "sweep-stops"
    frame = pd.read_csv(folder / "sweep.csv")
    assert len(frame) == 4 and frame["error"].isna().all()
    doc = json.loads((folder / "sweep.json").read_text())
    assert doc["objective"] == "total_pnl" and doc["combinations"] == 4
    # the best combination by the objective, run again as a full run folder with its report
    best = frame.loc[frame["total_pnl"].idxmax()]
    run = folder / f"best-{best['run_id']}"
    assert (run / "tearsheet.html").is_file() and (run / "trades.csv").is_file()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["run_id"] == best["run_id"]  # the same run as the sweep's
    page = (folder / "sweep.html").read_text()
    assert f'href="best-{best["run_id"]}/tearsheet.html"' in page
    index = (reports / TODAY / "index.html").read_text()
    assert 'href="sweep-stops/sweep.html"' in index
    assert "page:" in capsys.readouterr().out
    # the run repository of the reports folder records the sweep (and it is not an index run)
    from workbench.research.repository import RunRepository

    repo = RunRepository(reports)
    (record,) = repo.list(kind="sweep")
    assert record.status == "completed" and record.template == "short-straddle@1"
    assert record.out == str(folder.resolve()) and record.progress_done == 4
    assert record.metrics["combinations"] == 4 and record.metrics["failed"] == 0  # type: ignore[index]
    assert record.metrics["best"]["run_id"] == best["run_id"]  # type: ignore[index]
    assert record.metrics["best"]["total_pnl"] == pytest.approx(best["total_pnl"])  # type: ignore[index]
    assert "sweep-stops</td>" not in index.split('<table id="runs">', 1)[1].split("</table>")[0]
    # bad input: one line, nothing run, nothing recorded
    assert (
        main(
            [
                "sweep",
                str(_grid(tmp_path, market)),
                "--objective",
                "sharp",
                "--reports",
                str(reports),
            ]
        )
        == 2
    )
    assert "--objective 'sharp'" in capsys.readouterr().err
    vix = ["--vix", str(tmp_path / "no-such-vix"), "--reports", str(reports)]
    assert main(["sweep", str(_grid(tmp_path, market)), *vix]) == 2
    assert "no-such-vix" in capsys.readouterr().err
    assert len(repo.list(kind="sweep")) == 1


def test_walkforward_and_events_write_into_the_day(
    tmp_path: Path, market: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = tmp_path / "reports"
    spec = tmp_path / "wf.toml"
    spec.write_text(
        f'template = "short-straddle"\ndata = "{market}"\ntop_n = 1\n'
        "[grid]\nstop_loss_pct = [0.25, 0.5]\n[windows]\ntrain = 2\nvalidate = 1\ntest = 1\n"
    )
    code = main(
        ["walkforward", str(spec), "--reports", str(reports), "--workers", "1", "--no-progress"]
    )
    assert code == 0, capsys.readouterr().err
    assert (reports / TODAY / "walkforward-wf" / "walk_forward.html").is_file()
    # with --out as well, the folder goes there (the repository of --reports records it)
    code = main(
        ["walkforward", str(spec), "--reports", str(reports), "--out", str(tmp_path / "x"),
         "--workers", "1", "--no-progress"]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "x" / "walk_forward.html").is_file()
    assert sorted(p.name for p in (reports / TODAY).iterdir() if p.is_dir()) == ["walkforward-wf"]
    events = tmp_path / "events"
    events.mkdir()
    (events / "tiny-dip.toml").write_text(
        'slug = "tiny-dip"\ndisplay_name = "Tiny dip"\nsymbol = "NIFTY"\n'
        'window_start = 2024-01-03\nwindow_end = 2024-01-04\nevent_type = "selloff"\n'
        'default_template_slugs = ["short-straddle"]\n'
    )
    code = main(
        ["events", "tiny-dip", "--dir", str(events), "--compare", "--data", str(market),
         "--capital", "1000000", "--workers", "1", "--no-progress", "--reports", str(reports)]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    index = (reports / TODAY / "index.html").read_text()
    assert 'href="walkforward-wf/walk_forward.html"' in index
    assert 'href="event-tiny-dip/event.html"' in index
    assert main(["events", "--reports", str(reports)]) == 2


def test_a_basket_of_intraday_runs_sums_their_intraday_paths(tmp_path: Path, market: Path) -> None:
    from workbench.research.basket import combine
    from workbench.research.basket_report import basket_inputs
    from workbench.research.runs import run_strategy

    folders = []
    for name, params in (("a", {"stop_loss_pct": 0.25}), ("b", {"entry": "10:30"})):
        run_strategy(
            "short-straddle",
            data=market,
            out=tmp_path / name,
            overrides=params,
            refs_dir=tmp_path,
            executor="serial",
        )
        folders.append(tmp_path / name)
    basket = combine(folders, [1.0, 2.0])
    inputs = basket_inputs(basket)
    assert inputs.benchmark is not None and inputs.benchmark.name == "NIFTY"
    last = inputs.intraday.groupby("day")["pnl"].last()
    daily = basket.daily.set_index(pd.to_datetime(basket.daily["date"]))["pnl"]
    assert np.allclose(last.to_numpy(), daily.loc[last.index].to_numpy(), atol=1e-6)
