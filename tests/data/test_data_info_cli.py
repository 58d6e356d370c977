"""``workbench data info DIR``."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from data_builders import DAY, UNDERLYING, option_table, spot_table, writer

from workbench.cli.main import main


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    w = writer(tmp_path / "ds")
    w.write_spot(UNDERLYING, DAY, spot_table(DAY))
    w.write_options(UNDERLYING, DAY, option_table(DAY))
    w.write_rejects(
        "hand",
        pa.table(
            {
                "source_file": ["a.csv"] * 3,
                "line": [4, 9, 12],
                "reason": ["bad strike", "bad strike", "crossed quote"],
            }
        ),
    )
    w.finalize()
    return tmp_path / "ds"


def test_info_prints_catalog_readably(dataset: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "info", str(dataset)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["dataset", "tiny"]
    assert any(line.startswith("content version   sha256:") for line in lines)
    assert "2024-01-02 .. 2024-01-02 (1 trading days)" in out
    assert f"  {UNDERLYING}" in out and "lot 25" in out and "[explicit spec]" in out
    assert "rejected by reason" in out
    start = lines.index("rejected by reason") + 1
    reasons = [line.split() for line in lines[start : lines.index("", start)]]
    assert reasons == [["bad", "strike", "2"], ["crossed", "quote", "1"]]
    assert "checksums         3 files recorded (sha256, size, rows)" in out
    assert any(line.split() == ["options", "20"] for line in lines)
    assert any(line.split() == ["rejected", "3"] for line in lines)


def test_info_json(dataset: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "info", str(dataset), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["rejected_by_reason"] == {"bad strike": 2, "crossed quote": 1}


def test_info_on_a_folder_without_catalog(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["data", "info", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path} is not a dataset: it has no catalog.json" in err


def test_info_without_rejects_has_no_reason_section(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    w = writer(tmp_path / "ds")
    w.write_spot(UNDERLYING, DAY, spot_table(DAY))
    w.finalize()
    assert main(["data", "info", str(tmp_path / "ds")]) == 0
    assert "rejected by reason" not in capsys.readouterr().out
