"""Canonical column schemas and the check that brings a table into them.

Spot files: ``ts timestamp[us]`` (exchange-local, naive), ``open high low close float64``,
``volume int64``; sorted by ``ts``.

Option files: ``ts timestamp[us]``, ``expiry date32``, ``strike float64`` (underlying price
units), ``right string`` (``C``/``P``), ``open high low close bid ask float64`` (NaN = none),
``volume oi int64`` (contracts), optional ``iv delta gamma theta vega float64`` (iv as a
fraction, 0.2 = 20 %; Greeks in the source's units), optional ``bid_size ask_size float64``
(the quoted size at the best bid / ask, in contracts; NaN = not quoted); sorted by (expiry, strike, right, ts) and
written with row groups of at most :data:`ROW_GROUP_ROWS` rows so that one instrument-day is
read through row-group min/max statistics without reading the whole day.

:func:`conform` validates a table against these schemas, casts compatible types (any integer
or float width to float64, integral floats to int64, other timestamp units to microseconds,
``date64``/timestamps to ``date32`` for ``expiry``, dictionary or large strings to string,
``CE``/``PE``/``call``/``put`` to ``C``/``P``), fills nulls (NaN in price columns, 0 in
``volume``/``oi``), sorts, and raises :class:`SchemaError` naming the underlying, day, column
and, for bad values, the first offending row.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from workbench.data.errors import SchemaError
from workbench.data.layout import Kind
from workbench.model.enums import Right

#: Rows per Parquet row group in option files. Measured on a 120,000-row day (375 bars x 40
#: strikes x 2 rights x 4 expiries; ``python -m workbench.bench store``), DuckDB 2.0, one
#: instrument-day query, median ms: 512 rows ~6-7, 1024 ~4, 2048 ~3.1, 4096 ~2.5, 8192 ~2.3,
#: 16384 ~2.6. DuckDB pays per row group examined, so tiny groups lose; at 8192 one instrument
#: (375 rows) reads 1-2 of ~15 groups, skipping the rest through the (expiry, strike, right)
#: min/max statistics.
ROW_GROUP_ROWS: Final[int] = 8192

#: Parquet codec and no dictionary pages (plain pages read faster here); both fixed so the same
#: table always gives the same bytes. LZ4 (written as the standard LZ4_RAW codec, which DuckDB,
#: PyArrow, Polars and Spark 3.4+ read) decodes an 8,192-row option group in ~0.9 ms against
#: ~1.3 ms for snappy and ~1.8 ms for zstd, at about snappy's size; files of either codec read.
COMPRESSION: Final[str] = "lz4"
USE_DICTIONARY: Final[bool] = False

TS_TYPE: Final = pa.timestamp("us")

SPOT_SCHEMA: Final = pa.schema(
    [
        ("ts", TS_TYPE),
        ("open", pa.float64()),
        ("high", pa.float64()),
        ("low", pa.float64()),
        ("close", pa.float64()),
        ("volume", pa.int64()),
    ]
)

OPTIONS_SCHEMA: Final = pa.schema(
    [
        ("ts", TS_TYPE),
        ("expiry", pa.date32()),
        ("strike", pa.float64()),
        ("right", pa.string()),
        ("open", pa.float64()),
        ("high", pa.float64()),
        ("low", pa.float64()),
        ("close", pa.float64()),
        ("bid", pa.float64()),
        ("ask", pa.float64()),
        ("volume", pa.int64()),
        ("oi", pa.int64()),
    ]
)

#: Columns an option file may carry in addition to :data:`OPTIONS_SCHEMA`, in this order.
OPTIONAL_OPTION_FIELDS: Final = (
    pa.field("iv", pa.float64()),
    pa.field("delta", pa.float64()),
    pa.field("gamma", pa.float64()),
    pa.field("theta", pa.float64()),
    pa.field("vega", pa.float64()),
    pa.field("bid_size", pa.float64()),
    pa.field("ask_size", pa.float64()),
)

#: Required columns of a rejects table; any other columns carry the raw input fields.
REJECT_COLUMNS: Final = ("source_file", "line", "reason")

SORT_KEYS: Final[dict[str, list[str]]] = {
    "spot": ["ts"],
    "options": ["expiry", "strike", "right", "ts"],
}
_INT_COLUMNS: Final = frozenset({"volume", "oi"})


def schema_for(kind: Kind, names: list[str] | None = None) -> pa.Schema:
    """Canonical schema for ``kind``; for options, with the optional columns present in ``names``."""
    if kind == "spot":
        return SPOT_SCHEMA
    if kind != "options":
        raise ValueError(f"kind must be 'spot' or 'options', got {kind!r}")
    extra = [f for f in OPTIONAL_OPTION_FIELDS if names is not None and f.name in names]
    return pa.schema(list(OPTIONS_SCHEMA) + extra)


def _where(kind: str, underlying: str, day: date) -> str:
    return f"{kind} table for {underlying} {day.isoformat()}"


def _cast_column(col: pa.ChunkedArray, field: pa.Field, where: str) -> pa.ChunkedArray:
    target = field.type
    name = field.name
    src = col.type
    if src == target and name != "right":
        out = col
    elif name == "ts":
        if pa.types.is_timestamp(src):
            if src.tz is not None:
                raise SchemaError(
                    f"{where}: column 'ts' is timezone-aware ({src.tz}); timestamps must be "
                    "exchange-local and naive (the catalog names the zone)"
                )
            out = _safe_cast(col, target, name, where)
        elif pa.types.is_date(src):
            out = _safe_cast(col, target, name, where)
        else:
            raise SchemaError(f"{where}: column 'ts' has type {src}, expected {target}")
    elif name == "expiry":
        if pa.types.is_date(src):
            out = _safe_cast(col, target, name, where)
        elif pa.types.is_timestamp(src) and src.tz is None:
            days = pc.cast(col, pa.date32())
            back = pc.cast(days, src)
            if not pc.all(pc.equal(back, col)).as_py() and col.null_count == 0:
                raise SchemaError(f"{where}: column 'expiry' has times of day; expected dates")
            out = days
        else:
            raise SchemaError(f"{where}: column 'expiry' has type {src}, expected date32")
    elif name == "right":
        if pa.types.is_dictionary(src):
            col = pc.cast(col, src.value_type)
            src = col.type
        if not (pa.types.is_string(src) or pa.types.is_large_string(src)):
            raise SchemaError(f"{where}: column 'right' has type {src}, expected string C/P")
        col = pc.cast(col, pa.string())
        out = col
        uniques = pc.unique(col).to_pylist()
        if any(u not in ("C", "P") for u in uniques):
            mapping: dict[str | None, str] = {}
            for u in uniques:
                if u is None:
                    continue
                try:
                    mapping[u] = Right.parse(u).value
                except ValueError:
                    row = pc.index(col, u).as_py()
                    raise SchemaError(
                        f"{where}: column 'right' row {row} has {u!r}; expected C or P"
                    ) from None
            keys = pa.array(list(mapping), pa.string())
            vals = pa.array(list(mapping.values()), pa.string())
            out = pa.chunked_array([pc.take(vals, pc.index_in(col.combine_chunks(), keys))])
    elif pa.types.is_integer(src) or pa.types.is_floating(src) or pa.types.is_decimal(src):
        out = _safe_cast(col, target, name, where)
    elif pa.types.is_null(src):
        out = pa.chunked_array([pa.nulls(len(col), target)])
    else:
        raise SchemaError(f"{where}: column {name!r} has type {src}, expected {target}")
    if out.null_count:
        if name in ("ts", "expiry", "strike", "right"):
            row = pc.index(pc.is_null(out), True).as_py()
            raise SchemaError(f"{where}: column {name!r} row {row} is null")
        fill = pa.scalar(0, pa.int64()) if name in _INT_COLUMNS else pa.scalar(np.nan)
        out = pc.fill_null(out, fill)
    return out


def _safe_cast(col: pa.ChunkedArray, target: pa.DataType, name: str, where: str) -> pa.ChunkedArray:
    try:
        return pc.cast(col, target, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise SchemaError(
            f"{where}: column {name!r} of type {col.type} cannot be cast to {target}: {exc}"
        ) from None


def conform(table: pa.Table, kind: Kind, underlying: str, day: date) -> pa.Table:
    """Validate ``table`` as a ``kind`` file for (underlying, day); return it canonical and sorted.

    Raises :class:`SchemaError` for a missing or unexpected column, an incompatible type, a
    null key, a timestamp off ``day``, a non-positive or non-finite strike, or a duplicate
    (expiry, strike, right, ts) / ts.
    """
    where = _where(kind, underlying, day)
    if not isinstance(table, pa.Table):
        raise SchemaError(f"{where}: expected a pyarrow.Table, got {type(table).__name__}")
    names = table.column_names
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise SchemaError(f"{where}: duplicate column(s) {dup}")
    schema = schema_for(kind, names)
    missing = [f.name for f in schema if f.name not in names]
    if missing:
        raise SchemaError(f"{where}: missing column(s) {missing}; expected {schema.names}")
    unexpected = [n for n in names if n not in schema.names]
    if unexpected:
        raise SchemaError(
            f"{where}: unexpected column(s) {unexpected}; allowed {schema_for(kind, [f.name for f in OPTIONAL_OPTION_FIELDS]).names}"
        )
    columns = [_cast_column(table.column(f.name), f, where) for f in schema]
    out = pa.Table.from_arrays(columns, schema=schema)
    if out.num_rows == 0:
        raise SchemaError(f"{where}: no rows (a day without data is simply not written)")
    _check_values(out, kind, where, day)
    out = out.sort_by([(k, "ascending") for k in SORT_KEYS[kind]])
    _check_unique(out, kind, where)
    return out.combine_chunks()


def _check_values(table: pa.Table, kind: str, where: str, day: date) -> None:
    ts = table.column("ts")
    lo = datetime.combine(day, time(0))
    hi = datetime.combine(day, time(23, 59, 59, 999999))
    outside = pc.or_(pc.less(ts, pa.scalar(lo, TS_TYPE)), pc.greater(ts, pa.scalar(hi, TS_TYPE)))
    if pc.any(outside).as_py():
        row = pc.index(outside, True).as_py()
        raise SchemaError(
            f"{where}: column 'ts' row {row} is {ts[row].as_py()}, not on {day.isoformat()}"
        )
    if kind == "options":
        strike = table.column("strike").to_numpy()
        bad = ~(np.isfinite(strike) & (strike > 0))
        if bad.any():
            row = int(np.argmax(bad))
            raise SchemaError(
                f"{where}: column 'strike' row {row} is {strike[row]}; strikes must be positive"
            )


def _check_unique(table: pa.Table, kind: str, where: str) -> None:
    n = table.num_rows
    if n < 2:
        return
    same = np.ones(n - 1, dtype=bool)
    for key in SORT_KEYS[kind]:
        col = table.column(key)
        if key == "right":
            arr = np.asarray(pc.equal(col, "C").to_numpy(zero_copy_only=False))
        elif key == "expiry":
            arr = col.cast(pa.int32()).to_numpy()
        elif key == "ts":
            arr = col.cast(pa.int64()).to_numpy()
        else:
            arr = col.to_numpy()
        same &= arr[1:] == arr[:-1]
    if same.any():
        row = int(np.argmax(same)) + 1
        keys = {k: table.column(k)[row].as_py() for k in SORT_KEYS[kind]}
        raise SchemaError(f"{where}: duplicate row for {keys}")


def row_group_bounds(table: pa.Table, kind: str) -> list[tuple[int, int]]:
    """``[(start, stop)]`` row ranges, one per Parquet row group, for a conformed table.

    Option files: groups hold whole instruments and never span two expiries, each at most
    :data:`ROW_GROUP_ROWS` rows (an instrument longer than that is split on its own). Since
    min/max statistics are kept per column, a group that mixed two expiries would claim every
    strike of both; aligned groups let one instrument-day read one group, rarely two. Spot
    files: plain slices of :data:`ROW_GROUP_ROWS`.
    """
    n = table.num_rows
    if kind != "options" or n == 0:
        return [(a, min(a + ROW_GROUP_ROWS, n)) for a in range(0, n, ROW_GROUP_ROWS)]
    expiry = table.column("expiry").cast(pa.int32()).to_numpy()
    strike = table.column("strike").to_numpy()
    is_call = np.asarray(pc.equal(table.column("right"), "C").to_numpy(zero_copy_only=False))
    new_expiry = np.flatnonzero(np.diff(expiry) != 0) + 1
    new_instrument = (
        np.flatnonzero(
            (np.diff(expiry) != 0)
            | (np.diff(strike) != 0)
            | (np.diff(is_call.astype(np.int8)) != 0)
        )
        + 1
    )
    starts = np.concatenate(([0], new_instrument)).tolist()
    stops = [*starts[1:], n]
    expiry_starts = set(new_expiry.tolist())
    bounds: list[tuple[int, int]] = []
    group_start = 0
    for a, b in zip(starts, stops):
        if a > group_start and (a in expiry_starts or b - group_start > ROW_GROUP_ROWS):
            bounds.append((group_start, a))
            group_start = a
        if b - a > ROW_GROUP_ROWS:  # one instrument longer than a group: split it alone
            bounds += [(x, min(x + ROW_GROUP_ROWS, b)) for x in range(a, b, ROW_GROUP_ROWS)]
            group_start = b
    if group_start < n:
        bounds.append((group_start, n))
    return bounds


def conform_rejects(table: pa.Table, source: str) -> pa.Table:
    """Check a rejects table has ``source_file, line, reason`` (cast to string, int64, string)."""
    where = f"rejects table for source {source!r}"
    if not isinstance(table, pa.Table):
        raise SchemaError(f"{where}: expected a pyarrow.Table, got {type(table).__name__}")
    missing = [c for c in REJECT_COLUMNS if c not in table.column_names]
    if missing:
        raise SchemaError(f"{where}: missing column(s) {missing}")
    out = table
    for name, typ in (("source_file", pa.string()), ("line", pa.int64()), ("reason", pa.string())):
        try:
            out = out.set_column(
                out.schema.get_field_index(name), name, pc.cast(out.column(name), typ)
            )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise SchemaError(f"{where}: column {name!r} cannot be cast to {typ}: {exc}") from None
    if out.column("reason").null_count:
        row = pc.index(pc.is_null(out.column("reason")), True).as_py()
        raise SchemaError(f"{where}: column 'reason' row {row} is null")
    return out
