"""Per-trade table from hand-written fills: grouping, PnL net of fees, exit reasons, holding
time, premium, slippage, MAE/MFE bases and input validation."""

from __future__ import annotations

import pandas as pd
import pytest
from analytics_builders import daily_from_fills, fill
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.analytics.inputs import AnalyticsInputError, validate_daily, validate_tradebook
from workbench.analytics.trades import leg_trades, trade_table


def _book(rows: list[dict]) -> pd.DataFrame:
    return validate_tradebook(pd.DataFrame(rows))


def straddle_rows() -> list[dict]:
    # short straddle on Wed 3 Jan 2024: sell C at 100 and P at 90 (x50 units), buy back at 80 and
    # 95; fees 20 per fill; mids 1 above the sell prices and 1 below the buy prices
    return [
        fill(
            0,
            "c1",
            "2024-01-03 09:20",
            "SELL",
            "open",
            100.0,
            right="C",
            expiry="2024-01-04",
            mid=101.0,
        ),
        fill(
            1,
            "p1",
            "2024-01-03 09:20",
            "SELL",
            "open",
            90.0,
            right="P",
            expiry="2024-01-04",
            mid=91.0,
        ),
        fill(
            2,
            "c1",
            "2024-01-03 11:05",
            "BUY",
            "close",
            80.0,
            right="C",
            expiry="2024-01-04",
            mid=79.0,
            reason="target",
        ),
        fill(
            3,
            "p1",
            "2024-01-03 14:50",
            "BUY",
            "close",
            95.0,
            right="P",
            expiry="2024-01-04",
            mid=94.0,
            reason="stop_loss",
        ),
    ]


def test_straddle_is_one_trade_with_hand_computed_numbers() -> None:
    trades = trade_table(_book(straddle_rows()), expiry_kind=None)
    assert len(trades) == 1
    t = trades.iloc[0]
    assert t["legs"] == 2
    # (100 - 80) * 50 + (90 - 95) * 50 - 4 * 20 = 1000 - 250 - 80
    assert t["pnl"] == pytest.approx(670.0)
    assert t["gross_pnl"] == pytest.approx(750.0)
    assert t["fees"] == pytest.approx(80.0)
    assert t["premium"] == pytest.approx((100 + 90) * 50)
    assert t["pnl_pct_premium"] == pytest.approx(670 / 9500)
    # sold 1 below mid twice, bought 1 above mid twice: 4 x 50 lost to the spread
    assert t["slippage"] == pytest.approx(200.0)
    assert t["exit_reason"] == "stop_loss"  # the last closing fill
    assert t["exit_ts"] == pd.Timestamp("2024-01-03 14:50")
    assert t["minutes_held"] == pytest.approx(5 * 60 + 30)
    assert t["days_held"] == 0
    assert t["dte_at_entry"] == 1
    assert t["entry_weekday"] == "Wednesday"
    assert t["expiry_kind"] == "unknown"
    assert t["status"] == "closed"
    assert t["excursion_basis"] == "fills"
    assert t["mae"] == 0.0 and t["mfe"] == pytest.approx(670.0)


def test_legs_keep_their_own_reasons() -> None:
    legs = leg_trades(_book(straddle_rows())).set_index("trade_id")
    assert legs.loc["c1", "exit_reason"] == "target"
    assert legs.loc["p1", "exit_reason"] == "stop_loss"
    assert legs.loc["c1", "cash"] == pytest.approx(1000 - 40)


def test_open_trade_has_no_pnl() -> None:
    rows = straddle_rows()[:3]  # the put is never closed
    t = trade_table(_book(rows), expiry_kind=None).iloc[0]
    assert t["status"] == "open"
    assert pd.isna(t["pnl"]) and pd.isna(t["exit_ts"])
    assert t["excursion_basis"] == "open"


def test_partial_closes_and_settlement() -> None:
    rows = [
        fill(0, "x", "2024-01-03 10:00", "BUY", "open", 10.0, qty=2, fees=0.0),
        fill(1, "x", "2024-01-04 10:00", "SELL", "close", 12.0, qty=1, fees=0.0, reason="partial"),
        fill(2, "x", "2024-01-05 15:30", "SELL", "settle", 15.0, qty=1, fees=0.0, reason="expiry"),
    ]
    t = trade_table(_book(rows), expiry_kind=None).iloc[0]
    assert t["pnl"] == pytest.approx((12 - 10) * 50 + (15 - 10) * 50)
    assert t["exit_reason"] == "expiry"
    assert t["days_held"] == 2
    assert t["premium"] == pytest.approx(-10 * 100)  # a debit
    assert pd.isna(t["pnl_pct_premium"])


def test_mae_mfe_from_marks() -> None:
    marks = pd.DataFrame(
        {
            "trade_id": ["c1", "c1", "p1", "p1"],
            "ts": pd.to_datetime(
                ["2024-01-03 10:00", "2024-01-03 10:30", "2024-01-03 10:00", "2024-01-03 10:30"]
            ),
            "pnl": [-300.0, 900.0, -200.0, -100.0],
        }
    )
    t = trade_table(_book(straddle_rows()), marks=marks, expiry_kind=None).iloc[0]
    assert t["excursion_basis"] == "marks"
    assert t["mae"] == pytest.approx(-500.0)  # 10:00: -300 + -200
    assert t["mfe"] == pytest.approx(800.0)  # 10:30: 900 - 100
    with pytest.raises(ValueError, match="marks: missing column"):
        trade_table(_book(straddle_rows()), marks=marks.drop(columns="pnl"))


def test_mae_mfe_from_daily_path_when_the_trade_was_alone() -> None:
    rows = [
        fill(0, "s", "2024-01-02 10:00", "SELL", "open", 200.0, fees=0.0),
        fill(1, "s", "2024-01-05 10:00", "BUY", "close", 150.0, fees=0.0, reason="target"),
    ]
    book = _book(rows)
    days = pd.bdate_range("2024-01-01", "2024-01-08")
    # marks of the short call at the closes of Jan 2, 3, 4: worth 260, 300, 180 (x50)
    daily = validate_daily(
        daily_from_fills(
            book, days, {days[1]: -260 * 50.0, days[2]: -300 * 50.0, days[3]: -180 * 50.0}
        )
    )
    t = trade_table(book, daily, expiry_kind=None).iloc[0]
    assert t["excursion_basis"] == "daily"
    assert t["mae"] == pytest.approx(-100 * 50)  # 200 -> 300
    assert t["mfe"] == pytest.approx(50 * 50)  # final 200 -> 150
    assert t["pnl"] == pytest.approx(2500.0)


def test_expiry_kind_callable_is_used() -> None:
    t = trade_table(_book(straddle_rows()), expiry_kind=lambda u, e: "monthly").iloc[0]
    assert t["expiry_kind"] == "monthly"


def test_empty_tradebook_gives_empty_table() -> None:
    assert trade_table(validate_tradebook(pd.DataFrame())).empty
    assert leg_trades(validate_tradebook(pd.DataFrame())).empty


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("action", "buy", r"row 1 \(fill_id 1\), field 'action'"),
        ("side", "HOLD", r"row 1 \(fill_id 1\), field 'side'"),
        ("qty", 0, r"field 'qty'.*> 0"),
        ("price", "abc", r"field 'price'"),
        ("signed_units", 50.0, r"field 'signed_units'.*wrong sign"),
    ],
)
def test_bad_tradebook_rows_are_named(field: str, value: object, message: str) -> None:
    frame = pd.DataFrame(straddle_rows())
    frame[field] = frame[field].astype(object)
    frame.loc[1, field] = value
    with pytest.raises(AnalyticsInputError, match=message):
        validate_tradebook(frame, "tb")


def test_missing_tradebook_column_is_named() -> None:
    with pytest.raises(AnalyticsInputError, match=r"missing column.*cash"):
        validate_tradebook(pd.DataFrame(straddle_rows()).drop(columns="cash"))


def test_bad_daily_rows_are_named() -> None:
    base = pd.DataFrame(
        {"date": ["2024-01-02", "2024-01-03"], "pnl": [1.0, 2.0], "equity": [1.0, 3.0]}
    )
    with pytest.raises(AnalyticsInputError, match=r"missing column.*equity"):
        validate_daily(base.drop(columns="equity"), "daily.csv")
    bad = base.copy()
    bad["pnl"] = ["1.0", "x"]
    with pytest.raises(AnalyticsInputError, match=r"daily.csv: row 1 \(2024-01-03\), field 'pnl'"):
        validate_daily(bad, "daily.csv")
    dup = base.copy()
    dup["date"] = ["2024-01-02", "2024-01-02"]
    with pytest.raises(AnalyticsInputError, match="appears twice"):
        validate_daily(dup, "daily.csv")
    with pytest.raises(AnalyticsInputError, match="field 'date'"):
        validate_daily(base.assign(date=["2024-01-02", "not a date"]), "daily.csv")


def test_stock_leg_from_physical_settlement_has_no_expiry() -> None:
    stock = fill(4, "stk", "2024-01-04 15:30", "BUY", "open", 22100.0, fees=0.0, reason="assigned")
    stock.update(asset="underlying", expiry=None, strike=None, right=None, symbol="NIFTY")
    close = dict(
        stock, fill_id=5, ts=pd.Timestamp("2024-01-05 10:00"), day=pd.Timestamp("2024-01-05")
    )
    close.update(
        side="SELL",
        action="close",
        signed_units=-50.0,
        price=22150.0,
        cash=50 * 22150.0,
        reason="exit",
    )
    trades = trade_table(_book([*straddle_rows(), stock, close]), expiry_kind=None)
    t = trades[trades["symbols"] == "NIFTY"].iloc[0]
    assert t["expiry_kind"] == "none"
    assert pd.isna(t["dte_at_entry"])
    assert t["pnl"] == pytest.approx(50 * 50.0)


def test_engine_schemas_hold_every_column_analytics_needs() -> None:
    """Contract with the engine: the columns read here exist in its tradebook and daily path."""
    from workbench.analytics.inputs import DAILY_NUMERIC, DAILY_REQUIRED, TRADEBOOK_REQUIRED
    from workbench.engine.result import DAILY_COLUMNS
    from workbench.engine.tradebook import TRADEBOOK_SCHEMA

    assert set(TRADEBOOK_REQUIRED) | {
        "mid",
        "spot",
        "iv",
        "delta",
        "cycle",
        "fill_id",
        "run_id",
        "symbol",
    } <= set(TRADEBOOK_SCHEMA.names)
    assert set(DAILY_REQUIRED) | set(DAILY_NUMERIC) | {"skipped"} <= set(DAILY_COLUMNS)


@st.composite
def _books(draw: st.DrawFn) -> list[dict]:
    """Random legs, each opened once and closed in 1-2 fills (some left open)."""
    rows: list[dict] = []
    fid = 0
    n_legs = draw(st.integers(1, 8))
    for leg in range(n_legs):
        day = draw(st.integers(1, 20))
        entry_min = draw(st.integers(0, 300))
        qty = draw(st.integers(1, 3))
        side = draw(st.sampled_from(["BUY", "SELL"]))
        back = "SELL" if side == "BUY" else "BUY"
        t0 = pd.Timestamp(2024, 3, day, 9, 15) + pd.Timedelta(minutes=entry_min)
        price = draw(st.floats(1.0, 500.0))
        fee = draw(st.floats(0.0, 30.0))
        rows.append(
            fill(fid, f"L{leg}", str(t0), side, "open", price, qty=qty, fees=fee, cycle=leg % 2)
        )
        fid += 1
        closes = draw(st.sampled_from([0, 1, 2])) if qty > 1 else draw(st.sampled_from([0, 1]))
        left = qty
        for k in range(closes):
            q = left if k == closes - 1 else 1
            left -= q
            t = t0 + pd.Timedelta(minutes=draw(st.integers(1, 5000)))
            rows.append(
                fill(
                    fid,
                    f"L{leg}",
                    str(t),
                    back,
                    "close",
                    draw(st.floats(0.05, 600.0)),
                    qty=q,
                    fees=fee,
                    reason=f"r{k}",
                )
            )
            fid += 1
    return rows


@settings(max_examples=25, deadline=None)
@given(_books())
def test_trade_table_accounts_for_every_fill(rows: list[dict]) -> None:
    book = _book(rows)
    trades = trade_table(book, expiry_kind=None)
    legs = leg_trades(book)
    assert trades["legs"].sum() == len(legs) == book["trade_id"].nunique()
    closed = trades[trades["status"] == "closed"]
    if (legs["net_units"] == 0).all():
        # everything closed: the trades' PnL is the cash of every fill, to the cent
        assert len(closed) == len(trades)
        assert closed["pnl"].sum() == pytest.approx(book["cash"].sum(), abs=1e-6)
        assert closed["fees"].sum() == pytest.approx(book["fees"].sum(), abs=1e-9)
    else:
        assert len(closed) < len(trades)
    assert ((closed["gross_pnl"] - closed["pnl"] - closed["fees"]).abs() < 1e-6).all()
    assert (closed["mae"] <= 0).all() and (closed["mfe"] >= 0).all()
    assert (closed["mae"] <= closed["pnl"] + 1e-9).all() and (
        closed["mfe"] >= closed["pnl"] - 1e-9
    ).all()
    assert (closed["exit_ts"] >= closed["entry_ts"]).all()
    assert trades.loc[trades["status"] == "open", "pnl"].isna().all()
