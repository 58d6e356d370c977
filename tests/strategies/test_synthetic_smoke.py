"""Smoke runs of every example strategy on the synthetic market: they trade, and the books add up.

The tradebook is checked here with arithmetic of its own, independent of the engine's
reconciliation: each row's cash is ``-signed_units x price - fees``; every close or settlement
matches an earlier open of the same trade with the opposite sign; open units per contract are
zero at each intraday day end; the daily path's cash is the running sum of the tradebook's cash
and equity is cash plus mark-to-market.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.data.synth import generate
from workbench.engine.runner import run_backtest
from workbench.strategies.iron_condor import WeeklyIronCondor
from workbench.strategies.protective_put import ProtectivePut
from workbench.strategies.put_credit_spread import PutCreditSpread
from workbench.strategies.short_straddle import IntradayShortStraddle


@pytest.fixture(scope="module")
def nifty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "nifty"
    generate("nifty-intraday", out, seed=11, start="2024-01-15", days=5, progress=False, workers=1)
    return out


@pytest.fixture(scope="module")
def spx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "spx"
    generate("spx-eod", out, seed=11, start="2024-01-02", days=40, progress=False, workers=1)
    return out


def check_books(tb: pd.DataFrame, daily: pd.DataFrame, *, intraday: bool) -> None:
    assert not tb.empty
    np.testing.assert_allclose(
        tb["cash"], -tb["signed_units"] * tb["price"] - tb["fees"], atol=1e-9
    )
    assert (tb["qty"] > 0).all() and (tb["fees"] >= 0).all()
    opens = tb[tb["action"] == "open"].set_index("trade_id")
    assert opens.index.is_unique
    for row in tb[tb["action"] != "open"].to_dict("records"):
        entry = opens.loc[row["trade_id"]]
        assert entry["signed_units"] == -row["signed_units"]
        assert (entry["strike"], entry["right"], entry["expiry"]) == (
            row["strike"],
            row["right"],
            row["expiry"],
        )
        assert entry["ts"] <= row["ts"]
    contract = ["expiry", "strike", "right"]
    if intraday:
        per_day = tb.groupby(["day", *contract])["signed_units"].sum()
        assert (per_day.abs() < 1e-9).all()
    cash_by_day = tb.groupby(tb["day"].astype(str))["cash"].sum()
    running = cash_by_day.reindex(daily["date"], fill_value=0.0).cumsum().to_numpy()
    np.testing.assert_allclose(daily["cash"].to_numpy(), running, atol=0.01)
    np.testing.assert_allclose(daily["equity"], daily["cash"] + daily["mtm"], atol=0.01)
    assert (daily.loc[daily["open_legs"] == 0, "mtm"].abs() < 1e-9).all()


def test_short_straddle_trades_most_days_and_reconciles(nifty: Path) -> None:
    result = run_backtest(
        IntradayShortStraddle, data=nifty, params={"max_cycles": 2, "reentry_wait": 5},
        executor="serial", progress=False,
    )  # fmt: skip
    tb, daily = result.tradebook, result.daily
    check_books(tb, daily, intraday=True)
    traded = tb.groupby("day")["trade_id"].nunique()
    assert len(traded) >= 0.8 * len(daily)
    assert set(tb["reason"]) <= {"entry", "stop_loss", "time_exit", "eod"}
    assert (result.days["status"] == "ok").all()


def test_iron_condor_trades_and_reconciles(nifty: Path) -> None:
    result = run_backtest(
        WeeklyIronCondor,
        data=nifty,
        params={"entry_time": "09:30", "entry_dte": (0, 7)},
        progress=False,
    )
    tb = result.tradebook
    check_books(tb, result.daily, intraday=False)
    first = tb[tb["action"] == "open"].groupby("trade_id").first()
    assert len(first) >= 4
    # the four legs of each entry: long put < short put < short call < long call
    for _, entry in tb[tb["action"] == "open"].groupby("ts"):
        puts = entry[entry["right"] == "P"].sort_values("strike")
        calls = entry[entry["right"] == "C"].sort_values("strike")
        assert list(puts["side"]) == ["BUY", "SELL"] and list(calls["side"]) == ["SELL", "BUY"]
        assert puts["strike"].max() < calls["strike"].min()


def test_put_credit_spread_trades_and_reconciles(spx: Path) -> None:
    scan = {
        "short_delta": (0.10, 0.20),
        "width_min": 10.0,
        "width_max": 50.0,
        "min_credit_pct": 0.10,
    }
    result = run_backtest(
        PutCreditSpread, data=spx, params={"underlying": "SPXW", "scan": scan}, progress=False
    )
    tb = result.tradebook
    check_books(tb, result.daily, intraday=False)
    opens = tb[tb["action"] == "open"]
    assert len(opens) >= 2 and set(opens["right"]) == {"P"}
    dte = (pd.to_datetime(opens["expiry"]) - pd.to_datetime(opens["day"])).dt.days
    assert dte.between(30, 45).all()


def test_protective_put_rolls_and_reconciles(spx: Path) -> None:
    result = run_backtest(
        ProtectivePut, data=spx,
        params={"underlying": "SPX", "target_expiry_days": 30, "call_strike_pct": 1.05},
        progress=False,
    )  # fmt: skip
    tb = result.tradebook
    check_books(tb, result.daily, intraday=False)
    assert "roll" in set(tb["reason"])
    assert result.daily["open_legs"].iloc[-1] == 2
