"""Money across currencies: a basket refuses to add rupees to dollars unless an FX series is
given, and then converts each day at that day's close and says so."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from workbench.research.basket import BasketError, Sleeve, combine
from workbench.research.fx import FxError, FxSeries, fx_from_dataset

DAYS = [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)]


def _sleeve(name: str, currency: str, pnl: list[float], mtm: list[float]) -> Sleeve:
    equity = pd.Series(pnl).cumsum()
    daily = pd.DataFrame(
        {
            "date": pd.to_datetime(DAYS),
            "pnl": pnl,
            "realized": pnl,
            "unrealized": mtm,
            "fees": [1.0, 1.0, 1.0],
            "cash": equity - pd.Series(mtm),
            "mtm": mtm,
            "equity": equity,
            "margin": [100.0, 100.0, 0.0],
            "fills": [2, 0, 2],
            "skipped": [False, False, False],
        }
    )
    book = pd.DataFrame(
        {
            "run_id": [name, name],
            "trade_id": ["a", "a"],
            "cycle": [0, 0],
            "day": [DAYS[0], DAYS[2]],
            "ts": pd.to_datetime(["2024-01-02 10:00", "2024-01-04 15:00"]),
            "action": ["open", "close"],
            "signed_units": [-1.0, 1.0],
            "units": [1.0, 1.0],
            "qty": [1, 1],
            "price": [10.0, 4.0],
            "mid": [10.0, 4.0],
            "fees": [1.0, 1.0],
            "cash": [9.0, -5.0],
            "reason": ["entry", "time_exit"],
        }
    )
    manifest = {"run_id": name, "currency": currency, "strategy": {"mode": "positional"}}
    return Sleeve(name, Path(name), book, daily, manifest)


NIFTY = _sleeve("nifty", "INR", [1000.0, -200.0, 884.02], [50.0, 20.0, 0.0])
SPX = _sleeve("spx", "USD", [-100.0, 30.0, -105.9], [10.0, 5.0, 0.0])
FX = FxSeries("USDINR", {DAYS[0]: 83.0, DAYS[2]: 84.0}, source="hand")  # no close on 01-03


def test_mixed_currencies_are_refused_without_fx() -> None:
    # the reproduction: +1,684.02 INR and -175.90 USD used to add up to "1,508.12"
    with pytest.raises(BasketError, match=r"nifty \(INR\), spx \(USD\).*fx="):
        combine([NIFTY, SPX])


def test_fx_converts_each_day_at_its_close_and_says_so() -> None:
    basket = combine([NIFTY, SPX], currency="INR", fx=FX)
    # USD PnL by hand: -100 x 83 on 01-02, 30 x 83 on 01-03 (no close: the 01-02 one), -105.9 x 84
    usd_in_inr = [-100 * 83.0, 30 * 83.0, -105.9 * 84.0]
    assert basket.sleeve_pnl["spx"].tolist() == pytest.approx(usd_in_inr)
    assert basket.sleeve_pnl["nifty"].tolist() == pytest.approx([1000.0, -200.0, 884.02])
    assert basket.metrics["total_pnl"] == pytest.approx(1684.02 + sum(usd_in_inr))
    daily = basket.daily
    assert daily["equity"].iloc[-1] == pytest.approx(basket.metrics["total_pnl"])
    assert (daily["equity"] - daily["cash"] - daily["mtm"]).abs().max() < 1e-9
    fx = basket.manifest["fx"]
    assert basket.manifest["currency"] == "INR"
    assert fx["pair"] == "USDINR" and fx["converted"] == {"spx": "USD -> INR"}
    assert fx["days_on_an_earlier_close"] == 1
    spx_fills = basket.tradebook[basket.tradebook["sleeve"] == "spx"]
    assert spx_fills["cash"].tolist() == pytest.approx([9.0 * 83.0, -5.0 * 84.0])
    # the other way round: the basket in dollars divides the rupees
    in_usd = combine([NIFTY, SPX], currency="USD", fx=FX)
    assert in_usd.sleeve_pnl["nifty"].iloc[0] == pytest.approx(1000.0 / 83.0)


def test_fx_errors_name_the_pair_and_the_day() -> None:
    with pytest.raises(BasketError, match="cannot convert it to EUR"):
        combine([NIFTY, SPX], currency="EUR", fx=FX)
    late = FxSeries("USDINR", {DAYS[1]: 83.0})
    with pytest.raises(FxError, match="no close on or before 2024-01-02"):
        combine([NIFTY, SPX], currency="INR", fx=late)
    with pytest.raises(FxError, match="six letters"):
        FxSeries("USD/INR", {DAYS[0]: 83.0})


def test_an_fx_dataset_ingested_from_a_daily_file(tmp_path: Path) -> None:
    from workbench.data.ingest import ingest

    csv = tmp_path / "USDINR.csv"
    csv.write_text(
        "Date,Open,High,Low,Close\n2024-01-02,83.1,83.3,83.0,83.2\n2024-01-04,83.4,83.6,83.3,83.5\n"
    )
    ingest("ohlc", [csv], tmp_path / "usdinr", underlying="USDINR")
    series = fx_from_dataset(tmp_path / "usdinr")
    assert series.pair == "USDINR" and series.closes == {DAYS[0]: 83.2, DAYS[2]: 83.5}
    basket = combine([NIFTY, SPX], currency="INR", fx=tmp_path / "usdinr")
    assert basket.sleeve_pnl["spx"].iloc[0] == pytest.approx(-100 * 83.2)
    assert basket.manifest["fx"]["source"] == str((tmp_path / "usdinr").resolve())


def test_runs_record_their_currency(nifty_tiny: Path) -> None:
    from workbench import run_backtest

    result = run_backtest(
        "workbench.strategies.short_straddle:IntradayShortStraddle",
        data=nifty_tiny, executor="serial", progress=False,
    )  # fmt: skip
    assert result.manifest["currency"] == "INR"
