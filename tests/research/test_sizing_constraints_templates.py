"""Sizing and constraints from a template's parameters and ``[constraints]`` table, the run
command's ``--constraints`` / ``--constraint``, and the tearsheet's notes (issue 14).

The market is the put credit spread golden market (tests/strategies/test_put_credit_spread.py):
on 2024-03-01 the scanner sells the SPY 480/475 put spread for a credit of 1.068 per unit
(ORATS fills), so one unit risks (5 - 1.068) x 100 = 393.20 before fees.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.strategies.dataset import Bar, write_market
from tests.strategies.test_put_credit_spread import DAYS, EXPIRY
from workbench.cli.main import main
from workbench.research.runs import run_strategy

RISK_PER_UNIT = (5 - 1.068) * 100

TEMPLATE = """\
name = "pcs-sized"
version = 1
strategy = "workbench.strategies.put_credit_spread:PutCreditSpread"
description = "put credit spread sized at 2 % risk of equity"

[params]
dte_window = [30, 45]

[params.scan]
short_delta = [0.10, 0.20]
width_min = 5.0
width_max = 5.0
min_credit_pct = 0.20

[params.scan.filters]
min_oi = 100

[params.sizing]
rule = "risk"
risk_pct = 0.02
{extra}
"""


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spot = {d: [("15:46", s)] for d, (s, _) in DAYS.items()}
    options = {
        d: {
            ("15:46", EXPIRY, float(k), "P"): Bar(m, -dl, half_spread=0.05)
            for k, (m, dl) in chain.items()
        }
        for d, (_, chain) in DAYS.items()
    }
    return write_market(
        tmp_path_factory.mktemp("pcs") / "spy", "SPY", spot, options, venue="CBOE",
        timezone="America/New_York", bar_interval="1d",
    )  # fmt: skip


def templates(tmp_path: Path, extra: str = "") -> Path:
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    (folder / "pcs-sized.toml").write_text(TEMPLATE.format(extra=extra))
    return folder


def test_template_sizing_block_sizes_from_equity(market: Path, tmp_path: Path) -> None:
    """risk 2 % of 100,000 = 2000 / 393.20 -> 5 units (5 contracts per leg)."""
    summary = run_strategy(
        "pcs-sized", out=tmp_path / "run", data=market, capital=100_000,
        fill="orats", fees="per-contract:0.65", templates_dir=templates(tmp_path),
        refs_dir=tmp_path / "reports",
    )  # fmt: skip
    book = pd.read_parquet(summary.out / "tradebook.parquet")
    opens = book[book["action"] == "open"]
    assert set(opens["qty"]) == {5}
    assert int(2000 // RISK_PER_UNIT) == 5
    assert summary.manifest["params"]["sizing"]["rule"] == "risk"
    # half the capital -> 1000 / 393.20 -> 2 units
    half = run_strategy(
        "pcs-sized", out=tmp_path / "half", data=market, capital=50_000,
        fill="orats", fees="per-contract:0.65", templates_dir=templates(tmp_path),
        refs_dir=tmp_path / "reports",
    )  # fmt: skip
    book = pd.read_parquet(half.out / "tradebook.parquet")
    assert set(book[book["action"] == "open"]["qty"]) == {2}
    assert half.manifest["run_id"] != summary.manifest["run_id"]


def test_template_constraints_table_refuses_and_the_tearsheet_counts(
    market: Path, tmp_path: Path
) -> None:
    """max_risk_per_trade 0.3 % of 100,000 = 300 < 5 x 393.20 -> every entry is refused."""
    folder = templates(tmp_path, "[constraints]\nmax_risk_per_trade = 0.003\n")
    summary = run_strategy(
        "pcs-sized", out=tmp_path / "run", data=market, capital=100_000,
        fill="orats", fees="per-contract:0.65", templates_dir=folder,
        refs_dir=tmp_path / "reports",
    )  # fmt: skip
    days = pd.read_csv(summary.out / "days.csv", keep_default_na=False)
    refused = days["refusal_messages"].str.count("max_risk_per_trade").sum()
    assert refused > 0 and summary.metrics["trades"] == 0
    assert summary.metrics["refused_by_constraint"] == {"max_risk_per_trade": refused}
    counted = days["constraint_refusals"].str.extract(r"max_risk_per_trade: (\d+)")[0]
    assert counted.dropna().astype(int).sum() == refused
    assert summary.manifest["constraints"] == {"max_risk_per_trade": 0.003}
    page = (summary.out / "tearsheet.html").read_text()
    assert f"refused by max_risk_per_trade: {refused} order(s)" in page
    # the run's own constraint overrides the template's field by field: 2 % lets it trade
    loose = run_strategy(
        "pcs-sized", out=tmp_path / "loose", data=market, capital=100_000,
        fill="orats", fees="per-contract:0.65", templates_dir=folder,
        refs_dir=tmp_path / "reports", constraints={"max_risk_per_trade": 0.02},
    )  # fmt: skip
    assert loose.metrics["refused_by_constraint"] == {} and loose.metrics["legs"] > 0


def test_a_bad_constraints_table_names_the_file_and_field(tmp_path: Path) -> None:
    from workbench.research.templates import TemplateError, TemplateRepository

    folder = templates(tmp_path, "[constraints]\nmax_heat = 0.1\n")
    with pytest.raises(TemplateError, match=r"pcs-sized.toml.*max_heat.*unknown constraint"):
        TemplateRepository(folder).get("pcs-sized")


def test_run_command_constraint_flags(
    market: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = templates(tmp_path)
    file = tmp_path / "limits.toml"
    file.write_text("[constraints]\nmax_open_positions = 5\nmax_risk_per_trade = 0.5\n")
    base = [
        "run", "pcs-sized", "--templates", str(folder), "--data", str(market),
        "--fill", "orats", "--fees", "per-contract:0.65", "--capital", "100000",
        "--executor", "serial", "--no-progress", "--reports", str(tmp_path / "reports"),
    ]  # fmt: skip
    out = tmp_path / "run"
    code = main([*base, "--constraints", str(file), "--constraint",
                 "max_risk_per_trade=0.003", "--out", str(out)])  # fmt: skip
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["constraints"] == {"max_open_positions": 5, "max_risk_per_trade": 0.003}
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["refused_by_constraint"]["max_risk_per_trade"] > 0
    capsys.readouterr()
    # bad input: one line naming the field, exit 2, no run folder
    code = main([*base, "--constraint", "max_risk_per_trad=0.1", "--out", str(tmp_path / "bad")])
    err = capsys.readouterr().err
    assert code == 2 and "max_risk_per_trad" in err and "max_risk_per_trade" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "bad").exists()
    code = main([*base, "--constraints", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "b")])
    err = capsys.readouterr().err
    assert code == 2 and "nope.toml does not exist" in err
