"""Shared test configuration.

Real-data tests are marked ``realdata`` and read ``$WORKBENCH_REAL_DATA`` (the folder of
``../shared/data/real``). Without the variable they skip with a visible reason. ``.ci/run`` sets
``WORKBENCH_REQUIRE_REAL_DATA=1`` when the folder exists; then a skipped real-data test fails
the session instead of passing silently.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# No test may depend on how busy the machine is: hypothesis' per-example deadline and its
# "too slow" health check are wall-clock assertions, so they are off for the whole suite.
settings.register_profile(
    "workbench",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors],
)
settings.load_profile("workbench")

# Runs the tests make through the command line are recorded in a run repository: in a
# throw-away reports folder per test process, never in the checkout's reports/ (a test that
# cares passes --reports or sets the variable itself).
os.environ.setdefault("WORKBENCH_REPORTS", tempfile.mkdtemp(prefix="workbench-test-reports-"))
# The end-of-day column cache (workbench.data.eod_cache) of the datasets tests make: per test
# process, never the user's ~/.cache.
os.environ.setdefault("WORKBENCH_EOD_CACHE", tempfile.mkdtemp(prefix="workbench-test-eodcache-"))
# The exchange calendars' session tables (workbench.model.calendars): likewise.
os.environ.setdefault(
    "WORKBENCH_CALENDAR_CACHE", tempfile.mkdtemp(prefix="workbench-test-calendarcache-")
)


def real_data_dir() -> Path:
    """The real-data folder, or a skip (fail under CI) when it is not configured."""
    value = os.environ.get("WORKBENCH_REAL_DATA")
    if not value:
        pytest.skip("real-data test: WORKBENCH_REAL_DATA is not set")
    path = Path(value)
    if not path.is_dir():
        pytest.fail(f"WORKBENCH_REAL_DATA={value} is not a folder")
    return path


@pytest.fixture
def real_data() -> Path:
    return real_data_dir()


@pytest.fixture(scope="session")
def real_data_root() -> Path:
    """``real_data`` for module- and session-scoped fixtures."""
    return real_data_dir()


_skipped_realdata: list[str] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if report.skipped and item.get_closest_marker("realdata") is not None:
        _skipped_realdata.append(item.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("WORKBENCH_REQUIRE_REAL_DATA") == "1" and _skipped_realdata:
        print(f"\nreal-data tests were skipped although the data is present: {_skipped_realdata}")
        session.exitstatus = 1


@pytest.fixture(scope="session")
def nifty_tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two days of the synthetic NIFTY market (2024-01-02 and -03), shared by the tests of one
    worker; tests must not modify it."""
    from workbench.data.synth import generate

    out = tmp_path_factory.mktemp("nifty-tiny") / "data"
    generate("nifty-intraday", out, seed=3, start="2024-01-02", days=2, progress=False, workers=1)
    return out
