"""``params.toml`` with every run, and ``workbench run --params`` reproducing the run byte for
byte (a strategy class with a parameter set to None, and a template with overrides)."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.strategies.dataset import Bar, write_market
from tests.strategies.test_bear_call_spread import DAYS, EXPIRY, SCAN
from workbench.cli.main import main

BCS = "workbench.strategies.bear_call_spread:BearCallSpread"
#: every file of the run folder but tearsheet.html, whose footer says when it was generated
FILES = ("tradebook.parquet", "daily.csv", "days.csv", "metrics.json", "manifest.json",
         "trades.csv", "trades.parquet", "params.toml", "entries.csv")  # fmt: skip


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spot = {d: [("15:46", s)] for d, (s, _) in DAYS.items()}
    options = {
        d: {
            ("15:46", EXPIRY, float(k), "C"): Bar(m, dl, half_spread=0.05)
            for k, (m, dl) in chain.items()
        }
        for d, (_, chain) in DAYS.items()
    }
    return write_market(
        tmp_path_factory.mktemp("replay"), "SPY", spot, options, venue="CBOE",
        timezone="America/New_York", bar_interval="1d",
    )  # fmt: skip


def run(*args: str, reports: Path) -> int:
    return main(["run", *args, "--no-progress", "--executor", "serial", "--reports", str(reports)])


def run_fresh(*args: str, reports: Path) -> int:
    """``workbench run`` in a new interpreter: ``days.csv`` counts the market-data reads,
    which a process that already read the days serves from its cache."""
    cmd = [sys.executable, "-m", "workbench.cli.main", "run", *args, "--no-progress",
           "--executor", "serial", "--reports", str(reports)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.returncode


def same_files(a: Path, b: Path) -> None:
    assert {p.name for p in a.iterdir()} == {*FILES, "tearsheet.html"}
    for name in FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_a_class_run_replays_byte_for_byte(market: Path, tmp_path: Path) -> None:
    first, again = tmp_path / "a" / "run", tmp_path / "b" / "run"
    code = run_fresh(
        BCS, "--data", str(market), "--set", f"scan={json.dumps(SCAN)}",
        "--set", "stop_loss_pct=null", "--set", "qty=3", "--fill", "mid/cross",
        "--fees", "per-contract:0.5,min=1", "--margin", "reg-t", "--capital", "25000",
        "--start", "2024-03-01", "--end", "2024-03-14", "--out", str(first),
        reports=tmp_path / "reports",
    )  # fmt: skip
    assert code == 0
    doc = tomllib.loads((first / "params.toml").read_text())
    manifest = json.loads((first / "manifest.json").read_text())
    # every Config field after defaults; None listed apart (TOML has no null)
    assert doc["strategy"] == BCS and doc["run_id"] == manifest["run_id"]
    assert doc["params"]["qty"] == 3 and doc["params"]["dte_window"] == [30, 45]
    assert doc["params"]["scan"]["width_min"] == 5.0
    assert "stop_loss_pct" in doc["params_null"] and "stop_loss_pct" not in doc["params"]
    assert str(doc["start"]) == "2024-03-01" and str(doc["end"]) == "2024-03-14"
    assert doc["capital"] == 25000.0 and doc["mode"] == "positional"
    assert doc["fill"]["entry"]["name"] == "mid" and doc["fill"]["exit"]["name"] == "cross"
    assert doc["fees"]["rate"] == 0.5 and doc["margin"]["name"] == "reg-t"
    assert run_fresh("--params", str(first / "params.toml"), "--out", str(again),
               reports=tmp_path / "reports") == 0  # fmt: skip
    same_files(first, again)


def test_a_template_run_replays_byte_for_byte(market: Path, tmp_path: Path) -> None:
    first, again = tmp_path / "a" / "run", tmp_path / "b" / "run"
    assert run_fresh(
        "bear-call-spread", "--data", str(market), "--set", f"scan={json.dumps(SCAN)}",
        "--set", "qty=2", "--out", str(first), reports=tmp_path / "reports",
    ) == 0  # fmt: skip
    doc = tomllib.loads((first / "params.toml").read_text())
    assert doc["template"]["name"] == "bear-call-spread" and doc["template"]["version"] == 1
    assert doc["template"]["overrides"]["qty"] == 2
    assert run_fresh("--params", str(first / "params.toml"), "--out", str(again),
               reports=tmp_path / "reports") == 0  # fmt: skip
    same_files(first, again)
    # a flag beside --params changes that field only
    other = tmp_path / "c" / "run"
    assert run_fresh("--params", str(first / "params.toml"), "--set", "qty=1", "--out", str(other),
               reports=tmp_path / "reports") == 0  # fmt: skip
    assert json.loads((other / "manifest.json").read_text())["params"]["qty"] == 1


def test_bad_params_files_are_one_line_errors(
    market: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = tmp_path / "reports"
    assert run("--params", str(tmp_path / "none.toml"), "--out", str(tmp_path / "o"),
               reports=reports) == 2  # fmt: skip
    assert "none.toml: no such parameters file" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text('format = 1\nstrategy = "x:Y"\ndata = "d"\n[fees]\nname = "per-parsec"\n')
    assert run("--params", str(bad), "--out", str(tmp_path / "o"), reports=reports) == 2
    err = capsys.readouterr().err
    assert "bad.toml: fees:" in err and err.count("\n") == 1
    bad.write_text("format = 1\nstrategy = \n")
    assert run("--params", str(bad), "--out", str(tmp_path / "o"), reports=reports) == 2
    assert "bad.toml: not a TOML file" in capsys.readouterr().err
    assert run(BCS, "--params", str(bad), "--out", str(tmp_path / "o"), reports=reports) == 2
    assert "not both" in capsys.readouterr().err
    assert run("--out", str(tmp_path / "o"), reports=reports) == 2
    assert "name a STRATEGY" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_a_run_with_sizing_and_constraints_replays_byte_for_byte(
    market: Path, tmp_path: Path
) -> None:
    """Issue 14: the constraints go into params.toml ([constraints]) and the sizing rule with
    the parameters; the replay has the same run id and files."""
    first, again = tmp_path / "a" / "run", tmp_path / "b" / "run"
    code = run_fresh(
        BCS, "--data", str(market), "--set", f"scan={json.dumps(SCAN)}",
        "--set", 'sizing={"rule": "risk", "risk_pct": 0.05}', "--capital", "25000",
        "--constraint", "max_open_positions=1", "--constraint", "max_risk_per_trade=0.05",
        "--out", str(first), reports=tmp_path / "reports",
    )  # fmt: skip
    assert code == 0
    doc = tomllib.loads((first / "params.toml").read_text())
    assert doc["constraints"] == {"max_open_positions": 1, "max_risk_per_trade": 0.05}
    assert doc["params"]["sizing"]["rule"] == "risk"
    assert run_fresh("--params", str(first / "params.toml"), "--out", str(again),
                     reports=tmp_path / "reports") == 0  # fmt: skip
    same_files(first, again)
