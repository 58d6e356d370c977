"""``workbench data synth --workers 2`` killed with SIGKILL leaves no process behind.

Before the fix the fork server, a worker and multiprocessing's resource tracker (about 240 MB a
set) were still running five minutes after their parent was killed. The workers are now spawned
children that watch their parent (:mod:`workbench.data.workers`).
"""

from __future__ import annotations

from pathlib import Path

from fault_helpers import alive, children, start, until

#: How long the killed command's processes get to go (a bound for the poll, not a timing).
GRACE_SECONDS = 60.0


def test_killing_synth_with_workers_leaves_no_process(tmp_path: Path) -> None:
    args = ["data", "synth", "--days", "4", "--start", "2024-01-02", "--seed", "9", "--workers",
            "2", "--out", str(tmp_path / "ds"), "--no-progress"]  # fmt: skip
    # a worker pauses after writing its first day file: the parent is waiting on the pool
    command = start(args, tmp_path, pause="day-written")
    command.wait_paused()
    family = children(command.pid)
    assert len(family) >= 2, family  # the pool's workers (and the resource tracker)
    command.kill()
    until(
        lambda: not any(alive(pid) for pid in family),
        f"the processes of the killed synth ({family}) to exit",
        patience=GRACE_SECONDS,
    )
    assert not (tmp_path / "ds").exists()
