"""Benchmark ``series``: what market series and IV rank cost inside a run (issue 14).

Data: the ``eod`` benchmark's synthetic SPX end-of-day chains (seed 42, 5 years from
2019-01-01; ``--quick``: 60 days), the template ``put-credit-spread-spx`` over its first year
(``--quick``: all 60 days), ORATS fills, $0.65 per contract. In one fresh interpreter, after
a discarded first run of the plain template (files in the page cache, kernels loaded), three
runs, each cold (an empty series LRU) then warm (the LRU kept; the least of
:data:`REPEATS` runs):

* ``plain``: the template as shipped (no filter: neither series nor IV is read);
* ``vix_band``: ``vix_series="SPX"`` with a band that never refuses a level (a daily series
  read at every tick: ``bar.series``); it refuses the dataset's first day, which has no
  earlier close, so its trades differ from the plain run's from there;
* ``iv_filter``: ``iv_percentile_min=0`` with ``iv_min_days=1`` (IV percentile at every tick:
  today's 30-day ATM IV plus, once per process, the closing ATM IV of every earlier day; the
  first day has no history and is refused too).

Ratios: each filtered run's cold time over the plain run's (the baseline); the IV history
costs one read of each day's chain, paid once per process.
"""

from __future__ import annotations

import gc
import time
from datetime import date, datetime
from typing import Any

from workbench.bench.eod import FEES, _load, dataset
from workbench.bench.memory import peak_rss_mb

#: warm runs per variant; the least time is reported
REPEATS = 3
RUNS: dict[str, dict[str, Any]] = {
    "plain": {},
    "vix_band": {"vix_series": "SPX", "vix_min": 1.0, "vix_max": 1e9},
    "iv_filter": {"iv_percentile_min": 0.0, "iv_min_days": 1},
}


def measure(quick: bool) -> dict[str, Any]:
    from workbench.engine.pool import series_lru
    from workbench.engine.runner import run_backtest
    from workbench.research.templates import TemplateRepository

    template = TemplateRepository().get("put-credit-spread-spx")
    data = dataset(quick)
    end = None if quick else date(2019, 12, 31)
    _load()
    plain = {**template.params}
    run_backtest(template.strategy, data=data, end=end, params=plain, fill="orats", fees=FEES,
                 progress=False)  # fmt: skip
    out: dict[str, Any] = {}
    for name, extra in RUNS.items():
        params = {**template.params, **extra}
        args: dict[str, Any] = dict(
            data=data, end=end, params=params, fill="orats", fees=FEES, progress=False
        )
        series_lru().clear()
        gc.collect()
        t0 = time.perf_counter()
        result = run_backtest(template.strategy, **args)
        out[f"{name}_cold_s"] = time.perf_counter() - t0
        warm = []
        for _ in range(REPEATS):  # the least of several: the machine is shared
            t0 = time.perf_counter()
            run_backtest(template.strategy, **args)
            warm.append(time.perf_counter() - t0)
        out[f"{name}_warm_s"] = min(warm)
        out[f"{name}_days"] = len(result.daily)
        out[f"{name}_entries"] = len(result.entries) if result.entries is not None else 0
        out[f"{name}_total_pnl"] = float(result.metrics["total_pnl"])
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def run(quick: bool) -> dict:
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    dataset(quick)
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        figures = pool.submit(measure, quick).result()
    base = figures["plain_cold_s"]
    figures["vix_band_over_plain"] = figures["vix_band_cold_s"] / base
    figures["iv_filter_over_plain"] = figures["iv_filter_cold_s"] / base
    figures["vix_band_warm_over_plain"] = figures["vix_band_warm_s"] / figures["plain_warm_s"]
    figures["iv_filter_warm_over_plain"] = figures["iv_filter_warm_s"] / figures["plain_warm_s"]
    figures["load_average_1m"] = os.getloadavg()[0]
    figures["when"] = datetime.now().isoformat(timespec="seconds")
    return {
        "benchmark": "series",
        "ratio": figures["iv_filter_over_plain"],
        "baseline": "the shipped put-credit-spread-spx without filters, same data, same process",
        "figures": figures,
    }
