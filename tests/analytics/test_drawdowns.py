"""Drawdown periods on hand-built paths with known dates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.analytics.drawdowns import drawdown_periods, drawdown_series, worst_drawdowns


def _series(values: list[float], start: str = "2024-01-01") -> pd.Series:
    return pd.Series(values, index=pd.bdate_range(start, periods=len(values)))


def test_money_drawdown_dates_by_hand() -> None:
    # Mon 1 Jan .. : 100, 150 (peak Tue 2 Jan), 120, 90 (valley Thu 4 Jan), 160 (recovery Fri 5 Jan),
    # 140, 130 (still under water at the end, peak Fri 5 Jan)
    eq = _series([100, 150, 120, 90, 160, 140, 130])
    periods = drawdown_periods(eq, "diff")
    assert len(periods) == 2
    first = periods.iloc[0]
    assert first["drawdown"] == -60
    assert first["peak"] == pd.Timestamp("2024-01-02")
    assert first["valley"] == pd.Timestamp("2024-01-04")
    assert first["recovery"] == pd.Timestamp("2024-01-05")
    assert first["days"] == 3 and first["periods"] == 2 and first["recovered"]
    second = periods.iloc[1]
    assert second["drawdown"] == -30
    assert second["peak"] == pd.Timestamp("2024-01-05")
    assert pd.isna(second["recovery"]) and not second["recovered"]
    # ongoing: counted to the last date (Tue 9 Jan), 4 calendar days
    assert second["days"] == 4 and second["periods"] == 2


def test_first_day_loss_is_a_drawdown_from_the_start() -> None:
    eq = _series([-10, -5, 5])
    periods = drawdown_periods(eq, "diff")
    assert len(periods) == 1
    row = periods.iloc[0]
    assert row["drawdown"] == -10
    assert row["peak"] == pd.Timestamp("2024-01-01")
    assert row["recovery"] == pd.Timestamp("2024-01-03")
    assert list(drawdown_series(eq, "diff")) == [-10, -5, 0]


def test_ratio_drawdown_and_flat_path() -> None:
    wealth = _series([1.1, 0.99, 1.2])
    dd = drawdown_series(wealth, "ratio")
    assert dd.iloc[1] == pytest.approx(0.99 / 1.1 - 1)
    assert drawdown_periods(_series([1.0, 1.0, 1.0]), "ratio").empty
    assert drawdown_periods(_series([]), "ratio").empty
    # noise below the tolerance does not open a period
    assert drawdown_periods(_series([1.0, 1.0 - 1e-15, 1.0]), "ratio").empty


def test_worst_drawdowns_table_matches_money_path() -> None:
    capital = 1000.0
    eq = _series([100, 150, 120, 90, 160, 140, 130])
    wealth = (capital + eq) / capital
    table = worst_drawdowns(wealth, eq, n=10)
    assert list(table["drawdown_money"]) == [-60, -30]
    assert table["drawdown_pct"].iloc[0] == pytest.approx(1090 / 1150 - 1)
    assert list(table.columns[:5]) == [
        "peak",
        "valley",
        "recovery",
        "drawdown_pct",
        "drawdown_money",
    ]
    # sorted worst first and limited to n
    assert len(worst_drawdowns(wealth, eq, n=1)) == 1
    eq2 = _series([-10, -5, 5])
    t2 = worst_drawdowns((capital + eq2) / capital, eq2)
    assert t2["drawdown_money"].iloc[0] == -10


def test_periods_sorted_worst_first() -> None:
    rng = np.random.default_rng(3)
    eq = _series(list(np.cumsum(rng.normal(0, 1, 200))))
    periods = drawdown_periods(eq, "diff")
    assert periods["drawdown"].is_monotonic_increasing
    assert periods["drawdown"].iloc[0] == pytest.approx(drawdown_series(eq, "diff").min())
    assert (periods["valley"] >= periods["peak"]).all()
    rec = periods[periods["recovered"]]
    assert (rec["recovery"] > rec["valley"]).all()
