"""Arrow's default pool after the data layer is imported (workbench.data.arrow_memory).

Each case runs in a fresh interpreter: the pool is process-wide, and pytest's own process has
imported the store long before."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = (
    "import pyarrow as pa\n"
    "{before}\n"
    "import workbench.data.store\n"
    "print(pa.default_memory_pool().backend_name)\n"
)


def _pool_after_import(before: str = "", env: dict[str, str] | None = None) -> str:
    environ = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    environ.update(env or {})
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(before=before)],
        env=environ,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return out.stdout.strip()


def test_the_system_allocator_by_default() -> None:
    assert _pool_after_import() == "system"


@pytest.mark.parametrize("chosen", ["mimalloc", "jemalloc"])
def test_a_pool_named_in_the_environment_stands(chosen: str) -> None:
    import pyarrow as pa

    available = {"mimalloc": pa.mimalloc_memory_pool, "jemalloc": pa.jemalloc_memory_pool}
    try:
        available[chosen]()
    except NotImplementedError:
        pytest.skip(f"this pyarrow build has no {chosen}")  # the other case still runs
    assert _pool_after_import(env={"ARROW_DEFAULT_MEMORY_POOL": chosen}) == chosen


def test_switching_only_from_a_wheel_default() -> None:
    import pyarrow as pa

    from workbench.data.arrow_memory import use_system_pool

    before = pa.default_memory_pool()
    try:
        pa.set_memory_pool(pa.mimalloc_memory_pool())
        assert use_system_pool() is True
        assert pa.default_memory_pool().backend_name == "system"
        assert use_system_pool() is False  # already the system's: nothing to do
    finally:
        pa.set_memory_pool(before)
