"""Resting orders on the tiny NIFTY market: hand-computed tradebooks (engine_builders).

NIFTY lot 50 (Jan 2024), no fees, mid fills unless stated. D1 mids: 21500 C (expiry E) 100,
105, 120, 115, (no bar at 09:19), 130; 21500 P 90, 85, 75, 80 (09:18: no bid), 70, 72; spot
closes 21510, 21520, 21540, 21530, 21560, 21550. E2 21500 C: D1 150, 152, 160, 158, 165,
170; D2 140, 142, 150, 160, 155, 170.
"""

from __future__ import annotations

import hashlib
from datetime import time
from pathlib import Path

import pytest
from engine_builders import D1, D2, D3, E2, nifty_options, nifty_spot, tiny_nifty, write_market
from order_strategies import Resting

from workbench.engine.errors import StrategyStateError
from workbench.engine.result import BacktestResult
from workbench.engine.runner import run_backtest

LOT = 50
C = {"strike": 21500, "right": "C", "side": "BUY"}
P = {"strike": 21500, "right": "P", "side": "BUY"}
SHORT = [
    {"strike": 21500, "right": "C", "side": "SELL"},
    {"strike": 21500, "right": "P", "side": "SELL"},
]


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_nifty(tmp_path_factory.mktemp("orders") / "tiny")


def t(hhmm: str) -> time:
    h, m = hhmm.split(":")
    return time(int(h), int(m))


def run(market: Path, steps: list[dict], *, end=D1, mode=None, cycles=None, **kw):
    kw.setdefault("fill", "mid")
    kw.setdefault("fees", "none")
    for s in steps:
        s["at"] = t(s["at"])
    return run_backtest(
        Resting,
        data=market,
        start=D1,
        end=end,
        params={"steps": steps, "max_cycles": cycles},
        executor="serial",
        progress=False,
        mode=mode,
        **kw,
    )


def rows(result) -> list[tuple]:
    tb = result.tradebook
    return list(
        zip(
            tb["position_key"],
            tb["ts"].dt.strftime("%m-%d %H:%M"),
            tb["side"],
            tb["action"],
            [round(x, 9) for x in tb["price"]],
            tb["reason"],
        )
    )


def events(result) -> list[tuple]:
    o = result.orders
    return list(zip(o["order_id"], o["ts"].dt.strftime("%m-%d %H:%M"), o["event"]))


# -- limit orders -------------------------------------------------------------------------------
def test_resting_limit_fills_at_a_later_bar_at_its_limit(market: Path) -> None:
    # buy P limit 80 placed at 09:15 (mid 90). 09:16 (its arrival): 85 > 80, rests. 09:17: the
    # mid 75 is through the limit: a resting order fills AT its limit, 80, not at 75.
    # Force close at 09:20 at the mid 72: (72 - 80) x 50 = -400.
    result = run(market, [{"at": "09:15", "do": "limit", "legs": [P], "keys": ["p"], "limit": 80}])
    assert rows(result) == [
        ("p", "01-02 09:17", "BUY", "open", 80.0, "entry"),
        ("p", "01-02 09:20", "SELL", "close", 72.0, "eod"),
    ]
    assert list(result.tradebook["fill_model"]) == ["limit/mid", "mid/mid"]
    assert result.metrics["total_pnl"] == -400
    assert events(result) == [
        ("20240102-1", "01-02 09:15", "placed"),
        ("20240102-1", "01-02 09:17", "filled"),
    ]
    assert result.orders["net_price"].iloc[1] == 80.0


def test_marketable_limit_fills_at_its_arrival_at_the_model_price(market: Path) -> None:
    # buy P limit 88 placed at 09:15: at 09:16 (the next tick) the mid is 85 <= 88, so the
    # arriving order fills at the fill model's price, 85.
    result = run(market, [{"at": "09:15", "do": "limit", "legs": [P], "keys": ["p"], "limit": 88}])
    assert rows(result)[0] == ("p", "01-02 09:16", "BUY", "open", 85.0, "entry")
    assert result.tradebook["fill_model"].iloc[0] == "mid/mid"


def test_not_filled_at_the_placing_bar_nor_at_the_touch_with_probability_zero(
    market: Path,
) -> None:
    # buy C limit 115 placed at 09:16, where the mid 105 would fill it: not at the placing bar.
    # 09:17: 120 > 115. 09:18: mid 115 = the limit: the touch, p = 0 -> no fill. 09:19: no bar.
    # 09:20: 130. Never filled; the day order expires at the day's end.
    step = {"at": "09:16", "do": "limit", "legs": [C], "keys": ["c"], "limit": 115}
    Resting.seen.clear()
    result = run(market, [dict(step)])
    assert result.tradebook.empty
    assert [e for _, _, e in events(result)] == ["placed", "expired"]
    seen = {str(ts)[11:16]: orders for ts, orders, _ in Resting.seen if orders}
    assert seen["09:17"][0][3] == "net 120 worse than the limit 115"
    assert seen["09:18"][0][3].startswith("at the touch (net 115), not filled (p=0, u=")
    assert result.days.iloc[0]["refused_fills"] == 0  # a resting order's tick is no refusal
    # p = 1: it fills at the touch, 09:18, at 115
    result = run(market, [dict(step, touch=1.0)])
    assert rows(result)[0] == ("c", "01-02 09:18", "BUY", "open", 115.0, "entry")


def test_touch_probability_draw_is_deterministic_and_seeded_by_the_run(market: Path) -> None:
    step = {"at": "09:16", "do": "limit", "legs": [C], "keys": ["c"], "limit": 115, "touch": 0.5}
    a = run(market, [dict(step)])
    b = run(market, [dict(step)])
    assert a.run_id == b.run_id
    assert a.tradebook.drop(columns=["run_id"]).equals(b.tradebook.drop(columns=["run_id"]))
    assert a.orders.equals(b.orders)
    # independent reference: u = sha256("<config hash>|<order id>|<revision>|<tick ts>")
    from workbench.engine.config import build_config

    config = build_config(Resting.Config, {"steps": [dict(step, at=t("09:16"))]})
    text = f"{config.config_hash()}|20240102-1|0|2024-01-02T09:18:00"
    u = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2.0**64
    assert (len(a.tradebook) > 0) == (u < 0.5)


def test_multi_leg_limit_waits_for_every_leg_then_fills_at_the_limit(market: Path) -> None:
    # sell the 21500 straddle for a credit of at least 190 (limit = net debit -190), placed at
    # 09:17 (C 120 + P 75 = 195 would fill there). No fallback: 09:18 the put has no bid (no
    # fill, although the call is quoted), 09:19 the call has no bar. 09:20: 130 + 72 = 202 >=
    # 190 -> fills at the limit: each sold leg x 190/202 (premium-weighted), net credit 190.
    # Force close at the same tick at the mids: (190 - 202) x 50 = -600.
    Resting.seen.clear()
    result = run(
        market,
        [{"at": "09:17", "do": "limit", "legs": SHORT, "keys": ["c", "p"], "limit": -190}],
        fill="mid,fallback=none",
    )
    c, p = 130 * 190 / 202, 72 * 190 / 202
    assert rows(result) == [
        ("c", "01-02 09:20", "SELL", "open", round(c, 9), "entry"),
        ("p", "01-02 09:20", "SELL", "open", round(p, 9), "entry"),
        ("c", "01-02 09:20", "BUY", "close", 130.0, "eod"),
        ("p", "01-02 09:20", "BUY", "close", 72.0, "eod"),
    ]
    assert result.metrics["total_pnl"] == pytest.approx(-600, abs=1e-6)
    assert result.days.iloc[0]["refused_fills"] == 0
    # what the strategy saw of the order at each tick: why it did not fill
    seen = {str(ts)[11:16]: orders for ts, orders, _ in Resting.seen if orders}
    assert "p (NIFTY2410421500PE): mid fill refused: no bid" in seen["09:18"][0][3]
    assert "c (NIFTY2410421500CE): no live price: last bar 1 ticks old" in seen["09:19"][0][3]


def test_closing_limit_takes_profit_and_cancels_the_stop(market: Path) -> None:
    # buy P at 09:15 (mid 90); close it with a limit "net debit <= -74" (sell for >= 74) and a
    # stop below value 60. 09:16: 85 -> sells? the closing net is -85 <= -74 at its arrival:
    # filled at 85. The stop, worked after it at the same tick, is cancelled (positions closed).
    result = run(
        market,
        [
            {"at": "09:15", "do": "open", "legs": [P], "keys": ["p"]},
            {"at": "09:15", "do": "limit", "close": ["p"], "limit": -74},
            {"at": "09:15", "do": "stop", "close": ["p"], "below": 60},
        ],
    )
    assert rows(result) == [
        ("p", "01-02 09:15", "BUY", "open", 90.0, "entry"),
        ("p", "01-02 09:16", "SELL", "close", 85.0, "limit"),
    ]
    assert events(result) == [
        ("20240102-1", "01-02 09:15", "placed"),
        ("20240102-2", "01-02 09:15", "placed"),
        ("20240102-1", "01-02 09:16", "filled"),
        ("20240102-2", "01-02 09:16", "cancelled"),
    ]
    assert result.orders["reason"].iloc[3] == "positions closed: p"


# -- stops --------------------------------------------------------------------------------------
def test_stop_on_position_value_becomes_a_market_order(market: Path) -> None:
    # short straddle at 09:15 (C 100 + P 90: credit 190, value -190); stop below -194.
    # value: 09:16 -(105 + 85) = -190; 09:17 -(120 + 75) = -195 <= -194 -> triggered, bought
    # back at once at the mids: (190 - 195) x 50 = -250.
    result = run(
        market,
        [
            {"at": "09:15", "do": "open", "legs": SHORT, "keys": ["c", "p"]},
            {"at": "09:15", "do": "stop", "close": ["*"], "on": "value", "below": -194},
        ],
    )
    assert rows(result)[2:] == [
        ("c", "01-02 09:17", "BUY", "close", 120.0, "stop"),
        ("p", "01-02 09:17", "BUY", "close", 75.0, "stop"),
    ]
    assert result.metrics["total_pnl"] == -250
    o = result.orders
    assert list(o["event"]) == ["placed", "triggered", "filled"]
    assert o["net_price"].iloc[1] == -195.0  # the watched value
    assert o["net_price"].iloc[2] == 195.0  # the closing net debit


def test_stop_on_spot_retries_until_every_leg_fills(market: Path) -> None:
    # stop above spot 21555: 09:19 spot 21560 -> triggered; the call has no bar at 09:19, so
    # the market order waits; 09:20: bought back at C 130, P 72.
    result = run(
        market,
        [
            {"at": "09:15", "do": "open", "legs": SHORT, "keys": ["c", "p"]},
            {"at": "09:15", "do": "stop", "close": ["c", "p"], "on": "spot", "above": 21555},
        ],
    )
    assert rows(result)[2:] == [
        ("c", "01-02 09:20", "BUY", "close", 130.0, "stop"),
        ("p", "01-02 09:20", "BUY", "close", 72.0, "stop"),
    ]
    assert events(result)[1:] == [
        ("20240102-1", "01-02 09:19", "triggered"),
        ("20240102-1", "01-02 09:20", "filled"),
    ]


def test_stop_on_spot_can_open_legs(market: Path) -> None:
    # a breakout entry: buy C when spot >= 21535: 09:17 (21540) at the mid 120
    result = run(
        market,
        [{"at": "09:15", "do": "stop", "legs": [C], "keys": ["c"], "on": "spot", "above": 21535}],
    )
    assert rows(result)[0] == ("c", "01-02 09:17", "BUY", "open", 120.0, "entry")


# -- cancel, replace, time in force --------------------------------------------------------------
def test_cancel_and_replace(market: Path) -> None:
    # cancelled at 09:16, the limit of 80 would have filled at 09:17: nothing fills
    result = run(
        market,
        [
            {"at": "09:15", "do": "limit", "legs": [P], "keys": ["p"], "limit": 80},
            {"at": "09:16", "do": "cancel", "target": 0},
        ],
    )
    assert result.tradebook.empty
    assert [e for _, _, e in events(result)] == ["placed", "cancelled"]
    # a limit of 70 would not fill before 09:19; replaced at 09:16 by 76, the new order arrives
    # at 09:17 where the mid 75 <= 76 fills it at 75
    result = run(
        market,
        [
            {"at": "09:15", "do": "limit", "legs": [P], "keys": ["p"], "limit": 70},
            {"at": "09:16", "do": "replace", "target": 0, "limit": 76},
        ],
    )
    assert rows(result)[0] == ("p", "01-02 09:17", "BUY", "open", 75.0, "entry")
    assert [e for _, _, e in events(result)] == ["placed", "replaced", "filled"]
    assert list(result.orders["revision"]) == [0, 1, 1]


def test_bar_tif_is_tried_at_the_next_tick_only(market: Path) -> None:
    # buy P limit 80, tif bar, placed at 09:15: tried at 09:16 (85) only, then expired; the
    # 09:17 mid 75 does not fill it
    result = run(
        market,
        [{"at": "09:15", "do": "limit", "legs": [P], "keys": ["p"], "limit": 80, "tif": "bar"}],
    )
    assert result.tradebook.empty
    assert events(result) == [
        ("20240102-1", "01-02 09:15", "placed"),
        ("20240102-1", "01-02 09:16", "expired"),
    ]


def test_gtc_rests_across_days_in_positional_mode_and_day_expires(market: Path) -> None:
    # buy the E2 call with a limit of 141 at D1 09:20 (mid 170). GTC: D2 09:15 (its arrival,
    # mid 140) fills it at 140. A day order expires at D1's end.
    step = {"at": "09:20", "do": "limit", "legs": [dict(C, expiry=E2)], "keys": ["c"], "limit": 141}
    result = run(market, [dict(step, tif="gtc")], end=D2, mode="positional")
    assert rows(result) == [("c", "01-03 09:15", "BUY", "open", 140.0, "entry")]
    result = run(market, [dict(step, tif="day")], end=D2, mode="positional")
    assert result.tradebook.empty
    assert events(result) == [
        ("20240102-1", "01-02 09:20", "placed"),
        ("20240102-1", "01-02 09:20", "expired"),
    ]
    # intraday: a GTC order also expires at the day's end (each day places its own)
    result = run(market, [dict(step, tif="gtc")], end=D2)
    assert result.tradebook.empty
    assert list(result.orders["event"]) == ["placed", "expired"] * 2
    assert result.orders["reason"].iloc[1] == "day end (intraday run)"


def test_orders_are_saved_and_loaded(market: Path, tmp_path: Path) -> None:
    result = run(market, [{"at": "09:15", "do": "limit", "legs": [P], "keys": ["p"], "limit": 80}])
    out = result.save(tmp_path / "run")
    assert (out / "orders.csv").is_file()
    back = BacktestResult.load(out)
    assert back.orders.equals(result.orders)


def test_bad_orders_are_refused_with_a_clear_error(market: Path) -> None:
    for step, message in (
        ({"at": "09:15", "do": "limit", "legs": [P], "limit": 80, "tif": "week"}, "tif must be"),
        ({"at": "09:15", "do": "limit", "close": ["nope"], "limit": 1}, "no open position 'nope'"),
        ({"at": "09:15", "do": "stop", "legs": [P], "on": "value", "above": 1}, "on='spot'"),
        ({"at": "09:15", "do": "stop", "close": ["*"], "above": 1}, "none are open"),
        ({"at": "09:15", "do": "limit", "legs": [P], "limit": 1, "touch": 2}, "touch_probability"),
    ):
        result = run(market, [step])
        assert result.days.iloc[0]["status"] == "failed"
        assert message in result.days.iloc[0]["reason"], result.days.iloc[0]["reason"]


# -- no look-ahead ------------------------------------------------------------------------------
def _scaled(k: float, cut: str) -> tuple[dict, dict]:
    """The tiny market with every spot and option price strictly after D1 ``cut`` times k."""
    spot = nifty_spot()
    options = nifty_options()
    for d in (D1, D2, D3):
        spot[d] = [(h, o * k, c * k) if (d, h) > (D1, cut) else (h, o, c) for h, o, c in spot[d]]
        options[d] = [
            (h, e, s, r, *(None if x is None else x * k for x in (c, b, a)))
            if (d, h) > (D1, cut)
            else (h, e, s, r, c, b, a)
            for h, e, s, r, c, b, a in options[d]
        ]
    return spot, options


@pytest.mark.parametrize("cut", ["09:15", "09:16", "09:17", "09:18", "09:19"])
def test_prices_after_t_change_no_order_event_or_fill_before_t(tmp_path: Path, cut: str) -> None:
    base = write_market(tmp_path / "base", "NIFTY", *_scaled(1.0, cut))
    scaled = write_market(tmp_path / "scaled", "NIFTY", *_scaled(1.5, cut))
    steps = [
        {"at": "09:15", "do": "limit", "legs": [P], "keys": ["p"], "limit": 80, "tif": "gtc"},
        {"at": "09:15", "do": "open", "legs": SHORT[:1], "keys": ["c"]},
        {"at": "09:15", "do": "stop", "close": ["c"], "below": -104, "tif": "gtc"},
        {"at": "09:16", "do": "limit", "legs": [dict(C, expiry=E2)], "keys": ["e2"],
         "limit": 159, "tif": "gtc", "touch": 0.5},
    ]  # fmt: skip
    out = []
    for root in (base, scaled):
        Resting.seen.clear()
        result = run(root, [dict(s) for s in steps], end=D2, mode="positional", cycles=5)
        out.append((result, list(Resting.seen)))
    (a, seen_a), (b, seen_b) = out
    before = f"2024-01-02 {cut}:00"
    # what the strategy saw of its orders and positions, tick by tick, up to the cut
    assert [s for s in seen_a if str(s[0]) <= before] == [s for s in seen_b if str(s[0]) <= before]
    ta, tb = a.tradebook, b.tradebook
    ra = ta[ta["ts"].astype(str) <= before].drop(columns=["run_id"]).reset_index(drop=True)
    rb = tb[tb["ts"].astype(str) <= before].drop(columns=["run_id"]).reset_index(drop=True)
    assert ra.equals(rb)
    oa, ob = a.orders, b.orders
    ea = oa[oa["ts"].astype(str) <= before].reset_index(drop=True)
    eb = ob[ob["ts"].astype(str) <= before].reset_index(drop=True)
    assert ea.equals(eb)
    if cut >= "09:17":  # the short call (09:15), its stop (09:16: -105), the P limit (09:17)
        assert len(ra) >= 3 and len(ea) >= 6
    # the change is visible after the cut (the test can fail)
    assert not a.daily["equity"].equals(b.daily["equity"])


def test_an_opening_order_is_cancelled_once_the_strategy_is_done(market: Path) -> None:
    # one cycle (the class is intraday, max_cycles 1): the short call's stop ends it at 09:16,
    # the resting P limit is then cancelled at its next tick instead of opening a second cycle
    steps = [
        {"at": "09:15", "do": "limit", "legs": [P], "keys": ["p"], "limit": 80, "tif": "gtc"},
        {"at": "09:15", "do": "open", "legs": SHORT[:1], "keys": ["c"]},
        {"at": "09:15", "do": "stop", "close": ["c"], "below": -104, "tif": "gtc"},
    ]
    result = run(market, steps)
    assert rows(result) == [
        ("c", "01-02 09:15", "SELL", "open", 100.0, "entry"),
        ("c", "01-02 09:16", "BUY", "close", 105.0, "stop"),
    ]
    assert events(result)[-1] == ("20240102-1", "01-02 09:17", "cancelled")
    assert result.orders["reason"].iloc[-1] == "the strategy is DONE"


def test_an_opening_order_whose_key_was_taken_meanwhile_is_rejected(market: Path) -> None:
    # the limit (automatic key: the symbol) would fill at 09:17; at 09:16 the strategy opens
    # the same contract itself (key = the same symbol): the order is rejected, not a crash
    result = run(
        market,
        [
            {"at": "09:15", "do": "limit", "legs": [P], "limit": 80},
            {"at": "09:16", "do": "open", "legs": [P]},
        ],
        cycles=3,
    )
    assert rows(result)[0] == ("NIFTY2410421500PE", "01-02 09:16", "BUY", "open", 85.0, "entry")
    assert events(result)[-1] == ("20240102-1", "01-02 09:17", "rejected")
    assert result.orders["reason"].iloc[-1] == "key 'NIFTY2410421500PE' is already open"


def test_order_calls_need_a_tick() -> None:
    s = Resting()
    with pytest.raises(StrategyStateError):
        s.place_limit([], limit=1)
