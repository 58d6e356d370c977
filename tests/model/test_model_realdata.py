"""Expiry calendars and symbols against the real chains in ``$WORKBENCH_REAL_DATA``."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from pyarrow import csv as pa_csv

from workbench.model import (
    ExpiryKind,
    Right,
    expiries_between,
    expiry_kind,
    is_expiry,
    listed_expiries,
    parse_symbol,
)

pytestmark = pytest.mark.realdata


def test_every_cboe_2019_expiry_is_in_the_expiry_calendar(real_data: Path) -> None:
    files = sorted((real_data / "us_spx_eod_chains_2019").glob("SPX_*.csv.gz"))
    assert len(files) == 58
    columns = ["optionroot", "type", "expiration", "strike"]
    seen: dict[str, set[date]] = {"SPX": set(), "SPXW": set()}
    for i, path in enumerate(files):
        table = pa_csv.read_csv(
            path, convert_options=pa_csv.ConvertOptions(include_columns=columns)
        )
        frame = table.to_pandas()
        pairs = frame[["optionroot", "expiration"]].copy()
        pairs["root"] = pairs["optionroot"].str.extract(r"^([A-Z]+)")[0]
        for root, expiration in (
            pairs[["root", "expiration"]].drop_duplicates().itertuples(index=False)
        ):
            seen[root].add(datetime.strptime(expiration, "%m/%d/%Y").date())
        if i % 10 == 0:  # symbols of a sample of rows parse back to the row's own fields
            for row in frame.sample(n=100, random_state=i).itertuples(index=False):
                contract = parse_symbol(row.optionroot)
                assert contract.expiry == datetime.strptime(row.expiration, "%m/%d/%Y").date()
                assert contract.strike == pytest.approx(row.strike), row.optionroot
                assert contract.right is Right.parse(row.type)
    for root, expiries in seen.items():
        for expiry in sorted(expiries):
            assert is_expiry(root, expiry), (root, expiry)
            if root == "SPX":
                assert expiry_kind(root, expiry) is ExpiryKind.MONTHLY, expiry
    # every SPXW expiry inside the quote range appears in the real files
    ours = expiries_between("SPXW", date(2019, 4, 26), date(2019, 7, 22))
    assert set(ours) <= seen["SPXW"]


@pytest.mark.parametrize("index", ["NIFTY", "BANKNIFTY"])
def test_nse_2025_08_29_listing(real_data: Path, index: str) -> None:
    folder = real_data / "in_nse_option_chain_snapshots_2025-08" / "20250829"
    path = sorted(folder.glob(f"{index}_*.parquet"))[100]
    frame = pd.read_parquet(path, columns=["Expiry_Date"])
    real = sorted(pd.to_datetime(frame["Expiry_Date"].unique(), format="%d-%b-%Y").date)
    # NSE later declared 2026-03-31 a holiday; the calendar knows, the 2025 snapshot did not
    real = [date(2026, 3, 30) if d == date(2026, 3, 31) else d for d in real]
    assert listed_expiries(index, date(2025, 8, 29)) == real
