"""The one trade model (``workbench.engine.positions``): a position is a cycle with its
adjustments inside it; closed positions are the trades, open ones are reported apart. Checked
on a hand-written tradebook and through a run whose numbers every page must agree on."""

from __future__ import annotations

import json
from datetime import time
from pathlib import Path

import pandas as pd
import pytest

from workbench import BarContext, Strategy
from workbench.engine.positions import positions


def _fill(
    trade: str, ts: str, action: str, side: str, price: float, reason: str, cycle: int
) -> dict:
    units = 50.0
    signed = units if side == "BUY" else -units
    return {
        "trade_id": trade,
        "cycle": cycle,
        "day": pd.Timestamp(ts).date(),
        "ts": pd.Timestamp(ts),
        "action": action,
        "side": side,
        "signed_units": signed,
        "price": price,
        "fees": 10.0,
        "cash": -signed * price - 10.0,
        "reason": reason,
    }


BOOK = pd.DataFrame(
    [
        # cycle 0 of day 1: a straddle; the call is rolled at 11:00; both closed at 15:00
        _fill("c1", "2024-01-02 09:30", "open", "SELL", 100.0, "entry", 0),
        _fill("p1", "2024-01-02 09:30", "open", "SELL", 90.0, "entry", 0),
        _fill("c1", "2024-01-02 11:00", "close", "BUY", 130.0, "roll", 0),
        _fill("c2", "2024-01-02 11:00", "open", "SELL", 60.0, "roll", 0),
        _fill("c2", "2024-01-02 15:00", "close", "BUY", 40.0, "stop_loss", 0),
        _fill("p1", "2024-01-02 15:00", "close", "BUY", 70.0, "stop_loss", 0),
        # cycle 1 of day 1: one put, closed at once
        _fill("p2", "2024-01-02 15:10", "open", "SELL", 50.0, "entry", 1),
        _fill("p2", "2024-01-02 15:20", "close", "BUY", 45.0, "time_exit", 1),
        # cycle 0 of day 2: a put still open at the end
        _fill("p3", "2024-01-03 09:30", "open", "SELL", 80.0, "entry", 0),
    ]
)


def test_positions_by_hand() -> None:
    book = positions(BOOK, "intraday")
    assert book["position"].tolist() == ["2024-01-02#0", "2024-01-02#1", "2024-01-03#0"]
    first, second, third = (book.iloc[i] for i in range(3))
    # straddle: credit 190 x 50, roll cost 130 - 60 = 70 x 50, closed at 40 + 70; 6 fees of 10
    assert first["pnl"] == pytest.approx(50 * (100 + 90 - 130 + 60 - 40 - 70) - 60)
    assert (first["legs"], first["fills"], first["adjustments"]) == (3, 6, 1)
    assert first["adjustment_reasons"] == "roll:1"
    assert first["exit_reason"] == "stop_loss" and first["status"] == "closed"
    assert second["pnl"] == pytest.approx(50 * 5 - 20) and second["adjustments"] == 0
    assert second["exit_reason"] == "time_exit"
    assert third["status"] == "open" and pd.isna(third["pnl"]) and third["exit_reason"] == ""
    assert third["cash"] == pytest.approx(50 * 80 - 10)
    # positionally the two day-1 cycles and the day-2 one with cycle 0 are told apart by cycle
    positional = positions(BOOK.assign(cycle=[0, 0, 0, 0, 0, 0, 1, 1, 2]), "positional")
    assert positional["position"].tolist() == ["#0", "#1", "#2"]


def test_headline_counts_closed_positions_and_reports_open_ones_apart() -> None:
    from workbench.engine.metrics import headline

    daily = pd.DataFrame(
        {"pnl": [100.0, -20.0], "equity": [100.0, 80.0], "fills": [8, 1], "skipped": [False, False]}
    )
    m = headline(daily, BOOK, mode="intraday", capital=None)
    assert m["trades"] == 2 and m["open_positions"] == 1 and m["adjustments"] == 1
    assert m["win_rate"] == pytest.approx(1.0)  # both closed positions made money
    assert m["capital_base"] is None and m["total_return"] is None  # no base declared


class AdjustedCondor(Strategy):
    """Positional: a straddle each day; at 12:00 the call is rolled one strike up (an
    adjustment); at 14:00 of the next day everything is closed; the last one stays open."""

    mode = "positional"

    class Config(Strategy.Config):  # type: ignore[name-defined,misc]
        max_cycles: int = 100

    def on_bar(self, bar: BarContext) -> None:
        if self.idle and bar.time >= time(10, 0):
            atm = bar.atm()
            self.try_fill({"call": self.add(atm, "C", "SELL"), "put": self.add(atm, "P", "SELL")})

    def adjust(self, bar: BarContext) -> None:
        pos = self.positions
        if "call" in pos and bar.time == time(12, 0) and self.days_held() == 0:
            call = pos["call"]
            step = 50.0
            self.roll(
                "call", self.add(call.contract.strike + step, "C", "SELL"), reason="delta_adjust"
            )

    def exit_check(self, bar: BarContext) -> str | None:
        return "time_exit" if self.days_held() >= 1 and bar.time >= time(14, 0) else None


def test_every_page_counts_the_same_trades(nifty_tiny: Path, tmp_path: Path) -> None:
    from workbench.analytics.analysis import analyse
    from workbench.research.runs import run_strategy

    Config = AdjustedCondor.Config
    assert Config.model_fields["max_cycles"].default == 100
    summary = run_strategy(
        AdjustedCondor, data=nifty_tiny, out=tmp_path / "run", refs_dir=tmp_path / "reports"
    )
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    analysis = analyse(tmp_path / "run", capital=float(summary.manifest["capital"]))
    trades = analysis.trades
    closed = trades[trades["status"] == "closed"]
    assert metrics["trades"] == len(closed) == analysis.trade_metrics["trades"] == 1
    assert metrics["open_positions"] == analysis.trade_metrics["open_positions"] == 1
    assert metrics["adjustments"] >= 1
    assert closed["adjustment_reasons"].iloc[0].startswith("delta_adjust")
    # an adjustment is not an exit: no "delta_adjust" row among the exit reasons
    reasons = analysis.breakdowns["exit_reason"]
    labels = set(reasons.index if "exit_reason" not in reasons.columns else reasons["exit_reason"])
    assert "delta_adjust" not in labels and "time_exit" in labels
    # the same figure to rounding: the engine divides money PnL, the tearsheet returns on the
    # base (PnL / capital), which can differ in the last bits (generator 4's data does)
    assert metrics["sharpe"] == pytest.approx(analysis.metrics["sharpe"], rel=1e-12) or (
        metrics["sharpe"] is None and pd.isna(analysis.metrics["sharpe"])
    )
