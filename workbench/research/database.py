"""The research layer's embedded database: one SQLite file under the reports folder.

``<reports>/repository.sqlite`` holds the run repository (:mod:`workbench.research.repository`)
and the template version store (:mod:`workbench.research.versions`). SQLite in WAL mode is what
the description asks for: one writer at a time (each write is a short ``BEGIN IMMEDIATE``
transaction; a second writer waits up to :data:`BUSY_TIMEOUT_S`), readers never block and are
never blocked, and several processes -- the command line, a grid's workers, the REST service --
share the file safely. A process killed in the middle of a write leaves the last committed state
(``synchronous=FULL``: a committed record survives a kill, and a power cut, once the call
returned). WAL needs the reports folder on a local file system (not NFS).

A connection is opened per operation and closed after it: nothing is shared between threads or
carried across a fork.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

DB_NAME = "repository.sqlite"
BUSY_TIMEOUT_S = 60.0
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id             TEXT PRIMARY KEY,
    kind           TEXT NOT NULL,
    status         TEXT NOT NULL,
    error          TEXT,
    created_at     TEXT NOT NULL,
    started_at     TEXT,
    finished_at    TEXT,
    parent         TEXT,
    template       TEXT,
    strategy       TEXT,
    data           TEXT,
    run_id         TEXT,
    out            TEXT,
    origin         TEXT NOT NULL,
    owner          TEXT,
    progress_done  INTEGER,
    progress_total INTEGER,
    request        TEXT,
    manifest       TEXT,
    metrics        TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status, created_at);
CREATE INDEX IF NOT EXISTS runs_by_kind ON runs (kind, created_at);
CREATE INDEX IF NOT EXISTS runs_by_parent ON runs (parent);
CREATE INDEX IF NOT EXISTS runs_by_template ON runs (template);
CREATE TABLE IF NOT EXISTS template_versions (
    name          TEXT NOT NULL,
    version       INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    status        TEXT NOT NULL,
    strategy      TEXT NOT NULL,
    text          TEXT,
    origin        TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    referenced_at TEXT,
    PRIMARY KEY (name, version)
);
"""

_ready: set[str] = set()
_ready_lock = threading.Lock()


class RepositoryError(ValueError):
    """The repository file cannot be opened or is not a workbench repository (names the file)."""


def database_path(reports: str | Path) -> Path:
    """The repository file of a reports folder."""
    return Path(reports).expanduser() / DB_NAME


def _open(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    conn.execute("PRAGMA synchronous = FULL")
    return conn


def _busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def _create(path: Path, conn: sqlite3.Connection) -> None:
    """Write-ahead logging, then the tables, in one write transaction."""
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    if str(mode).lower() != "wal":
        # needs an exclusive lock; SQLite answers "locked" at once, without the busy wait,
        # while another connection holds a write lock on a rollback-journal file
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise RepositoryError(f"{path}: cannot use write-ahead logging (mode {mode})")
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise RepositoryError(
                f"{path}: repository schema {version} is newer than this workbench "
                f"({SCHEMA_VERSION}); upgrade the package"
            )
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _initialise(path: Path) -> None:
    """Create the file and tables once per process (idempotent; safe against a second
    process doing the same at the same moment: a lock another connection holds is waited
    for, up to :data:`BUSY_TIMEOUT_S`, as a writer waits)."""
    key = str(path.resolve())
    with _ready_lock:
        if key in _ready and path.is_file():  # a file removed since is created again
            return
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        pause = 0.005
        while True:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                conn = _open(path)
            except (OSError, sqlite3.Error) as exc:
                raise RepositoryError(f"{path}: cannot create the repository: {exc}") from None
            try:
                _create(path, conn)
                break
            except sqlite3.DatabaseError as exc:
                if not _busy(exc) or time.monotonic() + pause > deadline:
                    raise RepositoryError(
                        f"{path}: not a usable workbench repository: {exc}"
                    ) from None
            finally:
                conn.close()
            time.sleep(pause)
            pause = min(2 * pause, 0.2)
        _ready.add(key)


@contextlib.contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection to the repository at ``path`` (created on first use), closed on exit.
    Reads run in autocommit mode (each statement sees the latest committed state)."""
    _initialise(path)
    try:
        conn = _open(path)
    except sqlite3.Error as exc:
        raise RepositoryError(f"{path}: cannot open the repository: {exc}") from None
    try:
        yield conn
    finally:
        conn.close()


@contextlib.contextmanager
def write(path: Path) -> Iterator[sqlite3.Connection]:
    """A write transaction (``BEGIN IMMEDIATE``: this process is the one writer until it
    commits); committed when the block ends, rolled back on an error."""
    with connect(path) as conn:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
