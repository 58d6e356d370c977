"""Analytics layer: metrics, breakdowns, Monte Carlo, charts and the HTML tearsheet.

Reads results only (a tradebook, a daily path and a manifest, see docs/INTERFACES.md); never
imports the engine.

>>> analysis = analyse(result, capital=1_000_000)            # doctest: +SKIP
>>> render_tearsheet(result, "out/tearsheet.html", capital=1_000_000)  # doctest: +SKIP
"""

from typing import Any

from workbench.analytics.analysis import Analysis, analyse, jsonable, metrics_dict
from workbench.analytics.inputs import AnalyticsInputError, RunData, coerce_run, load_run
from workbench.analytics.montecarlo import MonteCarloResult, monte_carlo


def __getattr__(name: str) -> Any:
    # the tearsheet pulls in matplotlib and Jinja2: import it only when asked for
    if name in ("render_html", "render_tearsheet"):
        from workbench.analytics import tearsheet

        return getattr(tearsheet, name)
    raise AttributeError(f"module 'workbench.analytics' has no attribute {name!r}")


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
