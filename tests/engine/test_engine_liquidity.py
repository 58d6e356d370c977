"""The liquidity cost model inside a run, by hand (engine_builders: every option bar has volume
100 and open interest 1000, so the depth is 100 + 0.1 x 1000 = 200 contracts)."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pyarrow as pa
import pytest
from engine_builders import D1, nifty_options, nifty_spot, option_table, spot_table, tiny_nifty
from order_strategies import Resting

from workbench.data.writer import DatasetWriter
from workbench.engine.runner import run_backtest

LOT = 50


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_nifty(tmp_path_factory.mktemp("liquidity") / "tiny")


def run(market: Path, qty: int, fill: str = "liquidity"):
    step = {
        "at": time(9, 15),
        "do": "open",
        "legs": [{"strike": 21500, "right": "C", "side": "SELL", "qty": qty}],
        "keys": ["c"],
    }
    return run_backtest(
        Resting,
        data=market,
        start=D1,
        end=D1,
        params={"steps": [step]},
        fill=fill,
        fees="none",
        executor="serial",
        progress=False,
    )


def test_slippage_in_the_tradebook_grows_with_the_order_size(market: Path) -> None:
    # 09:15 C 99/101: sell 200 contracts, rho = 200/200 = 1, s = 0.5 + 1 = 1.5:
    # 101 - 1.5 x 2 = 98. EOD force close at 09:20, C 129/131: buy 131 - ... = 129 + 3 = 132.
    big = run(market, 200)
    tb = big.tradebook
    assert list(tb["price"]) == [98.0, 132.0]
    assert list(tb["fill_model"]) == ["liquidity/liquidity:1.5"] * 2
    assert big.metrics["total_pnl"] == pytest.approx((98 - 132) * 200 * LOT)
    # 2 contracts: rho 0.01, s = 0.6: sell 101 - 1.2 = 99.8, buy back 129 + 1.2 = 130.2
    small = run(market, 2)
    assert list(small.tradebook["price"]) == pytest.approx([99.8, 130.2])


def test_no_liquidity_at_the_bar_refuses_the_order(tmp_path: Path) -> None:
    # the same market with volume 0 and open interest 0 on every option bar
    result = run(_dry_market(tmp_path), 1)
    assert result.tradebook.empty
    messages = result.days.iloc[0]["refusal_messages"]
    assert "no volume and no open interest at the bar" in messages


def _dry_market(tmp_path: Path) -> Path:
    root = tmp_path / "dry2"
    with DatasetWriter(
        root, name="dry", venue="NSE", timezone="Asia/Kolkata", bar_interval="1min", source="test"
    ) as w:
        for d, bars in nifty_spot().items():
            w.write_spot("NIFTY", d, spot_table(d, bars))
        for d, rows in nifty_options().items():
            t = option_table(d, rows)
            zero = pa.array([0] * t.num_rows, pa.int64())
            t = t.set_column(t.schema.get_field_index("volume"), "volume", zero)
            t = t.set_column(t.schema.get_field_index("oi"), "oi", zero)
            w.write_options("NIFTY", d, t)
    return root


def _sized_market(tmp_path: Path, bid_size: float, ask_size: float) -> Path:
    root = tmp_path / "sized"
    with DatasetWriter(
        root, name="sized", venue="NSE", timezone="Asia/Kolkata", bar_interval="1min", source="test"
    ) as w:
        for d, bars in nifty_spot().items():
            w.write_spot("NIFTY", d, spot_table(d, bars))
        for d, rows in nifty_options().items():
            t = option_table(d, rows)
            t = t.append_column("bid_size", pa.array([bid_size] * t.num_rows, pa.float64()))
            t = t.append_column("ask_size", pa.array([ask_size] * t.num_rows, pa.float64()))
            w.write_options("NIFTY", d, t)
    return root


def run_buy(market: Path, qty: int):
    step = {
        "at": time(9, 15),
        "do": "open",
        "legs": [{"strike": 21500, "right": "C", "side": "BUY", "qty": qty}],
        "keys": ["c"],
    }
    return run_backtest(
        Resting,
        data=market,
        start=D1,
        end=D1,
        params={"steps": [step]},
        fill="liquidity",
        fees="none",
        executor="serial",
        progress=False,
    )


def test_an_order_larger_than_the_quoted_size_is_refused(tmp_path: Path) -> None:
    # every bar quotes 5 contracts bid and 3 offered: a buy of 4 takes more than the ask's 3
    root = _sized_market(tmp_path, bid_size=5, ask_size=3)
    refused = run_buy(root, 4)
    assert refused.tradebook.empty
    messages = refused.days.iloc[0]["refusal_messages"]
    assert "order of 4 contracts larger than the quoted ask size 3" in messages
    # 3 contracts fit the ask: bought at 09:15 (C 99/101, rho 3/200, s = 0.5 + sqrt(0.015));
    # the EOD sale of 3 fits the bid's 5
    filled = run_buy(root, 3)
    s = 0.5 + (3 / 200) ** 0.5
    assert list(filled.tradebook["price"]) == pytest.approx([99 + 2 * s, 131 - 2 * s])
