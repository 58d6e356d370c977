"""An unadjusted short straddle on the generated NIFTY market earns a plausible Sharpe, not 12.

:func:`workbench.data.synth.sample.intraday_straddle_pnl` sells the nearest expiry's ATM
straddle (and a 100-point strangle) at the close of the 09:20 bar and buys it back at 15:15,
every day, at the dataset's bar closes, no stop, no fees, no spread. Ten years of the default
market (seed 11), annualised Sharpe of the daily PnL.

Why these bands:

* Long run, ``[-0.5, 3.0]``. With daily moves Gaussian and an implied-over-realised volatility
  ratio ``k`` for the session, a short straddle's daily Sharpe is about
  ``sqrt(2/pi) (k - 1) / sqrt(1 - 2/pi) = 1.32 (k - 1)``, ``x sqrt(252)`` a year. Real NIFTY
  gives India VIX / next-21-day RV = 1.28 at the median, of which VIX / 30-day ATM = 1.105 is
  the smile (:mod:`workbench.data.synth.targets`), so ATM over realised is about 1.16 and the
  Gaussian figure about 3.3; fat tails (NIFTY's yearly kurtosis 1.4, 3-sigma days 0.3 %)
  lower it. Published unhedged index short-volatility returns sit well inside this: CBOE's
  PUT and BXM indices about 0.5-0.7, SPX 0DTE ATM straddles held to the close about 0 to 1.
  Fees and spreads, left out here, take a further 0.5-1.5 on NIFTY.
* Sixty-day windows (the demo dataset's length), median ``[-1.5, 2.5]``: a window's Sharpe
  has a sampling error of about ``sqrt(252/60) = 2``, so the median window must sit near the
  long-run figure. Before calibration it was 3.1 (seed 11; one window in ten above 7): half
  the variance came in rare 3 % jumps that the options priced every day and most windows
  never saw. Over 40 seeds of the demo's 60 days, a quarter of the straddles showed a Sharpe
  above 6 and the strangle reached 13.8 (the issue's 12.4); now 7.5 % of them do.
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from workbench.analytics.metrics import sharpe
from workbench.data.catalog import Catalog
from workbench.data.synth.sample import intraday_straddle_pnl, sample_market
from workbench.model import calendars

SEED = 11
START, END = date(2014, 1, 1), date(2023, 12, 31)
WINDOW = 60


def _window_median(pnl: np.ndarray) -> float:
    windows = [sharpe(pnl[i : i + WINDOW]) for i in range(0, len(pnl) - WINDOW + 1, WINDOW)]
    return float(np.median(windows))


BOOKS = {"straddle": 0, "strangle": 2}  # grid steps out of the money each side


@pytest.fixture(scope="module")
def books() -> dict[str, np.ndarray]:
    pnl = intraday_straddle_pnl(SEED, START, END, otm_steps=tuple(BOOKS.values()))
    return {name: pnl[:, j] for j, name in enumerate(BOOKS)}


def test_one_trade_a_day_for_ten_years(books: dict[str, np.ndarray]) -> None:
    for pnl in books.values():
        assert len(pnl) == len(calendars.trading_days("NIFTY", START, END))
        assert np.isfinite(pnl).all()


@pytest.mark.parametrize("book", list(BOOKS))
def test_an_unadjusted_short_straddle_has_a_plausible_sharpe(
    book: str, books: dict[str, np.ndarray]
) -> None:
    pnl = books[book]
    long_run = sharpe(pnl)
    assert -0.5 <= long_run <= 3.0, f"{book}: 10-year Sharpe {long_run:.2f}"
    median_window = _window_median(pnl)
    assert -1.5 <= median_window <= 2.5, f"{book}: median 60-day Sharpe {median_window:.2f}"
    # Short volatility loses big on some days: the worst day costs several average days' gain.
    assert pnl.min() < -20 * abs(pnl.mean())


def _bar(frame: pd.DataFrame, ts: datetime, strike: float, right: str) -> float:
    row = frame[(frame.ts == ts) & (frame.strike == strike) & (frame.right == right)]
    assert len(row) == 1, (ts, strike, right)
    return float(row.close.iloc[0])


def test_the_straddle_is_traded_at_the_datasets_bar_closes(
    nifty_dataset: tuple[Path, Catalog],
) -> None:
    # Independent of the sampler's pricing: read the written dataset and trade it by hand.
    root, catalog = nifty_dataset  # seed 42
    days = calendars.trading_days("NIFTY", catalog.start, catalog.end)
    pnl = intraday_straddle_pnl(42, days[0], days[-1])[:, 0]
    assert len(pnl) == len(days) == catalog.days
    for day, got in zip(days, pnl, strict=True):
        name = f"{day:%Y-%m-%d}.parquet"
        spot = pq.read_table(root / "spot" / "NIFTY" / f"{day:%Y}" / name).to_pandas()
        opts = pq.read_table(root / "options" / "NIFTY" / f"{day:%Y}" / name).to_pandas()
        t_in = datetime.combine(day, time(9, 20))
        t_out = datetime.combine(day, time(15, 15))
        expiry = opts.expiry.min()
        opts = opts[opts.expiry == expiry]
        s = float(spot.loc[spot.ts == t_in, "close"].iloc[0])
        strike = round(s / 50) * 50.0
        sold = _bar(opts, t_in, strike, "C") + _bar(opts, t_in, strike, "P")
        bought = _bar(opts, t_out, strike, "C") + _bar(opts, t_out, strike, "P")
        assert got == pytest.approx(sold - bought, abs=1e-9)


def test_the_sample_replays_the_datasets_spot_bars(nifty_dataset: tuple[Path, Catalog]) -> None:
    root, catalog = nifty_dataset  # seed 42
    days = calendars.trading_days("NIFTY", catalog.start, catalog.end)
    sample = sample_market("nifty-intraday", 42, days[0], days[-1])
    # the first day has no previous close and is left out of the intraday statistics
    assert sample.minute_returns.shape == (len(days) - 1, 375)
    for day, row in zip(days[1:], sample.minute_returns, strict=True):
        name = f"{day:%Y-%m-%d}.parquet"
        spot = pq.read_table(root / "spot" / "NIFTY" / f"{day:%Y}" / name).to_pandas()
        closes = spot.close.to_numpy()
        expected = np.concatenate(
            [[np.log(closes[0] / spot.open.iloc[0])], np.diff(np.log(closes))]
        )
        assert np.allclose(row, expected, rtol=0, atol=1e-12)
