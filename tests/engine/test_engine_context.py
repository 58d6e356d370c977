"""The bar context's contract discovery and chain snapshot, through a real run on the tiny market.

D1 = 2024-01-02 lists two expiries with data: E = 2024-01-04 (DTE 2) and E2 = 2024-01-11 (DTE 9).
At 09:17 the spot close is 21540 (ATM 21550); E has 21500 C and 21550 C, E2 only 21500 C.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_builders import D1, E2, E, tiny_nifty
from engine_strategies import ExpiryProbe

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
