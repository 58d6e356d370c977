"""Greeks in trader units for reports: theta per day, vega per vol point, delta in lots."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.analytics.units import chain_for_display, trader_greeks


def test_trader_greeks_by_hand() -> None:
    days = pd.DatetimeIndex(["2024-01-02", "2025-12-31"])
    greeks = pd.DataFrame(
        {
            "delta": [-150.0, 75.0],
            "gamma": [2.0, 1.0],
            "vega": [-3650.0, 100.0],
            "theta": [36500.0, -730.0],
        },
        index=days,
    )
    shown = trader_greeks(greeks, "NIFTY")
    # NIFTY's lot: 50 in January 2024, 75 at the end of 2025 (the registry's dated history)
    from workbench.model.instruments import get_instrument

    lots = [get_instrument("NIFTY").lot_size(d.date()) for d in days]
    assert shown["delta_lots"].tolist() == pytest.approx([-150.0 / lots[0], 75.0 / lots[1]])
    assert shown["vega_per_point"].tolist() == pytest.approx([-36.5, 1.0])
    assert shown["theta_per_day"].tolist() == pytest.approx([100.0, -2.0])
    assert "delta_lots" not in trader_greeks(greeks, "NOT-A-NAME").columns


def test_chain_for_display_renames_what_it_converts() -> None:
    chain = pd.DataFrame({"strike": [100.0], "vega": [12.0], "theta": [-73.0]})
    shown = chain_for_display(chain)
    assert shown["vega/vol pt"].iloc[0] == pytest.approx(0.12)
    assert shown["theta/day"].iloc[0] == pytest.approx(-0.2)
    assert "vega" not in shown.columns and chain["vega"].iloc[0] == 12.0  # the input is kept
