"""Spot and volatility paths: a daily skeleton and the 1-minute path inside each day.

Model (annualised units, one trading day = ``1/252`` year):

* the volatility state ``v`` is the spot's instantaneous diffusive (real-world) volatility; it
  follows a log-Ornstein-Uhlenbeck process ``d ln v = kappa (ln theta - ln v) dt + xi dW_v``
  with ``corr(dW_v, dW_S) = rho < 0`` (leverage), and a down jump of the spot lifts ``ln v`` by
  ``jump_vol_beta * |jump|``;
* the spot diffuses with volatility ``v`` (held at the day's opening value through the day),
  drift ``mu`` (net of the jump compensator, so jumps do not change the expected return), a
  share ``overnight_share`` of each day's variance as an overnight gap, and compound-Poisson
  jumps in log price (rate ``jump_rate`` per year, sizes ``N(jump_mean, jump_sd)``), a
  fraction ``overnight_jump_share`` of them overnight.

Variance accrues on the trading-day clock (``1/252`` year per trading day, none on weekends and
holidays); :mod:`.variance_clock` and :mod:`.surface` price options on it, with the variance
risk premium applied there (implied above expected realised), not in the path.

The daily skeleton (open, close, ``v`` at open and close) is simulated serially from per-day
generators (:func:`workbench.data.synth.seeding.generator` keyed by the day), so a day's values
depend on the seed, the start and the day only. The minute path is then a Brownian bridge from
the day's open to its close with U-shaped intraday variance weights, an intraday jump at a
random minute, and the volatility state moving from its open to its close value with a leverage
response to the spot's deviation from the bridge's straight line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np

from workbench.data.synth.seeding import generator

TRADING_DAYS_PER_YEAR = 252.0


@dataclass(frozen=True, slots=True)
class PathParams:
    """Parameters of the spot and volatility process (see the module docstring)."""

    s0: float  # spot at the first open, price units
    v0: float  # diffusive volatility at the first open, annualised fraction (252-day year)
    theta: float  # long-run level of v
    kappa: float = 5.0  # per year
    xi: float = 1.1  # volatility of ln v, per sqrt(year)
    rho: float = -0.7
    mu: float = 0.08  # real-world drift of the spot, per year
    overnight_share: float = 0.15  # share of daily diffusive variance in the overnight gap
    jump_rate: float = 7.0  # jumps per year
    jump_mean: float = -0.012  # mean log jump
    jump_sd: float = 0.03  # sd of log jump
    overnight_jump_share: float = 0.35
    jump_vol_beta: float = 6.0  # ln v lift per unit of |down jump|
    v_min: float = 0.06
    v_max: float = 1.2
    price_decimals: int = 2  # spot prices are rounded to this many decimals
    # Intraday variance profile (:func:`intraday_weights`): a bump decaying from the open and
    # one rising into the close, on top of a flat level 1, widths as fractions of the session,
    # and the first bar's share of the session's variance (0: no separate opening bar).
    open_weight: float = 2.5
    open_width: float = 0.06
    close_weight: float = 2.5
    close_width: float = 0.06
    first_bar_share: float = 0.0
    leverage: float = 4.0  # intraday ln v response per unit of log-spot deviation
    minute_vol_noise: float = 0.02  # sd of intraday ln v noise around the bridge
    # Degrees of freedom of the 1-minute innovations (Student t scaled to unit variance, so the
    # variance budget is unchanged; inf: Gaussian): real index minutes have fat tails.
    minute_tail_df: float = math.inf


@dataclass(frozen=True, slots=True)
class DaySkeleton:
    """Daily values: spot open/close and the volatility state at open and close."""

    day: date
    prev_close: float
    open: float
    close: float
    v_open: float
    v_close: float
    jump: float  # total intraday log jump (0 if none)
    jump_at: float  # position of the intraday jump in the session, in [0, 1)


def simulate_skeleton(params: PathParams, seed: int, days: list[date]) -> list[DaySkeleton]:
    """Simulate the daily skeleton over ``days`` (ascending trading days)."""
    dt = 1.0 / TRADING_DAYS_PER_YEAR
    # Jump compensator: the expected simple return stays mu with the jumps included.
    compensator = params.jump_rate * np.expm1(params.jump_mean + 0.5 * params.jump_sd**2)
    out: list[DaySkeleton] = []
    close = params.s0
    ln_v = np.log(params.v0)
    first = True
    for day in days:
        rng = generator(seed, "skeleton", day.toordinal())
        z_gap, z_ret, z_v, u_place, u_at = rng.standard_normal(3).tolist() + rng.random(2).tolist()
        n_jumps = int(rng.poisson(params.jump_rate * dt))
        sizes = rng.normal(params.jump_mean, params.jump_sd, size=3)[: min(n_jumps, 3)]
        jump_total = float(sizes.sum())
        overnight_jump = jump_total if u_place < params.overnight_jump_share else 0.0
        intraday_jump = jump_total - overnight_jump
        v = float(np.exp(ln_v))
        sigma = v
        var_day = sigma * sigma * dt
        drift = (params.mu - compensator - 0.5 * sigma * sigma) * dt
        if first:
            open_ = params.s0
            first = False
        else:
            gap = drift * params.overnight_share + np.sqrt(var_day * params.overnight_share) * z_gap
            open_ = close * float(np.exp(gap + overnight_jump))
        ret = (
            drift * (1.0 - params.overnight_share)
            + np.sqrt(var_day * (1.0 - params.overnight_share)) * z_ret
        )
        new_close = open_ * float(np.exp(ret + intraday_jump))
        dz_v = params.rho * z_ret + np.sqrt(1.0 - params.rho**2) * z_v
        ln_v_next = (
            ln_v
            + params.kappa * (np.log(params.theta) - ln_v) * dt
            + params.xi * np.sqrt(dt) * dz_v
            + params.jump_vol_beta * max(-jump_total, 0.0)
        )
        ln_v_next = float(np.clip(ln_v_next, np.log(params.v_min), np.log(params.v_max)))
        out.append(
            DaySkeleton(
                day=day,
                prev_close=round(close, params.price_decimals),
                open=round(open_, params.price_decimals),
                close=round(new_close, params.price_decimals),
                v_open=v,
                v_close=float(np.exp(ln_v_next)),
                jump=intraday_jump,
                jump_at=u_at,
            )
        )
        close = new_close
        ln_v = ln_v_next
    return out


def intraday_weights(params: PathParams, n: int) -> np.ndarray:
    """Per-minute share of the session's variance (sums to 1), high at the open and the close.

    Bar ``i`` of ``n`` (midpoint ``u = (i + 0.5) / n`` of the session) weighs
    ``1 + open_weight exp(-u / open_width) + close_weight exp(-(1 - u) / close_width)``; with
    ``first_bar_share > 0`` the first bar then takes exactly that share (the opening minute,
    where the index catches up with the stocks' opening trades) and the rest keep their
    proportions.
    """
    if n <= 0:
        raise ValueError(f"intraday_weights: n must be > 0, got {n}")
    u = (np.arange(n) + 0.5) / n
    w = (
        1.0
        + params.open_weight * np.exp(-u / params.open_width)
        + params.close_weight * np.exp(-(1.0 - u) / params.close_width)
    )
    w = w / w.sum()
    share = params.first_bar_share
    if share > 0.0 and n > 1:
        w[1:] *= (1.0 - share) / w[1:].sum()
        w[0] = share
    return w


def _unit_innovations(rng: np.random.Generator, n: int, df: float) -> np.ndarray:
    """``n`` draws with mean 0 and variance 1: Gaussian, or Student t with ``df > 2``."""
    if math.isinf(df):
        return rng.standard_normal(n)
    if not df > 2.0:
        raise ValueError(f"PathParams.minute_tail_df must be > 2 (finite variance), got {df!r}")
    return rng.standard_t(df, n) * math.sqrt((df - 2.0) / df)


@dataclass(frozen=True, slots=True)
class MinutePath:
    """One day's 1-minute spot bars and the volatility state at each bar's open and close."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    v_open: np.ndarray  # volatility state at each bar's start
    v_close: np.ndarray  # volatility state at each bar's end


def minute_path(
    params: PathParams, skeleton: DaySkeleton, n: int, rng: np.random.Generator
) -> MinutePath:
    """The ``n`` one-minute bars of ``skeleton.day`` (see the module docstring)."""
    weights = intraday_weights(params, n)
    cum = np.cumsum(weights)
    cum[-1] = 1.0
    sigma = skeleton.v_open
    day_var = sigma * sigma * (1.0 - params.overnight_share) / TRADING_DAYS_PER_YEAR
    steps = _unit_innovations(rng, n, params.minute_tail_df) * np.sqrt(weights * day_var)
    walk = np.cumsum(steps)
    jump_minute = min(int(skeleton.jump_at * n), n - 1)
    jumps = np.where(np.arange(n) >= jump_minute, skeleton.jump, 0.0)
    target = np.log(skeleton.close / skeleton.open) - skeleton.jump
    diffusive = walk - cum * (walk[-1] - target)
    x = diffusive + jumps
    close = skeleton.open * np.exp(x)
    close = np.round(close, params.price_decimals)
    close[-1] = skeleton.close
    open_ = np.empty(n)
    open_[0] = skeleton.open
    open_[1:] = close[:-1]
    excursion = np.abs(rng.standard_normal((2, n))) * 0.6 * np.sqrt(weights * day_var)
    high = np.round(np.maximum(open_, close) * np.exp(excursion[0]), params.price_decimals)
    low = np.round(np.minimum(open_, close) * np.exp(-excursion[1]), params.price_decimals)

    ln_v0, ln_v1 = np.log(skeleton.v_open), np.log(skeleton.v_close)
    noise = np.cumsum(rng.standard_normal(n)) * params.minute_vol_noise / np.sqrt(n)
    noise -= cum * noise[-1]
    deviation = x - cum * x[-1]
    ln_v = ln_v0 + cum * (ln_v1 - ln_v0) - params.leverage * deviation + noise
    ln_v = np.clip(ln_v, np.log(params.v_min), np.log(params.v_max))
    v_close = np.exp(ln_v)
    v_open = np.empty(n)
    v_open[0] = skeleton.v_open
    v_open[1:] = v_close[:-1]
    return MinutePath(open=open_, high=high, low=low, close=close, v_open=v_open, v_close=v_close)
