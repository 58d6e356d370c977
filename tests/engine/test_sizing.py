"""Sizing in one call (``Strategy.size`` / ``Strategy.sized``), issue 14.

Hand-computed on the tiny NIFTY market (engine_builders; lot 50, mid fills = the closes, no
fees, capital 100,000). D2's 21500 C mids 09:15 .. 09:20: 70 75 80 95 90 110; 21550 C: 40 42
48 55 52 62.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Any

import pytest
from engine_builders import D2, D3, tiny_nifty
from test_engine_lookahead_hooks import _at, scaled_market

from workbench.engine.config import StrategyConfig
from workbench.engine.errors import ConfigError
from workbench.engine.runner import run_backtest
from workbench.engine.sizing import Sizing, as_sizing
from workbench.engine.strategy import Strategy

CAPITAL = 100_000.0


class SizeProbe(Strategy):
    """At D2 09:16 sizes the 21500/21550 call spread (one unit: buy 1, sell 1) with each rule
    in ``rules`` and records the result (or the error)."""

    mode = "positional"
    seen: list[Any] = []

    class Config(StrategyConfig):
        rules: tuple[dict[str, Any], ...] = ()
        naked: bool = False
        fill: bool = False

    def on_bar(self, bar):
        if bar.date != D2 or bar.time != time(9, 16):
            return
        if self.config.naked:
            order = {"short": self.add(21550, "C", "SELL")}
        else:
            order = {"long": self.add(21500, "C", "BUY"), "short": self.add(21550, "C", "SELL")}
        for rule in self.config.rules:
            try:
                SizeProbe.seen.append(self.size(order, **rule))
            except ValueError as exc:
                SizeProbe.seen.append(str(exc))
        if self.config.fill:
            sized = self.sized(order, **self.config.rules[0])
            SizeProbe.seen.append(None if sized is None else self.try_fill(sized))


def probe(data: Path, rules: list[dict], **kw) -> list:
    SizeProbe.seen.clear()
    params = {"rules": rules, **kw.pop("params", {})}
    options = {"fill": "mid", "fees": "none", "capital": CAPITAL}
    options.update(kw)
    run_backtest(SizeProbe, data=data, start=D2, end=D2, params=params, progress=False, **options)
    return list(SizeProbe.seen)


@pytest.fixture(scope="module")
def nifty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_nifty(tmp_path_factory.mktemp("sizing") / "nifty")


def test_rules_by_hand(nifty: Path) -> None:
    """One unit at 09:16: buy 21500 C at 75, sell 21550 C at 42 -> max loss (75 - 42) x 50 =
    1650 (a debit spread's max loss is its debit); equity 100,000."""
    got = probe(
        nifty,
        [
            {"rule": "fixed", "contracts": 3},
            {"rule": "risk", "risk_pct": 0.02},  # 2000 / 1650 -> 1
            {"rule": "risk", "risk_pct": 0.05},  # 5000 / 1650 -> 3
            {"rule": "risk", "risk_pct": 0.0165},  # exactly one unit's risk -> 1
            {"rule": "risk", "risk_pct": 0.0164},  # just under -> 0
            {"rule": "percent_equity", "equity_pct": 0.10},  # 10,000 / 1650 -> 6
            {"rule": "percent_equity", "equity_pct": 0.10, "max_contracts": 2},
            {"rule": "percent_equity", "equity_pct": 0.10, "lot_step": 4},  # 6 -> 4
            {"rule": "risk", "risk_pct": 0.05, "max_loss": 1000},  # 5000 / 1000 -> 5
            # Kelly with given odds: p = .6, b = 2 -> f* = .6 - .4 / 2 = .4; half Kelly .2
            # of 100,000 = 20,000 at risk / 1650 -> 12; capped at .1 -> 6
            {"rule": "kelly", "win_rate": 0.6, "payoff": 2.0, "kelly_multiplier": 0.5},
            {
                "rule": "kelly",
                "win_rate": 0.6,
                "payoff": 2.0,
                "kelly_multiplier": 0.5,
                "kelly_cap": 0.1,
            },
            {"rule": "kelly", "win_rate": 0.3, "payoff": 2.0},  # f* = .3 - .7 / 2 < 0 -> 0
        ],
    )
    assert got == [3, 1, 3, 1, 0, 6, 2, 4, 5, 12, 6, 0]


def test_percent_equity_with_a_margin_model(nifty: Path) -> None:
    """Defined-risk margin of the unit at its prices = 1650 = its debit: cost 1650 -> 6."""
    got = probe(nifty, [{"rule": "percent_equity", "equity_pct": 0.10}], margin="defined-risk")
    assert got == [6]


def test_sized_multiplies_every_leg(nifty: Path) -> None:
    got = probe(nifty, [{"rule": "risk", "risk_pct": 0.05}], params={"fill": True})
    assert got[0] == 3
    trades = got[1]
    assert {k: t.qty for k, t in trades.items()} == {"long": 3, "short": 3}


def test_unbounded_risk_is_an_error_naming_the_way_out(nifty: Path) -> None:
    got = probe(nifty, [{"rule": "risk", "risk_pct": 0.02}], params={"naked": True})
    assert "max loss per unit is unbounded" in got[0] and "max_loss=" in got[0]


def test_sizing_from_equity_needs_capital(nifty: Path) -> None:
    got = probe(nifty, [{"rule": "risk", "risk_pct": 0.02}], capital=None)
    assert "declares no capital" in got[0] and "capital=" in got[0]
    # fixed sizing needs none
    assert probe(nifty, [{"rule": "fixed", "contracts": 2}], capital=None) == [2]


def test_sizing_errors_name_the_field() -> None:
    with pytest.raises(ConfigError, match="risk_pct"):
        as_sizing({"rule": "risk"})
    with pytest.raises(ConfigError, match="risk_pct"):
        as_sizing({"rule": "risk", "risk_pct": 2})  # a fraction: 2 would be 200 %
    with pytest.raises(ConfigError, match="rule"):
        as_sizing({"rule": "martingale"})
    with pytest.raises(ConfigError, match="win_rate and payoff"):
        as_sizing({"rule": "kelly", "win_rate": 0.5})
    assert as_sizing(None) == Sizing()


# -- Kelly from the strategy's own closed trades -----------------------------------------------
class KellyTrader(Strategy):
    """Positional. Each tick of D2: close what is open (adjust), then buy the 21500 C sized by
    Kelly from the positions closed so far (half Kelly, no cap, from 2 closed positions; 1
    unit before). Records (tick time, units)."""

    mode = "positional"
    seen: list[tuple] = []

    class Config(StrategyConfig):
        max_cycles: int = 100

    def adjust(self, bar):
        if self.positions:
            self.close_all()

    def on_bar(self, bar):
        if bar.date != D2 or not self.idle:
            return
        order = [self.add(21500, "C", "BUY")]
        n = self.size(order, rule="kelly", kelly_multiplier=0.5, kelly_cap=1.0, kelly_min_trades=2)
        KellyTrader.seen.append((bar.ts, n))
        sized = self.sized(order, rule="fixed", contracts=n) if n else None
        if sized:
            self.try_fill(sized)


def kelly_run(data: Path, mode: str = "positional") -> list[tuple]:
    KellyTrader.seen.clear()
    run_backtest(
        KellyTrader, data=data, start=D2, end=D3, mode=mode, fill="mid", fees="none",
        capital=CAPITAL, progress=False, executor="serial",
    )  # fmt: skip
    return list(KellyTrader.seen)


def test_kelly_from_own_trades_by_hand(nifty: Path) -> None:
    """09:15 and 09:16: fewer than 2 closed -> 1 unit (+250 each: 70 -> 75 -> 80).
    09:17: 2 wins, no loss: f* = p = 1, half -> .5 of 100,500 = 50,250 / (80 x 50) -> 12.
    09:18: 12 units 80 -> 95 = +9000; p = 1: .5 of 109,500 / 4750 -> 11.
    09:19: 11 units 95 -> 90 = -2750; p = 3/4, b = (9500 / 3) / 2750 = 1.1515,
    f* = .75 - .25 / 1.1515 = .53289, half .26645 of 106,750 = 28,443 / 4500 -> 6.
    09:20: 6 units 90 -> 110 = +6000; p = 4/5, b = (15,500 / 4) / 2750 = 1.40909,
    f* = .8 - .2 / 1.40909 = .65806, half .32903 of 112,750 = 37,098 / 5500 -> 6."""
    got = kelly_run(nifty)
    assert [n for _, n in got] == [1, 1, 12, 11, 6, 6]


def test_kelly_sizes_do_not_see_future_trades(tmp_path: Path) -> None:
    """Every price after D2 09:18 scaled by 3 (the 09:19 and 09:20 trades change outcome): the
    sizes decided at or before 09:18 are the same; later ones differ (the check can fail)."""
    cut = _at(D2, "09:18")
    base = kelly_run(tiny_nifty(tmp_path / "base"))
    changed = kelly_run(scaled_market(tmp_path / "scaled", cut, 3.0))
    before = [x for x in base if x[0] <= cut]
    assert before == [x for x in changed if x[0] <= cut] and len(before) == 4
    assert [x for x in base if x[0] > cut] != [x for x in changed if x[0] > cut]


def test_kelly_from_own_trades_is_refused_intraday(nifty: Path) -> None:
    result = run_backtest(
        KellyTrader, data=nifty, start=D2, end=D2, mode="intraday", fill="mid", fees="none",
        capital=CAPITAL, progress=False, executor="serial",
    )  # fmt: skip
    assert result.metrics["days_failed"] == 1
    assert "needs positional mode" in result.days["reason"].iloc[0]


def test_sizing_parameter_checked_before_the_run(nifty: Path) -> None:
    """A strategy's ``sizing`` parameter that needs what the run lacks fails before day 1."""

    class WithSizing(Strategy):
        class Config(StrategyConfig):
            sizing: Sizing | None = None

    with pytest.raises(ConfigError, match="capital"):
        run_backtest(
            WithSizing, data=nifty, params={"sizing": {"rule": "risk", "risk_pct": 0.01}},
            progress=False,
        )  # fmt: skip
    with pytest.raises(ConfigError, match="positional mode"):
        run_backtest(
            WithSizing, data=nifty, params={"sizing": {"rule": "kelly"}}, capital=CAPITAL,
            progress=False,
        )  # fmt: skip
