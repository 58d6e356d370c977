"""The code identity covers the researcher's code, not the Python installation's."""

from __future__ import annotations

import abc
import sysconfig
import typing
from pathlib import Path

import pytest

from workbench.engine import usercode
from workbench.strategies.every_entry import EveryEntryPutSpread
from workbench.strategies.iron_condor import WeeklyIronCondor


def test_standard_library_classes_are_not_hashed() -> None:
    """``Strategy`` is ``Generic[ConfigT]``: typing.Generic is in every strategy's MRO, and
    hashing it read and parsed the whole of typing.py in every new process (~40 ms of each
    batch run's cold start) and tied run ids to the interpreter's patch release."""
    own = usercode._own_classes(WeeklyIronCondor)
    assert typing.Generic not in own
    assert WeeklyIronCondor in own  # the strategy and its own mixins stay
    assert any(k.__name__ == "EntryFilters" for k in own)


def test_a_researchers_module_with_a_standard_library_name_is_still_hashed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A researcher's own ``signal.py`` has a standard library name, not its place."""
    import importlib.util
    import sys

    path = tmp_path / "signal.py"
    path.write_text(
        "from workbench.strategies.every_entry import EveryEntryPutSpread\n\n"
        "class Mine(EveryEntryPutSpread):\n    pass\n"
    )
    spec = importlib.util.spec_from_file_location("signal", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "signal", module)
    spec.loader.exec_module(module)
    assert module.Mine in usercode._own_classes(module.Mine)


def test_a_mixin_of_the_researchers_stays_next_to_a_standard_library_base() -> None:
    class Mixin:
        def helper(self) -> int:
            return 1

    class Mine(Mixin, EveryEntryPutSpread, abc.ABC):
        pass

    own = usercode._own_classes(Mine)
    assert own[:2] == [Mine, Mixin]
    assert abc.ABC not in own and typing.Generic not in own


def test_identity_reads_no_standard_library_file(monkeypatch: pytest.MonkeyPatch) -> None:
    paths = sysconfig.get_paths()
    stdlib = Path(paths["stdlib"]).resolve()
    site = Path(paths["purelib"]).resolve()  # inside stdlib when not in a virtual env
    read: list[str] = []
    real = usercode._file_text

    def spy(filename: str) -> str:
        read.append(filename)
        return real(filename)

    monkeypatch.setattr(usercode, "_file_text", spy)

    class Fresh(EveryEntryPutSpread):  # a class object not identified before in this process
        pass

    usercode.code_identity(Fresh)
    assert read  # the researcher's own file was hashed
    inside = [
        f
        for f in read
        if Path(f).resolve().is_relative_to(stdlib) and not Path(f).resolve().is_relative_to(site)
    ]
    assert inside == []
