"""Golden test: the 30-45 DTE put credit spread on eleven SPY end-of-day chains, by hand.

One expiry, 2024-04-05 (35 DTE on Friday 2024-03-01). Quotes are mid -/+ 0.05 (a 0.10 spread);
SPY's multiplier is 100. The run uses ORATS slippage (2 legs: 66 % of the spread) and $0.65
per contract, as seed 003 does. Scanner: short |delta| in [0.10, 0.20], width 5, credit >= 20 %
of width.

Entry, 2024-03-01 (puts 485 .25 @4.50, 480 .18 @3.10, 475 .13 @2.00, 470 .09 @1.20):
    shorts in range: 480 (.18), 475 (.13); 480/475 credit (mid) 1.10 = 22 % -> kept;
    475/470 0.80 = 16 % -> rejected. Fill: sell 480 at 3.15 - 0.66 x 0.10 = 3.084, buy 475 at
    1.95 + 0.066 = 2.016: credit 1.068 per unit = 106.80; fees 2 x 0.65 = 1.30.
Exit thresholds: profit target cost <= 0.5 x 1.068 = 0.534; stop cost >= 2.25 x 1.068 = 2.403.

    day    480  475  cost (mid)
    03-04  2.40 1.50  0.90
    03-05  1.50 1.00  0.50  <= 0.534: profit target
    03-06  3.50 2.30  1.20
    03-07  5.70 3.20  2.50  >= 2.403: stop loss
    03-08  4.00 2.60 ...  03-15 1.90 1.20  (DTE 21: time exit)
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
from workbench.strategies.put_credit_spread import PutCreditSpread

EXPIRY = date(2024, 4, 5)
S = 0.66 * 0.10  # ORATS 2-leg slippage on a 0.10 spread
# day -> (spot, {strike: (mid, |delta|)})
DAYS: dict[date, tuple[float, dict[float, tuple[float, float]]]] = {
    date(2024, 3, 1): (500.0, {485: (4.50, 0.25), 480: (3.10, 0.18), 475: (2.00, 0.13), 470: (1.20, 0.09), 465: (0.70, 0.06)}),
    date(2024, 3, 4): (505.0, {485: (3.40, 0.18), 480: (2.40, 0.12), 475: (1.50, 0.08), 470: (0.90, 0.05), 465: (0.50, 0.03)}),
    date(2024, 3, 5): (510.0, {485: (2.20, 0.09), 480: (1.50, 0.07), 475: (1.00, 0.05), 470: (0.60, 0.03), 465: (0.40, 0.02)}),
    date(2024, 3, 6): (495.0, {485: (5.00, 0.30), 480: (3.50, 0.22), 475: (2.30, 0.15), 470: (1.60, 0.10), 465: (1.00, 0.07)}),
    date(2024, 3, 7): (485.0, {485: (7.50, 0.48), 480: (5.70, 0.40), 475: (3.20, 0.30), 470: (2.20, 0.20), 465: (1.50, 0.14)}),
    date(2024, 3, 8): (492.0, {485: (5.60, 0.35), 480: (4.00, 0.28), 475: (2.60, 0.20), 470: (1.70, 0.14), 465: (1.10, 0.09)}),
    date(2024, 3, 11): (498.0, {485: (4.20, 0.28), 480: (3.00, 0.20), 475: (1.90, 0.14), 470: (1.20, 0.09), 465: (0.80, 0.06)}),
    date(2024, 3, 12): (500.0, {485: (3.90, 0.26), 480: (2.80, 0.19), 475: (1.80, 0.13), 470: (1.10, 0.08), 465: (0.70, 0.05)}),
    date(2024, 3, 13): (503.0, {485: (3.40, 0.23), 480: (2.40, 0.16), 475: (1.50, 0.11), 470: (0.90, 0.07), 465: (0.60, 0.04)}),
    date(2024, 3, 14): (505.0, {485: (2.90, 0.20), 480: (2.00, 0.14), 475: (1.20, 0.09), 470: (0.70, 0.05), 465: (0.45, 0.03)}),
    date(2024, 3, 15): (506.0, {485: (2.80, 0.19), 480: (1.90, 0.13), 475: (1.20, 0.08), 470: (0.70, 0.05), 465: (0.45, 0.03)}),
}  # fmt: skip
SCAN = {"short_delta": (0.10, 0.20), "width_min": 5.0, "width_max": 5.0, "min_credit_pct": 0.20,
        "filters": {"min_oi": 100}}  # fmt: skip
CREDIT = (3.15 - S) - (1.95 + S)  # 1.068
ENTRY_FEES = 1.30


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spot = {d: [("15:46", s)] for d, (s, _) in DAYS.items()}
    options = {
        d: {
            ("15:46", EXPIRY, float(k), "P"): Bar(m, -dl, half_spread=0.05)
            for k, (m, dl) in chain.items()
        }
        for d, (_, chain) in DAYS.items()
    }
    return write_market(
        tmp_path_factory.mktemp("pcs"), "SPY", spot, options, venue="CBOE",
        timezone="America/New_York", bar_interval="1d",
    )  # fmt: skip


def run(market: Path, **params: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    result = run_backtest(
        PutCreditSpread, data=market, params={"scan": SCAN, **params}, fill="orats",
        fees="per-contract:0.65", progress=False,
    )  # fmt: skip
    return result.tradebook, result.daily


def rows(tb: pd.DataFrame) -> list[tuple[date, float, float, str, float, float]]:
    """(day, strike, signed units, reason, price, fees) per tradebook row."""
    return list(
        zip(
            tb["day"].tolist(), tb["strike"].tolist(), tb["signed_units"].tolist(),
            tb["reason"].tolist(), tb["price"].tolist(), tb["fees"].tolist(),
        )
    )  # fmt: skip


def close_debit(bid480: float, ask475: float) -> float:
    """Buy back the 480 at bid + 66 % of the spread, sell the 475 at ask - 66 %."""
    return (bid480 + S) - (ask475 - S)


def test_entry_fills_and_profit_target(market: Path) -> None:
    tb, daily = run(market)
    got = rows(tb)
    assert [(g[0], g[1], g[2], g[3]) for g in got] == [
        (date(2024, 3, 1), 480.0, -100.0, "entry"),
        (date(2024, 3, 1), 475.0, 100.0, "entry"),
        (date(2024, 3, 5), 480.0, 100.0, "profit_target"),
        (date(2024, 3, 5), 475.0, -100.0, "profit_target"),
    ]
    assert [g[4] for g in got] == pytest.approx([3.15 - S, 1.95 + S, 1.45 + S, 1.05 - S])
    assert [g[5] for g in got] == pytest.approx([0.65] * 4)
    # no re-entry: on 03-05 and 03-06 no spread qualifies; from 03-07 the expiry is < 30 DTE
    pnl = (
        CREDIT - close_debit(1.45, 1.05)
    ) * 100 - 4 * 0.65  # (1.068 - 0.532) x 100 - 2.60 = 51.00
    assert pnl == pytest.approx(51.0)
    assert tb["cash"].sum() == pytest.approx(pnl)
    assert daily["equity"].iloc[-1] == pytest.approx(pnl)


def test_first_day_mark_to_market(market: Path) -> None:
    _, daily = run(market)
    first = daily.iloc[0]
    # cash: +106.80 - 1.30; marked at mids 3.10 and 2.00 -> mtm -(3.10 - 2.00) x 100 = -110
    assert first["cash"] == pytest.approx(CREDIT * 100 - ENTRY_FEES)
    assert first["mtm"] == pytest.approx(-110.0)
    assert first["equity"] == pytest.approx(CREDIT * 100 - ENTRY_FEES - 110.0)


def test_stop_loss(market: Path) -> None:
    tb, _ = run(market, profit_target_pct=None)
    closes = [g for g in rows(tb) if g[3] != "entry"]
    assert {g[0] for g in closes} == {date(2024, 3, 7)} and {g[3] for g in closes} == {"stop_loss"}
    pnl = (CREDIT - close_debit(5.65, 3.25)) * 100 - 4 * 0.65  # -146.40 - 2.60
    assert pnl == pytest.approx(-149.0)
    assert tb["cash"].sum() == pytest.approx(pnl)


def test_dte_exit(market: Path) -> None:
    tb, daily = run(market, profit_target_pct=None, stop_loss_pct=None)
    closes = [g for g in rows(tb) if g[3] != "entry"]
    assert {g[0] for g in closes} == {date(2024, 3, 15)} and {g[3] for g in closes} == {"dte_exit"}
    pnl = (CREDIT - close_debit(1.85, 1.25)) * 100 - 4 * 0.65  # 33.60 - 2.60
    assert pnl == pytest.approx(31.0)
    assert daily["equity"].iloc[-1] == pytest.approx(pnl)
    # on 03-07 the open spread is worth 2.50 at mid: equity = 106.80 - 1.30 - 250
    assert daily.set_index("date").loc["2024-03-07", "equity"] == pytest.approx(
        CREDIT * 100 - 1.30 - 250.0
    )


def test_too_strict_a_scan_never_trades(market: Path) -> None:
    tb, daily = run(market, scan={**SCAN, "min_credit_pct": 0.5})
    assert tb.empty
    assert (daily["equity"] == 0).all()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"dte_window": (45, 30)}, "dte_window"),
        ({"scan": {**SCAN, "right": "C"}}, "scan"),
        ({"scan": {**SCAN, "short_delta": (0.3, 0.1)}}, "short_delta"),
        ({"profit_target_pct": 1.5}, "profit_target_pct"),
    ],
)
def test_bad_parameters_name_the_field(market: Path, params: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        run(market, **params)
