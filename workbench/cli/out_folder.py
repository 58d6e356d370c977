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

from workbench.data.atomic import check_replaceable


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
    check_replaceable(out, markers, what, label="--out")
