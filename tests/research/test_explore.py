from __future__ import annotations

from datetime import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.data.store import MarketStore
from workbench.model.contracts import OptionContract
from workbench.model.instruments import get_instrument
from workbench.research import explore as ex


def test_chain_at_shows_only_bars_at_or_before_the_minute(nifty_tiny: Path) -> None:
    store = MarketStore(nifty_tiny)
    day = store.days("NIFTY")[0]
    expiry = store.expiries("NIFTY", day)[0]
    when = time(10, 30)
    chain = ex.chain_at(store, "NIFTY", day, when, expiry)
    assert len(chain) > 20 and (chain["lag_min"] >= 0).all()
    # independent check for a few instruments: the last raw bar at or before 10:30
    for _, row in chain.sample(5, random_state=1).iterrows():
        raw = store.read_instrument(
            OptionContract("NIFTY", expiry, row["strike"], row["right"]), day
        ).to_pandas()
        seen = raw[raw["ts"] <= pd.Timestamp.combine(day, when)].iloc[-1]
        assert row["bid"] == seen["bid"] or (np.isnan(row["bid"]) and np.isnan(seen["bid"]))
        assert row["close"] == seen["close"]
        assert row["lag_min"] == int(
            (pd.Timestamp.combine(day, when) - seen["ts"]).total_seconds() // 60
        )
    # near the money the implied vol is recovered
    spot = ex.spot_at(store, "NIFTY", day, when)
    near = chain[(chain["strike"] - spot).abs() < 200]
    assert np.isfinite(near["iv"]).all() and (near["iv"].between(0.03, 1.5)).all()
    assert ex.smile_figure(chain, spot).axes[0].lines


def test_spot_before_the_open_is_nan(nifty_tiny: Path) -> None:
    store = MarketStore(nifty_tiny)
    assert np.isnan(ex.spot_at(store, "NIFTY", store.days("NIFTY")[0], time(9, 0)))


def test_payoff_of_a_short_straddle_by_hand(nifty_tiny: Path) -> None:
    store = MarketStore(nifty_tiny)
    day = store.days("NIFTY")[0]
    expiry = store.expiries("NIFTY", day)[0]
    book = ex.PayoffBook("NIFTY", day)
    book.add(21500, "C", "SELL", 2, 100.0, expiry, 0.15)
    book.add(21500, "P", "SELL", 2, 80.0, expiry, 0.15)
    legs = book.position_legs(time(10, 0))
    lot = get_instrument("NIFTY").lot_size(day)
    assert [leg.units for leg in legs] == [-2 * lot, -2 * lot]
    from workbench.execution.payoff import expiry_pnl

    # at the strike both legs expire worthless: keep the whole credit; 300 above: lose 300 - 180
    assert expiry_pnl(legs, np.array([21500.0]))[0] == pytest.approx(180.0 * 2 * lot)
    assert expiry_pnl(legs, np.array([21800.0]))[0] == pytest.approx((180.0 - 300.0) * 2 * lot)
    fig = ex.payoff_figure(book, 21500.0, time(10, 0))
    assert len(fig.axes[0].lines) >= 2
    with pytest.raises(ValueError, match="qty"):
        book.add(21500, "C", "SELL", 0, 1.0, expiry, 0.1)


def test_explorer_panel_builds(nifty_tiny: Path) -> None:
    panel = ex.explorer(nifty_tiny)
    assert panel.children
    tabs = panel.children[1]
    chain_out, smile_out = tabs.children[0], tabs.children[1]
    # the chain and the smile of the first day's nearest expiry are shown from the start
    assert chain_out.outputs and "text/html" in chain_out.outputs[0]["data"]
    assert smile_out.outputs and "image/png" in smile_out.outputs[0]["data"]
