"""``DatasetWriter``: the one way data gets into a canonical dataset.

Ingest adapters and the synthetic market both write through it::

    with DatasetWriter("data/mine", name="mine", venue="NSE", timezone="Asia/Kolkata",
                       bar_interval="1min", source="synthetic nifty-intraday seed=7") as w:
        w.write_spot("NIFTY", day, spot_table)
        w.write_options("NIFTY", day, option_table)
        w.write_rejects("nse-chain", rejected_rows)   # rows refused, with their reason
    catalog = w.catalog                                # finalize() ran on a clean exit

- Opening an existing dataset extends it: new days are added, a day written again is
  replaced, every other file is left untouched. Venue, timezone and bar interval must match.
- Every table is checked against the canonical schema (:func:`workbench.data.schema.conform`):
  compatible types are cast, anything else raises :class:`SchemaError` naming the underlying,
  day and column.
- Every file is written atomically (temporary file in the same folder, fsync, ``os.replace``);
  Parquet bytes are deterministic (fixed codec, level and row-group size), so the same input
  gives the same content version.
- :meth:`finalize` rescans the folder (file footers and bytes, not the data), computes row
  counts, columns and the content version, and writes ``catalog.json`` last, atomically. Until
  then readers see the previous catalog. ``write_spot``/``write_options`` for distinct days may
  run in several processes (one writer each); call ``finalize`` once at the end.

Underlying specs: each underlying's summary comes from ``workbench.model.instruments``; an
underlying the registry does not know needs ``underlying_specs={name: UnderlyingSpec(...)}``
(or :meth:`set_underlying_spec`), otherwise ``finalize`` raises :class:`UnknownUnderlyingError`.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import zoneinfo
from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from workbench.model.dates import as_date
from workbench.data import layout
from workbench.data.atomic import sweep_temporaries, write_atomic
from workbench.data.catalog import Catalog, RowCounts, UnderlyingDays, UnderlyingSpec
from workbench.data.errors import (
    CorruptFileError,
    DatasetError,
    SchemaError,
    UnknownUnderlyingError,
)
from workbench.data.schema import (
    COMPRESSION,
    OPTIONAL_OPTION_FIELDS,
    USE_DICTIONARY,
    conform,
    conform_rejects,
    row_group_bounds,
    schema_for,
)

_BAR_INTERVALS = ("1min", "1d")


def write_parquet(table: pa.Table, path: Path, kind: str = "rejects") -> None:
    """Write ``table`` to ``path`` atomically with the dataset's fixed, deterministic settings.

    Row groups follow :func:`workbench.data.schema.row_group_bounds` for ``kind``.
    """

    def write(tmp: Path) -> None:
        with pq.ParquetWriter(
            tmp,
            table.schema,
            compression=COMPRESSION,
            use_dictionary=USE_DICTIONARY,
            write_statistics=True,
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
    ) -> None:
        self.root = Path(root)
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
        self.previous: Catalog | None = None
        if layout.catalog_path(self.root).is_file():
            self.previous = Catalog.load(self.root)
            for field, mine in (
                ("venue", venue),
                ("timezone", timezone),
                ("bar_interval", bar_interval),
            ):
                theirs = getattr(self.previous, field)
                if theirs != mine:
                    raise DatasetError(
                        f"{layout.catalog_path(self.root)}: cannot extend a dataset with "
                        f"{field}={theirs!r} using {field}={mine!r}"
                    )
        self.root.mkdir(parents=True, exist_ok=True)
        self._specs: dict[str, UnderlyingSpec] = {}
        for key, spec in (underlying_specs or {}).items():
            self.set_underlying_spec(key, spec)
        self._rejects: dict[str, list[pa.Table]] = {}
        self._counted: dict[str, Counter[str]] = {}
        self.catalog: Catalog | None = None

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
            self.finalize()

    # -- writing ---------------------------------------------------------------------------
    def set_underlying_spec(
        self, underlying: str, spec: UnderlyingSpec | Mapping[str, Any]
    ) -> None:
        """Record an explicit spec summary for ``underlying`` (overrides the registry)."""
        name = layout.check_underlying(underlying)
        self._specs[name] = spec if isinstance(spec, UnderlyingSpec) else UnderlyingSpec(**spec)

    def write_spot(self, underlying: str, day: date | str, table: pa.Table) -> Path:
        """Write (or replace) the spot bars of ``underlying`` on ``day``; return the path."""
        return self._write("spot", underlying, day, table)

    def write_options(self, underlying: str, day: date | str, table: pa.Table) -> Path:
        """Write (or replace) every option bar of ``underlying`` on ``day``; return the path."""
        return self._write("options", underlying, day, table)

    def _write(self, kind: layout.Kind, underlying: str, day: date | str, table: pa.Table) -> Path:
        name = layout.check_underlying(underlying)
        the_day = as_date(day, "day")
        canonical = conform(table, kind, name, the_day)
        path = layout.data_path(self.root, kind, name, the_day)
        write_parquet(canonical, path, kind)
        return path

    def write_rejects(self, source: str, table: pa.Table) -> Path:
        """Keep rows refused at ingest: ``source_file, line, reason`` plus the raw fields.

        Written to ``rejects/<source>.parquet``; the first call for a ``source`` in this writer
        replaces that file (re-ingesting the same input does not double the rejects), later
        calls in the same writer append to it. These rows are counted by reason in the catalog
        automatically: do not also pass them to :meth:`add_rejected`.
        """
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
        path = layout.rejects_path(self.root, name)
        write_parquet(combined, path)
        return path

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

    # -- catalog ---------------------------------------------------------------------------
    def finalize(self) -> Catalog:
        """Scan the dataset, compute counts and content version, write ``catalog.json``.

        Run it when no other writer is writing to the dataset (it describes the folder as it
        is). It also removes temporary files that killed writes left behind; ``write_*`` never
        does, because another process may be writing a day into the same folder.
        """
        for folder in self._data_folders():
            sweep_temporaries(folder)
        files: list[tuple[str, str]] = []
        day_index: dict[str, dict[str, list[date]]] = {}
        rows = {"spot": 0, "options": 0}
        option_extra: set[str] = set()
        for kind, underlying, day, path in layout.iter_data_files(self.root):
            meta = self._read_metadata(path)
            expected = schema_for(kind, meta.schema.names)  # type: ignore[arg-type]
            actual = meta.schema.to_arrow_schema()
            if not actual.equals(expected):
                raise SchemaError(
                    f"{path}: columns {_describe(actual)} do not match the canonical "
                    f"{kind} schema {_describe(expected)}"
                )
            if kind == "options":
                option_extra.update(n for n in actual.names if n not in schema_for("options").names)
            rows[kind] += meta.num_rows
            day_index.setdefault(underlying, {"spot": [], "options": []})[kind].append(day)
            files.append((path.relative_to(self.root).as_posix(), file_sha256(path)))

        rejected = Counter[str]()
        for path in layout.iter_reject_files(self.root):
            try:
                reasons = pq.read_table(path, columns=["reason"]).column("reason")
            except (pa.ArrowInvalid, OSError) as exc:
                raise CorruptFileError(f"{path}: cannot read rejects file ({exc})") from None
            rejected.update(r for r in reasons.to_pylist() if r is not None)
            files.append((path.relative_to(self.root).as_posix(), file_sha256(path)))

        counted: dict[str, dict[str, int]] = {}
        if self.previous is not None:
            counted.update(self.previous.rejected_without_rows)
        for src, session_counts in self._counted.items():
            counted[src] = dict(sorted(session_counts.items()))
        for by_reason in counted.values():
            rejected.update(by_reason)

        all_days = sorted(
            {d for entry in day_index.values() for lst in entry.values() for d in lst}
        )
        end = all_days[-1] if all_days else None
        underlyings = {u: self._spec_for(u, end) for u in sorted(day_index)}
        files.sort()
        digest = hashlib.sha256()
        for rel, sha in files:
            digest.update(f"{rel}\t{sha}\n".encode())
        digest.update(json.dumps(counted, sort_keys=True).encode())

        options_cols = schema_for(
            "options", [f.name for f in OPTIONAL_OPTION_FIELDS if f.name in option_extra]
        )
        source = self.source
        if self.previous is not None and self.previous.source != source:
            parts = [s for s in self.previous.source.split("; ") if s]
            source = "; ".join([*parts, source] if source not in parts else parts)
        catalog = Catalog(
            name=self.name,
            content_version=f"sha256:{digest.hexdigest()}",
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
        )
        catalog.write(self.root)
        self.catalog = catalog
        self.previous = catalog
        self._counted = {}
        return catalog

    def _data_folders(self) -> list[Path]:
        folders = [self.root / "rejects"]
        for kind in layout.KINDS:
            kind_dir = self.root / kind
            if kind_dir.is_dir():
                folders += [
                    y for u in kind_dir.iterdir() if u.is_dir() for y in u.iterdir() if y.is_dir()
                ]
        return folders

    def _read_metadata(self, path: Path) -> pq.FileMetaData:
        try:
            return pq.read_metadata(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise CorruptFileError(f"{path}: not a readable Parquet file ({exc})") from None

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
