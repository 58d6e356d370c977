"""Payoff grids: the value of a set of option legs over an array of underlying prices.

A position is a sequence of :class:`PositionLeg` (strike, right, *signed* units, premium per
unit, time to expiry, volatility). Everything is vectorised over a price grid ``S`` (1-D array):
the leg-by-price matrix is built once with NumPy broadcasting (the seed system used a Cython
loop per leg for this).

* :func:`expiry_value` -- sum of ``units x intrinsic(S)``: what the position is worth at expiry.
* :func:`expiry_pnl` -- ``expiry_value - sum(units x price)``: profit and loss at expiry
  (premium received counts as a gain for short legs).
* :func:`value_at` / :func:`pnl_at` -- the same after ``elapsed`` years, with each leg priced by
  Black-Scholes (:func:`workbench.pricing.bs_price`) with ``max(years - elapsed, 0)`` to expiry;
  a leg at or past expiry is worth its intrinsic value.
* :func:`max_loss_at_expiry` -- the exact worst expiry PnL (piecewise linear, so the minimum is
  at ``S = 0``, at a strike, or unbounded as ``S`` grows).

Money is per unit of underlying times units, i.e. in the option's currency.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from workbench.model.contracts import OptionContract


@dataclass(frozen=True, slots=True)
class PositionLeg:
    """One leg of a position for payoff and margin purposes.

    ``units`` signed units of underlying (+ long, - short; contracts x lot size); ``price`` the
    premium per unit (entry price for PnL, current mark for margin); ``years`` time to expiry in
    years at the valuation moment (0 = expiring now); ``sigma`` annualised volatility (needed
    only before expiry).
    """

    strike: float
    is_call: bool
    units: float
    price: float = 0.0
    years: float = 0.0
    sigma: float = math.nan

    def __post_init__(self) -> None:
        for name in ("strike", "units", "price", "years"):
            value = getattr(self, name)
            try:
                v = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"PositionLeg.{name} must be a number, got {value!r}") from None
            if not math.isfinite(v):
                raise ValueError(f"PositionLeg.{name} must be finite, got {value!r}")
            object.__setattr__(self, name, v)
        if self.strike <= 0:
            raise ValueError(f"PositionLeg.strike must be > 0, got {self.strike!r}")
        if self.price < 0:
            raise ValueError(f"PositionLeg.price must be >= 0, got {self.price!r}")
        if self.years < 0:
            raise ValueError(f"PositionLeg.years must be >= 0, got {self.years!r}")
        sigma = float(self.sigma)
        if not math.isnan(sigma) and (not math.isfinite(sigma) or sigma <= 0):
            raise ValueError(
                f"PositionLeg.sigma must be > 0 (or NaN if unknown), got {self.sigma!r}"
            )
        object.__setattr__(self, "sigma", sigma)
        object.__setattr__(self, "is_call", bool(self.is_call))

    @classmethod
    def from_contract(
        cls,
        contract: OptionContract,
        units: float,
        price: float = 0.0,
        *,
        years: float = 0.0,
        sigma: float = math.nan,
    ) -> PositionLeg:
        return cls(contract.strike, contract.is_call, units, price, years, sigma)


@dataclass(frozen=True, slots=True)
class LegArrays:
    """The legs of a position as parallel 1-D arrays (one entry per leg)."""

    strike: NDArray[np.float64]
    is_call: NDArray[np.bool_]
    units: NDArray[np.float64]
    price: NDArray[np.float64]
    years: NDArray[np.float64]
    sigma: NDArray[np.float64]

    @classmethod
    def from_legs(cls, legs: Sequence[PositionLeg] | LegArrays) -> LegArrays:
        if isinstance(legs, LegArrays):
            return legs
        items = list(legs)
        for i, leg in enumerate(items):
            if not isinstance(leg, PositionLeg):
                raise ValueError(f"legs[{i}] must be a PositionLeg, got {type(leg).__name__}")
        return cls(
            strike=np.array([x.strike for x in items], dtype=np.float64),
            is_call=np.array([x.is_call for x in items], dtype=np.bool_),
            units=np.array([x.units for x in items], dtype=np.float64),
            price=np.array([x.price for x in items], dtype=np.float64),
            years=np.array([x.years for x in items], dtype=np.float64),
            sigma=np.array([x.sigma for x in items], dtype=np.float64),
        )

    def __len__(self) -> int:
        return int(self.strike.shape[0])


def _grid(prices: ArrayLike) -> NDArray[np.float64]:
    grid = np.asarray(prices, dtype=np.float64)
    if grid.ndim != 1:
        raise ValueError(f"prices must be a 1-D array of underlying prices, got shape {grid.shape}")
    if grid.size and (not np.isfinite(grid).all() or (grid < 0).any()):
        raise ValueError("prices must be finite and >= 0")
    return grid


def intrinsic_matrix(legs: LegArrays, grid: NDArray[np.float64]) -> NDArray[np.float64]:
    """Intrinsic value per unit of every leg at every price: shape ``(len(grid), len(legs))``."""
    diff = grid[:, None] - legs.strike[None, :]
    return np.where(legs.is_call[None, :], np.maximum(diff, 0.0), np.maximum(-diff, 0.0))


def expiry_value(legs: Sequence[PositionLeg] | LegArrays, prices: ArrayLike) -> NDArray[np.float64]:
    """Position value at expiry for each underlying price: ``sum(units x intrinsic)``.

    The value is piecewise linear in the price with kinks at the strikes, so it is evaluated
    exactly at ``0`` and the strikes (a small legs x strikes matrix) and interpolated linearly
    between them; above the highest strike it grows with slope ``sum(call units)``. Cost
    O(legs^2 + prices log legs) instead of O(legs x prices).
    """
    arr = LegArrays.from_legs(legs)
    grid = _grid(prices)
    if len(arr) == 0:
        return np.zeros_like(grid)
    kinks = np.unique(np.concatenate(([0.0], arr.strike)))
    at_kinks = intrinsic_matrix(arr, kinks) @ arr.units
    out = np.interp(grid, kinks, at_kinks)
    above = grid > kinks[-1]
    if above.any():
        slope = float(arr.units[arr.is_call].sum())
        out[above] = at_kinks[-1] + slope * (grid[above] - kinks[-1])
    return out


def entry_cost(legs: Sequence[PositionLeg] | LegArrays) -> float:
    """``sum(units x price)``: premium paid (positive) or received (negative)."""
    arr = LegArrays.from_legs(legs)
    return float(arr.units @ arr.price)


def expiry_pnl(legs: Sequence[PositionLeg] | LegArrays, prices: ArrayLike) -> NDArray[np.float64]:
    """Profit and loss at expiry: ``expiry_value - entry_cost``."""
    arr = LegArrays.from_legs(legs)
    return expiry_value(arr, prices) - entry_cost(arr)


def value_at(
    legs: Sequence[PositionLeg] | LegArrays,
    prices: ArrayLike,
    *,
    elapsed: float = 0.0,
    r: float = 0.0,
    q: float = 0.0,
    sigma: float | ArrayLike | None = None,
) -> NDArray[np.float64]:
    """Position value after ``elapsed`` years for each underlying price (Black-Scholes).

    Each leg has ``max(years - elapsed, 0)`` left; legs with time left need a volatility: the
    leg's ``sigma`` unless ``sigma`` (a scalar or one value per leg) is given. ``r`` and ``q``
    are continuously compounded annual rates.
    """
    from workbench.pricing import bs_price

    arr = LegArrays.from_legs(legs)
    grid = _grid(prices)
    if len(arr) == 0:
        return np.zeros_like(grid)
    el = float(elapsed)
    if not math.isfinite(el) or el < 0:
        raise ValueError(f"elapsed must be a finite number of years >= 0, got {elapsed!r}")
    remaining = np.maximum(arr.years - el, 0.0)
    vol = (
        arr.sigma
        if sigma is None
        else np.broadcast_to(np.asarray(sigma, dtype=np.float64), arr.sigma.shape)
    )
    live = remaining > 0
    missing = live & ~(np.isfinite(vol) & (vol > 0))
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise ValueError(
            f"leg {i} (strike {arr.strike[i]:g}) has time to expiry left but no volatility: "
            "give PositionLeg.sigma or sigma="
        )
    per_unit = intrinsic_matrix(arr, grid)
    if live.any():
        cols = np.flatnonzero(live)
        priced = bs_price(
            grid[:, None],
            arr.strike[cols][None, :],
            remaining[cols][None, :],
            r,
            vol[cols][None, :],
            arr.is_call[cols][None, :],
            q,
        )
        per_unit[:, cols] = np.asarray(priced, dtype=np.float64).reshape(grid.size, cols.size)
    return per_unit @ arr.units


def pnl_at(
    legs: Sequence[PositionLeg] | LegArrays,
    prices: ArrayLike,
    *,
    elapsed: float = 0.0,
    r: float = 0.0,
    q: float = 0.0,
    sigma: float | ArrayLike | None = None,
) -> NDArray[np.float64]:
    """:func:`value_at` minus :func:`entry_cost`."""
    arr = LegArrays.from_legs(legs)
    return value_at(arr, prices, elapsed=elapsed, r=r, q=q, sigma=sigma) - entry_cost(arr)


def max_loss_at_expiry(legs: Sequence[PositionLeg] | LegArrays) -> float:
    """The largest loss at expiry over all underlying prices ``S >= 0``, as a positive number
    (0 if the position cannot lose); ``math.inf`` when the loss is unbounded (more calls sold
    than bought). Exact: the expiry PnL is piecewise linear with kinks at the strikes.
    """
    arr = LegArrays.from_legs(legs)
    if len(arr) == 0:
        return 0.0
    if float(arr.units[arr.is_call].sum()) < -1e-9:
        return math.inf
    points = np.unique(np.concatenate(([0.0], arr.strike)))
    worst = float(expiry_pnl(arr, points).min())
    return max(-worst, 0.0)


def price_grid(
    spot: float, *, down: float = 0.5, up: float = 0.5, n: int = 201
) -> NDArray[np.float64]:
    """``n`` evenly spaced underlying prices from ``spot x (1 - down)`` to ``spot x (1 + up)``."""
    s = float(spot)
    if not math.isfinite(s) or s <= 0:
        raise ValueError(f"spot must be a positive finite price, got {spot!r}")
    if not (0 <= down <= 1) or not (up >= 0) or not math.isfinite(up):
        raise ValueError(f"down must be in [0, 1] and up >= 0, got down={down!r}, up={up!r}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be a whole number >= 2, got {n!r}")
    return np.linspace(s * (1 - down), s * (1 + up), n)
