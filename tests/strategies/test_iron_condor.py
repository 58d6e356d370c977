"""Golden test: the weekly iron condor on four end-of-day NIFTY chains, every fill by hand.

Expiry 2024-01-18 (Thursday); lot 50; fills at mid; no fees. Monday's chain (spot 21550):

    put   21200 .04 @4   21300 .07 @8   21400 .15 @20  21500 .30 @45
    call  21600 .35 @50  21700 .17 @22  21800 .08 @9   21900 .05 @4

short |delta| 0.16 -> put 21400 (.15), call 21700 (.17); wings 100 wide -> 21300 / 21800:
credit 20 + 22 - 8 - 9 = 25 per unit (1,250). Cost to close on the following days (mid):

    Tue  P21400 8  C21700 12  P21300 3  C21800 5  -> 12 (<= 50 % of 25: profit target)
    Wed  P21400 30 C21700 3   P21300 6  C21800 1  -> 26
    Thu  settles at the close 21380: P21400 intrinsic 20, the rest 0 -> 20
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
from workbench.strategies.iron_condor import WeeklyIronCondor

MON, TUE, WED, THU = date(2024, 1, 15), date(2024, 1, 16), date(2024, 1, 17), date(2024, 1, 18)
NEXT = date(2024, 1, 25)
LOT = 50
SPOT = {MON: 21550.0, TUE: 21560.0, WED: 21450.0, THU: 21380.0}
# (strike, right) -> {day: (mid, signed delta)}
CHAIN: dict[tuple[float, str], dict[date, tuple[float, float]]] = {
    (21200.0, "P"): {MON: (4, -0.04), TUE: (2, -0.02), WED: (3, -0.03), THU: (0.05, 0.0)},
    (21300.0, "P"): {MON: (8, -0.07), TUE: (3, -0.04), WED: (6, -0.08), THU: (0.5, -0.01)},
    (21400.0, "P"): {MON: (20, -0.15), TUE: (8, -0.10), WED: (30, -0.35), THU: (21, -0.90)},
    (21500.0, "P"): {MON: (45, -0.30), TUE: (30, -0.25), WED: (80, -0.60), THU: (120, -1.0)},
    (21600.0, "C"): {MON: (50, 0.35), TUE: (40, 0.30), WED: (10, 0.10), THU: (0.05, 0.0)},
    (21700.0, "C"): {MON: (22, 0.17), TUE: (12, 0.12), WED: (3, 0.04), THU: (0.05, 0.0)},
    (21800.0, "C"): {MON: (9, 0.08), TUE: (5, 0.05), WED: (1, 0.01), THU: (0.05, 0.0)},
    (21900.0, "C"): {MON: (4, 0.05), TUE: (3, 0.03), WED: (0.5, 0.01), THU: (0.05, 0.0)},
}


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spot = {d: [("15:29", s)] for d, s in SPOT.items()}
    options: dict[date, dict[tuple[str, date, float, str], Bar]] = {}
    for d in SPOT:
        day = {
            ("15:29", THU, k, r): Bar(q[d][0], q[d][1], half_spread=0.05)
            for (k, r), q in CHAIN.items()
        }
        day[("15:29", NEXT, 21500.0, "C")] = Bar(150.0, 0.5)  # the following weekly, never traded
        day[("15:29", NEXT, 21500.0, "P")] = Bar(140.0, -0.5)
        options[d] = day
    return write_market(
        tmp_path_factory.mktemp("condor"), "NIFTY", spot, options, venue="NSE",
        timezone="Asia/Kolkata", bar_interval="1d",
    )  # fmt: skip


def run(market: Path, **params: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    result = run_backtest(
        WeeklyIronCondor, data=market, params={"wing_width": 100.0, "wing_delta": None, **params},
        fill="mid", fees="none", progress=False,
    )  # fmt: skip
    return result.tradebook, result.daily


def legs(tb: pd.DataFrame) -> list[tuple[date, str, float, str, str, float]]:
    """(day, right+strike, signed units, action, reason, price) per tradebook row."""
    return list(
        zip(
            tb["day"].tolist(),
            [f"{r}{k:g}" for r, k in zip(tb["right"].tolist(), tb["strike"].tolist())],
            tb["signed_units"].tolist(),
            tb["action"].tolist(),
            tb["reason"].tolist(),
            tb["price"].tolist(),
        )
    )


def test_profit_target_on_tuesday(market: Path) -> None:
    tb, daily = run(market)
    opened = sorted(x[1:] for x in legs(tb) if x[3] == "open")
    assert opened == sorted(
        [
            ("P21400", -50.0, "open", "entry", 20.0),
            ("P21300", 50.0, "open", "entry", 8.0),
            ("C21700", -50.0, "open", "entry", 22.0),
            ("C21800", 50.0, "open", "entry", 9.0),
        ]
    )
    closes = [x for x in legs(tb) if x[3] == "close"]
    assert {x[0] for x in closes} == {TUE} and {x[4] for x in closes} == {"profit_target"}
    assert sorted((x[1], x[5]) for x in closes) == [
        ("C21700", 12.0),
        ("C21800", 5.0),
        ("P21300", 3.0),
        ("P21400", 8.0),
    ]
    # (25 - 12) x 50 = 650; nothing re-enters the same expiry on Wednesday or Thursday
    assert tb["cash"].sum() == pytest.approx(650.0)
    assert list(daily["equity"]) == pytest.approx([(25 - 25) * LOT, 650.0, 650.0, 650.0])
    assert len(tb) == 8


def test_monday_mark_to_market(market: Path) -> None:
    _, daily = run(market)
    # entered and marked at the same mids: equity 0; cash = credit 25 x 50
    mon = daily.iloc[0]
    assert mon["cash"] == pytest.approx(1250.0)
    assert mon["mtm"] == pytest.approx(-1250.0)
    assert mon["open_legs"] == 4


def test_held_to_expiry_settles_at_intrinsic(market: Path) -> None:
    tb, daily = run(market, profit_target_pct=None, stop_loss_pct=None)
    settles = [x for x in legs(tb) if x[3] == "settle"]
    assert {x[0] for x in settles} == {THU} and {x[4] for x in settles} == {"expiry"}
    # settlement against the close 21380: short 21400 put pays 20; the rest expire worthless
    assert sorted((x[1], x[5]) for x in settles) == [
        ("C21700", 0.0),
        ("C21800", 0.0),
        ("P21300", 0.0),
        ("P21400", 20.0),
    ]
    # Tue: cost 12 -> equity (25 - 12) x 50 = 650; Wed: cost 26 -> -50; Thu: (25 - 20) x 50 = 250
    assert list(daily["equity"]) == pytest.approx([0.0, 650.0, -50.0, 250.0])
    assert daily["open_legs"].iloc[-1] == 0


def test_stop_loss_on_wednesday(market: Path) -> None:
    tb, _ = run(market, profit_target_pct=None, stop_loss_pct=0.04)
    # stop when cost >= 25 x 1.04 = 26: Wednesday's cost is exactly 26
    closes = [x for x in legs(tb) if x[3] == "close"]
    assert {x[0] for x in closes} == {WED} and {x[4] for x in closes} == {"stop_loss"}
    assert tb["cash"].sum() == pytest.approx(-50.0)


def test_wings_by_delta(market: Path) -> None:
    tb, _ = run(market, wing_width=None, wing_delta=0.05)
    # put wing |delta| nearest .05: 21200 (.04, .01 away) beats 21300 (.07); call wing 21900 (.05)
    opened = sorted((x[1], x[5]) for x in legs(tb) if x[3] == "open")
    assert opened == [("C21700", 22.0), ("C21900", 4.0), ("P21200", 4.0), ("P21400", 20.0)]
    # credit 20 + 22 - 4 - 4 = 34; Tue cost 8 + 12 - 2 - 3 = 15 <= 17 -> profit target: +950
    assert tb["cash"].sum() == pytest.approx(950.0)


def test_entry_window_excludes_the_expiry(market: Path) -> None:
    tb, _ = run(market, entry_dte=(4, 7))
    assert tb.empty  # Monday is 3 days from expiry


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"wing_width": 100.0, "wing_delta": 0.05}, "wing_width"),
        ({"wing_width": None, "wing_delta": None}, "wing_width"),
        ({"wing_width": None, "wing_delta": 0.2}, "wing_delta"),
        ({"entry_dte": (5, 2)}, "entry_dte"),
        ({"short_delta": 0.6}, "short_delta"),
    ],
)
def test_bad_parameters_name_the_field(market: Path, params: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        run(market, **params)
