"""One backtest run of a template, saved as a report folder.

:func:`run_template` is what ``notebooks/backtest.ipynb`` calls: it resolves the template, runs
the backtest, writes the run folder (``tradebook.parquet``, ``daily.csv``, ``days.csv``,
``metrics.json``, ``manifest.json``, ``tearsheet.html``) and records the template reference so
the template cannot change under a report without a version bump.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.research.templates import TemplateRepository

#: Where template references are recorded unless a run names another reports folder.
DEFAULT_REPORTS = Path(__file__).resolve().parents[2] / "reports"

#: Capital base used when a run declares none, by the dataset's currency (money units).
DEFAULT_CAPITAL = {"INR": 1_000_000.0, "USD": 100_000.0}


@dataclass(frozen=True)
class RunSummary:
    """Where a run was written and its headline figures."""

    out: Path
    metrics: dict[str, Any]
    manifest: dict[str, Any]

    @property
    def tearsheet(self) -> Path:
        return self.out / "tearsheet.html"

    def metrics_frame(self) -> pd.DataFrame:
        """Headline metrics as a one-column table for notebooks."""
        return pd.DataFrame({"value": pd.Series(self.metrics, dtype=object)})

    def show_charts(
        self, names: tuple[str, ...] = ("equity", "underwater", "monthly_heatmap")
    ) -> None:
        """Display a few tearsheet charts inline (notebooks); the full set is in the tearsheet."""
        from IPython.display import display

        from workbench.analytics.analysis import analyse
        from workbench.analytics.charts import CHARTS, ChartUnavailable, render

        analysis = analyse(self.out, capital=float(self.manifest["capital"]))
        for name in names:
            if name not in CHARTS:
                continue
            try:
                display(render(name, analysis))
            except ChartUnavailable as reason:
                print(f"{name}: {reason}")


def run_template(
    template: str,
    *,
    data: str | Path,
    out: str | Path,
    overrides: dict[str, Any] | None = None,
    start: str | None = None,
    end: str | None = None,
    fill: str | None = None,
    fees: str | None = None,
    margin: str | None = None,
    capital: float | None = None,
    templates_dir: str | Path | None = None,
    refs_dir: str | Path | None = None,
    executor: Any = None,
    progress: bool = False,
) -> RunSummary:
    """Run ``template`` (a name in the templates folder) on ``data`` and write the report folder.

    Parameters
    ----------
    template
        Template name (``templates/strategies/<name>.toml``).
    data
        Dataset folder.
    out
        Run folder to write (created; replaced atomically if it exists).
    overrides
        Parameter overrides on top of the template's ``params``.
    start, end
        Inclusive date range (``YYYY-MM-DD``); default: the dataset's range.
    fill, fees, margin
        Fill, fee and margin model specs (see :mod:`workbench.execution`); default: the
        engine's (ORATS fills; the venue's fees; no margin model).
    capital
        Capital base for returns (money); default :data:`DEFAULT_CAPITAL` for the dataset's
        currency. Recorded in the manifest.
    refs_dir
        Where template references are recorded (a reports folder); default: the
        repository's ``reports/``.
    """
    from workbench.analytics.analysis import analyse, jsonable
    from workbench.analytics.tearsheet import render_tearsheet
    from workbench.engine import run_backtest

    out = Path(out)
    refs = Path(refs_dir) if refs_dir is not None else DEFAULT_REPORTS
    repo = TemplateRepository(templates_dir, refs_dir=refs)
    spec = repo.get(template)
    params = spec.resolved_params(overrides)
    spec.validate_params(overrides)
    if capital is None:
        capital = _default_capital(Path(data))
    result = run_backtest(
        spec.strategy,
        data=str(data),
        start=start,
        end=end,
        params=params,
        fill=fill,
        fees=fees,
        margin=margin,
        capital=capital,
        executor=executor,
        progress=progress,
    )
    result.manifest["template"] = {
        "name": spec.name,
        "version": spec.version,
        "sha256": spec.sha256,
        "overrides": dict(overrides or {}),
    }
    result.manifest["capital"] = capital
    analysis = analyse(result, capital=capital)
    # metrics.json: the engine's headline figures extended by the analytics layer's
    # (the engine's own figures win where both name one, e.g. trades = finished round trips)
    extra = jsonable({**analysis.metrics, **analysis.trade_metrics, **analysis.costs})
    for key, value in extra.items():
        result.metrics.setdefault(key, value)
    result.save(out)
    render_tearsheet(
        result, out / "tearsheet.html", analysis=analysis, title=f"{spec.ref} {out.name}"
    )
    repo.record_reference(spec)
    return RunSummary(out=out, metrics=dict(result.metrics), manifest=dict(result.manifest))


def _default_capital(data: Path) -> float:
    from workbench.data.catalog import Catalog

    catalog = Catalog.load(data)
    currencies = {spec.currency for spec in catalog.underlyings.values()}
    currency = currencies.pop() if len(currencies) == 1 else ""
    return DEFAULT_CAPITAL.get(currency, 100_000.0)
