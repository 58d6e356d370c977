"""Benchmark ``synth_history``: the synthetic historical provider's throughput.

Writes a source of one year of SPX and VIX daily closes (a deterministic path, no real data
needed) and times :func:`workbench.data.historical.synth_history` over it (SPX monthlies,
quarterlies and LEAPS to beyond 12 months plus SPXW weeklies, priced and written through the
DatasetWriter). The baseline, measured in the same run, is the ``spx-eod`` synthetic generator
writing the same number of days in one process (its chains list monthlies to 90 days only);
the ratio is the baseline's seconds over the provider's. ``years_30_minutes`` extrapolates the
provider's per-day time to thirty years (7,800 sessions) of set 3.
"""

from __future__ import annotations

import math
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from workbench.data.catalog import UnderlyingSpec
from workbench.data.historical import HistoryConfig, synth_history
from workbench.data.historical.config import INDEX_SCALE, INDEX_SMILE
from workbench.data.synth import generate
from workbench.data.writer import DatasetWriter
from workbench.model import calendars

START = datetime(2019, 1, 2).date()


def _source(root: Path, days: int) -> None:
    spec = UnderlyingSpec(
        venue="CBOE", currency="USD", timezone="America/New_York", calendar="XNYS"
    )
    writer = DatasetWriter(root, name="closes", venue="CBOE", timezone="America/New_York",
                           bar_interval="1d", source="bench", underlying_specs={"VIX": spec})  # fmt: skip
    sessions = calendars.trading_days("SPX", START, START + timedelta(days=2 * days + 10))[:days]
    for i, day in enumerate(sessions):
        ts = datetime.combine(day, datetime.min.time()) + timedelta(hours=16)
        for name, value in (
            ("SPX", 2500 * math.exp(0.1 * math.sin(i / 20))),
            ("VIX", 15 + 5 * math.sin(i / 9)),
        ):
            writer.write_spot(name, day, pa.table({
                "ts": pa.array([ts], pa.timestamp("us")), "open": [value], "high": [value],
                "low": [value], "close": [value], "volume": pa.array([0], pa.int64())}))  # fmt: skip
    writer.finalize()


def run(quick: bool) -> dict[str, Any]:
    days = 40 if quick else 250
    config = HistoryConfig.model_validate(
        {"underlying": "SPX", "vol": {"kind": "index", "series": "VIX", "scale": INDEX_SCALE},
         "smile": INDEX_SMILE, "rate": {"kind": "fixed", "value": 0.02}}
    )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-synth-history-") as tmp:
        _source(Path(tmp) / "src", days)
        t0 = time.perf_counter()
        catalog = synth_history(Path(tmp) / "src", Path(tmp) / "hist", config, progress=False)
        provider_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        baseline = generate("spx-eod", Path(tmp) / "eod", seed=1, start=START, days=days,
                            progress=False, workers=1)  # fmt: skip
        baseline_s = time.perf_counter() - t0
    rows = catalog.row_counts.options
    return {
        "benchmark": "synth_history",
        "ratio": baseline_s / provider_s,
        "baseline": "the spx-eod generator writing as many days in one process",
        "figures": {
            "days": days,
            "provider_seconds": provider_s,
            "provider_days_per_second": days / provider_s,
            "provider_option_rows_per_day": rows / days,
            "provider_option_rows_per_second": rows / provider_s,
            "spx_eod_seconds": baseline_s,
            "spx_eod_option_rows_per_day": baseline.row_counts.options / days,
            "years_30_minutes": 7800 * provider_s / days / 60,
        },
    }
