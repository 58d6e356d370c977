"""Tick-by-tick MAE/MFE of intraday trades, by hand on the tiny NIFTY market (engine_builders).

2024-01-02, lot 50, fills at mid. Sell the 21500 straddle at 09:16 (C 105, P 85), out at 09:20
(C 130, P 72). Marks (mid of a usable quote, else the close; a bar-less minute keeps the last):

    tick   C mark        P mark               path = -50 (C - 105) - 50 (P - 85)
    09:16  105           85                      0
    09:17  120           75                   -750 + 500 = -250
    09:18  115           80 (no bid: close)   -500 + 250 = -250
    09:19  115 (no bar)  70                   -500 + 750 = +250
    09:20  exit 130      exit 72             -1250 + 650 = -600

so MAE = -600 (at the exit, 09:20) and MFE = +250 (09:19). The put alone: +500, +250, +750,
then +650 at the exit: MFE 750 at 09:19, MAE 0 (never under water, no time).
"""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path

import pytest
from engine_builders import tiny_nifty
from engine_strategies import Scripted

from workbench.engine.pool import close_stores, series_lru
from workbench.engine.runner import run_backtest


def _run(data: Path, legs: list[dict], **kwargs):
    series_lru().clear()
    close_stores()
    return run_backtest(
        Scripted,
        data=data,
        start="2024-01-02",
        end="2024-01-02",
        params={"orders": [{"at": time(9, 16), "legs": legs}], "exit_at": time(9, 20)},
        fill="mid",
        fees="none",
        progress=False,
        **kwargs,
    )


STRADDLE = [
    {"strike": 21500, "right": "C", "side": "SELL"},
    {"strike": 21500, "right": "P", "side": "SELL"},
]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_nifty(tmp_path_factory.mktemp("excursions") / "tiny")


def test_straddle_excursion_by_hand(data: Path) -> None:
    result = _run(data, STRADDLE, executor="serial")
    ex = result.excursions
    assert ex is not None and len(ex) == 1
    row = ex.iloc[0]
    assert row["mae"] == pytest.approx(-600.0) and row["mfe"] == pytest.approx(250.0)
    assert row["mae_ts"] == datetime(2024, 1, 2, 9, 20)
    assert row["mfe_ts"] == datetime(2024, 1, 2, 9, 19)
    assert row["entry_ts"] == datetime(2024, 1, 2, 9, 16)
    assert set(row["trade_ids"].split(";")) == set(result.tradebook["trade_id"])
    assert result.metrics["total_pnl"] == pytest.approx(-600.0)  # the path ends at the PnL


def test_one_leg_never_under_water(data: Path) -> None:
    ex = _run(data, STRADDLE[1:], executor="serial").excursions
    assert ex is not None
    row = ex.iloc[0]
    assert (row["mae"], row["mfe"]) == (0.0, pytest.approx(750.0))
    assert row["mae_ts"] is None or row["mae_ts"] != row["mae_ts"]  # None / NaT: never negative


def test_the_tearsheet_trade_table_uses_the_engine_excursions(data: Path, tmp_path: Path) -> None:
    from workbench.analytics import analyse

    result = _run(data, STRADDLE, executor="serial")
    for source in (result, result.save(tmp_path / "run")):
        trades = analyse(source, capital=1_000_000).trades
        assert trades["excursion_basis"].tolist() == ["ticks"]
        assert trades["mae"].tolist() == pytest.approx([-600.0])
        assert trades["mfe"].tolist() == pytest.approx([250.0])


def test_excursions_are_the_same_from_a_pool(data: Path) -> None:
    serial = _run(data, STRADDLE, executor="serial").excursions
    pooled = _run(data, STRADDLE, executor="process").excursions
    assert serial is not None and pooled is not None
    assert serial.equals(pooled)


def test_positional_runs_have_none(data: Path) -> None:
    assert _run(data, STRADDLE, executor="serial", mode="positional").excursions is None


def test_an_overnight_leg_marked_without_a_quote_is_a_warning(tmp_path: Path) -> None:
    """Positional: a leg held overnight whose day-end bar has no two-sided quote is marked at its
    last trade; the day says so (2018-02-05's 0/0-quoted SPXW put is the real case)."""
    from engine_builders import D1, D2, E2, MINUTES, nifty_spot, write_market

    rows = {
        D1: [("09:15", E2, 21500, "C", 150, 149, 151), ("09:20", E2, 21500, "C", 160, None, None)],
        D2: [(m, E2, 21500, "C", 155, 154, 156) for m in MINUTES],
    }
    spot = nifty_spot()
    data = write_market(tmp_path / "m", "NIFTY", {d: spot[d] for d in (D1, D2)}, rows)
    order = {"at": time(9, 15), "legs": [{"strike": 21500, "right": "C", "side": "BUY"}]}
    result = run_backtest(
        Scripted, data=data, params={"orders": [order]}, fill="mid", fees="none",
        mode="positional", progress=False,
    )  # fmt: skip
    days = result.days.set_index("date")
    assert days.loc[str(D1), "warnings"] == 1
    assert "marked at 160, a last trade: its bar has no two-sided quote" in str(
        days.loc[str(D1), "warning_messages"]
    )
    assert days.loc[str(D2), "warnings"] == 0
    assert result.daily["mtm"].iloc[0] == pytest.approx(160 * 50)  # the mark itself is unchanged
