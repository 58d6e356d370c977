"""Benchmark ``synth``: building the nifty-intraday synthetic market on a process pool.

Measures ``workbench.data.synth.generate("nifty-intraday", ...)`` end to end (planning, day
building, Parquet writing through the DatasetWriter, catalog) for the same days twice: on a pool
of every core, and, as the baseline measured in the same run, in one process. The two content
versions must be equal (the output does not depend on the number of workers). The ratio is the
one-process time over the pool time; the headline figure for the demo is the pool's seconds for
the days built (60 by default, 30 with ``quick``).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from workbench.data.synth import generate

START = "2024-01-01"
SEED = 42


def _folder_mb(root: Path) -> float:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 1e6


def run(quick: bool) -> dict[str, Any]:
    days = 30 if quick else 60
    workers = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as tmp:
        t0 = time.perf_counter()
        pooled = generate(
            "nifty-intraday",
            Path(tmp) / "pool",
            seed=SEED,
            start=START,
            days=days,
            progress=False,
            workers=workers,
        )
        pool_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        single = generate(
            "nifty-intraday",
            Path(tmp) / "one",
            seed=SEED,
            start=START,
            days=days,
            progress=False,
            workers=1,
        )
        single_s = time.perf_counter() - t0
        if single.content_version != pooled.content_version:
            raise RuntimeError(
                f"synth benchmark: content version differs between 1 and {workers} workers "
                f"({single.content_version} vs {pooled.content_version})"
            )
        size_mb = _folder_mb(Path(tmp) / "pool")
    rows = pooled.row_counts.options
    return {
        "benchmark": "synth",
        "ratio": single_s / pool_s,
        "baseline": "the same days built in one process",
        "figures": {
            "days": days,
            "workers": workers,
            "pool_seconds": pool_s,
            "one_process_seconds": single_s,
            "pool_days_per_second": days / pool_s,
            "option_rows": rows,
            "option_rows_per_day": rows / days,
            "pool_option_rows_per_second": rows / pool_s,
            "dataset_MB": size_mb,
        },
    }
