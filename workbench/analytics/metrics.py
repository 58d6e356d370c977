"""Return and risk statistics as pure functions with explicit annualisation.

Every function takes a 1-D sequence of per-period returns (fractions: 0.01 = 1%) or PnL values
(money) and, where a figure is annualised, ``periods_per_year`` (252 for trading days, 12 for
months...). NaN inputs are dropped first. A figure that is undefined for the input (too few
observations, zero dispersion, no losses...) is NaN, never an exception. Conventions follow
quantstats' ``stats.py`` where it has the figure; where they differ the docstring says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as _st

ArrayLike = Sequence[float] | np.ndarray | pd.Series

NAN = float("nan")


def _clean(values: ArrayLike) -> np.ndarray:
    arr = np.asarray(values, dtype=float).ravel()
    return arr[np.isfinite(arr)]


def total_return(returns: ArrayLike) -> float:
    """Compounded return over the whole series: ``prod(1 + r) - 1``."""
    r = _clean(returns)
    return float(np.prod(1.0 + r) - 1.0) if r.size else NAN


def cagr(returns: ArrayLike, periods_per_year: float = 252) -> float:
    """Compound annual growth rate: ``(1 + total) ** (periods_per_year / n) - 1``.

    Annualised by the number of periods (not calendar days, unlike quantstats which uses
    calendar days / 365); NaN when the account lost everything (``1 + total <= 0``); +inf when
    the annualised growth exceeds a float.
    """
    r = _clean(returns)
    if not r.size:
        return NAN
    growth = float(np.prod(1.0 + r))
    if growth <= 0:
        return NAN
    try:
        return growth ** (periods_per_year / r.size) - 1.0
    except OverflowError:
        return math.inf


def volatility(returns: ArrayLike, periods_per_year: float = 252) -> float:
    """Annualised standard deviation (ddof=1): ``std(r) * sqrt(periods_per_year)``."""
    r = _clean(returns)
    return float(np.std(r, ddof=1) * np.sqrt(periods_per_year)) if r.size > 1 else NAN


def sharpe(returns: ArrayLike, periods_per_year: float = 252, rf: float = 0.0) -> float:
    """Annualised Sharpe ratio: ``mean(r - rf/ppy) / std(r, ddof=1) * sqrt(ppy)``.

    ``rf`` is an annual risk-free rate (fraction) spread evenly over the periods.
    """
    r = _clean(returns)
    if r.size < 2:
        return NAN
    excess = r - rf / periods_per_year
    sd = np.std(excess, ddof=1)
    if not sd > 0:
        return NAN
    return float(np.mean(excess) / sd * np.sqrt(periods_per_year))


def sortino(returns: ArrayLike, periods_per_year: float = 252, rf: float = 0.0) -> float:
    """Annualised Sortino ratio (quantstats convention): downside deviation is
    ``sqrt(sum(min(r, 0)^2) / n)`` over all n periods; ``mean(r - rf/ppy) / dd * sqrt(ppy)``."""
    r = _clean(returns)
    if r.size < 2:
        return NAN
    excess = r - rf / periods_per_year
    downside = np.sqrt(np.sum(np.minimum(excess, 0.0) ** 2) / excess.size)
    if not downside > 0:
        return NAN
    return float(np.mean(excess) / downside * np.sqrt(periods_per_year))


def max_drawdown(returns: ArrayLike) -> float:
    """Largest peak-to-trough fall of the wealth index ``cumprod(1 + r)``, as a negative fraction.

    The starting value 1 counts as a peak (quantstats does not count it, so a loss on the first
    day is a drawdown here and not there).
    """
    r = _clean(returns)
    if not r.size:
        return NAN
    wealth = np.concatenate([[1.0], np.cumprod(1.0 + r)])
    peak = np.maximum.accumulate(wealth)
    return float(np.min(wealth / peak - 1.0))


def calmar(returns: ArrayLike, periods_per_year: float = 252) -> float:
    """CAGR divided by the absolute maximum drawdown."""
    mdd = max_drawdown(returns)
    if not mdd < 0:
        return NAN
    return cagr(returns, periods_per_year) / abs(mdd)


def omega(returns: ArrayLike, threshold: float = 0.0) -> float:
    """Sum of gains above ``threshold`` over the sum of shortfalls below it (per period)."""
    r = _clean(returns) - threshold
    losses = -r[r < 0].sum()
    return float(r[r > 0].sum() / losses) if losses > 0 else NAN


def var_historical(returns: ArrayLike, confidence: float = 0.95) -> float:
    """Historical Value at Risk: the ``1 - confidence`` quantile (linear interpolation); negative
    for a loss."""
    r = _clean(returns)
    return float(np.quantile(r, 1.0 - confidence)) if r.size else NAN


def cvar_historical(returns: ArrayLike, confidence: float = 0.95) -> float:
    """Conditional VaR (expected shortfall): mean of the returns at or below the historical VaR."""
    r = _clean(returns)
    if not r.size:
        return NAN
    var = var_historical(r, confidence)
    return float(r[r <= var].mean())


def var_parametric(returns: ArrayLike, confidence: float = 0.95) -> float:
    """Normal (variance-covariance) VaR as quantstats: ``norm.ppf(1 - confidence, mean, std)``."""
    r = _clean(returns)
    if r.size < 2 or not np.std(r) > 0:
        return NAN
    return float(_st.norm.ppf(1.0 - confidence, np.mean(r), np.std(r, ddof=1)))


def tail_ratio(returns: ArrayLike, cutoff: float = 0.95) -> float:
    """``|quantile(cutoff) / quantile(1 - cutoff)|`` (right tail over left tail)."""
    r = _clean(returns)
    if not r.size:
        return NAN
    lo = np.quantile(r, 1.0 - cutoff)
    return float(abs(np.quantile(r, cutoff) / lo)) if lo != 0 else NAN


def skew(returns: ArrayLike) -> float:
    """Sample skewness, bias-corrected (pandas ``Series.skew``); NaN below 3 observations."""
    r = _clean(returns)
    return float(pd.Series(r).skew()) if r.size > 2 else NAN  # type: ignore[arg-type]


def kurtosis(returns: ArrayLike) -> float:
    """Sample excess kurtosis, bias-corrected (pandas ``Series.kurt``); NaN below 4 observations."""
    r = _clean(returns)
    return float(pd.Series(r).kurt()) if r.size > 3 else NAN  # type: ignore[arg-type]


def win_rate(values: ArrayLike) -> float:
    """Share of non-zero periods (or trades) that are positive (quantstats: zeros are excluded)."""
    v = _clean(values)
    nonzero = v[v != 0]
    return float((nonzero > 0).mean()) if nonzero.size else NAN


def avg_win(values: ArrayLike) -> float:
    v = _clean(values)
    return float(v[v > 0].mean()) if (v > 0).any() else NAN


def avg_loss(values: ArrayLike) -> float:
    """Mean of the negative values (a negative number)."""
    v = _clean(values)
    return float(v[v < 0].mean()) if (v < 0).any() else NAN


def profit_factor(values: ArrayLike) -> float:
    """Gross profit over gross loss: ``sum(v > 0) / |sum(v < 0)|``; inf with gains and no loss."""
    v = _clean(values)
    gain, loss = v[v > 0].sum(), -v[v < 0].sum()
    if loss > 0:
        return float(gain / loss)
    return float("inf") if gain > 0 else NAN


def payoff_ratio(values: ArrayLike) -> float:
    """Average win over the absolute average loss."""
    w, lo = avg_win(values), avg_loss(values)
    return float(w / abs(lo)) if np.isfinite(w) and np.isfinite(lo) else NAN


def expectancy(values: ArrayLike) -> float:
    """Expected value per observation: ``p_win * avg_win + (1 - p_win) * avg_loss`` over non-zero
    observations (equal to their mean)."""
    v = _clean(values)
    nonzero = v[v != 0]
    return float(nonzero.mean()) if nonzero.size else NAN


def max_consecutive(values: ArrayLike, positive: bool = True) -> int:
    """Longest run of strictly positive (``positive=True``) or strictly negative values; zeros
    break a run."""
    v = _clean(values)
    mask = v > 0 if positive else v < 0
    best = run = 0
    for hit in mask:
        run = run + 1 if hit else 0
        best = max(best, run)
    return int(best)


def gain_to_pain(values: ArrayLike) -> float:
    """``sum(v) / |sum(v < 0)|`` (quantstats ``gain_to_pain_ratio`` at the native period)."""
    v = _clean(values)
    loss = -v[v < 0].sum()
    return float(v.sum() / loss) if loss > 0 else NAN


def kelly(values: ArrayLike) -> float:
    """Kelly fraction (quantstats): ``(payoff * p - (1 - p)) / payoff``."""
    b, p = payoff_ratio(values), win_rate(values)
    if not (np.isfinite(b) and np.isfinite(p)) or b == 0:
        return NAN
    return float((b * p - (1.0 - p)) / b)


def ulcer_index(returns: ArrayLike) -> float:
    """Root mean square of the percentage drawdown (quantstats: divided by ``n - 1``)."""
    r = _clean(returns)
    if r.size < 2:
        return NAN
    wealth = np.cumprod(1.0 + r)
    dd = wealth / np.maximum.accumulate(np.maximum(wealth, 1.0)) - 1.0
    return float(np.sqrt(np.sum(dd**2) / (r.size - 1)))


def common_sense_ratio(returns: ArrayLike) -> float:
    """Profit factor times tail ratio."""
    return profit_factor(returns) * tail_ratio(returns)


def cpc_index(values: ArrayLike) -> float:
    """Profit factor x win rate x payoff ratio."""
    return profit_factor(values) * win_rate(values) * payoff_ratio(values)


def outlier_win_ratio(returns: ArrayLike, quantile: float = 0.99) -> float:
    """``quantile(r, 0.99) / mean(r >= 0)`` (quantstats)."""
    r = _clean(returns)
    pos = r[r >= 0]
    return float(np.quantile(r, quantile) / pos.mean()) if pos.size and pos.mean() != 0 else NAN


def outlier_loss_ratio(returns: ArrayLike, quantile: float = 0.01) -> float:
    """``quantile(r, 0.01) / mean(r < 0)`` (quantstats)."""
    r = _clean(returns)
    neg = r[r < 0]
    return float(np.quantile(r, quantile) / neg.mean()) if neg.size else NAN


def risk_of_ruin(values: ArrayLike) -> float:
    """quantstats' closed-form risk of ruin: ``((1 - p) / (1 + p)) ** n`` with p the win rate."""
    v = _clean(values)
    p = win_rate(v)
    if not np.isfinite(p):
        return NAN
    return float(((1.0 - p) / (1.0 + p)) ** v.size)


def autocorr_penalty(returns: ArrayLike) -> float:
    """quantstats' autocorrelation penalty: ``sqrt(1 + 2 sum_{k=1}^{n-1} (n-k)/n |rho_1|^k)``
    with ``rho_1`` the lag-1 autocorrelation."""
    r = _clean(returns)
    n = r.size
    if n < 3 or not np.std(r[:-1]) > 0 or not np.std(r[1:]) > 0:
        return NAN
    coef = abs(float(np.corrcoef(r[:-1], r[1:])[0, 1]))
    k = np.arange(1, n)
    return float(np.sqrt(1.0 + 2.0 * np.sum((n - k) / n * coef**k)))


def smart_sharpe(returns: ArrayLike, periods_per_year: float = 252, rf: float = 0.0) -> float:
    """Sharpe divided by the autocorrelation penalty (quantstats ``smart_sharpe``)."""
    return sharpe(returns, periods_per_year, rf) / autocorr_penalty(returns)


def smart_sortino(returns: ArrayLike, periods_per_year: float = 252, rf: float = 0.0) -> float:
    """Sortino divided by the autocorrelation penalty (quantstats ``smart_sortino``)."""
    return sortino(returns, periods_per_year, rf) / autocorr_penalty(returns)


def probabilistic_sharpe(returns: ArrayLike, benchmark_sharpe: float = 0.0) -> float:
    """Probability that the true per-period Sharpe exceeds ``benchmark_sharpe`` (Bailey and
    López de Prado 2012): ``Phi((SR - SR*) sqrt(n - 1) / sqrt(1 - g3 SR + (g4 - 1) / 4 SR^2))``
    with per-period SR, skewness g3 and (non-excess) kurtosis g4 of the sample (biased moments).

    quantstats subtracts 3 from an already excess kurtosis; this follows the paper.
    """
    r = _clean(returns)
    n = r.size
    if n < 4:
        return NAN
    sd = np.std(r, ddof=1)
    if not sd > 0:
        return NAN
    sr = float(np.mean(r) / sd)
    centred = r - r.mean()
    m2 = float(np.mean(centred**2))
    g3 = float(np.mean(centred**3)) / m2**1.5
    g4 = float(np.mean(centred**4)) / m2**2
    var = 1.0 - g3 * sr + (g4 - 1.0) / 4.0 * sr**2
    if not var > 0:
        return NAN
    return float(_st.norm.cdf((sr - benchmark_sharpe) * np.sqrt(n - 1) / np.sqrt(var)))


def serenity_index(returns: ArrayLike) -> float:
    """quantstats' serenity index: ``sum(r) / (ulcer_index * pitfall)`` with
    ``pitfall = -CVaR95(drawdown series) / std(r)``."""
    r = _clean(returns)
    if r.size < 2:
        return NAN
    wealth = np.cumprod(1.0 + r)
    dd = wealth / np.maximum.accumulate(np.maximum(wealth, 1.0)) - 1.0
    sd = np.std(r, ddof=1)
    pitfall = -cvar_historical(dd) / sd if sd > 0 else NAN
    denom = ulcer_index(r) * pitfall
    return float(r.sum() / denom) if np.isfinite(denom) and denom != 0 else NAN
