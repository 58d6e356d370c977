"""``workbench validate TEMPLATE`` and ``workbench export RUN --format parquet|csv|json``."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.cli.test_cli_params_replay import BCS, market  # noqa: F401  (fixture)
from tests.strategies.test_bear_call_spread import SCAN
from workbench.cli.main import main
from workbench.research.templates import DEFAULT_TEMPLATES_DIR


def validate(*args: str) -> int:
    return main(["validate", *args])


def test_every_shipped_template_validates(capsys: pytest.CaptureFixture[str]) -> None:
    for path in sorted(DEFAULT_TEMPLATES_DIR.glob("*.toml")):
        assert validate(str(path)) == 0, capsys.readouterr().out
        out = capsys.readouterr().out
        assert out.startswith(f"OK {path.stem}@") and out.count("\n") == 1
    assert validate("bear-call-spread") == 0
    assert capsys.readouterr().out.startswith(
        "OK bear-call-spread@1 (workbench.strategies.bear_call_spread:BearCallSpread"
    )


def test_each_problem_is_named_with_its_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'name = "bad"\nversion = 0\nstrategy = "' + BCS + '"\n[params]\nqty = 0\nscna = 1\n'
    )
    assert validate(str(bad)) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{bad}: version: ")
    assert any(line.startswith(f"{bad}: params.qty: ") for line in lines)
    assert any("params.scna: unknown parameter; did you mean 'scan'?" in line for line in lines)
    assert len(lines) == 3
    nostrat = tmp_path / "nostrat.toml"
    nostrat.write_text('name = "nostrat"\nversion = 1\nstrategy = "workbench.strategies.nope:X"\n')
    assert validate(str(nostrat)) == 1
    assert capsys.readouterr().out.startswith(f"{nostrat}: strategy: ")
    misnamed = tmp_path / "other.toml"
    misnamed.write_text('name = "ok-name"\nversion = 1\nstrategy = "' + BCS + '"\n')
    assert validate(str(misnamed)) == 1
    assert "name: 'ok-name': the file must be named ok-name.toml" in capsys.readouterr().out
    broken = tmp_path / "broken.toml"
    broken.write_text("name = \n")
    assert validate(str(broken)) == 1
    assert capsys.readouterr().out.startswith(f"{broken}: (file): not valid TOML")
    assert validate(str(tmp_path / "gone.toml")) == 1
    assert "(file): no such template file" in capsys.readouterr().out
    assert validate("no-such-template") == 1
    assert "template: unknown template 'no-such-template'" in capsys.readouterr().out
    assert validate("bear-call-spread", "--set", "qty=-1") == 1
    assert "override qty=-1, params.qty:" in capsys.readouterr().out


@pytest.fixture(scope="module")
def run_folder(market: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    out = tmp_path_factory.mktemp("export") / "run"
    assert main(["run", BCS, "--data", str(market), "--set", f"scan={json.dumps(SCAN)}",
                 "--set", "max_cycles=2", "--no-progress", "--executor", "serial",
                 "--out", str(out)]) == 0  # fmt: skip
    return out


def test_export_parquet_csv_json(run_folder: Path, tmp_path: Path) -> None:
    saved = pq.read_table(run_folder / "trades.parquet")
    assert saved.num_rows == 1  # the profit-target position of the golden test
    assert (
        main(["export", str(run_folder), "--format", "parquet", "--out", str(tmp_path / "p")]) == 0
    )
    trades = pq.read_table(tmp_path / "p" / "trades.parquet")
    assert trades.equals(saved)
    daily = pq.read_table(tmp_path / "p" / "daily.parquet")
    assert daily.schema.field("date").type == pa.date32()
    assert daily.column("date").to_pylist()[0] == date(2024, 3, 1)
    metrics = {
        r["metric"]: r for r in pq.read_table(tmp_path / "p" / "metrics.parquet").to_pylist()
    }
    assert metrics["total_pnl"]["value"] == pytest.approx(51.0)
    assert main(["export", str(run_folder), "--format", "csv", "--out", str(tmp_path / "c")]) == 0
    with open(tmp_path / "c" / "trades.csv") as fh:
        (row,) = list(csv.DictReader(fh))
    assert (row["entry_date"], row["short_strike"], row["exit_reason"]) == (
        "2024-03-01", "520", "profit_target",
    )  # fmt: skip
    assert float(row["pnl"]) == pytest.approx(51.0) and row["vix_at_entry"] == ""
    assert main(["export", str(run_folder), "--format", "json", "--out", str(tmp_path / "j")]) == 0
    (jrow,) = json.loads((tmp_path / "j" / "trades.json").read_text())
    assert jrow["exit_date"] == "2024-03-05" and jrow["days_held"] == 4
    assert jrow["vix_at_entry"] is None
    assert json.loads((tmp_path / "j" / "metrics.json").read_text())["total_pnl"] == pytest.approx(
        51.0
    )
    assert len(json.loads((tmp_path / "j" / "daily.json").read_text())) == 11


def test_export_of_a_run_saved_before_trades_parquet_rebuilds_it(
    run_folder: Path, tmp_path: Path
) -> None:
    import shutil

    old = tmp_path / "old"
    shutil.copytree(run_folder, old)
    (old / "trades.parquet").unlink()
    assert main(["export", str(old), "--format", "parquet", "--out", str(tmp_path / "p")]) == 0
    assert pq.read_table(tmp_path / "p" / "trades.parquet").equals(
        pq.read_table(run_folder / "trades.parquet")
    )


def test_export_errors_are_one_line_and_write_nothing(
    run_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["export", str(tmp_path / "nope"), "--format", "csv", "--out", str(out)]) == 2
    assert "nope: no such run folder" in capsys.readouterr().err
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "manifest.json").write_text("{}")
    assert main(["export", str(partial), "--format", "csv", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "not a complete run folder (missing tradebook.parquet, daily.csv, metrics.json)" in err
    assert main(["export", str(run_folder), "--format", "csv", "--out", str(run_folder)]) == 2
    assert "is the run folder itself" in capsys.readouterr().err
    assert not out.exists()
