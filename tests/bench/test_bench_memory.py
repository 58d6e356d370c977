"""The benchmarks' peak memory is the measured process's own, not its parent's."""

from __future__ import annotations

import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from workbench.bench.memory import peak_rss_mb

HELD_MB = 400


def _child_peak() -> float:
    from workbench.bench.memory import peak_rss_mb

    return peak_rss_mb()


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_a_spawned_scenario_does_not_report_its_parents_memory() -> None:
    """Every benchmark runs its scenarios in spawned interpreters. Linux carries the forked
    image's resident set into ``ru_maxrss`` across ``exec``, so a child of a parent holding
    400 MB reported at least 400 MB (bench eod reported ~440 MB for a 340 MB scenario when
    its parent had just generated the dataset)."""
    held = bytearray(HELD_MB * 1024 * 1024)
    held[::4096] = b"\x01" * len(held[::4096])  # resident, not just reserved
    assert peak_rss_mb() >= HELD_MB
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        child = pool.submit(_child_peak).result()
    assert 1 < child < HELD_MB / 2, child
    del held


def test_the_status_file_is_read_in_kilobytes_and_missing_falls_back(tmp_path: Path) -> None:
    status = tmp_path / "status"
    status.write_text("Name:\tpython\nVmPeak:\t 999999 kB\nVmHWM:\t  204800 kB\nVmRSS:\t 1 kB\n")
    assert peak_rss_mb(str(status)) == 200.0
    fallback = peak_rss_mb(str(tmp_path / "absent"))
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert fallback == (rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024)
