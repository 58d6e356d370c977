"""``workbench run`` killed with SIGKILL leaves no worker behind.

The local pool (loky) kept its workers and trackers alive after the parent was killed; its
workers now watch their parent (:func:`workbench.data.workers.watch_parent`)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fault_helpers import alive, children, start, until

SLOW = """
import time
from workbench import Strategy


class Slow(Strategy):
    def on_bar(self, bar):
        time.sleep(0.005)  # keeps the workers busy long enough to be killed mid-run
"""


def test_killing_a_run_leaves_no_worker(tmp_path: Path) -> None:
    from workbench.research.demo import ensure_demo_data
    from workbench.research.grid import REPO_ROOT

    data = ensure_demo_data(REPO_ROOT, progress=False)
    (tmp_path / "slow.py").write_text(SLOW)
    args = ["run", f"{tmp_path / 'slow.py'}:Slow", "--data", str(data), "--executor", "process"]
    command = start([*args, "--no-progress", "--out", str(tmp_path / "run")], tmp_path)
    until(lambda: len(children(command.pid)) >= 2, "the run's pool workers to start", 300)
    family = children(command.pid)
    command.kill()
    until(
        lambda: not any(alive(pid) for pid in family),
        f"the processes of the killed run ({family}) to exit",
        patience=60,
    )
    assert not (tmp_path / "run").exists()
