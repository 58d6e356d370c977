"""The ingest driver: files in, a canonical dataset out, every row accounted for.

``ingest(fmt, sources, out)`` reads each input file with the format's adapter (one file at a
time, CSVs streamed in blocks), stages accepted rows per (underlying, day), writes the refused
rows of each file to ``rejects/<format>.<file>.parquet``, then, per day, drops duplicate keys
(keeping one deterministically, quarantining the rest) and writes the day through
:class:`~workbench.data.writer.DatasetWriter`; ``finalize`` then records row counts and rejected
counts by reason in ``catalog.json``.

A file that cannot be read (wrong header, binary, truncated compression) is refused as a whole
with an error naming it; its rows are withdrawn and the other files are ingested normally. The
report lists it, and the command line exits with status 1.

Re-ingesting the same input gives the same content version (deterministic Parquet, sorted
rows, rejects replaced not appended). Ingesting into an existing dataset writes only the days
this input has; a day it has replaces that day's file for the underlying.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from tqdm import tqdm

from workbench.data import layout
from workbench.data.ingest.base import Adapter, InputFile, Staged
from workbench.data.ingest.daybuffer import BOOKKEEPING, DayBuffer, split_duplicates
from workbench.data.ingest.errors import IngestError
from workbench.data.ingest.quarantine import DUPLICATE, empty_rejects, source_name
from workbench.data.ingest.report import FileOutcome, IngestReport
from workbench.data.schema import OPTIONAL_OPTION_FIELDS, OPTIONS_SCHEMA, SPOT_SCHEMA
from workbench.data.writer import DatasetWriter

OPTION_KEYS = ["expiry", "strike", "right", "ts"]
SPOT_KEYS = ["ts"]


def resolve_inputs(sources: Iterable[Path | str], suffixes: tuple[str, ...]) -> list[InputFile]:
    """Input files, each with the name rejects record: relative to a folder given, else its name."""
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
                out.append(InputFile(p, display, len(out)))
    return out


def ingest(
    adapter: Adapter,
    sources: Sequence[Path | str],
    out: Path | str,
    *,
    name: str | None = None,
    progress: bool = True,
) -> IngestReport:
    """Ingest ``sources`` (files or folders) with ``adapter`` into the dataset at ``out``."""
    out = Path(out)
    files = resolve_inputs(sources, adapter.suffixes)
    if not files:
        raise FileNotFoundError(
            f"no input files ending in {adapter.suffixes} in {[str(s) for s in sources]}"
        )
    report = IngestReport(format=adapter.name, out=out)
    writer = DatasetWriter(
        out,
        name=name or out.resolve().name,
        venue=adapter.venue,
        timezone=adapter.timezone,
        bar_interval=adapter.bar_interval,
        source=adapter.source_note(),
        underlying_specs=adapter.underlying_specs(),
    )
    buffer = DayBuffer(out)
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
                src = source_name(adapter.name, file.display)
                writer.write_rejects(src, pa.concat_tables(rejects, promote_options="permissive"))
                written_sources.add(src)
        for key in tqdm(buffer.keys(), desc="write days", unit="day", disable=not progress):
            _write_day(key, buffer.take(key), adapter, writer, files, outcomes, written_sources)
        for file in files:
            src = source_name(adapter.name, file.display)
            if (
                outcomes[file.index].error is None
                and src not in written_sources
                and layout.rejects_path(out, src).exists()
            ):
                writer.write_rejects(src, empty_rejects())
        report.catalog = writer.finalize()
    finally:
        buffer.close()
    report.files = outcomes
    report.notes = list(adapter.notes)
    return report


def _stage(
    buffer: DayBuffer, index: int, piece: Staged, adapter: Adapter, outcome: FileOutcome
) -> None:
    outcome.rows_read += piece.rows_read
    for kind, frame in (("options", piece.options), ("spot", piece.spot)):
        if frame is None or frame.empty:
            continue
        if kind == adapter.input_kind:
            outcome.accepted += len(frame)
        for (underlying, day), part in frame.groupby(["underlying", "day"], sort=True):
            the_day = pd.Timestamp(day).date()  # type: ignore[arg-type]
            buffer.add(
                (kind, str(underlying), the_day), index, part.drop(columns=["underlying", "day"])
            )


def _write_day(
    key: tuple[str, str, date],
    frame: pd.DataFrame,
    adapter: Adapter,
    writer: DatasetWriter,
    files: list[InputFile],
    outcomes: list[FileOutcome],
    written_sources: set[str],
) -> None:
    kind, underlying, day = key
    keys = OPTION_KEYS if kind == "options" else SPOT_KEYS
    kept, dups = split_duplicates(frame, keys)
    if kind == "options":
        kept = adapter.finish_options(underlying, kept)
    if kind == adapter.input_kind and not dups.empty:
        _quarantine_duplicates(
            underlying, dups, keys, adapter, writer, files, outcomes, written_sources
        )
    table = _to_arrow(kept, kind)
    if kind == "options":
        writer.write_options(underlying, day, table)
    else:
        writer.write_spot(underlying, day, table)


def _to_arrow(frame: pd.DataFrame, kind: str) -> pa.Table:
    schema = OPTIONS_SCHEMA if kind == "options" else SPOT_SCHEMA
    names = list(schema.names)
    if kind == "options":
        names += [f.name for f in OPTIONAL_OPTION_FIELDS if f.name in frame.columns]
    data = frame[names].reset_index(drop=True)
    return pa.Table.from_pandas(data, preserve_index=False)


def _quarantine_duplicates(
    underlying: str,
    dups: pd.DataFrame,
    keys: list[str],
    adapter: Adapter,
    writer: DatasetWriter,
    files: list[InputFile],
    outcomes: list[FileOutcome],
    written_sources: set[str],
) -> None:
    key_text = underlying + " " + dups[keys[0]].astype(str)
    for k in keys[1:]:
        key_text = key_text + " " + dups[k].astype(str)
    for file_index, part in dups.groupby("_file", sort=True):
        idx = int(file_index)  # type: ignore[arg-type]
        file = files[idx]
        n = len(part)
        table = pa.table(
            {
                "source_file": pa.array([file.display] * n, pa.string()),
                "line": pa.array(part["_line"].to_numpy(np.int64), pa.int64()),
                "reason": pa.array([DUPLICATE] * n, pa.string()),
                "key": pa.array(key_text.loc[part.index].to_numpy(str), pa.string()),
                "kept_source_file": pa.array(
                    [files[int(i)].display for i in part["kept_file"]], pa.string()
                ),
                "kept_line": pa.array(part["kept_line"].to_numpy(np.int64), pa.int64()),
            }
        )
        src = source_name(adapter.name, file.display)
        writer.write_rejects(src, table)
        written_sources.add(src)
        outcomes[idx].accepted -= n
        outcomes[idx].rejected[DUPLICATE] += n


__all__ = ["BOOKKEEPING", "ingest", "resolve_inputs"]
