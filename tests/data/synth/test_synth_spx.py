"""The spx-eod dataset: XNYS days, close timestamps, SPX/SPXW expiries, ~100 strikes, Greeks."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from workbench.data.catalog import Catalog
from workbench.data.synth import PROFILES, select_days
from workbench.data.synth.spx import DEFAULT_PARAMS
from workbench.model import calendars


def _options(root: Path, underlying: str, day: str) -> pd.DataFrame:
    return pq.read_table(root / "options" / underlying / day[:4] / f"{day}.parquet").to_pandas()


def test_days_are_xnys_sessions() -> None:
    # 2024-01-15 is Martin Luther King Jr. Day: NYSE closed.
    days = select_days(PROFILES["spx-eod"].calendar_underlying, date(2024, 1, 12), 2, None)
    assert days == [date(2024, 1, 12), date(2024, 1, 16)]


def test_catalog_and_layout(spx_dataset: tuple[Path, Catalog]) -> None:
    root, catalog = spx_dataset
    assert catalog.bar_interval == "1d" and catalog.timezone == "America/New_York"
    assert set(catalog.underlyings) == {"SPX", "SPXW"}
    assert catalog.row_counts.spot == 3
    spot = pq.read_table(root / "spot" / "SPX" / "2024" / "2024-01-17.parquet").to_pandas()
    assert list(spot.ts) == [datetime(2024, 1, 17, 16, 0)]
    assert spot.low.iloc[0] <= min(spot.open.iloc[0], spot.close.iloc[0])
    assert spot.high.iloc[0] >= max(spot.open.iloc[0], spot.close.iloc[0])


def test_expiries_follow_the_registry(spx_dataset: tuple[Path, Catalog]) -> None:
    root, _ = spx_dataset
    day = date(2024, 1, 17)
    spx = _options(root, "SPX", "2024-01-17")
    spxw = _options(root, "SPXW", "2024-01-17")
    monthlies = sorted(spx.expiry.unique())
    # Third Fridays: 19 Jan, 16 Feb, 15 Mar 2024 (all within 90 days).
    assert monthlies == [date(2024, 1, 19), date(2024, 2, 16), date(2024, 3, 15)]
    weeklies = sorted(spxw.expiry.unique())
    assert set(weeklies) <= set(calendars.listed_expiries("SPXW", day))
    assert weeklies[:3] == [date(2024, 1, 18), date(2024, 1, 19), date(2024, 1, 22)]
    assert all(e > day for e in weeklies) and max(weeklies) <= date(2024, 3, 2)
    assert set(spx.ts) == {datetime(2024, 1, 17, 16, 0)}


def test_about_a_hundred_strikes_per_expiry(spx_dataset: tuple[Path, Catalog]) -> None:
    root, _ = spx_dataset
    for underlying in ("SPX", "SPXW"):
        opts = _options(root, underlying, "2024-01-18")
        per_expiry = opts[opts.right == "C"].groupby("expiry").strike.nunique()
        assert per_expiry.between(95, 140).all()
        assert (opts.strike % 5 == 0).all()


def test_prices_quotes_and_greeks(spx_dataset: tuple[Path, Catalog]) -> None:
    root, _ = spx_dataset
    opts = _options(root, "SPXW", "2024-01-18")
    quoted = opts.bid.notna()
    assert (opts.bid[quoted] <= opts.close[quoted] + 1e-9).all()
    assert (opts.ask >= opts.close - 1e-9).all()
    assert (opts.iv > 0).all() and (opts.volume >= 0).all() and (opts.oi >= 0).all()
    calls = opts[opts.right == "C"].set_index(["expiry", "strike"])
    puts = opts[opts.right == "P"].set_index(["expiry", "strike"])
    assert ((calls.delta > 0) & (calls.delta < 1)).all()
    assert ((puts.delta < 0) & (puts.delta > -1)).all()
    # delta_call - delta_put = exp(-q T) for the same strike and expiry
    t = np.array(
        [
            (
                datetime.combine(e, datetime.min.time()).replace(hour=16)
                - datetime(2024, 1, 18, 16)
            ).total_seconds()
            for e in calls.index.get_level_values(0)
        ]
    ) / (365 * 86400)
    diff = (calls.delta - puts.delta.reindex(calls.index)).to_numpy()
    assert np.allclose(diff, np.exp(-DEFAULT_PARAMS.dividend_yield * t), atol=1e-9)
    for _expiry, chain in opts.groupby("expiry"):
        c = chain[chain.right == "C"].sort_values("strike")
        p = chain[chain.right == "P"].sort_values("strike")
        assert (np.diff(c.close) <= 1e-9).all() and (np.diff(p.close) >= -1e-9).all()
        assert (np.diff(c.delta) <= 1e-12).all()
