"""Spot and volatility paths: skeleton chaining, the minute bridge, U-shaped intraday variance."""

from __future__ import annotations

from datetime import date
from itertools import pairwise

import numpy as np

from workbench.data.synth.paths import (
    PathParams,
    intraday_weights,
    minute_path,
    simulate_skeleton,
)
from workbench.data.synth.seeding import generator
from workbench.model import calendars

PARAMS = PathParams(s0=20_000.0, v0=0.15, theta=0.15)


def test_intraday_variance_is_u_shaped_and_sums_to_one() -> None:
    w = intraday_weights(PARAMS, 375)
    assert np.isclose(w.sum(), 1.0)
    assert w[0] > 2 * w[187] and w[-1] > 2 * w[187]
    assert np.allclose(w, w[::-1])


def test_skeleton_chains_days_and_starts_at_s0() -> None:
    days = calendars.trading_days("NIFTY", date(2024, 1, 1), date(2024, 3, 31))
    sk = simulate_skeleton(PARAMS, 9, days)
    assert sk[0].open == PARAMS.s0 and sk[0].v_open == PARAMS.v0
    for a, b in pairwise(sk):
        assert b.prev_close == a.close and b.v_open == a.v_close
    assert all(PARAMS.v_min <= s.v_close <= PARAMS.v_max for s in sk)
    # A prefix of the days gives the same prefix of the skeleton.
    assert simulate_skeleton(PARAMS, 9, days[:10]) == sk[:10]


def test_minute_path_runs_from_the_open_to_the_close() -> None:
    days = calendars.trading_days("NIFTY", date(2024, 1, 1), date(2024, 1, 31))
    for skel in simulate_skeleton(PARAMS, 4, days):
        path = minute_path(PARAMS, skel, 375, generator(4, "test", skel.day.toordinal()))
        assert path.open[0] == skel.open and path.close[-1] == skel.close
        assert np.array_equal(path.open[1:], path.close[:-1])
        assert (path.high >= np.maximum(path.open, path.close)).all()
        assert (path.low <= np.minimum(path.open, path.close)).all()
        assert path.v_open[0] == skel.v_open and np.isclose(path.v_close[-1], skel.v_close)
        assert np.all(np.round(path.close, 2) == path.close)


def test_jumps_do_not_change_the_expected_return() -> None:
    # With the compensator, E[S_T / S_0] = exp(mu T) whatever the jumps: check over many seeds
    # with big, frequent jumps over a quarter: uncompensated they would cost about 15 %; the sd
    # of the mean of 200 quarterly returns is about 0.8 %.
    jumpy = PathParams(
        s0=100.0, v0=0.15, theta=0.15, jump_rate=20.0, jump_mean=-0.03, jump_sd=0.02, mu=0.05
    )
    days = calendars.trading_days("SPX", date(2023, 1, 1), date(2023, 3, 31))
    gross = [simulate_skeleton(jumpy, seed, days)[-1].close / 100.0 for seed in range(200)]
    assert abs(np.mean(gross) - np.exp(0.05 * len(days) / 252)) < 0.03
