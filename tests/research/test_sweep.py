from __future__ import annotations

import concurrent.futures as cf
import math
from pathlib import Path

import pandas as pd
import pytest

from workbench import run_backtest
from workbench.research.sweep import RESULT_COLUMNS, expand_grid, sweep
from workbench.research.templates import TemplateRepository

STRADDLE = "workbench.strategies.short_straddle:IntradayShortStraddle"
BASE = {"exit_time": "15:15"}
GRID = {"stop_loss_pct": [0.25, 0.5], "entry": ["09:20", "10:30"]}


@pytest.fixture(scope="module")
def thread_sweep(nifty_tiny: Path) -> pd.DataFrame:
    with cf.ThreadPoolExecutor(max_workers=2) as pool:
        return sweep(STRADDLE, GRID, data=nifty_tiny, params=BASE, executor=pool, progress=False)


def test_expand_grid_order_last_key_fastest() -> None:
    combos = expand_grid({"a": [1, 2], "b": ["x", "y", "z"]})
    assert combos == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 1, "b": "z"},
        {"a": 2, "b": "x"},
        {"a": 2, "b": "y"},
        {"a": 2, "b": "z"},
    ]
    assert expand_grid({}) == [{}]


@pytest.mark.parametrize(
    ("grid", "match"),
    [
        ({"a": []}, "'a': empty"),
        ({"a": "0.25"}, "'a': expected a list"),
        ({"a": 3}, "'a': expected a list"),
        ([1, 2], "mapping"),
    ],
)
def test_expand_grid_bad_input(grid: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        expand_grid(grid)  # type: ignore[arg-type]


def test_sweep_rows_match_direct_runs(thread_sweep: pd.DataFrame, nifty_tiny: Path) -> None:
    frame = thread_sweep
    assert list(frame.columns) == ["stop_loss_pct", "entry", *RESULT_COLUMNS]
    assert frame[["stop_loss_pct", "entry"]].values.tolist() == [
        [0.25, "09:20"],
        [0.25, "10:30"],
        [0.5, "09:20"],
        [0.5, "10:30"],
    ]
    assert frame["error"].isna().all()
    # independent reference: each combination run on its own through run_backtest
    for row in frame.itertuples():
        direct = run_backtest(
            STRADDLE,
            data=nifty_tiny,
            params={**BASE, "stop_loss_pct": row.stop_loss_pct, "entry": row.entry},
            executor="serial",
            progress=False,
        )
        assert row.run_id == direct.run_id
        assert row.total_pnl == pytest.approx(direct.metrics["total_pnl"], abs=1e-9)
        assert row.trades == direct.metrics["trades"]
        assert row.days == 2
    assert frame["run_id"].nunique() == 4


def test_failing_combination_reported_others_complete(nifty_tiny: Path) -> None:
    with cf.ThreadPoolExecutor(max_workers=2) as pool:
        frame = sweep(
            STRADDLE,
            {"qty": [1, 0, 2]},
            data=nifty_tiny,
            executor=pool,
            progress=False,
        )
    assert frame["qty"].tolist() == [1, 0, 2]
    assert frame["error"].isna().tolist() == [True, False, True]
    assert "qty" in frame.loc[1, "error"]
    assert math.isnan(frame.loc[1, "total_pnl"])
    assert pd.isna(frame.loc[1, "run_id"])
    # qty 2 doubles every fill of qty 1 (same prices): PnL before fees doubles
    assert frame.loc[2, "trades"] == frame.loc[0, "trades"]


def test_template_params_are_the_base(nifty_tiny: Path, thread_sweep: pd.DataFrame) -> None:
    template = TemplateRepository().get("short-straddle")
    with cf.ThreadPoolExecutor(max_workers=1) as pool:
        frame = sweep(
            template,
            {"stop_loss_pct": [0.25]},
            data=nifty_tiny,
            executor=pool,
            progress=False,
        )
    direct = run_backtest(
        template.strategy,
        data=nifty_tiny,
        params=template.resolved_params({"stop_loss_pct": 0.25}),
        executor="serial",
        progress=False,
    )
    assert frame.loc[0, "run_id"] == direct.run_id


def test_process_pool_default_same_table(thread_sweep: pd.DataFrame, nifty_tiny: Path) -> None:
    frame = sweep(STRADDLE, GRID, data=nifty_tiny, params=BASE, workers=2, progress=False)
    pd.testing.assert_frame_equal(frame, thread_sweep)


def test_dask_executor_same_table(thread_sweep: pd.DataFrame, nifty_tiny: Path) -> None:
    distributed = pytest.importorskip("dask.distributed")
    with distributed.Client(
        processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None
    ) as client:
        frame = sweep(
            STRADDLE,
            GRID,
            data=nifty_tiny,
            params=BASE,
            executor=client.get_executor(),
            progress=False,
        )
    pd.testing.assert_frame_equal(frame, thread_sweep)


def test_bad_executor_and_strategy(nifty_tiny: Path) -> None:
    with pytest.raises(ValueError, match=r"concurrent\.futures\.Executor"):
        sweep(STRADDLE, GRID, data=nifty_tiny, executor="threads", progress=False)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="strategy must be"):
        sweep(42, GRID, data=nifty_tiny, progress=False)
    with pytest.raises(ValueError, match="workers must be >= 1"):
        sweep(STRADDLE, GRID, data=nifty_tiny, workers=0, progress=False)


def test_day_major_simulation_gives_each_run_its_own_books(tmp_path: Path) -> None:
    """simulate_intraday_plans runs several plans' days together (each day read once per
    worker); assembled, every plan must give the tradebook, daily path and metrics of its own
    run_backtest, byte for byte -- whatever the executor and however the days are chunked."""
    from workbench.data.synth import generate
    from workbench.engine.pool import close_stores, series_lru
    from workbench.engine.runner import assemble, plan_run, simulate_intraday_plans

    data = tmp_path / "nifty"
    generate("nifty-intraday", data, seed=11, start="2024-03-01", days=7, progress=False, workers=1)
    ranges = [("2024-03-01", "2024-03-12"), ("2024-03-05", "2024-03-08"), (None, None)]
    stops = [0.2, 0.35, 0.6]
    plans = [
        plan_run(STRADDLE, data=data, start=a, end=b, params={**BASE, "stop_loss_pct": k})
        for (a, b), k in zip(ranges, stops, strict=True)
    ]
    expected = []
    for (a, b), k in zip(ranges, stops, strict=True):
        series_lru().clear()
        close_stores()
        expected.append(
            run_backtest(
                STRADDLE, data=data, start=a, end=b, params={**BASE, "stop_loss_pct": k},
                executor="serial", progress=False,
            )
        )  # fmt: skip
    assert len({len(r.daily) for r in expected}) > 1  # the plans cover different days
    # 20 workers for 7 days: each chunk of days is also split by runs
    for executor, workers in (("serial", 1), ("threads", 2), ("threads", 7), ("threads", 20)):
        series_lru().clear()
        close_stores()
        if executor == "serial":
            days = simulate_intraday_plans(plans, "serial")
        else:
            with cf.ThreadPoolExecutor(max_workers=2) as pool:
                days = simulate_intraday_plans(plans, pool, workers=workers)
        for plan, records, direct in zip(plans, days, expected, strict=True):
            got = assemble(plan, records)
            assert got.run_id == direct.run_id
            assert got.tradebook_table.equals(direct.tradebook_table)
            pd.testing.assert_frame_equal(got.daily, direct.daily)
            assert got.metrics == direct.metrics


def test_a_dataset_the_parent_cannot_see_is_left_to_the_workers(tmp_path: Path) -> None:
    """The parent plans intraday runs, but a dataset missing there (a cluster whose workers
    mount it) is not an error of the parent: the task goes to a worker, whose error is kept."""
    from workbench.engine.spec import RunSpec
    from workbench.research.sweep import RunTask, run_tasks

    missing = str(tmp_path / "only-on-the-workers")
    task = RunTask.make(STRADDLE, dict(BASE), RunSpec(data=missing))
    with cf.ThreadPoolExecutor(max_workers=1) as pool:
        (record,) = run_tasks([task], pool, progress=False)
    assert record.error is not None and "only-on-the-workers" in record.error
    assert "does not exist" in record.error


class _NoAssembly(cf.ThreadPoolExecutor):
    """A pool that refuses (``refuse``) or loses (a failed future) every assembly job."""

    def __init__(self, how: str) -> None:
        super().__init__(max_workers=2)
        self.how = how
        self.assembly_jobs = 0

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def,override]
        if getattr(fn, "__name__", "") == "assemble_tasks":
            self.assembly_jobs += 1
            if self.how == "refuse":
                raise RuntimeError("cannot schedule new futures after shutdown")
            lost: cf.Future[object] = cf.Future()
            lost.set_exception(RuntimeError("A worker process died while assembling"))
            return lost
        return super().submit(fn, *args, **kwargs)


@pytest.mark.parametrize("how", ["refuse", "lose"])
def test_runs_the_workers_cannot_assemble_are_assembled_here(
    how: str, thread_sweep: pd.DataFrame, nifty_tiny: Path
) -> None:
    """Runs of a day-major sweep are assembled on the workers; a pool that refuses the job or
    loses it (a dead worker) costs nothing but time: the parent assembles them, same table."""
    with _NoAssembly(how) as pool:
        frame = sweep(STRADDLE, GRID, data=nifty_tiny, params=BASE, executor=pool, progress=False)
    assert pool.assembly_jobs > 0
    pd.testing.assert_frame_equal(frame, thread_sweep)


def test_a_run_plan_pickles_with_a_class_defined_in_a_function(nifty_tiny: Path) -> None:
    """Workers assemble runs from their plans, and executors may use the standard pickle: a
    plan must travel even when its strategy class and config cannot be imported by name (a
    notebook's, a function's, a module only the parent has), both going by value as they do
    in day tasks."""
    import pickle

    from workbench.engine.resolve import resolve_strategy
    from workbench.engine.runner import plan_run

    base = resolve_strategy(STRADDLE)

    class Local(base):  # type: ignore[misc,valid-type]
        class Config(base.Config):  # type: ignore[name-defined,misc]
            pass

    plan = plan_run(Local, data=nifty_tiny, params=BASE)
    back = pickle.loads(pickle.dumps(plan))
    assert back.cls.__name__ == "Local" and back.cls is back.code.value[0]
    assert type(back.config).__qualname__.endswith("Local.Config")
    assert back.config == back.code.value[1]
    assert back.run_id == plan.run_id and back.identity == plan.identity
    assert back.indexed == plan.indexed and back.costs == plan.costs
