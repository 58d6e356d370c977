"""``workbench data ingest`` end to end, and what ``workbench data info`` then shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from ingest_builders import CBOE_HEADER, SET1, cboe_row, write_csv

from workbench.cli.main import main


def test_ingest_then_info(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "spx"
    code = main(
        ["data", "ingest", "--format", "cboe-eod", str(SET1), "--out", str(out), "--no-progress"]
    )
    text = capsys.readouterr().out
    assert code == 0 and "rows read      1,218" in text and "exchange_holiday_file" in text
    assert main(["data", "info", str(out)]) == 0
    info = capsys.readouterr().out
    assert "rejected by reason" in info and "exchange_holiday_file" in info and "34" in info


def test_refused_file_gives_status_1_and_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write_csv(tmp_path / "good.csv", CBOE_HEADER, [cboe_row()])
    bad = write_csv(tmp_path / "bad.csv", "a,b", ["1,2"])
    code = main(
        [
            "data",
            "ingest",
            "--format",
            "cboe-eod",
            str(good),
            str(bad),
            "--out",
            str(tmp_path / "o"),
            "--no-progress",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and "bad.csv" in err and "missing column(s)" in err


def test_bad_arguments_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "data",
                "ingest",
                "--format",
                "cboe-eod",
                str(tmp_path / "nope.csv"),
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    assert "does not exist" in capsys.readouterr().err
    good = write_csv(tmp_path / "good.csv", CBOE_HEADER, [cboe_row()])
    assert (
        main(
            [
                "data",
                "ingest",
                "--format",
                "cboe-eod",
                str(good),
                "--underlying",
                "SPX",
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    assert "--underlying does not apply" in capsys.readouterr().err
