"""Study results: the per-position table and the DTE x delta aggregates, by hand."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from workbench.analytics.study import study_aggregates, study_trades

D1, D2, D3 = date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 10)
E1, E2 = date(2024, 1, 12), date(2024, 2, 2)


def _row(key, day, expiry, strike, side, action, price, fees, delta, reason):
    units = 100.0
    signed = units if side == "BUY" else -units
    if action != "open":  # the closing side is the opposite of the position's
        signed = -signed
    return {
        "position_key": key,
        "day": day,
        "expiry": expiry,
        "strike": strike,
        "right": "P",
        "side": side if action == "open" else ("SELL" if side == "BUY" else "BUY"),
        "action": action,
        "signed_units": signed,
        "price": price,
        "fees": fees,
        "cash": -signed * price - fees,
        "delta": delta,
        "reason": reason,
    }


@pytest.fixture
def tradebook() -> pd.DataFrame:
    a = f"{D1}/{E1}"
    b = f"{D2}/{E2}"
    rows = [
        # position a: sell 4700 P at 3.00, buy 4650 P at 1.00; closed at 1.20 / 0.30 on D3
        _row(f"{a}/short", D1, E1, 4700.0, "SELL", "open", 3.00, 0.65, -0.30, "entry"),
        _row(f"{a}/long", D1, E1, 4650.0, "BUY", "open", 1.00, 0.65, -0.14, "entry"),
        _row(f"{a}/short", D3, E1, 4700.0, "SELL", "close", 1.20, 0.65, -0.20, "dte_exit"),
        _row(f"{a}/long", D3, E1, 4650.0, "BUY", "close", 0.30, 0.65, -0.05, "dte_exit"),
        # position b: still open
        _row(f"{b}/short", D2, E2, 4600.0, "SELL", "open", 5.00, 0.65, -0.22, "entry"),
        _row(f"{b}/long", D2, E2, 4550.0, "BUY", "open", 2.50, 0.65, -0.12, "entry"),
    ]
    return pd.DataFrame(rows)


def test_one_row_per_position(tradebook: pd.DataFrame) -> None:
    trades = study_trades(tradebook)
    assert list(trades["position"]) == [f"{D1}/{E1}", f"{D2}/{E2}"]
    a = trades.iloc[0]
    assert a["dte_at_entry"] == 10 and a["status"] == "closed" and a["exit_reason"] == "dte_exit"
    assert a["exit_day"] == D3 and a["legs"] == 2
    assert a["entry_credit"] == pytest.approx((3.00 - 1.00) * 100)
    assert a["exit_value"] == pytest.approx(-(1.20 - 0.30) * 100)
    # (3.00 - 1.00 - 1.20 + 0.30) x 100 - 4 x 0.65
    assert a["pnl"] == pytest.approx(110.0 - 2.60)
    assert a["fees"] == pytest.approx(2.60)
    assert a["return_on_credit"] == pytest.approx((110.0 - 2.60) / 200.0)
    assert a["short_delta"] == pytest.approx(0.30)
    assert (a["short_strike"], a["long_strike"]) == (4700.0, 4650.0)
    assert (a["short_entry_delta"], a["long_entry_delta"]) == (-0.30, -0.14)
    b = trades.iloc[1]
    assert b["status"] == "open" and math.isnan(b["pnl"]) and b["exit_day"] is None
    assert b["dte_at_entry"] == 30


def test_aggregates_by_dte_and_delta(tradebook: pd.DataFrame) -> None:
    trades = study_trades(tradebook)
    # a second closed position in the same buckets, losing 50
    extra = trades.iloc[[0]].assign(position="x", pnl=-50.0)
    agg = study_aggregates(
        pd.concat([trades, extra]), dte_bins=(7, 14, 45), delta_bins=(0.2, 0.3, 0.5)
    )
    assert len(agg) == 1  # the open position is left out; one bucket
    (dte, delta), row = next(iter(agg.iterrows()))
    assert (dte.left, dte.right, delta.left, delta.right) == (7, 14, 0.2, 0.3)
    assert row["count"] == 2
    assert row["mean"] == pytest.approx((107.4 - 50) / 2)
    assert row["win_rate"] == 0.5 and row["total"] == pytest.approx(57.4)
    assert row["min"] == -50 and row["max"] == pytest.approx(107.4)


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="not '<entry day>/<expiry>/<leg>'"):
        study_trades(pd.DataFrame([_row("c", D1, E1, 1.0, "SELL", "open", 1, 0, 0, "entry")]))
    with pytest.raises(ValueError, match="dte_bins: need at least two increasing edges"):
        study_aggregates(pd.DataFrame(), dte_bins=(10, 5))
    with pytest.raises(ValueError, match="value: 'pnl' or 'return_on_credit'"):
        study_aggregates(pd.DataFrame(), value="sharpe")
