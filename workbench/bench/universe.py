"""Benchmark ``universe``: three underlyings in one book against one underlying (issue 14).

Data: ``workbench data synth --profile us-etf-eod --years 5`` (seed 42, from 2019-01-01; 1,258
days of SPY, QQQ and IWM chains), generated once into ``<tmp>/workbench-bench-universe/`` and
reused (the folder name carries the Parquet codec and the generator version). ``--quick``: 60
days.

Scenarios, ORATS fills, $0.65 per contract, Reg-T margin (so the book's margin is computed every
day), seed 003's put credit spread with the scanner's minimum credit at 10 % of the width (at
25 % the synthetic chains give almost no candidates):

* ``single``: :class:`~workbench.strategies.put_credit_spread.PutCreditSpread` on SPY;
* ``universe``: :class:`~workbench.strategies.universe.PutCreditSpreadEach` on SPY, QQQ and IWM
  in one book (one spread per underlying at a time).

Each scenario runs in a fresh interpreter over 5 years and over the first year: ``cold`` is the
first run (imports and kernels loaded before, timed apart), ``warm`` the same run again;
``peak_rss_mb`` the process's maximum resident set. Headline ratio: universe over single, cold,
5 years (issue 14's target: under 3 for three underlyings; peak RSS under 1 GB).
"""

from __future__ import annotations

import gc
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

from workbench.bench.memory import peak_rss_mb

SEED = 42
START = "2019-01-01"
FEES = "per-contract:0.65"
SCAN = {"right": "P", "min_credit_pct": 0.10}
SCENARIOS: dict[str, tuple[str, dict[str, Any]]] = {
    "single": (
        "workbench.strategies.put_credit_spread:PutCreditSpread",
        {"underlying": "SPY", "scan": SCAN},
    ),
    "universe": (
        "workbench.strategies.universe:PutCreditSpreadEach",
        {"underlyings": ["SPY", "QQQ", "IWM"], "scan": SCAN},
    ),
}


def dataset(quick: bool) -> Path:
    """The cached synthetic dataset (generated on first use)."""
    from workbench.data.schema import COMPRESSION
    from workbench.data.synth import generate
    from workbench.data.synth.output import GENERATOR_VERSION

    root = Path(tempfile.gettempdir()) / "workbench-bench-universe"
    tag = f"{COMPRESSION}-g{GENERATOR_VERSION}"
    path = root / (f"etf-{SEED}-60d-{tag}" if quick else f"etf-{SEED}-5y-{tag}")
    if not (path / "catalog.json").is_file():
        root.mkdir(parents=True, exist_ok=True)
        if quick:
            generate("us-etf-eod", path, seed=SEED, start=START, days=60, progress=False)
        else:
            generate("us-etf-eod", path, seed=SEED, start=START, years=5, progress=False)
    return path


def scenario(name: str, quick: bool, years: int) -> dict[str, Any]:
    """One scenario over ``years`` (5 or 1), meant for a fresh process."""
    from workbench.bench.eod import _load
    from workbench.engine.runner import run_backtest

    strategy, params = SCENARIOS[name]
    data = dataset(quick)
    end = None if quick or years == 5 else date(2019, 12, 31)
    args: dict[str, Any] = dict(
        data=data, end=end, params=params, fill="orats", fees=FEES, margin="reg-t",
        progress=False,
    )  # fmt: skip
    t0 = time.perf_counter()
    _load()
    import workbench.strategies.universe  # noqa: F401

    load_s = time.perf_counter() - t0
    gc.collect()
    t0 = time.perf_counter()
    cold = run_backtest(strategy, **args)
    cold_s = time.perf_counter() - t0
    del cold
    gc.collect()
    t0 = time.perf_counter()
    warm = run_backtest(strategy, **args)
    warm_s = time.perf_counter() - t0
    tb = warm.tradebook
    return {
        "days": len(warm.daily),
        "fills": len(tb),
        "underlyings": int(tb["underlying"].nunique()) if len(tb) else 0,
        "load_s": load_s,
        "cold_s": cold_s,
        "warm_s": warm_s,
        "peak_rss_mb": peak_rss_mb(),
        "total_pnl": float(warm.metrics["total_pnl"]),
    }


def run(quick: bool) -> dict:
    """Both scenarios in fresh interpreters, 5 years then 1 year (see the module docstring)."""
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    dataset(quick)
    results: dict[tuple[str, int], dict[str, Any]] = {}
    for name in SCENARIOS:
        for years in (5, 1):
            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
                results[(name, years)] = pool.submit(scenario, name, quick, years).result()
    figures: dict[str, Any] = {}
    for name in SCENARIOS:
        five, one = results[(name, 5)], results[(name, 1)]
        for key, value in five.items():
            figures[f"{name}_{key}"] = value
        figures[f"{name}_1y_cold_s"] = one["cold_s"]
        figures[f"{name}_1y_warm_s"] = one["warm_s"]
        figures[f"{name}_1y_peak_rss_mb"] = one["peak_rss_mb"]
    single, universe = results[("single", 5)], results[("universe", 5)]
    figures["universe_over_single_warm"] = universe["warm_s"] / single["warm_s"]
    figures["universe_over_single_1y_cold"] = (
        results[("universe", 1)]["cold_s"] / results[("single", 1)]["cold_s"]
    )
    figures["load_average_1m"] = os.getloadavg()[0]
    figures["when"] = datetime.now().isoformat(timespec="seconds")
    return {
        "benchmark": "universe",
        "ratio": universe["cold_s"] / single["cold_s"],
        "baseline": (
            "the same put credit spread on SPY alone, cold, 5 years (ratio: SPY, QQQ and IWM "
            "in one book over it; target under 3)"
        ),
        "figures": figures,
    }
