from __future__ import annotations

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
