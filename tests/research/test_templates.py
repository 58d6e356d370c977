from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.engine.config import StrategyConfig
from workbench.engine.strategy import Strategy
from workbench.research.templates import (
    TemplateError,
    TemplateRepository,
    TemplateVersionError,
    load_template_file,
)
from workbench.research.versions import TemplateVersions


class DummyStrategy(Strategy):
    class Config(StrategyConfig):
        stop_loss: float = 0.25
        lots: int = 1


GOOD = """
name = "dummy"
version = 1
strategy = "test_templates:DummyStrategy"
description = "test"
tags = ["a"]
[params]
stop_loss = 0.5
"""


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(text)
    return path


def test_load_validate_and_list(tmp_path: Path) -> None:
    _write(tmp_path, "dummy", GOOD)
    repo = TemplateRepository(tmp_path)
    (template,) = repo.list()
    assert template.ref == "dummy@1"
    assert template.validate_params().stop_loss == 0.5
    assert template.validate_params({"lots": 3}).lots == 3
    assert len(template.sha256) == 64


def test_bad_params_name_the_field(tmp_path: Path) -> None:
    _write(tmp_path, "dummy", GOOD.replace("stop_loss = 0.5", "stop_loss = 'x'"))
    with pytest.raises(TemplateError, match="stop_loss"):
        TemplateRepository(tmp_path).get("dummy").validate_params()
    with pytest.raises(TemplateError, match="nonsense"):
        TemplateRepository(tmp_path).get("dummy").validate_params({"nonsense": 1})


def test_a_bad_override_is_named_as_an_override_not_a_fault_of_the_file(tmp_path: Path) -> None:
    """A bad value from --set / a grid is the caller's, not the template file's: the error says
    which value was given and that it overrode the template."""
    _write(tmp_path, "dummy", GOOD)
    template = TemplateRepository(tmp_path).get("dummy")
    with pytest.raises(TemplateError) as info:
        template.validate_params({"lots": "many"})
    message = str(info.value)
    assert "dummy.toml" in message
    assert "override lots='many'" in message and "valid integer" in message
    _write(tmp_path, "dummy", GOOD.replace("stop_loss = 0.5", "stop_loss = 'x'"))
    with pytest.raises(TemplateError) as info:
        TemplateRepository(tmp_path).get("dummy").validate_params({"lots": 2})
    assert "override lots" not in str(info.value) and "Config: stop_loss:" in str(info.value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (GOOD.replace("version = 1", "version = 0"), "version"),
        (
            GOOD.replace('strategy = "test_templates:DummyStrategy"', 'strategy = "no colon"'),
            "strategy",
        ),
        ("surprise = 1\n" + GOOD, "surprise"),
        ("name = [", "not valid TOML"),
        (GOOD.replace('name = "dummy"', 'name = "other"'), "file name"),
    ],
)
def test_invalid_files_name_the_fault(tmp_path: Path, text: str, fragment: str) -> None:
    path = _write(tmp_path, "dummy", text)
    with pytest.raises(TemplateError, match=fragment) as info:
        load_template_file(path)
    assert str(path) in str(info.value)


def test_unknown_template_lists_known(tmp_path: Path) -> None:
    _write(tmp_path, "dummy", GOOD)
    with pytest.raises(TemplateError, match="known: dummy"):
        TemplateRepository(tmp_path).get("missing")


def test_referenced_template_is_immutable_until_version_bump(tmp_path: Path) -> None:
    folder = tmp_path / "t"
    folder.mkdir()
    reports = tmp_path / "reports"
    path = _write(folder, "dummy", GOOD)
    repo = TemplateRepository(folder, refs_dir=reports)
    repo.record_reference(repo.get("dummy"))
    # unchanged file still loads
    assert repo.get("dummy").version == 1
    # an edit without a bump is refused
    path.write_text(GOOD.replace("stop_loss = 0.5", "stop_loss = 0.6"))
    with pytest.raises(TemplateVersionError, match="bump"):
        repo.get("dummy")
    with pytest.raises(TemplateVersionError):
        repo.list()
    # bumping the version makes it a new template
    path.write_text(
        GOOD.replace("stop_loss = 0.5", "stop_loss = 0.6").replace("version = 1", "version = 2")
    )
    assert repo.get("dummy").params["stop_loss"] == 0.6
    # without references nothing is enforced
    assert TemplateRepository(folder).get("dummy").version == 2


def test_missing_strategy_module(tmp_path: Path) -> None:
    _write(tmp_path, "dummy", GOOD.replace("test_templates:DummyStrategy", "no_such_module:X"))
    with pytest.raises(TemplateError, match="no_such_module"):
        TemplateRepository(tmp_path).get("dummy").strategy_class()


def _bumped(text: str, version: int, stop_loss: float) -> str:
    return text.replace("version = 1", f"version = {version}").replace(
        "stop_loss = 0.5", f"stop_loss = {stop_loss}"
    )


def test_a_referenced_version_loads_for_ever_after_the_file_moves_on(tmp_path: Path) -> None:
    folder, reports = tmp_path / "t", tmp_path / "reports"
    folder.mkdir()
    path = _write(folder, "dummy", GOOD)
    repo = TemplateRepository(folder, refs_dir=reports)
    repo.record_reference(repo.get("dummy"))  # a run used dummy@1
    path.write_text(_bumped(GOOD, 2, 0.7))
    assert repo.get("dummy").ref == "dummy@2" and repo.get("dummy").params["stop_loss"] == 0.7
    old = repo.get("dummy@1")
    assert old.ref == "dummy@1" and old.params["stop_loss"] == 0.5  # from the version store
    assert old.text == GOOD and old.validate_params().stop_loss == 0.5
    assert repo.get("dummy@2").params["stop_loss"] == 0.7  # the file
    versions = repo.versions("dummy")
    assert [(v["version"], v["source"], v["referenced"]) for v in versions] == [
        (1, "store", True),
        (2, "file", False),
    ]
    with pytest.raises(TemplateError, match=r"unknown template version dummy@3; known: dummy@1"):
        repo.get("dummy@3")
    for bad in ("Dummy", "dummy@0", "dummy@x", "../dummy", "dummy@1@2"):
        with pytest.raises(TemplateError, match=r"not a template name|not a safe name"):
            repo.get(bad)


def test_statuses_draft_active_archived(tmp_path: Path) -> None:
    folder, reports = tmp_path / "t", tmp_path / "reports"
    folder.mkdir()
    _write(folder, "dummy", GOOD)
    repo = TemplateRepository(folder, refs_dir=reports)
    repo.add(_bumped(GOOD, 2, 0.6))
    assert repo.get("dummy").ref == "dummy@2"  # the highest active version
    repo.add(_bumped(GOOD, 3, 0.8), status="draft")
    assert repo.get("dummy").ref == "dummy@2"  # a draft is never the default
    with pytest.raises(TemplateError, match="draft"):
        repo.get("dummy@3")  # nor runnable by name
    repo.add(_bumped(GOOD, 3, 0.9), status="draft")  # a draft's text may still change
    repo.set_status("dummy@3", "active")
    assert repo.get("dummy").params["stop_loss"] == 0.9
    repo.set_status("dummy@3", "archived")
    repo.set_status("dummy@2", "archived")
    assert repo.get("dummy").ref == "dummy@1"  # archived: never the default...
    assert repo.get("dummy@3").params["stop_loss"] == 0.9  # ...still runnable by version
    repo.set_status("dummy@1", "archived")  # the folder's version, stored to hold its status
    with pytest.raises(TemplateError, match="no active version"):
        repo.get("dummy")
    assert [t.name for t in repo.list()] == []  # nothing runnable by name
    with pytest.raises(ValueError, match="never goes back to draft"):
        repo.set_status("dummy@3", "draft")
    with pytest.raises(TemplateError, match="name the version"):
        repo.set_status("dummy", "active")
    # a version a run referenced is immutable; the folder's own version cannot be replaced
    repo.set_status("dummy@3", "active")
    repo.record_reference(repo.get("dummy@3"))
    with pytest.raises(TemplateVersionError, match="bump"):
        repo.add(_bumped(GOOD, 3, 0.95))
    with pytest.raises(TemplateVersionError, match="holds this version"):
        repo.add(_bumped(GOOD, 1, 0.95))
    assert repo.add(_bumped(GOOD, 3, 0.9)).ref == "dummy@3"  # the same text: accepted


def test_a_template_posted_as_json_and_a_store_only_name(tmp_path: Path) -> None:
    repo = TemplateRepository(tmp_path, refs_dir=tmp_path / "reports")
    text = json.dumps(
        {
            "name": "posted",
            "version": 1,
            "strategy": "test_templates:DummyStrategy",
            "params": {"lots": 2},
        }
    )
    repo.add(text)
    assert repo.names() == ["posted"] and repo.get("posted").params == {"lots": 2}
    assert [t.ref for t in repo.list()] == ["posted@1"]
    with pytest.raises(TemplateError, match="lots"):
        repo.add(text.replace('"lots": 2', '"lots": "many"'))
    with pytest.raises(TemplateError, match="not valid JSON"):
        repo.add("{nope")


def test_references_of_an_older_reports_folder_are_imported(tmp_path: Path) -> None:
    """A reports folder from before the version store keeps its immutability check."""
    folder, reports = tmp_path / "t", tmp_path / "reports"
    folder.mkdir()
    reports.mkdir()
    path = _write(folder, "dummy", GOOD)
    sha = load_template_file(path).sha256
    (reports / "template-refs.json").write_text(json.dumps({"dummy@1": sha, "gone@4": "0" * 64}))
    repo = TemplateRepository(folder, refs_dir=reports)
    assert TemplateVersions(reports).get("dummy", 1).text == GOOD  # type: ignore[union-attr]
    path.write_text(GOOD.replace("stop_loss = 0.5", "stop_loss = 0.6"))
    with pytest.raises(TemplateVersionError, match="bump"):
        repo.get("dummy")
    with pytest.raises(TemplateError, match="only the hash"):
        repo.get("gone@4")


def test_run_template_by_version_after_a_bump(nifty_tiny: Path, tmp_path: Path) -> None:
    """`protective-put@1` gets version 1 for ever: here the short straddle, bumped to 2."""
    from workbench.research.runs import run_template
    from workbench.research.templates import DEFAULT_TEMPLATES_DIR

    folder, reports = tmp_path / "t", tmp_path / "reports"
    folder.mkdir()
    original = (DEFAULT_TEMPLATES_DIR / "short-straddle.toml").read_text()
    (folder / "short-straddle.toml").write_text(original)
    first = run_template("short-straddle", data=nifty_tiny, out=tmp_path / "v1",
                         templates_dir=folder, refs_dir=reports, executor="serial")  # fmt: skip
    bumped = original.replace("version = 1", "version = 2").replace(
        "stop_loss_pct = 0.25", "stop_loss_pct = 0.6"
    )
    (folder / "short-straddle.toml").write_text(bumped)
    again = run_template("short-straddle@1", data=nifty_tiny, out=tmp_path / "again",
                         templates_dir=folder, refs_dir=reports, executor="serial")  # fmt: skip
    latest = run_template("short-straddle", data=nifty_tiny, out=tmp_path / "v2",
                          templates_dir=folder, refs_dir=reports, executor="serial")  # fmt: skip
    assert again.manifest["template"]["version"] == 1
    assert again.manifest["params"]["stop_loss_pct"] == 0.25
    assert again.manifest["run_id"] == first.manifest["run_id"]
    assert (tmp_path / "again" / "tradebook.parquet").read_bytes() == (
        tmp_path / "v1" / "tradebook.parquet"
    ).read_bytes()
    assert latest.manifest["template"]["version"] == 2
    assert latest.manifest["params"]["stop_loss_pct"] == 0.6
