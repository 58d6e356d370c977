"""``run_backtest``: resolve the strategy, data and models, simulate the days, assemble the result.

Intraday mode: days are independent; each runs in a fresh strategy instance, on a local pool
by default, in this process (``executor="serial"``) or on any ``concurrent.futures.Executor``
(:mod:`workbench.engine.executors`), in chunks of consecutive days so each worker reuses its open
store and series cache. The strategy travels by value (:mod:`workbench.engine.usercode`), so a
class defined in a notebook cell, a script (guarded by ``if __name__ == "__main__":`` or not) or a
file runs on every executor with the same tradebook as in this process. A
day that raises is recorded as ``failed`` with its date and traceback (``days.csv``,
``BacktestResult.failed_days``) while the other days complete. Positional mode runs the days in
order in this process (positions carry across days); a failing day raises
:class:`~workbench.engine.errors.DayFailedError` naming the date.

After the days: the tradebook is assembled in day order (``fill_id`` = row order), the daily
path accumulates cash and equity, and the equity path is checked against realised plus
unrealised PnL to the cent (:class:`~workbench.engine.errors.ReconciliationError` otherwise).
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import math
import sys
import traceback
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypeVar

import pandas as pd

from workbench.data.layout import settled_underlying
from workbench.engine.config import StrategyConfig, build_config
from workbench.engine.daily import daily_frame, days_frame
from workbench.engine.entries import entries_frame
from workbench.engine.errors import ConfigError, DayFailedError
from workbench.engine.excursions import EXCURSION_COLUMNS
from workbench.engine.executors import place
from workbench.engine.gc_policy import fewer_collections, paused_collections
from workbench.engine.manifest import dependency_versions, git_commit, package_version, run_id
from workbench.engine.metrics import headline
from workbench.engine.orders import orders_frame
from workbench.engine.pool import open_store, series_lru
from workbench.engine.resolve import (
    resolve_fees,
    resolve_fills,
    resolve_margin,
    resolve_strategy,
    strategy_ref,
)
from workbench.engine.result import BacktestResult
from workbench.engine.simulator import Costs, DayRecord, Simulator
from workbench.engine.spec import RunSpec
from workbench.engine.strategy import Strategy
from workbench.engine.tradebook import build_table
from workbench.engine.usercode import Portable, code_identity

T = TypeVar("T")

if TYPE_CHECKING:
    from workbench.engine.eod import ReadAhead
    from workbench.engine.market import DayMarket
    from workbench.execution.fees import FeeModel
    from workbench.execution.fills import FillModel, FillPolicy
    from workbench.execution.margin import MarginModel

FillSpec: TypeAlias = "str | FillPolicy | FillModel | Mapping[str, Any] | None"
FeeSpec: TypeAlias = "str | FeeModel | None"
MarginSpec: TypeAlias = "str | MarginModel | None"
ExecutorLike: TypeAlias = "Literal['process', 'serial'] | cf.Executor | Any | None"
"""``None``, ``"process"``, ``"serial"``, a ``concurrent.futures.Executor`` or a Dask ``Client``."""

MIN_POOL_DAYS = 20
"""With ``executor=None``, runs of fewer days than this run serially: starting pool workers
(imports, kernel loading) costs more than it saves on a handful of days."""

ENGINE_VERSION = "1"
"""Bumped when the engine's accounting or fill semantics change (part of the run id)."""


# -- running days -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class DayTask:
    """A chunk of consecutive days for one worker (picklable: the strategy class and its config
    travel by value in ``code``)."""

    code: Portable[tuple[type[Strategy], StrategyConfig]]
    data: str
    underlying: str
    costs: Costs
    days: tuple[tuple[int, date], ...]
    #: a run of several underlyings (``Config.underlyings``): all of them, ``underlying`` first
    universe: tuple[str, ...] = ()


COLUMNAR_EOD = True
"""End-of-day datasets (bar interval ``1d``) read each day's option file once, as columns
(:class:`~workbench.engine.eod.EodDayMarket`); ``False`` selects the per-instrument reference
path everywhere (the tests compare both)."""


def _columnar(store: Any) -> bool:
    return COLUMNAR_EOD and str(store.catalog.bar_interval) == "1d"


def _new_market(
    data: str,
    underlying: str,
    day: date,
    costs: Costs,
    ahead: ReadAhead | Mapping[str, ReadAhead] | None = None,
    universe: Sequence[str] = (),
) -> Any:
    from workbench.engine.market import DayMarket
    from workbench.engine.market_series import RunSeries

    if len(universe) > 1:
        return _universe_market(data, universe, day, costs, ahead)
    if isinstance(ahead, Mapping):
        ahead = ahead.get(underlying)
    store = open_store(data)
    market: DayMarket
    if _columnar(store):
        from workbench.engine.eod import EodDayMarket

        pending = None if ahead is None else ahead.take(day)
        market = EodDayMarket(store, underlying, day, series_lru(), rate=costs.rate, ahead=pending)
    else:
        market = DayMarket(store, underlying, day, series_lru(), rate=costs.rate)
    market.run_series = RunSeries(data, costs.series, underlying)
    return market


def _universe_market(
    data: str,
    universe: Sequence[str],
    day: date,
    costs: Costs,
    ahead: ReadAhead | Mapping[str, ReadAhead] | None,
) -> Any:
    """The day's markets of ``universe`` on one clock (:mod:`workbench.engine.universe`): one
    per underlying with data that day, in the run's order."""
    from workbench.engine.universe import UniverseMarket

    store = open_store(data)
    aheads = ahead if isinstance(ahead, Mapping) else {}
    markets = [
        _new_market(data, name, day, costs, aheads.get(name))
        for name in universe
        if store.has_day(name, day)
    ]
    if not markets:
        raise ValueError(f"{day}: none of {', '.join(universe)} has data in dataset {data}")
    return UniverseMarket(markets, universe)


def _read_ahead(data: str, underlying: str, days: Sequence[date]) -> ReadAhead | None:
    """A positional end-of-day run reads the next day's chain while it simulates this one."""
    if len(days) < 2 or not _columnar(open_store(data)):
        return None
    from workbench.engine.eod import ReadAhead

    return ReadAhead(data, underlying, days)


def _failed(day: date, exc: BaseException) -> DayRecord:
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return DayRecord(day=day, status="failed", reason=f"{type(exc).__name__}: {exc}", error=tb)


def run_intraday_days(task: DayTask) -> list[DayRecord]:
    """Simulate each day of ``task`` with a fresh strategy; failures become ``failed`` records."""
    cls, config = task.code.value
    out: list[DayRecord] = []
    for index, day in task.days:
        strategy = None
        try:
            strategy = cls(config)
            sim = Simulator(strategy, task.costs, mode="intraday")
            market = _new_market(
                task.data, task.underlying, day, task.costs, universe=task.universe
            )
            out.append(sim.run_day(market, index))
        except Exception as exc:
            out.append(_failed(day, exc))
        finally:
            if strategy is not None:
                strategy._release()  # the day's simulator is freed now, not by a collection
    return out


def _chunks(days: Sequence[tuple[int, date]], workers: int) -> list[tuple[tuple[int, date], ...]]:
    size = max(1, min(32, math.ceil(len(days) / max(1, workers * 4))))
    return [tuple(days[i : i + size]) for i in range(0, len(days), size)]


class _CallbackProgress:
    """A progress "bar" that reports ``(done, total)`` to a callable (first ``(0, total)``).

    An exception the callable raises (a service cancelling its job) stops the run: it comes
    out of :func:`run_backtest` after the days finished so far."""

    def __init__(self, total: int, report: Callable[[int, int], None]) -> None:
        self.total = total
        self.done = 0
        self._report = report
        report(0, total)

    def update(self, n: int = 1) -> None:
        self.done += n
        self._report(self.done, self.total)

    def close(self) -> None:
        pass


class _NoProgress:
    """The bar of a run with ``progress=False``: nothing shown, and tqdm (with its asyncio and
    notebook imports, ~10 ms) not imported by a batch process that never shows one."""

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, enabled: bool | Callable[[int, int], None], desc: str) -> Any:
    if callable(enabled):
        return _CallbackProgress(total, enabled)
    if not enabled:
        return _NoProgress()
    from tqdm.auto import tqdm

    return tqdm(
        total=total, disable=not enabled, desc=desc, unit="day", file=sys.stderr, leave=False
    )


def _run_intraday(
    base: DayTask,
    days: Sequence[tuple[int, date]],
    executor: Any,
    progress: bool | Callable[[int, int], None],
    desc: str,
) -> list[DayRecord]:
    if executor is None and len(days) < MIN_POOL_DAYS:
        executor = "serial"
    where = place(executor, tasks=len(days))
    records: list[DayRecord] = []
    bar = _progress(len(days), progress, desc)
    try:
        if where.pool is None:
            for index_day in days:  # one day at a time: progress (and a stop) after each day
                done = run_intraday_days(_with_days(base, (index_day,)))
                records.extend(done)
                bar.update(len(done))
            return records
        futures = [
            where.pool.submit(run_intraday_days, _with_days(base, c))
            for c in _chunks(days, where.workers)
        ]
        try:
            for fut in cf.as_completed(futures):
                done = fut.result()
                records.extend(done)
                bar.update(len(done))
        finally:
            for fut in futures:
                fut.cancel()
        return records
    finally:
        bar.close()


@dataclass(frozen=True)
class SweepDayTask:
    """Days of several intraday runs on one dataset for one worker, day-major (picklable): each
    day is simulated for every run that covers it, one run after the other, so the day's data is
    read once and the other runs find it in the process's series LRU."""

    data: str
    underlying: str
    runs: tuple[tuple[Portable[tuple[type[Strategy], StrategyConfig]], Costs], ...]
    days: tuple[tuple[date, tuple[tuple[int, int], ...]], ...]  # (day, ((run, day index), ...))
    universe: tuple[str, ...] = ()


def run_sweep_days(task: SweepDayTask) -> list[tuple[int, DayRecord]]:
    """Simulate ``task``: ``(run number, record)`` per run-day; failures become ``failed``."""
    out: list[tuple[int, DayRecord]] = []
    for day, members in task.days:
        for run, index in members:
            code, costs = task.runs[run]
            strategy = None
            try:
                cls, config = code.value
                strategy = cls(config)
                sim = Simulator(strategy, costs, mode="intraday")
                market = _new_market(task.data, task.underlying, day, costs, universe=task.universe)
                out.append((run, sim.run_day(market, index)))
            except Exception as exc:
                out.append((run, _failed(day, exc)))
            finally:
                if strategy is not None:
                    strategy._release()  # the day's simulator is freed now
    return out


def simulate_intraday_plans(
    plans: Sequence[RunPlan],
    executor: Any,
    *,
    workers: int = 1,
    progress: bool = False,
    desc: str = "sweep",
) -> list[list[DayRecord]]:
    """The day records of each intraday plan, simulated day-major on ``executor`` (a
    ``concurrent.futures.Executor`` or ``"serial"``): the union of the plans' days is cut into
    chunks of consecutive days, and a chunk runs every plan that covers its days in one worker.
    A worker thus reads each of its days once, whatever the number of plans, and the days are
    spread over the workers -- where running plan by plan had every worker read every day.
    When there are fewer chunks than ``workers`` (a short window), each chunk's plans are also
    shared out over several tasks, so every worker has work. A task whose worker dies makes
    its run-days ``failed`` records; the others complete.
    """
    if any(p.mode != "intraday" for p in plans):
        raise ValueError("simulate_intraday_plans: every plan must be intraday")
    results: list[list[DayRecord]] = [[] for _ in plans]
    groups: dict[tuple[str, str, tuple[str, ...]], list[int]] = {}
    for i, plan in enumerate(plans):
        groups.setdefault((plan.data, plan.underlying, plan.universe), []).append(i)
    tasks: list[SweepDayTask] = []
    total = 0
    for (data, underlying, universe), members in groups.items():
        runs = tuple((plans[i].code, plans[i].costs) for i in members)
        by_day: dict[date, list[tuple[int, int]]] = {}
        for run, i in enumerate(members):
            for index, day in plans[i].indexed:
                by_day.setdefault(day, []).append((run, index))
        days = [(d, tuple(by_day[d])) for d in sorted(by_day)]
        total += sum(len(m) for _, m in days)
        chunks = _shrinking_chunks(days, workers)
        # fewer chunks of days than workers (a short window): share each chunk's runs out too
        split = max(1, min(len(runs), math.ceil(workers / len(chunks)))) if chunks else 1
        for chunk in chunks:
            for part in range(split):
                share = [
                    (d, tuple(m for m in members if m[0] % split == part)) for d, members in chunk
                ]
                share = [(d, members) for d, members in share if members]
                if share:
                    tasks.append(SweepDayTask(data, underlying, runs, tuple(share), universe))

    def collect(task: SweepDayTask, done: list[tuple[int, DayRecord]]) -> None:
        members = groups[(task.data, task.underlying, task.universe)]
        for run, record in done:
            results[members[run]].append(record)
        bar.update(len(done))

    where = place(executor, tasks=len(tasks))
    bar = _progress(total, progress, desc)
    try:
        if where.pool is None:
            for task in tasks:
                collect(task, run_sweep_days(task))
            return results
        futures: dict[cf.Future[list[tuple[int, DayRecord]]], SweepDayTask] = {}
        for task in tasks:
            try:
                futures[where.pool.submit(run_sweep_days, task)] = task
            except Exception as exc:  # e.g. a pool broken by a dead worker
                collect(task, _all_failed(task, exc))
        for fut in cf.as_completed(futures):
            task = futures[fut]
            try:
                done = fut.result()
            except Exception as exc:  # the worker died: its days fail, the others complete
                done = _all_failed(task, exc)
            collect(task, done)
        return results
    finally:
        bar.close()


#: At most this many days in one task of a day-major sweep: a task's run-days are held in its
#: worker until the task returns.
MAX_CHUNK_DAYS = 32


def _shrinking_chunks(days: Sequence[T], workers: int) -> list[Sequence[T]]:
    """``days`` cut into consecutive chunks for ``workers`` taking them as they come free
    (guided scheduling): each chunk is a ``1 / (2 * workers)`` share of the days not yet handed
    out (at most :data:`MAX_CHUNK_DAYS`), so the first chunks are large -- few tasks, little
    traffic -- and the last are a single day: the worker that finishes first is never left idle
    while the other works through a large last chunk, which with equal chunks cost about half
    a chunk of idle time per sweep (a tenth of a two-worker cold sweep of 12 runs x 40 days)."""
    share = 2 * max(1, workers)
    out: list[Sequence[T]] = []
    start = 0
    while start < len(days):
        size = max(1, min(MAX_CHUNK_DAYS, math.ceil((len(days) - start) / share)))
        out.append(days[start : start + size])
        start += size
    return out


def _all_failed(task: SweepDayTask, exc: BaseException) -> list[tuple[int, DayRecord]]:
    return [(run, _failed(day, exc)) for day, members in task.days for run, _ in members]


def _with_days(base: DayTask, days: tuple[tuple[int, date], ...]) -> DayTask:
    return DayTask(base.code, base.data, base.underlying, base.costs, days, base.universe)


def _run_positional(
    cls: type[Strategy],
    config: StrategyConfig,
    data: str,
    underlying: str,
    costs: Costs,
    days: Sequence[tuple[int, date]],
    progress: bool | Callable[[int, int], None],
    desc: str,
    missing: Sequence[tuple[date, str]] = (),
    universe: Sequence[str] = (),
) -> list[DayRecord]:
    """Days in order in one simulator; a trading day without data while positions are open
    is a gap day (settlements due that day, the rest held at their marks). A run of several
    underlyings (``universe``) simulates every day on which at least one of them has data;
    an underlying without data that day has its own gap day inside it
    (:mod:`workbench.engine.universe`)."""
    sim = Simulator(cls(config), costs, mode="positional")
    records = []
    gaps = sorted(missing)
    g = 0
    bar = _progress(len(days), progress, desc)
    ahead: Any
    if len(universe) > 1:
        store = open_store(data)
        wanted = {day for _, day in days}
        ahead = {
            name: _read_ahead(data, name, [d for d in store.days(name) if d in wanted])
            for name in universe
        }
        ahead = {name: a for name, a in ahead.items() if a is not None}
    else:
        ahead = _read_ahead(data, underlying, [day for _, day in days])
    try:
        with fewer_collections():
            for index, day in days:
                try:
                    while g < len(gaps) and gaps[g][0] < day:
                        gap = sim.run_gap_day(*gaps[g])
                        if gap is not None:
                            records.append(gap)
                        g += 1
                    market = _new_market(data, underlying, day, costs, ahead, universe)
                    records.append(sim.run_day(market, index))
                except Exception as exc:
                    raise DayFailedError(day, exc) from exc
                bar.update(1)
            for gap_day, why in gaps[g:]:
                gap = sim.run_gap_day(gap_day, why)
                if gap is not None:
                    records.append(gap)
    finally:
        bar.close()
        for reader in ahead.values() if isinstance(ahead, dict) else [ahead]:
            if reader is not None:
                reader.close()
        sim.strategy._release()  # no cycle left: the run's books go when the last reference does
    return records


def _run_days(
    store: Any, underlying: str, start: date | None, end: date | None
) -> tuple[list[date], list[tuple[date, str]]]:
    """Days to simulate (dataset days with spot data in range) and calendar days without data.

    A range with no dataset day at all is an error naming the dataset's own range. Trading days
    of the requested range without data (gaps, or days before the dataset's first day) are
    reported as skipped with their reason.
    """
    available = store.days(underlying)
    have = [d for d in available if (start is None or d >= start) and (end is None or d <= end)]
    if not have:
        covered = f"{available[0]} .. {available[-1]}" if available else "no days"
        raise ValueError(
            f"no {underlying} data between {start or 'the start'} and {end or 'the end'} in "
            f"dataset {store.path}: it covers {covered}"
        )
    lo = start or have[0]
    hi = end or have[-1]
    missing: list[tuple[date, str]] = []
    if lo is not None and hi is not None:
        try:
            from workbench.model.calendars import trading_days

            # regular sessions: a special one (Muhurat, a weekend test session) runs when the
            # dataset has it, but its absence is no gap (vendors and the synthetic market omit it)
            listed = trading_days(underlying, lo, hi, special=False)
        except (KeyError, ValueError):
            listed = []
        have_set = set(have)
        missing = [
            (d, "no data in the dataset for this trading day") for d in listed if d not in have_set
        ]
    return have, missing


def _universe_days(
    store: Any, universe: Sequence[str], start: date | None, end: date | None
) -> tuple[list[date], list[tuple[date, str]]]:
    """:func:`_run_days` of a run of several underlyings: the days on which at least one of
    them has data (the union: an underlying without data on such a day has a gap day inside
    it), and the trading days of any of their calendars on which none has."""
    have: set[date] = set()
    missing: dict[date, str] = {}
    errors = []
    for name in universe:
        try:
            days, gaps = _run_days(store, name, start, end)
        except ValueError as exc:
            errors.append(str(exc))
            continue
        have.update(days)
        for d, why in gaps:
            missing.setdefault(d, why)
    if not have:
        raise ValueError("; ".join(errors))
    return sorted(have), sorted((d, why) for d, why in missing.items() if d not in have)


def _with_missing_days(
    records: list[DayRecord], missing: Sequence[tuple[date, str]]
) -> list[DayRecord]:
    """``records`` plus a "skipped" record per calendar trading day without data, by date.

    Positions open before such a day (positional runs) are held through it at their last marks:
    the record carries the previous day's mark-to-market, unrealised PnL, open legs, Greeks and
    margin, with no fills and no cash, so that day's PnL is zero and equity reconciles.
    """
    simulated = {r.day for r in records}  # a positional run records its own gap days
    gaps = [
        DayRecord(day=d, status="skipped", reason=why) for d, why in missing if d not in simulated
    ]
    gap_ids = {id(g) for g in gaps}
    merged = sorted([*records, *gaps], key=lambda r: r.day)
    for prev, r in itertools.pairwise(merged):
        if id(r) in gap_ids:
            r.mtm, r.unrealized, r.open_legs = prev.mtm, prev.unrealized, prev.open_legs
            r.delta, r.gamma, r.vega, r.theta = prev.delta, prev.gamma, prev.vega, prev.theta
            r.margin = prev.margin
    return merged


def run_backtest(
    strategy: type[Strategy] | str,
    spec: RunSpec | None = None,
    *,
    data: str | Path | None = None,
    start: date | str | None = None,
    end: date | str | None = None,
    params: Mapping[str, Any] | None = None,
    fill: FillSpec = None,
    fees: FeeSpec = None,
    executor: ExecutorLike = None,
    mode: Literal["intraday", "positional"] | None = None,
    margin: MarginSpec = None,
    capital: float | None = None,
    progress: bool | Callable[[int, int], None] = True,
    rate: float | None = None,
    constraints: Any = None,
    series: Sequence[str | Path] | None = None,
) -> BacktestResult:
    """Run ``strategy`` on the dataset at ``data`` from ``start`` to ``end`` (inclusive).

    Parameters
    ----------
    strategy
        A :class:`Strategy` subclass (defined anywhere: a package, a script, a notebook cell),
        ``"module:ClassName"`` or ``"path/to/file.py:ClassName"``.
    spec
        A :class:`~workbench.engine.spec.RunSpec` (data, dates, models, capital, rate, mode);
        the keyword arguments below that are given override its fields.
    data
        Dataset folder (canonical layout).
    start, end
        Inclusive dates (``date`` or ``YYYY-MM-DD``); default: the dataset's range.
    params
        Parameters validated into the strategy's ``Config`` (:class:`ConfigError` names the
        parameter at fault).
    fill
        Fill models: a ``FillPolicy``, a model (both sides), a spec (``"orats"``, ``"mid"``), or
        ``"ENTRY/EXIT"`` specs (``"mid/cross"``). Default: ORATS slippage on both sides.
    fees
        A fee model or spec (``"india"``, ``"per-contract:0.65,min=1"``). Default by venue:
        :func:`default_fees`.
    executor
        ``None`` (a local process pool; serial below :data:`MIN_POOL_DAYS` days), ``"process"``
        (always the pool), ``"serial"``, any ``concurrent.futures.Executor`` or a Dask
        ``Client`` (:mod:`workbench.engine.executors`). Intraday only: positional runs are serial.
    mode
        ``"intraday"`` or ``"positional"``; default: the strategy's ``mode``.
    margin
        Margin model or spec for the daily ``margin`` column (default: none).
    capital
        The account's starting capital (money): the base of return metrics, of
        ``bar.account`` (:mod:`workbench.engine.account`) and of sizing from equity; recorded
        in the manifest, and in the run id whenever the run used it (constraints or sizing on
        equity, or a strategy that read the account).
    progress
        Show a tqdm progress bar; or a callable ``report(days_done, days_in_all)``, called with
        ``(0, n)`` first and then as days finish (a service's progress and cancellation: an
        exception it raises stops the run and propagates).
    rate
        Risk-free rate (continuous, per year) for implied vol and Greeks (default 0).
    constraints
        Portfolio constraints checked before every opening fill: a
        :class:`~workbench.engine.constraints.Constraints`, a mapping of its fields or a TOML
        file (default: none).
    series
        Extra datasets whose series (VIX, INDIAVIX, an index) the strategy reads with
        ``bar.series(name)``, searched after ``data`` (:mod:`workbench.engine.market_series`);
        recorded in the manifest (``series``) and part of the run id.
    """
    run_spec = RunSpec.build(
        spec, data=data, start=start, end=end, fill=fill, fees=fees, margin=margin,
        capital=capital, rate=rate, mode=mode, constraints=constraints, series=series,
    )  # fmt: skip
    plan = plan_run(strategy, run_spec, params=params)
    for message in plan.warnings:
        warnings.warn(message, UserWarning, stacklevel=2)
    desc = f"{plan.cls.strategy_name()} {plan.run_id[:8]}"
    if plan.mode == "intraday":
        base = DayTask(plan.code, plan.data, plan.underlying, plan.costs, (), plan.universe)
        records = _run_intraday(base, plan.indexed, executor, progress, desc)
    else:
        records = _run_positional(
            plan.cls, plan.config, plan.data, plan.underlying, plan.costs, plan.indexed,
            progress, desc, plan.missing, plan.universe,
        )  # fmt: skip
    with paused_collections():  # no cycles to find among the rows being converted
        return assemble(plan, records)


@dataclass(frozen=True)
class RunPlan:
    """Everything :func:`run_backtest` resolves before simulating a day (see :func:`plan_run`):
    the strategy and its validated config, the models, the days, the run's identity."""

    cls: type[Strategy]
    ref: str
    config: StrategyConfig
    mode: str
    capital: float | None
    data: str
    underlying: str
    costs: Costs
    indexed: list[tuple[int, date]]
    missing: list[tuple[date, str]]
    identity: dict[str, Any]
    run_id: str
    catalog: Any
    warnings: tuple[str, ...]
    code_info: dict[str, Any]
    #: the strategy class and its config, shipped by value to workers
    code: Portable[tuple[type[Strategy], StrategyConfig]]
    #: the dataset files' check against its catalog (``MarketStore.check_files``): manifest
    verification: dict[str, Any] | None = None
    #: a run of several underlyings (``Config.underlyings``), ``underlying`` first; ``()`` for one
    universe: tuple[str, ...] = ()
    #: the extra series datasets (manifest ``series``: path, name, content version, series)
    series: tuple[dict[str, Any], ...] = ()

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        """Pickles with the standard :mod:`pickle` too (a sweep's workers assemble runs): the
        strategy class and its config travel by value inside ``code`` (a researcher's module
        need not be importable where the plan lands); ``cls`` and ``config`` are taken back
        from it."""
        skip = ("cls", "config")
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip}
        return (_restore_plan, (values,))


def _restore_plan(values: dict[str, Any]) -> RunPlan:
    cls, config = values["code"].value
    return RunPlan(cls, config=config, **values)


def plan_run(
    strategy: type[Strategy] | str,
    spec: RunSpec | None = None,
    *,
    params: Mapping[str, Any] | None = None,
    **options: Any,
) -> RunPlan:
    """Validate a run's inputs and resolve its days and identity (no day is simulated):
    :func:`run_backtest` is :func:`assemble` of the plan and its simulated days. ``options``
    are :class:`RunSpec` fields overriding ``spec``'s. Errors name the parameter at fault."""
    spec = RunSpec.build(spec, **options)
    cls = resolve_strategy(strategy)
    config = build_config(cls.Config, None if params is None else dict(params))
    run_mode = spec.mode or cls.mode
    if run_mode not in ("intraday", "positional"):
        raise ValueError(f"mode must be 'intraday' or 'positional', got {run_mode!r}")
    start_d, end_d, capital = spec.start, spec.end, spec.capital
    fill, fees, margin, rate = spec.fill, spec.fees, spec.margin, spec.rate
    data_path = str(spec.data)
    store = open_store(data_path)
    catalog = store.catalog
    # an official settlement series (SPX.SETTLEMENT) is data for settlement, not a tradable
    underlyings = [u for u in store.underlyings() if settled_underlying(u) is None]
    universe = _check_universe(config, underlyings, catalog)
    underlying = config.underlying.strip().upper() if config.underlying else None
    if universe:
        underlying = universe[0]
    elif underlying is None:
        if len(underlyings) != 1:
            raise ValueError(
                f"parameter 'underlying': dataset {catalog.name!r} holds {', '.join(underlyings)}; "
                "name the one to trade"
            )
        underlying = underlyings[0]
    elif underlying not in underlyings:
        raise ValueError(
            f"parameter 'underlying': {underlying!r} is not in dataset {catalog.name!r} "
            f"(it holds: {', '.join(underlyings)})"
        )
    summary = catalog.underlyings.get(underlying)
    venue = summary.venue if summary is not None else catalog.venue
    constraints = spec.constraints
    extras = tuple(str(p) for p in spec.series if str(p) != data_path)
    try:
        from workbench.engine.market_series import describe_datasets

        series_entry = describe_datasets(data_path, extras)
    except ValueError as exc:  # a dataset error: name the option
        raise ConfigError(f"series: {exc}") from None
    costs = Costs(
        fills=resolve_fills(fill),
        fees=resolve_fees(fees, venue),
        margin=resolve_margin(margin),
        rate=float(rate),
        capital=capital,
        constraints=constraints,
        series=extras,
    )
    check_account_inputs(cls, config, run_mode, costs)
    run_warnings = []
    if run_mode == "intraday" and str(catalog.bar_interval) == "1d":
        run_warnings.append(
            f"intraday mode on end-of-day data (dataset {catalog.name!r}, bar interval 1d): "
            "each day has one tick, so every position opened is force-closed at the tick it "
            "opened; run a multi-day strategy in positional mode"
        )
    if universe:
        days, missing = _universe_days(store, universe, start_d, end_d)
        verification = _check_files_all(store, universe, days)
    else:
        days, missing = _run_days(store, underlying, start_d, end_d)
        verification = store.check_files(underlying, days)
    if verification["status"] == "failed":
        problems = verification["problems"]
        run_warnings.append(
            f"dataset {catalog.name!r} fails verification: {len(problems)} file(s) differ from "
            f"its catalog (first: {problems[0]}); run `workbench data verify {data_path}`"
        )
    indexed = list(enumerate(days))
    ref = strategy_ref(cls)
    code_info = code_identity(cls)
    identity = {
        "engine": ENGINE_VERSION,
        "strategy": ref,
        "strategy_version": cls.version,
        "code": code_info["sha256"],
        "config_hash": config.config_hash(),
        "dataset": catalog.content_version,
        "underlying": underlying,
        **({"underlyings": list(universe)} if universe else {}),
        "start": (start_d or (days[0] if days else None)),
        "end": (end_d or (days[-1] if days else None)),
        "mode": run_mode,
        "fill": costs.fills.describe(),
        "fees": costs.fees.describe(),
        "margin": None if costs.margin is None else costs.margin.describe(),
        "rate": costs.rate,
    }
    # capital and constraints can change the fills (sizing from equity, limits): part of the
    # run's identity when they can (runs that never use them keep their ids); a strategy that
    # reads the account itself adds the capital when the run is assembled (see assemble)
    sizing = getattr(config, "sizing", None)
    if capital is not None and (
        (constraints is not None and constraints.needs_equity)
        or bool(getattr(sizing, "uses_equity", False))
    ):
        identity["capital"] = capital
    if constraints is not None:
        identity["constraints"] = constraints.describe()
    if series_entry:  # extra series can change what the strategy decides: part of the identity
        identity["series"] = [[e["path"], e["content_version"]] for e in series_entry]
    return RunPlan(
        cls=cls,
        ref=ref,
        config=config,
        mode=run_mode,
        capital=capital,
        data=data_path,
        underlying=underlying,
        costs=costs,
        indexed=indexed,
        missing=missing,
        identity=identity,
        run_id=run_id(identity),
        catalog=catalog,
        warnings=tuple(run_warnings),
        code_info=code_info,
        code=Portable((cls, config)),
        verification=verification,
        universe=universe,
        series=tuple(series_entry),
    )


def check_account_inputs(
    cls: type[Strategy], config: StrategyConfig, mode: str, costs: Costs
) -> None:
    """Before the first day: what sizing from equity and the constraints need from the run
    (a declared ``capital``, a ``margin`` model, positional mode for Kelly from the
    strategy's own trades), each missing one a :class:`ConfigError` naming it."""
    from workbench.engine.account import NO_CAPITAL
    from workbench.engine.errors import ConfigError

    c = costs.constraints
    if c is not None:
        if c.needs_equity and costs.capital is None:
            names = ", ".join(
                n
                for n in ("max_risk_per_trade", "max_portfolio_heat", "max_margin_utilisation")
                if getattr(c, n) is not None
            )
            raise ConfigError(f"constraints {names} are fractions of equity: {NO_CAPITAL}")
        if c.max_margin_utilisation is not None and costs.margin is None:
            raise ConfigError(
                "constraint max_margin_utilisation needs a margin model: give margin= "
                "(e.g. 'defined-risk', 'reg-t', 'span'; workbench run --margin)"
            )
    sizing = getattr(config, "sizing", None)
    check = getattr(sizing, "check_run", None)
    if callable(check):
        check(mode=mode, capital=costs.capital, margin=costs.margin)


def assemble(plan: RunPlan, records: list[DayRecord]) -> BacktestResult:
    """The :class:`BacktestResult` of ``plan`` from its simulated days' records (any order)."""
    cls, config, catalog, costs = plan.cls, plan.config, plan.catalog, plan.costs
    identity, rid, run_mode, capital = plan.identity, plan.run_id, plan.mode, plan.capital
    if capital is not None and "capital" not in identity and any(r.account_used for r in records):
        # the strategy read the account: the capital shaped its decisions
        identity = {**identity, "capital": capital}
        rid = run_id(identity)
    underlying, data_path, missing, ref = plan.underlying, plan.data, plan.missing, plan.ref
    run_warnings = list(plan.warnings)
    records = sorted(records, key=lambda r: r.day)
    records = _with_missing_days(records, missing)
    rows = [row for r in records for row in r.rows]
    table = build_table(rid, rows)
    daily = daily_frame(records)
    days_table = days_frame(records)
    tradebook = table.to_pandas()
    metrics = headline(daily, tradebook, mode=run_mode, capital=capital)
    failed = [r for r in records if r.status == "failed"]
    metrics["days_failed"] = len(failed)
    metrics["warnings"] = sum(len(r.warnings) for r in records)
    metrics["refused_fills"] = sum(len(r.refusals) for r in records)
    by_constraint: dict[str, int] = {}
    for r in records:
        for name, n in r.constraint_refusals.items():
            by_constraint[name] = by_constraint.get(name, 0) + n
    metrics["refused_by_constraint"] = dict(sorted(by_constraint.items()))
    manifest = {
        "run_id": rid,
        "strategy": {
            "name": cls.strategy_name(),
            "ref": ref,
            "version": cls.version,
            "mode": run_mode,
            "code": plan.code_info,
        },
        "params": config.model_dump(mode="json"),
        "params_hash": config.config_hash(),
        "dataset": {
            "name": catalog.name,
            "path": data_path,
            "content_version": catalog.content_version,
            "source": catalog.source,
            "bar_interval": catalog.bar_interval,
            "timezone": catalog.timezone,
            "verification": plan.verification,
        },
        "underlying": underlying,
        "underlyings": list(plan.universe) if plan.universe else [underlying],
        "currency": _currency(catalog, underlying),
        "start": identity["start"],
        "end": identity["end"],
        "days": len(records),
        "models": {
            "fill": costs.fills.describe(),
            "fees": costs.fees.describe(),
            "margin": identity["margin"],
            "rate": costs.rate,
        },
        "capital": capital,
        "constraints": None if costs.constraints is None else costs.constraints.describe(),
        "series": list(plan.series),
        "engine_version": ENGINE_VERSION,
        "package_version": package_version(),
        "git": git_commit(),
        "dependencies": dependency_versions(),
        "seeds": _seeds(catalog, config),
        "run_warnings": run_warnings,
    }
    if failed:
        print(
            f"run_backtest: {len(failed)} day(s) failed: "
            + ", ".join(f"{r.day} ({r.reason})" for r in failed[:5]),
            file=sys.stderr,
        )
    excursions = None
    if run_mode == "intraday":
        excursions = pd.DataFrame(
            [row for r in records for row in r.excursions], columns=list(EXCURSION_COLUMNS)
        )
    orders = orders_frame([row for r in records for row in r.orders])
    entries = entries_frame([row for r in records for row in r.entries])
    result = BacktestResult(
        table, daily, days_table, metrics, manifest,
        excursions=excursions, orders=orders, entries=entries,
    )  # fmt: skip
    result.keep_frame(tradebook)  # converted once: the metrics read the same frame
    return result


def _check_universe(config: StrategyConfig, held: Sequence[str], catalog: Any) -> tuple[str, ...]:
    """The run's universe (``Config.underlyings``; ``()`` for a one-underlying run), each
    checked to be in the dataset, all in one currency. Mixed currencies are refused: the
    engine keeps one cash account in one currency and converts nothing (an FX series is not
    supported inside a run; combine runs of different currencies in a basket with an FX
    series instead)."""
    names = config.underlyings
    if names is None:
        return ()
    absent = [n for n in names if n not in held]
    if absent:
        raise ValueError(
            f"parameter 'underlyings': {', '.join(repr(n) for n in absent)} not in dataset "
            f"{catalog.name!r} (it holds: {', '.join(held)})"
        )
    money = {n: _currency(catalog, n) for n in names}
    known = {c for c in money.values() if c}
    if len(known) > 1 or (known and len(known) < len(set(money.values()))):
        listed = ", ".join(f"{n} ({c or 'unknown currency'})" for n, c in money.items())
        raise ValueError(
            f"parameter 'underlyings': one run keeps one cash account in one currency, and "
            f"these are in different currencies: {listed}; run each currency separately "
            "(FX conversion inside a run is not supported)"
        )
    return tuple(names)


def _check_files_all(store: Any, universe: Sequence[str], days: Sequence[date]) -> dict[str, Any]:
    """:meth:`MarketStore.check_files` of every underlying of the run, as one verdict."""
    reports = [store.check_files(n, list(days)) for n in universe]
    problems = [p for r in reports for p in r.get("problems", [])]
    statuses = [r["status"] for r in reports]
    status = "failed" if "failed" in statuses else statuses[0]
    return {"checked": sum(r["checked"] for r in reports), "status": status, "problems": problems}


def _currency(catalog: Any, underlying: str) -> str:
    """The run's money: the currency of the underlying's spec in the catalog (else the
    registry's; "" when neither knows it)."""
    spec = catalog.underlyings.get(underlying)
    if spec is not None and spec.currency:
        return str(spec.currency)
    try:
        from workbench.model.instruments import get_instrument

        return str(get_instrument(underlying).currency)
    except KeyError:
        return ""


def _seeds(catalog: Any, config: StrategyConfig) -> dict[str, Any]:
    out: dict[str, Any] = {}
    source = str(catalog.source)
    if "seed" in source:
        out["dataset_source"] = source
    for name, value in config.model_dump().items():
        if "seed" in name:
            out[f"params.{name}"] = value
    # resting limit orders at the touch draw u = sha256(config hash|order id|revision|tick)
    out["orders_touch"] = f"sha256:{config.config_hash()}"
    return out
