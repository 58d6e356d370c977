"""Which modules are the researcher's own: the resolved path of a module's file, folder by
folder (engine/usercode.py), must be exactly what resolving the whole path gives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workbench.engine import usercode


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    """Real folders, a linked folder, a linked file, a link to a link, a dangling link."""
    (tmp_path / "lib" / "pkg").mkdir(parents=True)
    (tmp_path / "user" / "code").mkdir(parents=True)
    (tmp_path / "lib" / "pkg" / "mod.py").write_text("")
    (tmp_path / "user" / "code" / "mine.py").write_text("")
    (tmp_path / "lib" / "linked").symlink_to(tmp_path / "user" / "code")
    (tmp_path / "lib" / "pkg" / "alias.py").symlink_to(tmp_path / "user" / "code" / "mine.py")
    (tmp_path / "lib" / "pkg" / "alias2.py").symlink_to(tmp_path / "lib" / "pkg" / "alias.py")
    (tmp_path / "lib" / "pkg" / "gone.py").symlink_to(tmp_path / "nowhere.py")
    return tmp_path


def _cases(root: Path) -> list[str]:
    return [
        f"{root}/lib/pkg/mod.py",
        f"{root}/lib/linked/mine.py",  # through a linked folder
        f"{root}/lib/pkg/alias.py",  # the file itself is a link
        f"{root}/lib/pkg/alias2.py",  # a link to a link
        f"{root}/lib/pkg/gone.py",  # a dangling link
        f"{root}/lib/linked/../pkg/mod.py",  # '..' after a link: the link's target's parent
        f"{root}/lib/pkg/missing.py",  # no such file
        f"{root}/lib//pkg/./mod.py",
        "relative/mod.py",
        f"{root}/lib/pkg/",
    ]


def test_folder_by_folder_resolution_equals_resolving_the_whole_path(tree: Path) -> None:
    usercode._real_dirs.clear()
    for _ in range(2):  # the second pass is served from the folder memo
        for path in _cases(tree):
            assert usercode._real_path(path) == os.path.realpath(path), path


def test_a_file_reached_through_a_linked_library_folder_is_the_researchers(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A module whose file lies in a library folder only through a link is the researcher's
    own (it travels by value), and one truly inside is not."""
    import types

    monkeypatch.setattr(usercode, "_LIBRARY_ROOTS", (f"{tree}/lib{os.sep}",))
    monkeypatch.setattr(usercode, "_user_modules", {})
    usercode._real_dirs.clear()
    for name, file, mine in [
        ("wb_t_linked", f"{tree}/lib/linked/mine.py", True),
        ("wb_t_alias", f"{tree}/lib/pkg/alias.py", True),
        ("wb_t_lib", f"{tree}/lib/pkg/mod.py", False),
    ]:
        module = types.ModuleType(name)
        module.__file__ = file
        monkeypatch.setitem(__import__("sys").modules, name, module)
        assert usercode.is_user_module(name) is mine, name
