"""Golden test: the 30-45 DTE bear call spread on eleven SPY end-of-day chains, by hand.

One expiry, 2024-04-05 (35 DTE on Friday 2024-03-01). Quotes are mid -/+ 0.05 (a 0.10 spread);
SPY's multiplier is 100. ORATS slippage (2 legs: 66 % of the spread), $0.65 per contract.
Scanner: short call |delta| in [0.10, 0.20], width 5, credit >= 15 % of width.

Entry, 2024-03-01, spot 500 (calls 515 .25 @4.50, 520 .18 @3.10, 525 .13 @2.00, 530 .09 @1.20):
    shorts in range: 520 (.18), 525 (.13); long call 5 above each:
    520/525 credit (mid) 1.10 = 22 %: score = (.22 - .18) + .22 + .82 = 1.08  -> best
    525/530 credit 0.80 = 16 %:       score = (.16 - .13) + .16 + .87 = 1.06
    (no IV-percentile term: fewer than 20 earlier days). Fill: sell 520 at 3.15 - 0.066 =
    3.084, buy 525 at 1.95 + 0.066 = 2.016: credit 1.068 per unit = 106.80; fees 1.30.
Exit thresholds: profit target cost <= 0.534; stop cost >= 2.25 x 1.068 = 2.403.

    day    spot  520  525  cost (mid)
    03-04  495   2.40 1.50  0.90
    03-05  490   1.50 1.00  0.50  <= 0.534: profit target
    03-06  505   3.50 2.30  1.20
    03-07  515   5.70 3.20  2.50  >= 2.403: stop loss
    03-08 ... 03-15 1.90 1.20  (DTE 21: time exit)

No re-entry after the profit target on 03-05 (no short call in the delta range) nor 03-06
(525/530 0.70 = 14 %, 530/535 0.60 = 12 %: under 15 %); from 03-07 the expiry is < 30 DTE.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.strategies.dataset import Bar, write_market
from workbench.engine.config import ConfigError
from workbench.engine.runner import run_backtest
from workbench.engine.selection import ChainSnapshot
from workbench.strategies.bear_call_spread import BearCallSpread
from workbench.strategies.scanner import SpreadScan, scan_credit_spreads

EXPIRY = date(2024, 4, 5)
S = 0.66 * 0.10  # ORATS 2-leg slippage on a 0.10 spread
# day -> (spot, {call strike: (mid, |delta|)})
DAYS: dict[date, tuple[float, dict[float, tuple[float, float]]]] = {
    date(2024, 3, 1): (500.0, {515: (4.50, 0.25), 520: (3.10, 0.18), 525: (2.00, 0.13), 530: (1.20, 0.09), 535: (0.70, 0.06)}),
    date(2024, 3, 4): (495.0, {515: (3.40, 0.18), 520: (2.40, 0.12), 525: (1.50, 0.08), 530: (0.90, 0.05), 535: (0.50, 0.03)}),
    date(2024, 3, 5): (490.0, {515: (2.20, 0.09), 520: (1.50, 0.07), 525: (1.00, 0.05), 530: (0.60, 0.03), 535: (0.40, 0.02)}),
    date(2024, 3, 6): (505.0, {515: (5.00, 0.30), 520: (3.50, 0.22), 525: (2.30, 0.15), 530: (1.60, 0.10), 535: (1.00, 0.07)}),
    date(2024, 3, 7): (515.0, {515: (7.50, 0.48), 520: (5.70, 0.40), 525: (3.20, 0.30), 530: (2.20, 0.20), 535: (1.50, 0.14)}),
    date(2024, 3, 8): (508.0, {515: (5.60, 0.35), 520: (4.00, 0.28), 525: (2.60, 0.20), 530: (1.70, 0.14), 535: (1.10, 0.09)}),
    date(2024, 3, 11): (502.0, {515: (4.20, 0.28), 520: (3.00, 0.20), 525: (1.90, 0.14), 530: (1.20, 0.09), 535: (0.80, 0.06)}),
    date(2024, 3, 12): (500.0, {515: (3.90, 0.26), 520: (2.80, 0.19), 525: (1.80, 0.13), 530: (1.10, 0.08), 535: (0.70, 0.05)}),
    date(2024, 3, 13): (497.0, {515: (3.40, 0.23), 520: (2.40, 0.16), 525: (1.50, 0.11), 530: (0.90, 0.07), 535: (0.60, 0.04)}),
    date(2024, 3, 14): (495.0, {515: (2.90, 0.20), 520: (2.00, 0.14), 525: (1.20, 0.09), 530: (0.70, 0.05), 535: (0.45, 0.03)}),
    date(2024, 3, 15): (494.0, {515: (2.80, 0.19), 520: (1.90, 0.13), 525: (1.20, 0.08), 530: (0.70, 0.05), 535: (0.45, 0.03)}),
}  # fmt: skip
SCAN = {"right": "C", "short_delta": (0.10, 0.20), "width_min": 5.0, "width_max": 5.0,
        "min_credit_pct": 0.15, "filters": {"min_oi": 100}}  # fmt: skip
CREDIT = (3.15 - S) - (1.95 + S)  # 1.068
ENTRY_FEES = 1.30


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spot = {d: [("15:46", s)] for d, (s, _) in DAYS.items()}
    options = {
        d: {
            ("15:46", EXPIRY, float(k), "C"): Bar(m, dl, half_spread=0.05)
            for k, (m, dl) in chain.items()
        }
        for d, (_, chain) in DAYS.items()
    }
    return write_market(
        tmp_path_factory.mktemp("bcs"), "SPY", spot, options, venue="CBOE",
        timezone="America/New_York", bar_interval="1d",
    )  # fmt: skip


def run(market: Path, **params: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    result = run_backtest(
        BearCallSpread, data=market, params={"scan": SCAN, **params}, fill="orats",
        fees="per-contract:0.65", progress=False,
    )  # fmt: skip
    return result.tradebook, result.daily


def rows(tb: pd.DataFrame) -> list[tuple[date, float, float, str, str, float, float]]:
    """(day, strike, signed units, right, reason, price, fees) per tradebook row."""
    return list(
        zip(
            tb["day"].tolist(), tb["strike"].tolist(), tb["signed_units"].tolist(),
            tb["right"].tolist(), tb["reason"].tolist(), tb["price"].tolist(), tb["fees"].tolist(),
        )
    )  # fmt: skip


def close_debit(bid520: float, ask525: float) -> float:
    """Buy back the 520 call at bid + 66 % of the spread, sell the 525 at ask - 66 %."""
    return (bid520 + S) - (ask525 - S)


def test_entry_fills_and_profit_target(market: Path) -> None:
    tb, daily = run(market)
    got = rows(tb)
    assert [(g[0], g[1], g[2], g[3], g[4]) for g in got] == [
        (date(2024, 3, 1), 520.0, -100.0, "C", "entry"),
        (date(2024, 3, 1), 525.0, 100.0, "C", "entry"),
        (date(2024, 3, 5), 520.0, 100.0, "C", "profit_target"),
        (date(2024, 3, 5), 525.0, -100.0, "C", "profit_target"),
    ]
    assert [g[5] for g in got] == pytest.approx([3.15 - S, 1.95 + S, 1.45 + S, 1.05 - S])
    assert [g[6] for g in got] == pytest.approx([0.65] * 4)
    pnl = (CREDIT - close_debit(1.45, 1.05)) * 100 - 4 * 0.65  # (1.068 - .532) x 100 - 2.60
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
    closes = [g for g in rows(tb) if g[4] != "entry"]
    assert {g[0] for g in closes} == {date(2024, 3, 7)} and {g[4] for g in closes} == {"stop_loss"}
    pnl = (CREDIT - close_debit(5.65, 3.25)) * 100 - 4 * 0.65  # -146.40 - 2.60
    assert pnl == pytest.approx(-149.0)
    assert tb["cash"].sum() == pytest.approx(pnl)


def test_dte_exit(market: Path) -> None:
    tb, daily = run(market, profit_target_pct=None, stop_loss_pct=None)
    closes = [g for g in rows(tb) if g[4] != "entry"]
    assert {g[0] for g in closes} == {date(2024, 3, 15)} and {g[4] for g in closes} == {"dte_exit"}
    pnl = (CREDIT - close_debit(1.85, 1.25)) * 100 - 4 * 0.65  # 33.60 - 2.60
    assert pnl == pytest.approx(31.0)
    assert daily["equity"].iloc[-1] == pytest.approx(pnl)
    # on 03-07 the open spread is worth 2.50 at mid: equity = 106.80 - 1.30 - 250
    assert daily.set_index("date").loc["2024-03-07", "equity"] == pytest.approx(
        CREDIT * 100 - 1.30 - 250.0
    )


def test_short_call_by_offset(market: Path) -> None:
    """``short_offset`` picks the short call by its distance above the spot: on 03-01 (spot
    500) 5 % .. 6 % out of the money is the 525 call alone (530 is 6 %: kept too, but 530/535
    pays 0.50 = 10 % < 15 %), so the spread is 525/530 (credit 0.80 = 16 %)."""
    tb, _ = run(market, scan={**SCAN, "short_offset": (0.05, 0.06)})
    opened = tb[tb["reason"] == "entry"]
    assert opened["day"].tolist() == [date(2024, 3, 1)] * 2
    assert opened["strike"].tolist() == [525.0, 530.0]
    assert opened["signed_units"].tolist() == [-100.0, 100.0]


def test_iv_percentile_min_needs_earlier_days(market: Path) -> None:
    """With ``iv_percentile_min`` the first day has no earlier day, so nothing opens on 03-01;
    on 03-04 (one earlier day, ``iv_min_history=1``) the percentile is 0 or 100 and the floor
    0 lets it trade: shorts 515 (.18: 515/520 1.00 = 20 %, score .02 + .20 + .82 = 1.04) and
    520 (.12: 520/525 .90 = 18 %, score .06 + .18 + .88 = 1.12 -- best, both plus the same
    IV term)."""
    tb, _ = run(market, iv_percentile_min=0, iv_min_history=1)
    opened = tb[tb["reason"] == "entry"]
    assert opened["day"].tolist() == [date(2024, 3, 4)] * 2
    assert opened["strike"].tolist() == [520.0, 525.0]


def chain_on(day: date) -> ChainSnapshot:
    spot, chain = DAYS[day]
    strikes = sorted(chain)
    mids = np.array([chain[k][0] for k in strikes])
    return ChainSnapshot.build(
        underlying="SPY", ts=datetime(day.year, day.month, day.day, 15, 46), spot=spot,
        expiry=EXPIRY, tte=(EXPIRY - day).days / 365, strike=[float(k) for k in strikes],
        right=["C"] * len(strikes), bid=mids - 0.05, ask=mids + 0.05, close=mids,
        delta=[chain[k][1] for k in strikes], volume=[100] * len(strikes),
        oi=[1000] * len(strikes),
    )  # fmt: skip


def test_scanner_finds_and_scores_what_the_strategy_opens(market: Path) -> None:
    """The scanner on 03-01's chain ranks the bear calls as computed by hand, and the strategy
    opens the scanner's best candidate."""
    found = scan_credit_spreads(chain_on(date(2024, 3, 1)), SpreadScan.model_validate(SCAN))
    assert [(c.short_strike, c.long_strike) for c in found] == [(520.0, 525.0), (525.0, 530.0)]
    assert [c.score for c in found] == pytest.approx([1.08, 1.06])
    assert [c.credit for c in found] == pytest.approx([1.10, 0.80])
    assert [c.max_loss for c in found] == pytest.approx([3.90, 4.20])
    assert found[0].short_delta == pytest.approx(0.18) and found[0].long_delta == pytest.approx(
        0.13
    )
    tb, _ = run(market)
    opened = tb[tb["reason"] == "entry"].set_index("side")
    assert (opened.loc["SELL", "strike"], opened.loc["BUY", "strike"]) == (
        found[0].short_strike,
        found[0].long_strike,
    )


def test_scanner_iv_percentile_term_adds_to_every_score() -> None:
    """The IV-percentile term is w x percentile / 100 on every candidate: 1.08 + 0.8 and
    1.06 + 0.8 with percentile 80; weight 0.5 gives + 0.4; ranks are unchanged."""
    scan = SpreadScan.model_validate(SCAN)
    snap = chain_on(date(2024, 3, 1))
    found = scan_credit_spreads(snap, scan, iv_percentile=80.0)
    assert [c.score for c in found] == pytest.approx([1.88, 1.86])
    assert {c.iv_percentile for c in found} == {80.0}
    half = scan.model_copy(
        update={"weights": scan.weights.model_copy(update={"iv_percentile": 0.5})}
    )
    assert [c.score for c in scan_credit_spreads(snap, half, iv_percentile=80.0)] == pytest.approx(
        [1.48, 1.46]
    )
    assert [c.iv_percentile for c in scan_credit_spreads(snap, scan)] == [None, None]
    with pytest.raises(ValueError, match="iv_percentile"):
        scan_credit_spreads(snap, scan, iv_percentile=120.0)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"dte_window": (45, 30)}, "dte_window"),
        ({"scan": {**SCAN, "right": "P"}}, "scan"),
        ({"scan": {**SCAN, "short_delta": (0.3, 0.1)}}, "short_delta"),
        ({"scan": {**SCAN, "short_offset": (0.06, 0.05)}}, "short_offset"),
        ({"profit_target_pct": 1.5}, "profit_target_pct"),
        ({"iv_percentile_min": 101}, "iv_percentile_min"),
    ],
)
def test_bad_parameters_name_the_field(market: Path, params: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        run(market, **params)


def test_the_run_folder_holds_the_trade_log_per_position(market: Path, tmp_path: Path) -> None:
    """``trades.parquet`` of the profit-target run: one position, figures as computed above
    (max risk = width 5 x 100 - credit 106.80 = 393.20)."""
    import pyarrow.parquet as pq

    result = run_backtest(
        BearCallSpread, data=market, params={"scan": SCAN}, fill="orats",
        fees="per-contract:0.65", progress=False,
    )  # fmt: skip
    result.save(tmp_path / "run")
    (row,) = pq.read_table(tmp_path / "run" / "trades.parquet").to_pylist()
    assert (row["spread_type"], row["short_strike"], row["long_strike"]) == (
        "bear_call",
        520.0,
        525.0,
    )
    assert (row["entry_date"], row["exit_date"], row["days_held"]) == (
        date(2024, 3, 1), date(2024, 3, 5), 4,
    )  # fmt: skip
    assert row["entry_credit"] == pytest.approx(CREDIT * 100)
    assert row["pnl"] == pytest.approx(51.0)
    assert row["max_risk"] == pytest.approx(500 - CREDIT * 100)
    assert row["pnl_pct_max_risk"] == pytest.approx(51.0 / (500 - CREDIT * 100))
    assert row["exit_reason"] == "profit_target" and row["qty"] == 1
    assert row["vix_at_entry"] is None
