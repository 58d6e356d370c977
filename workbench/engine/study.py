"""Studies: a new position on every entry day for every expiry in a DTE window (optopsy-style).

A study is a positional :class:`~workbench.engine.strategy.Strategy` whose author only says
which legs a position has; the engine's books, fills, fees, marks, settlement and
reconciliation are the usual ones. Each position is keyed ``"<entry day>/<expiry>"`` and its
legs ``"<entry day>/<expiry>/<leg name>"`` (a tradebook row's ``position_key``); positions
overlap freely (one cycle lasts while any is open). Per day, at the first tick at or after
``entry_time``:

1. **exits** (``adjust``, before entries): a position closes, all legs in one order, when its
   DTE is at most ``exit_dte`` (reason ``"dte_exit"``), or its PnL net of fees reaches
   ``profit_target_pct`` of its entry credit (``"profit_target"``) or loses
   ``stop_loss_pct`` of it (``"stop_loss"``); a refused close is retried the next tick. A
   position still open at expiry settles there (reason ``"expiry"``);
2. **entries** (``on_bar``): for every listed expiry whose DTE (calendar days) is inside
   ``dte_window`` -- and above ``exit_dte`` -- each leg's strike is chosen by its
   :class:`~workbench.engine.selection.Selection` rule on that expiry's chain (by delta, by
   premium, a strike offset...); a leg given ``from_leg`` and ``width`` sits at the chosen
   strike of that leg plus ``width`` (negative: below). The position opens only when every
   leg is found, no two legs share a contract, and the legs are on distinct strikes; the
   order is all-or-nothing, and an entry refused (no live quote for a leg) is not retried
   later that day.

``Study`` subclasses set the legs in their ``Config`` (see
:mod:`workbench.strategies.every_entry`). The per-position results (entry and exit, strikes,
DTE and delta at entry, PnL) and optopsy-style aggregates by DTE and delta buckets come from
:mod:`workbench.analytics.study`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, time, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from workbench.engine.config import StrategyConfig
from workbench.engine.selection import Selection
from workbench.engine.sizing import Sizing
from workbench.engine.strategy import Strategy
from workbench.model.enums import Right, Side
from workbench.model.trades import MAX_LEG_QTY

if TYPE_CHECKING:
    from workbench.engine.context import BarContext

__all__ = ["Study", "StudyLeg", "position_of"]

SEPARATOR = "/"


def position_of(key: str) -> str:
    """The position a leg key belongs to (``"2019-05-01/2019-05-17/short"`` ->
    ``"2019-05-01/2019-05-17"``)."""
    return key.rsplit(SEPARATOR, 1)[0]


class StudyLeg(BaseModel):
    """One leg of a study's position: ``name`` (the key suffix), ``right``, ``side``, ``qty``
    contracts, and either a ``rule`` (a :class:`Selection` on the expiry's chain) or
    ``from_leg`` + ``width`` (the strike of an earlier leg plus ``width`` price units,
    nearest listed strike)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_]+$")
    right: Right
    side: Side
    qty: int = Field(default=1, ge=1, le=MAX_LEG_QTY)
    rule: Selection | None = None
    from_leg: str | None = None
    width: float | None = None

    @model_validator(mode="after")
    def _one_way(self) -> StudyLeg:
        by_rule = self.rule is not None
        by_width = self.from_leg is not None or self.width is not None
        if by_rule == by_width:
            raise ValueError(
                f"leg {self.name!r}: give either rule, or from_leg and width (got rule="
                f"{self.rule!r}, from_leg={self.from_leg!r}, width={self.width!r})"
            )
        if by_width and (self.from_leg is None or self.width is None or self.width == 0):
            raise ValueError(f"leg {self.name!r}: from_leg needs a non-zero width and vice versa")
        return self

    def selection(self, strike: float | None = None) -> Selection:
        """The rule for this leg (a width leg: the strike ``strike + width``); the side is the
        leg's unless the rule names one."""
        if self.rule is None:
            assert strike is not None and self.width is not None
            return Selection(method="strike", value=strike + self.width, side=self.side)
        if self.rule.side is None:
            return self.rule.model_copy(update={"side": self.side})
        return self.rule


class Study(Strategy):
    """A new position per listed expiry in a DTE window each entry day; see the module doc."""

    mode = "positional"

    class Config(StrategyConfig):
        max_cycles: int = Field(default=1_000_000_000, ge=1, description="run until the data ends")
        legs: tuple[StudyLeg, ...] = Field(min_length=1)
        dte_window: tuple[int, int] = Field(default=(7, 45), description="inclusive entry DTE")
        exit_dte: int | None = Field(default=None, ge=0, description="close at this DTE or less")
        profit_target_pct: float | None = Field(default=None, gt=0)
        stop_loss_pct: float | None = Field(default=None, gt=0)
        entry_time: time = Field(default=time(0, 0), description="earliest entry time of day")
        sizing: Sizing | None = Field(
            default=None,
            description="position sizing from the account (workbench.engine.sizing); one unit "
            "is the legs at their qty; None: the legs' qty",
        )

        @model_validator(mode="after")
        def _check(self) -> Study.Config:
            lo, hi = self.dte_window
            if not 0 <= lo <= hi:
                raise ValueError(f"dte_window: expected 0 <= min <= max, got {self.dte_window}")
            names = [leg.name for leg in self.legs]
            if len(set(names)) != len(names):
                raise ValueError(f"legs: names must be distinct, got {names}")
            for j, leg in enumerate(self.legs):
                if leg.from_leg is not None and leg.from_leg not in names[:j]:
                    raise ValueError(
                        f"legs: {leg.name!r} is placed from {leg.from_leg!r}, which must be an "
                        f"earlier leg (legs: {names})"
                    )
            return self

    def __init__(self, config: StrategyConfig | Mapping[str, Any] | None = None) -> None:
        super().__init__(config)
        self._entered: date | None = None
        #: open positions: prefix -> (leg keys, entry credit in money (> 0 received))
        self._open: dict[str, tuple[tuple[str, ...], float]] = {}
        #: prefix -> first day its DTE is at most exit_dte
        self._exit_on: dict[str, date] = {}

    # -- entries ---------------------------------------------------------------------------
    def entry_expiries(self, bar: BarContext) -> list[date]:
        """Listed expiries whose DTE is inside the window (and above ``exit_dte``)."""
        c = self.config
        lo, hi = c.dte_window
        floor = -1 if c.exit_dte is None else c.exit_dte
        today = bar.date
        return [
            e for e in bar.expiries if lo <= (e - today).days <= hi and (e - today).days > floor
        ]

    def choose(self, bar: BarContext, expiry: date) -> dict[str, float] | None:
        """Each leg's strike on ``expiry`` now (``None`` when a leg finds none or two legs
        would share a strike)."""
        strikes: dict[str, float] = {}
        for leg in self.config.legs:
            base = strikes.get(leg.from_leg) if leg.from_leg is not None else None
            contract = bar.select(leg.right, expiry=expiry, rule=leg.selection(base))
            if contract is None:
                return None
            strikes[leg.name] = contract.strike
        if len(set(strikes.values())) != len(strikes):
            return None
        return strikes

    def choose_each(
        self, bar: BarContext, expiries: Sequence[date]
    ) -> list[dict[str, float] | None]:
        """:meth:`choose` on each of ``expiries``, leg by leg over all of them at once
        (:meth:`BarContext.select_each`: one pass over the day's chain per leg); the same
        strikes, and the same :attr:`BarContext.last_selection_reason` after it, as
        :meth:`choose` expiry by expiry."""
        chosen: list[dict[str, float] | None] = [{} for _ in expiries]
        last = len(expiries) - 1
        # the last expiry is the last of every pass it is in, so a pass leaves its reason; when
        # a leg finds nothing there and later passes run, that leg is asked again for it alone
        dropped: tuple[int, dict[str, float]] | None = None
        passes = 0
        for j, leg in enumerate(self.config.legs):
            alive = [k for k, strikes in enumerate(chosen) if strikes is not None]
            if not alive:
                break
            passes += 1
            at = [expiries[k] for k in alive]
            if leg.from_leg is None:
                picked = bar.select_each(leg.right, at, rule=leg.selection())
            else:  # each expiry's wing rule, built (and refused) as choose builds it
                rules = [leg.selection(chosen[k][leg.from_leg]) for k in alive]  # type: ignore[index]
                values = [float(rule.value) for rule in rules]  # type: ignore[arg-type]
                picked = bar.select_each(leg.right, at, rule=rules[0], values=values)
            for k, contract in zip(alive, picked, strict=True):
                strikes = chosen[k]
                assert strikes is not None
                if contract is None:
                    if k == last:
                        dropped = (j, strikes)
                    chosen[k] = None
                else:
                    strikes[leg.name] = contract.strike
        if dropped is not None and dropped[0] < passes - 1:
            leg = self.config.legs[dropped[0]]
            base = dropped[1].get(leg.from_leg) if leg.from_leg is not None else None
            bar.select(leg.right, expiry=expiries[last], rule=leg.selection(base))
        return [
            None if strikes is None or len(set(strikes.values())) != len(strikes) else strikes
            for strikes in chosen
        ]

    def on_bar(self, bar: BarContext) -> None:
        c = self.config
        if self._entered == bar.date or bar.time < c.entry_time or self.done:
            return
        self._entered = bar.date
        day = bar.date.isoformat()
        wanted = [
            (expiry, f"{day}{SEPARATOR}{expiry.isoformat()}") for expiry in self.entry_expiries(bar)
        ]
        if type(self).choose is not Study.choose:  # a subclass's own choice: as it always was
            for expiry, prefix in wanted:
                if prefix not in self._open:
                    self._enter(expiry, prefix, self.choose(bar, expiry))
            return
        # every expiry's legs in one pass a leg (the base choice reads the market only)
        todo = [(expiry, prefix) for expiry, prefix in wanted if prefix not in self._open]
        choices = self.choose_each(bar, [expiry for expiry, _ in todo])
        for (expiry, prefix), strikes in zip(todo, choices, strict=True):
            if prefix not in self._open:  # an expiry listed twice enters once
                self._enter(expiry, prefix, strikes)

    def _enter(self, expiry: date, prefix: str, strikes: dict[str, float] | None) -> None:
        """Open position ``prefix`` on ``expiry`` at ``strikes`` (all legs or none)."""
        c = self.config
        if strikes is None:
            return
        order = {
            f"{prefix}{SEPARATOR}{leg.name}": self.add(
                strikes[leg.name], leg.right, leg.side, leg.qty, expiry
            )
            for leg in c.legs
        }
        filled = self.try_fill_sized(order)
        if filled is None:
            return
        credit = sum(-t.signed_units * t.entry_price for t in filled.values())
        self._open[prefix] = (tuple(order), credit)
        if c.exit_dte is not None:
            self._exit_on[prefix] = expiry - timedelta(days=c.exit_dte)

    # -- exits -----------------------------------------------------------------------------
    def exit_reason(
        self, bar: BarContext, prefix: str, keys: Sequence[str], credit: float
    ) -> str | None:
        """Why position ``prefix`` should close now (``None`` to hold): DTE, target, stop."""
        c = self.config
        exit_on = self._exit_on.get(prefix)
        if exit_on is not None and bar.date >= exit_on:
            return "dte_exit"
        if c.profit_target_pct is None and c.stop_loss_pct is None:
            return None
        pnl = self.position_pnl(bar, keys)
        if c.profit_target_pct is not None and pnl >= c.profit_target_pct * abs(credit):
            return "profit_target"
        if c.stop_loss_pct is not None and pnl <= -c.stop_loss_pct * abs(credit):
            return "stop_loss"
        return None

    def position_pnl(self, bar: BarContext, keys: Sequence[str]) -> float:
        """PnL of one position now, money, net of its fees so far, open legs at the mark."""
        positions = self._positions_view()
        total = 0.0
        for key in keys:
            trade = positions.get(key)
            if trade is None:
                continue
            mark, _ = bar.mark(trade)
            price = trade.entry_price if mark != mark else mark
            total += trade.signed_units * (price - trade.entry_price) - trade.entry_fees
        return total

    def _positions_view(self) -> Mapping[str, Any]:
        return self._engine.book.open

    def adjust(self, bar: BarContext) -> None:
        if not self._open:
            return
        open_now = self._positions_view()
        for prefix, (keys, credit) in list(self._open.items()):
            live = [k for k in keys if k in open_now]
            if not live:  # settled at expiry
                del self._open[prefix]
                self._exit_on.pop(prefix, None)
                continue
            reason = self.exit_reason(bar, prefix, live, credit)
            if reason is not None and self._engine.close_keys(live, reason) is not None:
                del self._open[prefix]
                self._exit_on.pop(prefix, None)

    def exit_check(self, bar: BarContext) -> str | None:
        return None
