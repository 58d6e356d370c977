"""Fill models on real quotes: every unusable quote is a counted fallback, never a silent fill.

The expected outcome of each row is computed independently with pandas column arithmetic.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.execution import Mid, OratsSlippage
from workbench.model.enums import Side
from workbench.model.trades import Quote

pytestmark = pytest.mark.realdata


def _check(bid: np.ndarray, ask: np.ndarray, last: np.ndarray, legs: int) -> dict[str, int]:
    usable = (bid >= 0) & (ask > 0) & (ask >= bid) & np.isfinite(bid) & np.isfinite(ask)
    has_close = np.isfinite(last) & (last > 0)
    s = {1: 0.75, 2: 0.66, 3: 0.56}.get(legs, 0.53)
    model = OratsSlippage()
    counts = {"quote": 0, "fallback": 0, "unfilled": 0}
    for i in range(bid.size):
        q = Quote(bid[i], ask[i], last[i])
        buy = model.fill(Side.BUY, q, legs=legs)
        sell = model.fill(Side.SELL, q, legs=legs)
        if usable[i]:
            assert buy.warning is None and sell.warning is None
            assert buy.price == pytest.approx(bid[i] + s * (ask[i] - bid[i]), abs=1e-9)
            assert sell.price == pytest.approx(ask[i] - s * (ask[i] - bid[i]), abs=1e-9)
            assert buy.price >= sell.price
            counts["quote"] += 1
        elif has_close[i]:
            assert buy.price == last[i] == sell.price and buy.basis == "close" and buy.warning
            counts["fallback"] += 1
        else:
            assert not buy.filled and not sell.filled and buy.warning
            counts["unfilled"] += 1
        mid = Mid().fill(Side.BUY, q)
        assert (mid.warning is None) == bool(usable[i])
    return counts


def test_spx_2019_chain_fills(real_data: Path):
    frame = pd.read_csv(real_data / "us_spx_eod_chains_2019" / "SPX_20190606.csv.gz")
    bid = frame["bid"].to_numpy(float)
    ask = frame["ask"].to_numpy(float)
    last = frame["last"].to_numpy(float)
    counts = _check(bid, ask, last, legs=2)
    assert sum(counts.values()) == len(frame)
    # the manifest: bid > ask in 0 rows, ask >= 0.05 everywhere -> every quote usable
    assert counts["quote"] == len(frame)


def test_nse_snapshot_fills_count_every_bad_quote(real_data: Path):
    folder = real_data / "in_nse_option_chain_snapshots_2025-08" / "20250829"
    path = sorted(folder.glob("NIFTY_*.parquet"))[100]
    frame = pd.read_parquet(path)
    for side in ("CALLS", "PUTS"):
        bid = frame[f"{side}_Bid_Price"].to_numpy(float)
        ask = frame[f"{side}_Ask_Price"].to_numpy(float)
        last = frame[f"{side}_LTP"].to_numpy(float)
        counts = _check(bid, ask, last, legs=4)
        bad = ~((bid >= 0) & (ask > 0) & (ask >= bid))
        assert counts["fallback"] + counts["unfilled"] == int(bad.sum())
        assert counts["quote"] == int((~bad).sum())
    # NSE shows 0 for "no ask": this snapshot does have such rows, so fallbacks are exercised
    assert bad.any()
