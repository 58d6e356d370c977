"""Every call the service makes into the research, analytics and engine layers, in one place.

The rest of the service (routes, jobs, safety) never imports those layers; when their public
API changes (a run specification object, ``path.py:Class`` strategies) this module is the one
to adapt. Two halves:

- **checking** (in the server, before anything is queued): a request is resolved against the
  server's settings into a plain, JSON-ready job request -- the dataset's absolute path, the
  template pinned to ``name@version``, the strategy checked against the allowed ones -- or an
  :class:`~workbench.service.safety.UnsafeInputError` naming the field;
- **executing** (in a worker process, a Dask worker, or a driver thread of the server): a job
  request runs through the research layer exactly as the command line runs it, and the result
  is a JSON-ready dict.
"""

from __future__ import annotations

import concurrent.futures as cf
import importlib
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from workbench.service.config import ServiceConfig
from workbench.service.safety import UnsafeInputError, check_name, check_strategy, resolve_data

#: Headline metrics a finished backtest reports in ``GET /api/backtests/{id}``.
HEADLINE: tuple[str, ...] = (
    "total_pnl",
    "total_return",
    "cagr",
    "sharpe",
    "sortino",
    "max_drawdown",
    "max_drawdown_pct",
    "win_rate",
    "trades",
    "fills",
    "fees",
    "days",
    "days_traded",
    "days_skipped",
    "days_failed",
    "refused_by_constraint",
    "warnings",
    "capital",
)

#: Files a finished backtest folder must hold (written last: the folder appears whole).
RUN_FILES: tuple[str, ...] = (
    "manifest.json",
    "metrics.json",
    "tradebook.parquet",
    "tearsheet.html",
)


def version() -> str:
    """The workbench package version (what ``/health`` and the OpenAPI page report)."""
    from workbench.engine.manifest import package_version

    return package_version()


# -- checking -----------------------------------------------------------------------------------
def allowed_strategies(modules: Sequence[str]) -> dict[str, type]:
    """``{"module:Class": class}`` for every Strategy subclass the modules expose (imported
    once, when the server starts; a module that cannot be imported stops the start)."""
    from workbench.engine.strategy import Strategy

    allowed: dict[str, type] = {}
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise ValueError(f"--strategies {name}: cannot import the module: {exc}") from None
        found = {
            f"{name}:{attr}": value
            for attr, value in vars(module).items()
            if isinstance(value, type) and issubclass(value, Strategy) and value is not Strategy
        }
        if not found:
            raise ValueError(f"--strategies {name}: the module defines no Strategy subclass")
        allowed.update(found)
    return allowed


def templates(config: ServiceConfig) -> Any:
    """The template repository: the templates folder and the reports folder's version store."""
    from workbench.research.templates import TemplateRepository

    return TemplateRepository(config.templates_dir, refs_dir=config.reports)


def _template(config: ServiceConfig, ref: str, loc: Sequence[str | int]) -> Any:
    from workbench.research.templates import TemplateError

    try:
        return templates(config).get(ref)
    except TemplateError as exc:
        raise UnsafeInputError(loc, str(exc)) from None


def _check_models(
    catalog_venue: str, fill: Any, fees: Any, margin: Any, where: tuple[str, ...]
) -> None:
    from workbench.engine.resolve import resolve_fees, resolve_fills, resolve_margin

    checks: list[tuple[str, Callable[[], Any]]] = [
        ("fill", lambda: resolve_fills(fill)),
        ("fees", lambda: resolve_fees(fees, catalog_venue)),
        ("margin", lambda: resolve_margin(margin)),
    ]
    for name, check in checks:
        try:
            check()
        except ValueError as exc:
            raise UnsafeInputError((*where, name), f"{name}: {exc}") from None


def _catalog(data: Path, loc: Sequence[str | int]) -> Any:
    from workbench.data.catalog import Catalog

    try:
        return Catalog.load(data)
    except (ValueError, OSError) as exc:
        raise UnsafeInputError(loc, f"data: {exc}") from None


def _check_span(
    start: date | None, end: date | None, config: ServiceConfig, where: tuple[str, ...]
) -> None:
    if start is not None and end is not None and (end - start).days > config.max_days:
        raise UnsafeInputError(
            (*where, "end"),
            f"the date range {start} .. {end} spans {(end - start).days} days; the server "
            f"allows at most {config.max_days}",
        )


def check_backtest(config: ServiceConfig, body: Any, allowed: Mapping[str, type]) -> dict[str, Any]:
    """A :class:`~workbench.service.models.BacktestRequest` checked and resolved into the job
    request the worker runs (JSON-ready): the data path absolute, the template pinned to its
    version, parameters validated against the strategy's Config, the models parsed, the date
    range inside the dataset."""
    from workbench.engine.runner import plan_run
    from workbench.research.strategy_spec import resolve_strategy_spec

    data = resolve_data(body.data, config.data_roots)
    catalog = _catalog(data, ("body", "data"))
    series = _series(body.series, config)
    constraints = (
        None if body.constraints is None else body.constraints.model_dump(exclude_unset=True)
    )
    _check_span(body.start, body.end, config, ("body",))
    if body.template is not None:
        template = _template(config, body.template, ("body", "template"))
        chosen = resolve_strategy_spec(template)
        pinned: str | None = template.ref
    else:
        check_strategy(body.strategy, allowed)
        chosen = resolve_strategy_spec(body.strategy)
        pinned = None
    try:
        chosen.validate(body.params)
    except ValueError as exc:
        raise UnsafeInputError(("body", "params"), str(exc)) from None
    _check_models(catalog.venue, body.fill, body.fees, body.margin, ("body",))
    from workbench.engine.spec import RunSpec
    from workbench.research.runs import default_capital

    capital = body.capital
    if capital is None:  # what run_strategy will use (constraints on equity need one)
        try:
            capital = default_capital(data)
        except (OSError, ValueError):
            capital = None
    try:
        spec = RunSpec.build(
            None, data=data, start=body.start, end=body.end, fill=body.fill, fees=body.fees,
            margin=body.margin, mode=body.mode, capital=capital, constraints=constraints,
            series=series or None,
        )  # fmt: skip
        plan = plan_run(
            chosen.cls, chosen.run_spec(spec), params=chosen.resolved_params(body.params)
        )
    except ValueError as exc:
        text = str(exc)
        field = (
            "params"
            if "parameter" in text
            else "start"
            if "between" in text
            else "constraints"
            if "constraint" in text
            else "series"
            if "series" in text
            else None
        )
        raise UnsafeInputError(("body", field) if field else ("body",), text) from None
    return {
        "template": pinned,
        "strategy": None if pinned else body.strategy,
        "data": str(data),
        "start": None if body.start is None else body.start.isoformat(),
        "end": None if body.end is None else body.end.isoformat(),
        "params": dict(body.params),
        "fill": body.fill,
        "fees": body.fees,
        "margin": body.margin,
        "capital": body.capital,
        "mode": body.mode,
        "constraints": constraints,
        "series": [str(p) for p in series] or None,
        "days": len(plan.indexed),
        "run_id": plan.run_id,
    }


def _series(values: Sequence[str], config: ServiceConfig) -> list[Path]:
    """A request's ``series`` datasets, each resolved under a data root like ``data``."""
    return [
        resolve_data(value, config.data_roots, ("body", "series", i))
        for i, value in enumerate(values)
    ]


def _spec_paths(spec: Any, config: ServiceConfig) -> dict[str, Any]:
    """A grid's or walk-forward's ``series`` and ``vix`` datasets resolved under a data root
    (the fields to update the spec with)."""
    out: dict[str, Any] = {"series": [str(p) for p in _series(spec.series, config)]}
    if spec.vix is not None:
        out["vix"] = str(resolve_data(spec.vix, config.data_roots, ("body", "vix")))
    return out


def _spec_body(body: Any, model: type, what: str) -> Any:
    """A grid or walk-forward spec from a JSON object or TOML text (422 naming the field)."""
    import tomllib

    if isinstance(body, (str, bytes)):
        try:
            data = tomllib.loads(body.decode("utf-8") if isinstance(body, bytes) else body)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise UnsafeInputError(("body",), f"not valid TOML: {exc}") from None
    elif isinstance(body, dict):
        data = body
    else:
        raise UnsafeInputError(("body",), f"expected a {what} as a JSON object or TOML text")
    try:
        return model(**data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ("body", *(str(p) for p in first["loc"]))
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(body)'}: {e['msg']}" for e in exc.errors()
        )
        raise UnsafeInputError(loc, f"invalid {what}: {problems}") from None
    except TypeError as exc:
        raise UnsafeInputError(("body",), f"invalid {what}: {exc}") from None


def _spec_strategy(config: ServiceConfig, spec: Any, allowed: Mapping[str, type]) -> Any:
    """A grid's or walk-forward's strategy, checked: a template of the server's (pinned to its
    version), or an allowed ``module:Class``; never a templates folder or a file of the
    client's. Returns ``(resolved strategy, the spec with its template pinned)``."""
    from workbench.research.strategy_spec import resolve_strategy_spec

    if spec.templates is not None:
        raise UnsafeInputError(
            ("body", "templates"),
            "templates: a templates folder cannot be named through the service (the server's "
            "templates folder and version store are used)",
        )
    if spec.strategy is not None:
        check_strategy(spec.strategy, allowed)
        return resolve_strategy_spec(spec.strategy), spec
    template = _template(config, spec.template, ("body", "template"))
    chosen = resolve_strategy_spec(template)
    return chosen, spec.model_copy(update={"template": template.ref})


def _check_combinations(
    chosen: Any, overrides: Mapping[str, Any], combos: list[dict[str, Any]]
) -> None:
    for combo in combos or [{}]:
        try:
            chosen.validate({**overrides, **combo})
        except ValueError as exc:
            raise UnsafeInputError(("body", "grid"), f"combination {combo}: {exc}") from None


def check_grid(config: ServiceConfig, body: Any, allowed: Mapping[str, type]) -> dict[str, Any]:
    """A grid spec (JSON or TOML) checked: its template pinned (or its strategy allowed), its
    data under a root, at most ``max_grid`` combinations, every combination's parameters
    valid, the models parsed."""
    from workbench.research.grid import GridSpec

    spec = _spec_body(body, GridSpec, "grid spec")
    if spec.name is not None:
        check_name(spec.name, ("body", "name"), "grid name")
    data = resolve_data(spec.data, config.data_roots)
    catalog = _catalog(data, ("body", "data"))
    _check_span(spec.start, spec.end, config, ("body",))
    combos = spec.combinations()
    if len(combos) > config.max_grid:
        raise UnsafeInputError(
            ("body", "grid"),
            f"the grid has {len(combos)} combinations; the server allows at most {config.max_grid}",
        )
    if spec.heatmap is not None:
        for axis in (spec.heatmap.x, spec.heatmap.y):
            if axis not in spec.grid:
                raise UnsafeInputError(
                    ("body", "heatmap"), f"heatmap axis {axis!r} is not a grid parameter"
                )
    chosen, spec = _spec_strategy(config, spec, allowed)
    _check_combinations(chosen, spec.overrides, combos)
    _check_models(catalog.venue, spec.fill, spec.fees, spec.margin, ("body",))
    pinned = spec.model_copy(
        update={
            "data": str(data),
            "workers": None,
            "name": spec.name or chosen.slug,
            **_spec_paths(spec, config),
        },
    )
    return {
        "spec": pinned.model_dump(mode="json"),
        "combinations": max(1, len(combos)),
        "template": chosen.template.ref if chosen.template is not None else None,
        "strategy": None if chosen.template is not None else chosen.label,
    }


def check_walkforward(
    config: ServiceConfig, body: Any, allowed: Mapping[str, type]
) -> dict[str, Any]:
    """A walk-forward spec (JSON or TOML) checked like a grid."""
    from workbench.research.sweep import expand_grid
    from workbench.research.walkforward import WalkForwardSpec

    spec = _spec_body(body, WalkForwardSpec, "walk-forward spec")
    data = resolve_data(spec.data, config.data_roots)
    catalog = _catalog(data, ("body", "data"))
    _check_span(spec.start, spec.end, config, ("body",))
    combos = expand_grid(spec.grid)
    if len(combos) > config.max_grid:
        raise UnsafeInputError(
            ("body", "grid"),
            f"the grid has {len(combos)} combinations; the server allows at most {config.max_grid}",
        )
    chosen, spec = _spec_strategy(config, spec, allowed)
    _check_combinations(chosen, spec.overrides, combos)
    _check_models(catalog.venue, spec.fill, spec.fees, spec.margin, ("body",))
    pinned = spec.model_copy(update={"data": str(data), **_spec_paths(spec, config)})
    return {
        "spec": pinned.model_dump(mode="json", by_alias=True),
        "combinations": len(combos),
        "template": chosen.template.ref if chosen.template is not None else None,
        "strategy": None if chosen.template is not None else chosen.label,
    }


def presets(config: ServiceConfig) -> list[dict[str, Any]]:
    """The event presets (``templates/events``) as JSON, with their materialised range."""
    from workbench.research.events import EventRepository, materialize

    out = []
    for preset in EventRepository(config.events_dir).list():
        start, end = materialize(preset)
        entry = preset.model_dump(mode="json")
        entry.update({"run_start": start.isoformat(), "run_end": end.isoformat()})
        out.append(entry)
    return out


def check_event_compare(config: ServiceConfig, slug: str, body: Any) -> dict[str, Any]:
    """An event comparison request checked: the preset exists, every template resolves and is
    pinned, overrides name compared templates, the data lies under a root."""
    from workbench.research.events import EventPresetError, EventRepository

    check_name(slug, ("path", "preset"), "preset")
    try:
        preset = EventRepository(config.events_dir).get(slug)
    except EventPresetError as exc:
        raise UnsafeInputError(("path", "preset"), str(exc)) from None
    data = resolve_data(body.data, config.data_roots)
    catalog = _catalog(data, ("body", "data"))
    names = (
        list(body.templates) if body.templates is not None else list(preset.default_template_slugs)
    )
    if len(names) > config.max_templates:
        raise UnsafeInputError(
            ("body", "templates"),
            f"{len(names)} templates; the server allows at most {config.max_templates}",
        )
    pinned = [_template(config, n, ("body", "templates", i)).ref for i, n in enumerate(names)]
    labels = [ref.partition("@")[0] for ref in pinned]
    for name in body.overrides or {}:
        if name not in labels:
            raise UnsafeInputError(
                ("body", "overrides", name), f"overrides name template {name!r}, not compared"
            )
    from workbench.research.events import dataset_underlying

    try:
        dataset_underlying(data, preset.symbol)
    except ValueError as exc:
        raise UnsafeInputError(("body", "data"), str(exc)) from None
    if preset.normalize_start_value and body.capital is None:
        raise UnsafeInputError(
            ("body", "capital"),
            f"{slug} normalises its paths to 1.0: capital (> 0, dataset currency) is required",
        )
    _check_models(catalog.venue, body.fill, body.fees, body.margin, ("body",))
    return {
        "preset": slug,
        "templates": pinned,
        "data": str(data),
        "capital": body.capital,
        "fill": body.fill,
        "fees": body.fees,
        "margin": body.margin,
        "overrides": body.overrides,
        "portfolio": None if body.portfolio is None else body.portfolio.model_dump(),
    }


# -- templates ----------------------------------------------------------------------------------
def template_list(config: ServiceConfig) -> list[dict[str, Any]]:
    """Each template's default (runnable) version: name, version, strategy, description,
    tags, parameters and the statuses of all its versions."""
    repo = templates(config)
    out = []
    for template in repo.list():
        out.append(
            {
                "name": template.name,
                "version": template.version,
                "ref": template.ref,
                "strategy": template.strategy,
                "description": template.description,
                "tags": list(template.tags),
                "params": template.params,
                "sha256": template.sha256,
                "versions": [
                    {"version": v["version"], "status": v["status"]}
                    for v in repo.versions(template.name)
                ],
            }
        )
    return out


def template_versions(config: ServiceConfig, name: str) -> dict[str, Any]:
    """Every version of ``name`` with its status, hash and parameters."""
    from workbench.research.templates import TemplateError

    check_name(name, ("path", "name"), "template name")
    repo = templates(config)
    try:
        versions = repo.versions(name)
    except TemplateError as exc:
        raise KeyError(str(exc)) from None
    for entry in versions:
        try:
            template = repo.get(f"{name}@{entry['version']}")
        except TemplateError as exc:
            entry["error"] = str(exc)
            continue
        entry["params"] = template.params
        entry["description"] = template.description
        entry["tags"] = list(template.tags)
    return {"name": name, "versions": versions}


def add_template(
    config: ServiceConfig, text: str, status: str, allowed: Mapping[str, type]
) -> dict[str, Any]:
    """Store a new template version (TOML or JSON text). Its strategy must be an allowed one
    or one a template of the folder already uses (no new code enters by a template)."""
    from workbench.research.templates import TemplateError, TemplateVersionError, template_from_text

    try:
        template = template_from_text(text, "template")
    except TemplateError as exc:
        raise UnsafeInputError(("body",), str(exc)) from None
    check_name(template.name, ("body", "name"), "template name")
    repo = templates(config)
    known = {t.strategy for t in _folder_templates(repo)}
    if template.strategy not in allowed and template.strategy not in known:
        shown = ", ".join(sorted({*allowed, *known}))
        raise UnsafeInputError(
            ("body", "strategy"),
            f"strategy {template.strategy!r} is neither allowed (--strategies) nor used by a "
            f"template of the folder; allowed: {shown}",
        )
    try:
        stored = repo.add(text, status=status, origin="service")
    except TemplateVersionError as exc:
        raise TemplateConflict(str(exc)) from None
    except TemplateError as exc:
        raise UnsafeInputError(("body", "params"), str(exc)) from None
    return {"name": stored.name, "version": stored.version, "ref": stored.ref,
            "sha256": stored.sha256, "status": status}  # fmt: skip


def set_template_status(
    config: ServiceConfig, name: str, version: int, status: str
) -> dict[str, Any]:
    from workbench.research.templates import TemplateError

    check_name(name, ("path", "name"), "template name")
    try:
        return templates(config).set_status(f"{name}@{version}", status)  # type: ignore[no-any-return]
    except (TemplateError, KeyError) as exc:
        raise KeyError(str(exc)) from None
    except ValueError as exc:
        raise TemplateConflict(str(exc)) from None


def _folder_templates(repo: Any) -> list[Any]:
    from workbench.research.templates import TemplateError, load_template_file

    out = []
    for path in sorted(repo.root.glob("*.toml")):
        try:
            out.append(load_template_file(path))
        except TemplateError:
            continue
    return out


class TemplateConflict(ValueError):
    """A template version that exists with another text, or a refused status change (409)."""


# -- reading results ----------------------------------------------------------------------------
def headline(metrics: Mapping[str, Any] | None) -> dict[str, Any]:
    """The headline figures of a run's metrics."""
    if not metrics:
        return {}
    return {key: metrics[key] for key in HEADLINE if key in metrics}


def folder_complete(out: str | Path | None) -> bool:
    """Whether a backtest folder holds every file a finished run writes."""
    return out is not None and all((Path(out) / name).is_file() for name in RUN_FILES)


def read_result(out: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(manifest, metrics)`` of a finished run folder."""
    from workbench.research.files import read_json_dict

    folder = Path(out)
    return read_json_dict(folder / "manifest.json"), read_json_dict(folder / "metrics.json")


def tradebook_csv(out: str | Path) -> bytes:
    """The run's tradebook (``tradebook.parquet``) as CSV text."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    table = pq.read_table(Path(out) / "tradebook.parquet")
    sink = __import__("io").BytesIO()
    pacsv.write_csv(table, sink)
    return sink.getvalue()  # type: ignore[no-any-return]


def write_day_index(day: Path) -> Path:
    """Rewrite a day folder's ``index.html`` (the report index reads the run repository)."""
    from workbench.research.index import write_index

    return write_index(day)


def daily_rows(out: str | Path) -> list[dict[str, Any]]:
    """The run's daily path (``daily.csv``) as JSON rows with typed values."""
    import pandas as pd

    from workbench.analytics.analysis import jsonable

    frame = pd.read_csv(Path(out) / "daily.csv", keep_default_na=True)
    return jsonable(frame.to_dict(orient="records"))  # type: ignore[no-any-return]


def analysis_of(out: str | Path, capital: float | None) -> dict[str, Any]:
    """The analytics of a finished run (``analysis.metrics_dict``), cached as
    ``analysis.json`` beside the run folder's files once computed."""
    from workbench.analytics.analysis import analyse, metrics_dict
    from workbench.data.atomic import write_bytes_atomic
    from workbench.research.files import read_json_dict
    from workbench.research.runs import default_capital

    folder = Path(out)
    cached = folder.parent / f".{folder.name}.analysis.json"
    found = read_json_dict(cached)
    if found:
        return found
    manifest = read_json_dict(folder / "manifest.json")
    base = capital or manifest.get("capital")
    if not base:
        data = (manifest.get("dataset") or {}).get("path")
        base = default_capital(data) if data else 100_000.0
    document = metrics_dict(analyse(folder, capital=float(base)))
    text = json.dumps(document, allow_nan=False, default=str)
    write_bytes_atomic(cached, text.encode("utf-8"))
    return document  # type: ignore[no-any-return]


# -- executing ----------------------------------------------------------------------------------
def execute_backtest(
    request: Mapping[str, Any],
    *,
    out: Path,
    reports: Path,
    templates_dir: Path | None,
    progress: Callable[[int, int], None],
) -> dict[str, Any]:
    """Run a checked backtest request (:func:`check_backtest`) in this process and write its
    folder at ``out`` with its tearsheet, exactly as ``workbench run`` does (the folder appears
    only when complete; a run stopped by ``progress`` writes nothing)."""
    from workbench.research.runs import run_strategy

    summary = run_strategy(
        request.get("template") or request["strategy"],
        out=Path(out),
        overrides=request.get("params") or {},
        data=request["data"],
        start=request.get("start"),
        end=request.get("end"),
        fill=request.get("fill"),
        fees=request.get("fees"),
        margin=request.get("margin"),
        capital=request.get("capital"),
        mode=request.get("mode"),
        constraints=request.get("constraints"),
        series=request.get("series"),
        templates_dir=templates_dir,
        refs_dir=reports,
        executor="serial",
        progress=progress,
    )
    return {"out": str(summary.out), "manifest": summary.manifest, "metrics": summary.metrics}


def execute_montecarlo(
    request: Mapping[str, Any], *, source: Path, capital: float | None, out: Path
) -> dict[str, Any]:
    """Monte Carlo of a finished run's daily (or closed-trade) PnL; writes ``montecarlo.json``
    in ``out`` and returns it: the summary, the fan (equity percentiles per step) and the
    percentiles of the final PnL and the maximum drawdown."""
    import numpy as np

    from workbench.analytics.analysis import analyse, jsonable
    from workbench.analytics.montecarlo import monte_carlo
    from workbench.data.atomic import replace_folder
    from workbench.research.files import read_json_dict

    manifest = read_json_dict(Path(source) / "manifest.json")
    base = float(capital or manifest.get("capital") or 0) or 100_000.0
    analysis = analyse(Path(source), capital=base, mc_paths=1)
    if request.get("source", "daily") == "trades":
        trades = analysis.trades
        pnl = trades.loc[trades["status"] == "closed", "pnl"].to_numpy(dtype=float)
    else:
        pnl = analysis.daily["pnl"].to_numpy(dtype=float)
    if pnl.size < 2:
        raise ValueError(
            f"Monte Carlo needs at least 2 {request.get('source', 'daily')} PnL values; "
            f"run {request['run']} has {pnl.size}"
        )
    result = monte_carlo(
        pnl,
        method=request.get("method", "bootstrap"),
        n_paths=int(request.get("paths", 1000)),
        seed=int(request.get("seed", 0)),
        capital=base,
        ruin_fraction=float(request.get("ruin_fraction", 1.0)),
        source=str(request.get("source", "daily")),
        distribution=request.get("distribution", "normal"),
    )
    quantiles = (1, 5, 10, 25, 50, 75, 90, 95, 99)
    document = jsonable(
        {
            "run": request["run"],
            "summary": result.summary(),
            "params": result.params,
            "fan": {f"p{int(p)}": result.fan[p] for p in sorted(result.fan)},
            "realised": result.realised,
            "final_pnl_percentiles": {
                f"p{q}": float(np.percentile(result.final_pnl, q)) for q in quantiles
            },
            "max_drawdown_percentiles": {
                f"p{q}": float(np.percentile(result.max_drawdown, q)) for q in quantiles
            },
        }
    )
    with replace_folder(out, ("montecarlo.json",), "a Monte Carlo folder") as tmp:
        (tmp / "montecarlo.json").write_text(json.dumps(document, allow_nan=False) + "\n")
    return {"out": str(out), "metrics": document["summary"], "document": document}


def execute_grid(
    job: Mapping[str, Any],
    *,
    record_id: str,
    reports: Path,
    templates_dir: Path | None,
    executor: cf.Executor,
    on_member: Callable[[Any], None],
) -> dict[str, Any]:
    """Run a checked grid (:func:`check_grid`) through ``executor``: the research layer's
    grid (a papermill notebook per combination into ``reports/<today>/``, the day's index
    rewritten); its members are recorded under ``record_id``."""
    from workbench.research.grid import GridSpec, run_grid

    spec = GridSpec(**job["spec"])
    result = run_grid(
        spec,
        reports_root=reports,
        executor=executor,
        templates_dir=templates_dir,
        progress=False,
        on_done=on_member,
        record_id=record_id,
        origin="service",
    )
    runs = [
        {"run_id": r.run_id, "params": r.params, "folder": str(r.folder), "ok": r.ok,
         "error": r.error, "metrics": headline(r.metrics)}
        for r in result.runs
    ]  # fmt: skip
    metrics = {"runs": len(runs), "failed": len(result.failed), "index": str(result.index),
               "warnings": result.warnings}  # fmt: skip
    return {"out": str(result.day_folder), "metrics": metrics, "document": {"runs": runs}}


def execute_walkforward(
    job: Mapping[str, Any],
    *,
    record_id: str,
    reports: Path,
    templates_dir: Path | None,
    executor: cf.Executor,
    out: Path,
    on_window: Callable[[dict[str, Any], int], None] | None,
) -> dict[str, Any]:
    """Run a checked walk-forward (:func:`check_walkforward`) through ``executor``; each
    finished window is recorded under ``record_id``; the result folder is written at ``out``."""
    from workbench.research.repository import RunRepository
    from workbench.research.templates import TemplateRepository
    from workbench.research.walkforward import (
        WalkForwardSpec,
        run_walkforward_spec,
        window_recorder,
    )

    spec = WalkForwardSpec(**job["spec"])
    record = window_recorder(
        RunRepository(reports),
        record_id,
        template=spec.template,
        strategy=spec.strategy,
        data=spec.data,
    )

    def hook(row: dict[str, Any], total: int) -> None:
        record(row, total)
        if on_window is not None:
            on_window(row, total)

    result = run_walkforward_spec(
        spec,
        templates=TemplateRepository(templates_dir, refs_dir=reports),
        executor=executor,
        progress=False,
        on_window=hook,
    )
    result.save(out)
    document = json.loads((out / "walk_forward.json").read_text())
    return {"out": str(out), "metrics": result.summary(), "document": document}


def execute_event_compare(
    job: Mapping[str, Any],
    *,
    reports: Path,
    templates_dir: Path | None,
    events_dir: Path | None,
    executor: cf.Executor,
    out: Path,
) -> dict[str, Any]:
    """Run a checked event comparison (:func:`check_event_compare`) through ``executor`` and
    write its folder at ``out``."""
    from workbench.research.events import EventRepository, compare, comparison_metrics
    from workbench.research.templates import TemplateRepository

    result = compare(
        job["preset"],
        job["templates"],
        data=job["data"],
        capital=job.get("capital"),
        overrides=job.get("overrides"),
        fill=job.get("fill"),
        fees=job.get("fees"),
        margin=job.get("margin"),
        executor=executor,
        progress=False,
        repository=TemplateRepository(templates_dir, refs_dir=reports),
        events=EventRepository(events_dir),
        portfolio=job.get("portfolio"),
    )
    result.save(out)
    metrics = comparison_metrics(result)
    return {"out": str(out), "metrics": metrics, "document": metrics}
