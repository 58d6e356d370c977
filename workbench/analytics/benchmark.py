"""The run against buy-and-hold of its underlying: beta, alpha, correlation, up/down capture.

The benchmark is the underlying held from the close before the run's first day to its last
close: its daily return is ``close_t / close_{t-1} - 1`` over the underlying's own daily closes
(a day the underlying did not trade has none). The strategy's daily returns are the analysis'
(on its capital base). Both are compared on the days that have both.

Definitions (daily returns ``s`` for the strategy, ``b`` for the benchmark, ``n`` days):

``beta``           ``cov(s, b) / var(b)`` (ddof 1): the slope of the least-squares line of s on b
``alpha``          annualised intercept of that line: ``(mean(s) - beta * mean(b)) * ppy``
                   (Jensen's alpha with no risk-free rate)
``correlation``    Pearson's correlation of s and b
``up_capture``     on the days the benchmark rose: the strategy's geometric mean daily return
                   over the benchmark's (``1.0`` = moved as much as the market on up days)
``down_capture``   the same on the days it fell (below 1 = lost less than the market)
``benchmark_total_return``, ``benchmark_cagr``, ``benchmark_volatility``,
``benchmark_max_drawdown_pct`` of buy-and-hold over the run (fractions); ``benchmark_days``.

Every figure is NaN (``null`` in metrics.json) without at least two common days with a moving
benchmark.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

BENCHMARK_KEYS: tuple[str, ...] = (
    "beta",
    "alpha",
    "correlation",
    "up_capture",
    "down_capture",
    "benchmark_total_return",
    "benchmark_cagr",
    "benchmark_volatility",
    "benchmark_max_drawdown_pct",
    "benchmark_days",
)


@dataclass(frozen=True)
class Benchmark:
    """Buy-and-hold of ``name``: ``returns`` (daily, on the run's days with a close; the first
    against the close before the run), ``wealth`` (``cumprod(1 + r)``, 1 before the first day),
    and :data:`BENCHMARK_KEYS` in ``metrics``."""

    name: str
    returns: pd.Series
    wealth: pd.Series
    metrics: dict[str, Any]


def benchmark_returns(closes: pd.Series, days: pd.DatetimeIndex) -> pd.Series:
    """Daily returns of ``closes`` (by date) on ``days``: each day's close over the last close
    before it (so the run's first day is measured from the close before the run starts).
    Days without a close, or without an earlier one, are left out."""
    series = pd.Series(closes, dtype=float).dropna()
    series.index = pd.DatetimeIndex(pd.to_datetime(series.index)).normalize()
    series = series[~series.index.duplicated(keep="last")].sort_index()
    series = series[series > 0]
    if series.empty or len(days) == 0:
        return pd.Series(dtype=float, name="benchmark")
    days = pd.DatetimeIndex(days).normalize()
    returns = series / series.shift(1) - 1.0
    kept = returns.reindex(days).dropna()
    return kept.rename("benchmark")


def _geometric_mean(values: np.ndarray) -> float:
    if values.size == 0 or np.any(values <= -1.0):
        return math.nan
    return float(np.exp(np.mean(np.log1p(values))) - 1.0)


def compare(
    strategy: pd.Series, bench: pd.Series, periods_per_year: float = 252
) -> dict[str, float]:
    """:data:`BENCHMARK_KEYS` (except the benchmark-only ones) of ``strategy`` against
    ``bench`` (daily returns as fractions, aligned on their common dates)."""
    nan = math.nan
    joined = pd.concat([strategy.rename("s"), bench.rename("b")], axis=1, join="inner").dropna()
    s = joined["s"].to_numpy(dtype=float)
    b = joined["b"].to_numpy(dtype=float)
    out = {"beta": nan, "alpha": nan, "correlation": nan, "up_capture": nan, "down_capture": nan}
    if s.size < 2:
        return out
    var_b = float(np.var(b, ddof=1))
    if var_b > 0:
        beta = float(np.cov(s, b, ddof=1)[0, 1] / var_b)
        out["beta"] = beta
        out["alpha"] = float((s.mean() - beta * b.mean()) * periods_per_year)
        if float(np.std(s, ddof=1)) > 0:
            out["correlation"] = float(np.corrcoef(s, b)[0, 1])
    for key, mask in (("up_capture", b > 0), ("down_capture", b < 0)):
        gb = _geometric_mean(b[mask])
        gs = _geometric_mean(s[mask])
        out[key] = gs / gb if mask.any() and gb != 0 and math.isfinite(gb) else nan
    return out


def buy_and_hold(
    name: str,
    closes: pd.Series,
    strategy_returns: pd.Series,
    periods_per_year: float = 252,
) -> Benchmark:
    """:class:`Benchmark` of holding ``name`` (daily ``closes`` by date) over the days of
    ``strategy_returns`` (the analysis' daily returns)."""
    days = pd.DatetimeIndex(strategy_returns.index)
    r = benchmark_returns(closes, days)
    wealth = (1.0 + r).cumprod().rename("benchmark_wealth")
    n = len(r)
    total = float(wealth.iloc[-1] - 1.0) if n else math.nan
    vol = float(r.std(ddof=1) * math.sqrt(periods_per_year)) if n > 1 else math.nan
    cagr = (1.0 + total) ** (periods_per_year / n) - 1.0 if n and total > -1 else math.nan
    if n:
        path = np.concatenate([[1.0], wealth.to_numpy()])
        mdd = float(np.min(path / np.maximum.accumulate(path) - 1.0))
    else:
        mdd = math.nan
    metrics: dict[str, Any] = compare(strategy_returns, r, periods_per_year)
    metrics.update(
        benchmark_total_return=total,
        benchmark_cagr=cagr,
        benchmark_volatility=vol,
        benchmark_max_drawdown_pct=mdd,
        benchmark_days=n,
    )
    return Benchmark(name=name, returns=r, wealth=wealth, metrics=metrics)


def empty_metrics() -> dict[str, Any]:
    """Every :data:`BENCHMARK_KEYS` figure undefined (no benchmark for the run)."""
    return {k: (0 if k == "benchmark_days" else math.nan) for k in BENCHMARK_KEYS}
