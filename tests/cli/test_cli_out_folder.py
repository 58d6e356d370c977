"""``--out`` never replaces what is not the command's own output: a file, a dataset, a folder of
other things. Before, ``workbench run ... --out data/nifty-demo`` deleted the dataset."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.cli.main import main
from workbench.cli.out_folder import check_out_folder


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda p: p.write_text("notes"), "is a file"),
        (lambda p: (p.mkdir(), (p / "catalog.json").write_text("{}")), "holds catalog.json"),
        (lambda p: (p.mkdir(), (p / "a.txt").write_text("x")), "holds a.txt"),
    ],
)
def test_run_refuses_an_out_that_is_not_a_run_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: object, fragment: str
) -> None:
    out = tmp_path / "target"
    make(out)  # type: ignore[operator]
    before = _tree(tmp_path)
    strategy = "workbench.strategies.short_straddle:IntradayShortStraddle"
    code = main(["run", strategy, "--data", str(tmp_path / "no-dataset"), "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--out {out}" in err and fragment in err
    assert _tree(tmp_path) == before


def test_the_command_own_output_or_an_empty_or_absent_folder_may_be_replaced(
    tmp_path: Path,
) -> None:
    check_out_folder(tmp_path / "absent", ("manifest.json",), "a run folder")
    (tmp_path / "empty").mkdir()
    check_out_folder(tmp_path / "empty", ("manifest.json",), "a run folder")
    run = tmp_path / "run"
    run.mkdir()
    for name in ("manifest.json", "tradebook.parquet", "tearsheet.html"):
        (run / name).write_text("x")
    check_out_folder(run, ("manifest.json", "tradebook.parquet"), "a run folder")
    with pytest.raises(ValueError, match=r"--out .*run: not an event comparison folder"):
        check_out_folder(run, ("event.json",), "an event comparison folder")


@pytest.mark.parametrize(
    "argv",
    [
        ["events", "covid-crash-2020", "--compare", "--data", "{data}", "--out", "{out}"],
        ["walkforward", "{spec}", "--out", "{out}"],
    ],
)
def test_events_and_walkforward_refuse_a_foreign_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    out = tmp_path / "target"
    out.mkdir()
    (out / "catalog.json").write_text("{}")
    spec = tmp_path / "wf.toml"
    spec.write_text("not toml [")
    before = _tree(tmp_path)
    values = {"data": str(tmp_path / "none"), "out": str(out), "spec": str(spec)}
    code = main([a.format(**values) for a in argv])
    assert code == 2
    err = capsys.readouterr().err
    assert f"--out {out}" in err and "holds catalog.json" in err
    assert _tree(tmp_path) == before
