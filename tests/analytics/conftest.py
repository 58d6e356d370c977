"""Fixtures for the analytics tests: hand-built runs (see ``analytics_builders``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from analytics_builders import FakeResult, empty_run, make_run


@pytest.fixture(scope="session")
def run60() -> FakeResult:
    return make_run(60)


@pytest.fixture(scope="session")
def zero_trade_run() -> FakeResult:
    return empty_run()


@pytest.fixture(scope="session")
def one_day_run() -> FakeResult:
    return make_run(1)
