"""Portfolio constraints enforced by the engine before every opening fill (issue 14).

Hand-checked on the tiny NIFTY market (engine_builders; lot 50, mid fills, no fees, capital
100,000). D2 mids (= closes, quotes 1 point either side) at 09:15 .. 09:20:

    E  21500 C   70  75  80  95  90 110
    E  21500 P   20  18  16  12  13  10
    E  21550 C   40  42  48  55  52  62
    E2 21500 C  140 142 150 160 155 170

Every limit is inclusive ("at most"): for each constraint one test fills exactly at the limit
or just under it and another is refused at the limit (the smallest step over it, or a book
already at it).
"""

from __future__ import annotations

import math
from datetime import date, time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from engine_builders import D2, E2, E, tiny_nifty, write_market
from pydantic import BaseModel, ConfigDict

from workbench.engine.config import StrategyConfig
from workbench.engine.constraints import (
    Constraints,
    as_constraints,
    load_constraints,
    position_max_loss,
    return_correlation,
)
from workbench.engine.errors import ConfigError
from workbench.engine.runner import run_backtest
from workbench.engine.strategy import Strategy

CAPITAL = 100_000.0


class LegSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    strike: float
    right: str
    side: str
    expiry: date = E
    qty: int = 1


class Open(BaseModel):
    """At ``at`` on ``day`` open ``legs`` under keys ``<name>/<leg index>`` (``nested``) or
    ``<name><leg index>`` (legs of one order form the position)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    at: time
    name: str
    legs: tuple[LegSpec, ...]
    day: date = D2
    nested: bool = True


class Multi(Strategy):
    """Opens several positions (whatever is open), closes everything at ``close_at``."""

    mode = "positional"
    outcomes: list[tuple[str, bool]] = []

    class Config(StrategyConfig):
        opens: tuple[Open, ...] = ()
        close_at: time | None = None
        roll_at: time | None = None  # roll "A/0" to the E2 21500 C
        max_cycles: int = 100

    def adjust(self, bar):
        c = self.config.close_at
        if c is not None and bar.date == D2 and bar.time == c and self.positions:
            assert self.close_all() is not None
        r = self.config.roll_at
        if r is not None and bar.date == D2 and bar.time == r:
            rolled = self.roll("A/0", self.add(21500, "C", "BUY", 1, E2))
            Multi.outcomes.append(("roll", rolled is not None))

    def on_bar(self, bar):
        for o in self.config.opens:
            if o.day != bar.date or o.at != bar.time:
                continue
            sep = "/" if o.nested else ""
            order = {
                f"{o.name}{sep}{j}": self.add(s.strike, s.right, s.side, s.qty, s.expiry)
                for j, s in enumerate(o.legs)
            }
            Multi.outcomes.append((o.name, self.try_fill(order) is not None))


def leg(strike: float, right: str, side: str = "BUY", expiry: date = E) -> dict:
    return {"strike": strike, "right": right, "side": side, "expiry": expiry}


def at(hhmm: str, name: str, *legs: dict, nested: bool = True) -> dict:
    h, m = hhmm.split(":")
    return {"at": time(int(h), int(m)), "name": name, "legs": list(legs), "nested": nested}


@pytest.fixture(scope="module")
def nifty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_nifty(tmp_path_factory.mktemp("constraints") / "nifty")


def run(data: Path, opens: list[dict], constraints, **kw):
    Multi.outcomes.clear()
    params = {"opens": opens, **kw.pop("params", {})}
    options = {"fill": "mid", "fees": "none", "capital": CAPITAL}
    options.update(kw)
    result = run_backtest(
        Multi,
        data=data,
        start=D2,
        end=D2,
        params=params,
        constraints=constraints,
        progress=False,
        **options,
    )
    return result, dict(Multi.outcomes)


def refusals(result) -> str:
    return " | ".join(result.days["refusal_messages"].astype(str))


THREE = [
    at("09:15", "A", leg(21500, "C")),
    at("09:16", "B", leg(21500, "P")),
    at("09:17", "C", leg(21550, "C")),
]


# -- max open positions --------------------------------------------------------------------------
def test_max_open_positions_refuses_at_the_limit(nifty: Path) -> None:
    result, got = run(nifty, THREE, {"max_open_positions": 2})
    assert got == {"A": True, "B": True, "C": False}
    assert "09:17:00 open C/0 (" in refusals(result)
    assert "max_open_positions: 2 open, at most 2 allowed" in refusals(result)
    assert result.days["constraint_refusals"].tolist() == ["max_open_positions: 1"]
    assert result.metrics["refused_by_constraint"] == {"max_open_positions": 1}
    assert result.metrics["refused_fills"] == 1


def test_max_open_positions_fills_under_the_limit(nifty: Path) -> None:
    result, got = run(nifty, THREE, {"max_open_positions": 3})
    assert got == {"A": True, "B": True, "C": True}
    assert result.metrics["refused_by_constraint"] == {}
    assert result.days["constraint_refusals"].tolist() == [""]


def test_legs_of_one_order_are_one_position(nifty: Path) -> None:
    """Keys without a position prefix: the two legs of one order count once."""
    spread = at("09:15", "S", leg(21500, "C"), leg(21550, "C", "SELL"), nested=False)
    _, got = run(nifty, [spread, at("09:16", "B", leg(21500, "P"), nested=False)],
                 {"max_open_positions": 2})  # fmt: skip
    assert got == {"S": True, "B": True}
    _, got = run(nifty, [spread, at("09:16", "B", leg(21500, "P"), nested=False)],
                 {"max_open_positions": 1})  # fmt: skip
    assert got == {"S": True, "B": False}


def test_closes_are_never_refused_and_free_the_slot(nifty: Path) -> None:
    """With one position allowed: B is refused at 09:16, everything closes at 09:17 (the
    close is not refused), then C opens at 09:17 after the close."""
    result, got = run(nifty, THREE, {"max_open_positions": 1}, params={"close_at": time(9, 17)})
    assert got == {"A": True, "B": False, "C": True}
    tb = result.tradebook
    assert list(zip(tb["position_key"], tb["action"])) == [
        ("A/0", "open"), ("A/0", "close"), ("C/0", "open"),
    ]  # fmt: skip


# -- per underlying -------------------------------------------------------------------------------
def test_max_open_positions_per_underlying(nifty: Path) -> None:
    result, got = run(nifty, THREE, {"max_open_positions_per_underlying": 2})
    assert got == {"A": True, "B": True, "C": False}
    assert "max_open_positions_per_underlying: 2 open on NIFTY, at most 2 allowed" in refusals(
        result
    )
    _, got = run(nifty, THREE, {"max_open_positions_per_underlying": 3})
    assert got == {"A": True, "B": True, "C": True}


# -- max risk per trade -----------------------------------------------------------------------------
# A buys the 21500 P at 20 at 09:15 (max loss 1000). At 09:17 it is marked 16: equity
# 100,000 - 200 = 99,800. B buys the 21550 C at 48 at 09:17: max loss 48 x 50 = 2400, i.e.
# 2400 / 99,800 of equity (2.4048 %; 2.4 % of the capital alone).
RISK = [at("09:15", "A", leg(21500, "P")), at("09:17", "B", leg(21550, "C"))]


def test_max_risk_per_trade_fills_at_the_limit_of_equity_now(nifty: Path) -> None:
    _, got = run(nifty, RISK, {"max_risk_per_trade": 2400 / 99_800})
    assert got == {"A": True, "B": True}


def test_max_risk_per_trade_refuses_over_the_limit(nifty: Path) -> None:
    limit = 2400 / 99_800 * (1 - 1e-6)  # just under B's share
    result, got = run(nifty, RISK, {"max_risk_per_trade": limit})
    assert got == {"A": True, "B": False}
    assert "max_risk_per_trade: max loss 2,400.00 is 2.4048% of equity 99,800.00" in refusals(
        result
    )
    # 2.4 % would pass on the capital alone (2400 / 100,000): the equity used is today's
    _, got = run(nifty, RISK, {"max_risk_per_trade": 0.024})
    assert got == {"A": True, "B": False}


def test_max_risk_per_trade_of_an_unbounded_position_is_refused(nifty: Path) -> None:
    result, got = run(nifty, [at("09:15", "N", leg(21500, "C", "SELL"))], {"max_risk_per_trade": 1})
    assert got == {"N": False}
    assert "max loss unlimited" in refusals(result)


# -- portfolio heat ------------------------------------------------------------------------------------
# A: 21500 C at 70 (09:15, max loss 3500). B: 21500 P at 18 (09:16, max loss 900); equity at
# 09:16 = 100,000 + (75 - 70) x 50 = 100,250. Heat after B = 4400 / 100,250.
HEAT = [at("09:15", "A", leg(21500, "C")), at("09:16", "B", leg(21500, "P"))]


def test_max_portfolio_heat_fills_at_the_limit(nifty: Path) -> None:
    _, got = run(nifty, HEAT, {"max_portfolio_heat": 4400 / 100_250})
    assert got == {"A": True, "B": True}


def test_max_portfolio_heat_refuses_over_the_limit(nifty: Path) -> None:
    result, got = run(nifty, HEAT, {"max_portfolio_heat": 4400 / 100_250 * (1 - 1e-6)})
    assert got == {"A": True, "B": False}
    assert "open max loss 3,500.00 + new 900.00 is 4.3890% of equity 100,250.00" in refusals(result)


def test_a_book_already_at_the_heat_limit_takes_nothing_more(nifty: Path) -> None:
    """A alone is exactly 3.5 % of 100,000 (fills); then the book is at the limit and B is
    refused."""
    _, got = run(nifty, HEAT, {"max_portfolio_heat": 0.035})
    assert got == {"A": True, "B": False}


# -- margin utilisation ---------------------------------------------------------------------------------
# Defined-risk margin. A: buy 21500 C at 75, sell 21550 C at 42 (09:16): margin at the fill
# prices (75 - 42) x 50 = 1650 of equity 100,000. B (09:17): the same spread at 80 / 48; the A
# spread is then marked 80 / 48 too: margin after B = 2 x 1600 = 3200, equity 99,950.
SPREAD = (leg(21500, "C"), leg(21550, "C", "SELL"))
MARGIN = [at("09:16", "A", *SPREAD), at("09:17", "B", *SPREAD)]


def test_max_margin_utilisation_fills_at_the_limit(nifty: Path) -> None:
    _, got = run(nifty, MARGIN[:1], {"max_margin_utilisation": 0.0165}, margin="defined-risk")
    assert got == {"A": True}
    _, got = run(nifty, MARGIN, {"max_margin_utilisation": 3200 / 99_950}, margin="defined-risk")
    assert got == {"A": True, "B": True}


def test_max_margin_utilisation_refuses_over_the_limit(nifty: Path) -> None:
    _, got = run(nifty, MARGIN[:1], {"max_margin_utilisation": 0.0164}, margin="defined-risk")
    assert got == {"A": False}
    result, got = run(nifty, MARGIN, {"max_margin_utilisation": 0.0165}, margin="defined-risk")
    assert got == {"A": True, "B": False}
    assert "margin after the fill 3,200.00 is 3.2016% of equity 99,950.00" in refusals(result)


def test_max_margin_utilisation_needs_a_margin_model(nifty: Path) -> None:
    with pytest.raises(ConfigError, match="needs a margin model"):
        run(nifty, MARGIN, {"max_margin_utilisation": 0.5})


# -- one position per expiry -----------------------------------------------------------------------------
def test_one_position_per_expiry(nifty: Path) -> None:
    opens = [
        at("09:15", "A", leg(21500, "C")),
        at("09:16", "B", leg(21500, "P")),  # E again: refused
        at("09:17", "C", leg(21500, "C", expiry=E2)),  # another expiry: fills
    ]
    result, got = run(nifty, opens, {"one_position_per_expiry": True})
    assert got == {"A": True, "B": False, "C": True}
    assert f"one_position_per_expiry: position A already holds expiry {E}" in refusals(result)
    _, got = run(nifty, opens, {"one_position_per_expiry": False})
    assert got == {"A": True, "B": True, "C": True}


# -- correlation ---------------------------------------------------------------------------------------
def test_max_correlation_with_one_underlying_is_always_met(nifty: Path) -> None:
    _, got = run(nifty, THREE, {"max_correlation": -1.0, "correlation_window": 2})
    assert got == {"A": True, "B": True, "C": True}


def test_return_correlation_by_hand() -> None:
    days = [date(2024, 1, d) for d in (2, 3, 4, 5, 8)]
    a = dict(zip(days, [100.0, 110.0, 99.0, 99.0, 108.9]))  # +10 %, -10 %, 0, +10 %
    b = dict(zip(days, [50.0, 55.0, 55.0, 49.5, 54.45]))  # +10 %, 0, -10 %, +10 %
    # returns x = (.1, -.1, 0, .1), y = (.1, 0, -.1, .1): means .025; deviations
    # x' = (.075, -.125, -.025, .075), y' = (.075, -.025, -.125, .075)
    # sum x'y' = .005625 + .003125 + .003125 + .005625 = .0175; sum x'^2 = sum y'^2 = .0275
    assert return_correlation(a, b, 4) == pytest.approx(0.0175 / 0.0275)
    # the last 2 returns only: x = (0, .1), y = (-.1, .1) -> perfectly correlated
    assert return_correlation(a, b, 2) == pytest.approx(1.0)
    assert math.isnan(return_correlation(a, b, 5))  # not enough history


class _Market:
    def __init__(self, store, day):
        self.store, self.day, self.underlying = store, day, "NIFTY"


class _Sim:
    """What the guard reads of a simulator for the correlation check."""

    def __init__(self, store, day):
        self.market = _Market(store, day)
        self.warnings: list[str] = []


def test_max_correlation_reads_only_past_closes(tmp_path: Path) -> None:
    """Two underlyings' spot closes; the check on day 5 uses days 1-4 only (day 5's own
    closes are made wildly different and must not matter)."""
    from workbench.data.store import MarketStore
    from workbench.engine.constraints import ConstraintGuard

    days = [date(2024, 1, d) for d in (2, 3, 4, 5, 8)]
    nifty = [100.0, 110.0, 99.0, 99.0, 1.0]
    bank = [50.0, 55.0, 55.0, 49.5, 500.0]
    spot = {d: [("09:15", c, c)] for d, c in zip(days, nifty)}
    root = write_market(tmp_path / "two", "NIFTY", spot, {})
    with __import__("workbench.data.writer", fromlist=["DatasetWriter"]).DatasetWriter(
        root, name="tiny", venue="NSE", timezone="Asia/Kolkata", bar_interval="1min",
        source="hand-made test data",
    ) as w:  # fmt: skip
        from engine_builders import spot_table

        for d, c in zip(days, bank):
            w.write_spot("BANKNIFTY", d, spot_table(d, [("09:15", c, c)]))
    store = MarketStore(root)
    guard = ConstraintGuard(Constraints(max_correlation=0.5, correlation_window=3))
    sim = _Sim(store, days[4])

    # returns before day 5 (days 1-4): NIFTY (.1, -.1, 0), BANKNIFTY (.1, 0, -.1): rho 0.5
    x = np.array([0.1, -0.1, 0.0])
    y = np.array([0.1, 0.0, -0.1])
    rho = float(
        np.sum((x - x.mean()) * (y - y.mean()))
        / np.sqrt(np.sum((x - x.mean()) ** 2) * np.sum((y - y.mean()) ** 2))
    )
    assert rho == pytest.approx(0.5)
    assert guard._correlated(sim, {"NIFTY"}, {"BANKNIFTY"}) is None  # at the limit: met
    strict = ConstraintGuard(Constraints(max_correlation=0.49, correlation_window=3))
    found = strict._correlated(sim, {"NIFTY"}, {"BANKNIFTY"})
    assert found is not None and "correlation of NIFTY with open BANKNIFTY is 0.5000" in found
    # too short a history: not checked, said once
    short = ConstraintGuard(Constraints(max_correlation=0.0, correlation_window=4))
    assert short._correlated(sim, {"NIFTY"}, {"BANKNIFTY"}) is None
    assert short._correlated(sim, {"NIFTY"}, {"BANKNIFTY"}) is None
    assert len(sim.warnings) == 1 and "fewer than 4 common past daily returns" in sim.warnings[0]


# -- configuration -----------------------------------------------------------------------------------
def test_constraints_config_errors_name_the_field(tmp_path: Path, nifty: Path) -> None:
    with pytest.raises(ConfigError, match=r"max_open_position.*did you mean 'max_open_positions'"):
        as_constraints({"max_open_position": 2})
    with pytest.raises(ConfigError, match="max_risk_per_trade"):
        as_constraints({"max_risk_per_trade": -0.1})
    with pytest.raises(ConfigError, match="capital"):
        run(nifty, THREE, {"max_portfolio_heat": 0.1}, capital=None)
    file = tmp_path / "c.toml"
    file.write_text("[constraints]\nmax_open_positions = 2\none_position_per_expiry = true\n")
    loaded = load_constraints(file)
    assert loaded == Constraints(max_open_positions=2, one_position_per_expiry=True)
    assert as_constraints({}) is None  # nothing active: no constraints
    bad = tmp_path / "bad.toml"
    bad.write_text("[constraints]\nmax_open_positions = 'two'\n")
    with pytest.raises(ConfigError, match=r"bad.toml: 'max_open_positions'"):
        load_constraints(bad)


def test_constraints_are_in_the_manifest_and_the_run_id(nifty: Path) -> None:
    plain, _ = run(nifty, THREE, None)
    limited, _ = run(nifty, THREE, {"max_open_positions": 2})
    again, _ = run(nifty, THREE, {"max_open_positions": 2})
    assert plain.manifest["constraints"] is None
    assert limited.manifest["constraints"] == {"max_open_positions": 2}
    assert limited.run_id != plain.run_id and again.run_id == limited.run_id


def test_position_max_loss_by_hand() -> None:
    from workbench.model.contracts import OptionContract
    from workbench.model.enums import Right

    short = OptionContract("SPX", E, 4800.0, Right.PUT)
    long = OptionContract("SPX", E, 4795.0, Right.PUT)
    # a 5-point put vertical sold for 1.20 on 100 units: (5 - 1.20) x 100 = 380
    assert position_max_loss([(short, -100, 3.0), (long, 100, 1.8)]) == pytest.approx(380)
    assert position_max_loss([(None, 100, 50.0)]) == pytest.approx(5000)  # long stock
    assert position_max_loss([(None, -100, 50.0)]) == math.inf  # short stock


# -- rolls: an order that opens legs inside an open position ----------------------------------
ROLL = [at("09:15", "A", leg(21500, "C")), at("09:16", "B", leg(21500, "C", expiry=E2))]


def test_a_roll_is_checked_on_the_book_after_it(nifty: Path) -> None:
    """A (expiry E) and B (E2) are open; at 09:17 A rolls onto E2, where B is: refused by
    one_position_per_expiry (recorded as a roll refusal, A stays open); without the
    constraint it fills."""
    result, got = run(
        nifty, ROLL, {"one_position_per_expiry": True}, params={"roll_at": time(9, 17)}
    )
    assert got == {"A": True, "B": True, "roll": False}
    assert "09:17:00 roll A/0 (" in refusals(result)
    assert f"one_position_per_expiry: position B already holds expiry {E2}" in refusals(result)
    assert list(result.tradebook["action"]) == ["open", "open"]
    _, got = run(nifty, ROLL, {"max_open_positions": 5}, params={"roll_at": time(9, 17)})
    assert got == {"A": True, "B": True, "roll": True}


def test_a_roll_at_the_position_limit_is_not_a_new_position(nifty: Path) -> None:
    """Two positions open, at most two allowed: the roll replaces A's leg inside A, so the
    count stays 2 and it fills."""
    result, got = run(nifty, ROLL, {"max_open_positions": 2}, params={"roll_at": time(9, 17)})
    assert got == {"A": True, "B": True, "roll": True}
    tb = result.tradebook
    assert list(zip(tb["position_key"], tb["action"], tb["reason"])) == [
        ("A/0", "open", "entry"), ("B/0", "open", "entry"),
        ("A/0", "close", "roll"), ("A/0", "open", "roll"),
    ]  # fmt: skip


def test_a_roll_that_raises_the_risk_is_refused(nifty: Path) -> None:
    """A: 21500 C (E) at 70 = 3500 of risk (3.5 %). Rolled at 09:17 into the E2 21500 C at
    150 = 7500 of risk over equity 100,000 + (80 - 70) x 50 = 100,500: 7.46 % > 5 %."""
    result, got = run(
        nifty, ROLL[:1], {"max_risk_per_trade": 0.05}, params={"roll_at": time(9, 17)}
    )
    assert got == {"A": True, "roll": False}
    assert "max_risk_per_trade: max loss 7,500.00 is 7.4627% of equity 100,500.00" in refusals(
        result
    )
    _, got = run(
        nifty, ROLL[:1], {"max_risk_per_trade": 7500 / 100_500}, params={"roll_at": time(9, 17)}
    )
    assert got == {"A": True, "roll": True}


# -- the engine's guarantees stay --------------------------------------------------------------
class SizedIntraday(Strategy):
    """Intraday on every day: at 09:16 the 21500 C sized at 10 % risk of equity, at 09:17 the
    21500 P (refused: at most one position), everything closed at 09:19."""

    class Config(StrategyConfig):
        max_cycles: int = 5

    def adjust(self, bar):
        if bar.time == time(9, 19) and self.positions:
            self.close_all()

    def on_bar(self, bar):
        if bar.time == time(9, 16):
            sized = self.sized([self.add(21500, "C", "BUY")], rule="risk", risk_pct=0.10)
            if sized is not None:
                self.try_fill(sized)
        if bar.time == time(9, 17):
            self.try_fill([self.add(21500, "P", "BUY")])


def test_parallel_days_and_reruns_give_the_same_bytes(nifty: Path, tmp_path: Path) -> None:
    options = {
        "data": nifty, "fill": "mid", "fees": "none", "capital": CAPITAL,
        "constraints": {"max_open_positions": 1}, "progress": False,
    }  # fmt: skip
    serial = run_backtest(SizedIntraday, executor="serial", **options)
    pooled = run_backtest(SizedIntraday, executor="process", **options)
    again = run_backtest(SizedIntraday, executor="process", **options)
    # sized from the declared capital each day (days in parallel): 10,000 of risk over the
    # call's price x 50 at 09:16 -- D1 105 -> 1, D2 75 -> 2, D3 140 -> 1
    assert serial.metrics["days_failed"] == 0
    opens = serial.tradebook[serial.tradebook["action"] == "open"]
    assert list(zip(opens["price"], opens["qty"])) == [(105.0, 1), (75.0, 2), (140.0, 1)]
    assert serial.metrics["refused_by_constraint"] == {"max_open_positions": 3}
    assert pooled.metrics["refused_by_constraint"] == {"max_open_positions": 3}
    for a, b in ((serial, pooled), (pooled, again)):
        a.save(tmp_path / "a")
        b.save(tmp_path / "b")
        for name in ("tradebook.parquet", "daily.csv", "metrics.json"):
            assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
        # days.csv: the same but for ``fetches`` (reads of market data: 0 where a warm
        # worker's cache served the day)
        pd.testing.assert_frame_equal(
            a.days.drop(columns="fetches"), b.days.drop(columns="fetches")
        )


# -- resting orders go through the same guard ---------------------------------------------------
class RestingB(Strategy):
    """D2 09:15: buys A (21500 C) now and places a day limit order for B (21500 P, at most 100
    a unit); records B's order each tick."""

    mode = "positional"
    seen: list[tuple] = []

    class Config(StrategyConfig):
        max_cycles: int = 10

    def on_bar(self, bar):
        if bar.date != D2:
            return
        if bar.time == time(9, 15):
            self.try_fill({"A/0": self.add(21500, "C", "BUY")})
            self.order_id = self.place_limit({"B/0": self.add(21500, "P", "BUY")}, limit=100.0)
        elif hasattr(self, "order_id"):
            o = self.order(self.order_id)
            RestingB.seen.append((bar.time, o.status, o.last_reason))


def test_a_resting_order_is_held_by_the_constraints(nifty: Path) -> None:
    """At most one position: B's limit order (marketable from 09:16) never fills, and says
    which constraint holds it; with two allowed it fills at 09:16. A resting order's ticks are
    not refusals (they are kept on the order)."""
    RestingB.seen.clear()
    result = run_backtest(
        RestingB, data=nifty, start=D2, end=D2, fill="mid", fees="none", capital=CAPITAL,
        constraints={"max_open_positions": 1}, progress=False,
    )  # fmt: skip
    assert list(result.tradebook["position_key"]) == ["A/0"]
    status, why = RestingB.seen[0][1:]
    assert status == "working"
    assert "max_open_positions: 1 open, at most 1 allowed" in why
    assert result.metrics["refused_by_constraint"] == {}
    RestingB.seen.clear()
    result = run_backtest(
        RestingB, data=nifty, start=D2, end=D2, fill="mid", fees="none", capital=CAPITAL,
        constraints={"max_open_positions": 2}, progress=False,
    )  # fmt: skip
    tb = result.tradebook
    assert list(zip(tb["position_key"], tb["ts"].dt.strftime("%H:%M"))) == [
        ("A/0", "09:15"), ("B/0", "09:16"),
    ]  # fmt: skip
