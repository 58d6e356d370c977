"""One backtest run of a strategy, saved as a report folder.

:func:`run_strategy` is what ``workbench run`` and ``notebooks/backtest.ipynb`` call: it resolves
the strategy (a template, ``module:Class``, ``path/to/file.py:Class`` or a class), runs the
backtest and writes the run folder (``tradebook.parquet``, ``daily.csv``, ``days.csv``,
``metrics.json``, ``manifest.json``, ``trades.parquet`` (one row per position), ``params.toml``
(the resolved parameters), ``tearsheet.html`` and ``trades.csv``, the report written
inside the new folder before it is swapped into place); for a template it records the reference
so the template cannot change under a report without a version bump. The report reads the
underlying's closes, a VIX-like series and each day's intraday path from the datasets
(:mod:`workbench.research.run_report`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.engine.spec import RunSpec
from workbench.research.repository import default_reports
from workbench.research.strategy_spec import resolve_strategy_spec

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

    def show_tearsheet(self, height: int = 900) -> Any:
        """The tearsheet inline in a notebook (an ``iframe`` of the self-contained page; the
        file itself is :attr:`tearsheet`)."""
        import html

        from IPython.display import HTML

        page = self.tearsheet.read_text(encoding="utf-8")
        frame = (
            f'<iframe title="tearsheet {html.escape(self.out.name)}" '
            f'srcdoc="{html.escape(page, quote=True)}" '
            f'style="width:100%;height:{int(height)}px;border:1px solid #ddd"></iframe>'
        )
        with warnings.catch_warnings():  # IPython suggests IFrame, which cannot take srcdoc
            warnings.simplefilter("ignore", UserWarning)
            return HTML(frame)

    def show_charts(
        self, names: tuple[str, ...] = ("equity", "underwater", "monthly_heatmap")
    ) -> None:
        """Display a few tearsheet charts inline (notebooks); the full set is in the tearsheet."""
        from IPython.display import display

        from workbench.analytics.charts import CHARTS, ChartUnavailable, render
        from workbench.research.run_report import analyse_run

        analysis = analyse_run(self.out, capital=float(self.manifest["capital"]))
        for name in names:
            if name not in CHARTS:
                continue
            try:
                display(render(name, analysis))
            except ChartUnavailable as reason:
                print(f"{name}: {reason}")


def run_strategy(
    strategy: Any,
    spec: RunSpec | None = None,
    *,
    out: str | Path,
    overrides: dict[str, Any] | None = None,
    data: str | Path | None = None,
    start: str | date | None = None,
    end: str | date | None = None,
    fill: Any = None,
    fees: Any = None,
    margin: Any = None,
    capital: float | None = None,
    mode: str | None = None,
    templates_dir: str | Path | None = None,
    refs_dir: str | Path | None = None,
    executor: Any = None,
    progress: bool | Callable[[int, int], None] = False,
    vix: str | Path | None = None,
    constraints: Any = None,
    series: list[str | Path] | tuple[str | Path, ...] | None = None,
) -> RunSummary:
    """Run ``strategy`` and write its report folder (run files plus ``tearsheet.html``).

    Parameters
    ----------
    strategy
        A template name (in ``templates_dir``, default ``templates/strategies``),
        ``module:Class``, ``path/to/file.py:Class``, a ``Strategy`` class or a template object
        (:mod:`workbench.research.strategy_spec`).
    spec
        A :class:`~workbench.engine.spec.RunSpec`; the keyword arguments that are given
        override its fields.
    out
        Run folder to write (created; replaced atomically if it exists). The tearsheet is
        written into the new folder before it replaces the old one.
    overrides
        Parameters on top of the template's ``params`` (a class's Config defaults otherwise).
    data, start, end, fill, fees, margin, mode
        As :func:`workbench.run_backtest`.
    capital
        Capital base for returns (money); default :data:`DEFAULT_CAPITAL` for the dataset's
        currency. Recorded in the manifest.
    refs_dir
        The reports folder whose version store records the template version used; default:
        :func:`~workbench.research.repository.default_reports`.
    progress
        Show a progress bar, or a callable ``(days done, days in all)`` (see
        :func:`workbench.run_backtest`).
    constraints
        Portfolio constraints (:class:`~workbench.engine.constraints.Constraints`, a mapping
        or a TOML file) over the template's ``[constraints]`` table, field by field.
    vix
        A dataset holding a daily VIX-like series (``VIX``, ``INDIAVIX``) for the report's
        volatility-regime breakdowns; default: one held by the run's own dataset, if any. It is
        recorded in the manifest (``vix``).
    series
        Extra datasets whose series the strategy reads inside the run (``bar.series``; see
        :func:`workbench.run_backtest`); a VIX-like one among them also feeds the report's
        volatility regimes when ``vix`` is not given.
    """
    from workbench.analytics.analysis import jsonable
    from workbench.engine import run_backtest
    from workbench.research.run_report import analyse_run, report_inputs, write_report

    out = Path(out)
    refs = Path(refs_dir) if refs_dir is not None else default_reports()
    chosen = resolve_strategy_spec(strategy, templates=templates_dir, refs_dir=refs)
    params = chosen.resolved_params(overrides)
    chosen.validate(overrides)
    run_spec = RunSpec.build(
        spec, data=data, start=start, end=end, fill=fill, fees=fees, margin=margin,
        capital=capital, mode=mode, constraints=constraints, series=series,
    )  # fmt: skip
    run_spec = chosen.run_spec(run_spec)
    if run_spec.capital is None:
        run_spec = run_spec.replace(capital=_default_capital(run_spec.data))
    vix_series = None
    if vix is not None:  # a bad --vix fails before the backtest runs
        from workbench.research.market_series import vix_from_dataset

        vix_series = vix_from_dataset(vix)
    result = run_backtest(chosen.cls, run_spec, params=params, executor=executor, progress=progress)
    entry = chosen.manifest_entry(overrides)
    if entry is not None:
        result.manifest["template"] = entry
    capital_base = float(run_spec.capital or 0.0)
    inputs = report_inputs(result, vix=vix_series)
    if inputs.vix is not None:
        result.manifest["vix"] = inputs.vix.manifest_entry()
    analysis = analyse_run(result, capital=capital_base, inputs=inputs)
    # metrics.json: the engine's headline figures extended by the analytics layer's
    # (the engine's own figures win where both name one, e.g. trades = finished round trips)
    extra = jsonable({**analysis.metrics, **analysis.trade_metrics, **analysis.costs})
    for key, value in extra.items():
        result.metrics.setdefault(key, value)
    title = f"{chosen.label} {out.name}"

    def report(folder: Path) -> None:
        write_report(folder, analysis, title=title)

    result.save(out, extras=report)
    chosen.record_reference(refs)
    return RunSummary(out=out, metrics=dict(result.metrics), manifest=dict(result.manifest))


def run_template(template: Any, **options: Any) -> RunSummary:
    """:func:`run_strategy` (kept under the name the notebooks and scripts used)."""
    return run_strategy(template, **options)


def default_capital(data: str | Path) -> float:
    """The capital base of a run that declares none: :data:`DEFAULT_CAPITAL` for the
    dataset's currency (100,000 when it has several or an unknown one)."""
    return _default_capital(Path(data))


def _default_capital(data: Path) -> float:
    from workbench.data.catalog import Catalog

    catalog = Catalog.load(data)
    currencies = {spec.currency for spec in catalog.underlyings.values()}
    currency = currencies.pop() if len(currencies) == 1 else ""
    return DEFAULT_CAPITAL.get(currency, 100_000.0)
