"""``DatasetWriter``: the one way data gets into a canonical dataset.

Ingest adapters and the synthetic market both write through it::

    with DatasetWriter("data/mine", name="mine", venue="NSE", timezone="Asia/Kolkata",
                       bar_interval="1min", source="synthetic nifty-intraday seed=7") as w:
        w.write_spot("NIFTY", day, spot_table)
        w.write_options("NIFTY", day, option_table)
        w.write_rejects("nse-chain", rejected_rows)   # rows refused, with their reason
    catalog = w.catalog                                # finalize() ran on a clean exit

- One writer at a time: the writer takes the dataset's lock when it opens
  (:mod:`workbench.data.locks`), waiting up to ``lock_timeout`` seconds for another writer and
  then failing with :class:`~workbench.data.locks.DatasetLockedError` naming it.
- Every write is a transaction (:mod:`workbench.data.txn`): files go into a new version staged
  beside the dataset (the current files linked in, not copied), and :meth:`finalize` writes the
  catalog there and publishes the new version in one atomic step. Until then readers see the
  previous version, whole; a kill at any point leaves the previous version or the new one,
  never a mix, and the next writer removes what the killed one left. :meth:`abort` (or an
  exception inside the ``with`` block) drops the new version.
- Opening an existing dataset extends it: new days are added, a day written again is
  replaced, every other file is kept. Venue, timezone and bar interval must match.
  ``replace=True`` starts from an empty version instead (the synthetic generator).
- Every table is checked against the canonical schema (:func:`workbench.data.schema.conform`):
  compatible types are cast, anything else raises :class:`SchemaError` naming the underlying,
  day and column.
- Parquet bytes are deterministic (fixed codec, level, row-group size, page checksums), so the
  same input gives the same content version.
- :meth:`finalize` records every file's sha256, size and row count in the catalog (files kept
  from the previous version keep their recorded checksums: nothing is re-hashed, and damage
  done to them is not blessed), computes the content version and writes ``catalog.json``.

``transaction=False`` writes straight into ``root`` without a lock: for a scratch folder the
caller owns alone (the synthetic generator's per-worker folders, inside its own transaction).

Underlying specs: each underlying's summary comes from ``workbench.model.instruments``; an
underlying the registry does not know needs ``underlying_specs={name: UnderlyingSpec(...)}``
(or :meth:`set_underlying_spec`), otherwise ``finalize`` raises :class:`UnknownUnderlyingError`.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import warnings
import zoneinfo
from collections import Counter
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from workbench.data import layout
from workbench.data.atomic import sweep_temporaries, write_atomic
from workbench.data.catalog import (
    Catalog,
    FileEntry,
    InputRecord,
    RowCounts,
    UnderlyingDays,
    UnderlyingSpec,
)
from workbench.data.errors import (
    CorruptFileError,
    DatasetError,
    SchemaError,
    UnknownUnderlyingError,
)
from workbench.data.faults import checkpoint
from workbench.data.locks import DEFAULT_LOCK_TIMEOUT
from workbench.data.schema import (
    COMPRESSION,
    OPTIONAL_OPTION_FIELDS,
    USE_DICTIONARY,
    conform,
    conform_rejects,
    row_group_bounds,
    schema_for,
)
from workbench.data.txn import DatasetTransaction
from workbench.model.dates import as_date

_BAR_INTERVALS = ("1min", "1d")
#: What a folder left by a killed writer of the old, non-transactional kind may hold.
_UNFINISHED_ENTRIES = frozenset({"spot", "options", "rejects"})


def write_parquet(table: pa.Table, path: Path, kind: str = "rejects") -> None:
    """Write ``table`` to ``path`` atomically with the dataset's fixed, deterministic settings.

    Row groups follow :func:`workbench.data.schema.row_group_bounds` for ``kind``; every data
    page carries a CRC32 checksum, which readers verify (a flipped bit fails the read instead
    of giving a wrong price).
    """

    def write(tmp: Path) -> None:
        with pq.ParquetWriter(
            tmp,
            table.schema,
            compression=COMPRESSION,
            use_dictionary=USE_DICTIONARY,
            write_statistics=True,
            write_page_checksum=True,
        ) as out:
            for a, b in row_group_bounds(table, kind):
                out.write_table(table.slice(a, b - a), row_group_size=b - a)

    write_atomic(path, write)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def content_version(files: Mapping[str, FileEntry], counted: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` over the sorted (relative path, sha256) of every file plus the
    counted-only rejects (the definition :class:`Catalog` documents)."""
    digest = hashlib.sha256()
    for rel in sorted(files):
        digest.update(f"{rel}\t{files[rel].sha256}\n".encode())
    digest.update(json.dumps(counted, sort_keys=True).encode())
    return f"sha256:{digest.hexdigest()}"


def unfinished_dataset(folder: Path) -> bool:
    """True for a folder without a catalog that holds only what a killed, non-transactional
    writer leaves (``spot``, ``options``, ``rejects``, hidden spill or temporary entries)."""
    if not folder.is_dir() or layout.catalog_path(folder).exists():
        return False
    entries = [p.name for p in folder.iterdir()]
    return bool(entries) and all(
        name in _UNFINISHED_ENTRIES or name.startswith(".") for name in entries
    )


class DatasetWriter:
    """Create or extend the dataset at ``root`` (see the module docstring).

    Parameters
    ----------
    root : folder of the dataset (created if absent).
    name : dataset name recorded in the catalog.
    venue : exchange or venue (``"NSE"``, ``"CBOE"``, ``"synthetic"``).
    timezone : IANA zone the naive, exchange-local timestamps are in (``"Asia/Kolkata"``).
    bar_interval : ``"1min"`` (intraday bars) or ``"1d"`` (end-of-day, one ``ts`` per day).
    source : what produced the data (adapter and input, or synthetic profile and seed).
    underlying_specs : explicit spec summaries, required for underlyings the instrument registry
        does not know; they take precedence over the registry.
    replace : start from an empty version (everything at ``root`` is replaced on finalize).
    lock_timeout : seconds to wait for another writer of ``root`` (``None`` = forever, ``0`` =
        fail at once).
    transaction : ``False`` writes straight into ``root``, unlocked (scratch folders only).
    rehash : record every kept file's checksum as it is now instead of the previous catalog's
        (``workbench data repair --rehash``: trusts the files).
    """

    def __init__(
        self,
        root: Path | str,
        *,
        name: str,
        venue: str,
        timezone: str,
        bar_interval: str,
        source: str,
        underlying_specs: Mapping[str, UnderlyingSpec | Mapping[str, Any]] | None = None,
        replace: bool = False,
        lock_timeout: float | None = DEFAULT_LOCK_TIMEOUT,
        transaction: bool = True,
        rehash: bool = False,
    ) -> None:
        self.root = Path(root)
        self._rehash = rehash
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"name must be a non-empty string, got {name!r}")
        if bar_interval not in _BAR_INTERVALS:
            raise ValueError(f"bar_interval must be one of {_BAR_INTERVALS}, got {bar_interval!r}")
        try:
            zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(f"timezone {timezone!r} is not an IANA timezone") from None
        self.name = name
        self.venue = venue
        self.timezone = timezone
        self.bar_interval = bar_interval
        self.source = source
        self._specs: dict[str, UnderlyingSpec] = {}
        for key, spec in (underlying_specs or {}).items():
            self.set_underlying_spec(key, spec)
        self._rejects: dict[str, list[pa.Table]] = {}
        self._counted: dict[str, Counter[str]] = {}
        self._written: set[str] = set()
        self._dropped: set[str] = set()
        self._inputs: dict[str, InputRecord] = {}
        self._dropped_inputs: set[str] = set()
        self.catalog: Catalog | None = None
        #: The dataset's catalog when the writer opened (``None``: new dataset).
        self.existing: Catalog | None = None
        #: What this version builds on (``existing`` unless ``replace``).
        self.previous: Catalog | None = None
        self._txn: DatasetTransaction | None = None
        if not transaction:
            self.folder = self.root
            if layout.catalog_path(self.root).is_file():
                self.existing = Catalog.load(self.root)
            self.previous = None if replace else self.existing
            self._check_compatible()
            self.root.mkdir(parents=True, exist_ok=True)
            self._open = True
            return
        self._txn = DatasetTransaction(
            self.root,
            purpose=f"writing dataset {name!r} ({source})",
            lock_timeout=lock_timeout,
        )
        try:
            self._open_existing(replace)
            self.folder = self._txn.stage
        except BaseException:
            self._txn.abort()
            raise
        self._open = True

    def _open_existing(self, replace: bool) -> None:
        """Read what is at ``root`` (holding the lock) and seed the new version from it."""
        assert self._txn is not None
        root = self.root
        if root.is_dir() and not layout.catalog_path(root).is_file() and any(root.iterdir()):
            if not unfinished_dataset(root):
                shown = ", ".join(sorted(p.name for p in root.iterdir())[:3])
                raise DatasetError(
                    f"{root}: not a dataset folder (no catalog.json) and not empty (it holds "
                    f"{shown}); choose a new or empty folder, or a dataset to extend"
                )
            warnings.warn(
                f"{root} holds an unfinished dataset write (day folders without a catalog, "
                "left by a killed writer): it is replaced by this one",
                UserWarning,
                stacklevel=3,
            )
        if layout.catalog_path(root).is_file():
            self.existing = Catalog.load(root)
        self.previous = None if replace else self.existing
        self._check_compatible()
        if self.previous is not None:
            from workbench.data.txn import link_tree

            link_tree(root, self._txn.stage)

    def _check_compatible(self) -> None:
        if self.previous is None:
            return
        for field, mine in (
            ("venue", self.venue),
            ("timezone", self.timezone),
            ("bar_interval", self.bar_interval),
        ):
            theirs = getattr(self.previous, field)
            if theirs != mine:
                raise DatasetError(
                    f"{layout.catalog_path(self.root)}: cannot extend a dataset with "
                    f"{field}={theirs!r} using {field}={mine!r}"
                )

    # -- context manager -------------------------------------------------------------------
    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            if self._open:
                self.finalize()
        else:
            self.abort()

    def abort(self) -> None:
        """Drop everything written since the writer opened; the dataset is left as it was."""
        self._open = False
        if self._txn is not None:
            self._txn.abort()

    def _check_open(self) -> None:
        if not self._open:
            raise DatasetError(
                f"{self.root}: this DatasetWriter was finalized or aborted; open a new one to "
                "write more"
            )

    # -- writing ---------------------------------------------------------------------------
    def set_underlying_spec(
        self, underlying: str, spec: UnderlyingSpec | Mapping[str, Any]
    ) -> None:
        """Record an explicit spec summary for ``underlying`` (overrides the registry)."""
        name = layout.check_underlying(underlying)
        self._specs[name] = spec if isinstance(spec, UnderlyingSpec) else UnderlyingSpec(**spec)

    def write_spot(self, underlying: str, day: date | str, table: pa.Table) -> Path:
        """Write (or replace) the spot bars of ``underlying`` on ``day``; return the path (in
        the staged version until :meth:`finalize` publishes it)."""
        return self._write("spot", underlying, day, table)

    def write_options(self, underlying: str, day: date | str, table: pa.Table) -> Path:
        """Write (or replace) every option bar of ``underlying`` on ``day``; return the path."""
        return self._write("options", underlying, day, table)

    def _write(self, kind: layout.Kind, underlying: str, day: date | str, table: pa.Table) -> Path:
        self._check_open()
        name = layout.check_underlying(underlying)
        the_day = as_date(day, "day")
        canonical = conform(table, kind, name, the_day)
        path = layout.data_path(self.folder, kind, name, the_day)
        write_parquet(canonical, path, kind)
        self._written.add(path.relative_to(self.folder).as_posix())
        checkpoint("day-written")
        return path

    def write_rejects(self, source: str, table: pa.Table) -> Path:
        """Keep rows refused at ingest: ``source_file, line, reason`` plus the raw fields.

        Written to ``rejects/<source>.parquet``; the first call for a ``source`` in this writer
        replaces that file (re-ingesting the same input does not double the rejects), later
        calls in the same writer append to it. These rows are counted by reason in the catalog
        automatically: do not also pass them to :meth:`add_rejected`.
        """
        self._check_open()
        name = layout.check_source_name(source)
        checked = conform_rejects(table, name)
        parts = self._rejects.setdefault(name, [])
        parts.append(checked)
        try:
            combined = pa.concat_tables(parts, promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            parts.pop()
            raise SchemaError(
                f"rejects table for source {name!r} does not match the earlier ones: {exc}"
            ) from None
        path = layout.rejects_path(self.folder, name)
        write_parquet(combined, path)
        rel = path.relative_to(self.folder).as_posix()
        self._written.add(rel)
        self._dropped.discard(rel)
        checkpoint("day-written")
        return path

    def drop_rejects(self, source: str) -> bool:
        """Remove ``rejects/<source>.parquet`` from the new version (stale rejects of an input
        read again under another key); True if there was one."""
        self._check_open()
        path = layout.rejects_path(self.folder, layout.check_source_name(source))
        self._rejects.pop(source, None)
        rel = path.relative_to(self.folder).as_posix()
        self._written.discard(rel)
        if path.exists():
            path.unlink()
            self._dropped.add(rel)
            return True
        return False

    def add_rejected(self, reason: str, n: int) -> None:
        """Count ``n`` rows refused for ``reason`` whose raw rows are not kept.

        Counted under this writer's ``source``: a later writer with the same ``source``
        replaces these counts (re-ingest is idempotent). Rows given to :meth:`write_rejects`
        are counted already.
        """
        if not isinstance(reason, str) or not reason:
            raise ValueError(f"reason must be a non-empty string, got {reason!r}")
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        self._counted.setdefault(self.source, Counter())[reason] += n

    def record_input(self, key: str, record: InputRecord) -> None:
        """Record an input file in the catalog's ``inputs`` under ``key`` (replacing it)."""
        self._inputs[layout.check_source_name(key)] = record
        self._dropped_inputs.discard(key)

    def drop_input(self, key: str) -> None:
        """Forget a recorded input (its file was read again under another key)."""
        self._inputs.pop(key, None)
        self._dropped_inputs.add(key)

    # -- catalog ---------------------------------------------------------------------------
    def finalize(self) -> Catalog:
        """Record every file, compute the content version, write ``catalog.json`` and publish.

        Raises :class:`CorruptFileError` when a file kept from the previous version no longer
        has the size its catalog records (run ``workbench data verify``).
        """
        self._check_open()
        folder = self.folder
        for sub in self._data_folders():
            sweep_temporaries(sub)
        recorded = self.previous.files if self.previous is not None and not self._rehash else {}
        files: dict[str, FileEntry] = {}
        day_index: dict[str, dict[str, list[date]]] = {}
        rows = {"spot": 0, "options": 0}
        option_extra: set[str] = set()
        reused_options = False
        for kind, underlying, day, path in layout.iter_data_files(folder):
            rel = path.relative_to(folder).as_posix()
            entry = self._kept_entry(rel, path, recorded)
            if entry is None:
                meta = self._read_metadata(path, rel)
                expected = schema_for(kind, meta.schema.names)  # type: ignore[arg-type]
                actual = meta.schema.to_arrow_schema()
                if not actual.equals(expected):
                    raise SchemaError(
                        f"{self.root / rel}: columns {_describe(actual)} do not match the "
                        f"canonical {kind} schema {_describe(expected)}"
                    )
                if kind == "options":
                    base = schema_for("options").names
                    option_extra.update(n for n in actual.names if n not in base)
                entry = FileEntry(
                    sha256=file_sha256(path), bytes=path.stat().st_size, rows=meta.num_rows
                )
            elif kind == "options":
                reused_options = True
            files[rel] = entry
            rows[kind] += entry.rows
            day_index.setdefault(underlying, {"spot": [], "options": []})[kind].append(day)
        if reused_options and self.previous is not None:
            base = schema_for("options").names
            option_extra.update(
                c for c in self.previous.columns.get("options", {}) if c not in base
            )

        rejected = Counter[str]()
        for path in layout.iter_reject_files(folder):
            rel = path.relative_to(folder).as_posix()
            entry = self._kept_entry(rel, path, recorded)
            if entry is None or entry.reasons is None:
                try:
                    reasons = pq.read_table(path, columns=["reason"]).column("reason")
                except (pa.ArrowInvalid, OSError) as exc:
                    raise CorruptFileError(
                        f"{self.root / rel}: cannot read rejects file ({exc})"
                    ) from None
                by_reason = Counter(r for r in reasons.to_pylist() if r is not None)
                entry = FileEntry(
                    sha256=entry.sha256 if entry is not None else file_sha256(path),
                    bytes=path.stat().st_size,
                    rows=len(reasons),
                    reasons=dict(sorted(by_reason.items())),
                )
            files[rel] = entry
            rejected.update(entry.reasons or {})

        counted: dict[str, dict[str, int]] = {}
        if self.previous is not None:
            counted.update(self.previous.rejected_without_rows)
        for src, session_counts in self._counted.items():
            counted[src] = dict(sorted(session_counts.items()))
        for counts in counted.values():
            rejected.update(counts)

        all_days = sorted(
            {d for entry in day_index.values() for lst in entry.values() for d in lst}
        )
        end = all_days[-1] if all_days else None
        underlyings = {u: self._spec_for(u, end) for u in sorted(day_index)}
        options_cols = schema_for(
            "options", [f.name for f in OPTIONAL_OPTION_FIELDS if f.name in option_extra]
        )
        source = self.source
        if self.previous is not None and self.previous.source != source:
            parts = [s for s in self.previous.source.split("; ") if s]
            source = "; ".join([*parts, source] if source not in parts else parts)
        inputs = dict(self.previous.inputs) if self.previous is not None else {}
        for key in self._dropped_inputs:
            inputs.pop(key, None)
        inputs.update(self._inputs)
        catalog = Catalog(
            name=self.name,
            content_version=content_version(files, counted),
            venue=self.venue,
            underlyings=underlyings,
            timezone=self.timezone,
            bar_interval=self.bar_interval,  # type: ignore[arg-type]
            start=all_days[0] if all_days else None,
            end=end,
            days=len(all_days),
            day_index={
                u: UnderlyingDays(spot=entry["spot"], options=entry["options"])
                for u, entry in sorted(day_index.items())
            },
            columns={
                "spot": {f.name: str(f.type) for f in schema_for("spot")},
                "options": {f.name: str(f.type) for f in options_cols},
            },
            source=source,
            row_counts=RowCounts(
                spot=rows["spot"], options=rows["options"], rejected=sum(rejected.values())
            ),
            rejected_by_reason=dict(sorted(rejected.items())),
            rejected_without_rows=dict(sorted(counted.items())),
            created_by=_created_by(),
            files=dict(sorted(files.items())),
            inputs=dict(sorted(inputs.items())),
        )
        catalog.write(folder)
        if self._txn is not None:
            self._txn.commit()
        self._open = False
        self.catalog = catalog
        return catalog

    def _kept_entry(
        self, rel: str, path: Path, recorded: Mapping[str, FileEntry]
    ) -> FileEntry | None:
        """The previous catalog's entry of a file this writer did not write (``None`` for a
        written file or one the previous catalog does not record)."""
        if rel in self._written:
            return None
        entry = recorded.get(rel)
        if entry is None:
            return None
        size = path.stat().st_size
        if size != entry.bytes:
            raise CorruptFileError(
                f"{self.root / rel}: {size:,} bytes, but the catalog records {entry.bytes:,}: "
                f"the file changed after the dataset was written; run `workbench data verify "
                f"{self.root}` (and `workbench data repair --rehash` to accept it as it is)"
            )
        return entry

    def _data_folders(self) -> list[Path]:
        folders = [self.folder / "rejects"]
        for kind in layout.KINDS:
            kind_dir = self.folder / kind
            if kind_dir.is_dir():
                folders += [
                    y for u in kind_dir.iterdir() if u.is_dir() for y in u.iterdir() if y.is_dir()
                ]
        return folders

    def _read_metadata(self, path: Path, rel: str) -> pq.FileMetaData:
        try:
            return pq.read_metadata(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise CorruptFileError(
                f"{self.root / rel}: not a readable Parquet file ({exc})"
            ) from None

    def _spec_for(self, underlying: str, on: date | None) -> UnderlyingSpec:
        if underlying in self._specs:
            return self._specs[underlying]
        previous = self.previous.underlyings.get(underlying) if self.previous else None
        try:
            return UnderlyingSpec.from_registry(underlying, on or date.today())
        except KeyError:
            if previous is not None and not previous.registered:
                return previous
            raise UnknownUnderlyingError(
                f"underlying {underlying!r} in {self.root} is not in the instrument registry "
                "(workbench.model.instruments); give its spec summary with "
                f"DatasetWriter(..., underlying_specs={{{underlying!r}: UnderlyingSpec(...)}})"
            ) from None


def _created_by() -> str:
    try:
        return f"workbench {importlib.metadata.version('workbench')}"
    except importlib.metadata.PackageNotFoundError:
        return "workbench"


def _describe(schema: pa.Schema) -> str:
    return "[" + ", ".join(f"{f.name}: {f.type}" for f in schema) + "]"
