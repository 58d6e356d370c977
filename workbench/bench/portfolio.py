"""Benchmark ``portfolio``: a several-underlyings book against the single-underlying run (issue 14).

Target (issue 14, "Performance"): a portfolio run of 3 underlyings x 5 years of synthetic
end-of-day chains with the seed-003 template (constraints on) stays under 3x the
single-underlying run's time and under 1 GB of peak RSS.

Both scenarios run the shipped ``seed-003-portfolio`` template (seed 003's book,
:class:`~workbench.strategies.credit_spread_book.CreditSpreadBook`: put and call spreads
scanned, scored and ranked across the universe, seed 003's exits) with its ``[constraints]``
table, a capital of 100,000, ORATS fills and $0.65 per contract, on the same ``workbench data
synth --profile us-etf-eod --years 5`` dataset (seed 42 from 2019-01-01, cached; ``--quick``: 60
days), each in a fresh interpreter (``seconds`` = the run itself, imports and the pricing kernels
loaded before and timed apart; ``peak_rss_mb`` = the process's maximum resident set):

* (a) ``single``: the book on SPY alone (``underlyings = ["SPY"]``);
* (b) ``portfolio``: the book on SPY, QQQ and IWM.

When this checkout cannot run several underlyings (no ``StrategyConfig.underlyings``, no
``us-etf-eod`` profile, no ``seed-003-portfolio`` template) nothing is run and the reason is
reported; the ratio is ``null``: no figure is made up.

Headline ratio: portfolio seconds over single seconds (target < 3).
"""

from __future__ import annotations

import gc
import os
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench.bench.memory import peak_rss_mb

SEED = 42
START = "2019-01-01"
FEES = "per-contract:0.65"
CAPITAL = 100_000.0
UNIVERSE = ("SPY", "QQQ", "IWM")
PORTFOLIO_TEMPLATE = "seed-003-portfolio"


def portfolio_support() -> str | None:
    """``None`` when several-underlyings runs are supported here, else why not."""
    from workbench.data.synth import PROFILES
    from workbench.engine.config import StrategyConfig

    missing = []
    if "underlyings" not in StrategyConfig.model_fields:
        missing.append("StrategyConfig has no 'underlyings' field (several underlyings in one run)")
    if "us-etf-eod" not in PROFILES:
        missing.append("the synthetic profile 'us-etf-eod' is not registered")
    if missing:
        return "; ".join(missing) + " -- branch issue-14-universe is not merged into this checkout"
    from workbench.research.templates import TemplateError, TemplateRepository

    try:
        TemplateRepository().get(PORTFOLIO_TEMPLATE)
    except TemplateError as exc:
        return f"the template {PORTFOLIO_TEMPLATE!r} cannot be used here: {exc}"
    return None


def etf_dataset(quick: bool) -> Path:
    """The cached ``us-etf-eod`` dataset (generated on first use)."""
    from workbench.data.schema import COMPRESSION
    from workbench.data.synth import generate
    from workbench.data.synth.output import GENERATOR_VERSION

    root = Path(tempfile.gettempdir()) / "workbench-bench-portfolio"
    tag = f"{COMPRESSION}-g{GENERATOR_VERSION}"
    path = root / (f"etf-{SEED}-60d-{tag}" if quick else f"etf-{SEED}-5y-{tag}")
    if not (path / "catalog.json").is_file():
        root.mkdir(parents=True, exist_ok=True)
        if quick:
            generate("us-etf-eod", path, seed=SEED, start=START, days=60, progress=False)
        else:
            generate("us-etf-eod", path, seed=SEED, start=START, years=5, progress=False)
    return path


def _template(name: str) -> Any:
    from workbench.research.templates import TemplateError, TemplateRepository

    try:
        return TemplateRepository().get(name)
    except TemplateError:
        return None


def _constraints(template: Any) -> dict[str, Any]:
    """The template's ``[constraints]`` table (the benchmark runs with constraints on)."""
    if not template.constraints:
        raise RuntimeError(
            f"template {template.ref}: no [constraints] table (the benchmark needs it)"
        )
    return dict(template.constraints)


def scenario(name: str, quick: bool) -> dict[str, Any]:
    """One scenario (``single`` or ``portfolio``), meant for a fresh process."""
    from workbench.bench.eod import _load
    from workbench.engine.runner import run_backtest

    template = _template(PORTFOLIO_TEMPLATE)
    params = dict(template.params)
    params["underlyings"] = [UNIVERSE[0]] if name == "single" else list(UNIVERSE)
    data = etf_dataset(quick)
    constraints = _constraints(template)
    t0 = time.perf_counter()
    _load()
    load_s = time.perf_counter() - t0
    gc.collect()
    t0 = time.perf_counter()
    result = run_backtest(
        template.strategy, data=data, params=params, fill="orats", fees=FEES, capital=CAPITAL,
        constraints=constraints, progress=False,
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    tb = result.tradebook
    keys = tb["position_key"].astype(str).str.rsplit("/", n=1).str[0]
    return {
        "template": template.ref,
        "underlyings_run": params["underlyings"],
        "constraints": constraints,
        "days": len(result.daily),
        "fills": len(tb),
        "position_keys": int(keys.nunique()),
        "underlyings": sorted(tb["underlying"].astype(str).unique().tolist()) if len(tb) else [],
        "refused_by_constraint": dict(result.metrics.get("refused_by_constraint") or {}),
        "load_s": load_s,
        "seconds": seconds,
        "peak_rss_mb": peak_rss_mb(),
        "total_pnl": float(result.metrics["total_pnl"]),
    }


def _fresh(name: str, quick: bool) -> dict[str, Any]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        return pool.submit(scenario, name, quick).result()


def run(quick: bool) -> dict:
    """(a) and (b) when supported, else the reason (see the module docstring)."""
    why_not = portfolio_support()
    ratio: float | None = None
    figures: dict[str, Any] = {}
    if why_not is None:
        etf_dataset(quick)
        single = _fresh("single", quick)
        figures.update({f"single_{k}": v for k, v in single.items()})
        book = _fresh("portfolio", quick)
        figures.update({f"portfolio_{k}": v for k, v in book.items()})
        ratio = book["seconds"] / single["seconds"]
        figures["portfolio_available"] = True
        figures["portfolio_under_3x"] = ratio < 3.0
        figures["portfolio_under_1gb"] = book["peak_rss_mb"] < 1024.0
    else:
        figures["portfolio_available"] = False
        figures["portfolio_reason"] = why_not
    figures["quick"] = quick
    figures["load_average_1m"] = os.getloadavg()[0]
    figures["when"] = datetime.now().isoformat(timespec="seconds")
    return {
        "benchmark": "portfolio",
        "ratio": ratio,
        "baseline": (
            f"the {PORTFOLIO_TEMPLATE} book on SPY alone, same synth us-etf-eod "
            f"{'60 days' if quick else '5 years'} (portfolio seconds / single seconds; target < 3)"
        ),
        "figures": figures,
    }
