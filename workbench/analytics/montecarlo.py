"""Monte Carlo simulation of PnL sequences: bootstrap, shuffle and parametric, seeded.

The input is a sequence of PnL values (money): daily PnL or per-trade PnL. Each simulated path is
a sequence of the same length, turned into an equity path (cumulative PnL, starting at 0):

``bootstrap``   draw with replacement from the observed values;
``shuffle``     a random permutation of the observed values (same multiset, so every path ends at
                exactly the realised total; only the path, and so the drawdown, changes);
``parametric``  draws from a fitted distribution: ``normal`` (mean, sample std) or ``t``
                (Student t fitted by maximum likelihood, scipy).

Ruin: a path is ruined when its equity touches ``-ruin_fraction * capital`` (with the default
``ruin_fraction=1.0`` the account is wiped out). All randomness comes from one
``np.random.Generator`` built from ``seed``, so the same inputs give the same result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import stats as _st

Method = Literal["bootstrap", "shuffle", "parametric"]
FAN_PERCENTILES: tuple[float, ...] = (5.0, 25.0, 50.0, 75.0, 95.0)


@dataclass(frozen=True)
class MonteCarloResult:
    """Outcome of one simulation.

    ``fan``: percentile -> equity path (length n + 1, starting at 0) across simulated paths;
    ``final_pnl`` / ``max_drawdown`` (money, <= 0): one value per path; ``prob_ruin``: fraction
    of paths ruined; ``realised``: the observed equity path (length n + 1).
    """

    method: str
    source: str
    n_paths: int
    seed: int
    capital: float
    ruin_fraction: float
    fan: dict[float, np.ndarray]
    final_pnl: np.ndarray
    max_drawdown: np.ndarray
    prob_ruin: float
    realised: np.ndarray
    distribution: str = ""
    params: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, float | int | str]:
        """JSON-ready headline numbers (money unless named ``prob_``)."""
        fp, dd = self.final_pnl, self.max_drawdown
        out: dict[str, float | int | str] = {
            "method": self.method,
            "source": self.source,
            "distribution": self.distribution,
            "n_paths": self.n_paths,
            "seed": self.seed,
            "capital": self.capital,
            "ruin_fraction": self.ruin_fraction,
            "prob_ruin": self.prob_ruin,
            "realised_final_pnl": float(self.realised[-1]) if self.realised.size else 0.0,
            "realised_max_drawdown": float(max_drawdown_money(self.realised[None, :])[0])
            if self.realised.size
            else 0.0,
        }
        if fp.size:
            for q in (5, 50, 95):
                out[f"final_pnl_p{q}"] = float(np.percentile(fp, q))
                out[f"max_drawdown_p{q}"] = float(np.percentile(dd, q))
            out["prob_loss"] = float((fp < 0).mean())
        return out


def equity_paths(pnl_paths: np.ndarray) -> np.ndarray:
    """Cumulative PnL with a leading 0 column: shape (paths, n) -> (paths, n + 1)."""
    paths = np.asarray(pnl_paths, dtype=float)
    return np.concatenate([np.zeros((paths.shape[0], 1)), np.cumsum(paths, axis=1)], axis=1)


def max_drawdown_money(equity: np.ndarray) -> np.ndarray:
    """Per path, the largest fall from a running peak (money, <= 0). ``equity`` includes the
    starting 0."""
    peak = np.maximum.accumulate(equity, axis=1)
    return (equity - peak).min(axis=1)


def simulate_pnl(
    pnl: np.ndarray,
    method: Method,
    *,
    n_paths: int,
    rng: np.random.Generator,
    distribution: Literal["normal", "t"] = "normal",
) -> tuple[np.ndarray, dict[str, float]]:
    """Simulated PnL sequences, shape (n_paths, len(pnl)), and the fitted parameters."""
    values = np.asarray(pnl, dtype=float)
    n = values.size
    if method == "bootstrap":
        return values[rng.integers(0, n, size=(n_paths, n))], {}
    if method == "shuffle":
        return rng.permuted(np.broadcast_to(values, (n_paths, n)), axis=1), {}
    if method == "parametric":
        if distribution == "normal":
            mu, sd = float(values.mean()), float(values.std(ddof=1)) if n > 1 else 0.0
            return rng.normal(mu, sd, size=(n_paths, n)), {"mean": mu, "std": sd}
        if distribution == "t":
            if n < 3 or values.std() == 0:
                raise ValueError(
                    "parametric Monte Carlo with distribution='t' needs at least 3 non-constant values"
                )
            df, loc, scale = _st.t.fit(values)
            draws = _st.t.rvs(df, loc=loc, scale=scale, size=(n_paths, n), random_state=rng)
            return np.asarray(draws), {"df": float(df), "loc": float(loc), "scale": float(scale)}
        raise ValueError(f"distribution {distribution!r} is not 'normal' or 't'")
    raise ValueError(f"Monte Carlo method {method!r} is not one of bootstrap, shuffle, parametric")


def monte_carlo(
    pnl: np.ndarray,
    *,
    method: Method = "bootstrap",
    n_paths: int = 1000,
    seed: int = 0,
    capital: float,
    ruin_fraction: float = 1.0,
    source: str = "daily",
    distribution: Literal["normal", "t"] = "normal",
    percentiles: tuple[float, ...] = FAN_PERCENTILES,
) -> MonteCarloResult:
    """Simulate ``n_paths`` PnL paths from ``pnl`` (money) and summarise them.

    Parameters
    ----------
    pnl : observed PnL per period or per trade (money); NaN values are dropped.
    method : ``bootstrap``, ``shuffle`` or ``parametric`` (module docstring).
    n_paths : number of simulated paths (> 0).
    seed : seed of the ``np.random.Generator``.
    capital : account capital (money, > 0) for the ruin test.
    ruin_fraction : loss, as a fraction of ``capital`` (0 < f <= 1), that counts as ruin.
    source : label of what ``pnl`` is ("daily" or "trades"), kept in the result.
    """
    if n_paths <= 0:
        raise ValueError(f"n_paths must be > 0, got {n_paths}")
    if not np.isfinite(capital) or capital <= 0:
        raise ValueError(f"capital must be a positive amount of money, got {capital!r}")
    if not 0 < ruin_fraction <= 1:
        raise ValueError(f"ruin_fraction must be in (0, 1], got {ruin_fraction}")
    values = np.asarray(pnl, dtype=float)
    values = values[np.isfinite(values)]
    realised = equity_paths(values[None, :])[0]
    if values.size:
        realised[-1] = math.fsum(values)
    rng = np.random.default_rng(seed)
    if values.size == 0:
        empty = np.zeros(0)
        return MonteCarloResult(
            method,
            source,
            n_paths,
            seed,
            capital,
            ruin_fraction,
            {p: np.zeros(1) for p in percentiles},
            empty,
            empty,
            0.0,
            realised,
            distribution if method == "parametric" else "",
        )
    sims, params = simulate_pnl(values, method, n_paths=n_paths, rng=rng, distribution=distribution)
    eq = equity_paths(sims)
    # correctly rounded totals: a shuffled path ends at exactly the realised total (a correctly
    # rounded sum does not depend on the order, so a shuffle's rows all take realised[-1])
    if method == "shuffle":
        eq[:, -1] = realised[-1]
    else:
        eq[:, -1] = [math.fsum(row) for row in sims]
    # every fan percentile from one partition of the paths (the same order statistics and
    # interpolation as one call per percentile, a third of the time on 1,000 x 5,770 paths)
    qs = np.percentile(eq, list(percentiles), axis=0)
    fan = {p: qs[i] for i, p in enumerate(percentiles)}
    ruined = eq.min(axis=1) <= -ruin_fraction * capital
    return MonteCarloResult(
        method=method,
        source=source,
        n_paths=n_paths,
        seed=seed,
        capital=capital,
        ruin_fraction=ruin_fraction,
        fan=fan,
        final_pnl=eq[:, -1].copy(),
        max_drawdown=max_drawdown_money(eq),
        prob_ruin=float(ruined.mean()),
        realised=realised,
        distribution=distribution if method == "parametric" else "",
        params=params,
    )
