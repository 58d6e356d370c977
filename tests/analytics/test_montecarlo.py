"""Monte Carlo: reproducibility, fan brackets the realised path, shuffle keeps the total exactly,
probability of ruin at the extremes, parametric fits, bad parameters."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.analytics.montecarlo import (
    equity_paths,
    max_drawdown_money,
    monte_carlo,
    simulate_pnl,
)


def _pnl(seed: int = 11, n: int = 250) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.round(rng.normal(300.0, 2500.0, n), 2)


def test_same_seed_same_result_other_seed_differs() -> None:
    pnl = _pnl()
    a = monte_carlo(pnl, method="bootstrap", n_paths=300, seed=5, capital=1e6)
    b = monte_carlo(pnl, method="bootstrap", n_paths=300, seed=5, capital=1e6)
    c = monte_carlo(pnl, method="bootstrap", n_paths=300, seed=6, capital=1e6)
    assert np.array_equal(a.final_pnl, b.final_pnl)
    assert np.array_equal(a.fan[50.0], b.fan[50.0])
    assert not np.array_equal(a.final_pnl, c.final_pnl)


@pytest.mark.parametrize("method", ["bootstrap", "shuffle", "parametric"])
def test_fan_brackets_the_realised_path(method: str) -> None:
    pnl = _pnl()
    res = monte_carlo(
        pnl,
        method=method,
        n_paths=2000,
        seed=1,
        capital=1e6,
        percentiles=(0.5, 5.0, 50.0, 95.0, 99.5),
    )  # type: ignore[arg-type]
    realised = np.concatenate([[0.0], np.cumsum(pnl)])
    assert np.allclose(res.realised, realised)
    inside = (res.fan[0.5] - 1e-6 <= realised) & (realised <= res.fan[99.5] + 1e-6)
    assert inside.all()
    # the 90% band holds most of the path, and the fan is ordered
    inside90 = (res.fan[5.0] <= realised) & (realised <= res.fan[95.0])
    assert inside90.mean() > 0.8
    assert (res.fan[5.0] <= res.fan[50.0]).all() and (res.fan[50.0] <= res.fan[95.0]).all()


def test_shuffle_preserves_final_pnl_exactly_and_the_multiset() -> None:
    pnl = _pnl(3, 500)
    res = monte_carlo(pnl, method="shuffle", n_paths=400, seed=2, capital=1e6)
    assert (res.final_pnl == res.realised[-1]).all()
    sims, _ = simulate_pnl(pnl, "shuffle", n_paths=20, rng=np.random.default_rng(0))
    assert (np.sort(sims, axis=1) == np.sort(pnl)).all()
    assert not (sims == pnl).all(axis=1).any()
    # the drawdown distribution changes with the order; the realised one is among the possible
    assert (
        res.max_drawdown.min() <= res.summary()["realised_max_drawdown"] <= res.max_drawdown.max()
    )


def test_probability_of_ruin_extremes() -> None:
    winners = np.full(100, 50.0)
    for method in ("bootstrap", "shuffle"):
        assert (
            monte_carlo(winners, method=method, n_paths=200, seed=0, capital=1000.0).prob_ruin
            == 0.0
        )  # type: ignore[arg-type]
    losers = np.full(30, -100.0)  # every path loses 3000 > capital 1000
    for method in ("bootstrap", "shuffle"):
        assert (
            monte_carlo(losers, method=method, n_paths=200, seed=0, capital=1000.0).prob_ruin == 1.0
        )  # type: ignore[arg-type]
    # ruin at half the capital: touched when equity reaches -500 exactly
    assert (
        monte_carlo(
            np.full(5, -100.0),
            method="shuffle",
            n_paths=10,
            seed=0,
            capital=1000.0,
            ruin_fraction=0.5,
        ).prob_ruin
        == 1.0
    )
    assert (
        monte_carlo(
            np.full(4, -100.0),
            method="shuffle",
            n_paths=10,
            seed=0,
            capital=1000.0,
            ruin_fraction=0.5,
        ).prob_ruin
        == 0.0
    )


def test_parametric_fits() -> None:
    pnl = _pnl(5, 400)
    _, params = simulate_pnl(pnl, "parametric", n_paths=10, rng=np.random.default_rng(0))
    assert params["mean"] == pytest.approx(pnl.mean())
    assert params["std"] == pytest.approx(pnl.std(ddof=1))
    res = monte_carlo(pnl, method="parametric", n_paths=4000, seed=3, capital=1e6)
    # the mean final PnL of normal draws is n * mean within a few standard errors
    se = pnl.std(ddof=1) * np.sqrt(pnl.size) / np.sqrt(4000)
    assert abs(res.final_pnl.mean() - pnl.sum()) < 4 * se
    t = monte_carlo(pnl, method="parametric", distribution="t", n_paths=200, seed=3, capital=1e6)
    assert t.params["df"] > 0 and t.distribution == "t"


def test_max_drawdown_money_by_hand() -> None:
    eq = equity_paths(np.array([[100.0, -300.0, 50.0, 400.0], [-10.0, -10.0, 5.0, 0.0]]))
    assert list(eq[0]) == [0.0, 100.0, -200.0, -150.0, 250.0]
    assert list(max_drawdown_money(eq)) == [-300.0, -20.0]


def test_empty_input_and_bad_parameters() -> None:
    empty = monte_carlo(np.array([]), n_paths=10, capital=1000.0)
    assert empty.final_pnl.size == 0 and empty.prob_ruin == 0.0
    with pytest.raises(ValueError, match="n_paths"):
        monte_carlo(_pnl(), n_paths=0, capital=1000.0)
    with pytest.raises(ValueError, match="capital"):
        monte_carlo(_pnl(), capital=0.0)
    with pytest.raises(ValueError, match="ruin_fraction"):
        monte_carlo(_pnl(), capital=1000.0, ruin_fraction=1.5)
    with pytest.raises(ValueError, match="method"):
        monte_carlo(_pnl(), capital=1000.0, method="jackknife")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="distribution"):
        monte_carlo(_pnl(), capital=1000.0, method="parametric", distribution="cauchy")  # type: ignore[arg-type]


@pytest.mark.parametrize("method", ["bootstrap", "shuffle", "parametric"])
def test_fan_and_totals_equal_the_paths_rebuilt_one_percentile_at_a_time(method: str) -> None:
    """The fan is computed in one call for every percentile, and a shuffle's totals are taken
    as the realised total: both equal what the simulated paths give, percentile by percentile
    and path by path (math.fsum of each path)."""
    import math

    pnl = _pnl(7, 300)
    res = monte_carlo(pnl, method=method, n_paths=250, seed=9, capital=1e6)  # type: ignore[arg-type]
    sims, _ = simulate_pnl(pnl, method, n_paths=250, rng=np.random.default_rng(9))  # type: ignore[arg-type]
    eq = equity_paths(sims)
    eq[:, -1] = [math.fsum(row) for row in sims.tolist()]
    assert np.array_equal(res.final_pnl, eq[:, -1])
    for p in (5.0, 25.0, 50.0, 75.0, 95.0):
        assert np.array_equal(res.fan[p], np.percentile(eq, p, axis=0))


def test_percentiles_may_be_any_sequence() -> None:
    pnl = _pnl(5, 60)
    a = monte_carlo(pnl, n_paths=50, seed=1, capital=1e6, percentiles=np.array([10.0, 90.0]))  # type: ignore[arg-type]
    b = monte_carlo(pnl, n_paths=50, seed=1, capital=1e6, percentiles=(10.0, 90.0))
    assert a.fan.keys() == b.fan.keys() and all(np.array_equal(a.fan[k], b.fan[k]) for k in a.fan)
    assert monte_carlo(pnl, n_paths=50, seed=1, capital=1e6, percentiles=()).fan == {}
