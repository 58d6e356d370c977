"""Benchmark ``sweep``: a parameter grid on 2 worker processes vs 1, cold (the headline) and warm.

Grid: the ``short-straddle-reentry`` template (intraday ATM short straddle, per-leg stops, up
to three entries a day) over ``entry`` x ``stop_loss_pct`` (quick: 4 x 2 = 8 combinations;
full: 6 x 2 = 12) through :func:`workbench.research.sweep.sweep`. Data: synthetic 1-minute
NIFTY-like data (``workbench.data.synth`` profile ``nifty-intraday``, seed 13; quick 10 days,
full :data:`FULL_DAYS`), generated once into
``<tmp>/workbench-bench-sweep-<days>-<codec>-g<generator>/`` and reused.

Timed in the same run, each on a fresh loky process pool whose workers have started,
imported the engine and loaded the pricing kernels (timed apart as ``pool_start_*_s``):

* ``cold``: the first sweep on the pool: the grid is simulated day-major (each worker takes a
  share of the days and runs every combination on them; the chunks of days shrink toward the
  end so that neither worker idles while the other finishes), so each day is read from Parquet
  once in the whole sweep, by the worker that has it; then the workers assemble the runs
  (tradebooks, metrics, run ids), several side by side;
* ``warm``: the same sweep again on the same pool, the regime of a walk-forward's repeated
  sweeps over the same days. Each worker's series cache serves the days it read before; a chunk
  of days goes to whichever worker is free, so on 2 workers part of the second sweep's days
  land on the worker that did not read them and are read again (the price of reading each day
  once on a fresh pool, which is what ``sweep()`` starts by default).

Everything a sweep does is inside the timed part: the parent planning every run (validating
it, listing its days), the workers' first use of the dataset and of the strategy's code, the
assembly of every run. The parent's one-off imports and first open of the dataset are timed
apart (``parent_start_s``), like the workers' (``pool_start_*_s``).

``one_worker`` runs on a 1-process pool, ``two_workers`` on a 2-process pool; every table must
be equal (checked). The whole comparison is repeated :data:`REPEATS` times (``--quick``: once),
fresh pools each time and the two pools' order alternating: on a shared two-core machine one
pair's ratio ranged from 1.45 to 2.13 within an hour, so one pair says little. Headline ratio:
the median over the repeats of ``cold one_worker / cold two_workers`` (target >= 1.7 on 2 free
cores), each repeat's beside it; the warm ratios likewise. What stays serial in a cold sweep on a
fresh pool (the parent's planning and the first task's trip to a worker, each worker's first
read of the dataset and first use of the strategy's code, the last assembly round trip) is
about 0.2-0.3 s whatever the grid's size, so the ratio grows with the grid. Cores shared with
other work lower both ratios, so the 1-minute load average is reported with the figures.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

SEED = 13
START = "2024-01-01"
#: Days of the full run's dataset (quick: 10).
FULL_DAYS = 40


def _dataset(days: int) -> Path:
    from workbench.data.catalog import Catalog
    from workbench.data.schema import COMPRESSION
    from workbench.data.synth import generate
    from workbench.data.synth.output import GENERATOR_VERSION

    tag = f"{COMPRESSION}-g{GENERATOR_VERSION}"
    out = Path(tempfile.gettempdir()) / f"workbench-bench-sweep-{days}-{tag}"
    try:
        catalog = Catalog.load(out)
        if catalog.days == days:
            return out
    except (ValueError, OSError):
        pass
    generate("nifty-intraday", out, seed=SEED, start=START, days=days, progress=False)
    return out


def _warm(pause_s: float) -> int:
    """Runs in a worker: import the engine and load the compiled pricing kernels (as a sweep's
    first task would; the engine benchmark times the same apart as ``kernel_load_s``) and hold
    the worker for ``pause_s`` so that every worker of the pool receives one warm-up task."""
    import os

    from workbench.bench.engine import _load_kernels

    _load_kernels()
    time.sleep(pause_s)
    return os.getpid()


#: Paired repeats of the whole comparison (fresh pools each time); the headline is their median.
REPEATS = 3


def run(
    quick: bool = False, *, days: int | None = None, repeats: int | None = None
) -> dict[str, Any]:
    """The benchmark (``days`` overrides the dataset's length, e.g. to compare grid sizes;
    ``repeats`` the number of paired repeats, 1 with ``quick``)."""
    import pandas as pd
    from loky import ProcessPoolExecutor

    from workbench.research.sweep import sweep
    from workbench.research.templates import TemplateRepository

    days = days or (10 if quick else FULL_DAYS)
    repeats = repeats or (1 if quick else REPEATS)
    entries = (
        ["09:20", "10:00", "10:40", "11:20"]
        if quick
        else [
            "09:20",
            "09:50",
            "10:20",
            "10:50",
            "11:20",
            "11:50",
        ]
    )
    grid: dict[str, list[Any]] = {"entry": entries, "stop_loss_pct": [0.2, 0.4]}
    data = _dataset(days)
    template = TemplateRepository().get("short-straddle-reentry")
    cold: dict[int, list[float]] = {1: [], 2: []}
    warm: dict[int, list[float]] = {1: [], 2: []}
    start_up: dict[int, list[float]] = {1: [], 2: []}
    frames: list[pd.DataFrame] = []
    load = os.getloadavg()[0]
    # the parent plans every run (validates it, lists its days) before the workers simulate
    # them: its one-off imports and first dataset open are timed apart, as the workers' are
    from workbench.engine.runner import plan_run

    t0 = time.perf_counter()
    plan_run(template.strategy, data=data, params=template.resolved_params({}))
    parent_start = time.perf_counter() - t0
    for repeat in range(repeats):
        # alternate which pool goes first, so neither always runs on a machine the other warmed
        for workers in (1, 2) if repeat % 2 == 0 else (2, 1):
            t0 = time.perf_counter()
            pool = ProcessPoolExecutor(max_workers=workers)  # fresh workers, as the sweep's own
            try:
                pids = {f.result() for f in [pool.submit(_warm, 0.5) for _ in range(workers)]}
                if len(pids) != workers:
                    raise RuntimeError(
                        f"sweep benchmark: {workers} workers wanted, {len(pids)} warm"
                    )
                start_up[workers].append(time.perf_counter() - t0)
                for timing in (cold, warm):
                    t0 = time.perf_counter()
                    frames.append(sweep(template, grid, data=data, executor=pool, progress=False))
                    timing[workers].append(time.perf_counter() - t0)
            finally:
                pool.shutdown(wait=True)
    for frame in frames[1:]:
        pd.testing.assert_frame_equal(frame, frames[0])
    if frames[0]["error"].notna().any():
        raise RuntimeError(f"sweep benchmark: a combination failed: {frames[0]['error'].dropna()}")
    combos = len(frames[0])
    cold_x = [one / two for one, two in zip(cold[1], cold[2], strict=True)]
    warm_x = [one / two for one, two in zip(warm[1], warm[2], strict=True)]
    return {
        "benchmark": "sweep",
        "ratio": median(cold_x),
        "baseline": (
            "the same sweep on 1 worker process (cold: a fresh pool's first sweep); median of "
            f"{repeats} paired repeat(s)"
        ),
        "figures": {
            "combinations": combos,
            "days_per_combination": days,
            "repeats": repeats,
            "cold_one_worker_s": median(cold[1]),
            "cold_two_workers_s": median(cold[2]),
            "cold_speedup_2_vs_1_x": median(cold_x),
            "cold_speedups_each_repeat": [round(x, 3) for x in cold_x],
            "warm_one_worker_s": median(warm[1]),
            "warm_two_workers_s": median(warm[2]),
            "warm_speedup_2_vs_1_x": median(warm_x),
            "warm_speedups_each_repeat": [round(x, 3) for x in warm_x],
            "pool_start_one_worker_s": median(start_up[1]),
            "pool_start_two_workers_s": median(start_up[2]),
            "parent_start_s": parent_start,
            "load_average_1min_at_start": load,
        },
    }
