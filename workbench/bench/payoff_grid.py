"""Benchmark ``payoff_grid``: vectorised expiry payoff grids vs a per-element Python loop.

The seed system computed payoff grids leg by leg over a price range in a Cython loop
(``single_strike_payoff_cal``); the workbench builds the legs x prices matrix once with NumPy
broadcasting at the strikes only and interpolates the piecewise-linear payoff in between
(:func:`workbench.execution.payoff.expiry_pnl`); the dense legs x prices matrix is reported too. Baseline, measured in the same run:
the same arithmetic as plain Python loops over prices and legs (what the Cython loop compiles).
Both results are checked equal before timing counts.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from workbench.execution.margin import RegTIndex
from workbench.execution.payoff import (
    LegArrays,
    PositionLeg,
    expiry_pnl,
    intrinsic_matrix,
    max_loss_at_expiry,
)


def _legs(n_legs: int, spot: float, rng: np.random.Generator) -> list[PositionLeg]:
    strikes = np.round(spot * (1 + rng.uniform(-0.1, 0.1, n_legs)) / 50) * 50
    return [
        PositionLeg(
            strike=float(k),
            is_call=bool(rng.integers(0, 2)),
            units=float(rng.choice([-75.0, 75.0])),
            price=float(rng.uniform(5, 300)),
        )
        for k in strikes
    ]


def _python_pnl(legs: list[PositionLeg], grid: list[float]) -> list[float]:
    out = []
    for s in grid:
        total = 0.0
        for leg in legs:
            intrinsic = max(s - leg.strike, 0.0) if leg.is_call else max(leg.strike - s, 0.0)
            total += leg.units * (intrinsic - leg.price)
        out.append(total)
    return out


def _best_of(fn: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def run(quick: bool) -> dict:
    rng = np.random.default_rng(7)
    spot = 25_000.0
    n_legs = 8 if quick else 16
    n_points = 2_001 if quick else 20_001
    n_positions = 20 if quick else 200
    repeats = 3 if quick else 5
    positions = [_legs(n_legs, spot, rng) for _ in range(n_positions)]
    arrays = [LegArrays.from_legs(p) for p in positions]
    grid = np.linspace(spot * 0.8, spot * 1.2, n_points)
    grid_list = grid.tolist()

    for legs, arr in zip(positions[:3], arrays[:3]):
        np.testing.assert_allclose(expiry_pnl(arr, grid), _python_pnl(legs, grid_list), atol=1e-6)

    t_vec = _best_of(lambda: [expiry_pnl(a, grid) for a in arrays], repeats)
    t_dense = _best_of(lambda: [intrinsic_matrix(a, grid) @ a.units for a in arrays], repeats)
    t_py = _best_of(
        lambda: [_python_pnl(p, grid_list) for p in positions[: max(n_positions // 10, 1)]], 1
    )
    t_py *= n_positions / max(n_positions // 10, 1)
    model = RegTIndex()
    t_margin = _best_of(
        lambda: (
            [max_loss_at_expiry(a) for a in arrays] + [model.margin(p, spot) for p in positions]
        ),
        repeats,
    )
    cells = n_positions * n_points * n_legs
    return {
        "benchmark": "payoff_grid",
        "ratio": t_py / t_vec,
        "baseline": "plain-Python loops over prices x legs (the seed's Cython loop, uncompiled)",
        "figures": {
            "positions": n_positions,
            "legs_per_position": n_legs,
            "grid_points": n_points,
            "vectorised_s": t_vec,
            "dense_legs_x_prices_matrix_s": t_dense,
            "python_loop_s_extrapolated_from_10pct": t_py,
            "vectorised_leg_price_cells_per_s": cells / t_vec,
            "python_leg_price_cells_per_s": cells / t_py,
            "max_loss_plus_reg_t_per_position_us": t_margin / n_positions * 1e6,
        },
    }
