"""A run's report: the analysis with what the market data adds, the tearsheet and ``trades.csv``.

:func:`report_inputs` reads, from the datasets, what the analytics layer (which reads results
only) cannot: buy-and-hold of the underlying (:mod:`workbench.research.market_series`), a
VIX-like series (``vix=`` a dataset; else the manifest's ``vix`` entry of an earlier report;
else one held by the run's own dataset, else one in the extra series datasets the run read --
the manifest's ``series``) and, for intraday runs, each day's mark-to-market path
(:mod:`workbench.research.intraday`). :func:`analyse_run` passes them to
:func:`workbench.analytics.analyse`; :func:`write_report` writes ``tearsheet.html`` and
``trades.csv`` into a run folder.

A dataset that has moved or changed since the run is not read for the paths (the marks would
not be the run's): the report says so in its notes instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.research.market_series import (
    DailySeries,
    benchmark_closes,
    vix_from_dataset,
    vix_in_dataset,
)


@dataclass
class ReportInputs:
    """What :func:`report_inputs` found; ``notes`` say what it could not read and why."""

    benchmark: DailySeries | None = None
    vix: DailySeries | None = None
    intraday: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)


def _dataset_path(manifest: dict[str, Any]) -> tuple[Path | None, str]:
    dataset = manifest.get("dataset") or {}
    if not isinstance(dataset, dict) or not dataset.get("path"):
        return None, ""
    return Path(str(dataset["path"])), str(dataset.get("content_version") or "")


def _run_vix(
    manifest: dict[str, Any], path: Path | None, underlying: Any, notes: list[str]
) -> DailySeries | None:
    """The VIX-like series the run itself had: in its own dataset, else in one of the extra
    series datasets it read (the manifest's ``series``), in that order."""
    name = underlying if isinstance(underlying, str) else None
    candidates = [path] if path is not None else []
    for entry in manifest.get("series") or []:
        if isinstance(entry, dict) and entry.get("path"):
            candidates.append(Path(str(entry["path"])))
    for folder in candidates:
        if not folder.is_dir():
            continue
        try:
            found = vix_in_dataset(folder, name)
        except (OSError, ValueError, KeyError) as exc:
            notes.append(f"VIX-like series in {folder} not read: {exc}")
            continue
        if found is not None:
            return found
    return None


def report_inputs(run: Any, *, vix: str | Path | DailySeries | None = None) -> ReportInputs:
    """Benchmark closes, a VIX-like series and intraday paths for ``run`` (a result, a
    ``RunData`` or a saved run folder)."""
    from workbench.analytics.inputs import coerce_run, run_mode
    from workbench.data.catalog import Catalog

    data = coerce_run(run)
    manifest = data.manifest
    found = ReportInputs()
    path, version = _dataset_path(manifest)
    underlying = manifest.get("underlying")
    found.benchmark = benchmark_closes(
        manifest, underlying if isinstance(underlying, str) else None
    )
    if isinstance(vix, DailySeries):
        found.vix = vix
    elif vix is not None:
        found.vix = vix_from_dataset(vix)
    else:
        earlier = manifest.get("vix")
        if isinstance(earlier, dict) and earlier.get("dataset"):
            try:
                found.vix = vix_from_dataset(earlier["dataset"], earlier.get("series"))
            except (OSError, ValueError, KeyError) as exc:
                found.notes.append(f"VIX-like series of the run not read again: {exc}")
        else:
            found.vix = _run_vix(manifest, path, underlying, found.notes)
    mode = run_mode(manifest, data.tradebook)
    if mode == "intraday" and not data.tradebook.empty:
        from workbench.research.intraday import intraday_paths

        if path is None or not path.is_dir():
            found.notes.append(
                "intraday paths not drawn: the run's dataset "
                f"{'is not named in its manifest' if path is None else f'{path} is gone'}"
            )
        else:
            current = Catalog.load(path).content_version
            if version and current != version:
                found.notes.append(
                    f"intraday paths not drawn: the dataset {path} has changed since the run "
                    f"(content version {current}, the run's {version})"
                )
            else:
                found.intraday = intraday_paths(data.tradebook, path, mode="intraday")
    return found


def analyse_run(
    run: Any,
    *,
    capital: float,
    vix: str | Path | DailySeries | None = None,
    inputs: ReportInputs | None = None,
    **options: Any,
) -> Any:
    """:func:`workbench.analytics.analyse` of ``run`` with :func:`report_inputs` (or the
    ``inputs`` given); ``options`` go to ``analyse``."""
    from workbench.analytics.analysis import analyse
    from workbench.analytics.inputs import coerce_run

    data = coerce_run(run)
    found = inputs if inputs is not None else report_inputs(data, vix=vix)
    analysis = analyse(
        data,
        capital=capital,
        vix=found.vix.closes if found.vix is not None else None,
        vix_source=found.vix.source if found.vix is not None else "",
        benchmark=found.benchmark.closes if found.benchmark is not None else "daily",
        benchmark_name=found.benchmark.name if found.benchmark is not None else None,
        intraday=found.intraday,
        **options,
    )
    analysis.notes.extend(found.notes)
    return analysis


def write_report(folder: str | Path, analysis: Any, *, title: str | None = None) -> Path:
    """Write ``tearsheet.html`` and ``trades.csv`` into ``folder``; returns the tearsheet."""
    from workbench.analytics.tearsheet import render_tearsheet

    folder = Path(folder)
    return render_tearsheet(None, folder / "tearsheet.html", analysis=analysis, title=title)
