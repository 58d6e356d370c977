"""Cheaper garbage collections while a positional run allocates (issue 13).

A positional run over years of end-of-day chains allocates hundreds of thousands of small
objects (each open leg's daily series, fills, rows). Every full collection CPython makes on the
way walks every object in the process, most of them the imported libraries' (pandas, PyArrow,
Numba...), which never become garbage. :func:`fewer_collections` moves the objects alive when a
run starts to the collector's permanent generation (:func:`gc.freeze`) and back when it ends
(:func:`gc.unfreeze`), so a full collection walks what the run made. Thresholds are left as
they are, so the run's own cyclic garbage is collected as often as before (a higher
first-generation threshold was faster still but let a day's garbage pile up: peak RSS of the
5-year put credit spread 451 -> 536 MB).

Runs in threads share the setting: the first run in frees nothing, the last one out unfreezes.
A process that froze objects itself is left alone.

A finished run leaves no reference cycle behind (the strategy lets go of its simulator when the
days are done; ``tests/engine/test_gc_policy.py`` checks that a positional run makes no cyclic
garbage at all), so its books are freed as soon as nothing refers to them. Its assembly then
turns tens of thousands of fill rows into Arrow and pandas columns, and the burst of allocations
triggered a full collection that walked every one of them to find nothing: about 0.2 s of a
6 s, 5-year every-entry iron condor. :func:`paused_collections` holds collections off while a
result is assembled; the collector runs again afterwards, when the rows are gone.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_active = 0
_froze = False
_paused = 0
_was_enabled = False


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the body with the objects alive at its start frozen (see the module docstring)."""
    global _active, _froze
    with _lock:
        if _active == 0 and gc.get_freeze_count() == 0:
            gc.freeze()
            _froze = True
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0 and _froze:
                gc.unfreeze()
                _froze = False


@contextmanager
def paused_collections() -> Iterator[None]:
    """Run the body with automatic collections off (see the module docstring); they are on
    again when the last body in the process leaves, if they were on when the first came in."""
    global _paused, _was_enabled
    with _lock:
        if _paused == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _lock:
            _paused -= 1
            if _paused == 0 and _was_enabled:
                gc.enable()
