"""The exchange calendars' session tables kept on disk between processes: the same sessions as
``exchange_calendars`` builds, never an old library's, a damaged file never used, and a
process that finds the table does not import the library at all."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.model import calendars
from workbench.model.calendars import SESSIONS_CACHE_ENV


def _clear() -> None:
    calendars._base_sessions.cache_clear()
    calendars._sessions.cache_clear()


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty table folder, and no tables remembered in this process."""
    folder = tmp_path / "calendars"
    monkeypatch.setenv(SESSIONS_CACHE_ENV, str(folder))
    _clear()
    yield folder
    _clear()


def _no_build(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(name: str) -> None:
        raise AssertionError(f"{name} was built from exchange_calendars, not read")

    monkeypatch.setattr(calendars, "_built_sessions", refuse)


@pytest.mark.parametrize("name", ["XNYS", "XBOM"])
def test_a_kept_table_is_the_library_sessions(
    fresh: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    want = calendars._built_sessions(name)
    first = calendars._base_sessions(name)  # built and written
    assert first == want
    (path,) = fresh.glob(f"{name}-*.json")
    _clear()
    _no_build(monkeypatch)
    again = calendars._base_sessions(name)  # read back
    assert again == want
    assert again.special_hours == want.special_hours and again.days == want.days
    assert len(want.days) > 5000
    assert path.is_file()


@pytest.mark.parametrize(
    "damage",
    ["truncated", "a day moved", "a special session changed", "not json", "empty"],
)
def test_a_damaged_table_is_built_again(
    fresh: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    want = calendars._base_sessions("XNYS")
    (path,) = fresh.glob("XNYS-*.json")
    raw = json.loads(path.read_text())
    if damage == "truncated":
        path.write_text(path.read_text()[: len(path.read_text()) // 2])
    elif damage == "a day moved":
        raw["days"][100] += 1  # still increasing, but not what was written
        path.write_text(json.dumps(raw))
    elif damage == "a special session changed":
        raw["special"][0][2] = "23:00:00"
        path.write_text(json.dumps(raw))
    elif damage == "not json":
        path.write_bytes(b"\x00\xff garbage")
    else:
        path.write_text(json.dumps({"days": [], "special": [], "check": ""}))
    assert calendars._stored_sessions(path) is None
    _clear()
    assert calendars._base_sessions("XNYS") == want  # built again from the library...
    assert calendars._stored_sessions(path) is not None  # ...and the file written whole


def test_another_library_version_has_another_table(
    fresh: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = calendars._sessions_file("XNYS")
    assert real is not None and real.parent == fresh
    package = tmp_path / "site" / "exchange_calendars"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "_version.py").write_text("__version__ = '99.0.0'\n")

    class Spec:
        origin = str(package / "__init__.py")

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: Spec())
    other = calendars._sessions_file("XNYS")
    assert other is not None and other != real
    assert calendars._sessions_file("XBOM") not in (real, other)


def test_turned_off_or_unwritable_builds_each_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SESSIONS_CACHE_ENV, "off")
    assert calendars._sessions_file("XNYS") is None
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv(SESSIONS_CACHE_ENV, str(blocked))
    _clear()
    try:
        assert calendars._base_sessions("XNYS") == calendars._built_sessions("XNYS")
    finally:
        _clear()
    assert blocked.read_text() == "not a folder"


def test_a_process_that_finds_the_table_does_not_import_the_library(
    fresh: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calendars._base_sessions("XNYS")  # written by this process
    script = (
        "import sys\n"
        "from datetime import date\n"
        "from workbench.model import next_trading_day\n"
        "print(next_trading_day('SPX', date(2019, 7, 3)))\n"
        "print('exchange_calendars' in sys.modules)\n"
    )
    env_out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    assert env_out == ["2019-07-05", "False"]  # July 4th skipped, from the kept table
    monkeypatch.setenv(SESSIONS_CACHE_ENV, "0")
    off = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    assert off == ["2019-07-05", "True"]
