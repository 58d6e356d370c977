"""The tradebook: one row per fill, the source of every number the engine reports.

:data:`TRADEBOOK_SCHEMA` is the Parquet schema (docs/INTERFACES.md, engine section). Units:
``qty`` contracts (> 0; shares for ``asset == "underlying"``), ``units`` = qty x lot size
(units of underlying, > 0), ``signed_units`` = +units bought / -units sold, ``price`` per unit in
the quote currency, ``cash`` = ``-signed_units x price - fees`` (money; > 0 received).
``asset`` is ``"option"`` or ``"underlying"`` (a stock position from a physical settlement; its
``expiry``, ``strike`` and ``right`` are null). ``action`` is ``open``, ``close`` or ``settle``.
``price_ts``/``lag`` say which bar the price came from: ``lag`` in clock ticks, ``price_ts`` the
clock tick at which that bar became visible (``ts`` minus ``lag`` ticks; the bar's own timestamp
on the default clock of spot bar times); both null when the price is not a market price (a
settlement at intrinsic value). ``fill_model`` is
``"<model>/<basis>"`` (``orats/spread:0.66``, ``mid/close`` for a fallback, ``settle/intrinsic``,
``force/mark`` for a forced close at the mark). ``iv`` (fraction) and ``delta`` (per unit,
signed by right) are Black-Scholes values implied by the fill price at the fill tick.

The engine collects rows as tuples in :data:`ROW_FIELDS` order and builds the Arrow table once
at the end (:func:`build_table`); writing it (:func:`write_tradebook`) is deterministic: the same
rows always give the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.parquet as pq

TRADEBOOK_SCHEMA: Final = pa.schema(
    [
        ("run_id", pa.string()),
        ("fill_id", pa.int64()),
        ("trade_id", pa.string()),
        ("position_key", pa.string()),
        ("cycle", pa.int32()),
        ("day", pa.date32()),
        ("ts", pa.timestamp("us")),
        ("asset", pa.string()),
        ("underlying", pa.string()),
        ("expiry", pa.date32()),
        ("strike", pa.float64()),
        ("right", pa.string()),
        ("symbol", pa.string()),
        ("side", pa.string()),
        ("action", pa.string()),
        ("qty", pa.int64()),
        ("units", pa.float64()),
        ("signed_units", pa.float64()),
        ("price", pa.float64()),
        ("price_ts", pa.timestamp("us")),
        ("lag", pa.int32()),
        ("fill_model", pa.string()),
        ("mid", pa.float64()),
        ("fees", pa.float64()),
        ("cash", pa.float64()),
        ("reason", pa.string()),
        ("spot", pa.float64()),
        ("iv", pa.float64()),
        ("delta", pa.float64()),
    ]
)

ROW_FIELDS: Final[tuple[str, ...]] = tuple(TRADEBOOK_SCHEMA.names[2:])
"""Fields of a row tuple as the engine records it (``run_id`` and ``fill_id`` are added when
the run's rows are merged in day order)."""

ACTIONS: Final = ("open", "close", "settle")


def build_table(run_id: str, rows: Sequence[tuple[Any, ...]]) -> pa.Table:
    """The tradebook as an Arrow table with :data:`TRADEBOOK_SCHEMA`; ``fill_id`` = row order."""
    n = len(rows)
    columns: list[pa.Array] = [
        pa.array([run_id] * n, pa.string()),
        pa.array(range(n), pa.int64()),
    ]
    transposed = list(zip(*rows)) if rows else [() for _ in ROW_FIELDS]
    for field, values in zip(list(TRADEBOOK_SCHEMA)[2:], transposed):
        columns.append(pa.array(list(values), type=field.type))
    return pa.Table.from_arrays(columns, schema=TRADEBOOK_SCHEMA)


def write_tradebook(table: pa.Table, path: str | Path) -> None:
    """Write ``table`` as Parquet with fixed options (same rows -> same bytes)."""
    if not table.schema.equals(TRADEBOOK_SCHEMA):
        raise ValueError(f"tradebook schema differs from TRADEBOOK_SCHEMA: {table.schema}")
    pq.write_table(
        table.replace_schema_metadata(None),
        str(path),
        compression="zstd",
        compression_level=3,
        use_dictionary=True,
        write_statistics=True,
        row_group_size=1 << 20,
    )


def read_tradebook(path: str | Path) -> pa.Table:
    """Read a saved tradebook and check its schema (``ValueError`` naming the file otherwise)."""
    table = pq.read_table(str(path))
    if not table.schema.remove_metadata().equals(TRADEBOOK_SCHEMA):
        raise ValueError(f"{path}: not a workbench tradebook (schema {table.schema})")
    return table.replace_schema_metadata(None)
