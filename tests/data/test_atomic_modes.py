"""Files and folders written atomically get the permissions a plain ``open``/``mkdir`` would
give under the process umask. ``mkstemp``/``mkdtemp`` make them 0600/0700, so every dataset
file, catalog, tearsheet, index and run folder was unreadable to anyone else sharing them."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_file_writes_follow_the_umask(tmp_path: Path, umask_022: None) -> None:
    from workbench.data.atomic import write_bytes_atomic

    write_bytes_atomic(tmp_path / "catalog.json", b"{}")
    assert mode(tmp_path / "catalog.json") == 0o644


def test_report_files_follow_the_umask(tmp_path: Path, umask_022: None) -> None:
    from workbench.analytics.tearsheet import write_atomic
    from workbench.research.grid import _write_json_atomic
    from workbench.research.index import write_index
    from workbench.research.templates import StrategyTemplate, TemplateRepository

    write_atomic(tmp_path / "tearsheet.html", "<p>x</p>")
    assert mode(tmp_path / "tearsheet.html") == 0o644
    _write_json_atomic(tmp_path / "grid-x.json", {"a": 1})
    assert mode(tmp_path / "grid-x.json") == 0o644
    day = tmp_path / "2026-01-02"
    day.mkdir()
    assert mode(write_index(day)) == 0o644
    repo = TemplateRepository(tmp_path, refs_dir=tmp_path / "reports")
    template = StrategyTemplate(name="t", version=1, strategy="m:C").model_copy(
        update={"path": tmp_path / "t.toml", "sha256": "0" * 64}
    )
    repo.record_reference(template)
    assert mode(tmp_path / "reports" / "repository.sqlite") == 0o644


def test_a_published_dataset_folder_follows_the_umask(tmp_path: Path, umask_022: None) -> None:
    """A dataset version is staged in a ``mkdtemp`` folder (0700) and renamed into place."""
    from data_builders import DAY2, build_dataset, spot_table, writer

    build_dataset(tmp_path / "ds")
    assert mode(tmp_path / "ds") == 0o755
    w = writer(tmp_path / "ds")  # an extension publishes a new staged folder too
    w.write_spot("TESTIDX", DAY2, spot_table(DAY2))
    w.finalize()
    assert mode(tmp_path / "ds") == 0o755
