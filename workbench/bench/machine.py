"""A fixed pure-Python workload, timed beside a benchmark's figures.

The engine's per-day work is interpreter-bound (dict lookups, attribute access, small float
arithmetic), so its wall times move with the machine's single-core speed: the same commit's
``bench eod`` scenarios took 1.2-1.9x as long on one two-core machine of this project as on the
one before it (the shipped put credit spread warm: 0.87-0.90 s there, 1.04-1.57 s here). A
benchmark reports :func:`reference_s` (best of three) so that figures from different machines,
or from one machine under different load, can be put side by side: divide by it.
"""

from __future__ import annotations

import time

#: Iterations of the reference loop (0.21-0.22 s on the machine of 2026-12-04).
ITERATIONS = 1_000_000


def _workload(n: int) -> float:
    book: dict[str, float] = {}
    total = 0.0
    for i in range(n):
        key = "k" + str(i & 255)
        price = book.get(key, 1.0) * 1.0001 + (i & 7) * 0.01
        book[key] = price
        total += price if price > 1.5 else -price
    return total


def reference_s(repeats: int = 3, iterations: int = ITERATIONS) -> float:
    """Seconds for the fixed workload: the best of ``repeats`` runs."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        _workload(iterations)
        best = min(best, time.perf_counter() - t0)
    return best
