"""``trades.parquet``: one row per position, checked against a hand-computed two-position book.

Position 1 (cycle 0): SPY bear call 520/525 x 2 (200 units), opened 2024-03-01 selling the 520
at 3.084 and buying the 525 at 2.016 (credit 200 x 1.068 = 213.60), closed 2024-03-05 for the
profit target buying the 520 at 1.516 and selling the 525 at 0.984 (debit 200 x 0.532 = 106.40);
fees 1.30 per fill (5.20). PnL 213.60 - 106.40 - 5.20 = 102.00; max risk = 5 x 200 - 213.60 =
786.40; PnL / max risk = 0.129705...; held 4 days; 35 DTE at entry.

Position 2 (cycle 1): SPY bull put 480/475 x 1, opened 2024-03-06 (sell 480 at 3.084, buy 475 at
2.016: credit 106.80, fees 0.65 each), settled at expiry 2024-04-05 out of the money (price 0,
no fee). PnL 106.80 - 1.30 = 105.50; max risk 500 - 106.80 = 393.20; held 30 days.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from workbench.engine.position_log import POSITION_LOG_SCHEMA, position_log

EXP = date(2024, 4, 5)


def fill(
    cycle: int, day: date, key: str, strike: float, right: str, side: str, action: str,
    qty: int, price: float, fees: float, reason: str, spot: float, delta: float,
) -> dict[str, object]:  # fmt: skip
    units = qty * 100.0
    signed = units if side == "BUY" else -units
    return {
        "run_id": "r1", "trade_id": f"{cycle}:{key}", "position_key": key, "cycle": cycle,
        "day": day, "ts": datetime.combine(day, datetime.min.time()).replace(hour=15, minute=46),
        "asset": "option", "underlying": "SPY", "expiry": EXP, "strike": strike, "right": right,
        "symbol": f"SPY {strike:g}{right}", "side": side, "action": action, "qty": qty,
        "units": units, "signed_units": signed, "price": price, "fees": fees,
        "cash": -signed * price - fees, "reason": reason, "spot": spot, "delta": delta,
    }  # fmt: skip


def book() -> pd.DataFrame:
    d1, d2, d3, d4 = date(2024, 3, 1), date(2024, 3, 5), date(2024, 3, 6), date(2024, 4, 5)
    rows = [
        fill(0, d1, "short", 520, "C", "SELL", "open", 2, 3.084, 1.30, "entry", 500.0, 0.18),
        fill(0, d1, "long", 525, "C", "BUY", "open", 2, 2.016, 1.30, "entry", 500.0, 0.13),
        fill(0, d2, "short", 520, "C", "BUY", "close", 2, 1.516, 1.30, "profit_target", 490.0, 0.07),
        fill(0, d2, "long", 525, "C", "SELL", "close", 2, 0.984, 1.30, "profit_target", 490.0, 0.05),
        fill(1, d3, "short", 480, "P", "SELL", "open", 1, 3.084, 0.65, "entry", 505.0, -0.18),
        fill(1, d3, "long", 475, "P", "BUY", "open", 1, 2.016, 0.65, "entry", 505.0, -0.13),
        fill(1, d4, "short", 480, "P", "BUY", "settle", 1, 0.0, 0.0, "expiry", 512.0, 0.0),
        fill(1, d4, "long", 475, "P", "SELL", "settle", 1, 0.0, 0.0, "expiry", 512.0, 0.0),
    ]  # fmt: skip
    return pd.DataFrame(rows)


def test_two_positions_by_hand() -> None:
    table = position_log(book(), "positional")
    assert table.schema.equals(POSITION_LOG_SCHEMA)
    rows = table.to_pylist()
    assert len(rows) == 2
    a, b = rows
    assert (a["position"], a["cycle"], b["position"], b["cycle"]) == ("#0", 0, "#1", 1)
    assert a["underlying"] == "SPY" and a["spread_type"] == "bear_call" and a["right"] == "C"
    assert b["spread_type"] == "bull_put" and b["right"] == "P"
    assert (a["short_strike"], a["long_strike"], a["qty"]) == (520.0, 525.0, 2)
    assert (b["short_strike"], b["long_strike"], b["qty"]) == (480.0, 475.0, 1)
    assert (a["entry_date"], a["exit_date"], a["days_held"]) == (
        date(2024, 3, 1), date(2024, 3, 5), 4,
    )  # fmt: skip
    assert (b["entry_date"], b["exit_date"], b["days_held"]) == (
        date(2024, 3, 6), date(2024, 4, 5), 30,
    )  # fmt: skip
    assert a["entry_ts"] == datetime(2024, 3, 1, 15, 46)
    assert (a["expiry"], a["dte_at_entry"], b["dte_at_entry"]) == (EXP, 35, 30)
    assert a["entry_credit"] == pytest.approx(213.60)
    assert a["exit_debit"] == pytest.approx(106.40)
    assert a["fees"] == pytest.approx(5.20)
    assert a["pnl"] == pytest.approx(102.00)
    assert a["max_risk"] == pytest.approx(786.40)
    assert a["pnl_pct_max_risk"] == pytest.approx(102.0 / 786.4)
    assert a["exit_reason"] == "profit_target" and a["status"] == "closed"
    assert b["entry_credit"] == pytest.approx(106.80)
    assert b["exit_debit"] == pytest.approx(0.0)
    assert b["pnl"] == pytest.approx(105.50)
    assert b["max_risk"] == pytest.approx(393.20)
    assert b["pnl_pct_max_risk"] == pytest.approx(105.5 / 393.2)
    assert b["exit_reason"] == "expiry"
    # opening order's delta in units of underlying: -200 x .18 + 200 x .13 = -10
    assert a["delta_at_entry"] == pytest.approx(-10.0)
    assert (a["spot_entry"], a["spot_exit"]) == (500.0, 490.0)
    # no market series in this book: the context columns are null
    for col in ("vix_at_entry", "iv_rank_at_entry", "iv_percentile_at_entry", "theta_at_entry"):
        assert a[col] is None and b[col] is None


def test_types_and_context_columns_when_the_book_has_them(tmp_path: Path) -> None:
    tb = book().assign(vix=[14.5] * 4 + [22.0] * 4, iv_rank=[40.0] * 4 + [None] * 4)
    table = position_log(tb, "positional")
    rows = table.to_pylist()
    assert [r["vix_at_entry"] for r in rows] == [14.5, 22.0]
    assert [r["iv_rank_at_entry"] for r in rows] == [40.0, None]
    assert table.schema.field("entry_date").type == pa.date32()
    assert table.schema.field("exit_ts").type == pa.timestamp("us")
    assert table.schema.field("days_held").type == pa.int32()


def test_an_open_position_has_no_exit_and_no_pnl() -> None:
    tb = book().iloc[:6]  # the bull put never settles
    rows = position_log(tb, "positional").to_pylist()
    b = rows[1]
    assert b["status"] == "open"
    for col in ("exit_date", "exit_ts", "days_held", "exit_debit", "pnl", "pnl_pct_max_risk",
                "exit_reason", "spot_exit"):  # fmt: skip
        assert b[col] is None, col
    assert b["max_risk"] == pytest.approx(393.20)


def test_empty_book() -> None:
    assert position_log(book().iloc[:0], "positional").num_rows == 0
