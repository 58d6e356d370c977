"""The run repository: every run the workbench makes, with its kind, status and manifest.

One row per run, in ``<reports>/repository.sqlite`` (:mod:`workbench.research.database`):

=================  =========================================================================
``id``             the record id, ``YYYYMMDD-HHMMSS-xxxxxxxx`` (UTC time of creation + 8 hex);
                   unique per execution (the engine's ``run_id``, a hash of the inputs, is
                   kept beside it: the same inputs run twice are two records with one run_id)
``kind``           :data:`KINDS`: ``single`` (``workbench run``, a service backtest), ``grid``
                   and its ``grid-member`` runs, ``walkforward`` and its
                   ``walkforward-window`` runs (each window's out-of-sample test run),
                   ``event-comparison``, ``sweep`` (``workbench sweep``), ``montecarlo``
``status``         :data:`STATUSES`: ``queued`` -> ``running`` -> ``completed`` | ``failed``
                   (with ``error``) | ``cancelled``; the last three are final
``created_at``...  ``created_at``, ``started_at``, ``finished_at``: ISO 8601, UTC
``parent``         the grid / walk-forward record a member belongs to
``template``       ``name@version`` when the run is a template's; ``strategy`` the class ref
``data``, ``out``  the dataset folder and the output folder (absolute paths)
``run_id``         the engine's run id (manifest ``run_id``) once known
``origin``         who made it: ``cli``, ``grid``, ``service``, ...
``owner``          ``host:pid:start`` of the process running it (see :meth:`RunRepository.reap`)
``progress_*``     days (or windows, combinations) done and in total
``request``        what was asked (JSON): the service re-runs a queued job from it
``manifest``       the run's manifest (JSON) when completed; ``metrics`` its headline metrics
=================  =========================================================================

A final record never changes: :meth:`complete`, :meth:`fail` and :meth:`cancel` only move a
``queued`` or ``running`` record, and say whether they did.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from workbench.research.database import connect, database_path, write

KINDS: tuple[str, ...] = (
    "single",
    "grid",
    "grid-member",
    "walkforward",
    "walkforward-window",
    "event-comparison",
    "sweep",
    "montecarlo",
)
STATUSES: tuple[str, ...] = ("queued", "running", "completed", "failed", "cancelled")
ACTIVE: tuple[str, ...] = ("queued", "running")
FINAL: tuple[str, ...] = ("completed", "failed", "cancelled")

#: A record id: UTC creation time and 8 random hex digits.
RECORD_ID = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{8}$")

_JSON_FIELDS = ("request", "manifest", "metrics")


class UnknownRunError(KeyError):
    """No record with that id (the message names it and the repository)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown run"


def now_utc() -> str:
    """The current time as stored: ISO 8601 with milliseconds, UTC."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def new_record_id() -> str:
    """A fresh record id (sortable by creation time)."""
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(4)}"


def check_record_id(value: str) -> str:
    """``value`` if it is a record id, else ``ValueError`` naming it (ids become paths)."""
    if not isinstance(value, str) or not RECORD_ID.match(value):
        raise ValueError(f"run id {value!r} is not a record id (YYYYMMDD-HHMMSS-xxxxxxxx)")
    return value


def _process_start(pid: int) -> str:
    """The start time of process ``pid`` in clock ticks since boot (Linux), else ''."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # field 22, counted after the command name (which may hold spaces) in parentheses
    return stat.rsplit(")", 1)[-1].split()[19]


def this_process() -> str:
    """``host:pid:start`` of the calling process: a record's ``owner``."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_process_start(pid)}"


def owner_alive(owner: str | None) -> bool | None:
    """Whether the process named by ``owner`` still runs: ``None`` when it cannot be told
    (another host, no owner)."""
    if not owner:
        return None
    host, _, rest = owner.partition(":")
    pid_text, _, start = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return None
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process with that pid: alive, unless its start time differs
    current = _process_start(pid)
    return not (start and current and current != start)


def _json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(_plain(value), sort_keys=True, allow_nan=False)


def _plain(value: Any) -> Any:
    """JSON-ready: NaN/inf -> None, dates -> ISO, paths -> str, NumPy scalars -> Python."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, bool | int | str):
        return value
    item = getattr(value, "item", None)  # NumPy scalars
    if callable(item):
        return _plain(item())
    return str(value)


@dataclass(frozen=True)
class RunEntry:
    """One record of the repository (see the module docstring for the fields)."""

    id: str
    kind: str
    status: str
    error: str | None
    created_at: str
    started_at: str | None
    finished_at: str | None
    parent: str | None
    template: str | None
    strategy: str | None
    data: str | None
    run_id: str | None
    out: str | None
    origin: str
    owner: str | None
    progress_done: int | None
    progress_total: int | None
    request: dict[str, Any] | None
    manifest: dict[str, Any] | None
    metrics: dict[str, Any] | None

    @property
    def final(self) -> bool:
        return self.status in FINAL

    @property
    def label(self) -> str:
        """What ran: the template, else the strategy, else the kind."""
        return self.template or self.strategy or self.kind

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _entry(row: Any) -> RunEntry:
    values = dict(row)
    for name in _JSON_FIELDS:
        raw = values.get(name)
        values[name] = json.loads(raw) if raw else None
    return RunEntry(**values)


class RunRepository:
    """The run repository of a reports folder (``<reports>/repository.sqlite``).

    Every method opens its own connection: an instance may be shared by threads, and several
    processes may use the same file at once (one writer at a time, readers never blocked).
    """

    def __init__(self, reports: str | Path) -> None:
        self.reports = Path(reports).expanduser().resolve()
        self.path = database_path(self.reports)

    def __repr__(self) -> str:
        return f"RunRepository({str(self.reports)!r})"

    def ensure(self) -> Path:
        """Create the file and its tables now (reading alone never does); returns its path.
        A folder that cannot hold the repository raises ``RepositoryError`` naming it."""
        with connect(self.path):
            pass
        return self.path

    # -- writing ----------------------------------------------------------------------------
    def create(
        self,
        kind: str,
        *,
        status: str = "queued",
        origin: str,
        id: str | None = None,
        parent: str | None = None,
        template: str | None = None,
        strategy: str | None = None,
        data: str | Path | None = None,
        out: str | Path | None = None,
        request: Mapping[str, Any] | None = None,
        owner: str | None = None,
        progress_total: int | None = None,
    ) -> str:
        """Record a new run (``queued``, or ``running`` when it starts at once); returns its id."""
        if kind not in KINDS:
            raise ValueError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
        if status not in ACTIVE:
            raise ValueError(f"a new record is queued or running, not {status!r}")
        record_id = check_record_id(id) if id is not None else new_record_id()
        stamp = now_utc()
        with write(self.path) as conn:
            conn.execute(
                "INSERT INTO runs (id, kind, status, created_at, started_at, parent, template, "
                "strategy, data, out, origin, owner, progress_total, request) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record_id,
                    kind,
                    status,
                    stamp,
                    stamp if status == "running" else None,
                    parent,
                    template,
                    strategy,
                    None if data is None else str(data),
                    None if out is None else str(out),
                    origin,
                    owner
                    if owner is not None
                    else (this_process() if status == "running" else None),
                    progress_total,
                    _json(request),
                ),
            )
        return record_id

    def _move(
        self, record_id: str, sql: str, params: Sequence[Any], sources: Sequence[str]
    ) -> bool:
        marks = ", ".join("?" for _ in sources)
        with write(self.path) as conn:
            cursor = conn.execute(
                f"UPDATE runs SET {sql} WHERE id = ? AND status IN ({marks})",
                (*params, record_id, *sources),
            )
            return cursor.rowcount == 1

    def start(
        self,
        record_id: str,
        *,
        owner: str | None = None,
        total: int | None = None,
        started_at: str | None = None,
    ) -> bool:
        """``queued`` -> ``running`` (``started_at`` now, or when the worker says it started);
        False if it was not queued."""
        return self._move(
            record_id,
            "status = 'running', started_at = ?, owner = ?, "
            "progress_total = COALESCE(?, progress_total)",
            (started_at or now_utc(), owner or this_process(), total),
            ("queued",),
        )

    def progress(self, record_id: str, done: int, total: int | None) -> bool:
        """Days (windows, combinations) done of ``total`` for an active record."""
        return self._move(
            record_id, "progress_done = ?, progress_total = ?", (int(done), total), ACTIVE
        )

    def update(
        self,
        record_id: str,
        *,
        out: str | Path | None = None,
        run_id: str | None = None,
        template: str | None = None,
    ) -> bool:
        """Fill in the output folder, the engine's run id or the template of an active record."""
        return self._move(
            record_id,
            "out = COALESCE(?, out), run_id = COALESCE(?, run_id), "
            "template = COALESCE(?, template)",
            (None if out is None else str(out), run_id, template),
            ACTIVE,
        )

    def complete(
        self,
        record_id: str,
        *,
        manifest: Mapping[str, Any] | None = None,
        metrics: Mapping[str, Any] | None = None,
        out: str | Path | None = None,
        run_id: str | None = None,
        started_at: str | None = None,
    ) -> bool:
        """-> ``completed`` with the manifest and headline metrics; False if already final."""
        stamp = now_utc()
        rid = run_id or (manifest or {}).get("run_id")
        return self._move(
            record_id,
            "status = 'completed', error = NULL, finished_at = ?, "
            "started_at = COALESCE(started_at, ?, ?), manifest = ?, metrics = ?, "
            "out = COALESCE(?, out), run_id = COALESCE(?, run_id), "
            "progress_done = COALESCE(progress_total, progress_done)",
            (
                stamp,
                started_at,
                stamp,
                _json(manifest),
                _json(metrics),
                None if out is None else str(out),
                rid,
            ),
            ACTIVE,
        )

    def fail(
        self,
        record_id: str,
        error: str,
        *,
        manifest: Mapping[str, Any] | None = None,
        metrics: Mapping[str, Any] | None = None,
        out: str | Path | None = None,
        started_at: str | None = None,
    ) -> bool:
        """-> ``failed`` with ``error`` (one line first; a traceback may follow)."""
        stamp = now_utc()
        return self._move(
            record_id,
            "status = 'failed', error = ?, finished_at = ?, "
            "started_at = COALESCE(started_at, ?), manifest = COALESCE(?, manifest), "
            "metrics = COALESCE(?, metrics), out = COALESCE(?, out)",
            (
                str(error) or "failed",
                stamp,
                started_at,
                _json(manifest),
                _json(metrics),
                None if out is None else str(out),
            ),
            ACTIVE,
        )

    def cancel(self, record_id: str, reason: str = "cancelled") -> bool:
        """-> ``cancelled``; False if the record was already final."""
        return self._move(
            record_id,
            "status = 'cancelled', error = ?, finished_at = ?",
            (reason, now_utc()),
            ACTIVE,
        )

    def requeue(self, record_id: str) -> bool:
        """``running`` -> ``queued`` (a clean shutdown interrupted it; it runs again later)."""
        return self._move(
            record_id,
            "status = 'queued', started_at = NULL, owner = NULL, progress_done = NULL",
            (),
            ("running",),
        )

    def reap(self, *, origin: str | None = None, error: str | None = None) -> list[str]:
        """Fail ``running`` records whose owner process on this host has ended (killed, or a
        crash that could not record it): a record never stays ``running`` for a process that
        is gone. ``origin`` restricts it to one origin's records; ``error`` replaces the
        default message. Returns the ids failed."""
        failed = []
        for entry in self.list(status="running", origin=origin):
            if owner_alive(entry.owner) is False:
                pid = (entry.owner or "").split(":")[1:2]
                message = error or (
                    f"process {pid[0] if pid else '?'} ended without finishing the run "
                    "(killed or crashed)"
                )
                if self.fail(entry.id, message):
                    failed.append(entry.id)
        return failed

    # -- reading ----------------------------------------------------------------------------
    def get(self, record_id: str) -> RunEntry:
        """The record ``record_id`` (:class:`UnknownRunError` if there is none)."""
        if not self.path.is_file():  # reading never creates the file
            raise UnknownRunError(f"no run {record_id!r}: no run repository at {self.path}")
        with connect(self.path) as conn:
            row = conn.execute("SELECT * FROM runs WHERE id = ?", (record_id,)).fetchone()
        if row is None:
            raise UnknownRunError(f"no run {record_id!r} in {self.path}")
        return _entry(row)

    def find(self, record_id: str) -> RunEntry | None:
        try:
            return self.get(record_id)
        except UnknownRunError:
            return None

    def list(
        self,
        *,
        kind: str | Iterable[str] | None = None,
        status: str | Iterable[str] | None = None,
        template: str | None = None,
        parent: str | None = None,
        origin: str | None = None,
        out_under: str | Path | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[RunEntry]:
        """Records matching every filter given, oldest first (``newest_first`` reverses).

        ``template`` matches ``name`` (any version) or ``name@version``; ``kind`` and
        ``status`` take one value or several; ``out_under`` keeps runs whose output folder is
        directly inside that folder (a day folder of reports)."""
        clauses: list[str] = []
        params: list[Any] = []

        def one_of(column: str, value: str | Iterable[str], known: Sequence[str]) -> None:
            values = [value] if isinstance(value, str) else list(value)
            for v in values:
                if v not in known:
                    raise ValueError(f"{column} {v!r} is not one of {', '.join(known)}")
            clauses.append(f"{column} IN ({', '.join('?' for _ in values)})")
            params.extend(values)

        if kind is not None:
            one_of("kind", kind, KINDS)
        if status is not None:
            one_of("status", status, STATUSES)
        if template is not None:
            if "@" in template:
                clauses.append("template = ?")
                params.append(template)
            else:
                clauses.append("(template = ? OR template LIKE ? ESCAPE '\\')")
                escaped = template.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                params.extend([template, f"{escaped}@%"])
        if parent is not None:
            clauses.append("parent = ?")
            params.append(parent)
        if origin is not None:
            clauses.append("origin = ?")
            params.append(origin)
        if out_under is not None:
            folder = str(Path(out_under).expanduser().resolve())
            escaped = folder.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            clauses.append("out LIKE ? ESCAPE '\\'")
            params.append(f"{escaped}{os.sep}%")
        if not self.path.is_file():
            return []
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        order = "DESC" if newest_first else "ASC"
        sql = f"SELECT * FROM runs {where} ORDER BY created_at {order}, id {order}"
        if limit is not None:
            if limit < 1:
                raise ValueError(f"limit must be >= 1, got {limit}")
            sql += " LIMIT ?"
            params.append(int(limit))
        with connect(self.path) as conn:
            rows = conn.execute(sql, params).fetchall()
        entries = [_entry(r) for r in rows]
        if out_under is not None:  # directly inside, not deeper
            inside = Path(out_under).expanduser().resolve()
            entries = [e for e in entries if e.out and Path(e.out).parent == inside]
        return entries

    def counts(self, *, origin: str | None = None) -> dict[str, int]:
        """Number of records per status (every status present, 0 when none)."""
        if not self.path.is_file():
            return dict.fromkeys(STATUSES, 0)
        sql = "SELECT status, COUNT(*) FROM runs"
        params: tuple[Any, ...] = ()
        if origin is not None:
            sql += " WHERE origin = ?"
            params = (origin,)
        with connect(self.path) as conn:
            found = dict(conn.execute(sql + " GROUP BY status", params).fetchall())
        return {status: int(found.get(status, 0)) for status in STATUSES}


def default_reports() -> Path:
    """The reports folder commands use unless told otherwise: ``$WORKBENCH_REPORTS``, else
    the repository's ``reports/``."""
    env = os.environ.get("WORKBENCH_REPORTS")
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parents[2] / "reports"


class RunRecorder:
    """Records one run made by a command or a research function (the hook of the command
    line, grids, walk-forward and event comparisons)::

        with RunRecorder.open(reports, "single", origin="cli", strategy=ref) as rec:
            result = run_backtest(...)
            rec.completed(manifest=result.manifest, metrics=result.metrics, out=folder)

    The record is created ``running`` on entry. Leaving the block by an exception records
    ``failed`` with it (``cancelled`` for Ctrl-C) and lets it propagate; leaving it without
    :meth:`completed` or :meth:`failed` records ``completed``. A repository that cannot be
    written (read-only reports folder, a damaged file) never stops the run: it is reported once
    as a warning and the run goes on unrecorded.
    """

    def __init__(
        self, repository: RunRepository | None, record_id: str | None, *, finish: bool = True
    ) -> None:
        self.repository = repository
        self.id = record_id
        #: False: someone else (the service) finishes the record; this one only reports progress
        self._final = not finish

    @classmethod
    def open(
        cls, reports: str | Path | None, kind: str, *, origin: str, **fields: Any
    ) -> RunRecorder:
        repository = RunRepository(reports if reports is not None else default_reports())
        record_id = record_safely(
            lambda: repository.create(kind, status="running", origin=origin, **fields)
        )
        return cls(repository if record_id else None, record_id)

    def __enter__(self) -> RunRecorder:
        return self

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        if self._final or self.repository is None or self.id is None:
            return
        if exc is None:
            self.completed()
        elif isinstance(exc, KeyboardInterrupt):
            self._call(lambda r, i: r.cancel(i, "interrupted (Ctrl-C)"))
        else:
            self.failed(f"{type(exc).__name__}: {exc}")

    def _call(self, action: Any) -> None:
        if self._final:
            return
        self._final = True
        if self.repository is not None and self.id is not None:
            repository, record_id = self.repository, self.id
            record_safely(lambda: action(repository, record_id))

    def update(self, **fields: Any) -> None:
        """Fill in ``out``, ``run_id`` or ``template`` while the run goes on."""
        if self.repository is not None and self.id is not None:
            repository, record_id = self.repository, self.id
            record_safely(lambda: repository.update(record_id, **fields))

    def progress(self, done: int, total: int | None) -> None:
        if self.repository is not None and self.id is not None:
            repository, record_id = self.repository, self.id
            record_safely(lambda: repository.progress(record_id, done, total))

    def completed(self, **fields: Any) -> None:
        self._call(lambda r, i: r.complete(i, **fields))

    def failed(self, error: str, **fields: Any) -> None:
        self._call(lambda r, i: r.fail(i, error, **fields))


_warned: set[str] = set()


def record_safely(action: Any) -> Any:
    """``action()``; a repository error becomes one warning per message and ``None``: the run
    goes on unrecorded rather than failing because of its record."""
    import sqlite3
    import warnings

    from workbench.research.database import RepositoryError

    try:
        return action()
    except (sqlite3.Error, OSError, RepositoryError) as exc:
        message = f"run repository: {exc}; the run is not recorded"
        if message not in _warned:
            _warned.add(message)
            warnings.warn(message, UserWarning, stacklevel=3)
        return None
