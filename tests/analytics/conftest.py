"""Fixtures for the analytics tests: hand-built runs (see ``analytics_builders``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from analytics_builders import FakeResult, empty_run, make_run


@pytest.fixture(scope="session")
def full_tearsheet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 120-day run's tearsheet with every chart (VIX supplied) and a hostile manifest."""
    import numpy as np
    import pandas as pd

    from workbench.analytics import render_tearsheet

    run = make_run(120)
    run.manifest["note"] = '<script>alert("x")</script> & "quotes"'
    run.manifest["nested"] = {"fill_model": "<b>mid</b>"}
    vix = pd.Series(np.linspace(11, 38, len(run.daily)), index=pd.to_datetime(run.daily["date"]))
    out = tmp_path_factory.mktemp("tearsheet") / "tearsheet.html"
    return render_tearsheet(run, out, capital=1_000_000, vix=vix, mc_paths=300)


@pytest.fixture(scope="session")
def run60() -> FakeResult:
    return make_run(60)


@pytest.fixture(scope="session")
def zero_trade_run() -> FakeResult:
    return empty_run()


@pytest.fixture(scope="session")
def one_day_run() -> FakeResult:
    return make_run(1)
