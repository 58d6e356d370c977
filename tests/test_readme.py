"""The README's ten-line example, exactly as written, where researchers run it.

* as a script file in a subprocess (no ``__main__`` guard, the default executor, 60 days, so the
  days run on the local pool);
* as a notebook cell executed by nbclient in a real kernel (the class lives in the kernel's
  ``__main__``), then the same class on a spawn process pool and on a local Dask cluster;

each giving the same numbers as a serial run of the same code in this process.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def readme_example() -> str:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert blocks, "README has a python example"
    return blocks[0]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder where ``data/nifty-demo`` is the demo dataset (60 days from 2024-01-01), as
    in the repository after ``make demo``."""
    from workbench.research.demo import ensure_demo_data

    data = ensure_demo_data(ROOT, progress=False)
    folder = tmp_path_factory.mktemp("readme")
    (folder / "data").mkdir()
    (folder / "data" / "nifty-demo").symlink_to(data)
    return folder


@pytest.fixture(scope="module")
def serial_metrics(workdir: Path) -> dict[str, Any]:
    """The example's metrics from a serial run in this process, of the same class source."""
    from workbench import run_backtest

    code = readme_example()
    head = code[: code.index("result = run_backtest(")]
    module = types.ModuleType("readme_serial")
    sys.modules["readme_serial"] = module  # pydantic resolves the Config's annotations there
    exec(compile(head, "readme_serial.py", "exec"), module.__dict__)
    result = run_backtest(
        module.ShortStraddle,
        data=workdir / "data" / "nifty-demo",
        start="2024-01-01",
        end="2024-03-31",
        executor="serial",
        progress=False,
    )
    assert result.metrics["days"] == 60 and result.metrics["fills"] > 0
    return dict(result.metrics)


def _printed_metrics(text: str) -> dict[str, Any]:
    lines = [line for line in text.splitlines() if line.startswith("{'total_pnl'")]
    assert len(lines) == 1, f"the example prints its metrics once, got: {text[-2000:]}"
    return ast.literal_eval(lines[0])  # type: ignore[no-any-return]


def test_readme_example_runs_verbatim_as_a_script(
    workdir: Path, serial_metrics: dict[str, Any]
) -> None:
    """Copied into a file and run with ``python``: no guard, 60 days on the default (pool)
    executor. It used to crash (bootstrapping RuntimeError, BrokenProcessPool)."""
    script = workdir / "readme_example.py"
    script.write_text(readme_example())
    env = {**os.environ, "PYTHONPATH": ""}
    done = subprocess.run(
        [sys.executable, script.name],
        cwd=workdir,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert _printed_metrics(done.stdout) == serial_metrics


def _notebook(*cells: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


ELSEWHERE = """
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dask.distributed import Client, LocalCluster

span = dict(data="data/nifty-demo", start="2024-01-01", end="2024-03-31", progress=False)
serial = run_backtest(ShortStraddle, executor="serial", **span)
with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
    on_pool = run_backtest(ShortStraddle, executor=pool, **span)
with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
    with Client(cluster) as client:
        on_dask = run_backtest(ShortStraddle, executor=client, **span)
        on_dask_executor = run_backtest(ShortStraddle, executor=client.get_executor(), **span)
import json
same = {
    name: r.tradebook.drop(columns=["run_id"]).equals(serial.tradebook.drop(columns=["run_id"]))
    for name, r in [("pool", on_pool), ("dask", on_dask), ("dask_executor", on_dask_executor)]
}
print("EQUAL=" + json.dumps(same))
print("RUN_IDS=" + json.dumps(sorted({r.run_id for r in (serial, on_pool, on_dask, on_dask_executor)})))
print("FILLS=" + str(len(serial.tradebook)))
"""


def test_readme_example_in_a_notebook_on_every_executor(
    workdir: Path, serial_metrics: dict[str, Any]
) -> None:
    """Pasted into a notebook cell (the class is the kernel's ``__main__``): the default
    executor (the local pool), a spawn process pool and a local Dask cluster all give the
    serial tradebook. It used to fail with "Can't get attribute 'ShortStraddle.Config' on
    <module '__main__'>"."""
    nb = _notebook(readme_example(), ELSEWHERE)
    NotebookClient(
        nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}
    ).execute()
    out = "".join(
        o.get("text", "")
        for c in nb.cells
        for o in c.get("outputs", [])
        if o.get("name") == "stdout"
    )
    assert _printed_metrics(out) == serial_metrics
    found = dict(
        line.split("=", 1)
        for line in out.splitlines()
        if line.split("=", 1)[0] in ("EQUAL", "RUN_IDS", "FILLS")
    )
    assert json.loads(found["EQUAL"]) == {"pool": True, "dask": True, "dask_executor": True}
    assert len(json.loads(found["RUN_IDS"])) == 1  # the executor is not part of a run's identity
    assert int(found["FILLS"]) == serial_metrics["fills"]


MY_STRATEGIES = """
from datetime import time

from workbench import Strategy, StrategyConfig


class MyStraddle(Strategy):
    class Config(StrategyConfig):
        entry: time = time(9, 20)

    def on_bar(self, bar):
        if self.idle and bar.time >= self.config.entry:
            atm = bar.atm(expiry=0)
            self.try_fill([self.add(atm, "C", "SELL"), self.add(atm, "P", "SELL")])
"""

MY_TEMPLATE = """
name = "my-straddle"
version = 1
strategy = "../my_strategies.py:MyStraddle"
[params]
entry = "10:00"
"""


def test_readme_user_strategy_commands_run_as_written(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's two ``workbench run`` lines for a file and a template of one's own, with
    the files they name created as a researcher would."""
    import shlex

    from workbench.cli.main import main

    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index("A strategy of your own is named") :]
    block = re.findall(r"```bash\n(.*?)```", block, flags=re.S)[0]
    lines = [line for line in block.splitlines() if line.startswith("workbench run")]
    assert len(lines) == 2
    (workdir / "my_strategies.py").write_text(MY_STRATEGIES)
    (workdir / "my-templates").mkdir(exist_ok=True)
    (workdir / "my-templates" / "my-straddle.toml").write_text(MY_TEMPLATE)
    monkeypatch.chdir(workdir)
    for line in lines:
        argv = shlex.split(line)[1:]
        assert main([*argv, "--no-progress", "--reports", str(workdir / "reports")]) == 0, line
        out = workdir / argv[argv.index("--out") + 1]
        assert (out / "tearsheet.html").is_file()
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["strategy"]["name"] == "MyStraddle"
