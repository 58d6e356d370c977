"""Where ``generate`` may write, and the ``source`` it records.

``generate`` writes one dataset transaction (:mod:`workbench.data.txn`): the new dataset is
built beside ``out`` and replaces it in one atomic step, so a crash or kill never leaves a
half-written dataset at ``out``. ``out`` may be absent, an empty folder, or a dataset this module wrote before (its
catalog's source starts with :data:`SOURCE_PREFIX`), which is replaced. Anything else (a file,
a folder with other content, a dataset from another source) is refused with a ``ValueError``
naming ``out``.
"""

from __future__ import annotations

from pathlib import Path

from workbench.data.catalog import Catalog
from workbench.data.errors import DatasetError
from workbench.data.layout import CATALOG_FILE

SOURCE_PREFIX = "synthetic "

#: Bumped whenever the generator's output changes for the same arguments; part of the catalog's
#: ``source``, so a dataset made by an older generator can be recognised and rebuilt.
GENERATOR_VERSION = 4


def synth_source(profile: str, seed: int, start: object, n_days: int) -> str:
    """The catalog ``source`` of a synthetic dataset made with these arguments."""
    return f"{SOURCE_PREFIX}{profile} generator={GENERATOR_VERSION} seed={seed} start={start} days={n_days}"


def check_out(out: Path) -> None:
    """Raise ``ValueError`` naming ``out`` unless it may receive a synthetic dataset."""
    check_generated_out(out, SOURCE_PREFIX, "a synthetic one")


def check_generated_out(out: Path, source_prefix: str, what: str) -> None:
    """Raise ``ValueError`` naming ``out`` unless it is absent, empty, or a dataset a generator
    wrote before (its catalog ``source`` starts with ``source_prefix``; it is then replaced).
    ``what`` names that kind of dataset in the refusal."""
    if not out.exists():
        if out.parent.exists() and not out.parent.is_dir():
            raise ValueError(f"out {str(out)!r}: parent {str(out.parent)!r} is not a folder")
        return
    if not out.is_dir():
        raise ValueError(f"out {str(out)!r} exists and is not a folder")
    if not any(out.iterdir()):
        return
    if not (out / CATALOG_FILE).is_file():
        raise ValueError(
            f"out {str(out)!r} is a non-empty folder that is not a dataset; "
            "choose a new or empty folder"
        )
    try:
        catalog = Catalog.load(out)
    except (DatasetError, OSError, ValueError) as exc:
        raise ValueError(f"out {str(out)!r}: cannot read its catalog ({exc})") from None
    # a generated dataset later extended by an ingest has "<generated>; <ingest source>": its
    # real rows must not be deleted by a rerun of the generator
    if not catalog.source.startswith(source_prefix) or "; " in catalog.source:
        raise ValueError(
            f"out {str(out)!r} holds dataset {catalog.name!r} from source {catalog.source!r}, "
            f"not {what}; refusing to replace it"
        )
