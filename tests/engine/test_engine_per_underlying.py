"""The same rules on each underlying, in one book (``PerUnderlying``; issue 14, "universe")."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from workbench.engine.per_underlying import PerUnderlying
from workbench.engine.runner import run_backtest
from workbench.engine.strategy import Strategy
from workbench.strategies.put_credit_spread import PutCreditSpread

UNIVERSE = ["SPY", "QQQ", "IWM"]
SCAN = {"right": "P", "min_credit_pct": 0.10}
_SAME = ["day", "underlying", "symbol", "side", "action", "signed_units", "price", "fees",
         "cash", "reason"]  # fmt: skip


@pytest.fixture(scope="module")
def etf_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from workbench.data.synth import generate

    out = tmp_path_factory.mktemp("etf") / "etf"
    generate("us-etf-eod", out, seed=5, start="2019-01-01", days=70, progress=False, workers=1)
    return out


def _run(strategy: object, data: Path, end: str | None = None, **params: object):  # type: ignore[no-untyped-def]
    return run_backtest(
        strategy,  # type: ignore[arg-type]
        data=str(data), params=params, progress=False, executor="serial",
        fees="per-contract:0.65", end=end,
    )  # fmt: skip


def test_shipped_spread_per_underlying_equals_each_alone(etf_data: Path) -> None:
    together = _run(
        "workbench.strategies.universe:PutCreditSpreadEach", etf_data,
        underlyings=UNIVERSE, scan=SCAN,
    )  # fmt: skip
    tb = together.tradebook
    assert set(tb["underlying"]) == set(UNIVERSE)
    # keys say whose position it is
    assert all(k.split(".")[0] == u for k, u in zip(tb["position_key"], tb["underlying"]))
    parts, equity = [], None
    for u in UNIVERSE:
        alone = _run(PutCreditSpread, etf_data, underlying=u, scan=SCAN)
        assert len(alone.tradebook) > 0
        frame = alone.tradebook[_SAME].copy()
        frame["position_key"] = u + "." + alone.tradebook["position_key"]
        parts.append(frame)
        e = alone.daily.set_index("date")["equity"]
        equity = e if equity is None else equity.add(e, fill_value=0.0)
    order = ["day", "underlying", "position_key", "action"]
    mine = tb[[*_SAME, "position_key"]].sort_values(order).reset_index(drop=True)
    theirs = pd.concat(parts).sort_values(order).reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, theirs)
    assert equity is not None
    assert (together.daily.set_index("date")["equity"] - equity).abs().max() < 0.005


class Exits(Strategy):
    """Buys one ATM call, sells it the next day; records its on_exit calls."""

    mode = "positional"
    log: list = []

    def on_bar(self, bar):  # type: ignore[no-untyped-def]
        if self.idle:
            self.try_fill({"call": self.add(bar.atm(expiry=2), "C", "BUY", 1, 2)})

    def exit_check(self, bar):  # type: ignore[no-untyped-def]
        return "next day" if self.days_held() >= 1 else None

    def on_exit(self, bar, trades):  # type: ignore[no-untyped-def]
        type(self).log.append((bar.underlying, bar.date, [t.key for t in trades], self.cycle))


class ExitsEach(PerUnderlying):
    rules = Exits
    Config = Exits.Config
    mode = "positional"


def test_cycles_and_on_exit_are_per_underlying(etf_data: Path) -> None:
    Exits.log = []
    r = _run(ExitsEach, etf_data, underlyings=["SPY", "QQQ"], max_cycles=2, end="2019-01-15")
    tb = r.tradebook
    # two cycles each (max_cycles per underlying), each a buy then a sale the next day
    for u in ("SPY", "QQQ"):
        mine = tb[tb["underlying"] == u]
        assert list(mine["action"]) == ["open", "close", "open", "close"]
        assert list(mine["position_key"]) == [f"{u}.call"] * 4
    days = sorted(set(tb["day"]))
    assert [e[:2] for e in Exits.log if e[0] == "SPY"] == [("SPY", days[1]), ("SPY", days[2])]
    assert {e[0] for e in Exits.log} == {"SPY", "QQQ"}
    assert all(e[2] == ["SPY.call"] or e[2] == ["QQQ.call"] for e in Exits.log)
    assert [e[3] for e in Exits.log if e[0] == "QQQ"] == [1, 2]


def test_rules_may_trade_only_their_underlying(etf_data: Path) -> None:
    class Stray(Strategy):
        mode = "positional"

        def on_bar(self, bar):  # type: ignore[no-untyped-def]
            contract = bar.select("P", method="atm")
            other = type(contract)("IWM", contract.expiry, 150.0, contract.right)
            self.try_fill({"x": self.add(other, "SELL")})

    class StrayEach(PerUnderlying):
        rules = Stray
        Config = Stray.Config
        mode = "positional"

    with pytest.raises(Exception, match=r"IWM.*not on today's underlying SPY"):
        _run(StrayEach, etf_data, underlyings=["SPY", "QQQ"], end="2019-01-10")


def test_rules_with_their_own_clock_refused() -> None:
    class Clocked(Strategy):
        def clock(self, day, ticks):  # type: ignore[no-untyped-def]
            return ticks

    class ClockedEach(PerUnderlying):
        rules = Clocked
        Config = Clocked.Config

    with pytest.raises(TypeError, match="sets its own clock"):
        ClockedEach()


def test_the_rules_are_part_of_the_wrappers_code_identity() -> None:
    from workbench.engine.usercode import _own_classes, code_identity
    from workbench.strategies.universe import PutCreditSpreadEach, WeeklyIronCondorEach

    assert PutCreditSpread in _own_classes(PutCreditSpreadEach)
    assert code_identity(PutCreditSpreadEach) != code_identity(WeeklyIronCondorEach)


def test_editing_the_rules_file_changes_the_wrappers_identity(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib
    import sys

    from workbench.engine.usercode import code_identity

    rules = tmp_path / "my_rules_u14.py"
    wrapper = tmp_path / "my_wrapper_u14.py"
    rules.write_text(
        "from workbench import Strategy\n\nclass R(Strategy):\n    mode = 'positional'\n"
    )
    wrapper.write_text(
        "from workbench.engine.per_underlying import PerUnderlying\n"
        "from my_rules_u14 import R\n\n"
        "class REach(PerUnderlying):\n    rules = R\n    Config = R.Config\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        first = code_identity(importlib.import_module("my_wrapper_u14").REach)["sha256"]
        rules.write_text(rules.read_text() + "    version = '2'\n")
        importlib.reload(sys.modules["my_rules_u14"])
        second = code_identity(importlib.reload(sys.modules["my_wrapper_u14"]).REach)["sha256"]
    finally:
        sys.modules.pop("my_rules_u14", None)
        sys.modules.pop("my_wrapper_u14", None)
    assert first != second  # the wrapper's own file did not change


def test_resting_orders_refused_inside_per_underlying_rules(etf_data: Path) -> None:
    from workbench.engine.errors import DayFailedError

    class Limits(Strategy):
        mode = "positional"

        def on_bar(self, bar):  # type: ignore[no-untyped-def]
            self.place_limit([self.add(bar.atm(), "P", "SELL")], limit=-1.0)

    class LimitsEach(PerUnderlying):
        rules = Limits
        Config = Limits.Config
        mode = "positional"

    with pytest.raises(DayFailedError, match="resting orders are not available to rules run"):
        _run(LimitsEach, etf_data, underlyings=["SPY", "QQQ"], end="2019-01-10")
