"""Benchmark ``ingest``: ``cboe-eod`` ingest of end-of-day chain CSVs against plain parsing.

Input: with ``$WORKBENCH_REAL_DATA`` set, the real set 1 (58 gzipped daily files, 809,782 rows;
10 files with ``quick``); otherwise generated CBOE-style daily files (14,000 rows a day, 20 days,
5 with ``quick``, gzipped like set 1). Measured in the same run: the full ingest (parse,
validate, quarantine, dedupe, write the canonical dataset with fsync, catalog) and, as the
baseline, ``pandas.read_csv`` of the same files (parsing only, nothing checked or written). The
ratio is baseline seconds over ingest seconds (1.0 would mean validation and writing cost
nothing beyond parsing).
"""

from __future__ import annotations

import gzip
import os
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.data.ingest import ingest

HEADER = (
    "underlying,underlying_last,exchange,optionroot,type,expiration,quotedate,strike,last,net,"
    "bid,ask,volume,openinterest,impliedvol,delta,gamma"
)
ROWS_PER_DAY = 14_000


def _write_day(folder: Path, day: date, rng: np.random.Generator) -> Path:
    spot = 2900.0 + rng.normal(0, 20)
    n_exp = ROWS_PER_DAY // (2 * 2 * 175)
    expiries = [day + timedelta(days=7 * (i + 1)) for i in range(n_exp)]
    strikes = np.arange(2475.0, 3350.0, 5.0)
    lines = [HEADER]
    for root in ("SPX", "SPXW"):
        for exp in expiries:
            for right in ("C", "P"):
                intrinsic = np.maximum(0, (spot - strikes) if right == "C" else (strikes - spot))
                mid = intrinsic + 30 * np.exp(-(((strikes - spot) / 150) ** 2)) + 0.05
                half = 0.05 + 0.01 * mid
                for k, m, h in zip(strikes, mid, half, strict=True):
                    occ = f"{root}{exp:%y%m%d}{right}{round(k * 1000):08d}"
                    typ = "call" if right == "C" else "put"
                    lines.append(
                        f"SPX,{spot:.2f},CBOE,{occ},{typ},{exp:%m/%d/%Y},{day:%m/%d/%Y},{k:.1f},"
                        f"{m:.2f},0.0,{max(m - h, 0):.2f},{m + h:.2f},10,100,0.15,0.5,0.001"
                    )
    path = folder / f"SPX_{day:%Y%m%d}.csv.gz"
    with gzip.GzipFile(path, "wb", mtime=0) as handle:
        handle.write(("\n".join(lines) + "\n").encode())
    return path


def _generated(folder: Path, days: int) -> list[Path]:
    rng = np.random.default_rng(7)
    out: list[Path] = []
    day = date(2019, 4, 1)
    while len(out) < days:
        if day.weekday() < 5 and day not in (date(2019, 4, 19), date(2019, 5, 27)):
            out.append(_write_day(folder, day, rng))
        day += timedelta(days=1)
    return out


def run(quick: bool) -> dict[str, Any]:
    real = os.environ.get("WORKBENCH_REAL_DATA")
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        folder = Path(real) / "us_spx_eod_chains_2019" if real else None
        if folder is not None and folder.is_dir():
            files = sorted(folder.glob("*.csv.gz"))[: 10 if quick else None]
            source = f"real set 1 ({len(files)} files)"
        else:
            files = _generated(Path(tmp), 5 if quick else 20)
            source = f"generated CBOE-style files ({len(files)} days)"
        t0 = time.perf_counter()
        rows = sum(len(pd.read_csv(f, dtype=str)) for f in files)
        baseline_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        report = ingest("cboe-eod", files, Path(tmp) / "dataset")
        ingest_s = time.perf_counter() - t0
        if report.rows_read != rows or not report.balanced:
            raise RuntimeError(
                f"ingest benchmark: read {report.rows_read} rows, pandas read {rows}, "
                f"balanced={report.balanced}"
            )
    return {
        "benchmark": "ingest",
        "ratio": baseline_s / ingest_s,
        "baseline": "pandas.read_csv of the same files (parse only)",
        "figures": {
            "input": source,
            "rows": rows,
            "accepted_rows": report.accepted,
            "rejected_rows": report.rejected,
            "ingest_s": ingest_s,
            "ingest_rows_per_s": rows / ingest_s,
            "baseline_read_csv_s": baseline_s,
        },
    }
