"""Profile ``nifty-intraday``: 1-minute NIFTY index and option bars on NSE sessions.

What a day holds (all timestamps exchange-local IST, naive, at the start of each 1-minute
bar, 09:15 .. 15:29 on a normal session):

* spot bars ``open high low close`` (index points, 2 decimals) with ``volume`` 0 (an index
  has no volume);
* option bars for the nearest :attr:`NiftyParams.near_expiries` listed expiries plus the next
  monthly (registry calendar: weekly Thursday expiries, Tuesday from 2025-09, holidays shifted
  back), on the registry's 50-point grid, ``±half_width`` strikes around each day's open, the
  band growing with the path so a listed strike stays listed (:mod:`.plan`);
* a bar's ``close`` is the model mid at the bar's end on the tick grid (``open`` the mid at its
  start, ``high``/``low`` from the spot's high and low), never below one tick; ``bid``/``ask``
  at the bar's end (:mod:`.quotes`: NaN = no quote); time to expiry is ACT/365 to the 15:30 IST
  settlement on expiry day, so the last bar of an expiry day closes at intrinsic value
  (rounded to the tick, floored at one tick); the implied volatility behind the mid is quoted
  on that ACT/365 clock but prices the variance the path will still deliver before settlement
  on its own trading-day clock, times a variance risk premium (:mod:`.surface`,
  :mod:`.variance_clock`), so an ATM straddle is neither cheap nor a gift on average;
* far strikes miss minutes (no row when nothing traded); ``volume`` in contracts, more near the
  money, at the open and close, and towards expiry; ``oi`` in contracts moves during the day
  from the previous trading day's level to today's in step with the cumulative volume
  (:mod:`.oi`).

Calibration (generator version 4). The parameters in :class:`NiftyParams` were chosen so that
the generated market shows what real NIFTY shows. Every statistic is defined once in
:func:`workbench.data.synth.calibration.measure` and measured with that code both on the real
files (``python -m workbench.bench synth_calibration`` with ``$WORKBENCH_REAL_DATA``; the
constants, with their sources, are in :mod:`workbench.data.synth.targets` and a ``realdata``
test re-measures them) and on this generator (:func:`workbench.data.synth.sample.measure_profile`:
20 years of days, the last 3 with minute paths; ``tests/data/synth/test_synth_calibration.py``
requires every band). IV is the 30-day model-free implied volatility at the close: India VIX on
the real market, the same integral over this surface's smile here; RV is close-to-close.

==========================  ========  ==============  ===========================================
statistic                   real      band            measured on (real) and how
==========================  ========  ==============  ===========================================
iv_rv_median                1.28      1.15 .. 1.40    set 6, 2008-2025: median over days of IV_t
                                                      over RV of days t+1..t+21 (sqrt 252 x
                                                      mean squared log return)
iv_rv_yearly_p10,           1.12,     1.00 .. 1.25,   same ratio, its median per calendar year,
iv_rv_yearly_p90            1.39      1.25 .. 1.45    10th / 90th percentile over the years
exceed3,                    0.00322,  0.0015..0.0065  share of days with a close-to-close move
exceed4                     0.00115   0.0002..0.0035  beyond 3 / 4 x the previous close's
                                                      IV / sqrt(252) (14 and 5 of 4,352 days)
kurtosis_yearly_median      1.44      0.60 .. 3.50    median over years of the excess kurtosis
                                                      of daily log returns
iv_median, ln_iv_sd         0.171,    0.13 .. 0.22,   level of IV and the spread of its
                            0.367     0.28 .. 0.46    logarithm (how wide regimes wander)
return_iv_corr              -0.415    -0.60 .. -0.25  daily return vs change in ln IV
iv_session_rv_median        1.59      1.40 .. 1.80    set 5, 2024 (153 sessions; 2009: 1.588):
                                                      previous close's IV over the session's
                                                      1-minute RV (sqrt 252 x sum of squares)
overnight_share             0.302     0.22 .. 0.40    sum of squared gaps (open over previous
                                                      close) over that plus squared
                                                      open-to-close returns
jump_share_median           0.0614    0.035 .. 0.09   median day's (RV - bipower variation) /
                                                      RV on 1-minute returns
profile_open_bar,           25.2,     18 .. 32,       intraday variance per bar relative to the
profile_to_0945,            2.04,     1.6 .. 2.5,     session mean (each day normalised): the
profile_to_1100,            1.14,     0.9 .. 1.4,     09:15 bar, to 09:45, to 11:00, to 14:00,
profile_to_1400,            0.671,    0.55 .. 0.80,   to the close: busy first minute and hour,
profile_to_close            0.939     0.75 .. 1.15    quiet midday, milder close
term_7_30, term_91_30       0.889,    0.85 .. 1.00,   set 4, 2025-08-29 close (one day; SPX
                            1.07      1.00 .. 1.12    2019: 0.943, 1.05): ATM IV at 7 and 91
                                                      days over 30 days, linear in total
                                                      variance between listed expiries
iv_over_atm30               1.11      1.05 .. 1.16    India VIX over the 30-day ATM IV: the
                                                      smile's share of the VIX
==========================  ========  ==============  ===========================================

What the calibration changed from version 3, and why short volatility looked so good there: half
of that market's variance came in rare 3 % jumps (7 a year) that options priced every day and
most 60-day windows never saw, so days beyond 3 implied sigmas were three times as frequent as
on NIFTY, the yearly kurtosis about 9 against 1.4, and an unadjusted intraday short straddle's
median 60-day Sharpe was 3.1 (10-year 1.6; single windows above 10). Jumps are now smaller and a
little more frequent (4 a year, N(-0.5 %, 1.6 %)), volatility regimes as wide as India VIX's, 30 %
of the daily variance in the overnight gap, the intraday profile NIFTY's, 1-minute returns
fat-tailed (Student t, 16 degrees of freedom), and the smile NIFTY's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pyarrow as pa

from workbench.data.synth.bs import bs_price, year_fraction
from workbench.data.synth.oi import OpenInterestParams, oi_level
from workbench.data.synth.paths import (
    DaySkeleton,
    MinutePath,
    PathParams,
    intraday_weights,
    minute_path,
)
from workbench.data.synth.plan import ExpiryPlan, InstrumentGrid, StrikeBands
from workbench.data.synth.quotes import (
    QuoteParams,
    bid_ask,
    trade_probability,
    traded_price,
    volumes,
)
from workbench.data.synth.seeding import generator
from workbench.data.synth.surface import SurfaceParams, atm_vol, smile_vol
from workbench.data.synth.variance_clock import days_after, settle_session_share, variance_time
from workbench.model import calendars
from workbench.model.enums import ExpiryKind
from workbench.model.instruments import get_instrument

UNDERLYING = "NIFTY"
MINUTE = timedelta(minutes=1)
MINUTE_NS = np.timedelta64(60, "s")


@dataclass(frozen=True, slots=True)
class NiftyParams:
    """Parameters of the ``nifty-intraday`` profile (rates continuous per year)."""

    rate: float = 0.065
    dividend_yield: float = 0.013
    near_expiries: int = 2
    half_width: int = 15  # strikes each side of the day's open, in grid steps
    # Calibrated on real NIFTY (module docstring, "Calibration"): the spot's process ...
    paths: PathParams = field(
        default_factory=lambda: PathParams(
            s0=21700.0,
            v0=0.11,
            theta=0.105,  # median 30-day IV about 16 %, India VIX 17 % (2008-2025)
            kappa=3.0,  # India VIX's log mean-reverts at about 3 a year
            xi=1.3,  # IV regimes as wide as India VIX's (sd of ln IV 0.37)
            rho=-0.5,  # daily return vs change in ln IV: -0.41
            overnight_share=0.27,  # with the overnight jumps, 30 % of daily variance in the gap
            jump_rate=4.0,  # 3- and 4-implied-sigma days as often as on NIFTY
            jump_mean=-0.005,
            jump_sd=0.016,
            jump_vol_beta=5.0,
            minute_tail_df=16.0,  # the 1-minute bipower jump share, 6 % on a median day
            open_weight=4.3,  # the 2024 session's profile: a busy first hour ...
            open_width=0.14,
            close_weight=1.3,  # ... a quiet midday, a milder last hour and a half ...
            close_width=0.25,
            first_bar_share=0.067,  # ... and 6.7 % of the session in its first minute
        )
    )
    # ATM implied variance = variance_premium x the path's expected variance (jumps included),
    # and the smile fitted to the 2025-08-29 monthly (VIX / ATM = 1.105): India VIX over the
    # next 21 days' realised volatility is 1.28 at the median, as on NIFTY.
    surface: SurfaceParams = field(
        default_factory=lambda: SurfaceParams(variance_premium=1.2, skew=0.11, curvature=0.18)
    )
    quotes: QuoteParams = field(default_factory=QuoteParams)
    oi: OpenInterestParams = field(default_factory=OpenInterestParams)
    monthly_volume_factor: float = 0.6  # monthly volume relative to the nearest weekly


DEFAULT_PARAMS = NiftyParams()


@dataclass(frozen=True, slots=True)
class NiftyDay:
    """Everything needed to build one day, independent of every other day."""

    skeleton: DaySkeleton
    session_open: datetime
    minutes: int
    expiries: tuple[ExpiryPlan, ...]
    previous_day: date | None
    previous_open: float | None


def plan_days(
    days: list[date], skeletons: list[DaySkeleton], params: NiftyParams
) -> list[NiftyDay]:
    """Sessions, kept expiries and strike bands of every day (serial: bands depend on the past)."""
    spec = get_instrument(UNDERLYING)
    bands = StrikeBands()
    out: list[NiftyDay] = []
    previous: DaySkeleton | None = None
    if not days:
        return out
    kept = [_kept_expiries(day, params) for day in days]
    last_expiry = max([days[-1], *(e for chosen in kept for e in chosen)])
    horizon = calendars.trading_days(UNDERLYING, days[0], last_expiry, special=False)
    for day, skel, chosen in zip(days, skeletons, kept, strict=True):
        open_, close = calendars.session_bounds(UNDERLYING, day)
        minutes = int((close - open_) / MINUTE)
        plans = []
        for expiry in chosen:
            lo, hi, step = bands.band(
                UNDERLYING, expiry, skel.open, params.half_width, spec.strike_step_on(day)
            )
            settle = datetime.combine(expiry, spec.settlement_clock)
            plans.append(
                ExpiryPlan(
                    expiry=expiry,
                    settle=settle,
                    monthly=calendars.expiry_kind(UNDERLYING, expiry) is ExpiryKind.MONTHLY,
                    lo=lo,
                    hi=hi,
                    step=step,
                    days_after=days_after(horizon, day, expiry),
                    settle_share=settle_session_share(
                        settle, calendars.session_bounds(UNDERLYING, expiry)
                    ),
                )
            )
        out.append(
            NiftyDay(
                skeleton=skel,
                session_open=open_,
                minutes=minutes,
                expiries=tuple(plans),
                previous_day=previous.day if previous else None,
                previous_open=previous.open if previous else None,
            )
        )
        previous = skel
    return out


def _kept_expiries(day: date, params: NiftyParams) -> list[date]:
    """The nearest ``near_expiries`` listed expiries plus the next monthly, ascending."""
    listed = calendars.listed_expiries(UNDERLYING, day)
    chosen = list(listed[: params.near_expiries])
    monthly = [
        e
        for e in listed
        if e not in chosen and calendars.expiry_kind(UNDERLYING, e) is ExpiryKind.MONTHLY
    ]
    return sorted(chosen + monthly[:1])


def build_day(plan: NiftyDay, seed: int, params: NiftyParams) -> dict[str, dict[str, pa.Table]]:
    """Spot and option tables of one day: ``{"spot": {"NIFTY": t}, "options": {"NIFTY": t}}``."""
    spec = get_instrument(UNDERLYING)
    tick = float(spec.tick_size)
    day = plan.skeleton.day
    rng = generator(seed, "nifty-intraday/minutes", day.toordinal())
    n = plan.minutes
    path = minute_path(params.paths, plan.skeleton, n, rng)
    start = np.datetime64(plan.session_open, "us")
    ts = start + np.arange(n) * np.timedelta64(60, "s")
    spot = pa.table(
        {
            "ts": pa.array(ts, pa.timestamp("us")),
            "open": path.open,
            "high": path.high,
            "low": path.low,
            "close": path.close,
            "volume": np.zeros(n, dtype=np.int64),
        }
    )

    grid = InstrumentGrid.of(plan.expiries)
    K, is_call = grid.strike, grid.is_call
    m = len(K)
    settle = grid.settle(plan.expiries)
    monthly = grid.monthly(plan.expiries)
    r, q = params.rate, params.dividend_yield

    # The ATM level per expiry prices the variance still to come on the path's clock.
    atm_end, atm_open = atm_levels(plan, path, ts, params)
    t_end, iv, x, mid = bar_marks(params, path, ts, settle, atm_end[grid.expiry_index], K, is_call)
    t_open = year_fraction(ts[0], settle)
    Kc = K[:, None]
    callc = np.broadcast_to(is_call[:, None], (m, n))
    p_high = bs_price(path.high[None, :], Kc, t_end, r, iv, callc, q=q)
    p_low = bs_price(path.low[None, :], Kc, t_end, r, iv, callc, q=q)
    fwd0 = path.open[0] * np.exp((r - q) * t_open)
    iv0, x0 = smile_vol(params.surface, atm_open[grid.expiry_index], np.log(K / fwd0), t_open)
    mid0 = bs_price(path.open[0], K, t_open, r, iv0, is_call, q=q)
    mid_open = np.empty_like(mid)
    mid_open[:, 0] = mid0
    mid_open[:, 1:] = mid[:, :-1]

    close = traded_price(mid, tick)
    open_ = traded_price(mid_open, tick)
    high = np.maximum.reduce([open_, close, traded_price(p_high, tick), traded_price(p_low, tick)])
    low = np.minimum.reduce([open_, close, traded_price(p_high, tick), traded_price(p_low, tick)])
    days_left = t_end * 365.0
    bid, ask = bid_ask(params.quotes, mid, x, days_left, tick, rng)

    # Liquidity from the standardised moneyness at the open; rows only where a trade happened.
    prob = trade_probability(params.quotes, x0)
    present = rng.random((m, n)) < prob[:, None]
    u_weight = _intraday_volume_shape(n)
    near = 1.0 + 2.0 / (1.0 + t_open * 365.0)
    intensity = (prob * near * np.where(monthly, params.monthly_volume_factor, 1.0))[
        :, None
    ] * u_weight
    vol = volumes(params.quotes, intensity, rng)
    vol = np.where(present, vol, 0)

    # Open interest: previous day's level -> today's, in step with the day's cumulative volume.
    e_ord = grid.expiry_ordinals(plan.expiries)
    oi_today = oi_level(
        params.oi, seed, e_ord, K, is_call, day.toordinal(), plan.skeleton.open, monthly
    )
    # Expiries are listed weeks before they become one of the kept ones, so yesterday's level
    # exists even on an expiry's first day here; on the dataset's first day, yesterday is
    # taken as the previous calendar day around today's open.
    if plan.previous_day is not None and plan.previous_open is not None:
        prev_ordinal, prev_open = plan.previous_day.toordinal(), plan.previous_open
    else:
        prev_ordinal, prev_open = day.toordinal() - 1, plan.skeleton.open
    oi_prev = oi_level(params.oi, seed, e_ord, K, is_call, prev_ordinal, prev_open, monthly)
    cum = np.cumsum(vol, axis=1).astype(np.float64)
    total = np.maximum(cum[:, -1:], 1.0)
    oi = np.rint(oi_prev[:, None] + (oi_today - oi_prev)[:, None] * (cum / total)).astype(np.int64)

    rows = present.ravel()
    expiry_days = grid.expiry_dates(plan.expiries)
    options = pa.table(
        {
            "ts": pa.array(np.broadcast_to(ts[None, :], (m, n)).ravel()[rows], pa.timestamp("us")),
            "expiry": pa.array(np.repeat(expiry_days, n)[rows], pa.date32()),
            "strike": np.repeat(K, n)[rows],
            "right": pa.array(np.repeat(np.where(is_call, "C", "P"), n)[rows], pa.string()),
            "open": open_.ravel()[rows],
            "high": high.ravel()[rows],
            "low": low.ravel()[rows],
            "close": close.ravel()[rows],
            "bid": bid.ravel()[rows],
            "ask": ask.ravel()[rows],
            "volume": vol.ravel()[rows],
            "oi": oi.ravel()[rows],
        }
    )
    return {"spot": {UNDERLYING: spot}, "options": {UNDERLYING: options}}


def bar_marks(
    params: NiftyParams,
    path: MinutePath,
    ts: np.ndarray,
    settle: np.ndarray,
    atm: np.ndarray,
    strike: np.ndarray,
    is_call: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Model marks of ``m`` options at each of the day's ``n`` bar ends.

    ``settle`` (``datetime64[us]``, m), ``strike`` and ``is_call`` describe the options and
    ``atm`` (m x n) is the ATM volatility of each one's expiry at each bar end
    (:func:`atm_levels`). Returns ``(t, iv, x, mid)``, each m x n: ACT/365 years to
    settlement, smile volatility, standardised moneyness and the Black-Scholes mid against
    the bar's close. The day builder quotes every listed option from these; the calibration
    sampler (:mod:`.sample`) prices the few it trades with the same function.
    """
    r, q = params.rate, params.dividend_yield
    t_end = year_fraction((ts + MINUTE_NS)[None, :], settle[:, None])
    S = path.close[None, :]
    Kc = strike[:, None]
    fwd = S * np.exp((r - q) * t_end)
    iv, x = smile_vol(params.surface, atm, np.log(Kc / fwd), t_end)
    callc = np.broadcast_to(is_call[:, None], t_end.shape)
    mid = bs_price(S, Kc, t_end, r, iv, callc, q=q)
    return t_end, iv, x, mid


def atm_levels(
    plan: NiftyDay, path: MinutePath, ts: np.ndarray, params: NiftyParams
) -> tuple[np.ndarray, np.ndarray]:
    """ATM volatility per expiry at each bar's end (expiries x n) and at the session open.

    The variance still to come is measured on the path's clock (:mod:`.variance_clock`): the
    U-shaped session weights for the diffusion, a uniform minute for intraday jumps.
    """
    n = plan.minutes
    elapsed = np.cumsum(intraday_weights(params.paths, n))
    elapsed[-1] = 1.0
    elapsed_jump = (np.arange(n) + 1.0) / n
    after = np.array([e.days_after for e in plan.expiries])[:, None]
    share = np.array([e.settle_share for e in plan.expiries])[:, None]
    settle = np.array([np.datetime64(e.settle, "us") for e in plan.expiries])[:, None]
    p = params.paths
    zero = np.zeros((1, 1))
    out = []
    for done, done_jump, when, v in (
        (elapsed[None, :], elapsed_jump[None, :], ts[None, :] + MINUTE_NS, path.v_close[None, :]),
        (zero, zero, ts[:1, None], np.full((1, 1), path.v_open[0])),
    ):
        tau = variance_time(p.overnight_share, done, after, share)
        tau_jump = variance_time(p.overnight_jump_share, done_jump, after, share)
        t = year_fraction(when, settle)
        out.append(atm_vol(params.surface, p, v, tau, tau_jump, t))
    return out[0], out[1][:, 0]


def _intraday_volume_shape(n: int) -> np.ndarray:
    """Per-minute volume multiplier with mean 1: busy open and close, quiet midday."""
    u = (np.arange(n) + 0.5) / n
    w = 1.0 + 2.0 * np.exp(-u / 0.05) + 1.5 * np.exp(-(1.0 - u) / 0.05)
    return w / w.mean()
