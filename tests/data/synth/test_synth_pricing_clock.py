"""The built option prices follow the path's variance clock, read back on the pricing clock.

With the volatility held constant (no vol-of-vol, no jumps, no intraday vol noise) the ATM
total implied variance ``w = iv^2 T`` that a consumer implies from the data (with
:func:`workbench.pricing.implied_vol` and ACT/365 :func:`workbench.pricing.year_fraction`,
independent of the surface code) must fall between two instants by exactly the variance the
path delivers then, times the premium: over a weekend only the Monday gap
(``overnight_share`` of a day), over Monday's session the rest. Calendar time would have the
weekend cost about ten times the session instead of about a fifth.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time

import numpy as np
import pandas as pd
import pytest

from workbench.data.synth import nifty
from workbench.data.synth.paths import intraday_weights, simulate_skeleton
from workbench.model import calendars
from workbench.pricing import implied_vol, year_fraction

CALM = replace(
    nifty.DEFAULT_PARAMS,
    paths=replace(
        nifty.DEFAULT_PARAMS.paths,
        v0=0.12,
        theta=0.12,
        xi=0.0,
        jump_rate=0.0,
        leverage=0.0,
        minute_vol_noise=0.0,
    ),
)
EXPIRY = date(2024, 1, 11)  # Thursday weekly, live on Fri 5 and Mon 8 Jan 2024


def _atm_total_variance(spot: pd.DataFrame, opts: pd.DataFrame, bar: datetime) -> float:
    """``iv^2 T`` at the forward, linear in log-strike between the two strikes around it."""
    s = float(spot.loc[spot.ts == bar, "close"].iloc[0])
    settle = datetime.combine(EXPIRY, time(15, 30))
    t = year_fraction(bar + pd.Timedelta(minutes=1), settle)
    r, q = CALM.rate, CALM.dividend_yield
    fwd = s * np.exp((r - q) * t)
    rows = opts[(opts.ts == bar) & (opts.expiry == EXPIRY)]
    below = rows[rows.strike <= fwd].strike.max()
    above = rows[rows.strike > fwd].strike.min()
    ks, ivs = [], []
    for k in (below, above):
        both = rows[rows.strike == k]
        assert len(both) == 2, f"strike {k} at {bar} lacks a call or a put"
        iv = implied_vol(both.close.to_numpy(), s, k, t, r, (both.right == "C").to_numpy(), q=q)
        ks.append(np.log(k / fwd))
        ivs.append(float(np.mean(iv)))
    iv_atm = ivs[0] + (ivs[1] - ivs[0]) * (0.0 - ks[0]) / (ks[1] - ks[0])
    return iv_atm**2 * t


def test_weekend_and_session_cost_what_the_path_delivers() -> None:
    days = [date(2024, 1, 5), date(2024, 1, 8)]  # Fri, Mon
    plans = nifty.plan_days(days, simulate_skeleton(CALM.paths, 3, days), CALM)
    tables = [nifty.build_day(p, 3, CALM) for p in plans]
    spot = [t["spot"]["NIFTY"].to_pandas() for t in tables]
    opts = [t["options"]["NIFTY"].to_pandas() for t in tables]
    fri_close = datetime(2024, 1, 5, 15, 29)  # the bar ending at 15:30
    mon_first = datetime(2024, 1, 8, 9, 15)  # the bar ending at 09:16
    mon_close = datetime(2024, 1, 8, 15, 29)
    w_fri = _atm_total_variance(spot[0], opts[0], fri_close)
    w_mon0 = _atm_total_variance(spot[1], opts[1], mon_first)
    w_mon1 = _atm_total_variance(spot[1], opts[1], mon_close)

    ov = CALM.paths.overnight_share
    n = int((calendars.session_bounds("NIFTY", days[1])[1] - mon_first).total_seconds() // 60)
    first_minute = float(intraday_weights(CALM.paths, n)[0])
    day_var = CALM.paths.theta**2 / 252 * CALM.surface.variance_premium
    weekend = w_fri - w_mon0
    session = w_mon0 - w_mon1
    assert weekend == pytest.approx(day_var * (ov + (1 - ov) * first_minute), rel=0.05)
    assert session == pytest.approx(day_var * (1 - ov) * (1 - first_minute), rel=0.05)
    # ACT/365 on calendar time would charge 64.25 h against 6.23 h: the ratio would be ~10;
    # the path's clock gives the Monday gap plus the opening minute over the rest, about 0.5.
    assert weekend / session < 1.0
