"""Exit helpers, contract discovery through the bar context, the warm cache and the Greeks.

Marks of the 21500 C (expiry 2024-01-04) on D1: 09:15 100, 09:16 105, 09:17 120, 09:18 115,
09:19 no bar (mark stays 115), 09:20 130; lot 50; mid fills, no fees.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_builders import D1, D3, tiny_nifty
from engine_strategies import RuleStrategy, Selector

from workbench.engine.pool import series_lru
from workbench.engine.runner import run_backtest


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_nifty(tmp_path_factory.mktemp("exits") / "tiny")


def run(market: Path, end=D1, mode=None, **params):
    return run_backtest(
        RuleStrategy,
        data=market,
        start=D1,
        end=end,
        params=params,
        fill="mid",
        fees="none",
        executor="serial",
        progress=False,
        mode=mode,
    )


def exits(result) -> list[tuple]:
    tb = result.tradebook
    out = tb[tb["action"] != "open"]
    return list(zip(out["ts"].dt.strftime("%m-%d %H:%M"), out["price"], out["reason"]))


def test_stop_loss_on_premium(market: Path) -> None:
    # short at 100: credit 5000; 10 % -> stop at a loss of 500: 09:16 -250, 09:17 -1000 -> exit
    assert exits(run(market, rule="stop_pct", value=0.1)) == [("01-02 09:17", 120.0, "stop_loss")]


def test_profit_target_on_money(market: Path) -> None:
    # long at 100: 09:16 +250, 09:17 +1000 >= 800 -> exit at 120
    assert exits(run(market, side="BUY", rule="target_amount", value=800)) == [
        ("01-02 09:17", 120.0, "profit_target")
    ]


def test_trailing_stop(market: Path) -> None:
    # long at 100: peak +1000 at 09:17; 09:18 +750 <= 1000 - 200 -> exit at 115
    assert exits(run(market, side="BUY", rule="trail_amount", value=200)) == [
        ("01-02 09:18", 115.0, "trailing_stop")
    ]
    # a 300 trail is never hit (750 > 700): the EOD close at 130
    assert exits(run(market, side="BUY", rule="trail_amount", value=300)) == [
        ("01-02 09:20", 130.0, "eod")
    ]


def test_days_held_and_dte_in_positional_mode(market: Path) -> None:
    # bought on D1 09:15 at 100; days_held >= 1 on D2's first tick (mid 70)
    result = run(
        market, end=D3, side="BUY", rule="days_held", value=1, entry_day=D1, mode="positional"
    )
    assert exits(result) == [("01-03 09:15", 70.0, "days_held")]
    # DTE <= 0 on the expiry day D3: exit at its first tick (mid 130)
    result = run(market, end=D3, side="BUY", rule="dte", value=0, entry_day=D1, mode="positional")
    assert exits(result) == [("01-04 09:15", 130.0, "dte_exit")]
    assert result.metrics["total_pnl"] == (130 - 100) * 50


def test_exit_rules_validate() -> None:
    from workbench.engine.exits import DaysHeld, StopLoss, TrailingStop

    with pytest.raises(ValueError, match="exactly one of pct"):
        StopLoss()
    with pytest.raises(ValueError, match="exactly one of pct"):
        StopLoss(pct=0.1, amount=5)
    with pytest.raises(ValueError, match="must be > 0"):
        TrailingStop(amount=-1)
    with pytest.raises(ValueError, match="days must be >= 0"):
        DaysHeld(-1)


def test_select_by_premium_and_chain_visibility(market: Path) -> None:
    # at 09:17 the calls are 21500 (mid 120) and 21550 (mid 95): nearest to 90 is 21550.
    # The chain holds only instruments with a bar so far: 21550 C first trades at 09:17.
    Selector.seen.clear()
    result = run_backtest(
        Selector,
        data=market,
        start=D1,
        end=D1,
        fill="mid",
        fees="none",
        executor="serial",
        progress=False,
    )
    tb = result.tradebook
    assert list(zip(tb["strike"], tb["right"], tb["price"])) == [
        (21550.0, "C", 95.0),
        (21550.0, "C", 85.0),
    ]
    sizes = [n for _, n, _ in Selector.seen]
    assert sizes == [2, 2, 3, 3, 3, 3]
    # position delta: flat before 09:17; a long call after, 0 < delta < 50 units
    deltas = [d for _, _, d in Selector.seen]
    assert deltas[:3] == [0.0, 0.0, 0.0]
    assert 0 < deltas[3] < 50


def test_warm_run_reads_nothing_from_duckdb(market: Path) -> None:
    series_lru().clear()
    params = {"side": "BUY", "rule": "stop_amount", "value": 10_000}
    cold = run_backtest(
        RuleStrategy,
        data=market,
        params=params,
        fill="mid",
        fees="none",
        executor="serial",
        progress=False,
    )
    warm = run_backtest(
        RuleStrategy,
        data=market,
        params=params,
        fill="mid",
        fees="none",
        executor="serial",
        progress=False,
    )
    assert (cold.days["fetches"] > 0).all()
    assert (warm.days["fetches"] == 0).all()
    assert warm.tradebook.equals(cold.tradebook)
    assert series_lru().stats()["hits"] > 0


def test_premium_rules_are_seed_003s_cost_to_close_against_the_credit() -> None:
    """``on="premium"``: the open legs' cost to close at the marks against their opening credit,
    before fees (what strategies.marks computed beside the engine's rules before there was one
    vocabulary)."""
    from types import SimpleNamespace

    from workbench.engine.exits import ProfitTarget, StopLoss, credit_exits

    short = SimpleNamespace(signed_units=-100.0, entry_price=3.0)
    long = SimpleNamespace(signed_units=100.0, entry_price=1.0)  # credit 200
    marks: dict[int, float] = {}

    class Bar:
        def mark(self, trade):
            value = marks.get(id(trade))
            return (value, 0) if value is not None else (float("nan"), None)

    strategy = SimpleNamespace(positions={"s": short, "l": long})
    bar = Bar()
    target, stop = ProfitTarget(pct=0.5, on="premium"), StopLoss(pct=1.0, on="premium")
    marks.update({id(short): 2.0, id(long): 0.5})  # cost 150
    assert target(strategy, bar) is None and stop(strategy, bar) is None
    marks.update({id(short): 1.5, id(long): 0.5})  # cost 100 = 200 x (1 - 0.5)
    assert target(strategy, bar) == "profit_target"
    marks.update({id(short): 4.5, id(long): 0.5})  # cost 400 = 200 x (1 + 1.0)
    assert stop(strategy, bar) == "stop_loss"
    del marks[id(long)]  # a leg without a mark: nothing is decided
    assert stop(strategy, bar) is None
    assert credit_exits(0.5, None, None) is credit_exits(0.5, None, None)
    with pytest.raises(ValueError, match="on='premium' takes pct"):
        StopLoss(amount=10.0, on="premium")
