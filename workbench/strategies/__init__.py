"""Example strategies, each a ``Config`` + ``Strategy`` pair in one module, and their helpers.

Refer to a strategy as ``"module:ClassName"`` (what ``run_backtest``, the CLI and the templates
in ``templates/strategies`` take):

``workbench.strategies.short_straddle:IntradayShortStraddle``
    intraday ATM (or rule-selected) short straddle; combined or per-leg stop, target, time exit,
    re-entries (``max_cycles``).
``workbench.strategies.iron_condor:WeeklyIronCondor``
    positional weekly iron condor: shorts at a target delta, wings at a width or a delta.
``workbench.strategies.put_credit_spread:PutCreditSpread``
    positional 30-45 DTE bull put spread found by the seed 003 scanner; profit target, stop,
    DTE exit.
``workbench.strategies.bear_call_spread:BearCallSpread``
    its mirror: positional 30-45 DTE bear call spread (short call by delta or by offset from the
    spot), the scanner's IV-percentile score term and ``iv_percentile_min`` filter, same exits.
``workbench.strategies.protective_put:ProtectivePut``
    positional protective put or collar (seed 002), rolled n trading days before expiry.
``workbench.strategies.universe:PutCreditSpreadEach`` (and ``WeeklyIronCondorEach``)
    the same rules run on each underlying of ``underlyings`` in one book
    (:mod:`workbench.engine.per_underlying`).

Helpers: :mod:`workbench.strategies.scanner` (credit-spread scanner and scoring; IV percentile
from :mod:`workbench.engine.ivstats`); exits are
the engine's (:mod:`workbench.engine.exits`, ``credit_exits`` for seed 003's). Nothing is
imported here, so importing one strategy does not import the others.
"""
