"""``repair_dataset``: recover a dataset after a killed writer, without a manual ``rm -rf``.

Holding the dataset's lock (so no writer is active):

- a new version a killed writer had completely staged while publishing it is put in place
  (only the two-rename fallback can leave that; the ``renameat2`` exchange cannot);
- staging, old-version and spill folders killed writers left beside the dataset are removed;
- a dataset folder without a catalog that holds only day folders (what a killed writer of an
  older version left when it created a dataset) is removed: it was never published;
- with ``rehash=True``, the catalog is rewritten with the sha256, size and row count of every
  file as it is now (a new transaction): for a format-1 catalog that records none, or to accept
  files that ``workbench data verify`` reports as changed. This trusts the files; verify first.

Every ingest or synth into the same folder does the first three itself before it writes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from workbench.data import layout
from workbench.data.catalog import Catalog
from workbench.data.errors import DatasetError
from workbench.data.locks import DEFAULT_LOCK_TIMEOUT, FolderLock
from workbench.data.txn import recover
from workbench.data.writer import DatasetWriter, unfinished_dataset


def repair_dataset(
    root: Path | str,
    *,
    rehash: bool = False,
    lock_timeout: float | None = DEFAULT_LOCK_TIMEOUT,
) -> list[str]:
    """Repair the dataset at ``root`` (see the module docstring); return what was done."""
    root = Path(root).absolute()
    if root.exists() and not root.is_dir():
        raise DatasetError(f"{root}: is a file, not a dataset folder")
    done: list[str] = []
    with FolderLock(root, purpose="workbench data repair", timeout=lock_timeout):
        done += recover(root)
        if root.is_dir() and not layout.catalog_path(root).is_file():
            if unfinished_dataset(root):
                shutil.rmtree(root)
                done.append(
                    f"removed {root}: day folders without a catalog, left by a writer killed "
                    "while creating the dataset (never published)"
                )
            elif any(root.iterdir()):
                raise DatasetError(
                    f"{root}: not a dataset folder (no catalog.json) and it holds other files; "
                    "nothing was changed"
                )
    if not root.exists() and not done:
        done.append(f"no dataset at {root}: nothing to repair")
    if rehash:
        if not layout.catalog_path(root).is_file():
            raise DatasetError(f"{root}: no catalog.json to rewrite (--rehash)")
        before = Catalog.load(root)
        writer = DatasetWriter(
            root,
            name=before.name,
            venue=before.venue,
            timezone=before.timezone,
            bar_interval=before.bar_interval,
            source=before.source,
            lock_timeout=lock_timeout,
            rehash=True,
        )
        after = writer.finalize()
        changed = sorted(
            rel
            for rel, entry in after.files.items()
            if rel in before.files and before.files[rel].sha256 != entry.sha256
        )
        added = len(set(after.files) - set(before.files))
        done.append(
            f"recorded {len(after.files):,} files as they are now ({added:,} not recorded "
            f"before, {len(changed):,} with another sha256 than recorded"
            + (
                f": {', '.join(changed[:5])}{', ...' if len(changed) > 5 else ''}"
                if changed
                else ""
            )
            + f"); content version {after.content_version}"
        )
    return done
