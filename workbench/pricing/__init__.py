"""Pricing: Black-Scholes-Merton and Black-76 prices, Greeks and implied volatility (Numba).

NumPy arrays in, arrays out (scalars broadcast; all-scalar calls return a NumPy float).
Units: ``T`` in years (:func:`year_fraction`, ACT/365), rates and dividend yield continuous per
year, volatility per sqrt(year); vega per 1.00 of volatility, theta per year, rho per 1.00 of
rate (QuantLib's units). Importing this package compiles nothing: kernels are compiled on first
use and cached on disk (``cache=True``).
"""

from workbench.pricing.black_scholes import (
    GREEK_NAMES,
    black76_greeks,
    black76_price,
    bs_greeks,
    bs_price,
)
from workbench.pricing.chain import enrich_chain, settlement_clock, time_to_settlement
from workbench.pricing.daycount import year_fraction, years_between
from workbench.pricing.implied import black76_implied_vol, implied_greeks_one, implied_vol

__all__ = [
    "GREEK_NAMES",
    "black76_greeks",
    "black76_implied_vol",
    "black76_price",
    "bs_greeks",
    "bs_price",
    "enrich_chain",
    "implied_greeks_one",
    "implied_vol",
    "settlement_clock",
    "time_to_settlement",
    "year_fraction",
    "years_between",
]
