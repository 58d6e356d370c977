"""Golden test: the intraday short straddle on a 16-minute NIFTY day, every fill by hand.

Market (2024-01-16, weekly expiry 2024-01-18, lot 50, fills at mid, no fees):

    time   spot    C21550 P21550   C21600 P21600
    09:15  21540   100    110      75     125
    09:16  21545   100    110      75     125
    09:17  21540   100    110      75     125      entry at 09:17: ATM 21550, credit 210
    09:18  21530   120    100      75     125      value 220: loss 10/unit
    09:19  21580   170     95      75     125      value 265: loss 55 >= 25 % x 210 = 52.5
    09:20  21590   175     90      80      90      re-entry (wait 1 tick): ATM 21600, credit 170
    09:21+ 21600   175     90      70      88      value 158
    09:29  21600   175     90      60      85      time exit: value 145
    09:30  21600   175     90      58      84      last tick (force close)
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.strategies.dataset import Bar, write_market
from workbench.engine.config import ConfigError
from workbench.engine.runner import run_backtest
from workbench.strategies.short_straddle import IntradayShortStraddle

DAY = date(2024, 1, 16)
EXPIRY = date(2024, 1, 18)
LOT = 50  # NIFTY lot size in January 2024
MINUTES = [f"09:{m:02d}" for m in range(15, 31)]
SPOT = {
    "09:15": 21540.0,
    "09:16": 21545.0,
    "09:17": 21540.0,
    "09:18": 21530.0,
    "09:19": 21580.0,
    "09:20": 21590.0,
}


def _path(values: dict[str, float], default: float) -> dict[str, float]:
    """A per-minute price path: explicit minutes, otherwise the last explicit value (or default)."""
    out, last = {}, default
    for m in MINUTES:
        last = values.get(m, last)
        out[m] = last
    return out


PATHS: dict[tuple[float, str], dict[str, float]] = {
    (21550.0, "C"): _path({"09:15": 100, "09:18": 120, "09:19": 170, "09:20": 175}, 100),
    (21550.0, "P"): _path({"09:15": 110, "09:18": 100, "09:19": 95, "09:20": 90}, 110),
    (21600.0, "C"): _path({"09:15": 75, "09:20": 80, "09:21": 70, "09:29": 60, "09:30": 58}, 75),
    (21600.0, "P"): _path({"09:15": 125, "09:20": 90, "09:21": 88, "09:29": 85, "09:30": 84}, 125),
    (21500.0, "C"): _path({}, 130),
    (21500.0, "P"): _path({}, 80),
    (21650.0, "C"): _path({}, 50),
    (21650.0, "P"): _path({}, 150),
}


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spot = [(m, SPOT.get(m, 21600.0)) for m in MINUTES]
    options = {(m, EXPIRY, k, r): Bar(path[m]) for (k, r), path in PATHS.items() for m in MINUTES}
    return write_market(
        tmp_path_factory.mktemp("straddle"), "NIFTY", {DAY: spot}, {DAY: options},
        venue="NSE", timezone="Asia/Kolkata",
    )  # fmt: skip


BASE: dict[str, Any] = {
    "entry": "09:17",
    "last_entry": "09:25",
    "exit_time": "09:29",
    "stop_loss_pct": 0.25,
    "max_cycles": 2,
    "reentry_wait": 1,
}


def run(market: Path, **params: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    result = run_backtest(
        IntradayShortStraddle, data=market, params={**BASE, **params}, fill="mid", fees="none",
        executor="serial", progress=False,
    )  # fmt: skip
    return result.tradebook, result.daily


def fills(tb: pd.DataFrame) -> list[tuple[str, str, float, str, str, float]]:
    """(hh:mm, right+strike, signed units, action, reason, price) per tradebook row."""
    return list(
        zip(
            tb["ts"].dt.strftime("%H:%M").tolist(),
            [f"{r}{k:g}" for r, k in zip(tb["right"].tolist(), tb["strike"].tolist())],
            tb["signed_units"].tolist(),
            tb["action"].tolist(),
            tb["reason"].tolist(),
            tb["price"].tolist(),
        )
    )


def test_combined_stop_then_reentry_then_time_exit(market: Path) -> None:
    tb, daily = run(market)
    assert fills(tb) == [
        ("09:17", "C21550", -50.0, "open", "entry", 100.0),
        ("09:17", "P21550", -50.0, "open", "entry", 110.0),
        ("09:19", "C21550", 50.0, "close", "stop_loss", 170.0),
        ("09:19", "P21550", 50.0, "close", "stop_loss", 95.0),
        ("09:20", "C21600", -50.0, "open", "entry", 80.0),
        ("09:20", "P21600", -50.0, "open", "entry", 90.0),
        ("09:29", "C21600", 50.0, "close", "time_exit", 60.0),
        ("09:29", "P21600", 50.0, "close", "time_exit", 85.0),
    ]
    # cycle 1: (210 - 265) x 50 = -2750; cycle 2: (170 - 145) x 50 = +1250
    assert list(tb["cycle"]) == [0, 0, 0, 0, 1, 1, 1, 1]
    assert tb["cash"].sum() == pytest.approx(-1500.0)
    assert daily["equity"].iloc[-1] == pytest.approx(-1500.0)
    assert daily["open_legs"].iloc[-1] == 0


def test_reentry_waits_the_configured_ticks(market: Path) -> None:
    tb, _ = run(market, reentry_wait=2)
    # re-entry at 09:21 instead: credit 70 + 88 = 158, closed at 145 -> +650; total -2100
    assert [f[:2] for f in fills(tb)[4:6]] == [("09:21", "C21600"), ("09:21", "P21600")]
    assert tb["cash"].sum() == pytest.approx(-2750.0 + 650.0)


def test_single_cycle_does_not_reenter(market: Path) -> None:
    tb, _ = run(market, max_cycles=1)
    assert len(tb) == 4
    assert tb["cash"].sum() == pytest.approx(-2750.0)


def test_profit_target(market: Path) -> None:
    tb, _ = run(market, target_pct=0.05)
    # cycle 2: target 5 % x 170 = 8.5/unit; at 09:21 the value is 158 (12 of profit) -> target
    assert fills(tb)[6:] == [
        ("09:21", "C21600", 50.0, "close", "profit_target", 70.0),
        ("09:21", "P21600", 50.0, "close", "profit_target", 88.0),
    ]
    assert tb["cash"].sum() == pytest.approx(-2750.0 + 600.0)


def test_per_leg_stop_closes_only_the_losing_leg(market: Path) -> None:
    tb, daily = run(market, stop_mode="per_leg", stop_loss_pct=0.5)
    # the call (entry 100) stops when its mid reaches 150: 170 at 09:19; the put runs to 09:29
    assert fills(tb) == [
        ("09:17", "C21550", -50.0, "open", "entry", 100.0),
        ("09:17", "P21550", -50.0, "open", "entry", 110.0),
        ("09:19", "C21550", 50.0, "close", "leg_stop", 170.0),
        ("09:29", "P21550", 50.0, "close", "time_exit", 90.0),
    ]
    # (100 - 170) x 50 + (110 - 90) x 50 = -3500 + 1000
    assert daily["equity"].iloc[-1] == pytest.approx(-2500.0)


def test_eod_force_close_without_time_exit(market: Path) -> None:
    tb, _ = run(market, exit_time="15:15", max_cycles=1, stop_loss_pct=5.0)
    assert fills(tb)[2:] == [
        ("09:30", "C21550", 50.0, "close", "eod", 175.0),
        ("09:30", "P21550", 50.0, "close", "eod", 90.0),
    ]
    assert tb["cash"].sum() == pytest.approx((210.0 - 265.0) * LOT)


def test_min_straddle_strike_rule(market: Path) -> None:
    # at 09:17 the straddle sums are 21500: 210, 21550: 210, 21600: 200, 21650: 200 -> tie between
    # 21600 and 21650 -> nearest spot (21540): 21600
    tb, _ = run(market, strike={"method": "min_straddle"}, max_cycles=1)
    assert fills(tb)[0][:2] == ("09:17", "C21600")
    assert fills(tb)[1][:2] == ("09:17", "P21600")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"entry": "10:00", "last_entry": "09:30"}, "entry"),
        ({"strike": {"method": "delta", "value": 0.5}}, "strike"),
        ({"stop_loss_pct": 0}, "stop_loss_pct"),
        ({"stop_mode": "trailing"}, "stop_mode"),
        ({"qty": 0}, "qty"),
    ],
)
def test_bad_parameters_name_the_field(market: Path, params: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        run(market, **params)
