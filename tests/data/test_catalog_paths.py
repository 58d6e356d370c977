"""A crafted catalog cannot make the store open files outside the dataset.

Before the fix a ``catalog.json`` whose underlying was ``../../OUTSIDE`` made the store read
``<dataset>/spot/../../OUTSIDE/...``. Loading a catalog applies the writer's underlying check,
recorded file paths must be canonical, and resolved folders must stay inside the dataset.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from data_builders import DAY, UNDERLYING, build_dataset

from workbench.data.catalog import Catalog
from workbench.data.errors import SchemaError
from workbench.data.store import MarketStore
from workbench.model.names import UnsafeNameError


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    build_dataset(tmp_path / "ds")
    return tmp_path / "ds"


def _edit(root: Path, edit) -> None:  # type: ignore[no-untyped-def]
    raw = json.loads((root / "catalog.json").read_text())
    edit(raw)
    (root / "catalog.json").write_text(json.dumps(raw))


def test_an_underlying_that_climbs_out_is_refused_on_load(dataset: Path, tmp_path: Path) -> None:
    outside = tmp_path / "OUTSIDE" / "2024"
    outside.mkdir(parents=True)
    (outside / f"{DAY.isoformat()}.parquet").write_bytes(b"secret")

    def climb(raw: dict) -> None:
        raw["day_index"]["../../OUTSIDE"] = raw["day_index"].pop(UNDERLYING)
        raw["underlyings"]["../../OUTSIDE"] = raw["underlyings"].pop(UNDERLYING)

    _edit(dataset, climb)
    with pytest.raises(
        SchemaError,
        match=r"catalog\.json: invalid catalog: field underlyings: .*OUTSIDE.* not a valid name",
    ):
        Catalog.load(dataset)
    with pytest.raises(SchemaError, match="not a valid name"):
        MarketStore(dataset)


def test_a_recorded_file_path_must_be_canonical(dataset: Path) -> None:
    def climb(raw: dict) -> None:
        entry = next(iter(raw["files"].values()))
        raw["files"]["spot/../../x/2024/2024-01-02.parquet"] = entry

    _edit(dataset, climb)
    with pytest.raises(SchemaError, match="not a canonical dataset path"):
        Catalog.load(dataset)


def test_a_folder_linked_outside_the_dataset_is_refused(dataset: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    (dataset / "spot" / UNDERLYING).rename(elsewhere)
    (dataset / "spot" / UNDERLYING).symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(UnsafeNameError, match="outside"):
        MarketStore(dataset)


@pytest.mark.parametrize("root", ["data", "/tmp/x/data", "../rel/data"])
@pytest.mark.parametrize("kind", ["spot", "options"])
def test_the_string_paths_are_the_layout_paths(root: str, kind: str) -> None:
    """The string form the per-run stat loops use names the same file as ``data_path``."""
    from datetime import date

    from workbench.data.layout import data_path, data_path_str, data_relpath

    for day in (date(2019, 1, 2), date(2024, 12, 31)):
        path = data_path(Path(root), kind, "SPXW", day)  # type: ignore[arg-type]
        assert data_path_str(str(Path(root)), kind, "SPXW", day) == str(path)  # type: ignore[arg-type]
        assert Path(root) / data_relpath(kind, "SPXW", day) == path  # type: ignore[arg-type]


def test_the_store_day_file_is_its_path(dataset: Path) -> None:
    store = MarketStore(dataset)
    assert store.day_file("spot", UNDERLYING.lower(), DAY) == str(store.spot_path(UNDERLYING, DAY))
    assert store.day_file("options", UNDERLYING, DAY) == str(store.options_path(UNDERLYING, DAY))
    with pytest.raises(Exception, match="not in dataset"):
        store.day_file("spot", "NOPE", DAY)
