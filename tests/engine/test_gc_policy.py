"""The collector during positional runs (workbench.engine.gc_policy)."""

from __future__ import annotations

import collections
import gc
import threading
from datetime import time

import pytest

from workbench.engine.gc_policy import fewer_collections, paused_collections


@pytest.fixture(autouse=True)
def _nothing_frozen():  # type: ignore[no-untyped-def]
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_frozen_inside_and_unfrozen_after_even_on_error() -> None:
    threshold = gc.get_threshold()
    with fewer_collections():
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == threshold  # the run's own garbage goes as before
    assert gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("boom")
    assert gc.get_freeze_count() == 0


def _overlap(manager, probe):  # type: ignore[no-untyped-def]
    """Two threads inside ``manager`` at once, the first to come in leaving first: what
    ``probe()`` says in the second after the first has left."""
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def first() -> None:
        with manager():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with manager():
            second_in.set()
            first_out.wait(5)
            seen["after first left"] = probe()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return seen


def test_overlapping_runs_unfreeze_once_the_last_leaves() -> None:
    """Two runs in threads, the first to start finishing first: objects stay frozen until the
    second ends."""
    seen = _overlap(fewer_collections, gc.get_freeze_count)
    assert seen["after first left"] > 0
    assert gc.get_freeze_count() == 0


def test_a_process_that_froze_objects_itself_is_left_alone() -> None:
    """Neither frozen again on entry nor unfrozen on exit. The count is compared within a margin:
    a frozen object freed meanwhile (by another thread, say) leaves the frozen set, so it can
    drop by a few; 10,000 objects made after the process froze would join it on a second
    freeze, and an unfreeze empties it."""
    gc.freeze()
    mine = gc.get_freeze_count()
    made_after = [[i] for i in range(10_000)]
    with fewer_collections():
        inside = gc.get_freeze_count()
    after = gc.get_freeze_count()
    assert mine > 10_000
    for count in (inside, after):
        assert mine - 1_000 < count < mine + 1_000
    assert len(made_after) == 10_000


def test_a_positional_run_freezes_and_unfreezes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from workbench.data.synth import generate
    from workbench.engine.runner import run_backtest
    from workbench.strategies.every_entry import EveryEntryPutSpread

    data = tmp_path / "spx"
    generate("spx-eod", data, seed=5, start="2019-03-01", days=8, progress=False, workers=1)
    seen = []

    class Spy(EveryEntryPutSpread):
        def on_day_end(self, day):  # type: ignore[no-untyped-def]
            seen.append(gc.get_freeze_count())

    result = run_backtest(Spy, data=data, params={"underlying": "SPXW"}, progress=False)
    assert len(result.daily) == 8
    assert seen and min(seen) > 0
    assert gc.get_freeze_count() == 0


def _cyclic_garbage(run) -> tuple[list[str], list]:  # type: ignore[no-untyped-def]
    """The types of the objects a second ``run()`` leaves for the collector (reference
    cycles), with automatic collections off while it runs, less PyArrow's own (a Parquet
    file's metadata and schema refer to each other); and what that run returned. The first
    run is the process's first use: modules imported and kernels compiled on the way (in a
    fresh test worker) make cycles of their own."""
    run()
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        out = list(run())
        gc.collect()
        found = [
            f"{type(o).__module__}.{type(o).__qualname__}"
            for o in gc.garbage
            if type(o).__module__.split(".")[0] != "pyarrow"
        ]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    return found, out


def _scripted_params():  # type: ignore[no-untyped-def]
    return {
        "orders": [
            {
                "at": time(9, 16),
                "legs": [
                    {"strike": 21500, "right": "C", "side": "SELL"},
                    {"strike": 21500, "right": "P", "side": "SELL"},
                ],
            }
        ],
        "exit_at": time(9, 19),
    }


def test_a_positional_run_leaves_no_reference_cycles(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A finished run's simulator, books and days are freed when the last reference goes (the
    strategy lets go of its simulator), not by a full collection walking all of them; nor
    does a day make cyclic garbage (exits, settlements, marks on an every-entry study)."""
    from workbench.data.synth import generate
    from workbench.engine.runner import _run_positional, plan_run
    from workbench.engine.spec import RunSpec
    from workbench.strategies.every_entry import EveryEntryIronCondor

    data = tmp_path / "spx"
    generate("spx-eod", data, seed=5, start="2019-03-01", days=12, progress=False, workers=1)
    params = {"underlying": "SPXW", "profit_target_pct": 0.3}
    plan = plan_run(EveryEntryIronCondor, RunSpec.build(data=data), params=params)

    def run() -> list:  # type: ignore[type-arg]
        return _run_positional(
            plan.cls, plan.config, plan.data, plan.underlying, plan.costs, plan.indexed,
            False, "", plan.missing, plan.universe,
        )  # fmt: skip

    found, records = _cyclic_garbage(run)
    actions = {row[12] for r in records for row in r.rows}
    assert actions == {"open", "close", "settle"}  # it traded, exited and settled
    assert found == [], sorted(collections.Counter(found).items())


def test_intraday_days_leave_no_reference_cycles(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Each intraday day's simulator is freed with the day (here: a day that trades and one
    whose strategy fails)."""
    from engine_builders import D1, D3, tiny_nifty
    from engine_strategies import Scripted

    from workbench.engine.runner import DayTask, plan_run, run_intraday_days
    from workbench.engine.spec import RunSpec

    data = tiny_nifty(tmp_path / "tiny")
    plan = plan_run(Scripted, RunSpec.build(data=data, start=D1, end=D3), params=_scripted_params())
    task = DayTask(plan.code, plan.data, plan.underlying, plan.costs, plan.indexed, ())
    found, records = _cyclic_garbage(lambda: run_intraday_days(task))
    assert sum(len(r.rows) for r in records) > 0
    assert found == [], sorted(collections.Counter(found).items())


def test_collections_paused_inside_and_on_again_after_even_on_error() -> None:
    assert gc.isenabled()
    with paused_collections():
        assert not gc.isenabled()
        with paused_collections():  # nested: still off when the inner one leaves
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), paused_collections():
        raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()  # a process that turned them off keeps them off
    try:
        with paused_collections():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_sweep_days_leave_no_reference_cycles(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A sweep worker's days (two runs a day, day-major) free each simulator with its day."""
    from engine_builders import D1, D3, tiny_nifty
    from engine_strategies import Scripted

    from workbench.engine.runner import SweepDayTask, plan_run, run_sweep_days
    from workbench.engine.spec import RunSpec

    data = tiny_nifty(tmp_path / "tiny")
    plan = plan_run(Scripted, RunSpec.build(data=data, start=D1, end=D3), params=_scripted_params())
    runs = ((plan.code, plan.costs), (plan.code, plan.costs))
    days = tuple((day, ((0, index), (1, index))) for index, day in plan.indexed)
    task = SweepDayTask(plan.data, plan.underlying, runs, days, ())
    found, records = _cyclic_garbage(lambda: run_sweep_days(task))
    assert sum(len(r.rows) for _, r in records) > 0
    assert found == [], sorted(collections.Counter(found).items())


def test_a_run_per_underlying_leaves_no_reference_cycles(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The rules run per underlying let go of their views of the simulator too."""
    from workbench.data.synth import generate
    from workbench.engine.runner import _run_positional, plan_run
    from workbench.engine.spec import RunSpec
    from workbench.strategies.universe import PutCreditSpreadEach

    data = tmp_path / "etf"
    generate("us-etf-eod", data, seed=5, start="2019-01-01", days=30, progress=False, workers=1)
    params = {"underlyings": ["SPY", "QQQ"], "scan": {"right": "P", "min_credit_pct": 0.10}}
    plan = plan_run(PutCreditSpreadEach, RunSpec.build(data=data), params=params)

    def run() -> list:  # type: ignore[type-arg]
        return _run_positional(
            plan.cls, plan.config, plan.data, plan.underlying, plan.costs, plan.indexed,
            False, "", plan.missing, plan.universe,
        )  # fmt: skip

    found, records = _cyclic_garbage(run)
    assert {row[6] for r in records for row in r.rows} == {"SPY", "QQQ"}  # both traded
    assert found == [], sorted(collections.Counter(found).items())


def test_a_result_is_assembled_with_collections_paused(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from engine_builders import D1, tiny_nifty
    from engine_strategies import Scripted

    import workbench.engine.runner as runner

    seen: list[bool] = []
    assemble = runner.assemble

    def spy(plan, records):  # type: ignore[no-untyped-def]
        seen.append(gc.isenabled())
        return assemble(plan, records)

    monkeypatch.setattr(runner, "assemble", spy)
    data = tiny_nifty(tmp_path / "tiny")
    result = runner.run_backtest(
        Scripted, data=data, start=D1, end=D1, params=_scripted_params(), executor="serial",
        progress=False,
    )  # fmt: skip
    assert len(result.tradebook) > 0
    assert seen == [False] and gc.isenabled()


def test_overlapping_pauses_end_with_the_last() -> None:
    """Two threads inside at once, the first to come in leaving first: collections stay off
    until the second leaves, then are on again."""
    seen = _overlap(paused_collections, gc.isenabled)
    assert seen == {"after first left": False}
    assert gc.isenabled()
