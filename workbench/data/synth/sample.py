"""Measure a profile's generated market without writing it: the same paths, surface and prices.

:func:`sample_market` replays what :func:`workbench.data.synth.generate` builds for a profile,
seed and run of days, keeping only what the calibration statistics read
(:class:`~.calibration.MarketSample`): the daily skeleton (closes, gaps), every session's
1-minute spot path (``nifty-intraday``: drawn from the very generator stream the day builder
uses, so these are the dataset's bars), and at each close the 30-day model-free implied
volatility and the ATM term structure of the profile's surface. No option chain is priced, so
decades take seconds.

:func:`intraday_straddle_pnl` trades the ``nifty-intraday`` market the way an unadjusted
intraday short straddle (or strangle) does, at the dataset's bar closes: the same planning,
ATM levels and :func:`~.nifty.bar_marks` as the day builder, for the two contracts traded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, time, timedelta
from typing import Any

import numpy as np

from workbench.data.synth import nifty, spx
from workbench.data.synth.calibration import (
    IV_HORIZON_DAYS,
    TERM_DAYS,
    MarketSample,
    measure,
    model_free_vol,
)
from workbench.data.synth.paths import DaySkeleton, PathParams, minute_path, simulate_skeleton
from workbench.data.synth.quotes import traded_price
from workbench.data.synth.seeding import generator
from workbench.data.synth.surface import SurfaceParams, atm_vol
from workbench.data.synth.variance_clock import days_after, variance_time
from workbench.model import calendars
from workbench.model.instruments import get_instrument

__all__ = ["close_atm_vols", "intraday_straddle_pnl", "measure_profile", "sample_market"]

#: The day builder's generator stream for a NIFTY session's minutes (:func:`.nifty.build_day`).
NIFTY_MINUTE_STREAM = "nifty-intraday/minutes"


def _profile(name: str, params: Any) -> tuple[str, PathParams, SurfaceParams, bool]:
    if name == "nifty-intraday":
        p = params if params is not None else nifty.DEFAULT_PARAMS
        return nifty.UNDERLYING, p.paths, p.surface, True
    if name == "spx-eod":
        q = params if params is not None else spx.DEFAULT_PARAMS
        return spx.SPOT, q.paths, q.surface, False
    raise ValueError(f"profile {name!r}: no calibration sample (nifty-intraday or spx-eod)")


def close_atm_vols(
    paths: PathParams,
    surface: SurfaceParams,
    skeletons: list[DaySkeleton],
    trading_days: list[date],
    calendar_days: int,
) -> np.ndarray:
    """ATM implied volatility at each day's close for a settlement ``calendar_days`` later.

    The option settles at the close ``calendar_days`` after the day's close (ACT/365
    ``T = calendar_days / 365``) and prices the variance of the trading days in between
    (``trading_days`` must cover them), as :mod:`.surface` prices a listed expiry.
    """
    ahead = timedelta(days=calendar_days)
    after = np.array([days_after(trading_days, s.day, s.day + ahead) for s in skeletons])
    tau = variance_time(paths.overnight_share, 1.0, after, 1.0)
    tau_jump = variance_time(paths.overnight_jump_share, 1.0, after, 1.0)
    v = np.array([s.v_close for s in skeletons])
    t = np.full(len(v), calendar_days / 365.0)
    return np.asarray(atm_vol(surface, paths, v, tau, tau_jump, t))


def sample_market(
    profile: str,
    seed: int,
    start: date,
    end: date,
    *,
    minutes: bool = True,
    params: Any = None,
) -> MarketSample:
    """The calibration sample of ``profile``'s market on its trading days in ``start..end``.

    ``params`` replaces the profile's default parameters (a ``NiftyParams`` or ``SpxParams``);
    ``minutes`` (``nifty-intraday`` only) also replays every regular session's 1-minute spot
    path (days with another session length, and the first day, are left out of the intraday
    statistics).
    """
    underlying, paths, surface, intraday = _profile(profile, params)
    days = calendars.trading_days(underlying, start, end)
    if len(days) < 2:
        raise ValueError(f"sample_market: fewer than 2 {underlying} trading days in {start}..{end}")
    skeletons = simulate_skeleton(paths, seed, days)
    horizon = calendars.trading_days(
        underlying, days[0], days[-1] + timedelta(days=max(TERM_DAYS) + 10)
    )
    close = np.array([s.close for s in skeletons])
    open_ = np.array([s.open for s in skeletons])
    prev = np.array([s.prev_close for s in skeletons])
    log_returns = np.log(close / prev)
    log_returns[0] = np.nan
    term = np.column_stack(
        [close_atm_vols(paths, surface, skeletons, horizon, d) for d in TERM_DAYS]
    )
    iv = model_free_vol(surface, term[:, 1], IV_HORIZON_DAYS / 365.0)
    years = np.array([d.year for d in days])
    gaps = np.log(open_ / prev)
    gaps[0] = np.nan
    sessions = np.log(close / open_)
    if not (minutes and intraday):
        return MarketSample(years=years, log_returns=log_returns, iv=iv, atm_term=term, term_iv=iv)
    regular = _regular_minutes(underlying)
    rows, iv_prev, keep = [], [], []
    for i, s in enumerate(skeletons):
        open_t, close_t = calendars.session_bounds(underlying, s.day)
        n = int((close_t - open_t) / timedelta(minutes=1))
        if i == 0 or n != regular:
            continue
        path = minute_path(paths, s, n, generator(seed, NIFTY_MINUTE_STREAM, s.day.toordinal()))
        log_close = np.log(path.close)
        rows.append(np.concatenate([[log_close[0] - np.log(path.open[0])], np.diff(log_close)]))
        iv_prev.append(iv[i - 1])
        keep.append(i)
    return MarketSample(
        years=years,
        log_returns=log_returns,
        iv=iv,
        minute_returns=np.array(rows),
        minute_iv_previous=np.array(iv_prev),
        gaps=gaps[keep],
        sessions=sessions[keep],
        atm_term=term,
        term_iv=iv,
    )


def measure_profile(
    profile: str, seed: int, *, years: int = 20, minute_years: int = 3, params: Any = None
) -> dict[str, float]:
    """The calibration statistics (:func:`~.calibration.measure`) of ``profile``'s market.

    Daily statistics over ``years`` calendar years of days from 2006 (the registry
    calendars cover 2006 onwards); for ``nifty-intraday`` the intraday ones over the last
    ``minute_years`` of them.
    """
    first, last = 2006, 2006 + years - 1
    stats = measure(
        sample_market(
            profile, seed, date(first, 1, 1), date(last, 12, 31), minutes=False, params=params
        )
    )
    if profile == "nifty-intraday" and minute_years > 0:
        start = date(last - minute_years + 1, 1, 1)
        intraday = measure(sample_market(profile, seed, start, date(last, 12, 31), params=params))
        stats.update({k: v for k, v in intraday.items() if k not in stats})
    return stats


def _regular_minutes(underlying: str) -> int:
    """Bars of a regular session (NSE 09:15-15:30)."""
    spec = get_instrument(underlying)
    opens, closes = spec.session_open, spec.session_close
    return (closes.hour * 60 + closes.minute) - (opens.hour * 60 + opens.minute)


def intraday_straddle_pnl(
    seed: int,
    start: date,
    end: date,
    *,
    otm_steps: Sequence[int] = (0,),
    entry: time = time(9, 20),
    exit: time = time(15, 15),
    params: nifty.NiftyParams | None = None,
) -> np.ndarray:
    """Daily PnL (index points per unit) of unadjusted intraday short straddles on NIFTY.

    Every trading day in ``start..end``: at the close of the ``entry`` bar sell one call and
    one put of the nearest listed expiry (expiry index 0: the same-day one on expiry days), at
    the strike nearest the spot moved ``otm_steps`` grid steps further out on each side (0: the
    ATM straddle; 2: a 100-point strangle on the 50-point grid); buy both back at the close of
    the ``exit`` bar. Both trades at the dataset's bar close (the model mid on the tick grid,
    as :func:`.nifty.build_day` writes it); no stop, no fees, no spread.

    Returns an array of days x ``len(otm_steps)``, in the order of the days and of
    ``otm_steps``.
    """
    p = params if params is not None else nifty.DEFAULT_PARAMS
    steps = np.asarray(otm_steps, dtype=np.int64).reshape(-1)
    if len(steps) == 0 or (steps < 0).any():
        raise ValueError(f"otm_steps must be integers >= 0, got {otm_steps!r}")
    days = calendars.trading_days(nifty.UNDERLYING, start, end)
    plans = nifty.plan_days(days, simulate_skeleton(p.paths, seed, days), p)
    tick = float(get_instrument(nifty.UNDERLYING).tick_size)
    is_call = np.repeat([[True, False]], len(steps), axis=0).ravel()
    out = np.empty((len(plans), len(steps)))
    for d, plan in enumerate(plans):
        n = plan.minutes
        rng = generator(seed, NIFTY_MINUTE_STREAM, plan.skeleton.day.toordinal())
        path = minute_path(p.paths, plan.skeleton, n, rng)
        ts = np.datetime64(plan.session_open, "us") + np.arange(n) * nifty.MINUTE_NS
        i_in, i_out = _bar_index(plan, entry), _bar_index(plan, exit)
        nearest = replace(plan, expiries=plan.expiries[:1])
        expiry = nearest.expiries[0]
        atm = round(path.close[i_in] / expiry.step) * expiry.step
        offsets = np.stack([steps, -steps], axis=1).ravel() * expiry.step
        strike = atm + offsets
        atm_end, _ = nifty.atm_levels(nearest, path, ts, p)
        settle = np.full(len(strike), np.datetime64(expiry.settle, "us"))
        level = np.broadcast_to(atm_end[0], (len(strike), n))
        _, _, _, mid = nifty.bar_marks(p, path, ts, settle, level, strike, is_call)
        close = traded_price(mid, tick)
        legs = close[:, i_in] - close[:, i_out]
        out[d] = legs[0::2] + legs[1::2]
    return out


def _bar_index(plan: nifty.NiftyDay, at: time) -> int:
    """Index of the bar starting at ``at`` on the plan's session (first bar if before it)."""
    minutes = (at.hour * 60 + at.minute) - (plan.session_open.hour * 60 + plan.session_open.minute)
    return max(0, min(minutes, plan.minutes - 1))
