"""Profile ``spx-eod``: SPX index and SPX/SPXW option chains at the close, on XNYS days.

What a day holds (timestamps exchange-local ET, naive):

* spot ``SPX``: one daily bar ``open high low close`` (index points, 2 decimals), ``ts`` at the
  session close (16:00 ET, 13:00 on half days), ``volume`` 0;
* options ``SPX``: the AM-settled third-Friday monthlies listed by the registry within
  :attr:`SpxParams.monthly_horizon_days` (settling at the 09:30 ET open of expiry day, so the
  last chain is the day before);
* options ``SPXW``: the PM-settled weeklies/dailies listed by the registry, every one within
  :attr:`SpxParams.daily_horizon_days` and the Friday ones within
  :attr:`SpxParams.weekly_horizon_days` (expiries after the day: a same-day expiry has no
  end-of-day chain);
* each expiry lists ``±half_width`` strikes around the close on a grid of the registry's 5-point
  step widened for long maturities (5, 10, 25, 50, ... chosen on the first day the expiry is
  kept, so about 2.5 standard deviations each side), the band growing with the path
  (:mod:`.plan`); every strike has a row every day (``volume`` may be 0);
* ``close`` the model mid at the close on the 0.05 tick (at least one tick), ``open`` the mid at
  the session open, ``high``/``low`` from the spot's high and low; ``bid``/``ask`` at the close
  (NaN = no quote); ``iv`` the surface volatility at the close (fraction), ``delta gamma theta
  vega`` from :func:`workbench.pricing.bs_greeks` at that volatility (per unit of spot, per
  unit squared, per year, per 1.00 of volatility); ``volume`` and ``oi`` in contracts.

Calibration (generator version 4), as for ``nifty-intraday`` (see :mod:`.nifty` for how each
statistic is computed, :mod:`workbench.data.synth.targets` for the constants): IV is VIX on the
real market and the 30-day model-free volatility of this surface here, RV close-to-close.

==========================  ========  ==============  ===========================================
statistic                   real      band            measured on (real)
==========================  ========  ==============  ===========================================
iv_rv_median                1.35      1.20 .. 1.50    set 3, SPX and VIX 1995-2025 (7,801 days)
iv_rv_yearly_p10,           1.14,     1.00 .. 1.30,   same, per calendar year (min 1.04 in 2008,
iv_rv_yearly_p90            1.56      1.38 .. 1.70    max 1.67 in 2017)
exceed3,                    0.00256,  0.0012..0.005,  set 3 (20 and 3 days)
exceed4                     0.000385  0 .. 0.0015
kurtosis_yearly_median      1.45      0.60 .. 3.50    set 3
iv_median, ln_iv_sd         0.182,    0.14 .. 0.23,   set 3
                            0.35      0.27 .. 0.45
return_iv_corr              -0.73     -0.85 .. -0.55  set 3
term_7_30, term_91_30       0.943,    0.88 .. 1.00,   set 1, SPX/SPXW chains 2019-04-25..07-22
                            1.05      1.00 .. 1.12    (56 days, spanning the May selloff)
iv_over_atm30               1.17      1.10 .. 1.24    set 1 ATM against set 3 VIX
==========================  ========  ==============  ===========================================

Version 3 had too many large moves (3-sigma days 0.58 %, 4-sigma 0.26 %), volatility regimes
too narrow (sd of ln IV 0.21) and too little smile (VIX over ATM 1.06).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pyarrow as pa

from workbench.data.synth.bs import bs_greeks, bs_price, year_fraction
from workbench.data.synth.oi import OpenInterestParams, oi_level
from workbench.data.synth.paths import TRADING_DAYS_PER_YEAR, DaySkeleton, PathParams
from workbench.data.synth.plan import ExpiryPlan, InstrumentGrid, StrikeBands, nice_step
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

SPOT = "SPX"
OPTION_ROOTS = ("SPX", "SPXW")


@dataclass(frozen=True, slots=True)
class SpxParams:
    """Parameters of the ``spx-eod`` profile (rates continuous per year)."""

    rate: float = 0.03
    dividend_yield: float = 0.015
    monthly_horizon_days: int = 90
    weekly_horizon_days: int = 35
    daily_horizon_days: int = 7
    half_width: int = 50  # strikes each side of the close
    width_sd: float = 2.5  # band half-width in standard deviations at first listing
    # Calibrated on real SPX and VIX (module docstring, "Calibration").
    paths: PathParams = field(
        default_factory=lambda: PathParams(
            s0=2500.0,
            v0=0.13,
            theta=0.11,  # median VIX-like 30-day IV about 17-18 %
            kappa=3.0,
            xi=1.2,  # sd of ln VIX 0.35
            rho=-0.9,  # daily return vs change in ln VIX: -0.73
            overnight_share=0.28,  # SPX opens 2017-2025
            jump_rate=5.5,  # 3- and 4-implied-sigma days as often as on SPX
            jump_mean=-0.008,
            jump_sd=0.014,
            jump_vol_beta=5.0,
        )
    )
    # ATM implied variance = variance_premium x the path's expected variance (jumps included);
    # the smile fitted to the 2019 30-day SPX chains (VIX / ATM = 1.17): VIX over the next 21
    # days' realised volatility is 1.35 at the median, as on SPX.
    surface: SurfaceParams = field(
        default_factory=lambda: SurfaceParams(variance_premium=1.16, skew=0.32, curvature=0.19)
    )
    quotes: QuoteParams = field(
        default_factory=lambda: QuoteParams(
            base_ticks=2.0, wing=0.8, near_expiry=0.5, rel=0.004, volume_atm=800.0
        )
    )
    oi: OpenInterestParams = field(
        default_factory=lambda: OpenInterestParams(peak=15_000.0, width=0.06)
    )


DEFAULT_PARAMS = SpxParams()


@dataclass(frozen=True, slots=True)
class SpxDay:
    """One day's skeleton, session and kept expiries per option root."""

    skeleton: DaySkeleton
    session_open: datetime
    session_close: datetime
    expiries: dict[str, tuple[ExpiryPlan, ...]]


def _kept(root: str, day: date, params: SpxParams) -> list[date]:
    if root == "SPX":
        listed = calendars.listed_expiries(root, day, horizon_days=params.monthly_horizon_days)
        return [e for e in listed if e > day]
    listed = calendars.listed_expiries(root, day, horizon_days=params.weekly_horizon_days)
    daily_limit = day + timedelta(days=params.daily_horizon_days)
    return [e for e in listed if e > day and (e <= daily_limit or e.weekday() == 4)]


def plan_days(days: list[date], skeletons: list[DaySkeleton], params: SpxParams) -> list[SpxDay]:
    """Sessions, kept expiries and strike bands of every day (serial: bands depend on the past)."""
    bands = StrikeBands()
    out: list[SpxDay] = []
    if not days:
        return out
    kept = [{root: _kept(root, day, params) for root in OPTION_ROOTS} for day in days]
    last_expiry = max([days[-1], *(e for k in kept for es in k.values() for e in es)])
    horizon = calendars.trading_days(SPOT, days[0], last_expiry, special=False)
    for day, skel, kept_today in zip(days, skeletons, kept, strict=True):
        open_, close = calendars.session_bounds(SPOT, day)
        per_root: dict[str, tuple[ExpiryPlan, ...]] = {}
        for root in OPTION_ROOTS:
            spec = get_instrument(root)
            plans = []
            for expiry in kept_today[root]:
                settle = datetime.combine(expiry, spec.settlement_clock)
                t = max((settle - close).total_seconds(), 0.0) / (365.0 * 86400.0)
                raw = params.width_sd * skel.v_close * np.sqrt(t) * skel.close / params.half_width
                step = nice_step(raw, spec.strike_step_on(day))
                lo, hi, step = bands.band(root, expiry, skel.close, params.half_width, step)
                plans.append(
                    ExpiryPlan(
                        expiry=expiry,
                        settle=settle,
                        monthly=calendars.expiry_kind(root, expiry) is ExpiryKind.MONTHLY,
                        lo=lo,
                        hi=hi,
                        step=step,
                        days_after=days_after(horizon, day, expiry),
                        settle_share=settle_session_share(
                            settle, calendars.session_bounds(SPOT, expiry)
                        ),
                    )
                )
            per_root[root] = tuple(plans)
        out.append(
            SpxDay(
                skeleton=skel,
                session_open=open_,
                session_close=close,
                expiries=per_root,
            )
        )
    return out


def build_day(plan: SpxDay, seed: int, params: SpxParams) -> dict[str, dict[str, pa.Table]]:
    """``{"spot": {"SPX": t}, "options": {"SPX": t, "SPXW": t}}`` for one day."""
    skel = plan.skeleton
    day = skel.day
    rng = generator(seed, "spx-eod/day", day.toordinal())
    sd = skel.v_open / np.sqrt(TRADING_DAYS_PER_YEAR)  # daily log-return sd
    excursion = np.abs(rng.standard_normal(2)) * 0.5 * sd
    decimals = params.paths.price_decimals
    high = round(max(skel.open, skel.close) * float(np.exp(excursion[0])), decimals)
    low = round(min(skel.open, skel.close) * float(np.exp(-excursion[1])), decimals)
    close_ts = np.datetime64(plan.session_close, "us")
    spot = pa.table(
        {
            "ts": pa.array([close_ts], pa.timestamp("us")),
            "open": [skel.open],
            "high": [high],
            "low": [low],
            "close": [skel.close],
            "volume": np.zeros(1, dtype=np.int64),
        }
    )
    options: dict[str, pa.Table] = {}
    for root in OPTION_ROOTS:
        expiries = plan.expiries[root]
        if expiries:
            options[root] = _chain(root, expiries, plan, high, low, seed, params, rng)
    return {"spot": {SPOT: spot}, "options": options}


def _chain(
    root: str,
    expiries: tuple[ExpiryPlan, ...],
    plan: SpxDay,
    spot_high: float,
    spot_low: float,
    seed: int,
    params: SpxParams,
    rng: np.random.Generator,
) -> pa.Table:
    spec = get_instrument(root)
    tick = float(spec.tick_size)
    skel = plan.skeleton
    grid = InstrumentGrid.of(expiries)
    K, is_call = grid.strike, grid.is_call
    m = len(K)
    settle = grid.settle(expiries)
    monthly = grid.monthly(expiries)
    r, q = params.rate, params.dividend_yield
    t_close = year_fraction(np.datetime64(plan.session_close, "us"), settle)
    t_open = year_fraction(np.datetime64(plan.session_open, "us"), settle)

    atm_close, atm_open = _atm_levels(expiries, plan, params)
    fwd = skel.close * np.exp((r - q) * t_close)
    iv, x = smile_vol(params.surface, atm_close[grid.expiry_index], np.log(K / fwd), t_close)
    greeks = bs_greeks(skel.close, K, t_close, r, iv, is_call, q=q)
    mid = greeks["price"]
    p_high = bs_price(spot_high, K, t_close, r, iv, is_call, q=q)
    p_low = bs_price(spot_low, K, t_close, r, iv, is_call, q=q)
    fwd0 = skel.open * np.exp((r - q) * t_open)
    iv0, _ = smile_vol(params.surface, atm_open[grid.expiry_index], np.log(K / fwd0), t_open)
    mid0 = bs_price(skel.open, K, t_open, r, iv0, is_call, q=q)

    close = traded_price(mid, tick)
    open_ = traded_price(mid0, tick)
    hi_lo = [open_, close, traded_price(p_high, tick), traded_price(p_low, tick)]
    high = np.maximum.reduce(hi_lo)
    low = np.minimum.reduce(hi_lo)
    bid, ask = bid_ask(params.quotes, mid, x, t_close * 365.0, tick, rng)
    near = 1.0 + 2.0 / (1.0 + t_close * 365.0)
    intensity = trade_probability(params.quotes, x) * near * np.where(monthly, 1.5, 1.0)
    vol = volumes(params.quotes, intensity, rng, minimum=0)

    e_ord = grid.expiry_ordinals(expiries)
    oi = oi_level(params.oi, seed, e_ord, K, is_call, skel.day.toordinal(), skel.close, monthly)
    expiry_days = grid.expiry_dates(expiries)
    return pa.table(
        {
            "ts": pa.array(np.full(m, np.datetime64(plan.session_close, "us")), pa.timestamp("us")),
            "expiry": pa.array(expiry_days, pa.date32()),
            "strike": K,
            "right": pa.array(np.where(is_call, "C", "P"), pa.string()),
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "bid": bid,
            "ask": ask,
            "volume": vol,
            "oi": oi.astype(np.int64),
            "iv": iv,
            "delta": greeks["delta"],
            "gamma": greeks["gamma"],
            "theta": greeks["theta"],
            "vega": greeks["vega"],
        }
    )


def _atm_levels(
    expiries: tuple[ExpiryPlan, ...], plan: SpxDay, params: SpxParams
) -> tuple[np.ndarray, np.ndarray]:
    """ATM volatility per expiry at the session close and at the open (ACT/365 quotes).

    The variance still to come is measured on the path's clock (:mod:`.variance_clock`): at the
    close none of today's is left, at the open all of today's session is.
    """
    p = params.paths
    after = np.array([e.days_after for e in expiries])
    share = np.array([e.settle_share for e in expiries])
    settle = np.array([np.datetime64(e.settle, "us") for e in expiries])
    out = []
    for done, when, v in (
        (1.0, plan.session_close, plan.skeleton.v_close),
        (0.0, plan.session_open, plan.skeleton.v_open),
    ):
        tau = variance_time(p.overnight_share, np.array(done), after, share)
        tau_jump = variance_time(p.overnight_jump_share, np.array(done), after, share)
        t = year_fraction(np.datetime64(when, "us"), settle)
        out.append(atm_vol(params.surface, p, np.full(len(expiries), v), tau, tau_jump, t))
    return out[0], out[1]
