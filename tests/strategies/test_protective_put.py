"""Golden test: a SPY collar rolled 2 trading days before expiry (and held to expiry), by hand.

Seven end-of-day chains, 2024-03-01 .. 2024-03-11; expiries 03-08, 03-15, 03-22; fills at mid,
no fees; multiplier 100. Rules: put at 95 % of spot, call at 105 %, nearest expiry at least 5
calendar days out.

    03-01 spot 500: expiry 03-08 (7 days); put 475, call 525        buy P475 @2.0, sell C525 @0.8
    03-04 spot 502: 4 trading days to 03-08 (5, 6, 7, 8)             P475 1.5  C525 0.9
    03-05 spot 505: 3                                                 P475 1.2  C525 0.6
    03-06 spot 490: 2 -> roll into 03-15 (9 days): put 0.95 x 490 = 465.5 -> 465, call 514.5 -> 515
          close P475 @2.5, C525 @0.1; open P465 @3.0, C515 @1.0
    03-07 spot 495                                                    P465 2.4  C515 1.4
    03-08 spot 497                                                    P465 2.0  C515 1.6
    03-11 spot 500                                                    P465 1.5  C515 2.2
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from tests.strategies.dataset import Bar, write_market
from workbench.engine.config import ConfigError
from workbench.engine.runner import run_backtest
from workbench.strategies.protective_put import ProtectivePut

D1, D4, D5, D6, D7, D8, D11 = (date(2024, 3, d) for d in (1, 4, 5, 6, 7, 8, 11))
E8, E15, E22 = date(2024, 3, 8), date(2024, 3, 15), date(2024, 3, 22)
SPOT = {D1: 500.0, D4: 502.0, D5: 505.0, D6: 490.0, D7: 495.0, D8: 497.0, D11: 500.0}
PUTS = (460.0, 465.0, 470.0, 475.0, 480.0)
CALLS = (515.0, 520.0, 525.0, 530.0)
# (expiry, strike, right) -> {day: mid}; every other listed contract trades at 1.0
PRICES: dict[tuple[date, float, str], dict[date, float]] = {
    (E8, 475.0, "P"): {D1: 2.0, D4: 1.5, D5: 1.2, D6: 2.5, D7: 1.0, D8: 0.05},
    (E8, 525.0, "C"): {D1: 0.8, D4: 0.9, D5: 0.6, D6: 0.1, D7: 0.05, D8: 0.05},
    (E15, 465.0, "P"): {D6: 3.0, D7: 2.4, D8: 2.0, D11: 1.5},
    (E15, 515.0, "C"): {D6: 1.0, D7: 1.4, D8: 1.6, D11: 2.2},
    (E22, 475.0, "P"): {D11: 4.0},
    (E22, 525.0, "C"): {D11: 2.0},
}


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spot = {d: [("15:46", s)] for d, s in SPOT.items()}
    options: dict[date, dict[tuple[str, date, float, str], Bar]] = {}
    for d in SPOT:
        day = {}
        for e in (E8, E15, E22):
            if e < d:
                continue
            for k, r in [(k, "P") for k in PUTS] + [(k, "C") for k in CALLS]:
                mid = PRICES.get((e, k, r), {}).get(d, 1.0)
                day[("15:46", e, k, r)] = Bar(mid, half_spread=0.05)
        options[d] = day
    return write_market(
        tmp_path_factory.mktemp("collar"), "SPY", spot, options, venue="CBOE",
        timezone="America/New_York", bar_interval="1d",
    )  # fmt: skip


BASE: dict[str, Any] = {"put_strike_pct": 0.95, "call_strike_pct": 1.05, "target_expiry_days": 5}


def run(market: Path, **params: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    result = run_backtest(
        ProtectivePut,
        data=market,
        params={**BASE, **params},
        fill="mid",
        fees="none",
        progress=False,
    )
    return result.tradebook, result.daily


def rows(tb: pd.DataFrame) -> list[tuple[date, date, str, float, str, str, float]]:
    """(day, expiry, right+strike, signed units, action, reason, price) per tradebook row."""
    return list(
        zip(
            tb["day"].tolist(), tb["expiry"].tolist(),
            [f"{r}{k:g}" for r, k in zip(tb["right"].tolist(), tb["strike"].tolist())],
            tb["signed_units"].tolist(), tb["action"].tolist(), tb["reason"].tolist(), tb["price"].tolist(),
        )
    )  # fmt: skip


def test_collar_rolls_two_trading_days_before_expiry(market: Path) -> None:
    tb, daily = run(market, roll_days_before_expiry=2)
    assert sorted(rows(tb)) == sorted(
        [
            (D1, E8, "P475", 100.0, "open", "entry", 2.0),
            (D1, E8, "C525", -100.0, "open", "entry", 0.8),
            (D6, E8, "P475", -100.0, "close", "roll", 2.5),
            (D6, E15, "P465", 100.0, "open", "roll", 3.0),
            (D6, E8, "C525", 100.0, "close", "roll", 0.1),
            (D6, E15, "C515", -100.0, "open", "roll", 1.0),
        ]
    )
    # put +0.5, call +0.7 realised on 03-06; then put 3.0 -> mark, call 1.0 -> mark (x100)
    assert list(daily["equity"]) == pytest.approx(
        [
            0.0,
            (1.5 - 2.0) * 100 + (0.8 - 0.9) * 100,  # -60
            (1.2 - 2.0) * 100 + (0.8 - 0.6) * 100,  # -60
            120.0,
            120.0 + (2.4 - 3.0) * 100 + (1.0 - 1.4) * 100,  # 20
            120.0 + (2.0 - 3.0) * 100 + (1.0 - 1.6) * 100,  # -40
            120.0 + (1.5 - 3.0) * 100 + (1.0 - 2.2) * 100,  # -150
        ]
    )
    assert daily["open_legs"].iloc[-1] == 2


def test_protective_put_alone(market: Path) -> None:
    tb, daily = run(market, call_strike_pct=None, roll_days_before_expiry=2)
    assert [r[2] for r in rows(tb)] == ["P475", "P475", "P465"]
    assert daily["equity"].iloc[-1] == pytest.approx(50.0 + (1.5 - 3.0) * 100)


def test_held_to_expiry_then_reentered(market: Path) -> None:
    tb, daily = run(market, roll_days_before_expiry=0)
    got = rows(tb)
    # both legs expire out of the money at 03-08's close 497 and settle at 0; on 03-11 the nearest
    # expiry at least 5 days out is 03-22 (03-15 is 4 days): put 475, call 525 again
    assert sorted(got) == sorted(
        [
            (D1, E8, "P475", 100.0, "open", "entry", 2.0),
            (D1, E8, "C525", -100.0, "open", "entry", 0.8),
            (D8, E8, "P475", -100.0, "settle", "expiry", 0.0),
            (D8, E8, "C525", 100.0, "settle", "expiry", 0.0),
            (D11, E22, "P475", 100.0, "open", "entry", 4.0),
            (D11, E22, "C525", -100.0, "open", "entry", 2.0),
        ]
    )
    assert daily["equity"].iloc[-1] == pytest.approx(-200.0 + 80.0)


def test_long_target_tenor_finds_no_expiry(market: Path) -> None:
    tb, _ = run(market, target_expiry_days=60)
    assert tb.empty


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"put_strike_pct": 0}, "put_strike_pct"),
        ({"roll_days_before_expiry": -1}, "roll_days_before_expiry"),
        ({"target_expiry_days": -5}, "target_expiry_days"),
        ({"strike_rule": "delta"}, "strike_rule"),
    ],
)
def test_bad_parameters_name_the_field(market: Path, params: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        run(market, **params)


@pytest.mark.parametrize(
    ("underlying", "today", "expiry", "expected"),
    [
        ("SPY", D6, E8, 2),  # 03-07, 03-08
        ("SPY", D8, E8, 0),
        ("SPY", date(2024, 3, 28), date(2024, 4, 1), 1),  # Good Friday 2024-03-29: NYSE closed
        ("MYINDEX", date(2024, 3, 28), date(2024, 4, 1), 2),  # not in the registry: Monday-Friday
    ],
)
def test_trading_days_to_expiry(underlying: str, today: date, expiry: date, expected: int) -> None:
    bar = SimpleNamespace(date=today, underlying=underlying)
    assert ProtectivePut().trading_days_to(bar, expiry) == expected  # type: ignore[arg-type]


def test_intraday_mode_on_end_of_day_data_warns_and_says_so_in_the_manifest(market: Path) -> None:
    """Forced into intraday mode, a multi-day strategy on 1d bars opens and force-closes at the
    day's only tick: the run warns and records it, and the positional run does not."""
    with pytest.warns(UserWarning, match=r"intraday mode on end-of-day data .* positional mode"):
        forced = run_backtest(
            ProtectivePut, data=market, params=BASE, fill="mid", fees="none",
            progress=False, mode="intraday", executor="serial",
        )  # fmt: skip
    assert "end-of-day data" in forced.manifest["run_warnings"][0]
    tb = forced.tradebook
    trips = tb.groupby("trade_id")
    assert len(tb) and (trips.size() == 2).all()  # each position opened and closed ...
    assert (trips["ts"].nunique() == 1).all()  # ... at the same tick
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        normal = run_backtest(
            ProtectivePut, data=market, params=BASE, fill="mid", fees="none", progress=False
        )
    assert normal.manifest["run_warnings"] == []


def test_the_collar_under_a_loan_by_hand(market: Path) -> None:
    """Seed 002's view of the rolled collar: 100 SPY units (one contract) against a 44,500 loan,
    margin call at 90 % LTV. By hand from the module docstring's prices (x100):

    03-01 premium -200 + 80 = -120; 03-06 roll: premium -300 + 100 = -200, realised +250 - 10 =
    +240; option cash -120 through 03-05, then -80; net value = 100 x spot + cash + mark.
    """
    from workbench.analytics.collateral import Portfolio, collateral_path, collateral_summary

    tb, daily = run(market, roll_days_before_expiry=2)
    portfolio = Portfolio(underlying_units=100, loan_amount=44_500, margin_call_ltv=0.9)
    path = collateral_path(daily, tb, portfolio)
    spots = [500.0, 502.0, 505.0, 490.0, 495.0, 497.0, 500.0]
    marks = [
        (2.0 - 0.8) * 100, (1.5 - 0.9) * 100, (1.2 - 0.6) * 100, (3.0 - 1.0) * 100,
        (2.4 - 1.4) * 100, (2.0 - 1.6) * 100, (1.5 - 2.2) * 100,
    ]  # fmt: skip
    cash = [-120.0] * 3 + [-80.0] * 4
    assert path["premium_cashflow"].tolist() == pytest.approx([-120, 0, 0, -200, 0, 0, 0])
    assert path["realized_option_cashflow"].tolist() == pytest.approx([0, 0, 0, 240, 0, 0, 0])
    net = [100 * s + c + m for s, c, m in zip(spots, cash, marks)]
    assert path["net_portfolio_value"].tolist() == pytest.approx(net)
    assert path["ltv_hedged"].tolist() == pytest.approx([44_500 / v for v in net])
    summary = collateral_summary(path, tb, portfolio)
    assert summary["total_hedge_cost"] == pytest.approx(320.0)
    assert summary["total_option_payoff_realized"] == pytest.approx(240.0)
    assert summary["roll_count"] == 1 and summary["hedge_coverage"] == 1.0
    # only 03-06 (spot 490) is called: 44,500 / 49,000 = 0.908 unhedged, / 49,120 = 0.906 hedged
    # (03-07, spot 495: 0.899 unhedged, 44,500 / 49,520 = 0.899 hedged)
    assert summary["margin_call_days_unhedged"] == summary["margin_call_days_hedged"] == 1
    assert summary["end_value_hedged_net"] == pytest.approx(50_000 - 80 - 70)


# -- seed 002 sizing: coverage of a holding, ladders ---------------------------------------------
def _ladder_run(market: Path, **params: Any) -> pd.DataFrame:
    result = run_backtest(
        ProtectivePut,
        data=market,
        params={"target_expiry_days": 5, "roll_days_before_expiry": 2, **params},
        fill="mid",
        fees="none",
        progress=False,
    )
    return result.tradebook


def test_a_ladder_sized_by_coverage_by_hand(market: Path) -> None:
    """300 SPY units, 50/50 rungs at 95 % and 93 % of spot: 3 contracts (lot 100), split 1.5 /
    1.5 -> 1 / 1 and the leftover to the first rung (equal remainders: the order given).

    03-01 spot 500: put1 P475 x2 @2.0, put2 P465 x1 @1.0 (a strike the docstring does not price)
    03-06 spot 490: both roll into 03-15: put1 0.95 x 490 = 465.5 -> P465 @3.0; put2 455.7 ->
          P460 (the lowest listed) @1.0; the old legs close at P475 2.5 and P465 1.0
    """
    tb = _ladder_run(market, ladder=[[0.95, 0.5], [0.93, 0.5]], cover_units=300)
    got = sorted(zip(tb["position_key"], *zip(*rows(tb))))
    assert got == sorted(
        [
            ("put1", D1, E8, "P475", 200.0, "open", "entry", 2.0),
            ("put2", D1, E8, "P465", 100.0, "open", "entry", 1.0),
            ("put1", D6, E8, "P475", -200.0, "close", "roll", 2.5),
            ("put1", D6, E15, "P465", 200.0, "open", "roll", 3.0),
            ("put2", D6, E8, "P465", -100.0, "close", "roll", 1.0),
            ("put2", D6, E15, "P460", 100.0, "open", "roll", 1.0),
        ]
    )


@pytest.mark.parametrize(
    ("params", "lot", "expected"),
    [
        ({"qty": 4}, 100, ([4], 4)),
        ({"cover_units": 250}, 100, ([3], 3)),  # 2.5 contracts: halves round up
        ({"cover_units": 240}, 100, ([2], 2)),
        ({"cover_units": 10}, 100, ([1], 1)),  # at least one contract
        ({"cover_units": 1000, "target_coverage_pct": 0.5}, 75, ([7], 7)),  # 6.67 -> 7
        ({"cover_units": 300, "ladder": [[1.0, 0.5], [0.9, 0.3], [0.8, 0.2]]}, 100, ([1, 1, 1], 3)),
        ({"cover_units": 100, "ladder": [[1.0, 0.5], [0.9, 0.5]]}, 100, ([1, 0], 1)),
    ],
)
def test_contracts_per_rung(params: dict[str, Any], lot: int, expected: tuple) -> None:
    assert ProtectivePut(ProtectivePut.Config(**params)).contracts(lot) == expected


def test_the_default_qty_yields_to_cover_units() -> None:
    """Templates spell out ``qty = 1``; sizing one to a holding must still work."""
    config = ProtectivePut.Config(qty=1, cover_units=300)
    assert ProtectivePut(config).contracts(100) == ([3], 3)


def test_a_rung_left_without_a_contract_is_not_bought(market: Path) -> None:
    tb = _ladder_run(market, ladder=[[0.95, 0.5], [0.93, 0.5]], cover_units=100)
    assert set(tb["position_key"]) == {"put1"}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"qty": 2, "cover_units": 100}, "give qty .* or cover_units, not both"),
        ({"qty": 1, "cover_units": 0}, "cover_units"),
        ({"target_coverage_pct": 0.5}, "target_coverage_pct needs cover_units"),
        ({"ladder": [[0.95, 0.5], [0.9, 0.4]]}, "weights sum to 0.9, not 1"),
        ({"ladder": [[0.95, 1.0]], "put_strike_pct": 0.9}, "put_strike_pct or a ladder"),
        ({"ladder": [[0.95, 0.5], [0.95, 0.5]]}, "two rungs at the same strike"),
        ({"ladder": [[0.95, 1.5], [0.9, -0.5]]}, "needs pct > 0, weight > 0"),
        ({"cover_units": -5}, "cover_units"),
    ],
)
def test_sizing_parameters_are_checked(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ProtectivePut.Config(**params)
