"""The variance clock: hand values, bad input, and agreement with the simulated path.

The statistical tests simulate the path model itself (:mod:`workbench.data.synth.paths`) and
check that its variance accrues where :func:`variance_time` says it does: a share
``overnight_share`` in the gap before the open, none over weekends and holidays (calendar
ACT/365 time would put about three weekdays' worth there), and inside the session along the
U-shaped weights.
"""

from __future__ import annotations

from datetime import date, datetime
from itertools import pairwise

import numpy as np
import pytest

from workbench.data.synth.paths import (
    PathParams,
    intraday_weights,
    minute_path,
    simulate_skeleton,
)
from workbench.data.synth.seeding import generator
from workbench.data.synth.variance_clock import days_after, settle_session_share, variance_time
from workbench.model import calendars

DIFFUSIVE = PathParams(s0=20_000.0, v0=0.12, theta=0.12, jump_rate=0.0)


def test_hand_values() -> None:
    # Half the session gone, settles at the close two trading days later:
    # 0.85 * 0.5 today + 1 full day + the expiry day's gap and whole session.
    got = variance_time(0.15, np.array(0.5), np.array(2), np.array(1.0))
    assert np.isclose(got, (0.425 + 1.0 + 0.15 + 0.85) / 252)
    # Settles at today's close, 30 % of the session gone.
    assert np.isclose(variance_time(0.15, 0.3, 0, 1.0), 0.85 * 0.7 / 252)
    # AM settlement tomorrow (at the open), valued at today's close: only the gap is left.
    assert np.isclose(variance_time(0.15, 1.0, 1, 0.0), 0.15 / 252)
    # Already settled today.
    assert variance_time(0.15, 0.8, 0, 0.5) == 0.0


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="overnight_share"):
        variance_time(1.5, 0.0, 1, 1.0)
    with pytest.raises(ValueError, match="days_after_today"):
        variance_time(0.15, 0.0, np.array([1, -1]), 1.0)
    days = calendars.trading_days("NIFTY", date(2024, 1, 22), date(2024, 2, 2))
    with pytest.raises(ValueError, match="before the valuation day"):
        days_after(days, date(2024, 1, 25), date(2024, 1, 24))
    with pytest.raises(ValueError, match="beyond the trading days"):
        days_after(days, date(2024, 1, 25), date(2024, 2, 8))


def test_days_after_skips_weekends_and_holidays() -> None:
    # Thu 2024-01-25 -> Thu 2024-02-01: Fri 26 Jan is Republic Day (NSE closed), then the
    # weekend: Mon 29, Tue 30, Wed 31, Thu 1 Feb are the trading days.
    days = calendars.trading_days("NIFTY", date(2024, 1, 22), date(2024, 2, 2))
    assert days_after(days, date(2024, 1, 25), date(2024, 2, 1)) == 4
    assert days_after(days, date(2024, 2, 1), date(2024, 2, 1)) == 0


def test_settle_session_share() -> None:
    session = (datetime(2024, 1, 4, 9, 15), datetime(2024, 1, 4, 15, 30))
    assert settle_session_share(datetime(2024, 1, 4, 15, 30), session) == 1.0
    assert settle_session_share(datetime(2024, 1, 4, 9, 15), session) == 0.0
    assert settle_session_share(datetime(2024, 1, 4, 12, 22, 30), session) == pytest.approx(0.5)


def test_the_path_puts_the_overnight_share_in_the_gap_and_nothing_extra_on_weekends() -> None:
    days = calendars.trading_days("NIFTY", date(2012, 1, 1), date(2023, 12, 31))
    gaps, totals, after_break = [], [], []
    for seed in (1, 2):
        sk = simulate_skeleton(DIFFUSIVE, seed, days)[1:]
        gaps += [np.log(s.open / s.prev_close) ** 2 / s.v_open**2 for s in sk]
        totals += [np.log(s.close / s.prev_close) ** 2 / s.v_open**2 for s in sk]
        after_break += [(b - a).days > 1 for a, b in pairwise(days)]
    gap, total, brk = np.array(gaps), np.array(totals), np.array(after_break)
    share = gap.mean() / total.mean()
    assert share == pytest.approx(float(variance_time(0.15, 1.0, 1, 0.0) * 252), abs=0.02)
    # ACT/365 would give a gap over a weekend about 3.4x a weeknight's; the path gives ~1.
    assert 0.8 < gap[brk].mean() / gap[~brk].mean() < 1.25


def test_the_path_accrues_the_session_variance_along_the_u_shaped_clock() -> None:
    # The intraday short straddle's window: the close of the 09:20 bar to the close of the
    # 15:15 bar, on a 375-minute NSE session.
    days = calendars.trading_days("NIFTY", date(2023, 1, 1), date(2023, 12, 31))
    n, first, last = 375, 5, 360
    cum = np.cumsum(intraday_weights(DIFFUSIVE, n))
    tau = variance_time(0.15, np.array([cum[first], cum[last]]), 1, 1.0)
    expected_share = float(tau[0] - tau[1]) * 252  # of one trading day's variance
    ratios = []
    for skel in simulate_skeleton(DIFFUSIVE, 5, days):
        path = minute_path(DIFFUSIVE, skel, n, generator(5, "test", skel.day.toordinal()))
        lr = np.diff(np.log(path.close[first : last + 1]))
        ratios.append(np.sum(lr**2) / (skel.v_open**2 / 252 * expected_share))
    assert np.mean(ratios) == pytest.approx(1.0, abs=0.05)
    # On calendar time the same window would be 355 / 1440 of a day: far from the path.
    assert abs(expected_share - 355 / 1440) > 0.4
