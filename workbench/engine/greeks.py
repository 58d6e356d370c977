"""Implied vol and Greeks of positions, from prices (Black-Scholes, :mod:`workbench.pricing`).

Conventions: ``T`` is ACT/365 years from the tick to the contract's settlement instant (never
negative); the risk-free rate ``rate`` and dividend yield are continuous per year (the engine's
default rate is 0: index options are priced off spot without a funding assumption unless the run
sets one). ``iv`` is a fraction (0.2 = 20 %); ``delta`` per unit of underlying signed by right;
``gamma`` per unit squared; ``vega`` per 1.00 of vol; ``theta`` per year. At expiry (``T == 0``)
the iv is NaN and the delta is the payoff's: 1 (call) / -1 (put) in the money, 0 out, half at the
money; gamma, vega and theta are 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, time

import numpy as np

from workbench.model.contracts import OptionContract


def years_to_settlement(ts: datetime, expiry: date, settlement_clock: time) -> float:
    """ACT/365 years from ``ts`` to ``expiry`` at ``settlement_clock`` (exchange-local, naive),
    never negative: :func:`workbench.pricing.years_between`, the scalar path of
    :func:`workbench.pricing.year_fraction` (the same function as
    :func:`workbench.engine.selection.years_to_expiry`)."""
    from workbench.pricing.daycount import years_between

    return years_between(ts, datetime.combine(expiry, settlement_clock))


def _payoff_delta(contract: OptionContract, spot: float) -> float:
    m = spot - contract.strike if contract.is_call else contract.strike - spot
    d = 1.0 if m > 0 else (0.0 if m < 0 else 0.5)
    return d if contract.is_call else -d


_SCALAR_MAX = 8
"""Up to this many live legs, :func:`implied_greeks` calls the scalar kernels leg by leg (no
array preparation); the pricing layer tests that the scalar path equals the array path."""


def implied_greeks(
    contracts: Sequence[OptionContract],
    prices: Sequence[float],
    spot: float,
    ts: datetime,
    settlement_clock: time,
    rate: float = 0.0,
) -> list[dict[str, float]]:
    """Per contract: ``iv, delta, gamma, vega, theta`` implied by ``prices`` (per unit) at ``ts``."""
    from workbench.pricing import bs_greeks, implied_vol

    n = len(contracts)
    out = [
        {"iv": math.nan, "delta": math.nan, "gamma": math.nan, "vega": math.nan, "theta": math.nan}
        for _ in range(n)
    ]
    if n == 0 or not (math.isfinite(spot) and spot > 0):
        return out
    by_expiry: dict[date, float] = {}
    for c in contracts:
        if c.expiry not in by_expiry:
            by_expiry[c.expiry] = years_to_settlement(ts, c.expiry, settlement_clock)
    tte = np.array([by_expiry[c.expiry] for c in contracts])
    live = np.flatnonzero(tte > 0)
    for j in np.flatnonzero(tte <= 0):
        c = contracts[int(j)]
        out[int(j)].update(delta=_payoff_delta(c, spot), gamma=0.0, vega=0.0, theta=0.0)
    if live.size == 0:
        return out
    if live.size <= _SCALAR_MAX:  # an order's legs: the scalar kernels, bit-identical to arrays
        for m in live.tolist():
            c = contracts[m]
            with np.errstate(all="ignore"):
                vol = float(
                    implied_vol(
                        float(prices[m]), float(spot), c.strike, tte[m], float(rate), c.is_call
                    )
                )
            if vol == vol and vol > 0:
                g1 = bs_greeks(float(spot), c.strike, tte[m], float(rate), vol, c.is_call)
                out[m].update(
                    iv=vol,
                    delta=float(g1["delta"]),
                    gamma=float(g1["gamma"]),
                    vega=float(g1["vega"]),
                    theta=float(g1["theta"]),
                )
        return out
    price = np.array([prices[int(j)] for j in live], dtype=np.float64)
    strike = np.array([contracts[int(j)].strike for j in live])
    is_call = np.array([contracts[int(j)].is_call for j in live])
    s = np.full(live.size, float(spot))
    r = np.full(live.size, float(rate))
    with np.errstate(all="ignore"):
        sigma = np.asarray(implied_vol(price, s, strike, tte[live], r, is_call), dtype=np.float64)
    ok = np.isfinite(sigma) & (sigma > 0)
    if ok.any():
        g = bs_greeks(s[ok], strike[ok], tte[live][ok], r[ok], sigma[ok], is_call[ok])
        vals = {k: np.asarray(g[k], dtype=np.float64) for k in ("delta", "gamma", "vega", "theta")}
        for m, j in enumerate(live[ok]):
            out[int(j)].update(
                iv=float(sigma[ok][m]),
                delta=float(vals["delta"][m]),
                gamma=float(vals["gamma"][m]),
                vega=float(vals["vega"][m]),
                theta=float(vals["theta"][m]),
            )
    return out
