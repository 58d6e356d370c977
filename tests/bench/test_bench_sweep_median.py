"""bench sweep's headline: the median of its paired repeats."""

from __future__ import annotations

from workbench.bench.sweep import _median


def test_the_median_of_odd_and_even_counts() -> None:
    assert _median([1.45, 2.13, 1.71]) == 1.71
    assert _median([1.9, 1.5]) == 1.7
    assert _median([1.6]) == 1.6
