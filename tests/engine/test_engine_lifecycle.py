"""Lifecycle rules: prefetch is only a hint, fills need a tick, default fees by venue, a
strategy outside the engine cannot trade, DayStartContext values."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest
from engine_builders import D1, D3, tiny_nifty
from engine_strategies import EarlyFill, PrefetchingScripted, Scripted

from workbench.engine.errors import StrategyStateError
from workbench.engine.pool import series_lru
from workbench.engine.runner import run_backtest

PARAMS = {
    "orders": [
        {
            "at": time(9, 16),
            "legs": [
                {"strike": 21500, "right": "C", "side": "SELL"},
                {"strike": 21500, "right": "P", "side": "SELL"},
            ],
        }
    ],
    "exit_at": time(9, 19),
}


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_nifty(tmp_path_factory.mktemp("life") / "tiny")


def test_prefetch_is_only_a_hint(market: Path) -> None:
    series_lru().clear()
    plain = run_backtest(Scripted, data=market, params=PARAMS, executor="serial", progress=False)
    series_lru().clear()
    hinted = run_backtest(
        PrefetchingScripted, data=market, params=PARAMS, executor="serial", progress=False
    )
    assert hinted.tradebook.drop(columns=["run_id"]).equals(
        plain.tradebook.drop(columns=["run_id"])
    )
    # one query for the window instead of one per leg
    assert (hinted.days["fetches"] <= plain.days["fetches"]).all()


def test_fills_need_a_tick(market: Path) -> None:
    result = run_backtest(
        EarlyFill, data=market, start=D1, end=D1, executor="serial", progress=False
    )
    day = result.days.iloc[0]
    assert day["status"] == "failed"
    assert "StrategyStateError" in day["reason"] and "needs a tick" in day["reason"]


def test_a_strategy_outside_the_engine_cannot_trade() -> None:
    strategy = Scripted()
    with pytest.raises(StrategyStateError, match="not attached to a running engine"):
        strategy.try_fill([])
    with pytest.raises(StrategyStateError):
        _ = strategy.positions
    assert strategy.config.max_cycles is None  # the mode's own bound (one a day intraday)
    assert Scripted({"max_cycles": 2}).config.max_cycles == 2


def test_default_fees_by_venue(market: Path) -> None:
    result = run_backtest(
        Scripted, data=market, start=D1, end=D3, params=PARAMS, executor="serial", progress=False
    )
    fees = result.manifest["models"]["fees"]
    assert fees["name"] == "india" and fees["brokerage"]["name"] == "per-order"
    assert (result.tradebook["fees"] > 20).all()  # Rs 20 brokerage per leg plus statutory charges
    assert result.manifest["models"]["fill"]["entry"]["name"] == "orats"


def test_config_hash_is_stable_and_part_of_the_identity() -> None:
    a = Scripted.Config(exit_at=time(9, 19))
    b = Scripted.Config(exit_at="09:19")
    assert a == b and hash(a) == hash(b) and a.config_hash() == b.config_hash()
    assert a.config_hash() != Scripted.Config(exit_at=time(9, 18)).config_hash()
    with pytest.raises(Exception, match="frozen"):
        a.exit_at = time(9, 0)  # type: ignore[misc]


def test_the_design_example_runs(market: Path) -> None:
    from engine_strategies import DesignShortStraddle

    # entry 09:16: spot 21520 -> ATM 21500; sell C 105 + P 85 (mid); credit 190 x 50 = 9500,
    # stop at a loss of 2375: never hit (worst: 09:20 marks 130 + 72 = 202 -> -600); EOD at 09:20.
    result = run_backtest(
        DesignShortStraddle,
        data=market,
        start=D1,
        end=D1,
        params={"entry": "09:16"},
        fill="mid",
        fees="none",
        executor="serial",
        progress=False,
    )
    tb = result.tradebook
    assert list(zip(tb["price"], tb["reason"])) == [
        (105.0, "entry"),
        (85.0, "entry"),
        (130.0, "eod"),
        (72.0, "eod"),
    ]
    assert result.metrics["total_pnl"] == -600
