"""The account as of now: what a strategy may size from (``bar.account``, ``day.account``,
``Strategy.account``).

Money is in the run's currency. The account starts with the run's declared ``capital``
(``run_backtest(..., capital=...)``, ``RunSpec.capital``, ``workbench run --capital``; the
research layer defaults it by currency, :data:`workbench.research.runs.DEFAULT_CAPITAL`) and
holds, at any moment:

``cash``
    ``capital`` plus the cash of every fill so far (premium received minus premium paid,
    net of fees: the tradebook's ``cash`` column summed).
``equity``
    ``cash`` plus the open positions valued at their marks now (the engine's mark rule), i.e.
    ``capital + realised + unrealised`` net of every fee paid so far -- the daily path's
    ``equity`` plus ``capital`` at a close.
``margin_in_use``
    The run's margin model's requirement for the open positions now (the daily path's
    ``margin`` at a close; 0 when flat). A run without a margin model has no margin figure:
    reading it raises :class:`AccountError` naming ``margin``.
``buying_power``
    ``equity - margin_in_use``: what the account could still commit as margin. Negative when
    the requirement exceeds equity (a margin call).
``margin_utilisation``
    ``margin_in_use / equity`` (a fraction).

"Now" is the engine's clock (issue 11): inside a tick's hooks the marks and margin of that
tick; before the day's first tick (``on_day_start``, ``clock``) the previous session's close --
the book as it was after yesterday's last tick, valued at yesterday's closing marks, with
yesterday's closing margin -- never a bar of the new day. In ``on_day_end`` it is the day's
last tick.

Intraday runs simulate each day on its own (days run in parallel, a fresh strategy per day),
so day D cannot know how day D-1 ended: **an intraday account starts every day at the declared
capital**, and its equity is that capital plus the day's own fills and marks. Sizing from
equity in an intraday run is therefore fixed-fractional on the declared capital (it never
compounds across days); Kelly sizing from the strategy's own trades is refused in intraday runs
(a day cannot see the trades of earlier days) -- give the win rate and payoff instead. A run
that wants equity to compound across days runs in positional mode.

Without a declared capital there is no account: reading ``equity``, ``cash``, ``buying_power``
or sizing from them raises :class:`AccountError` naming ``capital``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from workbench.engine.errors import ConfigError

if TYPE_CHECKING:
    from workbench.engine.simulator import Simulator

__all__ = ["NO_CAPITAL", "Account", "AccountError"]

NO_CAPITAL = (
    "the run declares no capital, so there is no account equity: give capital "
    "(run_backtest(..., capital=100000), RunSpec(capital=...), workbench run --capital)"
)


class AccountError(ConfigError):
    """An account figure the run cannot give (no ``capital`` declared, no ``margin`` model)."""


class Account:
    """A read-only view of the account as of the engine's "now" (see the module docstring).

    Created by the engine; every property is computed when read, from the books and the marks
    of the current tick (or the previous close before the first tick).
    """

    __slots__ = ("__sim",)

    def __init__(self, sim: Simulator) -> None:
        self.__sim = sim

    @property
    def capital(self) -> float:
        """The declared starting capital (money); :class:`AccountError` naming ``capital``
        when the run has none."""
        sim = self.__sim
        capital = sim.costs.capital
        if capital is None:
            raise AccountError(NO_CAPITAL)
        sim.account_used = True  # the run's result may now depend on it (its run id does)
        return float(capital)

    @property
    def has_capital(self) -> bool:
        """Whether the run declared a capital (so that equity and sizing from it exist)."""
        return self.__sim.costs.capital is not None

    @property
    def cash(self) -> float:
        """``capital`` plus the cash of every fill so far (net of fees)."""
        return self.capital + self.__sim.book.cash

    @property
    def realized(self) -> float:
        """PnL realised so far, net of every fee paid (money; 0 at the start)."""
        return float(self.__sim.book.realized)

    @property
    def unrealized(self) -> float:
        """Open positions' marks now minus their entry prices (money)."""
        sim = self.__sim
        marks = sim.account_marks()
        return float(sim.book.unrealized(marks))

    @property
    def market_value(self) -> float:
        """Open positions valued at their marks now (money; < 0 for a net short book)."""
        return float(self.__sim.market_value())

    @property
    def equity(self) -> float:
        """``cash + market_value`` = ``capital + realised + unrealised`` (money)."""
        return self.cash + self.market_value

    @property
    def margin_in_use(self) -> float:
        """The margin model's requirement for the open positions now (money; 0 when flat;
        NaN when the model cannot price the book, with the day's warning)."""
        sim = self.__sim
        if sim.costs.margin is None:
            raise AccountError(
                "account.margin_in_use needs a margin model: run with margin= "
                "(e.g. 'defined-risk', 'reg-t', 'span'; workbench run --margin)"
            )
        return float(sim.account_margin())

    @property
    def buying_power(self) -> float:
        """``equity - margin_in_use`` (money)."""
        return self.equity - self.margin_in_use

    @property
    def margin_utilisation(self) -> float:
        """``margin_in_use / equity`` (fraction; ``inf`` when equity is not positive)."""
        equity = self.equity
        margin = self.margin_in_use
        if not equity > 0:
            return math.inf if margin > 0 else 0.0
        return margin / equity

    def __repr__(self) -> str:
        sim = self.__sim
        if sim.costs.capital is None:
            return "Account(no capital declared)"
        return f"Account(equity={self.equity:,.2f}, cash={self.cash:,.2f})"
