"""The full trade log and ``trades.csv``: one row per position, rebuilt here from the tradebook
with plain loops (no code under test), every leg's entry and exit, max risk at expiry by hand
and against a brute-force payoff, main-leg delta and moneyness."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from analytics_builders import FakeResult, daily_from_fills, fill
from hypothesis import given
from hypothesis import strategies as st

from workbench.analytics import analyse, render_tearsheet
from workbench.analytics.inputs import validate_tradebook
from workbench.analytics.tradelog import (
    TRADE_LOG_COLUMNS,
    entry_features,
    max_loss_at_expiry,
    trade_legs,
)


def _book() -> pd.DataFrame:
    """Three days, intraday: day 1 a straddle whose call is rolled (an adjustment) and then
    closed at the end of the day, re-entered once (cycle 1); day 2 an iron condor stopped out;
    day 3 a put spread and, overlapping it, nothing else."""
    rows = [
        # day 1, cycle 0: sell 22000 C and P at 09:20; roll the call to 22100 at 11:00; close 15:15
        fill(0, "c0", "2024-01-03 09:20", "SELL", "open", 100.0, right="C", expiry="2024-01-04"),
        fill(1, "p0", "2024-01-03 09:20", "SELL", "open", 90.0, right="P", expiry="2024-01-04"),
        fill(
            2,
            "c0",
            "2024-01-03 11:00",
            "BUY",
            "close",
            130.0,
            right="C",
            expiry="2024-01-04",
            reason="roll",
        ),
        fill(
            3,
            "c1",
            "2024-01-03 11:00",
            "SELL",
            "open",
            70.0,
            strike=22100,
            right="C",
            expiry="2024-01-04",
            reason="roll",
        ),
        fill(
            4,
            "c1",
            "2024-01-03 13:00",
            "BUY",
            "close",
            60.0,
            strike=22100,
            right="C",
            expiry="2024-01-04",
            reason="eod",
        ),
        fill(
            5,
            "p0",
            "2024-01-03 13:00",
            "BUY",
            "close",
            40.0,
            right="P",
            expiry="2024-01-04",
            reason="eod",
        ),
        # day 1, cycle 1: a re-entry, one short put, stopped
        fill(
            6,
            "p1",
            "2024-01-03 13:30",
            "SELL",
            "open",
            35.0,
            strike=21900,
            right="P",
            expiry="2024-01-04",
            cycle=1,
        ),
        fill(
            7,
            "p1",
            "2024-01-03 14:10",
            "BUY",
            "close",
            52.5,
            strike=21900,
            right="P",
            expiry="2024-01-04",
            cycle=1,
            reason="stop_loss",
        ),
        # day 2: iron condor 21800/21900 P, 22100/22200 C, stopped at 12:00
        fill(
            8,
            "a",
            "2024-01-04 09:30",
            "BUY",
            "open",
            10.0,
            strike=21800,
            right="P",
            expiry="2024-01-11",
        ),
        fill(
            9,
            "b",
            "2024-01-04 09:30",
            "SELL",
            "open",
            25.0,
            strike=21900,
            right="P",
            expiry="2024-01-11",
        ),
        fill(
            10,
            "c",
            "2024-01-04 09:30",
            "SELL",
            "open",
            30.0,
            strike=22100,
            right="C",
            expiry="2024-01-11",
        ),
        fill(
            11,
            "d",
            "2024-01-04 09:30",
            "BUY",
            "open",
            12.0,
            strike=22200,
            right="C",
            expiry="2024-01-11",
        ),
        *[
            fill(
                12 + i,
                leg,
                "2024-01-04 12:00",
                side,
                "close",
                px,
                strike=k,
                right=r,
                expiry="2024-01-11",
                reason="stop_loss",
            )
            for i, (leg, side, px, k, r) in enumerate(
                [
                    ("a", "SELL", 4.0, 21800, "P"),
                    ("b", "BUY", 9.0, 21900, "P"),
                    ("c", "BUY", 70.0, 22100, "C"),
                    ("d", "SELL", 38.0, 22200, "C"),
                ]
            )
        ],
        # day 3: a put credit spread still open at the end of the book
        fill(
            16,
            "s",
            "2024-01-05 10:00",
            "SELL",
            "open",
            40.0,
            strike=21950,
            right="P",
            expiry="2024-01-11",
        ),
        fill(
            17,
            "l",
            "2024-01-05 10:00",
            "BUY",
            "open",
            20.0,
            strike=21850,
            right="P",
            expiry="2024-01-11",
        ),
    ]
    return pd.DataFrame(rows)


def _rebuild(book: pd.DataFrame) -> list[dict]:
    """Positions from the fills by hand: (entry day, cycle) intraday; every leg's first opening
    and last closing fill; a position is closed when every leg's units net to zero."""
    groups: dict[tuple, list[dict]] = {}
    first_day: dict[str, pd.Timestamp] = {}
    for rec in book.sort_values(["ts", "fill_id"]).to_dict(orient="records"):
        first_day.setdefault(rec["trade_id"], pd.Timestamp(rec["ts"]).normalize())
        groups.setdefault((first_day[rec["trade_id"]], rec["cycle"]), []).append(rec)
    out = []
    for (_day, cycle), fills in sorted(groups.items(), key=lambda kv: min(f["ts"] for f in kv[1])):
        net: dict[str, float] = {}
        for f in fills:
            net[f["trade_id"]] = net.get(f["trade_id"], 0.0) + f["signed_units"]
        closed = all(abs(v) < 1e-9 for v in net.values())
        entry = min(f["ts"] for f in fills)
        opening = [f for f in fills if f["action"] == "open" and f["ts"] == entry]
        premium = sum(-f["signed_units"] * f["price"] for f in fills if f["action"] == "open")
        last = max(f["ts"] for f in fills)
        legs = []
        for tid in dict.fromkeys(f["trade_id"] for f in fills):
            mine = [f for f in fills if f["trade_id"] == tid]
            opens = [f for f in mine if f["action"] == "open"]
            closes = [f for f in mine if f["action"] != "open"]
            legs.append(
                (
                    tid,
                    opens[0]["ts"],
                    opens[0]["price"],
                    closes[-1]["ts"] if closes else None,
                    closes[-1]["price"] if closes else None,
                    closes[-1]["reason"] if closes else "",
                )
            )
        out.append(
            {
                "cycle": cycle,
                "entry_ts": entry,
                "exit_ts": last if closed else None,
                "status": "closed" if closed else "open",
                "pnl": sum(f["cash"] for f in fills) if closed else None,
                "fees": sum(f["fees"] for f in fills),
                "premium": premium,
                "legs": len(net),
                "opening_legs": len({f["trade_id"] for f in opening}),
                "exit_reason": [f["reason"] for f in fills if f["ts"] == last][-1]
                if closed
                else "",
                "leg_detail": legs,
            }
        )
    return out


def _run(book: pd.DataFrame) -> FakeResult:
    tb = validate_tradebook(book)
    days = pd.bdate_range("2024-01-03", "2024-01-05")
    daily = daily_from_fills(tb, days, {days[-1]: -20.0 * 50})
    return FakeResult(tb, daily, {"strategy": {"name": "hand", "mode": "intraday"}})


def test_trades_csv_is_one_row_per_position_and_matches_the_tradebook(tmp_path: Path) -> None:
    book = _book()
    run = _run(book)
    render_tearsheet(run, tmp_path / "tearsheet.html", capital=1_000_000, mc_paths=10)
    csv = pd.read_csv(tmp_path / "trades.csv", parse_dates=["entry_ts", "exit_ts"])
    assert list(csv.columns) == list(TRADE_LOG_COLUMNS)
    expected = _rebuild(book)
    assert len(csv) == len(expected) == 4  # straddle (rolled), re-entry, condor, open spread
    assert list(csv["entry_ts"]) == sorted(csv["entry_ts"])
    for row, want in zip(csv.to_dict(orient="records"), expected, strict=True):
        assert row["cycle"] == want["cycle"]
        assert row["entry_ts"] == want["entry_ts"]
        assert row["status"] == want["status"]
        assert row["legs"] == want["legs"]
        assert row["fees"] == pytest.approx(want["fees"])
        assert row["premium"] == pytest.approx(want["premium"])
        assert row["credit_debit"] == ("credit" if want["premium"] > 0 else "debit")
        if want["status"] == "closed":
            assert row["exit_ts"] == want["exit_ts"]
            assert row["pnl"] == pytest.approx(want["pnl"])
            assert row["exit_reason"] == want["exit_reason"]
        else:
            assert pd.isna(row["pnl"]) and pd.isna(row["exit_ts"])
        # every leg is spelled out: its symbol side, entry price and time, exit price and time
        detail = row["legs_detail"].split(" | ")
        assert len(detail) == want["legs"]
        for _tid, t_in, p_in, t_out, p_out, reason in want["leg_detail"]:
            entry = f"in {p_in:,.2f} @ {t_in:%Y-%m-%d %H:%M}"
            exit_ = (
                f"out {p_out:,.2f} @ {t_out:%Y-%m-%d %H:%M}" if t_out is not None else "still open"
            )
            assert [t for t in detail if entry in t and exit_ in t and reason in t], (entry, detail)
    # the roll is an adjustment inside the first position, not a trade of its own
    assert csv.loc[0, "adjustments"] == 1 and csv.loc[0, "adjustment_reasons"] == "roll:1"
    # the page shows every row of the log and links the file
    html = (tmp_path / "tearsheet.html").read_text()
    assert html.count('<tr class="sum">') >= len(csv)
    assert 'href="trades.csv"' in html


def test_trades_csv_of_an_empty_run_has_the_header_only(tmp_path: Path) -> None:
    from analytics_builders import empty_run

    render_tearsheet(empty_run(), tmp_path / "t.html", capital=1e5, mc_paths=5)
    assert (tmp_path / "trades.csv").read_text().strip() == ",".join(TRADE_LOG_COLUMNS)


def test_max_risk_and_main_leg_by_hand() -> None:
    run = _run(_book())
    a = analyse(run, capital=1e6, mc_paths=5)
    t = a.trades.set_index("trade")
    # straddle and naked put: unlimited / defined
    assert t.loc["T0001", "max_risk"] == math.inf and pd.isna(t.loc["T0001", "pnl_pct_max_risk"])
    # short 21900 put at 35: worst at S = 0: (21900 - 35) x 50
    assert t.loc["T0002", "max_risk"] == pytest.approx((21900 - 35.0) * 50)
    # iron condor: wings 100 wide, credit 25 + 30 - 10 - 12 = 33: (100 - 33) x 50
    assert t.loc["T0003", "max_risk"] == pytest.approx(67 * 50)
    assert t.loc["T0003", "pnl_pct_max_risk"] == pytest.approx(t.loc["T0003", "pnl"] / (67 * 50))
    # put spread 21950/21850 for a 20 credit: (100 - 20) x 50
    assert t.loc["T0004", "max_risk"] == pytest.approx(80 * 50)
    # main leg: the largest premium of the opening order (the condor's short call at 30)
    assert t.loc["T0003", "main_delta"] == pytest.approx(0.5)
    assert t.loc["T0003", "moneyness_pct"] == pytest.approx((22100 / 22000 - 1) * 100)
    assert t.loc["T0004", "moneyness_pct"] == pytest.approx((1 - 21950 / 22000) * 100)


def test_legs_of_several_expiries_have_no_expiry_payoff() -> None:
    calendar = pd.DataFrame(
        [
            fill(0, "n", "2024-01-03 10:00", "SELL", "open", 50.0, expiry="2024-01-04"),
            fill(1, "f", "2024-01-03 10:00", "BUY", "open", 80.0, expiry="2024-01-11"),
        ]
    )
    legs = trade_legs(validate_tradebook(calendar), "intraday")
    assert np.isnan(entry_features(legs)["max_risk"].iloc[0])


@pytest.mark.parametrize(
    ("right", "strike", "units", "price", "expected"),
    [
        (["C"], [100.0], [1.0], [5.0], 5.0),  # long call: the premium
        (["P"], [100.0], [-1.0], [4.0], 96.0),  # short put: strike less premium
        (["C"], [100.0], [-1.0], [4.0], math.inf),  # short call: unlimited
        (["C", "C"], [100.0, 110.0], [-1.0, 1.0], [6.0, 2.0], 6.0),  # call spread: 10 - 4
        (["C", "P"], [100.0, 100.0], [1.0, 1.0], [5.0, 5.0], 10.0),  # long straddle
    ],
)
def test_max_loss_at_expiry_by_hand(right, strike, units, price, expected) -> None:  # type: ignore[no-untyped-def]
    got = max_loss_at_expiry(
        np.array(right, dtype=object), np.array(strike), np.array(units), np.array(price)
    )
    assert got == pytest.approx(expected)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["C", "P"]),
            st.sampled_from([90.0, 95.0, 100.0, 105.0, 110.0]),
            st.sampled_from([-2.0, -1.0, 1.0, 2.0]),
            st.floats(0.5, 20.0),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_max_loss_matches_a_brute_force_payoff(legs: list[tuple[str, float, float, float]]) -> None:
    right = np.array([x[0] for x in legs], dtype=object)
    strike = np.array([x[1] for x in legs])
    units = np.array([x[2] for x in legs])
    price = np.array([x[3] for x in legs])
    grid = np.linspace(0.0, 1000.0, 200_001)
    payoff = np.zeros_like(grid)
    for r, k, u, p in legs:
        value = np.maximum(grid - k, 0.0) if r == "C" else np.maximum(k - grid, 0.0)
        payoff += u * (value - p)
    got = max_loss_at_expiry(right, strike, units, price)
    slope = units[right == "C"].sum()
    if slope < 0:
        assert got == math.inf
    else:
        assert got == pytest.approx(max(-payoff.min(), 0.0), abs=1e-6)
