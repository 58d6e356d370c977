"""Capital base -> daily returns, and the wealth index.

The capital base and the daily returns are defined once, with the headline metrics, in
:mod:`workbench.engine.metrics` (``resolve_capital_base``, ``base_amount``, ``daily_returns``);
they are re-exported here for the analytics layer. The wealth index is ``cumprod(1 + r)``
starting from 1 before the first day.
"""

from __future__ import annotations

import pandas as pd

from workbench.engine.metrics import (
    CapitalBaseKind,
    base_amount,
    daily_returns,
    resolve_capital_base,
)

__all__ = [
    "CapitalBaseKind",
    "base_amount",
    "daily_returns",
    "resolve_capital_base",
    "wealth_index",
]


def wealth_index(returns: pd.Series) -> pd.Series:
    """``cumprod(1 + r)``; NaN returns (after ruin) hold the index at its last value."""
    return (1.0 + returns.fillna(0.0)).cumprod().rename("wealth")
