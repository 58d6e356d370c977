from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from workbench.data.atomic import replace_folder


def _write(folder: Path, names: tuple[str, ...]) -> None:
    for name in names:
        (folder / name).write_text(name)


def test_replace_folder_writes_and_replaces_its_own_output(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with replace_folder(out, ("a.json",), "a run folder") as tmp:
        _write(tmp, ("a.json", "b.csv"))
    assert sorted(p.name for p in out.iterdir()) == ["a.json", "b.csv"]
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~mask, (
        "umask permissions, not mkdtemp's 0700"
    )
    assert stat.S_IMODE((out / "a.json").stat().st_mode) == 0o666 & ~mask
    with replace_folder(out, ("a.json",), "a run folder") as tmp:
        _write(tmp, ("a.json",))
    assert sorted(p.name for p in out.iterdir()) == ["a.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["run"], "no temporary left behind"


def test_an_error_leaves_the_old_folder(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    _write(out, ("a.json",))
    with pytest.raises(RuntimeError), replace_folder(out, ("a.json",), "a run folder") as tmp:
        _write(tmp, ("a.json", "partial"))
        raise RuntimeError("killed")
    assert [p.name for p in out.iterdir()] == ["a.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_refuses_a_file_or_a_foreign_folder(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("keep me")
    with (
        pytest.raises(ValueError, match="is a file"),
        replace_folder(target, ("a.json",), "a run folder"),
    ):
        pass
    assert target.read_text() == "keep me"
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    _write(dataset, ("catalog.json",))
    with (
        pytest.raises(ValueError, match=r"not a run folder \(it holds catalog\.json\)"),
        replace_folder(dataset, ("a.json",), "a run folder"),
    ):
        pass
    assert (dataset / "catalog.json").exists()
