"""Settlement on the real SPX 2019 set (issue 11): expiries whose day has no file.

Set 1 lacks 2019-05-10, 05-17 and 06-14 (all expiry Fridays). A position expiring on such a
day settles on it at the last spot at or before the settlement time -- the previous
session's ``underlying_last`` in the raw file -- never at the next file's spot. Expected
values are computed here from the raw CSV files, not from the engine.
"""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from workbench import run_backtest
from workbench.engine.config import StrategyConfig
from workbench.engine.strategy import Strategy

pytestmark = pytest.mark.realdata


class SellEachDay(Strategy):
    """Positional: on each of ``days`` sells one ``strike`` ``right`` expiring ``expiry``
    (one position per day, overlapping, keyed by the day) and holds it to settlement."""

    mode = "positional"

    class Config(StrategyConfig):
        expiry: date
        strike: float
        right: str = "P"
        days: tuple[date, ...]

    def on_bar(self, bar) -> None:  # type: ignore[no-untyped-def]
        c = self.config
        if bar.date in c.days:
            self.try_fill({f"{bar.date}": self.add(c.strike, c.right, "SELL", 1, c.expiry)})


def underlying_last(real: Path, day: date) -> float:
    path = real / "us_spx_eod_chains_2019" / f"SPX_{day:%Y%m%d}.csv.gz"
    with gzip.open(path, "rt") as f:
        raw = pd.read_csv(f, skipinitialspace=True, nrows=5)
    return float(raw["underlying_last"].iloc[0])


def _run(data: Path, **params: object):
    return run_backtest(
        SellEachDay,
        data=data,
        params={"underlying": "SPXW", **params},
        fill="mid",
        fees="none",
        progress=False,
    )


def test_seven_short_puts_expiring_on_a_missing_friday(set1: Path, real: Path) -> None:
    expiry = date(2019, 5, 10)
    days = tuple(
        date(2019, m, d) for m, d in ((4, 30), (5, 1), (5, 2), (5, 3), (5, 6), (5, 7), (5, 8))
    )
    result = _run(set1, expiry=expiry, strike=2880.0, days=days)
    tb = result.tradebook
    opens, settles = tb[tb["action"] == "open"], tb[tb["action"] == "settle"]
    assert len(opens) == 7 and len(settles) == 7
    spot = underlying_last(real, date(2019, 5, 9))  # the last spot before the 05-10 close
    assert spot == pytest.approx(2870.72)
    later = underlying_last(real, date(2019, 5, 13))  # what the engine used to take
    assert (settles["price"] - (2880.0 - spot)).abs().max() < 1e-9
    assert (settles["spot"] == spot).all()
    assert set(settles["day"].astype(str)) == {"2019-05-10"}
    assert set(settles["fill_model"]) == {"settle/last-spot"}
    expected = float(((opens["price"].to_numpy() - (2880.0 - spot)) * 100).sum())
    settled_pnl = float(opens["cash"].sum() + settles["cash"].sum())
    assert settled_pnl == pytest.approx(expected, abs=0.01)
    assert settled_pnl > float(((opens["price"].to_numpy() - (2880.0 - later)) * 100).sum())
    day = result.days.set_index("date").loc["2019-05-10"]
    assert day["status"] == "skipped" and day["fills"] == 7
    assert "settled at 2870.72, the last spot close at or before" in day["warning_messages"]


def test_june_call_is_not_settled_at_a_later_rally(set1: Path, real: Path) -> None:
    """A 2900 call expiring 2019-06-14 (no file; 06-17 and 06-18 are missing too): 06-13's
    spot is below 2900, so it expires worthless; the next file (06-19) is above 2900."""
    result = _run(
        set1, expiry=date(2019, 6, 14), strike=2900.0, right="C", days=(date(2019, 6, 10),)
    )
    tb = result.tradebook
    settle = tb[tb["action"] == "settle"].iloc[0]
    before, after = (
        underlying_last(real, date(2019, 6, 13)),
        underlying_last(real, date(2019, 6, 19)),
    )
    assert before < 2900.0 < after
    assert settle["price"] == 0.0 and settle["spot"] == before
    assert str(settle["day"]) == "2019-06-14"
    daily = result.daily.set_index("date")
    # held through the two later missing days flat: nothing open after the settlement
    assert daily.loc["2019-06-17", "open_legs"] == 0 and daily.loc["2019-06-18", "open_legs"] == 0
