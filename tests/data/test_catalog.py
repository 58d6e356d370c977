"""Catalog: validated on load, errors name the catalog path and the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from data_builders import build_dataset

from workbench.data.catalog import Catalog
from workbench.data.errors import CorruptFileError, DatasetNotFoundError, SchemaError


def test_load_from_folder_or_file(tmp_path: Path) -> None:
    cat = build_dataset(tmp_path / "ds")
    assert Catalog.load(tmp_path / "ds") == cat
    assert Catalog.load(tmp_path / "ds" / "catalog.json") == cat


def test_folder_without_catalog(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(
        DatasetNotFoundError, match=f"{tmp_path / 'empty'} is not a dataset: it has no catalog.json"
    ):
        Catalog.load(tmp_path / "empty")
    with pytest.raises(DatasetNotFoundError, match="does not exist"):
        Catalog.load(tmp_path / "nowhere" / "catalog.json")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(DatasetNotFoundError, match=r"notes\.txt is a file, not a dataset folder"):
        Catalog.load(tmp_path / "notes.txt")


def test_invalid_json_names_the_path(tmp_path: Path) -> None:
    build_dataset(tmp_path / "ds")
    path = tmp_path / "ds" / "catalog.json"
    path.write_text('{"name": "x",')
    with pytest.raises(CorruptFileError, match=f"{path}: not valid JSON"):
        Catalog.load(path)


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("bar_interval", "5min", "field bar_interval"),
        ("timezone", "Mars/Olympus", "field timezone: .*unknown IANA timezone"),
        ("content_version", "md5:abc", "field content_version"),
        ("row_counts", {"spot": -1, "options": 0, "rejected": 0}, r"field row_counts\.spot"),
        ("colour", "red", "field colour"),
    ],
)
def test_invalid_field_names_path_and_field(
    tmp_path: Path, field: str, value: object, match: str
) -> None:
    build_dataset(tmp_path / "ds")
    path = tmp_path / "ds" / "catalog.json"
    raw = json.loads(path.read_text())
    raw[field] = value
    path.write_text(json.dumps(raw))
    with pytest.raises(SchemaError, match=match) as info:
        Catalog.load(path)
    assert str(path) in str(info.value)


def test_missing_field(tmp_path: Path) -> None:
    build_dataset(tmp_path / "ds")
    path = tmp_path / "ds" / "catalog.json"
    raw = json.loads(path.read_text())
    del raw["venue"]
    path.write_text(json.dumps(raw))
    with pytest.raises(SchemaError, match="field venue: Field required"):
        Catalog.load(path)


def test_not_an_object(tmp_path: Path) -> None:
    build_dataset(tmp_path / "ds")
    path = tmp_path / "ds" / "catalog.json"
    path.write_text("[1, 2]")
    with pytest.raises(SchemaError, match="expected a JSON object"):
        Catalog.load(path)


def test_json_is_stable(tmp_path: Path) -> None:
    cat = build_dataset(tmp_path / "ds")
    text = (tmp_path / "ds" / "catalog.json").read_text()
    assert text == cat.to_json()
    assert Catalog.model_validate_json(text).to_json() == text
