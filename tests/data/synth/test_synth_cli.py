"""``workbench data synth``: output and one-line errors naming the argument."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.cli.main import main


def test_synth_prints_where_version_and_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ds"
    code = main(
        [
            "data",
            "synth",
            "--profile",
            "nifty-intraday",
            "--days",
            "1",
            "--start",
            "2024-01-02",
            "--seed",
            "3",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert f"wrote {out.absolute()}" in printed
    assert "content version  sha256:" in printed
    assert "rows             spot 375  options " in printed


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--profile", "nope"], "--profile"),
        (["--days", "0"], "--days"),
        (["--days", "x"], "--days"),
        (["--years", "-2"], "--years"),
        (["--start", "yesterday"], "--start"),
        (["--seed", "-5"], "--seed"),
        (["--days", "2", "--years", "1"], "--years"),
        (["--workers", "0"], "--workers"),
    ],
)
def test_bad_arguments_give_one_line_naming_the_argument(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], flag: str
) -> None:
    code = main(["data", "synth", *args, "--out", str(tmp_path / "ds"), "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and flag in err
    assert not (tmp_path / "ds").exists()


def test_non_dataset_out_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file.txt").write_text("x")
    code = main(["data", "synth", "--days", "1", "--out", str(tmp_path), "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "--out" in err
