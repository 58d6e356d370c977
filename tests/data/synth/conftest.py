"""Tiny synthetic datasets shared by the synth tests (built once per test session)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from workbench.data.catalog import Catalog
from workbench.data.synth import generate

#: Tue 2024-01-02 .. Thu 2024-01-04: the last day is a NIFTY weekly expiry.
NIFTY_START = date(2024, 1, 2)
NIFTY_DAYS = 3
SPX_START = date(2024, 1, 17)  # Wed; Fri 2024-01-19 is the January SPX monthly
SPX_DAYS = 3


@pytest.fixture(scope="session")
def nifty_dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Catalog]:
    out = tmp_path_factory.mktemp("synth") / "nifty"
    catalog = generate(
        "nifty-intraday",
        out,
        seed=42,
        start=NIFTY_START,
        days=NIFTY_DAYS,
        progress=False,
        workers=1,
    )
    return out, catalog


@pytest.fixture(scope="session")
def spx_dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Catalog]:
    out = tmp_path_factory.mktemp("synth") / "spx"
    catalog = generate(
        "spx-eod", out, seed=42, start=SPX_START, days=SPX_DAYS, progress=False, workers=1
    )
    return out, catalog
