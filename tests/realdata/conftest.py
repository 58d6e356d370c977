"""Real-data fixtures shared by the real-data test modules: each set is ingested once per
session into a scratch folder (shared memory when there is one)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
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


def _daily_window(real: Path, scratch: Path, name: str, start: str, end: str) -> Path:
    """Set 3's or set 6's daily rows in ``start``..``end`` (ISO dates) ingested into
    ``scratch/name``: the same files cut to a few months, so a test synthesises weeks, not
    thirty years."""
    out = scratch / name
    folder = scratch / f"{name}-csv"
    folder.mkdir()
    if name.startswith("set3"):
        sources = [real / "us_index_vix_daily_1995_2026" / "ALL_eod.csv"]
    else:
        daily = real / "in_index_vix_daily"
        sources = [daily / "nifty50_daily_2007_2026.csv", daily / "indiavix_daily_2008_2026.csv"]
    files = []
    for src in sources:
        lines = src.read_text().splitlines()
        kept = [lines[0], *(ln for ln in lines[1:] if start <= ln[:10] <= end)]
        (folder / src.name).write_text("\n".join(kept) + "\n")
        files.append(folder / src.name)
    ingest("ohlc", files, out, progress=False)
    return out


@pytest.fixture(scope="session")
def set3_2019(real: Path, scratch: Path) -> Path:
    return _daily_window(real, scratch, "set3-2019", "2019-04-01", "2019-07-31")


@pytest.fixture(scope="session")
def daily_window(real: Path, scratch: Path) -> Callable[[str, str, str], Path]:
    """``daily_window(set_name, start, end)``: set 3 (``"set3-..."``) or set 6 cut to a window."""
    made: dict[str, Path] = {}

    def make(name: str, start: str, end: str) -> Path:
        if name not in made:
            made[name] = _daily_window(real, scratch, name, start, end)
        return made[name]

    return make
