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
  (rounded to the tick, floored at one tick);
* far strikes miss minutes (no row when nothing traded); ``volume`` in contracts, more near the
  money, at the open and close, and towards expiry; ``oi`` in contracts moves during the day
  from the previous trading day's level to today's in step with the cumulative volume
  (:mod:`.oi`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pyarrow as pa

from workbench.data.synth.oi import OpenInterestParams, oi_level
from workbench.data.synth.paths import DaySkeleton, PathParams, minute_path
from workbench.data.synth.plan import ExpiryPlan, InstrumentGrid, StrikeBands
from workbench.data.synth.quotes import (
    QuoteParams,
    bid_ask,
    trade_probability,
    traded_price,
    volumes,
)
from workbench.data.synth.seeding import generator
from workbench.data.synth.surface import SurfaceParams, smile_vol
from workbench.model import calendars
from workbench.model.enums import ExpiryKind
from workbench.model.instruments import get_instrument
from workbench.pricing import bs_price, year_fraction

UNDERLYING = "NIFTY"
MINUTE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class NiftyParams:
    """Parameters of the ``nifty-intraday`` profile (rates continuous per year)."""

    rate: float = 0.065
    dividend_yield: float = 0.013
    near_expiries: int = 2
    half_width: int = 15  # strikes each side of the day's open, in grid steps
    paths: PathParams = field(default_factory=lambda: PathParams(s0=21700.0, v0=0.14, theta=0.14))
    surface: SurfaceParams = field(default_factory=lambda: SurfaceParams(theta=0.15, kappa=6.0))
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
    for day, skel in zip(days, skeletons, strict=True):
        open_, close = calendars.session_bounds(UNDERLYING, day)
        minutes = int((close - open_) / MINUTE)
        listed = calendars.listed_expiries(UNDERLYING, day)
        chosen = list(listed[: params.near_expiries])
        monthly = [
            e
            for e in listed
            if e not in chosen and calendars.expiry_kind(UNDERLYING, e) is ExpiryKind.MONTHLY
        ]
        chosen += monthly[:1]
        plans = []
        for expiry in sorted(chosen):
            lo, hi, step = bands.band(
                UNDERLYING, expiry, skel.open, params.half_width, spec.strike_step_on(day)
            )
            plans.append(
                ExpiryPlan(
                    expiry=expiry,
                    settle=datetime.combine(expiry, spec.settlement_clock),
                    monthly=calendars.expiry_kind(UNDERLYING, expiry) is ExpiryKind.MONTHLY,
                    lo=lo,
                    hi=hi,
                    step=step,
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

    # Time to settlement at each bar's end (m x n) and at the session open (m).
    t_end = year_fraction((ts + np.timedelta64(60, "s"))[None, :], settle[:, None])
    t_open = year_fraction(ts[0], settle)
    S = path.close[None, :]
    v = path.v_close[None, :]
    Kc = K[:, None]
    fwd = S * np.exp((r - q) * t_end)
    iv, x = smile_vol(params.surface, v, np.log(Kc / fwd), t_end)
    callc = np.broadcast_to(is_call[:, None], (m, n))
    mid = bs_price(S, Kc, t_end, r, iv, callc, q=q)
    p_high = bs_price(path.high[None, :], Kc, t_end, r, iv, callc, q=q)
    p_low = bs_price(path.low[None, :], Kc, t_end, r, iv, callc, q=q)
    fwd0 = path.open[0] * np.exp((r - q) * t_open)
    iv0, x0 = smile_vol(params.surface, np.full(m, path.v_open[0]), np.log(K / fwd0), t_open)
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


def _intraday_volume_shape(n: int) -> np.ndarray:
    """Per-minute volume multiplier with mean 1: busy open and close, quiet midday."""
    u = (np.arange(n) + 0.5) / n
    w = 1.0 + 2.0 * np.exp(-u / 0.05) + 1.5 * np.exp(-(1.0 - u) / 0.05)
    return w / w.mean()
