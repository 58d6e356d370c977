"""Hand-computed tradebooks on the tiny NIFTY market (engine_builders.tiny_nifty).

Every expected number below is worked out by hand from the bars in engine_builders: NIFTY lot
size 50 (Jan 2024), no fees unless stated.
"""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path

import pytest
from engine_builders import D1, D2, D3, E, tiny_nifty
from engine_strategies import Scripted

from workbench.engine.runner import run_backtest

LOT = 50


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_nifty(tmp_path_factory.mktemp("engine") / "tiny")


def straddle(at: str, strike: float = 21500, keys: tuple[str, str] | None = None) -> dict:
    h, m = at.split(":")
    return {
        "at": time(int(h), int(m)),
        "legs": [
            {"strike": strike, "right": "C", "side": "SELL"},
            {"strike": strike, "right": "P", "side": "SELL"},
        ],
        "keys": keys,
        "day": D1,
    }


def run(market: Path, params: dict, **kw) -> object:
    kw.setdefault("fill", "mid")
    kw.setdefault("fees", "none")
    return run_backtest(
        Scripted,
        data=market,
        start=D1,
        end=D1,
        params=params,
        executor="serial",
        progress=False,
        **kw,
    )


def rows(result) -> list[tuple]:
    tb = result.tradebook
    return list(
        zip(
            tb["position_key"],
            tb["ts"].dt.strftime("%H:%M"),
            tb["side"],
            tb["action"],
            tb["price"],
            tb["cash"],
            tb["reason"],
        )
    )


def test_straddle_with_time_exit_waits_for_a_live_price(market: Path) -> None:
    # sell C 105 + P 85 (mids at 09:16); the 09:19 time exit is refused because the call has no
    # bar at 09:19 (lag 1 > max_fill_lag 0); the exit is retried at 09:20: C 130, P 72.
    result = run(market, {"orders": [straddle("09:16", keys=("c", "p"))], "exit_at": time(9, 19)})
    assert rows(result) == [
        ("c", "09:16", "SELL", "open", 105.0, 105 * LOT, "entry"),
        ("p", "09:16", "SELL", "open", 85.0, 85 * LOT, "entry"),
        ("c", "09:20", "BUY", "close", 130.0, -130 * LOT, "time_exit"),
        ("p", "09:20", "BUY", "close", 72.0, -72 * LOT, "time_exit"),
    ]
    assert result.metrics["total_pnl"] == (105 + 85 - 130 - 72) * LOT == -600
    day = result.days.iloc[0]
    assert day["refused_fills"] == 1
    assert "c (NIFTY2410421500CE): no live price: last bar 1 ticks old" in day["refusal_messages"]
    tb = result.tradebook
    assert list(tb["lag"]) == [0, 0, 0, 0]
    assert list(tb["units"]) == [LOT] * 4
    assert list(tb["signed_units"]) == [-LOT, -LOT, LOT, LOT]
    assert list(tb["fill_model"]) == ["mid/mid"] * 4
    daily = result.daily.iloc[0]
    assert daily["equity"] == daily["cash"] == daily["realized"] == daily["pnl"] == -600
    assert daily["open_legs"] == 0 and daily["mtm"] == 0


def test_all_or_nothing_refusal_on_missing_bid_then_eod_force_close(market: Path) -> None:
    # cross-the-spread without fallback: at 09:18 the put has no bid -> the whole order is
    # refused (no call either); at 09:19 the call has no bar; at 09:20 both fill at the bid
    # (C 129, P 71), and 09:20 is the last tick, so the EOD force close buys back at the ask
    # (C 131, P 73): (129 + 71 - 131 - 73) x 50 = -200.
    result = run(market, {"orders": [straddle("09:18")]}, fill="cross,fallback=none")
    assert rows(result) == [
        ("NIFTY2410421500CE", "09:20", "SELL", "open", 129.0, 129 * LOT, "entry"),
        ("NIFTY2410421500PE", "09:20", "SELL", "open", 71.0, 71 * LOT, "entry"),
        ("NIFTY2410421500CE", "09:20", "BUY", "close", 131.0, -131 * LOT, "eod"),
        ("NIFTY2410421500PE", "09:20", "BUY", "close", 73.0, -73 * LOT, "eod"),
    ]
    assert result.metrics["total_pnl"] == -200
    messages = result.days.iloc[0]["refusal_messages"]
    assert "09:18:00 open NIFTY2410421500PE" in messages and "no bid" in messages
    assert "09:19:00 open NIFTY2410421500CE" in messages and "1 ticks old" in messages
    assert result.days.iloc[0]["refused_fills"] == 2


def test_fallback_fill_is_a_warning(market: Path) -> None:
    # mid with the default close fallback: at 09:18 the put has no bid -> filled at its close 80
    # with a warning; the call at its mid 115. Force close at 09:20: C mid 130, P mid 72.
    result = run(market, {"orders": [straddle("09:18")]})
    tb = result.tradebook
    assert list(tb["price"]) == [115.0, 80.0, 130.0, 72.0]
    assert list(tb["fill_model"]) == ["mid/mid", "mid/close", "mid/mid", "mid/mid"]
    assert result.days.iloc[0]["warnings"] == 1
    assert result.metrics["total_pnl"] == (115 + 80 - 130 - 72) * LOT


def test_stale_leg_is_force_closed_at_its_mark(market: Path) -> None:
    # buy the illiquid 21550 C at 09:17 (mid 95); at the last tick 09:20 its last bar is 09:19
    # (lag 1) -> the forced close uses the mark (mid of the 09:19 bar, 85) and warns.
    order = {"at": time(9, 17), "legs": [{"strike": 21550, "right": "C", "side": "BUY"}], "day": D1}
    result = run(market, {"orders": [order]})
    tb = result.tradebook
    assert list(tb["price"]) == [95.0, 85.0]
    assert list(tb["fill_model"]) == ["mid/mid", "force/mark"]
    assert list(tb["lag"]) == [0, 1]
    assert tb["price_ts"].iloc[1] == datetime(2024, 1, 2, 9, 19)
    assert result.metrics["total_pnl"] == (85 - 95) * LOT == -500
    assert "forced close" in result.days.iloc[0]["warning_messages"]


def test_fees_and_cash_per_fill(market: Path) -> None:
    # Rs 20 per executed leg: 4 fills -> 80 of fees; cash = -signed_units x price - fees.
    result = run(
        market,
        {"orders": [straddle("09:16")], "exit_at": time(9, 17)},
        fees="per-order:20,per_leg=true",
    )
    tb = result.tradebook
    assert list(tb["fees"]) == [20.0] * 4
    # entry C 105, P 85; exit 09:17 C 120, P 75
    assert list(tb["cash"]) == [105 * LOT - 20, 85 * LOT - 20, -120 * LOT - 20, -75 * LOT - 20]
    assert result.metrics["total_pnl"] == (105 + 85 - 120 - 75) * LOT - 80 == -330
    assert result.daily.iloc[0]["fees"] == 80


def test_stop_loss_on_money_and_multiple_cycles(market: Path) -> None:
    # two cycles: sell C at 09:15 (mid 100); at 09:16 mark 105 -> pnl -250: no stop (-300);
    # 09:17 mark 120 -> -1000 -> stop: buy at 120. Cycle 2 re-enters at 09:17 (on_bar after the
    # exit) at 120; 09:18 mark 115 (+250); 09:19 no bar: mark stays 115; 09:20 mark 130 -> -500
    # -> stop again at 130 (before the EOD close).  Total (100 - 120) * 50 + (120 - 130) * 50.
    order = {
        "at": time(9, 15),
        "legs": [{"strike": 21500, "right": "C", "side": "SELL"}],
        "keys": ["c"],
    }
    order2 = dict(order, at=time(9, 17))
    result = run(market, {"orders": [order, order2], "stop_loss": 300, "max_cycles": 2})
    assert rows(result) == [
        ("c", "09:15", "SELL", "open", 100.0, 100 * LOT, "entry"),
        ("c", "09:17", "BUY", "close", 120.0, -120 * LOT, "stop_loss"),
        ("c", "09:17", "SELL", "open", 120.0, 120 * LOT, "entry"),
        ("c", "09:20", "BUY", "close", 130.0, -130 * LOT, "stop_loss"),
    ]
    assert list(result.tradebook["cycle"]) == [0, 0, 1, 1]
    assert result.metrics["total_pnl"] == -1500
    assert result.metrics["trades"] == 2 and result.metrics["win_rate"] == 0.0


def test_roll_is_an_adjustment(market: Path) -> None:
    # sell C E at 09:15 (100); at 09:17 roll to the next expiry: buy back E at 120, sell E2 at 160
    # (both reason "roll", same key); force close E2 at 09:20 at 170.
    order = {
        "at": time(9, 15),
        "legs": [{"strike": 21500, "right": "C", "side": "SELL"}],
        "keys": ["c"],
        "day": D1,
    }
    result = run(market, {"orders": [order], "roll_at": time(9, 17)})
    assert rows(result) == [
        ("c", "09:15", "SELL", "open", 100.0, 100 * LOT, "entry"),
        ("c", "09:17", "BUY", "close", 120.0, -120 * LOT, "roll"),
        ("c", "09:17", "SELL", "open", 160.0, 160 * LOT, "roll"),
        ("c", "09:20", "BUY", "close", 170.0, -170 * LOT, "eod"),
    ]
    assert list(result.tradebook["expiry"].astype(str)) == [
        str(E),
        str(E),
        "2024-01-11",
        "2024-01-11",
    ]
    assert result.metrics["total_pnl"] == (100 - 120 + 160 - 170) * LOT


def test_a_two_leg_roll_is_one_order_or_nothing(market: Path) -> None:
    # sell C E and P E 21500 at 09:15 (100, 90), keys c and p. From 09:18 roll both in one order:
    # c -> C E2 21500, p -> C E 21550. At 09:18 the 21550 C has no bar, at 09:19 the 21500 C E
    # has none: both refused whole (no leg of either roll traded). At 09:20 all four legs quote:
    # close C E 130, P E 72, open C E2 170, C E 21550 -- no bar at 09:20 either -> refused; the
    # EOD force close then buys back c at 130 and p at 72.
    result = run(
        market, {"orders": [straddle("09:15", keys=("c", "p"))], "roll_both_at": time(9, 18)}
    )
    assert rows(result) == [
        ("c", "09:15", "SELL", "open", 100.0, 100 * LOT, "entry"),
        ("p", "09:15", "SELL", "open", 90.0, 90 * LOT, "entry"),
        ("c", "09:20", "BUY", "close", 130.0, -130 * LOT, "eod"),
        ("p", "09:20", "BUY", "close", 72.0, -72 * LOT, "eod"),
    ]
    messages = result.days.iloc[0]["refusal_messages"]
    assert result.days.iloc[0]["refused_fills"] == 3
    assert "09:18:00 roll p (NIFTY2410421550CE)" in messages
    assert "09:19:00 roll c (NIFTY2410421500CE)" in messages  # closing c has no bar either
    assert "09:20:00 roll p (NIFTY2410421550CE)" in messages
    # from 09:17 the same roll fills at once: four rows at 09:17, both reason "roll", keys kept;
    # c: buy back 120, sell E2 160; p: buy back 75, sell 21550 C 95. At 09:20 c (E2) closes at
    # 170 and p's 21550 C (last bar 09:19) at its mark 85.
    result = run(
        market, {"orders": [straddle("09:15", keys=("c", "p"))], "roll_both_at": time(9, 17)}
    )
    assert rows(result) == [
        ("c", "09:15", "SELL", "open", 100.0, 100 * LOT, "entry"),
        ("p", "09:15", "SELL", "open", 90.0, 90 * LOT, "entry"),
        ("c", "09:17", "BUY", "close", 120.0, -120 * LOT, "roll"),
        ("p", "09:17", "BUY", "close", 75.0, -75 * LOT, "roll"),
        ("c", "09:17", "SELL", "open", 160.0, 160 * LOT, "roll"),
        ("p", "09:17", "SELL", "open", 95.0, 95 * LOT, "roll"),
        ("c", "09:20", "BUY", "close", 170.0, -170 * LOT, "eod"),
        ("p", "09:20", "BUY", "close", 85.0, -85 * LOT, "eod"),
    ]
    assert result.metrics["total_pnl"] == (100 + 90 - 120 - 75 + 160 + 95 - 170 - 85) * LOT
    assert result.metrics["adjustments"] == 1 and result.metrics["trades"] == 1


def test_key_collision_raises_and_fails_only_that_day(market: Path) -> None:
    result = run_backtest(
        Scripted,
        data=market,
        params={"orders": [dict(straddle("09:16", keys=("c", "p")), day=None)], "collide": True},
        fill="mid",
        fees="none",
        executor="serial",
        progress=False,
    )
    days = result.days.set_index("date")
    assert list(days["status"]) == ["failed", "failed", "failed"]
    assert "ValueError: position key 'c' is already open" in days.loc[str(D1), "reason"]
    assert "Traceback" in days.loc[str(D1), "error"]


def test_failing_day_reported_while_others_complete(market: Path) -> None:
    params = {"orders": [dict(straddle("09:16"), day=None)], "exit_at": time(9, 18), "fail_on": D2}
    result = run_backtest(
        Scripted,
        data=market,
        params=params,
        fill="mid",
        fees="none",
        executor="serial",
        progress=False,
    )
    days = result.days.set_index("date")
    assert days.loc[str(D1), "status"] == "ok" and days.loc[str(D3), "status"] == "ok"
    assert days.loc[str(D2), "status"] == "failed"
    assert "RuntimeError: deliberate failure on 2024-01-03" in days.loc[str(D2), "error"]
    assert "Traceback (most recent call last)" in days.loc[str(D2), "error"]
    assert result.failed_days[0][0] == str(D2)
    assert set(result.tradebook["day"].astype(str)) == {str(D1), str(D3)}
    assert result.metrics["days_failed"] == 1


def _tradebook_differences(a, b) -> str:
    """A readable account of how two tradebooks differ (for the assertion message)."""
    if a.shape != b.shape:
        return f"shapes differ: {a.shape} vs {b.shape}\n{a}\n{b}"
    cols = [c for c in a.columns if not a[c].equals(b[c])]
    return f"columns differ: {cols}\n{a[cols].compare(b[cols]) if cols else ''}"


def test_failing_day_in_a_process_pool(market: Path, tmp_path: Path) -> None:
    """Pooled and serial runs give the same tradebook bytes, a failing day included.

    Both runs start from empty per-process caches (the serial run happens in this process, whose
    series LRU and open stores other tests in the same worker have used), so the comparison
    depends only on the engine: days may finish in any order across processes, and the run
    must still assemble them by date.
    """
    from workbench.engine.pool import close_stores, series_lru

    params = {"orders": [dict(straddle("09:16"), day=None)], "exit_at": time(9, 18), "fail_on": D3}

    def once(executor: str):
        series_lru().clear()
        close_stores()
        return run_backtest(
            Scripted,
            data=market,
            params=params,
            fill="mid",
            fees="none",
            progress=False,
            executor=executor,
        )

    pooled = once("process")
    serial = once("serial")
    assert pooled.failed_days[0][0] == str(D3)
    assert [d for d, _ in serial.failed_days] == [str(D3)]
    assert list(pooled.days["date"]) == list(serial.days["date"])
    pooled.save(tmp_path / "pooled")
    serial.save(tmp_path / "serial")
    a = (tmp_path / "pooled" / "tradebook.parquet").read_bytes()
    b = (tmp_path / "serial" / "tradebook.parquet").read_bytes()
    assert a == b, _tradebook_differences(pooled.tradebook, serial.tradebook)


@pytest.mark.parametrize(
    ("fault", "word"),
    [
        ("reverse", "out-of-order"),
        ("repeat", "repeated"),
        ("integers", "not numbers (tick 0 is 0)"),
        ("next_day", "tick 5 (2024-01-03T09:20"),
    ],
)
def test_stale_or_repeated_timestamps_raise(market: Path, fault: str, word: str) -> None:
    result = run(market, {"clock_fault": fault})
    day = result.days.iloc[0]
    assert day["status"] == "failed"
    assert "ChronologyError" in day["reason"] and word in day["reason"]


def test_position_open_after_stop_time_raises(market: Path) -> None:
    result = run(market, {"open_in_day_end": True})
    day = result.days.iloc[0]
    assert day["status"] == "failed"
    assert "ChronologyError" in day["reason"] and "open after the stop time" in day["reason"]


def test_unknown_and_bad_parameters_are_named(market: Path) -> None:
    from workbench.engine.errors import ConfigError

    with pytest.raises(ConfigError, match="parameter 'stop_los': unknown parameter"):
        run(market, {"stop_los": 1})
    with pytest.raises(ConfigError, match="parameter 'max_cycles'"):
        run(market, {"max_cycles": 0})
    with pytest.raises(ValueError, match="underlying"):
        run(market, {"underlying": "BANKNIFTY"})


def test_skipped_calendar_days_and_daily_rows(market: Path) -> None:
    # 2024-01-01 is an NSE trading day the dataset does not hold: recorded as skipped.
    result = run_backtest(
        Scripted,
        data=market,
        start="2024-01-01",
        end=D3,
        params={},
        executor="serial",
        progress=False,
    )
    days = result.days.set_index("date")
    assert days.loc["2024-01-01", "status"] == "skipped"
    assert "no data" in days.loc["2024-01-01", "reason"]
    assert list(result.daily["date"]) == ["2024-01-01", str(D1), str(D2), str(D3)]
    assert list(result.daily["skipped"]) == [True, False, False, False]


def test_strategy_clock_every_other_minute(market: Path) -> None:
    # clock 09:15, 09:17, 09:19. Short C at 09:15 (mid 100). At 09:19 the call's last bar is
    # 09:18, which first became visible at the 09:19 tick: lag 0 on this clock, so the EOD close
    # at 09:19 fills at its mid 115: (100 - 115) x 50.
    order = {
        "at": time(9, 15),
        "legs": [{"strike": 21500, "right": "C", "side": "SELL"}],
        "day": D1,
    }
    result = run(market, {"orders": [order], "clock_fault": "sparse"})
    assert rows(result) == [
        ("NIFTY2410421500CE", "09:15", "SELL", "open", 100.0, 100 * LOT, "entry"),
        ("NIFTY2410421500CE", "09:19", "BUY", "close", 115.0, -115 * LOT, "eod"),
    ]
    tb = result.tradebook
    assert list(tb["lag"]) == [0, 0]
    assert tb["price_ts"].iloc[1] == datetime(2024, 1, 2, 9, 19)
    assert result.days.iloc[0]["ticks"] == 3


def test_fallback_of_a_refused_order_is_not_a_warning(market: Path) -> None:
    # 09:18: the put has no bid (mid falls back to its close: a warning if it filled) but the
    # 21550 C has no bar (lag 1): the order is refused and no warning is counted. 09:19: both
    # legs have full quotes: C 21550 mid 85, P mid 70. EOD 09:20: C at its mark 85 (bar 09:19,
    # forced, a warning), P mid 72.
    order = {
        "at": time(9, 18),
        "legs": [
            {"strike": 21550, "right": "C", "side": "SELL"},
            {"strike": 21500, "right": "P", "side": "SELL"},
        ],
        "day": D1,
    }
    result = run(market, {"orders": [order]})
    day = result.days.iloc[0]
    assert day["refused_fills"] == 1
    assert day["warnings"] == 1 and "forced close" in day["warning_messages"]
    assert list(result.tradebook["price"]) == [85.0, 70.0, 85.0, 72.0]


def test_any_executor_thread_pool(market: Path, tmp_path: Path) -> None:
    import concurrent.futures as cf

    params = {"orders": [dict(straddle("09:16"), day=None)], "exit_at": time(9, 18)}
    with cf.ThreadPoolExecutor(max_workers=2) as pool:
        threaded = run_backtest(
            Scripted,
            data=market,
            params=params,
            fill="mid",
            fees="none",
            progress=False,
            executor=pool,
        )
    serial = run_backtest(
        Scripted,
        data=market,
        params=params,
        fill="mid",
        fees="none",
        executor="serial",
        progress=False,
    )
    threaded.save(tmp_path / "t")
    serial.save(tmp_path / "s")
    assert (tmp_path / "t" / "tradebook.parquet").read_bytes() == (
        tmp_path / "s" / "tradebook.parquet"
    ).read_bytes()
    assert threaded.metrics["days_failed"] == 0


def test_intraday_margin_is_measured_during_the_day(market: Path) -> None:
    # sell the 21500 straddle at 09:15 (C mid 100, P mid 90; spot 21510), exit at 09:17. Reg-T
    # (index: 15 % / 10 %) after the 09:15 fills, 50 units a leg:
    #   call: 50 x (100 + max(0.15 x 21510 - 0, 0.10 x 21510)) = 166,325
    #   put:  50 x (90 + max(0.15 x 21510 - 10, 0.10 x 21500)) = 165,325
    #   straddle: max(166,325 + 50 x 90, 165,325 + 50 x 100) = 170,825
    # The book is flat at the close (margin 0) but needed 170,825 during the day.
    result = run(market, {"orders": [straddle("09:15")], "exit_at": time(9, 17)}, margin="reg-t")
    day = result.daily.iloc[0]
    assert day["margin"] == 0.0
    assert day["peak_margin"] == pytest.approx(170_825.0, abs=1e-6)
    assert result.metrics["total_pnl"] == (100 + 90 - 120 - 75) * LOT
    assert result.metrics["peak_margin"] == 170_825.0
    assert result.metrics["return_on_peak_margin"] == pytest.approx(-250 / 170_825.0)
    assert result.metrics["capital_base"] != "margin"  # auto: flat at the close -> fixed
