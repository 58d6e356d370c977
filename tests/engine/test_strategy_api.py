"""What strategies write without importing engine internals: ``bar.expiry`` resolves an index,
a date or an ``ExpiryRule`` as ``DayStartContext.expiry`` does, and ``bar.select`` results go
straight into ``add``."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pandas as pd
import pytest

from workbench import BarContext, ExpiryRule, Selection, Strategy, StrategyConfig, run_backtest
from workbench.engine.selection import resolve_expiry


class _Config(StrategyConfig):
    by_contract: bool = True


class SelectedPut(Strategy[_Config]):
    """Sells the 2-steps-OTM put of the first expiry at least 5 days out, once a day."""

    Config = _Config
    seen: list[tuple[date, date | None, date | None, str]] = []

    def on_bar(self, bar: BarContext) -> None:
        if not self.idle or bar.time < time(9, 30):
            return
        rule = ExpiryRule(dte=5, dte_bound="at_least")
        expiry = bar.expiry(rule)
        reference = resolve_expiry(bar.expiries, bar.date, rule, underlying=bar.underlying).expiry
        none = bar.expiry(ExpiryRule(dte=400, dte_bound="at_least"))
        type(self).seen.append((bar.date, expiry, reference, bar.last_selection_reason))
        assert none is None
        put = bar.select("P", expiry=expiry, rule=Selection(method="otm_steps", value=2))
        if put is None:
            return
        if self.config.by_contract:
            legs = [self.add(put, "SELL", qty=2)]
        else:
            legs = [self.add(put.strike, "P", "SELL", 2, put.expiry)]
        self.try_fill(legs)


def test_select_into_add_and_bar_expiry(nifty_tiny: Path) -> None:
    SelectedPut.seen = []
    common = dict(data=nifty_tiny, executor="serial", progress=False)
    by_contract = run_backtest(SelectedPut, params={"by_contract": True}, **common)
    by_strike = run_backtest(SelectedPut, params={"by_contract": False}, **common)
    assert len(by_contract.tradebook) > 0
    drop = ["run_id"]
    pd.testing.assert_frame_equal(
        by_contract.tradebook.drop(columns=drop), by_strike.tradebook.drop(columns=drop)
    )
    assert (by_contract.tradebook.loc[by_contract.tradebook["action"] == "open", "qty"] == 2).all()
    for _, expiry, reference, reason in SelectedPut.seen:
        assert expiry == reference and expiry is not None
        assert "no" in reason and "400" in reason  # why the 400-day rule matched nothing


class WrongSide(Strategy):
    def on_bar(self, bar: BarContext) -> None:
        put = bar.select("P", rule=Selection(method="atm"))
        assert put is not None
        self.add(put, "C", "SELL")


def test_add_refuses_a_contract_with_another_right(nifty_tiny: Path) -> None:
    from workbench.engine.errors import DayFailedError

    result = run_backtest(WrongSide, data=nifty_tiny, executor="serial", progress=False)
    assert result.metrics["days_failed"] == 2
    assert "is a PUT, got right='C'" in result.days["reason"].iloc[0]
    with pytest.raises(DayFailedError, match="right='C'"):
        run_backtest(
            WrongSide, data=nifty_tiny, executor="serial", progress=False, mode="positional"
        )
