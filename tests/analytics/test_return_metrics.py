"""Return/risk metrics against hand computation and independent re-implementations of the
quantstats formulas (plain Python / NumPy written here, not the code under test)."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.analytics import metrics as m

TOY = [0.01, -0.02, 0.03, 0.0, -0.01]


def test_sharpe_by_hand() -> None:
    mean = sum(TOY) / 5  # 0.002
    var = sum((x - mean) ** 2 for x in TOY) / 4  # 0.00037
    assert var == pytest.approx(0.00037)
    assert m.sharpe(TOY, 252) == pytest.approx(0.002 / math.sqrt(0.00037) * math.sqrt(252))
    # with a 5% annual risk-free rate spread over 252 days
    ex = [x - 0.05 / 252 for x in TOY]
    assert m.sharpe(TOY, 252, rf=0.05) == pytest.approx(
        statistics.mean(ex) / statistics.stdev(ex) * math.sqrt(252)
    )
    assert m.sharpe(TOY, 12) == pytest.approx(0.002 / math.sqrt(0.00037) * math.sqrt(12))


def test_sortino_by_hand() -> None:
    # downside deviation sqrt((0.02^2 + 0.01^2) / 5) = 0.01 exactly
    assert m.sortino(TOY, 252) == pytest.approx(0.002 / 0.01 * math.sqrt(252))


def test_cagr_too_large_for_a_float_is_infinite_not_an_error() -> None:
    """A few huge daily returns annualised over 252 periods overflow a float: +inf, where
    Python's float power raised OverflowError (a traceback from `workbench run` on an
    absurd position size)."""
    assert m.cagr([1000.0, 5.0]) == math.inf
    assert m.cagr([1000.0, -1.0]) != m.cagr([1000.0, -1.0])  # lost everything: NaN


def test_cagr_and_total_return_by_hand() -> None:
    assert m.total_return([0.10, -0.10]) == pytest.approx(-0.01)
    assert m.cagr([0.10, -0.10], periods_per_year=2) == pytest.approx(-0.01)
    # 21% over two years -> 10% a year
    assert m.cagr([0.21, 0.0], periods_per_year=1) == pytest.approx(0.10)
    # one quarter of 1% a month -> (1.01^3)^(4) - 1 per year
    assert m.cagr([0.01, 0.01, 0.01], periods_per_year=12) == pytest.approx(1.01**12 - 1)


def test_max_drawdown_and_calmar_by_hand() -> None:
    # wealth 1.01, 0.9898, ... ; worst fall 0.9898 / 1.01 - 1 = -2%
    assert m.max_drawdown(TOY) == pytest.approx(-0.02)
    # a loss on the first day is a drawdown from the starting capital
    assert m.max_drawdown([-0.05, 0.01]) == pytest.approx(-0.05)
    assert m.max_drawdown([0.01, 0.02]) == 0.0
    assert m.calmar(TOY, 252) == pytest.approx(m.cagr(TOY, 252) / 0.02)


def test_trade_statistics_by_hand() -> None:
    pnl = [100.0, -50.0, 0.0, 200.0, -25.0, -25.0, 300.0]
    assert m.win_rate(pnl) == pytest.approx(3 / 6)  # zero excluded
    assert m.profit_factor(pnl) == pytest.approx(600 / 100)
    assert m.avg_win(pnl) == pytest.approx(200.0)
    assert m.avg_loss(pnl) == pytest.approx(-100 / 3)
    assert m.payoff_ratio(pnl) == pytest.approx(200 / (100 / 3))
    assert m.expectancy(pnl) == pytest.approx(500 / 6)
    assert m.max_consecutive(pnl, positive=True) == 1
    assert m.max_consecutive(pnl, positive=False) == 2
    assert m.max_consecutive([1, 2, 3, 0, 1], positive=True) == 3
    assert m.gain_to_pain(pnl) == pytest.approx(500 / 100)
    assert m.profit_factor([1.0, 2.0]) == math.inf


def _independent_qs(r: np.ndarray, ppy: int) -> dict[str, float]:
    """quantstats' formulas re-derived with plain NumPy / statistics (not the module under test)."""
    n = len(r)
    mean = float(np.sum(r) / n)
    sd = math.sqrt(float(np.sum((r - mean) ** 2)) / (n - 1))
    m2 = float(np.sum((r - mean) ** 2) / n)
    m3 = float(np.sum((r - mean) ** 3) / n)
    m4 = float(np.sum((r - mean) ** 4) / n)
    g1 = m3 / m2**1.5
    g2 = m4 / m2**2 - 3
    wins, losses = r[r > 0], r[r < 0]
    win_rate = len(wins) / len(r[r != 0])
    payoff = wins.mean() / abs(losses.mean())
    sorted_r = np.sort(r)

    def q(p: float) -> float:  # linear interpolation, as numpy/pandas quantile default
        pos = p * (n - 1)
        lo = math.floor(pos)
        hi = min(lo + 1, n - 1)
        return float(sorted_r[lo] + (sorted_r[hi] - sorted_r[lo]) * (pos - lo))

    var_normal = statistics.NormalDist(mean, sd).inv_cdf(0.05)
    wealth = np.cumprod(1 + r)
    dd = wealth / np.maximum.accumulate(np.maximum(wealth, 1.0)) - 1
    return {
        "volatility": sd * math.sqrt(ppy),
        "sharpe": mean / sd * math.sqrt(ppy),
        "sortino": mean / math.sqrt(float(np.sum(losses**2)) / n) * math.sqrt(ppy),
        "skew": math.sqrt(n * (n - 1)) / (n - 2) * g1,
        "kurtosis": (n - 1) / ((n - 2) * (n - 3)) * ((n + 1) * g2 + 6),
        "tail_ratio": abs(q(0.95) / q(0.05)),
        "var_parametric": var_normal,
        "var_historical": q(0.05),
        "win_rate": win_rate,
        "payoff": payoff,
        "profit_factor": wins.sum() / abs(losses.sum()),
        "kelly": (payoff * win_rate - (1 - win_rate)) / payoff,
        "gain_to_pain": r.sum() / abs(losses.sum()),
        "omega": wins.sum() / abs(losses.sum()),
        "ulcer": math.sqrt(float(np.sum(dd**2)) / (n - 1)),
        "outlier_win": q(0.99) / r[r >= 0].mean(),
        "outlier_loss": q(0.01) / losses.mean(),
        "risk_of_ruin": ((1 - win_rate) / (1 + win_rate)) ** n,
        **_independent_extras(r, ppy, mean, sd, m2, m3, m4),
    }


def _independent_extras(
    r: np.ndarray, ppy: int, mean: float, sd: float, m2: float, m3: float, m4: float
) -> dict[str, float]:
    n = len(r)
    x, y = r[:-1], r[1:]
    mx, my = sum(x) / len(x), sum(y) / len(y)
    rho = sum((a - mx) * (b - my) for a, b in zip(x, y)) / math.sqrt(
        sum((a - mx) ** 2 for a in x) * sum((b - my) ** 2 for b in y)
    )
    penalty = math.sqrt(1 + 2 * sum((n - k) / n * abs(rho) ** k for k in range(1, n)))
    sharpe = mean / sd * math.sqrt(ppy)
    downside = math.sqrt(sum(min(v, 0.0) ** 2 for v in r) / n)
    sr = mean / sd
    psr = statistics.NormalDist().cdf(
        sr * math.sqrt(n - 1) / math.sqrt(1 - (m3 / m2**1.5) * sr + (m4 / m2**2 - 1) / 4 * sr**2)
    )
    wealth, peak, dd = 1.0, 1.0, []
    for v in r:
        wealth *= 1 + v
        peak = max(peak, wealth)
        dd.append(wealth / peak - 1)
    dd_sorted = sorted(dd)
    pos = 0.05 * (n - 1)
    lo = math.floor(pos)
    var_dd = dd_sorted[lo] + (dd_sorted[lo + 1] - dd_sorted[lo]) * (pos - lo)
    cvar_dd = statistics.mean(d for d in dd if d <= var_dd)
    ulcer = math.sqrt(sum(d * d for d in dd) / (n - 1))
    return {
        "smart_sharpe": sharpe / penalty,
        "smart_sortino": mean / downside * math.sqrt(ppy) / penalty,
        "probabilistic_sharpe": psr,
        "serenity": float(sum(r)) / (ulcer * (-cvar_dd / sd)),
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_quantstats_formula_equivalence(seed: int) -> None:
    rng = np.random.default_rng(seed)
    r = rng.standard_t(4, size=300) * 0.01 + 0.0004
    ref = _independent_qs(r, 252)
    got = {
        "volatility": m.volatility(r, 252),
        "sharpe": m.sharpe(r, 252),
        "sortino": m.sortino(r, 252),
        "skew": m.skew(r),
        "kurtosis": m.kurtosis(r),
        "tail_ratio": m.tail_ratio(r),
        "var_parametric": m.var_parametric(r),
        "var_historical": m.var_historical(r),
        "win_rate": m.win_rate(r),
        "payoff": m.payoff_ratio(r),
        "profit_factor": m.profit_factor(r),
        "kelly": m.kelly(r),
        "gain_to_pain": m.gain_to_pain(r),
        "omega": m.omega(r),
        "ulcer": m.ulcer_index(r),
        "outlier_win": m.outlier_win_ratio(r),
        "outlier_loss": m.outlier_loss_ratio(r),
        "risk_of_ruin": m.risk_of_ruin(r),
        "smart_sharpe": m.smart_sharpe(r, 252),
        "smart_sortino": m.smart_sortino(r, 252),
        "probabilistic_sharpe": m.probabilistic_sharpe(r),
        "serenity": m.serenity_index(r),
    }
    for key, value in ref.items():
        assert got[key] == pytest.approx(value, rel=1e-9, abs=1e-15), key
    var = m.var_historical(r)
    assert m.cvar_historical(r) == pytest.approx(r[r <= var].mean())


def test_undefined_figures_are_nan_not_errors() -> None:
    for fn in (m.sharpe, m.sortino, m.volatility, m.cagr, m.calmar):
        assert math.isnan(fn([]))
    assert math.isnan(m.sharpe([0.01]))
    assert math.isnan(m.sharpe([0.01, 0.01, 0.01]))  # zero dispersion
    assert math.isnan(m.sortino([0.01, 0.02]))  # no downside
    assert math.isnan(m.profit_factor([0.0, 0.0]))
    assert math.isnan(m.win_rate([]))
    assert math.isnan(m.skew([1.0, 2.0]))
    assert math.isnan(m.kurtosis([1.0, 2.0, 3.0]))
    assert math.isnan(m.cagr([-1.0, 0.5]))  # wiped out
    assert math.isnan(m.var_parametric([0.01]))
    assert math.isnan(m.sharpe([np.nan, np.nan]))
    # NaNs are dropped, not propagated
    assert m.sharpe([0.01, np.nan, -0.02, 0.03, 0.0, -0.01]) == pytest.approx(m.sharpe(TOY))


returns_lists = st.lists(st.floats(-0.2, 0.2, allow_nan=False), min_size=3, max_size=60)


@settings(max_examples=60, deadline=None)
@given(returns_lists, st.floats(0.1, 10.0))
def test_sharpe_is_scale_and_order_invariant(r: list[float], c: float) -> None:
    arr = np.array(r)
    s = m.sharpe(arr)
    if math.isnan(s) or np.std(arr) < 1e-9:
        return
    assert m.sharpe(arr * c) == pytest.approx(s, rel=1e-6)
    assert m.sharpe(arr[::-1]) == pytest.approx(s, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(returns_lists)
def test_drawdown_bounds_and_compounding(r: list[float]) -> None:
    mdd = m.max_drawdown(r)
    assert -1.0 <= mdd <= 0.0
    assert m.total_return(r) == pytest.approx(float(np.prod(1 + np.array(r)) - 1), abs=1e-12)
    assert m.max_consecutive(r, True) + m.max_consecutive(r, False) <= len(r)
