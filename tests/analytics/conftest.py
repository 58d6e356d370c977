"""Fixtures for the analytics tests: hand-built runs (see ``analytics_builders``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from analytics_builders import FakeResult, empty_run, fake_closes, fake_paths, make_run


@pytest.fixture(scope="session")
def full_run() -> FakeResult:
    """A run of 300 business days (over a year: every chart applies) with a hostile manifest."""
    run = make_run(300)
    run.manifest["note"] = '<script>alert("x")</script> & "quotes"'
    run.manifest["nested"] = {"fill_model": "<b>mid</b>"}
    run.manifest["underlying"] = "NIFTY"
    return run


@pytest.fixture(scope="session")
def full_analysis(full_run: FakeResult):  # type: ignore[no-untyped-def]
    """``full_run`` analysed with a VIX-like series, the underlying's closes and intraday paths."""
    import numpy as np
    import pandas as pd

    from workbench.analytics import analyse

    days = pd.to_datetime(full_run.daily["date"])
    vix = pd.Series(np.linspace(11, 38, len(days)), index=days)
    return analyse(
        full_run,
        capital=1_000_000,
        vix=vix,
        vix_source="INDIAVIX from a test series",
        benchmark=fake_closes(full_run),
        intraday=fake_paths(full_run),
        mc_paths=300,
    )


@pytest.fixture(scope="session")
def full_tearsheet(tmp_path_factory: pytest.TempPathFactory, full_analysis) -> Path:  # type: ignore[no-untyped-def]
    """The tearsheet of ``full_analysis`` (with ``trades.csv`` beside it)."""
    from workbench.analytics import render_tearsheet

    out = tmp_path_factory.mktemp("tearsheet") / "tearsheet.html"
    return render_tearsheet(None, out, analysis=full_analysis)


@pytest.fixture(scope="session")
def run60() -> FakeResult:
    return make_run(60)


@pytest.fixture(scope="session")
def zero_trade_run() -> FakeResult:
    return empty_run()


@pytest.fixture(scope="session")
def one_day_run() -> FakeResult:
    return make_run(1)
