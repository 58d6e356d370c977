"""Named pause points for fault tests: kill a real writer process at an exact step.

The dataset writer and the synthetic generator call :func:`checkpoint` at the steps where a kill
is interesting (a day file written, the catalog staged, the new version published). Normally a
checkpoint is one environment lookup and returns at once. When ``WORKBENCH_FAULT_PAUSE`` names
the point (a comma-separated list), the process writes the point's name to the file named by
``WORKBENCH_FAULT_FLAG`` and then sleeps until it is killed: a test starts the command in a
subprocess, waits for the flag file, sends ``SIGKILL`` and checks what is left on disk.

Nothing here runs unless those variables are set; they are for tests, not for users.
"""

from __future__ import annotations

import os
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
)


def checkpoint(name: str) -> None:
    """Pause here forever if the environment asks for it (see the module docstring)."""
    wanted = os.environ.get(PAUSE_ENV)
    if not wanted or name not in wanted.split(","):
        return
    flag = os.environ.get(FLAG_ENV)
    if flag:
        tmp = Path(f"{flag}.{os.getpid()}.part")
        tmp.write_text(f"{name} {os.getpid()}\n")
        os.replace(tmp, flag)
    while True:  # until SIGKILL
        time.sleep(3600)
