"""Parameter grids: one papermill-executed backtest notebook per combination.

A grid file names a template (or a strategy class: ``strategy = "path/to/file.py:Class"``, and
``templates = "DIR"`` for templates of one's own), the data and lists of parameter values::

    template = "short-straddle"
    data = "data/nifty-demo"
    start = "2024-01-01"
    end = "2024-03-29"
    fees = "india"

    [grid]
    stop_loss = [0.25, 0.5]
    entry = ["09:20", "10:00"]

    [heatmap]
    x = "stop_loss"
    y = "entry"
    metric = "sharpe"

Each combination runs ``notebooks/backtest.ipynb`` through papermill in a process pool into
``reports/<YYYY-MM-DD>/<run-id>/``; a failing combination is recorded with its error and the
others complete. The day's ``index.html`` is then rewritten from every run folder of that day.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
import tempfile
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)
from tqdm.auto import tqdm

from workbench.data.atomic import default_mode, write_bytes_atomic
from workbench.model.names import check_name
from workbench.research.files import load_toml_model, read_json_dict
from workbench.research.strategy_spec import ConstraintsField, StrategyFields, StrategySpec

REPO_ROOT = Path(__file__).resolve().parents[2]
BACKTEST_NOTEBOOK = REPO_ROOT / "notebooks" / "backtest.ipynb"


class GridError(ValueError):
    """A grid file is invalid; the message names the file and field."""


class HeatmapSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    x: str
    y: str
    metric: str = "sharpe"


class GridSpec(StrategyFields, ConstraintsField):
    """A validated grid file (``template`` or ``strategy``, see :class:`StrategyFields`; an
    optional ``[constraints]`` table for every run, see :class:`ConstraintsField`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    data: str
    start: date | None = None
    end: date | None = None
    fill: str | None = None
    fees: str | None = None
    margin: str | None = None
    capital: float | None = Field(default=None, gt=0)
    #: a dataset holding a daily VIX-like series for every run's volatility-regime breakdowns
    vix: str | None = None
    #: datasets whose series every run reads inside it (``bar.series``); relative paths are
    #: taken from the current folder, as ``data``
    series: list[str] = Field(default_factory=list)
    overrides: dict[str, Any] = Field(default_factory=dict)
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    heatmap: HeatmapSpec | None = None
    workers: int | None = Field(default=None, ge=1)
    name: str | None = None
    #: the file the spec was read from (set by :func:`load_grid`; names it in errors)
    _source: Path | None = PrivateAttr(default=None)

    @field_validator("name")
    @classmethod
    def _safe_name(cls, value: str | None) -> str | None:
        # the name becomes reports/<day>/grid-<name>.json: one safe pattern for every such name
        return None if value is None else check_name(value, "grid name")

    @field_validator("grid")
    @classmethod
    def _non_empty_lists(cls, value: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in value.items():
            if not isinstance(values, list) or not values:
                raise ValueError(f"grid.{key} must be a non-empty list of values")
        return value

    @model_validator(mode="after")
    def _range_in_order(self) -> GridSpec:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self

    @property
    def label(self) -> str:
        """What errors name: the grid file, or the grid's name when built in code."""
        return str(self._source) if self._source is not None else f"grid {self.name!r}"

    def combinations(self) -> list[dict[str, Any]]:
        """Every combination of the grid's values, in file order (the last key varies fastest)."""
        keys = list(self.grid)
        return [
            dict(zip(keys, values)) for values in itertools.product(*(self.grid[k] for k in keys))
        ]


def load_grid(path: str | Path) -> GridSpec:
    """Read and validate a grid file; relative ``data`` paths are taken from the current folder."""
    path = Path(path)
    spec, _ = load_toml_model(path, GridSpec, GridError, "grid file")
    if spec.heatmap is not None:
        for axis in (spec.heatmap.x, spec.heatmap.y):
            if axis not in spec.grid:
                raise GridError(
                    f"{path}: heatmap axis {axis!r} is not a grid parameter ({', '.join(spec.grid)})"
                )
    if not spec.name:
        try:
            stem = check_name(path.stem, "grid name (the file's name)")
        except ValueError as exc:
            raise GridError(f"{path}: {exc}") from None
        spec = spec.model_copy(update={"name": stem})
    spec._source = path
    return spec


def run_id_for(chosen: StrategySpec, params: dict[str, Any], spec: GridSpec) -> str:
    """Stable run id: the template's (or class's) name plus a hash of everything that defines
    the run, the strategy's code and the template file's content included."""
    from workbench.engine.usercode import code_identity

    label = chosen.template.ref if chosen.template is not None else chosen.slug
    identity = {
        "template": label,
        "template_sha256": None if chosen.template is None else chosen.template.sha256,
        "code": code_identity(chosen.cls)["sha256"],
        "params": params,
        "data": str(Path(spec.data).resolve()),
        "start": str(spec.start),
        "end": str(spec.end),
        "fill": spec.fill,
        "fees": spec.fees,
        "margin": spec.margin,
        "capital": spec.capital,
    }
    if spec.series:  # only when given: earlier grids keep their run ids
        identity["series"] = [str(Path(p).resolve()) for p in spec.series]
    if spec.constraints:  # likewise
        identity["constraints"] = spec.constraints
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()
    return f"{label.replace('@', '-v')}-{digest[:10]}"


@dataclass
class GridRun:
    run_id: str
    params: dict[str, Any]
    folder: Path
    ok: bool
    error: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass
class GridResult:
    spec: GridSpec
    day_folder: Path
    index: Path
    runs: list[GridRun]
    #: problems that did not stop the grid (e.g. a heatmap metric no run reported)
    warnings: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[GridRun]:
        return [r for r in self.runs if not r.ok]


def _execute_one(job: dict[str, Any]) -> dict[str, Any]:
    """Worker: execute the backtest notebook for one combination into a temp folder, then rename.

    One writer per run folder (its :class:`~workbench.data.locks.FolderLock`); the temporary
    folders a killed worker left beside it (``.<name>.<8 random>.tmp``) are removed first."""
    from workbench.data.atomic import stale_siblings
    from workbench.data.locks import FolderLock

    final = Path(job["folder"])
    with FolderLock(final, purpose="writing a grid run"):
        for stale in stale_siblings(final):
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)
        return _execute_locked(job, final)


def _execute_locked(job: dict[str, Any], final: Path) -> dict[str, Any]:
    import papermill

    from workbench.data.atomic import TEMP_SUFFIX

    if job.get("record"):  # the parent records the outcome; the worker says it started
        from workbench.research.repository import RunRepository, record_safely

        record_safely(lambda: RunRepository(job["reports"]).start(job["record"]))
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=TEMP_SUFFIX, dir=final.parent))
    run_out = tmp / "run"
    notebook_out = tmp / "backtest.ipynb"
    error: str | None = None
    # the kernel inherits this worker's stderr: keep its chatter in the run folder, not the console
    kernel_log = open(tmp / "kernel.log", "w")  # noqa: SIM115 - closed in finally
    saved_stderr = os.dup(2)
    os.dup2(kernel_log.fileno(), 2)
    try:
        for attempt in (1, 2):
            try:
                papermill.execute_notebook(
                    str(job["notebook"]),
                    str(notebook_out),
                    parameters={
                        "strategy": job["strategy"],
                        "templates_dir": job["templates_dir"],
                        "overrides": job["overrides"],
                        "data": job["data"],
                        "start": job["start"],
                        "end": job["end"],
                        "fill": job["fill"],
                        "fees": job["fees"],
                        "margin": job["margin"],
                        "capital": job["capital"],
                        "vix": job["vix"],
                        "series": job.get("series"),
                        "constraints": job.get("constraints"),
                        "out": str(run_out),
                        "refs_dir": job["refs_dir"],
                        # the grid parallelises over combinations: each notebook runs its days serially
                        "executor": "serial",
                    },
                    kernel_name=job.get("kernel", "python3"),
                    progress_bar=False,
                    execution_timeout=job.get("cell_timeout", 3600),
                    start_timeout=job.get("start_timeout", KERNEL_START_TIMEOUT),
                    cwd=str(job["cwd"]),
                )
                error = None
                break
            except Exception as exc:  # a failing combination is recorded, not raised
                error = _short_error(exc)
                if attempt == 1 and kernel_never_started(exc, notebook_out):
                    # a kernel that did not come up (a loaded machine) ran none of the
                    # notebook: start it once more rather than record a failed combination
                    kernel_log.write(f"kernel did not start ({error}); starting it again\n")
                    kernel_log.flush()
                    shutil.rmtree(run_out, ignore_errors=True)
                    continue
                break
    finally:
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
        kernel_log.close()
    # assemble the run folder: the run's files plus the executed notebook
    assembled = tmp / "assembled"
    if run_out.is_dir():
        run_out.rename(assembled)
    else:
        assembled.mkdir()
    if notebook_out.exists():
        notebook_out.rename(assembled / "backtest.ipynb")
    (tmp / "kernel.log").rename(assembled / "kernel.log")
    if error is not None:
        (assembled / "error.txt").write_text(error)
    default_mode(assembled)
    if final.exists():
        shutil.rmtree(final)
    assembled.rename(final)
    shutil.rmtree(tmp, ignore_errors=True)
    return {"folder": str(final), "error": error}


#: seconds a notebook's kernel may take to start (papermill's default, 60, is short for two
#: kernels starting at once on a loaded two-core machine)
KERNEL_START_TIMEOUT = 300


def kernel_never_started(exc: BaseException, notebook_out: Path) -> bool:
    """Whether papermill failed before any cell ran: not an error raised by a cell, and no
    code cell of the partly written output notebook has an execution count."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        return False
    if not notebook_out.exists():
        return True
    try:
        cells = json.loads(notebook_out.read_text()).get("cells", [])
    except (OSError, ValueError):
        return False
    return not any(c.get("cell_type") == "code" and c.get("execution_count") for c in cells)


def _short_error(exc: BaseException) -> str:
    name = type(exc).__name__
    ename = getattr(exc, "ename", None)
    evalue = getattr(exc, "evalue", None)
    if ename:
        return f"{ename}: {evalue}"
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return text or name


def run_grid(
    spec: GridSpec,
    *,
    reports_root: str | Path = "reports",
    day: date | None = None,
    executor: Executor | None = None,
    templates_dir: str | Path | None = None,
    notebook: str | Path = BACKTEST_NOTEBOOK,
    progress: bool = True,
    on_done: Callable[[GridRun], None] | None = None,
    record_id: str | None = None,
    origin: str = "research",
) -> GridResult:
    """Run every combination of ``spec`` and rewrite the day's index.

    ``executor`` defaults to a local process pool with ``spec.workers`` (or all cores) workers;
    any :class:`concurrent.futures.Executor` works (e.g. ``dask.distributed.Client.get_executor()``).

    The run repository of ``reports_root`` records the grid (kind ``grid``, made by
    ``origin``) and each combination (``grid-member``: queued, running in its worker, then
    completed or failed with its error; cancelled when the grid stopped before it finished).
    ``record_id``: a grid record the caller made and finishes itself (the service); the members
    are recorded under it.
    """
    from workbench.research.repository import RunRecorder, RunRepository

    reports_root = Path(reports_root).resolve()
    day = day or date.today()
    day_folder = reports_root / day.isoformat()
    chosen = spec.strategy_spec(templates_dir=templates_dir, refs_dir=reports_root)
    combos = spec.combinations() or [{}]
    # everything is checked before anything runs or any folder is made
    for combo in combos:
        try:
            chosen.validate({**spec.overrides, **combo})
        except ValueError as exc:
            where = f"combination {combo}" if combo else "overrides"
            raise GridError(f"{spec.label}: {where}: {exc}") from None
    check_run_inputs(spec.label, data=spec.data, fill=spec.fill, fees=spec.fees, margin=spec.margin)
    grid_name = check_name(spec.name or chosen.slug, "grid name")
    run_ids = [
        check_name(
            run_id_for(chosen, chosen.resolved_params({**spec.overrides, **c}), spec), "run id"
        )
        for c in combos
    ]
    vix = None
    if spec.vix is not None:
        from workbench.research.market_series import vix_from_dataset

        try:
            vix = str(Path(vix_from_dataset(spec.vix).dataset))
        except (OSError, ValueError, KeyError) as exc:
            raise GridError(f"{spec.label}: vix: {exc}") from None
    for extra in spec.series:
        if not (Path(extra) / "catalog.json").is_file():
            raise GridError(f"{spec.label}: series: {extra} is not a dataset folder")
    day_folder.mkdir(parents=True, exist_ok=True)
    chosen.record_reference(reports_root)
    strategy_arg = _portable_spec(chosen)
    runs_repo = RunRepository(reports_root)
    grid_record = (
        RunRecorder(runs_repo, record_id, finish=False)
        if record_id is not None
        else RunRecorder.open(
            reports_root,
            "grid",
            origin=origin,
            template=chosen.template.ref if chosen.template is not None else None,
            strategy=None if chosen.template is not None else chosen.label,
            data=Path(spec.data).resolve(),
            out=day_folder,
            request=spec.model_dump(mode="json"),
            progress_total=len(combos),
        )
    )
    with grid_record:
        result = _run_jobs(
            spec, chosen, strategy_arg, combos, run_ids, grid_name, day_folder, reports_root,
            notebook, executor, progress, on_done, grid_record, runs_repo, vix,
        )  # fmt: skip
        summary = {
            "runs": len(result.runs),
            "failed": len(result.failed),
            "index": str(result.index),
        }
        grid_record.completed(metrics=summary, out=day_folder)
    return result


def _run_jobs(
    spec: GridSpec,
    chosen: StrategySpec,
    strategy_arg: str,
    combos: list[dict[str, Any]],
    run_ids: list[str],
    grid_name: str,
    day_folder: Path,
    reports_root: Path,
    notebook: str | Path,
    executor: Executor | None,
    progress: bool,
    on_done: Callable[[GridRun], None] | None,
    grid_record: Any,
    runs_repo: Any,
    vix: str | None,
) -> GridResult:
    from workbench.research.index import write_index
    from workbench.research.repository import record_safely

    jobs: list[dict[str, Any]] = []
    for combo, run_id in zip(combos, run_ids, strict=True):
        overrides = {**spec.overrides, **combo}
        folder = day_folder / run_id
        member = None
        if grid_record.id is not None:
            member = record_safely(
                lambda combo=combo, folder=folder: runs_repo.create(
                    "grid-member",
                    origin="grid",
                    parent=grid_record.id,
                    template=chosen.template.ref if chosen.template is not None else None,
                    strategy=None if chosen.template is not None else chosen.label,
                    data=Path(spec.data).resolve(),
                    out=folder,
                    request={"params": combo},
                )
            )
        jobs.append(
            {
                "record": member,
                "reports": str(reports_root),
                "run_id": run_id,
                "params": combo,
                "folder": str(day_folder / run_id),
                "notebook": str(Path(notebook).resolve()),
                "strategy": strategy_arg,
                "templates_dir": None
                if chosen.template_folder is None
                else str(chosen.template_folder),
                "overrides": overrides,
                "data": str(Path(spec.data).resolve()),
                "start": None if spec.start is None else spec.start.isoformat(),
                "end": None if spec.end is None else spec.end.isoformat(),
                "fill": spec.fill,
                "fees": spec.fees,
                "margin": spec.margin,
                "capital": spec.capital,
                "vix": vix,
                "series": [str(Path(p).resolve()) for p in spec.series] or None,
                "constraints": spec.constraints,
                "refs_dir": str(reports_root),
                "cwd": str(REPO_ROOT),
            }
        )
    own_executor = executor is None
    pool: Executor = executor or ProcessPoolExecutor(
        max_workers=min(len(jobs), spec.workers or os.cpu_count() or 1)
    )
    runs: list[GridRun] = []
    try:
        futures = {pool.submit(_execute_one, job): job for job in jobs}
        bar: Iterable[Any] = as_completed(futures)
        if progress:
            bar = tqdm(bar, total=len(futures), desc=f"grid {spec.name or chosen.slug}", unit="run")
        for future in bar:
            job = futures[future]
            try:
                outcome = future.result()
                error = outcome["error"]
            except Exception as exc:  # the worker itself died
                error = _short_error(exc)
            folder = Path(job["folder"])
            metrics = read_json_dict(folder / "metrics.json")
            run = GridRun(job["run_id"], job["params"], folder, error is None, error, metrics)
            runs.append(run)
            _record_member(runs_repo, job["record"], run)
            grid_record.progress(len(runs), len(jobs))
            if on_done is not None:
                on_done(run)
    finally:
        if own_executor:
            pool.shutdown()
        for job in jobs:  # members that never reported (the grid was stopped): not left queued
            if job["record"] and not any(r.folder == Path(job["folder"]) for r in runs):
                record = job["record"]
                record_safely(
                    lambda record=record: runs_repo.cancel(
                        record, "the grid stopped before this run finished"
                    )
                )
    runs.sort(key=lambda r: [str(r.params.get(k)) for k in spec.grid] + [r.run_id])
    grid_file = {
        "name": spec.name,
        "template": chosen.label,
        "grid": spec.grid,
        "heatmap": None if spec.heatmap is None else spec.heatmap.model_dump(),
        "runs": [r.run_id for r in runs],
    }
    _write_json_atomic(day_folder / f"grid-{grid_name}.json", grid_file)
    _write_grid_page(day_folder / f"grid-{grid_name}.html", spec, chosen, runs)
    index = write_index(day_folder)
    return GridResult(
        spec=spec,
        day_folder=day_folder,
        index=index,
        runs=runs,
        warnings=_heatmap_warnings(spec, runs),
    )


def _record_member(runs_repo: Any, record_id: str | None, run: GridRun) -> None:
    from workbench.research.repository import record_safely

    if not record_id:
        return
    manifest = read_json_dict(run.folder / "manifest.json") or None
    if run.ok:
        record_safely(
            lambda: runs_repo.complete(
                record_id, manifest=manifest, metrics=run.metrics or None, out=run.folder
            )
        )
    else:
        error = run.error or "failed"
        record_safely(lambda: runs_repo.fail(record_id, error, manifest=manifest, out=run.folder))


def _write_grid_page(path: Path, spec: GridSpec, chosen: StrategySpec, runs: list[GridRun]) -> None:
    """The grid's sweep page (:mod:`workbench.research.sweep_report`): every combination
    sortable by link, heat maps of the objective over each pair of parameters, each run's
    tearsheet linked (the best one first)."""
    import pandas as pd

    from workbench.research.sweep_report import PAGE_METRICS, render_sweep

    names = list(spec.grid)
    objective = spec.heatmap.metric if spec.heatmap is not None else "sharpe"
    rows = []
    links: dict[str, str] = {}
    for run in runs:
        row: dict[str, Any] = {name: run.params.get(name) for name in names}
        for key in {*PAGE_METRICS, objective}:
            value = run.metrics.get(key)
            row[key] = float("nan") if value is None else value
        row["run_id"] = run.run_id
        row["error"] = run.error
        rows.append(row)
        if (run.folder / "tearsheet.html").is_file():
            links[run.run_id] = f"{run.run_id}/tearsheet.html"
    frame = pd.DataFrame(rows)
    html = render_sweep(
        frame,
        params=names,
        objective=objective,
        grid=spec.grid,
        links=links,
        title=f"Grid {spec.name or chosen.slug}: {chosen.label}",
        subtitle=f"{len(runs)} runs of {', '.join(names) or 'one combination'} on {spec.data}"
        f"{f' from {spec.start}' if spec.start else ''}{f' to {spec.end}' if spec.end else ''}"
        f" · ranked by {objective}",
        inputs=[
            ("template or strategy", chosen.label),
            ("data", str(spec.data)),
            ("overrides", ", ".join(f"{k}={v}" for k, v in spec.overrides.items()) or "none"),
            ("fill / fees / margin", f"{spec.fill} / {spec.fees} / {spec.margin}"),
            ("capital", str(spec.capital)),
        ],
    )
    write_bytes_atomic(path, html.encode("utf-8"))


def _portable_spec(chosen: StrategySpec) -> str:
    """How a notebook in another kernel names the strategy: the template's ``name@version``
    (exactly the version checked here, from the version store if the file moved on), or the
    class's ``module:Class`` / absolute ``path/to/file.py:Class``."""
    from workbench.engine.resolve import strategy_ref

    if chosen.template is not None:
        return chosen.template.ref
    ref = strategy_ref(chosen.cls)
    if ref.startswith(("__main__:", "__mp_main__:")):
        raise GridError(
            f"strategy {chosen.label}: a grid runs each combination in a notebook of its own, "
            "which cannot see a class defined in this session; put the class in a file and "
            "name it 'path/to/file.py:Class'"
        )
    return ref


def check_run_inputs(label: str, *, data: str | Path, fill: Any, fees: Any, margin: Any) -> None:
    """Raise :class:`GridError` ``"<label>: <field>: <why>"`` when ``data`` is not a dataset or
    the ``fill``, ``fees`` or ``margin`` spec does not parse (fees against the dataset's venue).

    For any spec file that runs many backtests (grids, walk-forward, event comparisons): check
    once, before the runs, instead of one identical failure per run.
    """
    from workbench.data.catalog import Catalog
    from workbench.data.layout import catalog_path
    from workbench.engine.resolve import resolve_fees, resolve_fills, resolve_margin

    try:
        catalog = Catalog.load(catalog_path(Path(data)))
    except (ValueError, OSError) as exc:
        raise GridError(f"{label}: data: {exc}") from None
    checks: list[tuple[str, Callable[[], Any]]] = [
        ("fill", lambda: resolve_fills(fill)),
        ("fees", lambda: resolve_fees(fees, catalog.venue)),
        ("margin", lambda: resolve_margin(margin)),
    ]
    for name, check in checks:
        try:
            check()
        except ValueError as exc:
            raise GridError(f"{label}: {name}: {exc}") from None


def _heatmap_warnings(spec: GridSpec, runs: list[GridRun]) -> list[str]:
    """A heatmap metric that no completed run reported (a typo draws no heatmap)."""
    ok = [r for r in runs if r.ok]
    if spec.heatmap is None or not ok or any(spec.heatmap.metric in r.metrics for r in ok):
        return []
    import difflib

    known = sorted({k for r in ok for k, v in r.metrics.items() if isinstance(v, (int, float))})
    close = difflib.get_close_matches(spec.heatmap.metric, known, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return [
        f"{spec.label}: heatmap metric {spec.heatmap.metric!r} is in no run's metrics.json, "
        f"so no heatmap was drawn{hint}"
    ]


def _write_json_atomic(path: Path, data: Any) -> None:
    write_bytes_atomic(path, json.dumps(data, indent=2, default=str).encode("utf-8"))
