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


GREEK_NAMES = ("iv", "delta", "gamma", "vega", "theta")


def implied_greeks(
    contracts: Sequence[OptionContract],
    prices: Sequence[float],
    spot: float,
    ts: datetime,
    settlement_clock: time,
    rate: float = 0.0,
) -> list[dict[str, float]]:
    """Per contract: ``iv, delta, gamma, vega, theta`` implied by ``prices`` (per unit) at ``ts``."""
    columns = implied_greeks_columns(contracts, prices, spot, ts, settlement_clock, rate)
    return [dict(zip(GREEK_NAMES, values, strict=True)) for values in zip(*columns.values())]


def implied_greeks_columns(
    contracts: Sequence[OptionContract],
    prices: Sequence[float],
    spot: float,
    ts: datetime,
    settlement_clock: time,
    rate: float = 0.0,
) -> dict[str, list[float]]:
    """:func:`implied_greeks` as one list per Greek (``GREEK_NAMES``), in ``contracts`` order:
    the same numbers without a dict per contract (the engine's daily book Greeks)."""
    from workbench.pricing import bs_greeks, implied_greeks_one, implied_vol

    n = len(contracts)
    nan = math.nan
    iv, delta, gamma, vega, theta = ([nan] * n for _ in GREEK_NAMES)
    out = {"iv": iv, "delta": delta, "gamma": gamma, "vega": vega, "theta": theta}
    if n == 0 or not (math.isfinite(spot) and spot > 0):
        return out
    by_expiry: dict[date, float] = {}
    tte: list[float] = []
    for c in contracts:
        t = by_expiry.get(c.expiry)
        if t is None:
            t = by_expiry[c.expiry] = years_to_settlement(ts, c.expiry, settlement_clock)
        tte.append(t)
    live = [j for j, t in enumerate(tte) if t > 0]
    for j, t in enumerate(tte):
        if t <= 0:
            delta[j] = _payoff_delta(contracts[j], spot)
            gamma[j] = vega[j] = theta[j] = 0.0
    if not live:
        return out
    if len(live) <= _SCALAR_MAX:  # an order's legs: the scalar kernels, bit-identical to arrays
        s1, r1 = float(spot), float(rate)
        for m in live:
            c = contracts[m]
            leg = implied_greeks_one(
                float(prices[m]), s1, float(c.strike), tte[m], r1, bool(c.is_call)
            )
            if leg[0] == leg[0]:
                iv[m], delta[m], gamma[m], vega[m], theta[m] = leg
        return out
    k = len(live)
    price = np.fromiter((prices[j] for j in live), dtype=np.float64, count=k)
    strike = np.fromiter((contracts[j].strike for j in live), dtype=np.float64, count=k)
    is_call = np.fromiter((contracts[j].is_call for j in live), dtype=np.bool_, count=k)
    years = np.fromiter((tte[j] for j in live), dtype=np.float64, count=k)
    s = np.full(k, float(spot))
    r = np.full(k, float(rate))
    with np.errstate(all="ignore"):
        sigma = np.asarray(implied_vol(price, s, strike, years, r, is_call), dtype=np.float64)
    ok = np.isfinite(sigma) & (sigma > 0)
    if ok.any():
        g = bs_greeks(s[ok], strike[ok], years[ok], r[ok], sigma[ok], is_call[ok])
        where = [live[j] for j in np.flatnonzero(ok).tolist()]
        for name, values in (
            ("iv", sigma[ok]),
            ("delta", g["delta"]),
            ("gamma", g["gamma"]),
            ("vega", g["vega"]),
            ("theta", g["theta"]),
        ):
            column = out[name]
            for j, v in zip(where, np.asarray(values, dtype=np.float64).tolist(), strict=True):
                column[j] = v
    return out


def book_greeks(
    contracts: Sequence[OptionContract],
    prices: Sequence[float],
    units: Sequence[float],
    spots: dict[str, float],
    ts: datetime,
    settlement_clocks: dict[str, time],
    rate: float = 0.0,
    start: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0),
) -> dict[str, float]:
    """A book's ``delta, gamma, vega, theta``: ``start`` plus, for each option leg in the order
    given, its signed ``units`` times the Greeks its price implies at ``ts``
    (:func:`implied_greeks_columns` per leg, each against its own underlying's spot and
    settlement clock), NaN skipped: the sums a loop over those columns makes, bit for bit, in
    one compiled pass (:func:`workbench.pricing.implied.implied_book_greeks`)."""
    from workbench.pricing.implied import implied_book_greeks

    n = len(contracts)
    years: dict[tuple[str, date], float] = {}

    def tte(c: OptionContract) -> float:
        key = (c.underlying, c.expiry)
        t = years.get(key)
        if t is None:
            t = years[key] = years_to_settlement(ts, c.expiry, settlement_clocks[c.underlying])
        return t

    if len(spots) == 1:
        spot = np.full(n, float(next(iter(spots.values()))))
    else:
        spot = np.fromiter((spots[c.underlying] for c in contracts), dtype=np.float64, count=n)
    d, g, v, t = implied_book_greeks(
        np.fromiter(prices, dtype=np.float64, count=n),
        spot,
        np.fromiter((c.strike for c in contracts), dtype=np.float64, count=n),
        np.fromiter(map(tte, contracts), dtype=np.float64, count=n),
        rate,
        np.fromiter((c.is_call for c in contracts), dtype=np.bool_, count=n),
        np.fromiter(units, dtype=np.float64, count=n),
        start,
    )
    return {"delta": d, "gamma": g, "vega": v, "theta": t}
