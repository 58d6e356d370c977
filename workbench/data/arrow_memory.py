"""Which allocator Arrow buffers come from: the system's (``malloc``), unless the user chose.

PyArrow's default pool on Linux wheels is mimalloc, which keeps pages it has freed for reuse by
its own later allocations. The workbench's reads hand Arrow buffers (a day's record batches, a
file's columns) to NumPy and pandas, whose own memory comes from ``malloc``: memory freed in one
allocator is not reused by the other, so a positional run's peak resident set carried both
allocators' high-water marks. With the system pool, ``bench eod`` peaks 13-30 MB lower (every-entry
put spread 5 years 377 -> 348 MB, weekly iron condor 324 -> 301 MB) at the same speed (paired
warm runs within noise).

A choice already made is kept: ``ARROW_DEFAULT_MEMORY_POOL`` in the environment, or a pool
other than the wheels' defaults (mimalloc, jemalloc) set with :func:`pyarrow.set_memory_pool`
before :mod:`workbench.data.store` (every read's entry) was imported, which switches it.
"""

from __future__ import annotations

import os

import pyarrow as pa

#: PyArrow's own environment variable naming its default pool (``system``, ``jemalloc``,
#: ``mimalloc``): when set, the user's choice stands.
ENV = "ARROW_DEFAULT_MEMORY_POOL"

#: The pools a wheel uses by default; any other current pool was chosen by someone.
_BUILD_DEFAULTS = ("mimalloc", "jemalloc")


def use_system_pool() -> bool:
    """Make the system allocator PyArrow's default pool unless a choice was made (see the
    module doc). Returns whether it switched."""
    if os.environ.get(ENV):
        return False
    if pa.default_memory_pool().backend_name not in _BUILD_DEFAULTS:
        return False
    pa.set_memory_pool(pa.system_memory_pool())
    return True
