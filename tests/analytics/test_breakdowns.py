"""Breakdown tables: calendar compounding, weekday, DTE buckets, VIX regimes (boundaries)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.analytics import breakdowns as bd


def test_monthly_table_compounds_within_the_month() -> None:
    idx = pd.to_datetime(["2024-01-30", "2024-01-31", "2024-02-01", "2025-03-03"])
    r = pd.Series([0.10, -0.10, 0.05, 0.02], index=idx)
    table = bd.monthly_returns(r)
    assert table.loc[2024, "Jan"] == pytest.approx(1.1 * 0.9 - 1)
    assert table.loc[2024, "Feb"] == pytest.approx(0.05)
    assert np.isnan(table.loc[2024, "Mar"])
    assert table.loc[2024, "Year"] == pytest.approx(1.1 * 0.9 * 1.05 - 1)
    assert table.loc[2025, "Mar"] == pytest.approx(0.02)
    pnl = bd.monthly_pnl(pd.Series([1.0, 2.0, 3.0, 4.0], index=idx))
    assert pnl.loc[2024, "Jan"] == 3.0 and pnl.loc[2024, "Year"] == 6.0
    yearly = bd.yearly(r, pd.Series([1.0, 2.0, 3.0, 4.0], index=idx))
    assert list(yearly["days"]) == [3, 1]


def test_weekday_and_month_of_year() -> None:
    # Mon 1 Jan 2024 .. Fri 5 Jan, then Mon 8 Jan
    idx = pd.bdate_range("2024-01-01", periods=6)
    pnl = pd.Series([10.0, -5.0, 0.0, 3.0, 4.0, -20.0], index=idx)
    wd = bd.by_weekday(pnl)
    assert list(wd.index) == ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
    assert wd.loc["Monday", "pnl"] == -10.0 and wd.loc["Monday", "count"] == 2
    assert wd.loc["Monday", "win_rate"] == 0.5
    assert np.isnan(wd.loc["Wednesday", "win_rate"])  # only a zero day
    assert wd.loc["Monday", "best"] == 10.0 and wd.loc["Monday", "worst"] == -20.0
    moy = bd.by_month_of_year(pnl)
    assert list(moy.index) == ["Jan"] and moy.loc["Jan", "pnl"] == pytest.approx(-8.0)


def test_dte_buckets_cover_boundaries() -> None:
    dte = pd.Series([0, 1, 2, 3, 4, 7, 8, 14, 15, 30, 31, 60, 61, 400])
    assert list(bd.dte_bucket(dte)) == [
        "0",
        "1",
        "2-3",
        "2-3",
        "4-7",
        "4-7",
        "8-14",
        "8-14",
        "15-30",
        "15-30",
        "31-60",
        "31-60",
        ">60",
        ">60",
    ]


def test_vix_regime_boundaries_and_asof() -> None:
    level = pd.Series([10.0, 14.99, 15.0, 24.99, 25.0, 35.0, 80.0, np.nan])
    assert list(bd.vix_regime(level)) == ["<15", "<15", "15-25", "15-25", "25-35", ">35", ">35", ""]
    vix = pd.Series([12.0, 30.0], index=pd.to_datetime(["2024-01-02", "2024-01-04"]))
    days = pd.Series(pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-05"]))
    got = bd.vix_asof(vix, days)
    # each day gets the last close strictly before it: never its own close (known only after
    # the day's trading) nor a later one
    assert np.isnan(got.iloc[0]) and np.isnan(got.iloc[1])
    assert list(got.iloc[2:]) == [12.0, 30.0]


def test_trade_breakdowns_use_closed_trades_only() -> None:
    trades = pd.DataFrame(
        {
            "status": ["closed", "closed", "closed", "open"],
            "pnl": [100.0, -50.0, 30.0, np.nan],
            "exit_reason": ["target", "stop_loss", "target", ""],
            "expiry_kind": ["weekly", "monthly", "weekly", "weekly"],
            "dte_at_entry": [0, 5, 1, 0],
            "entry_weekday": ["Monday", "Tuesday", "Monday", "Friday"],
            "entry_day": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-08", "2024-01-12"]),
        }
    )
    reasons = bd.by_exit_reason(trades)
    assert reasons.loc["target", "count"] == 2 and reasons.loc["target", "pnl"] == 130.0
    assert list(reasons.index) == ["target", "stop_loss"]
    assert list(bd.by_expiry_kind(trades).index) == ["weekly", "monthly"]
    assert bd.by_dte(trades).loc["0", "count"] == 1
    vix = pd.Series([12.0, 40.0], index=pd.to_datetime(["2024-01-01", "2024-01-05"]))
    regimes = bd.by_vix_regime_trades(trades, vix)
    # entered 01-01: no close before it, left out; 01-02: the 01-01 close (12); 01-08: 01-05's
    assert regimes.loc["<15", "pnl"] == -50.0 and regimes.loc[">35", "pnl"] == 30.0
    assert regimes["count"].sum() == 2
    assert bd.by_exit_reason(trades.iloc[3:]).empty
