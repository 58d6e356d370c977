"""``verify_dataset``: every file of a dataset against its catalog, byte for byte.

The catalog (format 2) records each data and rejects file's sha256, size and row count. A full
verification reads every byte once and reports, per file: missing, a different size, a
different sha256 (bit rot, an edit, a copy gone wrong), an unreadable Parquet footer or a row
count other than the recorded one; files present under ``spot/``, ``options/`` or ``rejects/``
that the catalog does not list; and a catalog whose own content version does not follow from
its file list (an edited catalog). ``quick=True`` skips the hashing (sizes and footers only).

A format-1 catalog (written before checksums were recorded) cannot be verified: the report says
so and ``workbench data repair --rehash`` records the files as they are now.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from workbench.data import layout
from workbench.data.catalog import Catalog, FileEntry
from workbench.data.writer import content_version


@dataclass(frozen=True)
class FileProblem:
    """One file that does not match its catalog entry: its path and what is wrong."""

    path: Path
    problem: str


@dataclass
class VerifyReport:
    """The outcome of :func:`verify_dataset`."""

    root: Path
    catalog: Catalog
    files_checked: int = 0
    bytes_checked: int = 0
    hashed: bool = True
    problems: list[FileProblem] = field(default_factory=list)

    @property
    def recorded(self) -> bool:
        """Whether the catalog records its files (format 2); else nothing could be checked."""
        return bool(self.catalog.files) or not _any_files(self.root)

    @property
    def ok(self) -> bool:
        return self.recorded and not self.problems

    def format_text(self) -> str:
        what = "sha256, size and rows" if self.hashed else "size and rows (--quick)"
        lines = [
            f"verify {self.root}",
            f"  dataset          {self.catalog.name} ({self.catalog.content_version})",
            f"  files checked    {self.files_checked:,} ({self.bytes_checked / 1e6:,.1f} MB; "
            f"{what})",
        ]
        if not self.recorded:
            lines.append(
                "  not verifiable: the catalog records no per-file checksums (written before "
                f"format 2); run `workbench data repair --rehash {self.root}` to record the "
                "files as they are now"
            )
        for problem in self.problems:
            lines.append(f"  BAD {problem.path}: {problem.problem}")
        if self.ok:
            lines.append("  ok: every file matches the catalog")
        elif self.problems:
            lines.append(f"  {len(self.problems):,} problem(s)")
        return "\n".join(lines)


def _any_files(root: Path) -> bool:
    return any(True for _ in layout.iter_data_files(root)) or any(
        True for _ in layout.iter_reject_files(root)
    )


def _sha256(path: Path, bar: tqdm | None) -> str:  # type: ignore[type-arg]
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            if bar is not None:
                bar.update(len(block))
    return digest.hexdigest()


def check_entry(
    path: Path, entry: FileEntry, *, hashed: bool, bar: tqdm | None = None
) -> str | None:  # type: ignore[type-arg]
    """What is wrong with ``path`` against ``entry`` (``None``: nothing)."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return "missing (the catalog lists it)"
    except OSError as exc:
        return f"cannot be read ({exc})"
    if size != entry.bytes:
        if bar is not None:
            bar.update(size)
        return f"{size:,} bytes, the catalog records {entry.bytes:,}"
    try:
        rows = pq.read_metadata(path).num_rows
    except (pa.ArrowInvalid, OSError) as exc:
        if bar is not None:
            bar.update(size)
        return f"not a readable Parquet file ({str(exc).splitlines()[0]})"
    if rows != entry.rows:
        if bar is not None:
            bar.update(size)
        return f"{rows:,} rows in its footer, the catalog records {entry.rows:,}"
    if hashed:
        try:
            sha = _sha256(path, bar)
        except OSError as exc:
            return f"cannot be read ({exc})"
        if sha != entry.sha256:
            return (
                f"sha256 {sha[:16]}... differs from the catalog's {entry.sha256[:16]}... "
                "(the bytes changed: bit rot, an edit or a bad copy)"
            )
    elif bar is not None:
        bar.update(size)
    return None


def verify_dataset(root: Path | str, *, quick: bool = False, progress: bool = True) -> VerifyReport:
    """Check every file of the dataset at ``root`` against its catalog (module docstring).

    Raises the catalog's errors (``DatasetNotFoundError``, ``SchemaError``...) when there is no
    valid catalog to verify against.
    """
    root = Path(root)
    catalog = Catalog.load(root)
    report = VerifyReport(root=root, catalog=catalog, hashed=not quick)
    listed = set(catalog.files)
    on_disk = {
        path.relative_to(root).as_posix()
        for path in [
            *(p for *_, p in layout.iter_data_files(root)),
            *layout.iter_reject_files(root),
        ]
    }
    total = sum(catalog.files[rel].bytes for rel in listed)
    with tqdm(total=total, unit="B", unit_scale=True, desc="verify", disable=not progress) as bar:
        for rel in sorted(listed):
            entry = catalog.files[rel]
            problem = check_entry(root / rel, entry, hashed=not quick, bar=bar)
            report.files_checked += 1
            report.bytes_checked += entry.bytes
            if problem is not None:
                report.problems.append(FileProblem(root / rel, problem))
    if catalog.files:
        for rel in sorted(on_disk - listed):
            report.problems.append(
                FileProblem(
                    root / rel,
                    "not listed in the catalog (written after it, or by hand); it is not part "
                    "of the dataset's content version",
                )
            )
        expected = content_version(catalog.files, catalog.rejected_without_rows)
        if expected != catalog.content_version:
            report.problems.append(
                FileProblem(
                    layout.catalog_path(root),
                    f"content version {catalog.content_version} does not follow from the "
                    f"catalog's file list ({expected}): the catalog was edited",
                )
            )
    return report
