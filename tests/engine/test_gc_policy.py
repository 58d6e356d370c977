"""The collector during positional runs (workbench.engine.gc_policy)."""

from __future__ import annotations

import gc
import threading

import pytest

from workbench.engine.gc_policy import fewer_collections


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


def test_overlapping_runs_unfreeze_once_the_last_leaves() -> None:
    """Two runs in threads, the first to start finishing first: objects stay frozen until the
    second ends."""
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, int] = {}

    def first() -> None:
        with fewer_collections():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with fewer_collections():
            second_in.set()
            first_out.wait(5)
            seen["after first left"] = gc.get_freeze_count()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
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
