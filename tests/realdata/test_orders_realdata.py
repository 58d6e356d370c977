"""Resting orders and the liquidity model on real chains: a put credit spread on the SPX 2019
set (set 1) entered with a patient GTC limit, taken off by a 50% limit or a 2x-credit stop
(seed 003/004), every fill checked against the chain's own quotes; NSE snapshots (set 4)
refusing orders larger than the quoted size."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from workbench.data.store import MarketStore
from workbench.engine.config import StrategyConfig
from workbench.engine.runner import run_backtest
from workbench.engine.selection import ExpiryRule
from workbench.engine.strategy import Strategy


class RestingSpread(Strategy):
    mode = "positional"

    class Config(StrategyConfig):
        underlying: str | None = "SPXW"

    def on_bar(self, bar):
        if self.positions or self.orders:
            return
        e = bar.expiry(ExpiryRule(dte=30, dte_window=(20, 40)))
        if e is None:
            return
        short = bar.select("P", expiry=e, method="delta", value=0.30, side="SELL")
        long = bar.select("P", expiry=e, method="delta", value=0.15, side="BUY")
        if short is None or long is None or short == long:
            return
        credit = bar.quote(short).mid - bar.quote(long).mid
        if credit > 0:  # ask for the mid credit, rounded to 0.05
            legs = {"short": self.add(short, "SELL"), "long": self.add(long, "BUY")}
            self.place_limit(legs, limit=-round(credit / 0.05) * 0.05, tif="gtc")

    def adjust(self, bar):
        if self.positions and not self.orders:
            credit = self.entry_credit / self.positions["short"].lot_size
            self.place_limit(["short", "long"], limit=round(0.5 * credit, 2), tif="gtc")
            self.place_stop(["short", "long"], on="value", below=-2.0 * credit)


def _orats(bid: float, ask: float, side: str) -> float:
    """ORATS 2-leg price by hand: 66% of the spread from the favourable side."""
    w = ask - bid
    return bid + 0.66 * w if side == "BUY" else ask - 0.66 * w


def test_resting_spread_orders_on_spx_2019(set1: Path) -> None:
    result = run_backtest(RestingSpread, data=set1, fill="orats", fees="none", progress=False)
    orders, tb = result.orders, result.tradebook
    assert len(tb) >= 6 and {"filled", "triggered", "cancelled"} <= set(orders["event"])
    store = MarketStore(set1)
    days = store.days("SPXW")
    sign = {"BUY": 1.0, "SELL": -1.0}
    checked = 0
    for _, ev in orders[orders["event"] == "filled"].iterrows():
        placed = orders[(orders["order_id"] == ev["order_id"]) & (orders["event"] == "placed")]
        placed_day = placed["day"].iloc[0]
        assert ev["day"] > placed_day  # never at the placing tick (one tick a day here)
        rows = tb[(tb["day"] == ev["day"]) & (tb["action"] == ev["action"])]
        assert len(rows) == 2
        chain = store.read_chain("SPXW", ev["day"]).to_pandas()
        legs = []
        for _, leg in rows.iterrows():
            q = chain[
                (chain.expiry == leg["expiry"])
                & (chain.strike == leg["strike"])
                & (chain.right == leg["right"])
            ].iloc[0]
            legs.append((_orats(float(q.bid), float(q.ask), leg["side"]), leg))
        n_model = sum(sign[leg["side"]] * p for p, leg in legs)
        n_book = sum(sign[leg["side"]] * leg["price"] for _, leg in legs)
        assert ev["net_price"] == pytest.approx(n_book, abs=1e-9)
        if ev["kind"] == "stop":
            assert n_book == pytest.approx(n_model, abs=1e-9)  # a market order at the model
        else:
            limit = ev["limit"]
            assert n_model <= limit + 1e-9  # fillable at or better than the limit
            arrival = next(d for d in days if d > placed_day)
            if ev["day"] == arrival:  # marketable on arrival: the model's prices
                assert n_book == pytest.approx(n_model, abs=1e-9)
            else:  # resting: filled at the limit, the gap shared by premium
                assert n_book == pytest.approx(limit, abs=1e-9)
                gross = sum(p for p, _ in legs)
                for p, leg in legs:
                    scale = 1 + (limit - n_model) / gross * sign[leg["side"]]
                    assert leg["price"] == pytest.approx(p * scale, abs=1e-9)
        checked += 1
    assert checked >= 4


class BigStraddle(Strategy):
    class Config(StrategyConfig):
        lots: int = 1

    def on_bar(self, bar):
        if self.idle and bar.time >= time(10, 0):
            atm = bar.atm(expiry=0)
            n = self.config.lots
            self.try_fill({"c": self.add(atm, "C", "SELL", n), "p": self.add(atm, "P", "SELL", n)})


def test_liquidity_model_refuses_more_than_the_quoted_size_on_nse(set4: Path) -> None:
    def run(lots: int):
        return run_backtest(
            BigStraddle, data=set4, params={"lots": lots, "underlying": "NIFTY"},
            fill="liquidity", fees="none", executor="serial", progress=False,
        )  # fmt: skip

    one = run(1)
    assert one.tradebook["ts"].iloc[0].time() == time(10, 0)
    big = run(200)  # 200 lots: more than NIFTY's quoted sizes near the money that day
    assert big.tradebook.empty
    assert "larger than the quoted" in big.days.iloc[0]["refusal_messages"]
