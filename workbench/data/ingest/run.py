"""The ingest driver: files in, a canonical dataset out, every row accounted for.

``ingest(fmt, sources, out)`` reads each input file with the format's adapter (one file at a
time, CSVs streamed in blocks), stages accepted rows per (underlying, day), writes the refused
rows of each file to ``rejects/<key>.parquet``, then, per day, drops duplicate keys (keeping
one deterministically, quarantining the rest) and writes the day through
:class:`~workbench.data.writer.DatasetWriter`; ``finalize`` then records row counts, rejected
counts by reason and every input file in ``catalog.json`` and publishes the new version.

One ingest writes a dataset at a time: the writer's lock makes a second ingest into the same
``out`` wait (``lock_timeout`` seconds) for the first and then extend what it wrote; the data of
every ingest that reported success is in place. The whole ingest is one transaction: a kill at
any point leaves the previous version (or nothing, for a new dataset), never a mix, and the
next ingest or ``workbench data repair`` cleans up after it.

Inputs are keyed by content (:func:`~workbench.data.ingest.quarantine.input_key`: format, file
name, first hex digits of the file's sha256): the same file read again, through any spelling of
its path, replaces its rejects instead of adding them again; a file changed at the same path
replaces the earlier version's rejects and record.

A file that cannot be read (wrong header, binary, truncated compression) is refused as a whole
with an error naming it; its rows are withdrawn and the other files are ingested normally. The
report lists it, the catalog records it in ``inputs`` (``status="refused"``, its reason and its
row count when it can be counted), and the command line exits with status 1. When every file is
refused nothing is written: :class:`IngestError` names each file and its reason (status 2).

Re-ingesting the same input gives the same content version (deterministic Parquet, sorted
rows, rejects replaced not appended). Ingesting into an existing dataset writes only the days
this input has; a day it has replaces that day's file for the underlying.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from tqdm import tqdm

from workbench.data import layout
from workbench.data.catalog import InputRecord
from workbench.data.ingest.base import Adapter, InputFile, Staged
from workbench.data.ingest.daybuffer import (
    BOOKKEEPING,
    Columns,
    DayBuffer,
    split_duplicates,
    take_rows,
)
from workbench.data.ingest.errors import IngestError
from workbench.data.ingest.quarantine import DUPLICATE, input_key, source_name
from workbench.data.ingest.report import FileOutcome, IngestReport
from workbench.data.ingest.sources import count_rows
from workbench.data.locks import DEFAULT_LOCK_TIMEOUT
from workbench.data.schema import OPTIONAL_OPTION_FIELDS, OPTIONS_SCHEMA, SPOT_SCHEMA
from workbench.data.writer import DatasetWriter, unfinished_dataset

OPTION_KEYS = ["expiry", "strike", "right", "ts"]
SPOT_KEYS = ["ts"]
#: Threads writing day files (I/O bound: each file is fsynced).
WRITE_THREADS = 8


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def resolve_inputs(sources: Iterable[Path | str], suffixes: tuple[str, ...]) -> list[InputFile]:
    """Input files sorted by the name rejects record (relative to a folder given, else the
    file name); ``index`` is the position in that order; each with its sha256 and resolved
    path (a file named twice, however spelled, is read once)."""
    out: list[InputFile] = []
    seen: set[Path] = set()
    for source in sources:
        path = Path(source)
        if path.is_dir():
            found = [
                (p, p.relative_to(path.parent).as_posix())
                for p in sorted(path.rglob("*"))
                if p.is_file() and p.name.lower().endswith(suffixes)
            ]
        elif path.exists():
            found = [(path, path.name)]
        else:
            raise FileNotFoundError(f"input {path} does not exist")
        for p, display in found:
            key = p.resolve()
            if key not in seen:
                seen.add(key)
                out.append(InputFile(p, display, 0, "", str(key)))
    # files are read in the order of their names, so which of two duplicate rows is kept does
    # not depend on the order the sources were given
    ordered = sorted(out, key=lambda f: (f.display, str(f.path)))
    return [
        InputFile(f.path, f.display, i, _sha256(f.path), f.resolved) for i, f in enumerate(ordered)
    ]


def ingest(
    adapter: Adapter,
    sources: Sequence[Path | str],
    out: Path | str,
    *,
    name: str | None = None,
    progress: bool = True,
    lock_timeout: float | None = DEFAULT_LOCK_TIMEOUT,
) -> IngestReport:
    """Ingest ``sources`` (files or folders) with ``adapter`` into the dataset at ``out``.

    ``lock_timeout``: seconds to wait for another writer of ``out`` (``0``: fail at once).
    """
    out = Path(out)
    _check_out(out)
    files = resolve_inputs(sources, adapter.suffixes)
    if not files:
        raise FileNotFoundError(
            f"no input files ending in {adapter.suffixes} in {[str(s) for s in sources]}"
        )
    adapter.prepare(files)
    report = IngestReport(format=adapter.name, out=out)
    writer = DatasetWriter(
        out,
        name=name or out.resolve().name,
        venue=adapter.venue,
        timezone=adapter.timezone,
        bar_interval=adapter.bar_interval,
        source=adapter.source_note(),
        underlying_specs=adapter.underlying_specs(),
        lock_timeout=lock_timeout,
    )
    absolute = out.absolute()
    buffer = DayBuffer(absolute.parent, prefix=f".{absolute.name}.ingest-")
    keys = [input_key(adapter.name, f.display, f.sha256) for f in files]
    outcomes: list[FileOutcome] = []
    written_sources: set[str] = set()
    try:
        for file in tqdm(files, desc=f"ingest {adapter.name}", unit="file", disable=not progress):
            outcome = FileOutcome(file.display)
            outcomes.append(outcome)
            rejects: list[pa.Table] = []
            try:
                for piece in adapter.read(file):
                    _stage(buffer, file.index, piece, adapter, outcome)
                    if piece.rejects is not None and piece.rejects.num_rows:
                        rejects.append(piece.rejects)
                        outcome.rejected.update(piece.rejects.column("reason").to_pylist())
            except IngestError as exc:
                buffer.discard(file.index)
                outcome.error = str(exc)
                outcome.rows_read, outcome.accepted, outcome.rejected = 0, 0, Counter()
                continue
            if rejects:
                src = keys[file.index]
                writer.write_rejects(src, pa.concat_tables(rejects, promote_options="permissive"))
                written_sources.add(src)
        if all(o.error is not None for o in outcomes):
            raise _nothing_ingested(outcomes)
        _write_days(buffer, adapter, writer, files, keys, outcomes, written_sources, progress)
        adapter.finish()
        _record_inputs(writer, adapter, files, keys, outcomes, written_sources)
        report.catalog = writer.finalize()
    except BaseException:
        writer.abort()  # the dataset keeps its previous version (a new one is not created)
        raise
    finally:
        buffer.close()
    report.files = outcomes
    report.notes = list(adapter.notes)
    return report


def _record_inputs(
    writer: DatasetWriter,
    adapter: Adapter,
    files: list[InputFile],
    keys: list[str],
    outcomes: list[FileOutcome],
    written_sources: set[str],
) -> None:
    """Record every input in the catalog and remove rejects a re-read made stale.

    Stale: this input's rejects from an earlier ingest that found none this time, a rejects
    file named the way earlier versions named it (by the spelling of its path), and the
    rejects and record of an earlier version of the same file (same resolved path, other
    content).
    """
    previous = writer.previous.inputs if writer.previous is not None else {}
    for file, key, outcome in zip(files, keys, outcomes, strict=True):
        notes = [n for n in adapter.notes if n.startswith(f"{file.display}:")]
        if outcome.error is not None:
            rows = count_rows(file.path)
            writer.record_input(
                key,
                InputRecord(
                    file=file.display,
                    format=adapter.name,
                    sha256=file.sha256,
                    path=file.resolved,
                    status="refused",
                    reason=outcome.error,
                    rows_read=rows,
                    notes=notes,
                ),
            )
            continue
        if key not in written_sources:
            writer.drop_rejects(key)
        legacy = source_name(adapter.name, file.display)
        if legacy != key and legacy not in keys:
            writer.drop_rejects(legacy)
        for other, record in previous.items():
            if other != key and record.path == file.resolved and record.format == adapter.name:
                writer.drop_rejects(other)
                writer.drop_input(other)
        writer.record_input(
            key,
            InputRecord(
                file=file.display,
                format=adapter.name,
                sha256=file.sha256,
                path=file.resolved,
                rows_read=outcome.rows_read,
                accepted=outcome.accepted,
                rejected=sum(outcome.rejected.values()),
                notes=notes,
            ),
        )


def _check_out(out: Path) -> None:
    """``out`` must be absent, an empty folder, a dataset (holding ``catalog.json``) or what a
    killed writer left of a new one (checked again by the writer, holding the lock)."""
    if out.exists() and not out.is_dir():
        raise IngestError(f"{out}: is a file, not a dataset folder")
    if (
        out.is_dir()
        and not layout.catalog_path(out).is_file()
        and any(out.iterdir())
        and not unfinished_dataset(out)
    ):
        raise IngestError(
            f"{out}: not a dataset folder (no catalog.json) and not empty; choose a new or "
            "empty folder, or a dataset to extend"
        )


def _nothing_ingested(outcomes: list[FileOutcome]) -> IngestError:
    """Every input was refused: one error naming each file and why (nothing was written)."""
    n = len(outcomes)
    what = "the input file was" if n == 1 else f"all {n} input files were"
    reasons = "; ".join(str(o.error) for o in outcomes)
    return IngestError(f"nothing ingested: {what} refused: {reasons}")


def _stage(
    buffer: DayBuffer, index: int, piece: Staged, adapter: Adapter, outcome: FileOutcome
) -> None:
    outcome.rows_read += piece.rows_read
    for kind, frame in (("options", piece.options), ("spot", piece.spot)):
        if frame is None or frame.empty:
            continue
        if kind == adapter.input_kind:
            outcome.accepted += len(frame)
        cols = {c: frame[c].to_numpy() for c in frame.columns if c not in ("underlying", "day")}
        groups = frame.groupby(["underlying", "day"], sort=True).indices
        for group, rows in groups.items():
            name, day = str(group[0]), pd.Timestamp(group[1]).date()  # type: ignore[index]
            buffer.add((kind, name, day), index, take_rows(cols, np.asarray(rows)))


def _write_days(
    buffer: DayBuffer,
    adapter: Adapter,
    writer: DatasetWriter,
    files: list[InputFile],
    keys: list[str],
    outcomes: list[FileOutcome],
    written_sources: set[str],
    progress: bool,
) -> None:
    """Dedupe and write every staged day.

    Days are grouped by (kind, underlying, year), the folder their files go to; groups are
    written by :data:`WRITE_THREADS` threads (the writes wait on fsync, not on the CPU), one
    thread per folder so no two writes share a folder. Duplicates are quarantined here, in
    the calling thread, in key order, so the result does not depend on thread timing.
    """
    groups: dict[tuple[str, str, int], list[tuple[str, str, date]]] = {}
    all_keys = buffer.keys()
    for key in all_keys:
        groups.setdefault((key[0], key[1], key[2].year), []).append(key)
    bar = tqdm(total=len(all_keys), desc="write days", unit="day", disable=not progress)
    with ThreadPoolExecutor(max_workers=WRITE_THREADS) as pool:
        pending: list[Future[list[tuple[str, Columns, list[str]]]]] = []
        for group in groups.values():
            frames = [(key, buffer.take(key)) for key in group]
            pending.append(pool.submit(_write_group, frames, adapter, writer, bar))
            if len(pending) >= 2 * WRITE_THREADS:
                _collect(pending.pop(0), writer, files, keys, outcomes, written_sources)
        for future in pending:
            _collect(future, writer, files, keys, outcomes, written_sources)
    bar.close()


def _write_group(
    frames: list[tuple[tuple[str, str, date], Columns]],
    adapter: Adapter,
    writer: DatasetWriter,
    bar: tqdm,  # type: ignore[type-arg]
) -> list[tuple[str, Columns, list[str]]]:
    dups_out: list[tuple[str, Columns, list[str]]] = []
    for (kind, underlying, day), frame in frames:
        keys = OPTION_KEYS if kind == "options" else SPOT_KEYS
        kept, dups = split_duplicates(frame, keys)
        if kind == "options":
            kept = adapter.finish_options(underlying, kept)
        if kind == adapter.input_kind and dups is not None:
            dups_out.append((underlying, dups, keys))
        table = _to_arrow(kept, kind)
        if kind == "options":
            writer.write_options(underlying, day, table)
        else:
            writer.write_spot(underlying, day, table)
        bar.update(1)
    return dups_out


def _collect(
    future: Future[list[tuple[str, Columns, list[str]]]],
    writer: DatasetWriter,
    files: list[InputFile],
    keys: list[str],
    outcomes: list[FileOutcome],
    written_sources: set[str],
) -> None:
    for underlying, dups, columns in future.result():
        _quarantine_duplicates(
            underlying, dups, columns, writer, files, keys, outcomes, written_sources
        )


def _to_arrow(frame: Columns, kind: str) -> pa.Table:
    schema = OPTIONS_SCHEMA if kind == "options" else SPOT_SCHEMA
    names = list(schema.names)
    if kind == "options":
        names += [f.name for f in OPTIONAL_OPTION_FIELDS if f.name in frame]
    return pa.table({n: frame[n] for n in names})


def _quarantine_duplicates(
    underlying: str,
    dups: Columns,
    columns: list[str],
    writer: DatasetWriter,
    files: list[InputFile],
    keys: list[str],
    outcomes: list[FileOutcome],
    written_sources: set[str],
) -> None:
    texts = [pd.Series(dups[k]).astype(str).to_numpy(dtype=object) for k in columns]
    key_text = np.array([" ".join([underlying, *parts]) for parts in zip(*texts, strict=True)])
    file_ids = dups["_file"].astype(np.int64)
    for idx in np.unique(file_ids):
        rows = np.flatnonzero(file_ids == idx)
        file = files[int(idx)]
        n = len(rows)
        table = pa.table(
            {
                "source_file": pa.array([file.display] * n, pa.string()),
                "line": pa.array(dups["_line"][rows].astype(np.int64), pa.int64()),
                "reason": pa.array([DUPLICATE] * n, pa.string()),
                "key": pa.array(key_text[rows].astype(str), pa.string()),
                "kept_source_file": pa.array(
                    [files[int(i)].display for i in dups["kept_file"][rows]], pa.string()
                ),
                "kept_line": pa.array(dups["kept_line"][rows].astype(np.int64), pa.int64()),
            }
        )
        src = keys[int(idx)]
        writer.write_rejects(src, table)
        written_sources.add(src)
        outcomes[int(idx)].accepted -= n
        outcomes[int(idx)].rejected[DUPLICATE] += n


__all__ = ["BOOKKEEPING", "ingest", "resolve_inputs"]
