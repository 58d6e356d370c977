"""Real dates: a buy-and-hold SPX daily path through 2020 (Yahoo-style closes from the real data
folder) must report the Covid crash drawdown from the known peak (2020-02-19, close 3386.15),
trough (2020-03-23, 2237.40) and recovery (2020-08-18, first close above the peak), and put the
March 2020 days in the >35 VIX regime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from analytics_builders import FakeResult

from workbench.analytics import analyse

pytestmark = pytest.mark.realdata


def _closes(real: Path, root: str) -> pd.Series:
    frame = pd.read_csv(real / "us_index_vix_daily_1995_2026" / "ALL_eod.csv", parse_dates=["Date"])
    frame = frame[frame["root"] == root].set_index("Date").sort_index()
    return frame["Close"].astype(float)


def test_covid_crash_drawdown_dates(real_data: Path) -> None:
    spx = _closes(real_data, "SPX").loc["2019-12-31":"2020-12-31"]
    vix = _closes(real_data, "VIX")
    capital = 1_000_000.0
    units = capital / spx.iloc[0]  # the account is fully invested in the index at the 2019 close
    equity = units * (spx.iloc[1:] - spx.iloc[0])
    daily = pd.DataFrame(
        {"date": equity.index, "pnl": np.diff(units * spx.to_numpy()), "equity": equity.to_numpy()}
    )
    a = analyse(
        FakeResult(pd.DataFrame(), daily, {"underlying": "SPX"}),
        capital=capital,
        capital_base="fixed",
        vix=vix,
        mc_paths=50,
    )
    m = a.metrics
    assert m["max_drawdown_peak"].isoformat() == "2020-02-19"
    assert m["max_drawdown_valley"].isoformat() == "2020-03-23"
    assert m["max_drawdown_recovery"].isoformat() == "2020-08-18"
    assert m["max_drawdown_pct"] == pytest.approx(2237.39990234375 / 3386.14990234375 - 1, rel=1e-9)
    assert m["max_drawdown_money"] == pytest.approx(
        units * (2237.39990234375 - 3386.14990234375), rel=1e-9
    )
    assert m["max_drawdown_days"] == (pd.Timestamp("2020-08-18") - pd.Timestamp("2020-02-19")).days
    # the account tracks the index exactly: total return is the index's 2020 return
    assert m["total_return"] == pytest.approx(spx.iloc[-1] / spx.iloc[0] - 1, rel=1e-9)
    assert m["worst_day_date"].isoformat() == "2020-03-16"  # -12% on the day
    regimes = a.breakdowns["vix_regime_days"]
    assert regimes.loc[">35", "count"] >= 20  # VIX closed above 35 through most of March-April 2020
    assert a.currency == "USD"
