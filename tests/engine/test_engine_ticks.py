"""``align``: what a cached tick series keeps alive."""

from __future__ import annotations

import numpy as np

from workbench.engine.ticks import align


def test_aligned_series_do_not_keep_the_whole_read_alive() -> None:
    """The engine's reads return one array per column for several instruments; an aligned
    series (kept in the process LRU) must hold copies of its own rows, not views that pin the
    whole read in memory."""
    n_rows = 10 * 375
    names = ("c", "b", "a", "v", "oi")
    # every column float64, as the arrays a cached series keeps are: a view of one could be
    # kept as it is, without a copy
    read = {k: np.arange(n_rows, dtype=np.float64) + i for i, k in enumerate(names)}
    rows = slice(375, 750)  # the second instrument of the read
    clock = np.arange(375, dtype=np.int64) * 60_000_000_000
    got = align(
        clock.copy(),
        read["c"][rows],
        clock,
        bid=read["b"][rows],
        ask=read["a"][rows],
        volume=read["v"][rows],
        oi=read["oi"][rows],
    )
    for name in ("last", "bid", "ask", "volume", "oi"):
        kept = getattr(got, name)
        assert len(kept) == 375, name
        assert not any(np.shares_memory(kept, a) for a in read.values()), name
    assert got.last.tolist() == read["c"][rows].tolist()
    assert got.bid.tolist() == read["b"][rows].tolist()
    assert got.close == read["c"][rows].tolist()
