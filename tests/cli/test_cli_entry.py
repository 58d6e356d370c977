"""``python -m workbench`` runs the command line; importing ``workbench.__main__`` does not."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_main_module_has_no_side_effect() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import workbench.__main__; print('imported')"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "imported\n" and "usage" not in done.stderr


def test_module_entry_point_runs_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "--help"], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0 and "usage: workbench" in done.stdout
