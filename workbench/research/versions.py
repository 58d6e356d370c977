"""The template version store: every version of every strategy template a run has used.

Rows of ``template_versions`` in ``<reports>/repository.sqlite``, keyed by ``(name, version)``
with the text's ``sha256``. A version's text is kept, so ``protective-put@1`` loads version 1
for ever, whatever ``templates/strategies/protective-put.toml`` says today.

Statuses (seed 002):

``draft``     saved and validated, not runnable; its text may still be replaced
``active``    runnable; a template named without a version runs its highest active version
``archived``  runnable only when named with its version (``name@3``); never the default

A version becomes **immutable once a run references it** (:meth:`TemplateVersions.reference`):
from then on its text can never change; a different text needs a new version number. Changing
the status is always allowed, except back to ``draft``.

This module stores and reads rows; :class:`workbench.research.templates.TemplateRepository`
turns them into templates and combines them with the templates folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.research.database import connect, database_path, write
from workbench.research.repository import now_utc

TEMPLATE_STATUSES: tuple[str, ...] = ("draft", "active", "archived")


class VersionConflictError(ValueError):
    """A referenced (immutable) version was given a different text."""


@dataclass(frozen=True)
class TemplateVersion:
    """One stored version (``text`` is ``None`` for a version known only by its hash, from
    a reports folder older than the store)."""

    name: str
    version: int
    sha256: str
    status: str
    strategy: str
    text: str | None
    origin: str
    created_at: str
    updated_at: str
    referenced_at: str | None

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def referenced(self) -> bool:
        return self.referenced_at is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "ref": self.ref,
            "sha256": self.sha256,
            "status": self.status,
            "strategy": self.strategy,
            "origin": self.origin,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "referenced_at": self.referenced_at,
        }


def _version(row: Any) -> TemplateVersion:
    return TemplateVersion(**dict(row))


class TemplateVersions:
    """The version store of a reports folder."""

    def __init__(self, reports: str | Path) -> None:
        self.path = database_path(Path(reports).expanduser().resolve())

    def label(self, name: str, version: int) -> str:
        """How errors name a stored version: ``<file>:<name>@<version>``."""
        return f"{self.path}:{name}@{version}"

    def get(self, name: str, version: int) -> TemplateVersion | None:
        if not self.path.is_file():  # reading never creates the file
            return None
        with connect(self.path) as conn:
            row = conn.execute(
                "SELECT * FROM template_versions WHERE name = ? AND version = ?", (name, version)
            ).fetchone()
        return None if row is None else _version(row)

    def versions(self, name: str) -> list[TemplateVersion]:
        """Every stored version of ``name``, ascending."""
        if not self.path.is_file():
            return []
        with connect(self.path) as conn:
            rows = conn.execute(
                "SELECT * FROM template_versions WHERE name = ? ORDER BY version", (name,)
            ).fetchall()
        return [_version(r) for r in rows]

    def names(self) -> list[str]:
        if not self.path.is_file():
            return []
        with connect(self.path) as conn:
            rows = conn.execute("SELECT DISTINCT name FROM template_versions ORDER BY name")
            return [r[0] for r in rows.fetchall()]

    def put(
        self,
        *,
        name: str,
        version: int,
        sha256: str,
        strategy: str,
        text: str | None,
        status: str = "active",
        origin: str,
        referenced: bool = False,
    ) -> TemplateVersion:
        """Store a version (or return the stored one when the text is the same).

        A stored version with a different text is replaced only if no run referenced it;
        otherwise :class:`VersionConflictError` names both hashes. ``status`` applies to a new
        or replaced version; a same-text put keeps the stored status.
        """
        if status not in TEMPLATE_STATUSES:
            raise ValueError(f"status {status!r} is not one of {', '.join(TEMPLATE_STATUSES)}")
        stamp = now_utc()
        with write(self.path) as conn:
            row = conn.execute(
                "SELECT * FROM template_versions WHERE name = ? AND version = ?", (name, version)
            ).fetchone()
            if row is not None and row["sha256"] == sha256:
                if text is not None and row["text"] is None:
                    conn.execute(
                        "UPDATE template_versions SET text = ? WHERE name = ? AND version = ?",
                        (text, name, version),
                    )
                if referenced and row["referenced_at"] is None:
                    conn.execute(
                        "UPDATE template_versions SET referenced_at = ?, updated_at = ? "
                        "WHERE name = ? AND version = ?",
                        (stamp, stamp, name, version),
                    )
            elif row is not None:
                if row["referenced_at"] is not None:
                    raise VersionConflictError(
                        f"template {name}@{version} changed after a run referenced it "
                        f"(stored hash {row['sha256'][:12]}, new hash {sha256[:12]}); "
                        "bump `version`"
                    )
                conn.execute(
                    "UPDATE template_versions SET sha256 = ?, strategy = ?, text = ?, "
                    "status = ?, origin = ?, updated_at = ?, referenced_at = ? "
                    "WHERE name = ? AND version = ?",
                    (
                        sha256,
                        strategy,
                        text,
                        status,
                        origin,
                        stamp,
                        stamp if referenced else None,
                        name,
                        version,
                    ),
                )
            else:
                conn.execute(
                    "INSERT INTO template_versions (name, version, sha256, status, strategy, "
                    "text, origin, created_at, updated_at, referenced_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        name,
                        version,
                        sha256,
                        status,
                        strategy,
                        text,
                        origin,
                        stamp,
                        stamp,
                        stamp if referenced else None,
                    ),
                )
            stored = conn.execute(
                "SELECT * FROM template_versions WHERE name = ? AND version = ?", (name, version)
            ).fetchone()
        return _version(stored)

    def set_status(self, name: str, version: int, status: str) -> TemplateVersion:
        """Change a stored version's status (never back to ``draft``)."""
        if status not in TEMPLATE_STATUSES:
            raise ValueError(f"status {status!r} is not one of {', '.join(TEMPLATE_STATUSES)}")
        with write(self.path) as conn:
            row = conn.execute(
                "SELECT * FROM template_versions WHERE name = ? AND version = ?", (name, version)
            ).fetchone()
            if row is None:
                raise KeyError(f"no stored template version {name}@{version} in {self.path}")
            if status == "draft" and row["status"] != "draft":
                raise ValueError(
                    f"template {name}@{version} is {row['status']}: a version never goes back "
                    "to draft (store a new version instead)"
                )
            conn.execute(
                "UPDATE template_versions SET status = ?, updated_at = ? "
                "WHERE name = ? AND version = ?",
                (status, now_utc(), name, version),
            )
            row = conn.execute(
                "SELECT * FROM template_versions WHERE name = ? AND version = ?", (name, version)
            ).fetchone()
        return _version(row)
