"""The shipped credit-spread rules run on every underlying of a universe, in one book.

``workbench.strategies.universe:PutCreditSpreadEach`` is
:class:`~workbench.strategies.put_credit_spread.PutCreditSpread` (seed 003's scanner, exits and
parameters) run independently on each underlying of ``underlyings`` through
:class:`~workbench.engine.per_underlying.PerUnderlying`: one spread open per underlying at a
time, position keys ``SPY.short`` / ``SPY.long``, one cash account and equity path for the
book. ``WeeklyIronCondorEach`` does the same for the weekly iron condor::

    run_backtest("workbench.strategies.universe:PutCreditSpreadEach", data="data/etf",
                 params={"underlyings": ["SPY", "QQQ", "IWM"]})

Any other single-underlying strategy runs per underlying the same way: subclass
``PerUnderlying`` with ``rules`` and ``Config`` set to it.
"""

from __future__ import annotations

from workbench.engine.per_underlying import PerUnderlying
from workbench.strategies.iron_condor import WeeklyIronCondor
from workbench.strategies.put_credit_spread import PutCreditSpread

__all__ = ["PutCreditSpreadEach", "WeeklyIronCondorEach"]


class PutCreditSpreadEach(PerUnderlying):
    """:class:`PutCreditSpread` on each underlying of the run (see the module docstring)."""

    rules = PutCreditSpread
    Config = PutCreditSpread.Config
    name = "put-credit-spread-each"
    version = "1"
    mode = "positional"


class WeeklyIronCondorEach(PerUnderlying):
    """:class:`WeeklyIronCondor` on each underlying of the run (see the module docstring)."""

    rules = WeeklyIronCondor
    Config = WeeklyIronCondor.Config
    name = "weekly-iron-condor-each"
    version = "1"
    mode = "positional"
