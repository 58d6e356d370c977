"""Analytics layer: metrics, breakdowns, Monte Carlo, charts and the HTML tearsheet.

Reads results only (a tradebook, a daily path and a manifest, see docs/INTERFACES.md); never
imports the engine.

>>> analysis = analyse(result, capital=1_000_000)            # doctest: +SKIP
>>> render_tearsheet(result, "out/tearsheet.html", capital=1_000_000)  # doctest: +SKIP
"""

from workbench.analytics.analysis import Analysis, analyse, jsonable, metrics_dict
from workbench.analytics.inputs import AnalyticsInputError, RunData, coerce_run, load_run
from workbench.analytics.montecarlo import MonteCarloResult, monte_carlo
from workbench.analytics.tearsheet import render_html, render_tearsheet

__all__ = [
    "Analysis",
    "AnalyticsInputError",
    "MonteCarloResult",
    "RunData",
    "analyse",
    "coerce_run",
    "jsonable",
    "load_run",
    "metrics_dict",
    "monte_carlo",
    "render_html",
    "render_tearsheet",
]
