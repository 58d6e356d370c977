"""Parameter sweeps: one backtest per combination of a grid, run through any executor.

``sweep(strategy, {"stop_loss_pct": [0.25, 0.5], "entry": ["09:20", "10:30"]}, data=...)``
runs the Cartesian product of the grid's values (keys in the order given, values in the order
given, the last key varying fastest) and returns one row per combination, in that order whatever
order the runs finish in. Each row is what :func:`workbench.run_backtest` gives for that
combination (same run id and metrics). Intraday combinations are simulated day-major -- each
worker runs every combination on its share of the days, so each day is read once -- and
positional ones one combination per worker (see :func:`run_tasks`).

Combinations go through the executors of :mod:`workbench.engine.executors`: by default the
local pool (loky; scripts need no ``__main__`` guard), or any executor given, e.g. a thread pool,
a Dask cluster's ``Client`` or its ``get_executor()``; strategies travel by value, so a class
defined in a notebook cell runs on every worker. A combination that fails (bad parameters, a failing
positional day, a worker that died) is reported in the ``error`` column while the others
complete.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import os
import sys
import traceback
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from workbench.engine.spec import RunSpec
from workbench.engine.strategy import Strategy
from workbench.engine.usercode import Portable
from workbench.research.strategy_spec import resolve_strategy_spec

#: Headline metrics copied from each run's ``metrics.json`` into the sweep table.
HEADLINE_METRICS: tuple[str, ...] = (
    "total_pnl",
    "sharpe",
    "max_drawdown",
    "win_rate",
    "trades",
    "fills",
    "fees",
    "avg_trade_pnl",
    "days",
    "days_traded",
    "days_skipped",
    "days_failed",
)

#: Columns after the parameter columns, in order.
RESULT_COLUMNS: tuple[str, ...] = (*HEADLINE_METRICS, "run_id", "error")


@dataclass(frozen=True)
class RunTask:
    """Everything one worker needs to run one combination (picklable: the strategy class
    travels by value, so a class defined in a notebook or a script runs on any worker)."""

    strategy: Portable[type[Strategy]]
    params: dict[str, Any]
    spec: RunSpec
    keep_daily: bool = False
    #: A :class:`workbench.analytics.collateral.Portfolio`: the worker also returns the run's
    #: collateral path and summary under it (seed 002's loan view of a hedge).
    portfolio: Any = None
    #: Also return the run's tradebook (pandas), e.g. for an event comparison's folder.
    keep_tradebook: bool = False
    #: With a portfolio: sell the legs open on the last day at its marks (seed 002's scenario
    #: end; :func:`~workbench.analytics.collateral.collateral_path`'s ``liquidate_at_end``).
    liquidate_at_end: bool = False

    @classmethod
    def make(
        cls,
        strategy: Any,
        params: Mapping[str, Any],
        spec: RunSpec,
        *,
        keep_daily: bool = False,
        portfolio: Any = None,
    ) -> RunTask:
        """A task for ``strategy`` (a class, ``module:Class`` or ``path.py:Class``)."""
        from workbench.engine.resolve import resolve_strategy

        code = strategy if isinstance(strategy, Portable) else Portable(resolve_strategy(strategy))
        return cls(code, dict(params), spec, keep_daily, portfolio)


@dataclass
class RunRecord:
    """What a worker returns: the headline metrics, the run id, or the error.

    ``daily`` (only with ``keep_daily``) is the run's daily path: ``date`` and ``pnl``
    (money, the equity change that day) and ``fills``. ``collateral`` and
    ``collateral_summary`` (only with a ``portfolio``) are
    :func:`~workbench.analytics.collateral.collateral_path` and
    :func:`~workbench.analytics.collateral.collateral_summary` of the run.
    """

    metrics: dict[str, Any] = field(default_factory=dict)
    run_id: str | None = None
    error: str | None = None
    daily: pd.DataFrame | None = None
    collateral: pd.DataFrame | None = None
    collateral_summary: dict[str, Any] | None = None
    tradebook: pd.DataFrame | None = None


def run_task(task: RunTask) -> RunRecord:
    """Run one combination; never raises for a failing backtest (the error is returned).

    Runs in the worker: the engine is imported here so that a thread or Dask worker pays for
    the import once.
    """
    from workbench.engine.runner import run_backtest

    try:
        result = run_backtest(
            task.strategy.value, task.spec, params=task.params, executor="serial", progress=False
        )
    except Exception as exc:  # reported per combination, the sweep goes on
        return RunRecord(error=_describe(exc))
    return _record(task, result)


@dataclass(frozen=True)
class AssembleTask:
    """One intraday run of a day-major sweep, simulated: its plan, its days' records and what
    its :class:`RunRecord` keeps (as the :class:`RunTask`'s), for a worker to assemble
    (picklable: the plan's strategy and config travel by value)."""

    plan: Any  # workbench.engine.runner.RunPlan
    days: list[Any]  # its DayRecords, any order
    keep_daily: bool = False
    portfolio: Any = None
    keep_tradebook: bool = False
    liquidate_at_end: bool = False

    @classmethod
    def of(cls, task: RunTask, plan: Any, days: list[Any]) -> AssembleTask:
        return cls(
            plan, days, task.keep_daily, task.portfolio, task.keep_tradebook,
            task.liquidate_at_end,
        )  # fmt: skip


def assemble_task(job: AssembleTask) -> RunRecord:
    """Assemble one simulated run into its record, as :func:`run_task` would return it; never
    raises for a failing run (the error is returned)."""
    from workbench.engine.gc_policy import paused_collections
    from workbench.engine.runner import assemble

    try:
        with paused_collections():  # as run_backtest assembles (engine.gc_policy)
            return _record(job, assemble(job.plan, job.days))
    except Exception as exc:
        return RunRecord(error=_describe(exc))


def assemble_tasks(jobs: Sequence[AssembleTask]) -> list[RunRecord]:
    """:func:`assemble_task` of each job, in order (a few runs per round trip to a worker)."""
    return [assemble_task(job) for job in jobs]


def _record(task: RunTask | AssembleTask, result: Any) -> RunRecord:
    """The :class:`RunRecord` of a finished run: headline metrics, failed days as the error,
    the daily path and the collateral view when the task asks for them."""
    metrics = {key: result.metrics.get(key) for key in HEADLINE_METRICS}
    error = None
    if result.failed_days:
        error = f"{len(result.failed_days)} day(s) failed: " + ", ".join(
            str(d) for d in result.failed_days[:5]
        )
    daily = None
    if task.keep_daily:
        daily = result.daily[["date", "pnl", "fills"]].copy()
        daily["date"] = pd.to_datetime(daily["date"]).dt.date
    record = RunRecord(metrics=metrics, run_id=result.run_id, error=error, daily=daily)
    if task.keep_tradebook:
        record.tradebook = result.tradebook
    if task.portfolio is not None:
        from workbench.analytics.collateral import collateral_path, collateral_summary

        try:
            path = collateral_path(
                result.daily,
                result.tradebook,
                task.portfolio,
                liquidate_at_end=task.liquidate_at_end,
            )
        except ValueError as exc:
            record.error = record.error or _describe(exc)
        else:
            record.collateral = path
            record.collateral_summary = collateral_summary(path, result.tradebook, task.portfolio)
    return record


def _describe(exc: BaseException) -> str:
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" (at {Path(last[0].filename).name}:{last[0].lineno})" if last else ""
    return f"{type(exc).__name__}: {exc}{where}"


def expand_grid(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """The combinations of ``grid``, in a fixed order (keys as given, last key fastest).

    Raises ``ValueError`` naming the parameter whose value list is empty or not a list.
    """
    if not isinstance(grid, Mapping):
        raise ValueError(f"grid must be a mapping of parameter -> list of values, got {grid!r}")
    keys = list(grid)
    values: list[list[Any]] = []
    for key in keys:
        vals = grid[key]
        if isinstance(vals, (str, bytes)) or not isinstance(vals, Sequence):
            raise ValueError(f"grid parameter {key!r}: expected a list of values, got {vals!r}")
        if len(vals) == 0:
            raise ValueError(f"grid parameter {key!r}: empty list of values")
        values.append(list(vals))
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*values)]


class InlineExecutor(cf.Executor):
    """Runs each submitted call at once, in this process (``executor="serial"``)."""

    _max_workers = 1

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        future: cf.Future[Any] = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


@contextmanager
def executor_scope(executor: Any, workers: int | None = None) -> Iterator[cf.Executor]:
    """The executor for a sweep (:mod:`workbench.engine.executors`): ``None`` or ``"process"``
    give the local pool with ``workers`` workers (default: the cores; left warm for the next
    sweep), ``"serial"`` runs in this process, an executor or a Dask client is used as given."""
    from workbench.engine.executors import cores, place

    if workers is not None and workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    where = place(executor, tasks=workers or cores())
    yield where.pool if where.pool is not None else InlineExecutor()


#: Intraday runs simulated together (day-major) per batch: their day records are held in the
#: parent until the batch's runs are assembled, so memory stays bounded however large the grid.
PLAN_BATCH = 32


def run_tasks(
    tasks: Sequence[RunTask],
    executor: cf.Executor,
    *,
    progress: bool = True,
    desc: str = "sweep",
) -> list[RunRecord]:
    """Run ``tasks`` on ``executor``; the records come back in the tasks' order.

    Intraday runs are simulated day-major (:func:`~workbench.engine.runner.simulate_intraday_plans`),
    :data:`PLAN_BATCH` runs at a time: each worker takes a share of the days and runs every run
    of the batch on them, so a day is read once per batch and the workers share the reading;
    each run's result is then assembled exactly as :func:`~workbench.engine.runner.run_backtest`
    would (same run id, same books), on the workers too (:func:`assemble_tasks`: the runs side by
    side; in this process when the executor refuses the job or its worker dies). The parent
    plans them, so it must be able to open the
    dataset; a task whose dataset the parent cannot find (data only on a cluster's workers) and
    positional runs (which carry positions from day to day) run one task per worker instead.

    A task that cannot start (a bad parameter) or whose future fails (a worker that died, an
    unpicklable argument) gets a record with the error; the other tasks complete.
    """
    from workbench.data.errors import DatasetNotFoundError
    from workbench.engine.runner import RunPlan, plan_run, simulate_intraday_plans

    records: list[RunRecord | None] = [None] * len(tasks)
    plans: dict[int, RunPlan] = {}
    per_task: list[int] = []
    for i, task in enumerate(tasks):
        try:
            if (task.spec.mode or task.strategy.value.mode) != "intraday":
                per_task.append(i)
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # as in a worker: the manifest keeps them
                plans[i] = plan_run(task.strategy.value, task.spec, params=task.params)
        except DatasetNotFoundError:
            per_task.append(i)  # the workers may see a dataset the parent cannot
        except Exception as exc:
            records[i] = RunRecord(error=_describe(exc))
    bar = tqdm(
        total=len(per_task), disable=not progress or not per_task, desc=desc, unit="run",
        file=sys.stderr, leave=False,
    )  # fmt: skip
    try:
        futures: dict[cf.Future[RunRecord], int] = {}
        for i in per_task:
            try:
                futures[executor.submit(run_task, tasks[i])] = i
            except Exception as exc:  # e.g. a pool already broken by a dead worker
                records[i] = RunRecord(error=_describe(exc))
                bar.update(1)
        order = sorted(plans)
        workers = int(getattr(executor, "_max_workers", 0) or os.cpu_count() or 1)
        for start in range(0, len(order), PLAN_BATCH):
            batch = order[start : start + PLAN_BATCH]
            days = simulate_intraday_plans(
                [plans[i] for i in batch], executor, workers=workers, progress=progress,
                desc=desc,
            )  # fmt: skip
            # the runs are assembled on the workers too, a few per task, side by side: in the
            # parent, one after the other, they were the serial tail of the sweep
            jobs = [
                (i, AssembleTask.of(tasks[i], plans.pop(i), day_records))
                for i, day_records in zip(batch, days, strict=True)
            ]
            del days
            groups = max(1, min(len(jobs), 2 * workers))
            assembling: dict[cf.Future[list[RunRecord]], list[tuple[int, AssembleTask]]] = {}
            for g in range(groups):
                group = jobs[g::groups]
                try:
                    assembling[executor.submit(assemble_tasks, [j for _, j in group])] = group
                except Exception:  # e.g. a pool broken by a dead worker: assemble here
                    for i, job in group:
                        records[i] = assemble_task(job)
            for assembled in cf.as_completed(assembling):
                group = assembling[assembled]
                try:
                    got = assembled.result()
                except Exception:  # the worker died or the jobs did not travel: assemble here
                    got = [assemble_task(job) for _, job in group]
                for (i, _), record in zip(group, got, strict=True):
                    records[i] = record
        for fut in cf.as_completed(futures):
            i = futures[fut]
            try:
                records[i] = fut.result()
            except Exception as exc:
                records[i] = RunRecord(error=_describe(exc))
            bar.update(1)
    finally:
        bar.close()
    return [r if r is not None else RunRecord(error="not run") for r in records]


def records_frame(
    combos: Sequence[Mapping[str, Any]], records: Sequence[RunRecord]
) -> pd.DataFrame:
    """One row per combination: parameter columns, then :data:`RESULT_COLUMNS`."""
    rows = []
    for combo, record in zip(combos, records, strict=True):
        row = dict(combo)
        for key in HEADLINE_METRICS:
            value = record.metrics.get(key)
            row[key] = float("nan") if value is None else value
        row["run_id"] = record.run_id
        row["error"] = record.error
        rows.append(row)
    columns = [*(combos[0].keys() if combos else []), *RESULT_COLUMNS]
    return pd.DataFrame(rows, columns=columns)


def sweep(
    strategy: Any,
    grid: Mapping[str, Sequence[Any]],
    spec: RunSpec | None = None,
    *,
    data: str | Path | None = None,
    start: date | str | None = None,
    end: date | str | None = None,
    params: Mapping[str, Any] | None = None,
    fill: Any = None,
    fees: Any = None,
    margin: Any = None,
    capital: float | None = None,
    rate: float | None = None,
    mode: str | None = None,
    executor: Any = None,
    workers: int | None = None,
    progress: bool = True,
    templates_dir: str | Path | None = None,
) -> pd.DataFrame:
    """Run ``strategy`` once per combination of ``grid``; one row per combination.

    Parameters
    ----------
    strategy
        A template name, ``"module:Class"``, ``"path/to/file.py:Class"``, a ``Strategy`` class
        (a notebook's own included) or a :class:`StrategyTemplate` (a template's parameters are
        the base that ``params`` and the grid override).
    grid
        Parameter name -> list of values; combinations in :func:`expand_grid` order.
    spec
        A :class:`~workbench.engine.spec.RunSpec`; the keyword arguments given override it.
    data, start, end, fill, fees, margin, capital, rate, mode
        As :func:`workbench.run_backtest` (dates inclusive; models as specs or objects).
    params
        Base parameters shared by every combination (the grid's values win).
    executor
        As :func:`workbench.run_backtest`: ``None`` (the local pool of ``workers`` processes,
        default: the machine's cores), ``"serial"``, any ``concurrent.futures.Executor`` or a
        Dask ``Client`` (left running).
    progress
        Show tqdm bars on stderr (run-days of intraday combinations, positional runs).

    Returns
    -------
    pandas.DataFrame
        The grid's parameter columns, then ``total_pnl, sharpe, max_drawdown, win_rate, trades,
        fills, fees, avg_trade_pnl, days, days_traded, days_skipped, days_failed`` (``metrics.json`` units:
        money in the dataset's currency, Sharpe of daily PnL annualised by sqrt(252), NaN when
        undefined), ``run_id`` and ``error`` (missing, ``pd.isna``, when the run completed; a run with failed
        days has its metrics and an error naming the days).
    """
    chosen = resolve_strategy_spec(strategy, templates=templates_dir)
    run_spec = RunSpec.build(
        spec, data=data, start=start, end=end, fill=fill, fees=fees, margin=margin,
        capital=capital, rate=rate, mode=mode,
    )  # fmt: skip
    run_spec = chosen.run_spec(run_spec)
    base = chosen.resolved_params(params)
    combos = expand_grid(grid)
    code = Portable(chosen.cls)
    tasks = [RunTask(code, {**base, **combo}, run_spec) for combo in combos]
    with executor_scope(executor, workers) as pool:
        records = run_tasks(tasks, pool, progress=progress)
    return records_frame(combos, records)
