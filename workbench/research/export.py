"""``workbench export RUN --format parquet|csv|json --out DIR``: a run's results in one format.

Seed 003's exports (``trades.parquet`` for research and ML, ``metrics.json``, the equity curve
as CSV), from any saved run folder into ``DIR``:

``trades.<ext>``
    the trade log, one row per position (:mod:`workbench.engine.position_log`: the run folder's
    ``trades.parquet``, or rebuilt from its tradebook for a run saved before it existed);
``daily.<ext>``
    the daily path (``daily.csv``: date, PnL, equity, Greeks, margin, ...);
``metrics.<ext>``
    the headline metrics (``metrics.json``); as a table (Parquet, CSV) one row per metric:
    ``metric``, ``value`` (numbers; empty for text or none) and ``text`` (text values).

Types are kept where the format has them: Parquet columns are typed (dates ``date32``, times
``timestamp[us]``); JSON holds one object per row with ISO dates and ``null`` for none; CSV has
ISO dates and empty cells for none. Each file is written atomically; a folder that is not a
complete run (``manifest.json``, ``tradebook.parquet``, ``daily.csv``, ``metrics.json``) is an
error naming what is missing, and nothing is written.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

__all__ = ["FORMATS", "RUN_FILES", "export_run"]

FORMATS = ("parquet", "csv", "json")
#: the files a run folder must hold to be exported
RUN_FILES = ("manifest.json", "tradebook.parquet", "daily.csv", "metrics.json")


def _check_run(run: Path) -> None:
    if not run.exists():
        raise FileNotFoundError(f"{run}: no such run folder")
    if not run.is_dir():
        raise NotADirectoryError(f"{run}: not a run folder (a file)")
    missing = [name for name in RUN_FILES if not (run / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{run}: not a complete run folder (missing {', '.join(missing)}); "
            "run it again with `workbench run ... --out`"
        )


def _trades(run: Path) -> pa.Table:
    from workbench.engine.entries import tradebook_with_entries
    from workbench.engine.position_log import position_log, read_position_log
    from workbench.engine.result import read_entries
    from workbench.engine.tradebook import read_tradebook

    saved = run / "trades.parquet"
    if saved.is_file():
        return read_position_log(saved)
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    mode = str((manifest.get("strategy") or {}).get("mode") or "intraday")
    fills = read_tradebook(run / "tradebook.parquet").to_pandas()
    if (run / "entries.csv").is_file():  # the market at entry: VIX, IV rank, theta
        fills = tradebook_with_entries(fills, read_entries(run / "entries.csv"))
    return position_log(fills, mode)


def _daily(run: Path) -> pa.Table:
    frame = pd.read_csv(run / "daily.csv", keep_default_na=True)
    if "date" in frame.columns:
        frame["date"] = pd.to_datetime(frame["date"]).dt.date
    if "skip_reason" in frame.columns:
        frame["skip_reason"] = frame["skip_reason"].astype("string")
    return pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)


def _metrics(run: Path) -> tuple[dict[str, Any], pa.Table]:
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    names: list[str] = []
    values: list[float | None] = []
    texts: list[str | None] = []
    for key in sorted(metrics):
        value = metrics[key]
        names.append(str(key))
        if isinstance(value, int | float):  # bool included: 1.0 / 0.0
            values.append(float(value))
            texts.append(None)
        else:
            values.append(None)
            texts.append(None if value is None else str(value))
    table = pa.table(
        {
            "metric": pa.array(names, pa.string()),
            "value": pa.array(values, pa.float64()),
            "text": pa.array(texts, pa.string()),
        }
    )
    return metrics, table


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _json_rows(table: pa.Table) -> bytes:
    rows = [{k: _json_value(v) for k, v in row.items()} for row in table.to_pylist()]
    return (json.dumps(rows, indent=1, allow_nan=False) + "\n").encode("utf-8")


def _csv(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pacsv.write_csv(table, sink)
    return sink.getvalue().replace(b"\r\n", b"\n")


def _parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd", compression_level=3)
    return sink.getvalue()


def export_run(run: str | Path, out: str | Path, fmt: str) -> list[Path]:
    """Write ``trades``, ``daily`` and ``metrics`` of the run folder ``run`` into ``out`` in
    ``fmt`` (see the module docstring); returns the files written."""
    from workbench.data.atomic import write_bytes_atomic

    if fmt not in FORMATS:
        raise ValueError(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    run, out = Path(run).expanduser(), Path(out).expanduser()
    _check_run(run)
    if out.resolve() == run.resolve():
        raise ValueError(f"--out {out}: is the run folder itself; export into another folder")
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"--out {out}: exists and is not a folder")
    trades, daily = _trades(run), _daily(run)
    metrics, metric_table = _metrics(run)
    if fmt == "parquet":
        blobs = {
            "trades.parquet": _parquet(trades),
            "daily.parquet": _parquet(daily),
            "metrics.parquet": _parquet(metric_table),
        }
    elif fmt == "csv":
        blobs = {
            "trades.csv": _csv(trades),
            "daily.csv": _csv(daily),
            "metrics.csv": _csv(metric_table),
        }
    else:
        clean = {k: _json_value(v) for k, v in metrics.items()}
        blobs = {
            "trades.json": _json_rows(trades),
            "daily.json": _json_rows(daily),
            "metrics.json": (json.dumps(clean, indent=2, sort_keys=True) + "\n").encode("utf-8"),
        }
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in blobs.items():
        write_bytes_atomic(out / name, data)
        written.append(out / name)
    return written
