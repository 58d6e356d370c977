"""The public API is typed where users import it: ``from workbench import Strategy`` resolves
for mypy outside the repository (``py.typed``), ``Strategy[Config]`` types ``self.config``,
and ``run_backtest`` has real parameter types."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

USER = textwrap.dedent(
    """
    from datetime import time

    from workbench import (
        BarContext, ExpiryRule, Exits, RunSpec, Selection, StopLoss, Strategy, StrategyConfig,
        run_backtest,
    )


    class StraddleConfig(StrategyConfig):
        entry: time = time(9, 20)


    class Straddle(Strategy[StraddleConfig]):
        Config = StraddleConfig

        def on_bar(self, bar: BarContext) -> None:
            expiry = bar.expiry(ExpiryRule(dte=7))
            put = bar.select("P", expiry=expiry, rule=Selection(method="atm"))
            if self.idle and put is not None and bar.time >= self.config.entry:
                self.try_fill([self.add(put, "SELL")])
            reveal_type(self.config.entry)


    exits = Exits(StopLoss(pct=0.5))
    result = run_backtest(Straddle, RunSpec(data="data"), executor="serial")
    reveal_type(result.metrics)
    wrong: int = Straddle().config.entry
    run_backtest(Straddle, data=3)
    """
)


@pytest.mark.slow
def test_mypy_sees_the_public_api_from_a_user_folder(tmp_path: Path) -> None:
    (tmp_path / "user.py").write_text(USER)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--no-incremental",
            "--cache-dir",
            str(tmp_path / ".mc"),
            "user.py",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
    )
    out = done.stdout
    assert "import-not-found" not in out and "import-untyped" not in out, out
    assert 'Revealed type is "datetime.time"' in out, out
    assert 'Revealed type is "dict[str, Any]"' in out, out
    # the two deliberate mistakes are caught, nothing else
    assert 'variable has type "int"' in out and 'Argument "data"' in out, out
    assert out.count("error:") == 2, out


def test_the_package_ships_py_typed() -> None:
    import workbench

    assert (Path(workbench.__file__).parent / "py.typed").is_file()
    text = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert 'workbench = ["py.typed"]' in text


def test_every_public_name_imports() -> None:
    import workbench
    import workbench.engine

    for module in (workbench, workbench.engine):
        for name in module.__all__:
            assert getattr(module, name) is not None, name
