"""What an ingest did, file by file: rows read, accepted, refused by reason, files refused."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from workbench.data.catalog import Catalog


@dataclass
class FileOutcome:
    """One input file: rows read, accepted and rejected (by reason), or the error that stopped it.

    A file with an ``error`` contributed nothing to the dataset (its rows were withdrawn).
    """

    display: str
    rows_read: int = 0
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    error: str | None = None

    @property
    def balanced(self) -> bool:
        return (
            self.error is not None or self.accepted + sum(self.rejected.values()) == self.rows_read
        )


@dataclass
class IngestReport:
    """The outcome of :func:`workbench.data.ingest.ingest`."""

    format: str
    out: Path
    files: list[FileOutcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    catalog: Catalog | None = None

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files if f.error is None)

    @property
    def accepted(self) -> int:
        return sum(f.accepted for f in self.files if f.error is None)

    @property
    def rejected_by_reason(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for f in self.files:
            if f.error is None:
                total.update(f.rejected)
        return total

    @property
    def rejected(self) -> int:
        return sum(self.rejected_by_reason.values())

    @property
    def failed(self) -> list[FileOutcome]:
        return [f for f in self.files if f.error is not None]

    @property
    def balanced(self) -> bool:
        """accepted + rejected == rows read, for every file and in total."""
        return all(f.balanced for f in self.files) and (
            self.accepted + self.rejected == self.rows_read
        )

    def format_text(self) -> str:
        lines = [
            f"ingest {self.format} -> {self.out}",
            f"  files          {len(self.files) - len(self.failed):,} read, "
            f"{len(self.failed):,} refused",
            f"  rows read      {self.rows_read:,}",
            f"  accepted       {self.accepted:,}",
            f"  rejected       {self.rejected:,}",
        ]
        for reason, n in sorted(self.rejected_by_reason.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"    {reason:<30}{n:>12,}")
        if self.catalog is not None:
            lines.append(f"  content version  {self.catalog.content_version}")
            lines.append(
                f"  dataset days     {self.catalog.days} ({self.catalog.start} .. "
                f"{self.catalog.end})"
            )
        for note in self.notes:
            lines.append(f"  note: {note}")
        for f in self.failed:
            lines.append(f"  error: {f.error}")
        return "\n".join(lines)
