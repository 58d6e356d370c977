"""Profile ``us-etf-eod``: SPY, QQQ and IWM with correlated end-of-day option chains (seed 003's
universe), on XNYS days.

What a day holds (timestamps exchange-local ET, naive), for each of ``SPY``, ``QQQ``, ``IWM``:

* spot: one daily bar ``open high low close`` (dollars, 2 decimals) at the session close (16:00
  ET, 13:00 on half days), ``volume`` 0;
* options: physically settled (exercise into 100 shares, the registry's terms), PM at the
  close of the expiry day; expiries after the day that are the **monthly** (third Friday, or the
  Thursday before a holiday) within :attr:`EtfParams.monthly_horizon_days`, and the **weekly**
  (the last listed expiry of each week, i.e. Friday or the day before a Friday holiday) within
  :attr:`EtfParams.weekly_horizon_days`; the registry's Monday/Wednesday dailies are not
  listed;
* strikes: **$1 apart near the money** -- within ``near_sd`` standard deviations of the close
  to expiry, at least ``near_min`` and at most ``near_max`` of the close -- and **$5 apart
  further out**, to ``width_sd`` standard deviations (at most ``width_max`` of the close). A
  strike once listed stays listed to its expiry (as on the exchange), so an open position
  always has a row;
* rows as the ``spx-eod`` profile writes them (:mod:`.spx`): ``close`` the model mid on the
  $0.01 tick, ``bid``/``ask``, ``iv`` and ``delta gamma theta vega`` at the close, ``volume``,
  ``oi``.

Correlation: each day draws one vector of standard normals per source of randomness (overnight
gap, session return, volatility shock) and correlates it across the three underlyings with the
Cholesky factor of :data:`SHOCK_CORRELATION` (calibrated so that returns realise
:data:`TARGET_CORRELATION`); jumps are market-wide (one count and one size a
day, scaled per underlying by ``jump_beta``). Each underlying has its own stochastic volatility
(Heston-like in ln v, leverage ``rho``) and its own level: QQQ and IWM about 1.3 and 1.4 times
SPY's volatility.

:data:`TARGET_CORRELATION` is the approximate correlation of daily log returns (close to close)
of the three ETFs over 2010-2024, as commonly reported from public daily prices: SPY-QQQ 0.92,
SPY-IWM 0.87, QQQ-IWM 0.78. It was not measured here (this repository holds no ETF prices);
the profile's realised correlation over a long sample matches it within a few hundredths
(``tests/data/test_synth_etf.py``). Spot levels start near their January 2019 values (SPY 250,
QQQ 155, IWM 135).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pyarrow as pa

from workbench.data.synth.bs import bs_greeks, bs_price, year_fraction
from workbench.data.synth.oi import OpenInterestParams, oi_level
from workbench.data.synth.paths import TRADING_DAYS_PER_YEAR, DaySkeleton, PathParams
from workbench.data.synth.plan import ExpiryPlan, InstrumentGrid
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

UNDERLYINGS = ("SPY", "QQQ", "IWM")
CALENDAR = "SPY"

#: Target correlation of daily log returns (rows and columns in :data:`UNDERLYINGS` order).
TARGET_CORRELATION = np.array(
    [
        [1.00, 0.92, 0.87],
        [0.92, 1.00, 0.78],
        [0.87, 0.78, 1.00],
    ]
)

#: The correlation of the daily shocks fed to the Cholesky factor, set a little above the
#: target: separate stochastic volatilities (a mixture over volatility states) and jumps pull the
#: realised correlation of returns below the shocks' (by 0.02-0.04 here). Calibrated on 8,000
#: simulated days so the realised correlation matches :data:`TARGET_CORRELATION`.
SHOCK_CORRELATION = np.array(
    [
        [1.000, 0.935, 0.888],
        [0.935, 1.000, 0.808],
        [0.888, 0.808, 1.000],
    ]
)


def _paths(s0: float, scale: float) -> PathParams:
    return PathParams(
        s0=s0,
        v0=0.13 * scale,
        theta=0.11 * scale,
        kappa=3.0,
        xi=1.2,
        rho=-0.85,
        overnight_share=0.28,
        jump_rate=5.5,
        jump_mean=-0.008,
        jump_sd=0.014,
        jump_vol_beta=5.0,
        v_min=0.06 * scale,
    )


@dataclass(frozen=True, slots=True)
class EtfParams:
    """Parameters of the ``us-etf-eod`` profile (rates continuous per year)."""

    rate: float = 0.03
    dividend_yield: dict[str, float] = field(
        default_factory=lambda: {"SPY": 0.015, "QQQ": 0.006, "IWM": 0.013}
    )
    paths: dict[str, PathParams] = field(
        default_factory=lambda: {
            "SPY": _paths(250.0, 1.0),
            "QQQ": _paths(155.0, 1.3),
            "IWM": _paths(135.0, 1.4),
        }
    )
    jump_beta: dict[str, float] = field(
        default_factory=lambda: {"SPY": 1.0, "QQQ": 1.15, "IWM": 1.2}
    )
    correlation: np.ndarray = field(default_factory=lambda: SHOCK_CORRELATION.copy())
    monthly_horizon_days: int = 100
    weekly_horizon_days: int = 50
    near_sd: float = 1.0
    near_min: float = 0.03
    near_max: float = 0.12
    width_sd: float = 2.5
    width_max: float = 0.40
    wide_step: float = 5.0
    surface: SurfaceParams = field(
        default_factory=lambda: SurfaceParams(variance_premium=1.16, skew=0.32, curvature=0.19)
    )
    quotes: QuoteParams = field(
        default_factory=lambda: QuoteParams(
            base_ticks=2.0, wing=0.8, near_expiry=0.5, rel=0.01, volume_atm=3000.0
        )
    )
    oi: OpenInterestParams = field(
        default_factory=lambda: OpenInterestParams(peak=20_000.0, width=0.06)
    )


DEFAULT_PARAMS = EtfParams()


@dataclass(frozen=True, slots=True)
class ListedExpiry(ExpiryPlan):
    """An :class:`ExpiryPlan` whose strikes are listed one by one (a $1 grid near the money,
    $5 further out) rather than a regular band."""

    listed: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def strikes(self) -> np.ndarray:
        return self.listed


@dataclass(frozen=True, slots=True)
class EtfDay:
    """One day: each underlying's skeleton and kept expiries, and the session."""

    day: date
    session_open: datetime
    session_close: datetime
    skeletons: dict[str, DaySkeleton]
    expiries: dict[str, tuple[ListedExpiry, ...]]

    @property
    def skeleton(self) -> DaySkeleton:
        """The calendar underlying's skeleton (the runner reads the day from it)."""
        return self.skeletons[CALENDAR]


def simulate_correlated(
    params: EtfParams, seed: int, days: list[date]
) -> dict[str, list[DaySkeleton]]:
    """Daily skeletons of every underlying over ``days``, correlated as the module says."""
    names = UNDERLYINGS
    k = len(names)
    chol = np.linalg.cholesky(np.asarray(params.correlation, dtype=np.float64))
    dt = 1.0 / TRADING_DAYS_PER_YEAR
    ps = [params.paths[n] for n in names]
    beta = np.array([params.jump_beta[n] for n in names])
    close = np.array([p.s0 for p in ps])
    ln_v = np.log([p.v0 for p in ps])
    out: dict[str, list[DaySkeleton]] = {n: [] for n in names}
    for j, day in enumerate(days):
        rng = generator(seed, "us-etf-eod/skeleton", day.toordinal())
        z = chol @ rng.standard_normal((k, 3))  # columns: gap, return, volatility
        z_gap, z_ret, z_v = z[:, 0], z[:, 1], z[:, 2]
        n_jumps = int(rng.poisson(ps[0].jump_rate * dt))
        sizes = rng.normal(ps[0].jump_mean, ps[0].jump_sd, size=3)[: min(n_jumps, 3)]
        jump_total = float(sizes.sum()) * beta
        overnight = rng.random() < ps[0].overnight_jump_share
        u_at = float(rng.random())
        for m, (name, p) in enumerate(zip(names, ps, strict=True)):
            v = float(np.exp(ln_v[m]))
            var_day = v * v * dt
            comp = p.jump_rate * np.expm1(p.jump_mean * beta[m] + 0.5 * (p.jump_sd * beta[m]) ** 2)
            drift = (p.mu - comp - 0.5 * v * v) * dt
            jump_on = float(jump_total[m]) if overnight else 0.0
            jump_in = float(jump_total[m]) - jump_on
            if j == 0:
                open_ = p.s0
            else:
                gap = drift * p.overnight_share + np.sqrt(var_day * p.overnight_share) * z_gap[m]
                open_ = close[m] * float(np.exp(gap + jump_on))
            ret = drift * (1.0 - p.overnight_share) + np.sqrt(
                var_day * (1.0 - p.overnight_share)
            ) * float(z_ret[m])
            new_close = open_ * float(np.exp(ret + jump_in))
            dz_v = p.rho * z_ret[m] + np.sqrt(1.0 - p.rho**2) * z_v[m]
            nxt = (
                ln_v[m]
                + p.kappa * (np.log(p.theta) - ln_v[m]) * dt
                + p.xi * np.sqrt(dt) * dz_v
                + p.jump_vol_beta * max(-float(jump_total[m]), 0.0)
            )
            nxt = float(np.clip(nxt, np.log(p.v_min), np.log(p.v_max)))
            out[name].append(
                DaySkeleton(
                    day=day,
                    prev_close=round(float(close[m]), p.price_decimals),
                    open=round(open_, p.price_decimals),
                    close=round(new_close, p.price_decimals),
                    v_open=v,
                    v_close=float(np.exp(nxt)),
                    jump=jump_in,
                    jump_at=u_at,
                )
            )
            close[m] = new_close
            ln_v[m] = nxt
    return out


def _kept(root: str, day: date, params: EtfParams) -> list[tuple[date, bool]]:
    """``(expiry, monthly)`` kept on ``day``: monthlies and the last expiry of each week."""
    horizon = max(params.monthly_horizon_days, params.weekly_horizon_days)
    listed = [e for e in calendars.listed_expiries(root, day, horizon_days=horizon) if e > day]
    last_of_week: dict[tuple[int, int], date] = {}
    for e in listed:
        last_of_week[e.isocalendar()[:2]] = e  # ascending: the last one wins
    out = []
    for e in listed:
        monthly = calendars.expiry_kind(root, e) is ExpiryKind.MONTHLY
        dte = (e - day).days
        if monthly and dte <= params.monthly_horizon_days:
            out.append((e, True))
        elif last_of_week[e.isocalendar()[:2]] == e and dte <= params.weekly_horizon_days:
            out.append((e, False))
    return out


def _new_strikes(spot: float, sd: float, params: EtfParams) -> set[float]:
    """Strikes to list around ``spot`` given ``sd`` (the move to expiry, fraction of spot)."""
    near = min(max(params.near_sd * sd, params.near_min), params.near_max) * spot
    wide = min(max(params.width_sd * sd, params.near_max), params.width_max) * spot
    step = params.wide_step
    fine = np.arange(np.ceil(spot - near), np.floor(spot + near) + 1.0)
    coarse = np.arange(np.ceil((spot - wide) / step) * step, spot + wide + step / 2, step)
    return {float(k) for k in np.concatenate([fine, coarse]) if k >= 1.0}


def plan_days(days: list[date], seed: int, params: EtfParams = DEFAULT_PARAMS) -> list[EtfDay]:
    """Skeletons, sessions, kept expiries and listed strikes of every day (serial: listings
    depend on the past)."""
    if not days:
        return []
    skeletons = simulate_correlated(params, seed, days)
    kept = [{u: _kept(u, d, params) for u in UNDERLYINGS} for d in days]
    last_expiry = max([days[-1], *(e for k in kept for es in k.values() for e, _ in es)])
    horizon = calendars.trading_days(CALENDAR, days[0], last_expiry, special=False)
    listed: dict[tuple[str, date], tuple[set[float], np.ndarray]] = {}
    out = []
    for j, day in enumerate(days):
        open_, close = calendars.session_bounds(CALENDAR, day)
        per: dict[str, tuple[ListedExpiry, ...]] = {}
        for u in UNDERLYINGS:
            spec = get_instrument(u)
            skel = skeletons[u][j]
            plans = []
            for expiry, monthly in kept[j][u]:
                settle = datetime.combine(expiry, spec.settlement_clock)
                t = max((settle - close).total_seconds(), 0.0) / (365.0 * 86400.0)
                known, ks = listed.get((u, expiry), (set(), np.zeros(0)))
                new = _new_strikes(skel.close, skel.v_close * float(np.sqrt(t)), params) - known
                if new:  # listed strikes stay listed; an unchanged listing shares its array
                    known = known | new
                    ks = np.array(sorted(known), dtype=np.float64)
                    listed[(u, expiry)] = (known, ks)
                plans.append(
                    ListedExpiry(
                        expiry=expiry,
                        settle=settle,
                        monthly=monthly,
                        lo=float(ks[0]),
                        hi=float(ks[-1]),
                        step=1.0,
                        days_after=days_after(horizon, day, expiry),
                        settle_share=settle_session_share(
                            settle, calendars.session_bounds(CALENDAR, expiry)
                        ),
                        listed=ks,
                    )
                )
            per[u] = tuple(plans)
        for key in [key for key in listed if key[1] <= day]:
            del listed[key]  # expired: no longer listed
        out.append(
            EtfDay(
                day=day,
                session_open=open_,
                session_close=close,
                skeletons={u: skeletons[u][j] for u in UNDERLYINGS},
                expiries=per,
            )
        )
    return out


def build_day(
    plan: EtfDay, seed: int, params: EtfParams = DEFAULT_PARAMS
) -> dict[str, dict[str, pa.Table]]:
    """``{"spot": {"SPY": t, ...}, "options": {"SPY": t, ...}}`` for one day."""
    spots: dict[str, pa.Table] = {}
    options: dict[str, pa.Table] = {}
    close_ts = np.datetime64(plan.session_close, "us")
    for m, u in enumerate(UNDERLYINGS):
        skel = plan.skeletons[u]
        rng = generator(seed, f"us-etf-eod/day/{u}", plan.day.toordinal())
        sd = skel.v_open / np.sqrt(TRADING_DAYS_PER_YEAR)
        excursion = np.abs(rng.standard_normal(2)) * 0.5 * sd
        decimals = params.paths[u].price_decimals
        high = round(max(skel.open, skel.close) * float(np.exp(excursion[0])), decimals)
        low = round(min(skel.open, skel.close) * float(np.exp(-excursion[1])), decimals)
        spots[u] = pa.table(
            {
                "ts": pa.array([close_ts], pa.timestamp("us")),
                "open": [skel.open],
                "high": [high],
                "low": [low],
                "close": [skel.close],
                "volume": np.zeros(1, dtype=np.int64),
            }
        )
        if plan.expiries[u]:
            options[u] = _chain(u, m, plan, high, low, seed, params, rng)
    return {"spot": spots, "options": options}


def _chain(
    root: str,
    index: int,
    plan: EtfDay,
    spot_high: float,
    spot_low: float,
    seed: int,
    params: EtfParams,
    rng: np.random.Generator,
) -> pa.Table:
    spec = get_instrument(root)
    tick = float(spec.tick_size)
    skel = plan.skeletons[root]
    expiries = plan.expiries[root]
    grid = InstrumentGrid.of(expiries)
    K, is_call = grid.strike, grid.is_call
    m = len(K)
    settle = grid.settle(expiries)
    monthly = grid.monthly(expiries)
    r, q = params.rate, params.dividend_yield[root]
    t_close = year_fraction(np.datetime64(plan.session_close, "us"), settle)
    t_open = year_fraction(np.datetime64(plan.session_open, "us"), settle)
    atm_close, atm_open = _atm_levels(expiries, plan, skel, params.paths[root], params)
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
    bid, ask = bid_ask(params.quotes, mid, x, t_close * 365.0, tick, rng)
    near = 1.0 + 2.0 / (1.0 + t_close * 365.0)
    intensity = trade_probability(params.quotes, x) * near * np.where(monthly, 1.5, 1.0)
    vol = volumes(params.quotes, intensity, rng, minimum=0)
    e_ord = grid.expiry_ordinals(expiries)
    oi = oi_level(
        params.oi, seed * 7 + index, e_ord, K, is_call, skel.day.toordinal(), skel.close, monthly
    )
    return pa.table(
        {
            "ts": pa.array(np.full(m, np.datetime64(plan.session_close, "us")), pa.timestamp("us")),
            "expiry": pa.array(grid.expiry_dates(expiries), pa.date32()),
            "strike": K,
            "right": pa.array(np.where(is_call, "C", "P"), pa.string()),
            "open": open_,
            "high": np.maximum.reduce(hi_lo),
            "low": np.minimum.reduce(hi_lo),
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
    expiries: tuple[ListedExpiry, ...],
    plan: EtfDay,
    skel: DaySkeleton,
    p: PathParams,
    params: EtfParams,
) -> tuple[np.ndarray, np.ndarray]:
    """ATM volatility per expiry at the close and at the open (as :func:`.spx._atm_levels`)."""
    after = np.array([e.days_after for e in expiries])
    share = np.array([e.settle_share for e in expiries])
    settle = np.array([np.datetime64(e.settle, "us") for e in expiries])
    out = []
    for done, when, v in (
        (1.0, plan.session_close, skel.v_close),
        (0.0, plan.session_open, skel.v_open),
    ):
        tau = variance_time(p.overnight_share, np.array(done), after, share)
        tau_jump = variance_time(p.overnight_jump_share, np.array(done), after, share)
        t = year_fraction(np.datetime64(when, "us"), settle)
        out.append(atm_vol(params.surface, p, np.full(len(expiries), v), tau, tau_jump, t))
    return out[0], out[1]


def plan(days: list[date], seed: int) -> list[Any]:
    return plan_days(days, seed, DEFAULT_PARAMS)


def build(day: Any, seed: int) -> dict[str, dict[str, pa.Table]]:
    return build_day(day, seed, DEFAULT_PARAMS)
