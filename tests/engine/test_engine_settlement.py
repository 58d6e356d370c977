"""Positional mode: positions carry across days and expire at intrinsic value.

NIFTY: cash, PM (settles against the expiry day's last close). SPX: cash, AM (settles against the
expiry day's opening price). SPY: physical (an ITM option becomes a stock position). Expected
numbers are computed by hand from the bars written here and in engine_builders.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time
from pathlib import Path

import pytest
from engine_builders import D1, D2, D3, E, tiny_nifty, write_market
from engine_strategies import PositionalScripted

from workbench.engine.runner import run_backtest

T18, T19 = date(2024, 1, 18), date(2024, 1, 19)  # SPX monthly / SPY weekly expiry: Fri 19 Jan 2024


def order(day: date, at: str, strike: float, right: str, side: str, key: str) -> dict:
    h, m = at.split(":")
    return {
        "at": time(int(h), int(m)),
        "day": day,
        "legs": [{"strike": strike, "right": right, "side": side}],
        "keys": [key],
    }


def run(data: Path, orders: list[dict], **kw):
    return run_backtest(
        PositionalScripted,
        data=data,
        params={"orders": orders, "max_cycles": 5},
        fill="mid",
        fees="none",
        progress=False,
        **kw,
    )


@pytest.fixture(scope="module")
def nifty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_nifty(tmp_path_factory.mktemp("settle") / "nifty")


def test_cash_pm_settlement_at_the_expiry_close(nifty: Path) -> None:
    # D2 09:16, one order: buy 21500 C at mid 75, sell 21500 P at mid 18 (lot 50). Held to D3
    # (expiry E); D3's last spot close is 21655 -> C settles at 155, P at 0.
    both = {
        "at": time(9, 16),
        "day": D2,
        "legs": [
            {"strike": 21500, "right": "C", "side": "BUY"},
            {"strike": 21500, "right": "P", "side": "SELL"},
        ],
        "keys": ["c", "p"],
    }
    result = run(nifty, [both])
    tb = result.tradebook
    assert list(zip(tb["position_key"], tb["action"], tb["price"], tb["reason"])) == [
        ("c", "open", 75.0, "entry"),
        ("p", "open", 18.0, "entry"),
        ("c", "settle", 155.0, "expiry"),
        ("p", "settle", 0.0, "expiry"),
    ]
    assert list(tb["day"].astype(str)) == [str(D2), str(D2), str(D3), str(D3)]
    assert str(tb["ts"].iloc[2]) == "2024-01-04 09:20:00"  # after the session's last tick
    assert tb["lag"].isna().sum() == 2  # settlements are not market prices
    daily = result.daily.set_index("date")
    # D2 close marks: C mid 110, P mid 10 -> unrealised (110-75)*50 + (18-10)*50 = 1750 + 400
    assert daily.loc[str(D2), "unrealized"] == pytest.approx(2150)
    assert daily.loc[str(D2), "equity"] == pytest.approx(2150)
    assert daily.loc[str(D2), "mtm"] == pytest.approx(110 * 50 - 10 * 50)
    assert daily.loc[str(D2), "open_legs"] == 2
    # D3: realised (155-75)*50 + 18*50 = 4000 + 900
    assert daily.loc[str(D3), "equity"] == pytest.approx(4900)
    assert daily.loc[str(D3), "pnl"] == pytest.approx(4900 - 2150)
    assert daily.loc[str(D3), "open_legs"] == 0
    assert result.metrics["total_pnl"] == 4900
    assert str(E) == str(D3)


def test_expired_position_is_not_marked_after_expiry(nifty: Path) -> None:
    # A position opened on D1 09:15 (C E at mid 100) and never closed settles on D3 at 155.
    result = run(nifty, [order(D1, "09:15", 21500, "C", "BUY", "c")])
    assert result.metrics["total_pnl"] == (155 - 100) * 50
    assert list(result.tradebook["action"]) == ["open", "settle"]


@pytest.fixture(scope="module")
def spx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spot = {
        T18: [("09:30", 4775, 4780), ("09:31", 4780, 4785), ("09:32", 4785, 4790)],
        T19: [("09:30", 4800, 4810), ("09:31", 4810, 4805), ("09:32", 4805, 4820)],
    }
    feb = date(2024, 2, 16)
    options = {
        T18: [
            ("09:30", T19, 4790, "C", 20, 19, 21),
            ("09:31", T19, 4790, "C", 22, 21, 23),
            ("09:32", T19, 4790, "C", 25, 24, 26),
        ],
        # AM-settled SPX stops trading the day before; another expiry trades on the 19th
        T19: [("09:30", feb, 4800, "C", 60, 59, 61), ("09:31", feb, 4800, "C", 62, 61, 63)],
    }
    root = tmp_path_factory.mktemp("settle") / "spx"
    return write_market(
        root, "SPX", spot, options, venue="CBOE", timezone="America/New_York", name="spx"
    )


def test_cash_am_settlement_at_the_opening_price(spx: Path) -> None:
    # buy 1 SPX 4790 C at 09:31 on the 18th (mid 22, multiplier 100); on the 19th it settles
    # against the opening price 4800 (first bar's open), not the close: intrinsic 10.
    result = run(spx, [order(T18, "09:31", 4790, "C", "BUY", "c")])
    tb = result.tradebook
    assert list(zip(tb["action"], tb["price"], tb["units"])) == [
        ("open", 22.0, 100.0),
        ("settle", 10.0, 100.0),
    ]
    assert str(tb["ts"].iloc[1]) == "2024-01-19 09:30:00"  # at the session's first tick
    assert result.metrics["total_pnl"] == (10 - 22) * 100
    assert tb["spot"].iloc[1] == 4800


@pytest.fixture(scope="module")
def spy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spot = {
        T18: [("09:30", 476, 475), ("09:31", 475, 474), ("09:32", 474, 473)],
        T19: [("09:30", 472, 470), ("09:31", 470, 468), ("09:32", 468, 465)],
    }
    options = {
        T18: [
            ("09:30", T19, 470, "P", 3.0, 2.9, 3.1),
            ("09:31", T19, 470, "P", 3.5, 3.4, 3.6),
            ("09:32", T19, 470, "P", 4.0, 3.9, 4.1),
        ],
        T19: [
            ("09:30", T19, 470, "P", 4.0, 3.9, 4.1),
            ("09:31", T19, 470, "P", 5.0, 4.9, 5.1),
            ("09:32", T19, 470, "P", 6.0, 5.9, 6.1),
        ],
    }
    root = tmp_path_factory.mktemp("settle") / "spy"
    return write_market(
        root, "SPY", spot, options, venue="OPRA", timezone="America/New_York", name="spy"
    )


def test_physical_settlement_becomes_a_stock_position(spy: Path) -> None:
    # sell 1 SPY 470 P at 09:31 on the 18th (mid 3.5, 100 shares): +350. On the 19th the close is
    # 465: the put settles at intrinsic 5 (-500) and is assigned: buy 100 SPY at 465 (-46,500),
    # a stock position marked at 465 (+46,500). Equity = 350 - 500 = -150.
    result = run(spy, [order(T18, "09:31", 470, "P", "SELL", "p")])
    tb = result.tradebook
    assert list(
        zip(tb["asset"], tb["side"], tb["action"], tb["price"], tb["qty"], tb["cash"], tb["reason"])
    ) == [
        ("option", "SELL", "open", 3.5, 1, 350.0, "entry"),
        ("option", "BUY", "settle", 5.0, 1, -500.0, "expiry"),
        ("underlying", "BUY", "open", 465.0, 100, -46500.0, "assignment"),
    ]
    stock = tb.iloc[2]
    assert stock["symbol"] == "SPY" and stock["position_key"] == "p"
    assert stock["expiry"] is None or str(stock["expiry"]) in ("NaT", "None")
    daily = result.daily.set_index("date")
    assert daily.loc[str(T19), "equity"] == pytest.approx(-150)
    assert daily.loc[str(T19), "mtm"] == pytest.approx(46500)
    assert daily.loc[str(T19), "open_legs"] == 1
    assert daily.loc[str(T19), "delta"] == pytest.approx(100)


def test_margin_column_from_the_margin_model(nifty: Path) -> None:
    # short 21500 P on D2 (mid 18); at D2's close its mark is 10. DefinedRisk = worst expiry loss
    # net of premium at the mark: (21500 - 10) x 50 at S = 0. Flat on D1 and after settlement: 0.
    result = run(nifty, [order(D2, "09:16", 21500, "P", "SELL", "p")], margin="defined-risk")
    margin = result.daily.set_index("date")["margin"]
    assert margin[str(D1)] == 0.0
    assert margin[str(D2)] == pytest.approx((21500 - 10) * 50)
    assert margin[str(D3)] == 0.0
    # a naked short call has no defined risk: NaN and a warning naming why
    result = run(nifty, [order(D2, "09:16", 21500, "C", "SELL", "c")], margin="defined-risk")
    day = result.days.set_index("date").loc[str(D2)]
    assert "unbounded loss" in day["warning_messages"]
    assert result.daily.set_index("date")["margin"].isna()[str(D2)]


def test_span_margin_for_a_leg_without_an_implied_vol(tmp_path: Path) -> None:
    # spot 21600 all morning; the 21500 C trades at 90 (below its intrinsic 100: no volatility
    # reproduces it), the 21700 C at 60 (a normal price). Positions held overnight.
    bars = [(m, 21600.0, 21600.0) for m in ("09:15", "09:16", "09:17")]
    rows = [(m, E, 21500.0, "C", 90.0, 89.0, 91.0) for m in ("09:15", "09:16", "09:17")]
    rows += [(m, E, 21700.0, "C", 60.0, 59.0, 61.0) for m in ("09:15", "09:16", "09:17")]
    data = write_market(tmp_path / "novol", "NIFTY", {D1: bars}, {D1: rows})
    both = {
        "at": time(9, 15),
        "legs": [
            {"strike": 21500, "right": "C", "side": "SELL"},
            {"strike": 21700, "right": "C", "side": "SELL"},
        ],
        "keys": ["itm", "otm"],
    }
    # the leg without a volatility borrows the other leg's: the same margin as the model gives
    # with that volatility set on both legs
    result = run(data, [both], margin="span")
    day = result.days.set_index("date").loc[str(D1)]
    assert day["status"] == "ok"
    message = day["warning_messages"]
    assert "itm (NIFTY2410421500CE, mark 90) has no implied volatility" in message
    assert "revalued at otm's (NIFTY2410421700CE)" in message
    margin = result.daily.set_index("date")["margin"][str(D1)]
    assert math.isfinite(margin)
    from workbench.engine.greeks import implied_greeks
    from workbench.execution.margin import SpanLike
    from workbench.execution.payoff import PositionLeg
    from workbench.model.contracts import OptionContract
    from workbench.model.enums import Right

    when = datetime(2024, 1, 2, 9, 17)
    years = (datetime(2024, 1, 4, 15, 30) - when).total_seconds() / (365 * 86400)
    otm = OptionContract("NIFTY", E, 21700.0, Right.CALL)
    vol = implied_greeks([otm], [60.0], 21600.0, when, time(15, 30))[0]["iv"]
    legs = [
        PositionLeg(k, True, -50.0, price, years, vol) for k, price in ((21500, 90), (21700, 60))
    ]
    assert margin == pytest.approx(SpanLike().margin(legs, 21600.0), rel=1e-12)
    # alone, it has nobody to borrow from: NaN and a warning; the day still completes
    alone = {**both, "legs": both["legs"][:1], "keys": ["itm"]}
    result = run(data, [alone], margin="span")
    day = result.days.set_index("date").loc[str(D1)]
    assert day["status"] == "ok"
    assert result.daily.set_index("date")["margin"].isna()[str(D1)]
    assert "margin span unavailable, NaN for the day" in day["warning_messages"]
    assert "no leg of the position has an implied volatility" in day["warning_messages"]
    # the model's own fallback volatility comes first: a number and no warning
    result = run(data, [alone], margin="span:0.06,sigma=0.15")
    margin = result.daily.set_index("date")["margin"][str(D1)]
    assert 0.02 * 50 * 21600 < margin < 50 * 21600
    assert "margin" not in result.days.set_index("date").loc[str(D1), "warning_messages"]


def test_span_margin_of_a_held_short_straddle_on_synthetic_nifty(tmp_path: Path) -> None:
    """One lot (50) of a short ATM NIFTY weekly straddle, spot about 21,600, early 2024: NSE's
    SPAN + exposure margin for it was of the order of 1-1.5 lakh INR; the span model with its
    defaults (6 % price scan, 4 vol points, 2 % exposure on both short legs' notional) must land
    in that region on every day the straddle is open, and be 0 once it has expired."""
    from engine_strategies import HeldStraddle

    from workbench.data.synth import generate

    data = tmp_path / "synth"
    generate("nifty-intraday", data, seed=7, start="2024-01-01", days=4, progress=False, workers=1)
    result = run_backtest(
        HeldStraddle, data=data, margin="span", fees="none", executor="serial", progress=False
    )
    daily = result.daily.set_index("date")
    held = daily[daily["open_legs"] == 2]
    assert len(held) == 3  # Mon-Wed; the weekly expires on Thursday 2024-01-04
    assert held["margin"].between(80_000, 160_000).all(), held["margin"]
    assert daily.loc["2024-01-04", "open_legs"] == 0 and daily.loc["2024-01-04", "margin"] == 0


def test_positional_default_trades_until_the_data_ends(nifty: Path) -> None:
    # no max_cycles: a positional strategy re-enters every day. Buy the 21500 C (expiry E) at
    # 09:15 each day, exit at 09:17: D1 100 -> 120, D2 70 -> 80, D3 130 -> 125 (mids, lot 50).
    orders = [order(d, "09:15", 21500, "C", "BUY", "c") for d in (D1, D2, D3)]
    result = run_backtest(
        PositionalScripted,
        data=nifty,
        params={"orders": orders, "exit_at": time(9, 17)},
        fill="mid",
        fees="none",
        progress=False,
    )
    tb = result.tradebook
    assert list(tb["price"]) == [100.0, 120.0, 70.0, 80.0, 130.0, 125.0]
    assert list(tb["cycle"]) == [0, 0, 1, 1, 2, 2]
    assert result.metrics["trades"] == 3
    assert result.metrics["total_pnl"] == (20 + 10 - 5) * 50
    # an explicit cap still binds: one cycle, then DONE for the rest of the run
    capped = run_backtest(
        PositionalScripted,
        data=nifty,
        params={"orders": orders, "exit_at": time(9, 17), "max_cycles": 1},
        fill="mid",
        fees="none",
        progress=False,
    )
    assert list(capped.tradebook["price"]) == [100.0, 120.0]
