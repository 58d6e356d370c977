"""Checking an ``--out`` folder before a command replaces it.

Results are saved by writing a temporary folder and renaming it over ``--out``, which removes
whatever was there. A command may replace only its own earlier output: ``--out`` must be
absent, an empty folder, or a folder holding the files that command writes (e.g. a run folder's
``manifest.json`` and ``tradebook.parquet``). A file, a dataset or a folder of other things is
refused with one line naming it, before anything runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def check_out_folder(out: str | Path, markers: Sequence[str], what: str) -> None:
    """Raise ``ValueError`` naming ``out`` unless a command may replace it.

    Parameters
    ----------
    out
        The ``--out`` path.
    markers
        File names that together identify the command's own output folder.
    what
        What such a folder is called in the message, e.g. ``"a run folder"``.
    """
    out = Path(out)
    if not out.exists() and not out.is_symlink():
        return
    if not out.is_dir() or out.is_symlink():
        raise ValueError(f"--out {out}: is a file, not {what}; choose a new or empty folder")
    entries = sorted(p.name for p in out.iterdir())
    if not entries or all((out / m).is_file() for m in markers):
        return
    shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
    raise ValueError(
        f"--out {out}: not {what} (it holds {shown}); it would be replaced, so choose a new or "
        "empty folder"
    )
