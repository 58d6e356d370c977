"""Real-data fixtures shared by the real-data test modules: each set is ingested once per
session into a scratch folder (shared memory when there is one)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.data.ingest import ingest


@pytest.fixture(scope="session")
def real(real_data_root: Path) -> Path:
    return real_data_root


@pytest.fixture(scope="session")
def scratch() -> Iterator[Path]:
    shm = Path("/dev/shm")
    folder = Path(tempfile.mkdtemp(prefix="wb-bt-", dir=shm if shm.is_dir() else None))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def set1(real: Path, scratch: Path) -> Path:
    out = scratch / "spx2019"
    ingest("cboe-eod", [real / "us_spx_eod_chains_2019"], out, progress=False)
    return out


@pytest.fixture(scope="session")
def set2(real: Path, scratch: Path) -> Path:
    out = scratch / "spx2018"
    ingest("cboe-eod", [real / "us_spxw_eod_2018q1_optopsy"], out, progress=False)
    return out


@pytest.fixture(scope="session")
def set4(real: Path, scratch: Path) -> Path:
    out = scratch / "nse"
    ingest("nse-chain", [real / "in_nse_option_chain_snapshots_2025-08" / "20250829"], out)
    return out
