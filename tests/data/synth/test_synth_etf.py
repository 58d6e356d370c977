"""Profile ``us-etf-eod``: correlated SPY/QQQ/IWM end-of-day chains (issue 14)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.data.synth import etf, generate
from workbench.model import calendars


def _log_returns(seed: int, n_days: int) -> dict[str, np.ndarray]:
    days = calendars.trading_days("SPY", date(1995, 1, 1), date(2035, 1, 1), special=False)
    days = days[:n_days]
    sk = etf.simulate_correlated(etf.DEFAULT_PARAMS, seed, days)
    return {u: np.diff(np.log([s.close for s in sk[u]])) for u in etf.UNDERLYINGS}


def test_realised_correlation_is_the_target_over_a_long_sample() -> None:
    r = _log_returns(11, 5000)  # about 20 years of days
    got = np.corrcoef(np.vstack([r[u] for u in etf.UNDERLYINGS]))
    # sampling error of a correlation near 0.8-0.9 over 5,000 days is about 0.005 (more with
    # stochastic volatility and jumps)
    assert np.abs(got - etf.TARGET_CORRELATION).max() < 0.02, got


def test_volatility_levels_are_etf_like() -> None:
    r = _log_returns(5, 5000)
    vol = {u: float(np.std(x) * np.sqrt(252)) for u, x in r.items()}
    assert 0.11 < vol["SPY"] < 0.22, vol
    assert vol["SPY"] < vol["QQQ"] and vol["SPY"] < vol["IWM"], vol


def test_skeleton_is_deterministic_for_a_seed() -> None:
    a, b, c = _log_returns(3, 200), _log_returns(3, 200), _log_returns(4, 200)
    assert all(np.array_equal(a[u], b[u]) for u in a)
    assert not np.array_equal(a["SPY"], c["SPY"])


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("etf") / "etf"
    generate("us-etf-eod", out, seed=9, start="2019-03-01", days=40, progress=False, workers=1)
    return out


def test_settlement_and_terms_recorded(dataset: Path) -> None:
    cat = json.loads((dataset / "catalog.json").read_text())
    assert sorted(cat["underlyings"]) == ["IWM", "QQQ", "SPY"]
    for u in ("SPY", "QQQ", "IWM"):
        spec = cat["underlyings"][u]
        assert spec["settlement"] == "physical"
        assert spec["settlement_time"] == "PM"
        assert spec["currency"] == "USD"
        assert spec["lot_size"] == 100
    assert cat["bar_interval"] == "1d"


def test_strikes_dollar_near_the_money_wider_out(dataset: Path) -> None:
    day = "2019-03-20"
    for u in ("SPY", "QQQ", "IWM"):
        spot = pd.read_parquet(dataset / "spot" / u / "2019" / f"{day}.parquet")["close"].iloc[0]
        chain = pd.read_parquet(dataset / "options" / u / "2019" / f"{day}.parquet")
        for _expiry, group in chain.groupby("expiry"):
            ks = np.unique(group["strike"].to_numpy())
            near = ks[np.abs(ks - spot) <= 0.03 * spot - 1]
            assert near.size >= 2 and set(np.diff(near)) == {1.0}, (u, near)
            # wider further out: $5 apart at both ends of the listing
            outer = np.concatenate([ks[:2], ks[-2:]])
            assert all(k % 5 == 0 for k in outer), (u, ks)
            assert ks[1] - ks[0] == 5.0 and ks[-1] - ks[-2] == 5.0, (u, ks)
            # calls and puts at every strike, every strike quoted
            assert (group.groupby("strike")["right"].nunique() == 2).all()


def test_weekly_and_monthly_expiries(dataset: Path) -> None:
    day = date(2019, 3, 20)
    chain = pd.read_parquet(dataset / "options" / "SPY" / "2019" / f"{day}.parquet")
    expiries = sorted(pd.to_datetime(chain["expiry"].unique()).date)
    assert all(e > day for e in expiries)
    # every week's Friday (or the Thursday before Good Friday, 2019-04-18) out to 50 days
    weeklies = [e for e in expiries if (e - day).days <= 50]
    assert weeklies == [
        date(2019, 3, 22), date(2019, 3, 29), date(2019, 4, 5), date(2019, 4, 12),
        date(2019, 4, 18), date(2019, 4, 26), date(2019, 5, 3),
    ]  # fmt: skip
    # and the third-Friday monthlies beyond, to 100 days; no Monday/Wednesday dailies
    assert [e for e in expiries if (e - day).days > 50] == [date(2019, 5, 17), date(2019, 6, 21)]
    assert all(e.weekday() in (3, 4) for e in expiries)


def test_same_seed_same_bytes(dataset: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate("us-etf-eod", again, seed=9, start="2019-03-01", days=40, progress=False, workers=1)
    a = json.loads((dataset / "catalog.json").read_text())["content_version"]
    b = json.loads((again / "catalog.json").read_text())["content_version"]
    assert a == b
