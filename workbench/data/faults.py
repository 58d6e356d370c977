"""Named pause points for fault tests: stop a real writer process at an exact step.

The dataset writer, its transaction and the run/report folder writer call :func:`checkpoint` at
the steps where a kill is interesting (a day file written, the catalog staged, the new version
published). Normally a checkpoint is one environment lookup and returns at once. When
``WORKBENCH_FAULT_PAUSE`` names the point (a comma-separated list), the process writes the
point's name and its pid to the file named by ``WORKBENCH_FAULT_FLAG`` and waits while that
file exists: a test starts the command in a subprocess, waits for the flag, then either sends
``SIGKILL`` (a crash at that step) or deletes the flag (the process goes on, e.g. to let a
second writer queue behind it). Each point pauses once per process.

Nothing here runs unless those variables are set; they are for tests, not for users.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

PAUSE_ENV = "WORKBENCH_FAULT_PAUSE"
FLAG_ENV = "WORKBENCH_FAULT_FLAG"

#: Every pause point, in the order a transaction passes them.
POINTS = (
    "stage-ready",  # the new version's folder exists beside the dataset (old files linked in)
    "day-written",  # a day file (or rejects file) was written into the new version
    "catalog-staged",  # the new version is complete, its catalog written, not yet published
    "published",  # the new version is in place; the old one not yet removed
    "between-renames",  # fallback publish only: the old version moved aside, the new not in
    "folder-staged",  # a run or report folder is complete beside its destination
)

_paused: set[str] = set()
_lock = threading.Lock()


def checkpoint(name: str) -> None:
    """Pause here if the environment asks for it (see the module docstring)."""
    wanted = os.environ.get(PAUSE_ENV)
    if not wanted or name not in wanted.split(","):
        return
    with _lock:  # day files are written by several threads: one pause per point and process
        if name in _paused:
            return
        _paused.add(name)
    flag = os.environ.get(FLAG_ENV)
    if not flag:
        while True:  # no flag to wait on: until killed
            time.sleep(3600)
    tmp = Path(f"{flag}.{os.getpid()}.part")
    tmp.write_text(f"{name} {os.getpid()}\n")
    os.replace(tmp, flag)
    while Path(flag).exists():  # until SIGKILL, or the test removes the flag
        time.sleep(0.05)
