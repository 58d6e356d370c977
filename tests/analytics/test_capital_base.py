"""Capital base -> returns: fixed account, margin employed, auto, ruin."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.analytics.inputs import validate_daily
from workbench.analytics.returns import (
    base_amount,
    daily_returns,
    resolve_capital_base,
    wealth_index,
)


def _daily(pnl: list[float], margin: list[float] | None = None) -> pd.DataFrame:
    days = pd.bdate_range("2024-03-01", periods=len(pnl))
    frame = pd.DataFrame({"date": days, "pnl": pnl, "equity": np.cumsum(pnl)})
    if margin is not None:
        frame["margin"] = margin
    return validate_daily(frame)


def test_fixed_capital_returns_by_hand() -> None:
    d = _daily([100.0, -50.0, 25.0])
    r = daily_returns(d, capital=1000.0, base="fixed")
    assert list(r) == pytest.approx([100 / 1000, -50 / 1100, 25 / 1050])
    assert wealth_index(r).iloc[-1] == pytest.approx(1075 / 1000)


def test_margin_returns_use_an_account_of_the_peak_margin() -> None:
    d = _daily([0.0, 50.0, -20.0, 10.0], margin=[0.0, 500.0, 400.0, 0.0])
    assert base_amount(d, capital=1e6, base="margin") == 500.0
    assert base_amount(d, capital=1e6, base="fixed") == 1e6
    r = daily_returns(d, capital=1e6, base="margin")
    assert list(r) == pytest.approx([0.0, 50 / 500, -20 / 550, 10 / 530])
    # compounding these returns gives back the money: no volatility drag from a moving base
    assert wealth_index(r).iloc[-1] * 500 == pytest.approx(500 + 40)


def test_margin_base_without_any_margin_is_an_error() -> None:
    d = _daily([0.0, 50.0], margin=[0.0, 0.0])
    with pytest.raises(ValueError, match=r"field 'margin'.*no positive margin"):
        daily_returns(d, capital=1e6, base="margin")
    with pytest.raises(ValueError, match=r"field 'margin'"):
        daily_returns(_daily([1.0]), capital=1e6, base="margin")


def test_auto_picks_margin_only_when_it_covers_every_pnl_day() -> None:
    assert resolve_capital_base(_daily([0.0, 50.0], margin=[0.0, 10.0]), "auto") == "margin"
    assert resolve_capital_base(_daily([5.0, 50.0], margin=[0.0, 10.0]), "auto") == "fixed"
    assert resolve_capital_base(_daily([5.0, 50.0]), "auto") == "fixed"
    with pytest.raises(ValueError, match="capital_base"):
        resolve_capital_base(_daily([1.0]), "nav")  # type: ignore[arg-type]


def test_ruin_makes_later_returns_undefined() -> None:
    d = _daily([-600.0, -500.0, 100.0])
    r = daily_returns(d, capital=1000.0, base="fixed")
    assert r.iloc[0] == pytest.approx(-0.6)
    assert r.iloc[1] == pytest.approx(-500 / 400)
    assert np.isnan(r.iloc[2])


@pytest.mark.parametrize("capital", [0.0, -5.0, float("nan")])
def test_capital_must_be_positive(capital: float) -> None:
    with pytest.raises(ValueError, match="capital"):
        daily_returns(_daily([1.0]), capital=capital, base="fixed")
