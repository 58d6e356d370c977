"""Every real set through its ingest adapter (marked ``realdata``; reads ``$WORKBENCH_REAL_DATA``).

Checks that every row read is accepted or quarantined, that the catalog agrees with the report,
that the stale holiday files are quarantined whole, and that the spot derived for the NSE
snapshots satisfies put-call parity at the money. Datasets are written to ``/dev/shm`` when it
exists (the checks are about content, not durability; the day files' fsyncs dominate otherwise).
"""

from __future__ import annotations

import gzip
import shutil
import tempfile
from collections.abc import Iterator
from datetime import date, datetime, time
from math import exp
from pathlib import Path

import pandas as pd
import pytest

from workbench.data.catalog import Catalog
from workbench.data.ingest import IngestReport, ingest
from workbench.data.ingest.nse import PARITY_RATE
from workbench.data.store import MarketStore

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def real(real_data_root: Path) -> Path:
    """The real-data folder (module scope; skips, or fails under CI, as ``real_data`` does)."""
    return real_data_root


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    shm = Path("/dev/shm")
    folder = Path(tempfile.mkdtemp(prefix="wb-ingest-", dir=shm if shm.is_dir() else None))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _check_accounts(report: IngestReport, out: Path) -> Catalog:
    assert not report.failed, [f.error for f in report.failed]
    assert report.balanced
    assert report.accepted + report.rejected == report.rows_read
    cat = Catalog.load(out)
    assert cat.rejected_by_reason == dict(report.rejected_by_reason)
    assert cat.row_counts.rejected == report.rejected
    return cat


@pytest.fixture(scope="module")
def set1(real: Path, scratch: Path) -> tuple[Path, IngestReport]:
    out = scratch / "set1"
    return out, ingest("cboe-eod", [real / "us_spx_eod_chains_2019"], out)


def test_set1_counts_and_holiday_files(set1: tuple[Path, IngestReport], real: Path) -> None:
    out, report = set1
    cat = _check_accounts(report, out)
    assert report.rows_read == 809_782  # MANIFEST.md
    assert cat.row_counts.options == report.accepted
    folder = real / "us_spx_eod_chains_2019"
    stale = 0
    for name in ("SPX_20190527.csv.gz", "SPX_20190704.csv.gz"):
        with gzip.open(folder / name, "rt") as handle:
            stale += sum(1 for _ in handle) - 1
    assert report.rejected_by_reason["exchange_holiday_file"] == stale
    days = cat.underlying_days("SPX")
    assert len(days) == 56 and date(2019, 5, 27) not in days and date(2019, 7, 4) not in days
    # SPX (AM) and SPXW (PM) rows by OCC root: MANIFEST gives 223,802 and 585,980 read
    store = MarketStore(out)
    spx = sum(len(store.read_chain("SPX", d)) for d in days)
    spxw = sum(len(store.read_chain("SPXW", d)) for d in cat.underlying_days("SPXW"))
    assert spx + spxw == report.accepted
    assert spx <= 223_802 and spxw <= 585_980
    assert spx > 0.9 * 223_802 and spxw > 0.9 * 585_980
    # junk vendor IVs (MANIFEST: up to 36) are kept and reported
    assert any("max 36" in n for n in report.notes)


def test_set2_spxw_2018(real: Path, scratch: Path) -> None:
    out = scratch / "set2"
    report = ingest("cboe-eod", [real / "us_spxw_eod_2018q1_optopsy"], out)
    cat = _check_accounts(report, out)
    assert report.rows_read == 14_438 and cat.days == 40
    assert set(cat.underlyings) == {"SPXW"}
    assert MarketStore(out).read_spot("SPXW", date(2018, 2, 5)).column("close")[
        0
    ].as_py() == pytest.approx(2649, abs=5)


def test_set3_long_daily(real: Path, scratch: Path) -> None:
    out = scratch / "set3"
    report = ingest("ohlc", [real / "us_index_vix_daily_1995_2026"], out)
    cat = _check_accounts(report, out)
    assert report.rows_read == 21_040
    assert set(cat.underlyings) == {"SPX", "VIX", "SPY", "QQQ"}
    store = MarketStore(out)
    assert store.read_spot("VIX", date(2020, 3, 16)).column("close")[0].as_py() == pytest.approx(
        82.69
    )
    assert store.read_spot("SPX", date(2009, 3, 9)).column("close")[0].as_py() == pytest.approx(
        676.53
    )


@pytest.fixture(scope="module")
def set4(real: Path, scratch: Path) -> tuple[Path, IngestReport]:
    out = scratch / "set4"
    return out, ingest("nse-chain", [real / "in_nse_option_chain_snapshots_2025-08"], out)


def test_set4_counts_and_holiday_snapshots(set4: tuple[Path, IngestReport], real: Path) -> None:
    out, report = set4
    cat = _check_accounts(report, out)
    assert report.rows_read == 2 * 372_433  # two quotes (call, put) per row
    folder = real / "in_nse_option_chain_snapshots_2025-08" / "20250827"
    stale = sum(len(pd.read_parquet(p)) for p in folder.glob("*.parquet"))
    assert report.rejected_by_reason["exchange_holiday_file"] == 2 * stale
    assert cat.days == 1 and set(cat.underlyings) == {"NIFTY", "BANKNIFTY"}


@pytest.mark.parametrize(("underlying", "step"), [("NIFTY", 50.0), ("BANKNIFTY", 100.0)])
def test_set4_parity_spot_at_the_money(
    set4: tuple[Path, IngestReport], underlying: str, step: float
) -> None:
    out, _ = set4
    store = MarketStore(out)
    day = date(2025, 8, 29)
    spot = store.read_spot(underlying, day).to_pandas()
    assert len(spot) > 250
    chain = store.read_chain(underlying, day).to_pandas()
    checked = within = 0
    for ts, s in zip(spot["ts"], spot["close"], strict=True):
        snap = chain[(chain.ts == ts) & (chain.expiry >= day)]
        expiry = snap.expiry.min()
        snap = snap[snap.expiry == expiry]
        k = step * round(s / step)
        c = snap[(snap.strike == k) & (snap.right == "C")]
        p = snap[(snap.strike == k) & (snap.right == "P")]
        if c.empty or p.empty:
            continue
        c, p = c.iloc[0], p.iloc[0]
        settle = datetime.combine(expiry, time(15, 30))
        t = (settle - ts.to_pydatetime()).total_seconds() / (365 * 86400)
        lhs = (c.bid + c.ask) / 2 - (p.bid + p.ask) / 2
        rhs = exp(-PARITY_RATE * t) * (s - k)
        checked += 1
        within += abs(lhs - rhs) <= max((c.ask - c.bid + p.ask - p.bid) / 2, 0.002 * s)
    assert checked > 250 and within == checked


def test_set5_minute_and_epoch_bars(real: Path, scratch: Path) -> None:
    folder = real / "in_index_spot_intraday"
    out = scratch / "set5"
    report = ingest(
        "ohlc",
        [
            folder / "NIFTY_2024.csv",
            folder / "NIFTY_2009.csv",
            folder / "BankNifty_2018_to_2023.csv",
        ],
        out,
    )
    cat = _check_accounts(report, out)
    assert report.rows_read == 58_127 + 76_897 + 34_300
    assert date(2020, 3, 13) not in cat.underlying_days("BANKNIFTY")  # missing in the source
    bnf = scratch / "set5-bnf"
    report2 = ingest("ohlc", [folder / "BNF_2024.csv"], bnf, underlying="BANKNIFTY")
    _check_accounts(report2, bnf)
    assert report2.rows_read == 58_127
    assert any("NIFTY" in n and "BANKNIFTY" in n for n in report2.notes)


def test_set6_india_daily(real: Path, scratch: Path) -> None:
    folder = real / "in_index_vix_daily"
    out = scratch / "set6"
    report = ingest(
        "ohlc",
        [folder / "nifty50_daily_2007_2026.csv", folder / "indiavix_daily_2008_2026.csv"],
        out,
    )
    _check_accounts(report, out)
    assert report.rows_read == 4_536 + 4_417
    store = MarketStore(out)
    # MANIFEST: India VIX closed at its 2008 high, 85.13, on 2008-11-17 (line 171)
    assert store.read_spot("INDIAVIX", date(2008, 11, 17)).column("close")[
        0
    ].as_py() == pytest.approx(85.13, abs=0.01)
    mit = scratch / "set6-mit"
    report2 = ingest("ohlc", [folder / "india_vix_ohlc_2010_2026_mit.csv"], mit)
    _check_accounts(report2, mit)
    assert report2.rows_read == 3_790
