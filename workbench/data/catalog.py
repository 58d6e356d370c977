"""``catalog.json``: what a dataset holds, validated on load.

The catalog is the dataset's table of contents and identity: name, content version (a hash of
the data), venue, underlyings with a summary of their instrument specs, the exchange-local
timezone the timestamps are in, bar interval, date range and per-underlying day lists, columns,
source, row counts and rejected-row counts by reason. It is written last by
:meth:`workbench.data.writer.DatasetWriter.finalize`, atomically.

Underlying specs: an underlying known to ``workbench.model.instruments`` gets its summary from
the registry (``registered=True``); an underlying the registry does not know is allowed only
with an explicit :class:`UnderlyingSpec` given to the writer (``registered=False``), so every
dataset says what its contracts are (currency, lot size, strike step, settlement).

Format 2 adds what makes a dataset checkable: ``files`` (every data and rejects file with its
sha256, size and row count; ``workbench data verify`` compares them with the disk, the market
store checks sizes and row counts as it opens files) and ``inputs`` (every input file an ingest
read, keyed by its content: rows read, accepted, rejected, notes, or the reason it was refused
whole). A format-1 catalog (without them) still loads; ``workbench data repair --rehash``
records the checksums of its files as they are.

Loading a catalog applies the same checks as writing one: underlying names must be safe folder
names and every recorded file path must be a canonical path inside the dataset, so a crafted
catalog cannot make the store open files elsewhere.
"""

from __future__ import annotations

import json
import zoneinfo
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from workbench.data.atomic import write_bytes_atomic
from workbench.data.errors import CorruptFileError, DatasetNotFoundError, SchemaError
from workbench.data.layout import CATALOG_FILE, check_relative_path
from workbench.model.names import check_underlying

FORMAT_VERSION = 2
BarInterval = Literal["1min", "1d"]


class UnderlyingSpec(BaseModel):
    """Summary of an underlying's instrument spec as recorded in a catalog.

    ``lot_size`` is units of underlying per contract on the dataset's last day (NSE lot size, US
    multiplier 100); ``strike_step`` in price units; ``spot`` the underlying whose spot series
    prices it (SPXW -> SPX), ``None`` for itself.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    venue: str
    currency: str
    timezone: str
    calendar: str | None = None
    spot: str | None = None
    strike_step: float | None = Field(default=None, gt=0)
    tick_size: float | None = Field(default=None, gt=0)
    lot_size: int | None = Field(default=None, gt=0)
    settlement: str | None = None
    settlement_time: str | None = None
    symbol_style: str | None = None
    registered: bool = False

    @classmethod
    def from_registry(cls, name: str, on: date) -> UnderlyingSpec:
        """Summary of ``workbench.model.instruments.get_instrument(name)`` as of ``on``.

        Raises the registry's ``UnknownInstrumentError`` (a ``KeyError``) for an unknown name.
        """
        from workbench.data.layout import settled_underlying
        from workbench.model.instruments import get_instrument

        base = settled_underlying(name)
        if base is not None:  # a settlement series: the venue, zone and calendar of its options
            of = get_instrument(base)
            return cls(
                venue=str(of.venue),
                currency=str(of.currency),
                timezone=str(of.timezone),
                calendar=str(of.calendar),
                registered=False,
            )
        spec = get_instrument(name)
        spot = spec.spot_underlying
        return cls(
            venue=str(spec.venue),
            currency=str(spec.currency),
            timezone=str(spec.timezone),
            calendar=str(spec.calendar),
            spot=None if spot in (None, name) else str(spot),
            strike_step=float(spec.strike_step_on(on)),
            tick_size=float(spec.tick_size),
            lot_size=int(spec.lot_size(on)),
            settlement=str(spec.settlement),
            settlement_time=str(spec.settlement_time),
            symbol_style=str(spec.symbol_style),
            registered=True,
        )


class UnderlyingDays(BaseModel):
    """Trading days with a spot file and with an option file, ascending."""

    model_config = ConfigDict(extra="forbid")

    spot: list[date] = Field(default_factory=list)
    options: list[date] = Field(default_factory=list)


class RowCounts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    spot: int = Field(default=0, ge=0)
    options: int = Field(default=0, ge=0)
    rejected: int = Field(default=0, ge=0)


class FileEntry(BaseModel):
    """One data or rejects file: ``sha256`` of its bytes, ``bytes`` (size), ``rows`` and, for a
    rejects file, its rows by ``reasons``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    bytes: int = Field(ge=0)
    rows: int = Field(ge=0)
    reasons: dict[str, int] | None = None


class InputRecord(BaseModel):
    """One input file of an ingest, keyed in the catalog by its rejects source (which carries
    the file's content hash, so the same bytes read through another path spelling are the same
    input). ``status`` is ``"ingested"`` or ``"refused"`` (the whole file, with ``reason``;
    ``rows_read`` then counts its lines when they could be counted, else ``None``)."""

    model_config = ConfigDict(extra="forbid")

    file: str
    format: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    path: str | None = None
    status: Literal["ingested", "refused"] = "ingested"
    reason: str | None = None
    rows_read: int | None = Field(default=None, ge=0)
    accepted: int = Field(default=0, ge=0)
    rejected: int = Field(default=0, ge=0)
    notes: list[str] = Field(default_factory=list)


class Catalog(BaseModel):
    """Contents of ``catalog.json`` (see the module docstring).

    ``content_version`` is ``"sha256:<hex>"`` over the sorted (relative path, file sha256) of
    every data and rejects file plus the counted-only rejects; ``days`` the number of distinct
    days with any file; ``columns`` maps ``spot``/``options`` to ``{column: arrow type}``;
    ``rejected_by_reason`` counts every rejected row (rows kept in ``rejects/`` plus
    ``rejected_without_rows``: counts given to ``add_rejected`` without the rows, by writer
    source, then reason).
    """

    model_config = ConfigDict(extra="forbid")

    format_version: int = FORMAT_VERSION
    name: str = Field(min_length=1)
    content_version: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")
    venue: str
    underlyings: dict[str, UnderlyingSpec]
    timezone: str
    bar_interval: BarInterval
    start: date | None
    end: date | None
    days: int = Field(ge=0)
    day_index: dict[str, UnderlyingDays]
    columns: dict[str, dict[str, str]]
    source: str
    row_counts: RowCounts
    rejected_by_reason: dict[str, int] = Field(default_factory=dict)
    rejected_without_rows: dict[str, dict[str, int]] = Field(default_factory=dict)
    created_by: str
    files: dict[str, FileEntry] = Field(default_factory=dict)
    inputs: dict[str, InputRecord] = Field(default_factory=dict)

    @field_validator("format_version")
    @classmethod
    def _known_format(cls, value: int) -> int:
        if value not in (1, FORMAT_VERSION):
            raise ValueError(
                f"format {value} is not one this workbench reads (1..{FORMAT_VERSION}); "
                "it was written by a newer version"
            )
        return value

    @field_validator("underlyings", "day_index")
    @classmethod
    def _safe_underlyings(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if check_underlying(name) != name:
                raise ValueError(f"underlying {name!r} is not in canonical upper case")
        return value

    @field_validator("files")
    @classmethod
    def _canonical_paths(cls, value: dict[str, FileEntry]) -> dict[str, FileEntry]:
        for rel in value:
            check_relative_path(rel)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA timezone {value!r}") from None
        return value

    def underlying_days(self, underlying: str) -> list[date]:
        """Sorted days with a spot or option file for ``underlying`` (empty if none)."""
        entry = self.day_index.get(underlying)
        if entry is None:
            return []
        return sorted(set(entry.spot) | set(entry.options))

    @classmethod
    def load(cls, path: Path | str) -> Catalog:
        """Read and validate ``path`` (a ``catalog.json`` or the dataset folder holding one).

        Raises :class:`DatasetNotFoundError` if absent, :class:`CorruptFileError` if it is not
        JSON, :class:`SchemaError` naming the path and every invalid field.
        """
        path = Path(path)
        if path.is_dir() or path.suffix != ".json":
            path = path / CATALOG_FILE
        if path.parent.is_file():
            raise DatasetNotFoundError(f"{path.parent} is a file, not a dataset folder")
        if not path.parent.is_dir():
            from workbench.data.txn import interrupted_publish

            pending = interrupted_publish(path.parent)
            if pending is not None:
                raise DatasetNotFoundError(
                    f"dataset folder {path.parent} does not exist: a writer was killed while "
                    f"publishing a new version (complete, at {pending.name}); run "
                    f"`workbench data repair {path.parent}` to put it in place"
                )
            raise DatasetNotFoundError(f"dataset folder {path.parent} does not exist")
        if not path.is_file():
            raise DatasetNotFoundError(
                f"{path.parent} is not a dataset: it has no {CATALOG_FILE} "
                "(create datasets with DatasetWriter, `workbench data synth` or an ingest adapter)"
            )
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CorruptFileError(f"{path}: not valid JSON ({exc})") from None
        return cls.from_json_obj(raw, path)

    @classmethod
    def from_json_obj(cls, raw: Any, origin: Path | str) -> Catalog:
        if not isinstance(raw, dict):
            raise SchemaError(f"{origin}: expected a JSON object, got {type(raw).__name__}")
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"field {'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}"
                for err in exc.errors()
            )
            raise SchemaError(f"{origin}: invalid catalog: {problems}") from None

    def to_json(self) -> str:
        """Stable JSON text (fixed key order, two-space indent, trailing newline)."""
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=False) + "\n"

    def write(self, path: Path | str) -> Path:
        """Write atomically to ``path`` (a ``catalog.json`` or the dataset folder); return it."""
        path = Path(path)
        if path.is_dir() or path.suffix != ".json":
            path = path / CATALOG_FILE
        write_bytes_atomic(path, self.to_json().encode("utf-8"))
        return path
