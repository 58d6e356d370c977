"""Greeks in trader units, for what people read.

The API keeps QuantLib's units (vega per 1.00 of volatility, theta per year, delta in units of the
underlying: :mod:`workbench.pricing`); reports -- the tearsheet, the daily Greeks chart, the
notebooks' tables -- show what a trader quotes:

* **delta** in units of the underlying and in **lots** (units / the contract's lot size on that
  day, from the instrument registry);
* **gamma** in units of the underlying per 1 point of the underlying;
* **vega** in money per **1 volatility point** (vega / 100);
* **theta** in money per **calendar day** (theta / 365: the pricing clock is ACT/365).

Every converted column carries its unit in :data:`LABELS`.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

DAYS_PER_YEAR = 365.0
"""The pricing clock's year (ACT/365): theta per year / 365 = theta per calendar day."""

VOL_POINTS = 100.0
"""Volatility points in 1.00 of volatility: vega per 1.00 / 100 = vega per vol point."""

LABELS: dict[str, str] = {
    "delta": "delta (underlying units)",
    "delta_lots": "delta (lots)",
    "gamma": "gamma (units per 1 point)",
    "vega_per_point": "vega (money per vol point)",
    "theta_per_day": "theta (money per day)",
    "margin": "margin (money)",
}


def lot_sizes(underlying: str | None, days: pd.Index) -> np.ndarray | None:
    """The lot size in force on each day (``None`` when the registry does not know the
    underlying)."""
    if not underlying:
        return None
    try:
        from workbench.model.instruments import get_instrument

        spec = get_instrument(underlying)
        sizes = [spec.lot_size(_as_date(d)) for d in days]
    except (KeyError, ValueError, LookupError):
        return None
    return np.asarray(sizes, dtype=float)


def trader_greeks(greeks: pd.DataFrame, underlying: str | None = None) -> pd.DataFrame:
    """``greeks`` (columns ``delta, gamma, vega, theta[, margin]`` in QuantLib units, indexed by
    day) in trader units: ``delta``, ``delta_lots`` (when the lot size is known), ``gamma``,
    ``vega_per_point``, ``theta_per_day``, ``margin``."""
    out = pd.DataFrame(index=greeks.index)
    if "delta" in greeks:
        out["delta"] = greeks["delta"].astype(float)
        sizes = lot_sizes(underlying, greeks.index)
        if sizes is not None:
            out["delta_lots"] = out["delta"].to_numpy() / sizes
    if "gamma" in greeks:
        out["gamma"] = greeks["gamma"].astype(float)
    if "vega" in greeks:
        out["vega_per_point"] = greeks["vega"].astype(float) / VOL_POINTS
    if "theta" in greeks:
        out["theta_per_day"] = greeks["theta"].astype(float) / DAYS_PER_YEAR
    if "margin" in greeks:
        out["margin"] = greeks["margin"].astype(float)
    return out


def chain_for_display(chain: pd.DataFrame) -> pd.DataFrame:
    """A chain table (per-unit Greeks in QuantLib units) with ``vega`` per vol point and
    ``theta`` per calendar day, the columns renamed to say so."""
    shown = chain.copy()
    if "vega" in shown:
        shown["vega"] = shown["vega"].astype(float) / VOL_POINTS
    if "theta" in shown:
        shown["theta"] = shown["theta"].astype(float) / DAYS_PER_YEAR
    return shown.rename(columns={"vega": "vega/vol pt", "theta": "theta/day"})


def _as_date(value: object) -> date:
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, date):
        return value
    return pd.Timestamp(str(value)).date()
