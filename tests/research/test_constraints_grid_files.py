"""A grid or walk-forward file's ``[constraints]`` table and the ``--constraints`` /
``--constraint`` flags of ``workbench grid``, ``sweep`` and ``walkforward`` (issue 14).

The market and template are tests/research/test_sizing_constraints_templates.py's: the put
credit spread sized at 2 % risk of 100,000 opens 5 units risking 5 x 393.20 = 1,966.00, so
``max_risk_per_trade = 0.003`` (300.00) refuses every entry and ``0.5`` refuses none.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.research.test_sizing_constraints_templates import RISK_PER_UNIT, templates
from tests.research.test_sizing_constraints_templates import market as market  # fixture
from workbench.cli.main import main

BINDING = 0.003  # 300.00 of 100,000 < 5 x 393.20
assert 100_000 * BINDING < 5 * RISK_PER_UNIT < 100_000 * 0.5

COMMON = """\
template = "pcs-sized"
templates = "{templates}"
data = "{data}"
fill = "orats"
fees = "per-contract:0.65"
capital = 100000
{extra}
"""


def grid_file(tmp_path: Path, market: Path, extra: str, name: str = "g.toml") -> Path:
    body = COMMON.format(templates=templates(tmp_path), data=market, extra="")
    file = tmp_path / name
    file.write_text(body + extra)
    return file


GRID = "[grid]\nprofit_target_pct = [0.5]\n"
WF_TOP = 'objective = "total_pnl"\n'  # top-level keys go before any table
WINDOWS = (
    "[grid]\nprofit_target_pct = [0.5]\n"
    '[windows]\nunit = "days"\ntrain = 3\nvalidate = 2\ntest = 3\n'
)


def _refused(run: Path) -> int:
    days = pd.read_csv(run / "days.csv", keep_default_na=False)
    return int(days["refusal_messages"].str.count("max_risk_per_trade").sum())


def test_sweep_file_constraints_reach_every_run_and_flags_override(
    market: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = grid_file(tmp_path, market, f"[constraints]\nmax_risk_per_trade = {BINDING}\n{GRID}")
    out = tmp_path / "sweep"
    code = main(["sweep", str(file), "--out", str(out), "--workers", "1", "--no-progress",
                 "--reports", str(tmp_path / "reports")])  # fmt: skip
    assert code == 0
    frame = pd.read_csv(out / "sweep.csv")
    assert frame["trades"].tolist() == [0]
    (best,) = out.glob("best-*")
    manifest = json.loads((best / "manifest.json").read_text())
    assert manifest["constraints"] == {"max_risk_per_trade": BINDING}
    metrics = json.loads((best / "metrics.json").read_text())
    refused = _refused(best)
    assert refused > 0 and metrics["refused_by_constraint"] == {"max_risk_per_trade": refused}
    assert f"max_risk_per_trade = {BINDING}" in (best / "params.toml").read_text()
    # --constraint over the file's table: the same sweep trades
    loose = tmp_path / "loose"
    code = main(["sweep", str(file), "--out", str(loose), "--workers", "1", "--no-progress",
                 "--reports", str(tmp_path / "reports"),
                 "--constraint", "max_risk_per_trade=0.5"])  # fmt: skip
    assert code == 0
    assert pd.read_csv(loose / "sweep.csv")["trades"].tolist()[0] > 0
    (best,) = loose.glob("best-*")
    assert json.loads((best / "manifest.json").read_text())["constraints"] == {
        "max_risk_per_trade": 0.5
    }
    # --constraints FILE on a grid file without a table binds again
    limits = tmp_path / "limits.toml"
    limits.write_text(f"[constraints]\nmax_risk_per_trade = {BINDING}\n")
    plain = grid_file(tmp_path, market, GRID, name="plain.toml")
    tight = tmp_path / "tight"
    code = main(["sweep", str(plain), "--out", str(tight), "--workers", "1", "--no-progress",
                 "--reports", str(tmp_path / "reports"), "--constraints", str(limits)])  # fmt: skip
    assert code == 0 and pd.read_csv(tight / "sweep.csv")["trades"].tolist() == [0]


def test_grid_file_constraints_reach_the_notebook_runs(market: Path, tmp_path: Path) -> None:
    file = grid_file(tmp_path, market, f"[constraints]\nmax_risk_per_trade = {BINDING}\n{GRID}")
    code = main(["grid", str(file), "--reports", str(tmp_path / "reports"), "--workers", "1"])
    assert code == 0
    (run,) = [p for p in (tmp_path / "reports").glob("*/*/manifest.json")]
    manifest = json.loads(run.read_text())
    assert manifest["constraints"] == {"max_risk_per_trade": BINDING}
    refused = _refused(run.parent)
    metrics = json.loads((run.parent / "metrics.json").read_text())
    assert refused > 0 and metrics["refused_by_constraint"] == {"max_risk_per_trade": refused}


def test_walkforward_file_constraints_and_flags(
    market: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = grid_file(
        tmp_path,
        market,
        f"{WF_TOP}[constraints]\nmax_risk_per_trade = {BINDING}\n{WINDOWS}",
        "wf.toml",
    )
    base = ["walkforward", str(file), "--workers", "1", "--no-progress",
            "--reports", str(tmp_path / "reports")]  # fmt: skip
    assert main([*base, "--out", str(tmp_path / "wf")]) == 0
    windows = json.loads((tmp_path / "wf" / "walk_forward.json").read_text())
    assert main([*base, "--out", str(tmp_path / "wf2"), "--constraint",
                 "max_risk_per_trade=0.5"]) == 0  # fmt: skip
    loose = json.loads((tmp_path / "wf2" / "walk_forward.json").read_text())
    capsys.readouterr()
    phases = ("train_trades", "validate_trades", "test_trades")
    tight_trades = [w[p] for w in windows["windows"] for p in phases]
    loose_trades = [w[p] for w in loose["windows"] for p in phases]
    assert tight_trades and all(t == 0 for t in tight_trades)
    assert sum(loose_trades) > 0  # the same windows trade once the constraint is loosened
    assert windows["config"]["constraints"] == {"max_risk_per_trade": BINDING}
    assert loose["config"]["constraints"] == {"max_risk_per_trade": 0.5}


@pytest.mark.parametrize("command", ["sweep", "grid", "walkforward"])
@pytest.mark.parametrize(
    ("table", "field"),
    [
        ("max_risk_per_trad = 0.1", "max_risk_per_trad"),
        ("max_open_positions = -1", "max_open_positions"),
        ('max_portfolio_heat = "lots"', "max_portfolio_heat"),
    ],
)
def test_a_bad_constraints_table_is_one_line_naming_file_and_field(
    market: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    table: str,
    field: str,
) -> None:
    top, rest = (WF_TOP, WINDOWS) if command == "walkforward" else ("", GRID)
    file = grid_file(tmp_path, market, f"{top}[constraints]\n{table}\n{rest}", "bad.toml")
    out = tmp_path / "out"
    args = [command, str(file), "--reports", str(tmp_path / "reports")]
    if command != "grid":
        args += ["--out", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "bad.toml: invalid" in err and f"constraints: Value error, '{field}'" in err, err
    assert not out.exists() and not (tmp_path / "reports").exists()


@pytest.mark.parametrize("command", ["sweep", "walkforward", "grid"])
@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (["--constraint", "max_risk_per_trade=-1"], "'max_risk_per_trade'"),
        (["--constraint", "max_risk=0.1"], "'max_risk': unknown constraint"),
        (["--constraints", "nope.toml"], "nope.toml does not exist"),
    ],
)
def test_a_bad_constraint_flag_is_one_line(
    market: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    flags: list[str],
    fragment: str,
) -> None:
    rest = WF_TOP + WINDOWS if command == "walkforward" else GRID
    file = grid_file(tmp_path, market, rest)
    out = tmp_path / "out"
    args = [command, str(file), "--reports", str(tmp_path / "reports"), *flags]
    if command != "grid":
        args += ["--out", str(out)]
    code = main(args)
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and fragment in err, err
    assert not out.exists() and not (tmp_path / "reports").exists()
