"""The collector's threshold during positional runs (workbench.engine.gc_policy)."""

from __future__ import annotations

import gc
import threading

import pytest

from workbench.engine.gc_policy import RUN_THRESHOLD, fewer_collections


@pytest.fixture(autouse=True)
def _default_threshold():  # type: ignore[no-untyped-def]
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*saved)


def test_raised_inside_and_restored_after_even_on_error() -> None:
    with fewer_collections():
        assert gc.get_threshold() == (RUN_THRESHOLD, 10, 10)
    assert gc.get_threshold() == (700, 10, 10)
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("boom")
    assert gc.get_threshold() == (700, 10, 10)


def test_overlapping_runs_restore_once_the_last_leaves() -> None:
    """Two runs in threads, the first to start finishing first: the threshold stays raised
    until the second ends, then comes back to the process's own."""
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, tuple[int, int, int]] = {}

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
            seen["after first left"] = gc.get_threshold()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen["after first left"] == (RUN_THRESHOLD, 10, 10)
    assert gc.get_threshold() == (700, 10, 10)


def test_a_higher_threshold_or_a_disabled_collector_is_left_alone() -> None:
    gc.set_threshold(50_000, 10, 10)
    with fewer_collections():
        assert gc.get_threshold()[0] == 50_000
    gc.set_threshold(0, 10, 10)
    with fewer_collections():
        assert gc.get_threshold()[0] == 0
    assert gc.get_threshold() == (0, 10, 10)


def test_a_positional_run_restores_the_threshold(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from workbench.data.synth import generate
    from workbench.engine.runner import run_backtest
    from workbench.strategies.every_entry import EveryEntryPutSpread

    data = tmp_path / "spx"
    generate("spx-eod", data, seed=5, start="2019-03-01", days=8, progress=False, workers=1)
    seen = []

    class Spy(EveryEntryPutSpread):
        def on_day_end(self, day):  # type: ignore[no-untyped-def]
            seen.append(gc.get_threshold()[0])

    result = run_backtest(Spy, data=data, params={"underlying": "SPXW"}, progress=False)
    assert len(result.daily) == 8
    assert seen and set(seen) == {RUN_THRESHOLD}
    assert gc.get_threshold() == (700, 10, 10)
