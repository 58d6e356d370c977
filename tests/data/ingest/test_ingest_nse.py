"""nse-chain on real snapshots (set 4 excerpts): sides, minutes, volume, IV, OI, parity spot."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from math import exp
from pathlib import Path

import pandas as pd
import pytest
from ingest_builders import SET4, catalog, rejects, run

from workbench.data.ingest.nse import PARITY_RATE
from workbench.data.store import MarketStore

DAY = date(2025, 8, 29)
SNAPS = SET4 / "20250829"


@pytest.fixture(scope="module")
def nse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("nse") / "nifty"
    return out, run("nse-chain", [SET4], out)


def _raw(name: str) -> pd.DataFrame:
    return pd.read_parquet(SNAPS / name)


def test_every_side_is_accounted_for(nse: tuple[Path, object]) -> None:
    out, report = nse
    n_rows = sum(len(pd.read_parquet(p)) for p in SET4.rglob("*.parquet"))
    assert report.rows_read == 2 * n_rows  # type: ignore[attr-defined]
    assert report.balanced  # type: ignore[attr-defined]
    assert catalog(out).rejected_by_reason == dict(report.rejected_by_reason)  # type: ignore[attr-defined]
    assert "put-call parity" in catalog(out).source


def test_holiday_snapshot_is_quarantined(nse: tuple[Path, object]) -> None:
    out, _ = nse
    stale = [
        r
        for r in rejects(out)
        if r["source_file"].startswith("in_nse_option_chain_snapshots_2025-08/20250827/")
    ]
    assert len(stale) == 2 * 767 and {r["reason"] for r in stale} == {"exchange_holiday_file"}
    assert catalog(out).underlying_days("NIFTY") == [DAY]


def test_same_minute_snapshots_keep_the_later_fetch(nse: tuple[Path, object]) -> None:
    out, _ = nse
    # 094413 (Fetch 09:43:16) and 094518 (Fetch 09:43:46) share the 09:43 minute
    early = [r for r in rejects(out) if r["source_file"].endswith("NIFTY_20250829_094413.parquet")]
    assert {r["reason"] for r in early} <= {"duplicate_key", "no_price"}
    assert Counter(r["reason"] for r in early)["duplicate_key"] > 0
    assert all(
        r["kept_source_file"].endswith("094518.parquet")
        for r in early
        if r["reason"] == "duplicate_key"
    )
    spot = MarketStore(out).read_spot("NIFTY", DAY).to_pandas()
    assert spot["ts"].tolist() == [
        datetime(2025, 8, 29, 9, 22),
        datetime(2025, 8, 29, 9, 43),
        datetime(2025, 8, 29, 9, 45),  # Fetch_Time 09:45:16 (NSE's as-of time, not the file's)
    ]


def test_row_mapping_by_hand(nse: tuple[Path, object]) -> None:
    out, _ = nse
    raw = _raw("NIFTY_20250829_092416.parquet")
    row = raw[(raw.Expiry_Date == "02-Sep-2025") & (raw.Strike_Price == 24500)].iloc[0]
    chain = MarketStore(out).read_chain("NIFTY", DAY, expiry=date(2025, 9, 2)).to_pandas()
    got = chain[
        (chain.strike == 24500.0)
        & (chain.right == "C")
        & (chain.ts == datetime(2025, 8, 29, 9, 22))
    ].iloc[0]
    assert got["close"] == row["CALLS_LTP"] and got["bid"] == row["CALLS_Bid_Price"]
    assert got["ask"] == row["CALLS_Ask_Price"]
    assert got["iv"] == pytest.approx(row["CALLS_IV"] / 100.0)
    assert got["oi"] == round(row["CALLS_OI"])
    assert got["volume"] == row["CALLS_Volume"]  # first snapshot: the cumulative figure
    # quoted sizes: NSE quantities in units, stored in contracts of the day's lot (75)
    assert row["CALLS_Bid_Qty"] % 75 == 0 and row["CALLS_Bid_Qty"] > 0
    assert got["bid_size"] == row["CALLS_Bid_Qty"] / 75
    assert got["ask_size"] == row["CALLS_Ask_Qty"] / 75
    # next kept snapshot of the same contract: the difference of cumulative volumes
    nxt = _raw("NIFTY_20250829_094518.parquet")
    nrow = nxt[(nxt.Expiry_Date == "02-Sep-2025") & (nxt.Strike_Price == 24500)].iloc[0]
    later = chain[
        (chain.strike == 24500.0)
        & (chain.right == "C")
        & (chain.ts == datetime(2025, 8, 29, 9, 43))
    ].iloc[0]
    assert later["volume"] == nrow["CALLS_Volume"] - row["CALLS_Volume"]


def test_zero_is_none_for_nse_prices(nse: tuple[Path, object]) -> None:
    out, _ = nse
    chain = MarketStore(out).read_chain("NIFTY", DAY).to_pandas()
    assert (
        not (chain[["open", "close", "bid", "ask", "iv", "bid_size", "ask_size"]] == 0).any().any()
    )
    assert (chain.bid.isna() == chain.bid_size.isna()).mean() > 0.99  # no bid, no bid size
    one_sided = chain[chain.bid.notna() & chain.ask.isna()]
    assert len(one_sided) > 0  # a bid without an offer is a usable quote


def test_parity_spot_matches_the_atm_relation(nse: tuple[Path, object]) -> None:
    out, _ = nse
    store = MarketStore(out)
    spot = store.read_spot("NIFTY", DAY).to_pandas()
    chain = store.read_chain("NIFTY", DAY, expiry=date(2025, 9, 2)).to_pandas()
    for ts, s in zip(spot["ts"], spot["close"], strict=True):
        snap = chain[chain.ts == ts]
        k = 50.0 * round(s / 50.0)
        c = snap[(snap.strike == k) & (snap.right == "C")].iloc[0]
        p = snap[(snap.strike == k) & (snap.right == "P")].iloc[0]
        t = (datetime(2025, 9, 2, 15, 30) - ts.to_pydatetime()).total_seconds() / (365 * 86400)
        lhs = (c.bid + c.ask) / 2 - (p.bid + p.ask) / 2
        rhs = exp(-PARITY_RATE * t) * (s - k)
        spread = (c.ask - c.bid + p.ask - p.bid) / 2
        assert abs(lhs - rhs) <= max(spread, 1.0), (ts, lhs, rhs)
        assert 24000 < s < 25000  # NIFTY traded near 24,450 that day
