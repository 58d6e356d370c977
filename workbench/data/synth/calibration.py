"""Calibration statistics: one definition of each figure, applied to real and synthetic markets.

Every statistic the synthetic profiles are calibrated on is a pure function of arrays here, so
the real index data (measured by ``python -m workbench.bench synth_calibration``, which reads
``$WORKBENCH_REAL_DATA``) and the generated market (:mod:`.calibration_sample`) are measured
by the same code. The generator never reads real files: the measured values are constants in
:mod:`.targets`, with their provenance.

Conventions: log returns; volatilities are annualised fractions on the 252-trading-day clock
(``sqrt(252 x mean squared daily return)``, not demeaned); an implied volatility ``iv`` is the
30-calendar-day model-free implied volatility (India VIX / CBOE VIX on the real markets,
:func:`model_free_vol` on the synthetic surface) as a fraction, observed at a day's close.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike
from scipy.integrate import simpson

from workbench.data.synth.bs import bs_price
from workbench.data.synth.surface import SurfaceParams, smile_vol

TRADING_DAYS = 252.0
#: Days ahead over which the realised volatility is compared with the implied (21 ~ 30 calendar).
RV_HORIZON_DAYS = 21
#: Calendar days of the implied volatility compared (India VIX and VIX are 30-day).
IV_HORIZON_DAYS = 30
#: Fewest days a calendar year needs to count in a per-year statistic.
MIN_YEAR_DAYS = 200


def forward_realised_vol(log_returns: ArrayLike, horizon: int = RV_HORIZON_DAYS) -> np.ndarray:
    """Realised volatility over the ``horizon`` days after each day.

    ``log_returns[i]`` is the close-to-close return ending on day ``i``; the result at ``i`` is
    ``sqrt(252 * mean(log_returns[i+1 : i+1+horizon] ** 2))`` (NaN where the window runs past
    the data or holds a NaN).
    """
    r = np.asarray(log_returns, dtype=np.float64)
    n = len(r)
    out = np.full(n, np.nan)
    if n <= horizon:
        return out
    bad = ~np.isfinite(r)
    sq = np.concatenate([[0.0], np.cumsum(np.where(bad, 0.0, r * r))])
    holes = np.concatenate([[0], np.cumsum(bad)])
    # window (i, i + horizon]: entries i + 1 .. i + horizon
    i = np.arange(n - horizon)
    total = sq[i + 1 + horizon] - sq[i + 1]
    whole = holes[i + 1 + horizon] == holes[i + 1]
    out[i] = np.where(whole, np.sqrt(TRADING_DAYS * np.maximum(total, 0.0) / horizon), np.nan)
    return out


def iv_rv_ratio(
    iv: ArrayLike, log_returns: ArrayLike, horizon: int = RV_HORIZON_DAYS
) -> np.ndarray:
    """``iv[i] / forward_realised_vol(log_returns, horizon)[i]`` per day (NaN where undefined)."""
    rv = forward_realised_vol(log_returns, horizon)
    iv_arr = np.asarray(iv, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = iv_arr / rv
    ratio[~np.isfinite(ratio)] = np.nan
    return np.asarray(ratio)


def yearly(values: ArrayLike, years: ArrayLike, stat: str = "median") -> dict[int, float]:
    """``stat`` ("median" or "excess_kurtosis") of the finite ``values`` of each calendar year
    with at least :data:`MIN_YEAR_DAYS` of them."""
    v = np.asarray(values, dtype=np.float64)
    y = np.asarray(years)
    out: dict[int, float] = {}
    for year in np.unique(y):
        chunk = v[(y == year) & np.isfinite(v)]
        if len(chunk) < MIN_YEAR_DAYS:
            continue
        out[int(year)] = float(np.median(chunk)) if stat == "median" else excess_kurtosis(chunk)
    return out


def excess_kurtosis(x: ArrayLike) -> float:
    """Sample excess kurtosis ``m4 / m2^2 - 3`` (moments about the mean)."""
    a = np.asarray(x, dtype=np.float64)
    d = a - a.mean()
    m2 = float(np.mean(d * d))
    return float(np.mean(d**4) / (m2 * m2) - 3.0)


def implied_sigma_exceedance(log_returns: ArrayLike, iv_previous: ArrayLike, k: float) -> float:
    """Share of days whose close-to-close move exceeds ``k`` implied daily sigmas.

    A day counts when ``|r_t| > k * iv_{t-1} / sqrt(252)``, with ``iv_{t-1}`` the previous
    close's implied volatility; days without both values are left out.
    """
    r = np.asarray(log_returns, dtype=np.float64)
    iv = np.asarray(iv_previous, dtype=np.float64)
    ok = np.isfinite(r) & np.isfinite(iv) & (iv > 0)
    z = np.abs(r[ok]) / (iv[ok] / np.sqrt(TRADING_DAYS))
    return float(np.mean(z > k))


def session_realised_vol(minute_returns: ArrayLike) -> np.ndarray:
    """Per day (row), ``sqrt(252 * sum of the session's squared 1-minute log returns)``.

    A row holds one session's returns: the first bar's close over its open, then close over
    the previous bar's close; the overnight gap is not in it.
    """
    r = np.asarray(minute_returns, dtype=np.float64)
    return np.asarray(np.sqrt(TRADING_DAYS * np.sum(r * r, axis=1)))


def session_profile(minute_returns: ArrayLike, edges: ArrayLike) -> np.ndarray:
    """Intraday variance intensity per bucket of bar indices, relative to the session mean.

    Each day's squared returns are divided by that day's sum (so calm and wild days weigh the
    same), averaged over days; bucket ``j`` (bars ``edges[j] .. edges[j+1]-1``) reports its
    mean share per bar times the bars per session: 1 everywhere would be a flat profile.
    """
    r = np.asarray(minute_returns, dtype=np.float64)
    sq = r * r
    total = sq.sum(axis=1, keepdims=True)
    share = (sq / np.where(total > 0, total, 1.0)).mean(axis=0)
    e = np.asarray(edges, dtype=np.int64)
    n = r.shape[1]
    return np.array([share[a:b].mean() * n for a, b in itertools.pairwise(e.tolist())])


def bipower_jump_share(minute_returns: ArrayLike) -> np.ndarray:
    """Per day, the share of realised variance not explained by the bipower variation.

    ``max(RV - BV, 0) / RV`` with ``RV = sum r^2`` and
    ``BV = (pi/2) n/(n-1) sum |r_i| |r_{i-1}|`` (Barndorff-Nielsen and Shephard): about 0 on a
    pure diffusion, the jumps' share of the day's variance otherwise.
    """
    r = np.asarray(minute_returns, dtype=np.float64)
    n = r.shape[1]
    rv = np.sum(r * r, axis=1)
    bv = (np.pi / 2.0) * n / (n - 1) * np.sum(np.abs(r[:, 1:]) * np.abs(r[:, :-1]), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.where(rv > 0, np.maximum(rv - bv, 0.0) / rv, 0.0))


def overnight_share(gaps: ArrayLike, sessions: ArrayLike) -> float:
    """Share of the close-to-close variance in the overnight gap.

    ``sum(gap^2) / (sum(gap^2) + sum(session^2))`` with ``gap = ln(open_t / close_{t-1})`` and
    ``session = ln(close_t / open_t)``, over the days where both are finite.
    """
    g = np.asarray(gaps, dtype=np.float64)
    s = np.asarray(sessions, dtype=np.float64)
    ok = np.isfinite(g) & np.isfinite(s)
    gg, ss = float(np.sum(g[ok] ** 2)), float(np.sum(s[ok] ** 2))
    return gg / (gg + ss)


# Log-moneyness grid of the model-free integral, in units of atm * sqrt(T): the smile is flat
# beyond SurfaceParams.x_clip, so +-12 standard deviations hold all but ~1e-12 of it.
_MF_GRID = np.linspace(-12.0, 12.0, 961)
#: Above this many volatilities, model_free_vol interpolates a table of its ratio to the ATM.
_MF_DIRECT = 64


def _model_free_direct(surface: SurfaceParams, atm: np.ndarray, t: float) -> np.ndarray:
    k = _MF_GRID[None, :] * (atm[:, None] * np.sqrt(t))
    iv, _ = smile_vol(surface, np.broadcast_to(atm[:, None], k.shape), k, np.full(k.shape, t))
    strike = np.exp(k)
    q = bs_price(1.0, strike, t, 0.0, iv, k >= 0.0)
    # Q(K) / K^2 dK = Q(K) / K dk with K = e^k (forward 1)
    var = 2.0 / t * simpson(q / strike, x=k, axis=1)
    return np.asarray(np.sqrt(var))


def model_free_vol(surface: SurfaceParams, atm: ArrayLike, t_years: float) -> np.ndarray:
    """The VIX of a smile: ``sqrt((2/T) int Q(K) / K^2 dK)`` with forward OTM prices ``Q``.

    The continuous-strike limit of the CBOE VIX / NSE India VIX formula, on the synthetic
    smile :func:`~.surface.smile_vol` around each ``atm`` volatility (fraction) at maturity
    ``t_years`` (ACT/365), forward 1 and no discounting (the formula's ``e^{rT}`` undoes it).
    Simpson's rule on 961 log-strikes over +-12 ATM standard deviations (relative error about
    1e-7). The smile is a function of ``ln(K/F) / (atm sqrt(T))``, so the ratio to ``atm``
    depends on ``atm`` smoothly: many values are read off a table of 129 integrals (to ~1e-6).
    """
    atm_arr = np.asarray(atm, dtype=np.float64)
    flat = np.atleast_1d(atm_arr).ravel()
    t = float(t_years)
    if not (t > 0 and np.all(flat > 0)):
        raise ValueError(f"model_free_vol: need t_years > 0 and atm > 0, got t_years={t_years!r}")
    if len(flat) <= _MF_DIRECT:
        out = _model_free_direct(surface, flat, t)
    else:
        lo, hi = float(flat.min()), float(flat.max())
        table = np.geomspace(lo, max(hi, lo * (1 + 1e-9)), 129)
        ratio = _model_free_direct(surface, table, t) / table
        out = flat * np.interp(np.log(flat), np.log(table), ratio)
    return out.reshape(atm_arr.shape) if atm_arr.ndim else out


@dataclass(frozen=True, slots=True)
class MarketSample:
    """What the statistics read from one market, real or synthetic.

    Daily series, one element per trading day in ascending order: ``years`` (calendar year),
    ``log_returns`` (close over the previous close; NaN where unknown, as on the first day)
    and ``iv`` (the 30-day implied volatility at the close, NaN where unknown).

    Intraday (empty for an end-of-day market): ``minute_returns`` (sessions x bars, each row
    one full regular session, see :func:`session_realised_vol`), ``minute_iv_previous`` (the
    implied volatility at the previous close, one per session), ``gaps`` and ``sessions``
    (``ln(open/previous close)`` and ``ln(close/open)`` per session, from the bars).

    Chains (empty where none were observed): ``atm_term`` (days x 3, ATM implied volatility at
    :data:`TERM_DAYS` calendar days, interpolated in total variance) and ``term_iv`` (the
    30-day implied volatility on the same days).
    """

    years: np.ndarray
    log_returns: np.ndarray
    iv: np.ndarray
    minute_returns: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))
    minute_iv_previous: np.ndarray = field(default_factory=lambda: np.empty(0))
    gaps: np.ndarray = field(default_factory=lambda: np.empty(0))
    sessions: np.ndarray = field(default_factory=lambda: np.empty(0))
    atm_term: np.ndarray = field(default_factory=lambda: np.empty((0, 3)))
    term_iv: np.ndarray = field(default_factory=lambda: np.empty(0))


#: Calendar days of the ATM term-structure points: a week, the 30-day IV's month, a quarter.
TERM_DAYS = (7, IV_HORIZON_DAYS, 91)
#: Buckets of a 375-bar NSE session (09:15-15:30) for the intraday profile: the opening
#: minute, the rest of the first half hour, to 11:00, to 14:00, to the close.
SESSION_BUCKETS = {
    "profile_open_bar": (0, 1),
    "profile_to_0945": (1, 30),
    "profile_to_1100": (30, 105),
    "profile_to_1400": (105, 285),
    "profile_to_close": (285, 375),
}


def _quantile(values: list[float], q: float) -> float:
    return float(np.quantile(np.array(values), q)) if values else math.nan


def measure(sample: MarketSample) -> dict[str, float]:
    """Every calibration statistic ``sample`` allows, by name (see :mod:`.targets`).

    Daily (needs ``log_returns`` and ``iv``):

    * ``iv_rv_median``: median over days of ``iv_t / RV(t+1 .. t+21)``
      (:func:`iv_rv_ratio`); ``iv_rv_yearly_p10`` / ``_p90``: the 10th / 90th percentile of
      the calendar years' medians of the same ratio (years with 200 days or more);
    * ``exceed3`` / ``exceed4``: :func:`implied_sigma_exceedance` at 3 and 4 sigmas;
    * ``kurtosis_yearly_median``: median over calendar years of the excess kurtosis of the
      year's daily log returns;
    * ``iv_median``: median 30-day implied volatility; ``ln_iv_sd``: standard deviation of its
      logarithm (how far volatility regimes wander);
    * ``return_iv_corr``: correlation of the daily log return with the same day's change in
      ``ln iv`` (leverage).

    Intraday (needs ``minute_returns``): ``iv_session_rv_median`` (median of the previous
    close's ``iv`` over the session's 1-minute realised volatility), ``overnight_share``
    (:func:`overnight_share`), ``jump_share_median`` (median of
    :func:`bipower_jump_share`) and the :data:`SESSION_BUCKETS` of :func:`session_profile`
    (375-bar sessions only).

    Chains (needs ``atm_term``): ``term_7_30`` / ``term_91_30`` (medians of the 7- and
    91-day ATM volatility over the 30-day one) and ``iv_over_atm30`` (median of the 30-day
    implied volatility over the 30-day ATM volatility: the smile's share of the VIX).
    """
    out: dict[str, float] = {}
    r, iv, years = sample.log_returns, sample.iv, sample.years
    if len(r) and np.isfinite(iv).any():
        ratio = iv_rv_ratio(iv, r)
        out["iv_rv_median"] = float(np.nanmedian(ratio))
        per_year = list(yearly(ratio, years).values())
        out["iv_rv_yearly_p10"] = _quantile(per_year, 0.1)
        out["iv_rv_yearly_p90"] = _quantile(per_year, 0.9)
        previous = np.concatenate([[np.nan], iv[:-1]])
        out["exceed3"] = implied_sigma_exceedance(r, previous, 3.0)
        out["exceed4"] = implied_sigma_exceedance(r, previous, 4.0)
        kurt = list(yearly(r, years, "excess_kurtosis").values())
        out["kurtosis_yearly_median"] = _quantile(kurt, 0.5)
        live = np.isfinite(iv) & (iv > 0)
        out["iv_median"] = float(np.median(iv[live]))
        out["ln_iv_sd"] = float(np.std(np.log(iv[live])))
        d_ln_iv = np.diff(np.log(np.where(live, iv, np.nan)))
        pair = np.isfinite(d_ln_iv) & np.isfinite(r[1:])
        with np.errstate(invalid="ignore", divide="ignore"):  # a constant IV has no correlation
            out["return_iv_corr"] = float(np.corrcoef(r[1:][pair], d_ln_iv[pair])[0, 1])
    if sample.minute_returns.size:
        m = sample.minute_returns
        session_rv = session_realised_vol(m)
        out["iv_session_rv_median"] = float(np.nanmedian(sample.minute_iv_previous / session_rv))
        out["overnight_share"] = overnight_share(sample.gaps, sample.sessions)
        out["jump_share_median"] = float(np.median(bipower_jump_share(m)))
        if m.shape[1] == 375:
            edges = [a for a, _ in SESSION_BUCKETS.values()] + [375]
            for name, value in zip(SESSION_BUCKETS, session_profile(m, edges), strict=True):
                out[name] = float(value)
    if len(sample.atm_term):
        t = sample.atm_term
        out["term_7_30"] = float(np.median(t[:, 0] / t[:, 1]))
        out["term_91_30"] = float(np.median(t[:, 2] / t[:, 1]))
        out["iv_over_atm30"] = float(np.median(sample.term_iv / t[:, 1]))
    return out
