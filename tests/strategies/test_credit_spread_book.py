"""Seed 003's book (:class:`CreditSpreadBook`) on two hand-made underlyings, by hand.

SPY and QQQ, one expiry 2024-04-05 (35 DTE on Friday 2024-03-01), four days. Quotes are mid
-/+ 0.05; fills at mid (``fill="mid"``), $0.65 per contract; multiplier 100. Scan (both rights):
short |delta| in [0.10, 0.20], width exactly 5, credit >= 15 % of the width, OI >= 100. No
IV-percentile term (fewer than 20 earlier days). Score = (credit/width - p) + credit/width +
(1 - p).

Day 1, 2024-03-01 -- the best candidate of each (underlying, expiry, right):
    QQQ put  385/380: 2.80 - 1.60 = 1.20 = 24 %, p .17: .07 + .24 + .83 = 1.14   -> 1st
             (380/375: 0.70 = 14 % < 15 %)
    QQQ call 415/420: 2.10 - 1.15 = 0.95 = 19 %, p .15: .04 + .19 + .85 = 1.08   -> 2nd
             (420/425: 0.45 = 9 %)
    SPY put  475/470: 2.00 - 1.20 = 0.80 = 16 %, p .13: .03 + .16 + .87 = 1.06   -> 3rd
             480/475: 3.00 - 2.00 = 1.00 = 20 %, p .18: .02 + .20 + .82 = 1.04 (second on
             the same SPY/expiry/put: never opened)
    SPY call 520/525 .40 = 8 %, 525/530 .30 = 6 %: none.
Later days: the held triples are skipped (QQQ call 420/425 qualifies on day 3 at 16 % but
QQQ/2024-04-05/call is open); the QQQ put after its target and the SPY put after its stop
find no short leg in the delta range.

Exits (seed 003: cost to close at the marks vs the opening credit):
    QQQ put  credit 1.20: target cost <= 0.60; day 2 2.20 - 1.20 = 1.00, day 3 1.50 - 0.95 =
             0.55 -> profit_target on 03-05: PnL (1.20 - 0.55) x 100 - 4 x 0.65 = 62.40
    SPY put  credit 0.80: stop cost >= 0.80 x 2.25 = 1.80; day 2 1.10, day 3 1.70, day 4 4.80
             - 2.90 = 1.90 -> stop_loss on 03-06: PnL (0.80 - 1.90) x 100 - 2.60 = -112.60
    QQQ call credit 0.95: target <= 0.475, stop >= 2.1375; costs 1.00, 1.30, 1.10: held.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.strategies.dataset import Bar, option_table, spot_table
from workbench.data.writer import DatasetWriter
from workbench.engine.config import ConfigError
from workbench.engine.runner import run_backtest
from workbench.strategies.credit_spread_book import CreditSpreadBook, position_exit

E = date(2024, 4, 5)
D1, D2, D3, D4 = date(2024, 3, 1), date(2024, 3, 4), date(2024, 3, 5), date(2024, 3, 6)
SPOT = {
    "SPY": {D1: 500.0, D2: 497.0, D3: 492.0, D4: 485.0},
    "QQQ": {D1: 400.0, D2: 402.0, D3: 408.0, D4: 405.0},
}
# underlying -> right -> day -> {strike: (mid, signed delta)}
CHAINS: dict[str, dict[str, dict[date, dict[float, tuple[float, float]]]]] = {
    "SPY": {
        "P": {
            D1: {480: (3.00, -0.18), 475: (2.00, -0.13), 470: (1.20, -0.09), 465: (0.80, -0.06)},
            D2: {480: (3.40, -0.20), 475: (2.60, -0.15), 470: (1.50, -0.11), 465: (1.00, -0.08)},
            D3: {480: (4.80, -0.27), 475: (3.60, -0.21), 470: (1.90, -0.15), 465: (1.20, -0.11)},
            D4: {480: (6.50, -0.35), 475: (4.80, -0.29), 470: (2.90, -0.22), 465: (1.90, -0.17)},
        },
        "C": {d: {520: (1.00, 0.14), 525: (0.60, 0.10), 530: (0.30, 0.07)} for d in (D1, D2, D3, D4)},
    },
    "QQQ": {
        "P": {
            D1: {385: (2.80, -0.17), 380: (1.60, -0.12), 375: (0.90, -0.08)},
            D2: {385: (2.20, -0.14), 380: (1.20, -0.10), 375: (0.70, -0.06)},
            D3: {385: (1.50, -0.09), 380: (0.95, -0.07), 375: (0.50, -0.05)},
            D4: {385: (1.50, -0.09), 380: (0.95, -0.07), 375: (0.50, -0.05)},
        },
        "C": {
            D1: {415: (2.10, 0.15), 420: (1.15, 0.11), 425: (0.70, 0.08)},
            D2: {415: (2.40, 0.17), 420: (1.40, 0.12), 425: (0.85, 0.09)},
            D3: {415: (3.40, 0.24), 420: (2.10, 0.18), 425: (1.30, 0.13)},
            D4: {415: (3.00, 0.22), 420: (1.90, 0.16), 425: (1.20, 0.12)},
        },
    },
}  # fmt: skip
SCAN: dict[str, Any] = {
    "short_delta": (0.10, 0.20), "width_min": 5.0, "width_max": 5.0, "min_credit_pct": 0.15,
    "filters": {"min_oi": 100},
}  # fmt: skip
PARAMS: dict[str, Any] = {
    "underlyings": ["SPY", "QQQ"],
    "put_scan": {**SCAN, "right": "P"},
    "call_scan": {**SCAN, "right": "C"},
}


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("book")
    with DatasetWriter(
        root, name="book", venue="CBOE", timezone="America/New_York", bar_interval="1d",
        source="hand-made test market",
    ) as w:  # fmt: skip
        for u, spots in SPOT.items():
            for d, s in spots.items():
                w.write_spot(u, d, spot_table(d, [("16:00", s)]))
                bars = {
                    ("16:00", E, float(k), right): Bar(mid, delta, half_spread=0.05)
                    for right in ("P", "C")
                    for k, (mid, delta) in CHAINS[u][right][d].items()
                }
                w.write_options(u, d, option_table(d, bars))
    return root


def run(market: Path, **params: Any) -> pd.DataFrame:
    result = run_backtest(
        CreditSpreadBook, data=market, params={**PARAMS, **params}, fill="mid",
        fees="per-contract:0.65", progress=False, executor="serial",
    )  # fmt: skip
    return result.tradebook


def rows(tb: pd.DataFrame) -> list[tuple[Any, ...]]:
    """(day, position key, underlying, strike, signed units, reason, price) per tradebook row."""
    return list(
        zip(
            tb["day"].tolist(), tb["position_key"].tolist(), tb["underlying"].astype(str).tolist(),
            tb["strike"].tolist(), tb["signed_units"].tolist(), tb["reason"].tolist(),
            tb["price"].tolist(),
        )
    )  # fmt: skip


QP, QC = "2024-03-01/QQQ/2024-04-05/put", "2024-03-01/QQQ/2024-04-05/call"
SP, SP2 = "2024-03-01/SPY/2024-04-05/put", "2024-03-04/SPY/2024-04-05/put"
OPENED = [
    (D1, f"{QP}/short", "QQQ", 385.0, -100.0, "entry", 2.80),
    (D1, f"{QP}/long", "QQQ", 380.0, 100.0, "entry", 1.60),
    (D1, f"{QC}/short", "QQQ", 415.0, -100.0, "entry", 2.10),
    (D1, f"{QC}/long", "QQQ", 420.0, 100.0, "entry", 1.15),
    (D1, f"{SP}/short", "SPY", 475.0, -100.0, "entry", 2.00),
    (D1, f"{SP}/long", "SPY", 470.0, 100.0, "entry", 1.20),
]


def test_best_across_the_universe_first_and_one_per_triple(market: Path) -> None:
    tb = run(market)
    got = rows(tb)
    assert [g[:6] for g in got[:6]] == [o[:6] for o in OPENED]
    assert [g[6] for g in got[:6]] == pytest.approx([o[6] for o in OPENED])
    entries = tb[tb["reason"] == "entry"]
    # never the second SPY put (480/475), never the day-3 QQQ call 420/425 on the held triple
    assert len(entries) == 6
    assert 480.0 not in entries["strike"].tolist()


def test_entries_per_day_cap_takes_the_best_first(market: Path) -> None:
    tb = run(market, max_entries_per_day=1)
    entries = tb[tb["reason"] == "entry"]
    # day 1: the best of the day, the QQQ put (1.14), alone
    first = entries[entries["day"] == D1]
    assert first["position_key"].tolist() == [f"{QP}/short", f"{QP}/long"]
    # day 2 by hand: SPY put 480/475 .80 = 16 %, p .20: -.04 + .16 + .80 = .92; 475/470
    # 1.10 = 22 %, p .15: .07 + .22 + .85 = 1.14 (best SPY put); QQQ call 415/420 1.00 = 20 %,
    # p .17: .03 + .20 + .83 = 1.06 -> the SPY put opens on day 2
    second = entries[entries["day"] == D2]
    assert second["position_key"].tolist() == [f"{SP2}/short", f"{SP2}/long"]
    assert second["strike"].tolist() == [475.0, 470.0]


def test_exits_by_hand(market: Path) -> None:
    tb = run(market)
    closes = [g for g in rows(tb) if g[5] != "entry"]
    assert [g[:6] for g in closes] == [
        (D3, f"{QP}/short", "QQQ", 385.0, 100.0, "profit_target"),
        (D3, f"{QP}/long", "QQQ", 380.0, -100.0, "profit_target"),
        (D4, f"{SP}/short", "SPY", 475.0, 100.0, "stop_loss"),
        (D4, f"{SP}/long", "SPY", 470.0, -100.0, "stop_loss"),
    ]
    assert [g[6] for g in closes] == pytest.approx([1.50, 0.95, 4.80, 2.90])
    pos = tb["position_key"].str.rsplit("/", n=1).str[0]
    pnl = tb.groupby(pos)["cash"].sum()
    assert pnl[QP] == pytest.approx(62.40)
    assert pnl[SP] == pytest.approx(-112.60)


def test_dte_exit_closes_each_position(market: Path) -> None:
    """``dte_exit=32``: on 03-04 (32 DTE) every position closes by DTE; none reopens (the
    window needs DTE above the exit)."""
    tb = run(market, dte_exit=32)
    closes = tb[tb["reason"] != "entry"]
    assert set(closes["day"]) == {D2} and set(closes["reason"]) == {"dte_exit"}
    assert len(closes) == 6 and (tb["reason"] == "entry").sum() == 6


def test_position_exit_order_and_thresholds() -> None:
    # credit 100: target at cost <= 50, stop at cost >= 225, DTE at <= 21
    assert position_exit(100.0, 50.0, 30, 0.5, 1.25, 21) == "profit_target"
    assert position_exit(100.0, 50.01, 30, 0.5, 1.25, 21) is None
    assert position_exit(100.0, 225.0, 30, 0.5, 1.25, 21) == "stop_loss"
    assert position_exit(100.0, 224.99, 30, 0.5, 1.25, 21) is None
    assert position_exit(100.0, 40.0, 21, 0.5, 1.25, 21) == "profit_target"  # target first
    assert position_exit(100.0, 80.0, 21, 0.5, 1.25, 21) == "dte_exit"
    assert position_exit(100.0, float("nan"), 30, 0.5, 1.25, 21) is None  # no mark
    assert position_exit(100.0, float("nan"), 20, 0.5, 1.25, 21) == "dte_exit"
    assert position_exit(100.0, 10.0, 30, None, None, None) is None


def test_bad_configurations() -> None:
    with pytest.raises((ConfigError, ValueError), match="put_scan, call_scan"):
        CreditSpreadBook({"put_scan": None, "call_scan": None})
    with pytest.raises((ConfigError, ValueError), match="call_scan: right must be 'C'"):
        CreditSpreadBook({"call_scan": {"right": "P"}})


def run_result(market: Path, **kw: Any) -> Any:
    params = {**PARAMS, **kw.pop("params", {})}
    return run_backtest(
        CreditSpreadBook, data=market, params=params, fill="mid", fees="per-contract:0.65",
        progress=False, executor="serial", **kw,
    )  # fmt: skip


def test_a_book_wide_refusal_ends_the_day(market: Path) -> None:
    """``max_open_positions = 1``: the QQQ put opens; the QQQ call is refused by the limit and
    the SPY put is not tried that day (one refusal on day 1, counted in the days table); on
    day 2 the one position is still open: one more refusal."""
    r = run_result(market, constraints={"max_open_positions": 1})
    entries = r.tradebook[r.tradebook["reason"] == "entry"]
    assert entries["position_key"].tolist()[:2] == [f"{QP}/short", f"{QP}/long"]
    days = r.days.set_index("date")
    assert days.loc[str(D1), "constraint_refusals"] == "max_open_positions: 1"
    assert days.loc[str(D1), "refused_fills"] == 1
    # day 2: the SPY put (1.14) is refused, nothing else tried
    assert days.loc[str(D2), "constraint_refusals"] == "max_open_positions: 1"
    # day 3: the QQQ put hits its target before entries; the only candidate left is the QQQ
    # call 420/425 (2.10 - 1.30 = .80 = 16 %, p .18: -.02 + .16 + .82 = .96; no SPY put:
    # 470/465 pays .70 = 14 %)
    d3 = entries[entries["day"] == D3]
    assert d3["position_key"].tolist() == [
        "2024-03-05/QQQ/2024-04-05/call/short", "2024-03-05/QQQ/2024-04-05/call/long",
    ]  # fmt: skip
    assert d3["strike"].tolist() == [420.0, 425.0]
    assert days.loc[str(D3), "constraint_refusals"] == ""


def test_a_refusal_of_one_position_moves_on(market: Path) -> None:
    """``max_open_positions_per_underlying = 1``: the QQQ put opens, the QQQ call is refused
    (QQQ already has one), the SPY put is tried next and opens."""
    r = run_result(market, constraints={"max_open_positions_per_underlying": 1})
    first = r.tradebook[(r.tradebook["reason"] == "entry") & (r.tradebook["day"] == D1)]
    assert first["position_key"].tolist() == [
        f"{QP}/short",
        f"{QP}/long",
        f"{SP}/short",
        f"{SP}/long",
    ]
    days = r.days.set_index("date")
    assert days.loc[str(D1), "constraint_refusals"] == "max_open_positions_per_underlying: 1"


def test_sized_by_risk_from_equity(market: Path) -> None:
    """Capital 100,000, ``sizing`` risk 2 % = 2,000 (equity moves by fees only on day 1: fills
    at mid are the marks). Max loss per spread: QQQ put (5 - 1.20) x 100 = 380 -> 5 spreads;
    QQQ call (5 - 0.95) x 100 = 405 -> 4; SPY put (5 - 0.80) x 100 = 420 -> 4."""
    r = run_result(market, capital=100_000.0, params={"sizing": {"rule": "risk", "risk_pct": 0.02}})
    first = r.tradebook[(r.tradebook["reason"] == "entry") & (r.tradebook["day"] == D1)]
    assert first["signed_units"].tolist() == [-500.0, 500.0, -400.0, 400.0, -400.0, 400.0]


class _Bar:
    """Just what :meth:`CreditSpreadBook.iv_percentiles` reads (no engine)."""

    def __init__(self, answers: dict[str, float]) -> None:
        self.date = D1
        self.underlyings = tuple(answers)
        self.answers = answers
        self.calls: list[tuple[int, int, str | None]] = []

    def iv_percentile(
        self, window: int = 252, *, min_days: int = 20, underlying: str | None = None
    ) -> float:
        self.calls.append((window, min_days, underlying))
        return self.answers[str(underlying)]


def test_iv_percentile_per_underlying_from_the_context() -> None:
    """The context is asked once per underlying and day, with the strategy's window and least
    history; NaN (no history yet) is no percentile."""
    book = CreditSpreadBook({"iv_window": 100, "iv_min_days": 5})
    bar = _Bar({"SPY": 80.0, "QQQ": float("nan")})
    assert book.iv_percentiles(bar) == {"SPY": 80.0, "QQQ": None}  # type: ignore[arg-type]
    assert bar.calls == [(100, 5, "SPY"), (100, 5, "QQQ")]
    assert book.iv_percentiles(bar) == {"SPY": 80.0, "QQQ": None}  # type: ignore[arg-type]
    assert len(bar.calls) == 2  # once a day


def test_iv_percentile_min_needs_earlier_days(market: Path) -> None:
    """``iv_percentile_min = 0`` with one earlier day needed: on 03-01 no underlying has an IV
    percentile (no earlier day), so nothing opens; on 03-04 both have one (0 or 100) and the
    book opens."""
    r = run_result(market, params={"iv_percentile_min": 0, "iv_min_days": 1})
    tb = r.tradebook
    entries = tb[tb["reason"] == "entry"]
    assert D1 not in set(entries["day"])
    assert set(entries[entries["day"] == D2]["underlying"].astype(str)) == {"SPY", "QQQ"}
    refused = r.days.set_index("date").loc[str(D1), "refusal_messages"]
    assert "SPY IV percentile unknown" in refused and "QQQ IV percentile unknown" in refused


def test_iv_percentile_min_gates_each_underlying(market: Path) -> None:
    """``iv_percentile_min = 100``: an underlying is scanned only on a day its ATM IV is above
    every earlier day's (the engine's ``bar.iv_percentile(..., underlying=)``); on 03-04 SPY's
    is (100) and QQQ's is not (0): SPY's put opens, QQQ is named in the day's refusals and
    opens nothing although its put and call would qualify."""
    r = run_result(market, params={"iv_percentile_min": 100, "iv_min_days": 1})
    days = r.days.set_index("date")
    entries = r.tradebook[r.tradebook["reason"] == "entry"]
    assert set(entries["day"]) == {D2}
    assert set(entries["underlying"].astype(str)) == {"SPY"}
    refused = str(days.loc[str(D2), "refusal_messages"])
    assert "QQQ IV percentile 0 below 100" in refused and "SPY" not in refused
