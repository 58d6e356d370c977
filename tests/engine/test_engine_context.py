"""The bar context's contract discovery and chain snapshot, through a real run on the tiny market.

D1 = 2024-01-02 lists two expiries with data: E = 2024-01-04 (DTE 2) and E2 = 2024-01-11 (DTE 9).
At 09:17 the spot close is 21540 (ATM 21550); E has 21500 C and 21550 C, E2 only 21500 C.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from engine_builders import D1, E2, E, tiny_nifty
from engine_strategies import ChainProbe, ExpiryProbe

from workbench.engine.runner import run_backtest
from workbench.model.contracts import OptionContract
from workbench.model.enums import Right


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_nifty(tmp_path_factory.mktemp("context") / "tiny")


def test_select_uses_the_rules_expiry_unless_an_expiry_is_given(market: Path) -> None:
    ExpiryProbe.seen.clear()
    result = run_backtest(
        ExpiryProbe, data=market, start=D1, end=D1, executor="serial", progress=False
    )
    assert result.days["status"].tolist() == ["ok"]
    seen = {label: (got, reason) for label, got, reason in ExpiryProbe.seen}

    def call(expiry, strike):
        return OptionContract("NIFTY", expiry, strike, Right.CALL)

    assert seen["rule's expiry"][0] == call(E2, 21500.0)
    assert seen["keyword rule's expiry"][0] == call(E2, 21500.0)
    assert seen["default nearest"][0] == call(E, 21550.0)
    assert seen["explicit index wins"][0] == call(E, 21550.0)
    assert seen["explicit date wins"][0] == call(E, 21550.0)
    got, reason = seen["rule matches nothing"]
    assert got is None
    assert "30 <= DTE <= 60" in reason and "expiry rule" in reason
    got, reason = seen["argument rule matches nothing"]
    assert got is None and "monthly" in reason
    got, message = seen["index out of range"]
    assert got == "error" and "expiry index 5 out of range" in message


def _bs(s: float, k: float, t: float, r: float, vol: float, call: bool) -> tuple[float, float]:
    """Black-Scholes price and |delta| (no dividends), from the textbook formula."""
    from scipy.stats import norm

    d1 = (math.log(s / k) + (r + vol * vol / 2) * t) / (vol * math.sqrt(t))
    d2 = d1 - vol * math.sqrt(t)
    if call:
        return s * norm.cdf(d1) - k * math.exp(-r * t) * norm.cdf(d2), float(norm.cdf(d1))
    return k * math.exp(-r * t) * norm.cdf(-d2) - s * norm.cdf(-d1), float(norm.cdf(-d1))


def test_chain_snapshot_carries_the_runs_rate_into_computed_deltas(market: Path) -> None:
    from scipy.optimize import brentq

    ChainProbe.seen.clear()
    run_backtest(
        ChainProbe, data=market, start=D1, end=D1, rate=0.07, executor="serial", progress=False
    )
    [(chain, deltas)] = ChainProbe.seen
    assert chain.rate == 0.07 and chain.div_yield == 0.0
    assert len(chain) == 3  # 21500 C, 21500 P, 21550 C
    # independent reference: vol implied from the mid by root finding, |delta| at r = 7 %
    s, t = chain.spot, chain.tte
    for row, strike in enumerate(chain.strike):
        call = bool(chain.is_call[row])
        mid = (chain.bid[row] + chain.ask[row]) / 2
        vol = brentq(lambda v, k=strike, c=call, m=mid: _bs(s, k, t, 0.07, v, c)[0] - m, 1e-4, 5)
        assert deltas[row] == pytest.approx(_bs(s, strike, t, 0.07, vol, call)[1], abs=1e-7)
