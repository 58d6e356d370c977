"""Builders with defaults for small hand-made datasets (shared by the data-layer tests).

Every price is a simple formula of the bar index so expected values are computed by hand:
spot close at minute ``m`` is ``100 + m``; an option's close at minute ``m`` is
``strike / 10 + m / 100`` for calls and ``strike / 10 + 0.5 + m / 100`` for puts, bid 0.05
below and ask 0.05 above the close.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pyarrow as pa

from workbench.data.catalog import Catalog, UnderlyingSpec
from workbench.data.writer import DatasetWriter

UNDERLYING = "TESTIDX"
DAY = date(2024, 1, 2)
DAY2 = date(2024, 1, 3)
EXPIRY = date(2024, 1, 4)
EXPIRY2 = date(2024, 1, 11)
OPEN = time(9, 15)

TEST_SPEC = UnderlyingSpec(
    venue="TEST",
    currency="INR",
    timezone="Asia/Kolkata",
    calendar="XBOM",
    strike_step=50.0,
    tick_size=0.05,
    lot_size=25,
    settlement="cash",
    settlement_time="PM",
    symbol_style="nse",
)


def minute(day: date, m: int) -> datetime:
    """Timestamp of bar ``m`` (0 = 09:15) on ``day``."""
    return datetime.combine(day, OPEN) + timedelta(minutes=m)


def spot_table(day: date = DAY, minutes: Iterable[int] = range(10)) -> pa.Table:
    ms = list(minutes)
    close = [100.0 + m for m in ms]
    return pa.table(
        {
            "ts": pa.array([minute(day, m) for m in ms], pa.timestamp("us")),
            "open": close,
            "high": [c + 0.5 for c in close],
            "low": [c - 0.5 for c in close],
            "close": close,
            "volume": pa.array([1000 + m for m in ms], pa.int64()),
        }
    )


def option_close(strike: float, right: str, m: int) -> float:
    return strike / 10 + (0.5 if right == "P" else 0.0) + m / 100


def option_table(
    day: date = DAY,
    instruments: Sequence[tuple[date, float, str, Iterable[int]]] = (
        (EXPIRY, 100.0, "C", range(10)),
        (EXPIRY, 100.0, "P", range(10)),
    ),
    greeks: bool = False,
) -> pa.Table:
    """Rows for each (expiry, strike, right, minutes); written unsorted on purpose."""
    cols: dict[str, list] = {
        k: []
        for k in (
            "ts",
            "expiry",
            "strike",
            "right",
            "open",
            "high",
            "low",
            "close",
            "bid",
            "ask",
            "volume",
            "oi",
        )
    }
    for expiry, strike, right, minutes in reversed(list(instruments)):
        for m in minutes:
            c = option_close(strike, right, m)
            cols["ts"].append(minute(day, m))
            cols["expiry"].append(expiry)
            cols["strike"].append(strike)
            cols["right"].append(right)
            cols["open"].append(c)
            cols["high"].append(c + 0.1)
            cols["low"].append(c - 0.1)
            cols["close"].append(c)
            cols["bid"].append(round(c - 0.05, 6))
            cols["ask"].append(round(c + 0.05, 6))
            cols["volume"].append(10 + m)
            cols["oi"].append(500)
    table = pa.table(
        {
            "ts": pa.array(cols["ts"], pa.timestamp("us")),
            "expiry": pa.array(cols["expiry"], pa.date32()),
            "strike": pa.array(cols["strike"], pa.float64()),
            "right": pa.array(cols["right"], pa.string()),
            **{
                k: pa.array(cols[k], pa.float64())
                for k in ("open", "high", "low", "close", "bid", "ask")
            },
            "volume": pa.array(cols["volume"], pa.int64()),
            "oi": pa.array(cols["oi"], pa.int64()),
        }
    )
    if greeks:
        n = table.num_rows
        for name in ("iv", "delta", "gamma", "theta", "vega"):
            table = table.append_column(name, pa.array([0.2] * n, pa.float64()))
    return table


def writer(root: Path, **overrides: object) -> DatasetWriter:
    kwargs: dict = {
        "name": "tiny",
        "venue": "TEST",
        "timezone": "Asia/Kolkata",
        "bar_interval": "1min",
        "source": "hand-made test data",
        "underlying_specs": {UNDERLYING: TEST_SPEC},
    }
    kwargs.update(overrides)
    return DatasetWriter(root, **kwargs)


def build_dataset(
    root: Path,
    days: Sequence[date] = (DAY,),
    instruments: Sequence[tuple[date, float, str, Iterable[int]]] | None = None,
) -> Catalog:
    """A finalized tiny dataset with spot minutes 0-9 and the given option instruments."""
    w = writer(root)
    for d in days:
        w.write_spot(UNDERLYING, d, spot_table(d))
        if instruments is None:
            w.write_options(UNDERLYING, d, option_table(d))
        else:
            w.write_options(
                UNDERLYING, d, option_table(d, [(e, k, r, list(ms)) for e, k, r, ms in instruments])
            )
    return w.finalize()


def rerecord(root: Path, store: object | None = None) -> Catalog:
    """Record the files of ``root`` as they are now in its catalog (sha256, size, rows), as if
    the dataset had been written with them: for tests that replace a day file with one another
    writer would make (other codec, no statistics). ``store``: an open MarketStore to update."""
    import hashlib

    import pyarrow.parquet as pq

    from workbench.data.catalog import FileEntry

    catalog = Catalog.load(root)
    files = dict(catalog.files)
    for rel, entry in catalog.files.items():
        path = Path(root) / rel
        size = path.stat().st_size
        if size != entry.bytes:
            files[rel] = entry.model_copy(
                update={
                    "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                    "bytes": size,
                    "rows": pq.read_metadata(path).num_rows,
                }
            )
    updated = catalog.model_copy(
        update={"files": {k: FileEntry(**v.model_dump()) for k, v in files.items()}}
    )
    updated.write(root)
    if store is not None:
        store.catalog = updated  # type: ignore[attr-defined]
    return updated
