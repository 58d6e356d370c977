"""Seed 003's book: put and call credit spreads on every underlying of the run, ranked together.

``workbench.strategies.credit_spread_book:CreditSpreadBook`` (positional mode), per entry day
(the first tick at or after ``entry_time``):

1. **scan**: for every underlying of the run (``bar.underlyings``; one in a single-underlying
   run) and every listed expiry whose DTE (calendar days) is inside ``dte_window`` and above
   ``dte_exit``, :func:`~workbench.strategies.scanner.scan_credit_spreads` finds bull put spreads
   (``put_scan``) and bear call spreads (``call_scan``; either may be ``None`` to leave that
   side out) with seed 003's filters and score, including the IV-percentile term: each
   underlying's IV percentile today over the ``iv_window`` sessions before it
   (``bar.iv_percentile(window, underlying=...)``, percent; none with fewer than
   ``iv_min_days`` sessions of history: no term);
2. **rank**: the best candidate of each (underlying, expiry, right) -- the scanner's deterministic
   order -- are ranked together across the whole universe by the scanner's ranking key (score
   first), ties broken by the underlying's place in the run;
3. **open**, best first: each candidate is its own position, one all-or-nothing order keyed
   ``"<entry day>/<underlying>/<expiry>/<put|call>"`` (legs ``.../short`` and ``.../long``; the
   entry day keeps a later position on the same spread a position of its own in the trade log);
   a position on the same underlying, expiry and right as one still open is never opened (so
   at most one per such triple, whatever the constraints). At most ``max_entries_per_day``
   open per day (seed 003's loop: "select the best candidate"; ``None``: as many as the run's constraints
   allow). Size: ``sizing`` (:mod:`workbench.engine.sizing`; seed 003: ``rule = "risk"``,
   ``risk_pct = 0.02``, the position's max loss at most 2 % of equity now) in units of ``qty``
   spreads; without it, ``qty`` spreads.

**Entry filters** (:mod:`workbench.strategies.filters`, all off by default): a VIX band
(``vix_min``/``vix_max``, the previous session's close) gates the whole book for the day;
``iv_percentile_min``/``iv_percentile_max`` and ``iv_rank_min`` gate each underlying on its own
IV figures (an underlying without one is skipped); each refusal is recorded with its reason
(``refusals``, ``days.csv``), once a day.

Limits are **not** this strategy's: max open positions, risk per trade, heat, correlation and
margin are the run's portfolio constraints, enforced by the engine before every opening fill
and counted as refusals. When a book-wide constraint (``max_open_positions``,
``max_portfolio_heat``, ``max_margin_utilisation``) refuses an order the day's remaining
candidates are not tried (the book is full today); a per-position refusal (risk per trade,
correlation, per underlying, per expiry, or no live quote) moves on to the next candidate.

**Exits**, per position, every tick, in seed 003's order (6.4.3): ``profit_target`` (its cost
to close at the marks <= its opening credit x (1 - ``profit_target_pct``)), ``stop_loss`` (cost
>= credit x (1 + ``stop_loss_pct``)), ``dte_exit`` (its expiry is ``dte_exit`` calendar days
away or less); otherwise the engine settles it at expiry (physical or cash as the data says).
The premium rules compare the legs' prices before fees (:func:`workbench.engine.exits.
opening_credit` / :func:`~workbench.engine.exits.cost_to_close`) and decide nothing while a leg
has no mark; a refused close is retried at the next tick.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from typing import TYPE_CHECKING, Any

from pydantic import Field, model_validator

from workbench.engine.config import StrategyConfig
from workbench.engine.exits import cost_to_close, opening_credit
from workbench.engine.selection import LiquidityFilter
from workbench.engine.sizing import Sizing
from workbench.engine.strategy import Strategy
from workbench.model.enums import Right
from workbench.model.trades import MAX_LEG_QTY
from workbench.strategies.filters import EntryFilterConfig, EntryFilters, entry_refusal
from workbench.strategies.scanner import SpreadCandidate, SpreadScan, rank_key, scan_credit_spreads

if TYPE_CHECKING:
    from workbench.engine.context import BarContext
    from workbench.engine.trade import Trade

__all__ = ["BookCandidate", "CreditSpreadBook", "position_exit"]

_FILTERS = LiquidityFilter(min_oi=100, min_volume=10, max_spread_pct=0.08)
_PUTS = SpreadScan(right=Right.PUT, short_delta=(0.10, 0.15), width_min=2.0, width_max=10.0,
                   min_credit_pct=0.25, filters=_FILTERS)  # fmt: skip
_CALLS = _PUTS.model_copy(update={"right": Right.CALL})

#: constraints that concern the whole book: once one refuses, no other candidate fits today
BOOK_WIDE = frozenset({"max_open_positions", "max_portfolio_heat", "max_margin_utilisation"})
SIDE_NAME = {Right.PUT: "put", Right.CALL: "call"}
_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class BookCandidate:
    """A scanner candidate on one underlying of the run."""

    underlying: str
    candidate: SpreadCandidate

    @property
    def key(self) -> str:
        """What at most one open position may have: ``"<underlying>/<expiry>/<put|call>"``."""
        c = self.candidate
        return f"{self.underlying}/{c.expiry.isoformat()}/{SIDE_NAME[c.right]}"


def position_exit(
    credit: float,
    cost: float,
    dte: int,
    profit_target_pct: float | None,
    stop_loss_pct: float | None,
    dte_exit: int | None,
) -> str | None:
    """Seed 003's exit for one credit position (money, before fees): its opening ``credit``
    (> 0), its ``cost`` to close now (NaN: no mark, the premium rules decide nothing) and its
    ``dte``; the first rule that fires in the order profit target, stop, DTE."""
    priced = math.isfinite(credit) and credit > 0 and math.isfinite(cost)
    if priced and profit_target_pct is not None:
        hit = cost <= credit * (1.0 - profit_target_pct) + _TOLERANCE
        if hit:
            return "profit_target"
    if priced and stop_loss_pct is not None:
        hit = cost >= credit * (1.0 + stop_loss_pct) - _TOLERANCE
        if hit:
            return "stop_loss"
    if dte_exit is not None and dte <= dte_exit:
        return "dte_exit"
    return None


class CreditSpreadBook(EntryFilters, Strategy):
    """Seed 003's credit spread book over the run's underlyings; see the module docstring."""

    name = "credit-spread-book"
    version = "1"
    mode = "positional"

    class Config(EntryFilterConfig):
        dte_window: tuple[int, int] = Field(default=(30, 45), description="inclusive DTE window")
        put_scan: SpreadScan | None = Field(
            default=_PUTS, description="bull put spread scan (right P); None: no put spreads"
        )
        call_scan: SpreadScan | None = Field(
            default=_CALLS, description="bear call spread scan (right C); None: no call spreads"
        )
        entry_time: time = Field(default=time(0, 0), description="earliest entry time of day")
        qty: int = Field(default=1, ge=1, le=MAX_LEG_QTY, description="spreads per unit")
        sizing: Sizing | None = Field(
            default=None,
            description="position sizing from the account (workbench.engine.sizing); one unit "
            "is qty spreads; None: qty spreads",
        )
        max_entries_per_day: int | None = Field(
            default=None, ge=1, description="positions opened per day at most (None: no cap)"
        )
        profit_target_pct: float | None = Field(default=0.50, gt=0, le=1)
        stop_loss_pct: float | None = Field(default=1.25, gt=0)
        dte_exit: int | None = Field(default=21, ge=0)

        @model_validator(mode="after")
        def _check(self) -> CreditSpreadBook.Config:
            lo, hi = self.dte_window
            if not 0 <= lo <= hi:
                raise ValueError(f"dte_window: expected 0 <= min <= max, got {self.dte_window}")
            if self.put_scan is None and self.call_scan is None:
                raise ValueError("put_scan, call_scan: give at least one (both are None)")
            if self.put_scan is not None and self.put_scan.right is not Right.PUT:
                raise ValueError("put_scan: right must be 'P'")
            if self.call_scan is not None and self.call_scan.right is not Right.CALL:
                raise ValueError("call_scan: right must be 'C'")
            return self

    def __init__(self, config: StrategyConfig | Mapping[str, Any] | None = None) -> None:
        super().__init__(config)
        self._entered: date | None = None
        #: open positions: underlying/expiry/right -> (leg keys, expiry)
        self._open: dict[str, tuple[tuple[str, ...], date]] = {}
        self._iv_day: date | None = None
        #: the config with the per-underlying IV filters off: the book-wide VIX band alone
        self._vix_only = self.config.model_copy(
            update={"iv_percentile_min": None, "iv_percentile_max": None, "iv_rank_min": None}
        )
        self._ivp: dict[str, float | None] = {}
        #: the candidates opened, in order (for notebooks and tests)
        self.opened: list[BookCandidate] = []

    # -- IV percentile and filters ---------------------------------------------------------
    def _uses_iv(self) -> bool:
        c = self.config
        weights = [s.weights.iv_percentile for s in (c.put_scan, c.call_scan) if s is not None]
        bounds = (c.iv_percentile_min, c.iv_percentile_max)
        return any(b is not None for b in bounds) or any(w > 0 for w in weights)

    def iv_percentiles(self, bar: BarContext) -> dict[str, float | None]:
        """Each underlying's IV percentile today (percent, from the ``iv_window`` sessions
        before today; ``None``: fewer than ``iv_min_days`` of them, or no ATM IV), computed
        once per day."""
        if self._iv_day == bar.date:
            return self._ivp
        self._iv_day = bar.date
        c = self.config
        out: dict[str, float | None] = {}
        for u in bar.underlyings:
            value = bar.iv_percentile(c.iv_window, min_days=c.iv_min_days, underlying=u)
            out[u] = float(value) if math.isfinite(value) else None
        self._ivp = out
        return out

    def iv_refusal(self, bar: BarContext, underlying: str, pct: float | None) -> str | None:
        """Why ``underlying`` is not scanned today by the IV filters (``None``: it is)."""
        c = self.config
        lo, hi = c.iv_percentile_min, c.iv_percentile_max
        if lo is not None or hi is not None:
            if pct is None:
                return (
                    f"entry filter: {underlying} IV percentile unknown (fewer than "
                    f"{c.iv_min_days} sessions of ATM IV history in the last {c.iv_window}, or "
                    "no ATM IV now)"
                )
            if lo is not None and pct < lo:
                return f"entry filter: {underlying} IV percentile {pct:.4g} below {lo:g}"
            if hi is not None and pct > hi:
                return f"entry filter: {underlying} IV percentile {pct:.4g} above {hi:g}"
        if c.iv_rank_min is not None:
            rank = bar.iv_rank(c.iv_window, min_days=c.iv_min_days, underlying=underlying)
            if not math.isfinite(rank):
                return f"entry filter: {underlying} IV rank unknown"
            if rank < c.iv_rank_min:
                return f"entry filter: {underlying} IV rank {rank:.4g} below {c.iv_rank_min:g}"
        return None

    # -- entries -------------------------------------------------------------------------------
    def candidates(self, bar: BarContext) -> list[BookCandidate]:
        """Today's best candidate per (underlying, expiry, right), best first across the run."""
        c = self.config
        ivp = self.iv_percentiles(bar) if self._uses_iv() else {}
        lo, hi = c.dte_window
        floor = -1 if c.dte_exit is None else c.dte_exit
        scans = [s for s in (c.put_scan, c.call_scan) if s is not None]
        found: list[tuple[tuple[Any, ...], int, BookCandidate]] = []
        for order, u in enumerate(bar.underlyings):
            pct = ivp.get(u)
            refused = self.iv_refusal(bar, u, pct)
            if refused is not None:
                self.record_refusal(refused)
                continue
            for expiry in bar.expiries_of(u):
                dte = (expiry - bar.date).days
                if not (lo <= dte <= hi and dte > floor):
                    continue
                chain = bar.chain(expiry, underlying=u)
                for scan in scans:
                    ranked = scan_credit_spreads(chain, scan, iv_percentile=pct)
                    if ranked:
                        best = BookCandidate(u, ranked[0])
                        found.append((rank_key(best.candidate), order, best))
        found.sort(key=lambda item: (item[0], item[1]))
        return [item[2] for item in found]

    def on_bar(self, bar: BarContext) -> None:
        c = self.config
        if self._entered == bar.date or bar.time < c.entry_time or self.done:
            return
        self._entered = bar.date
        vix = entry_refusal(self._vix_only, bar)
        if vix is not None:
            self.record_refusal(vix[1])
            return
        opened = 0
        for found in self.candidates(bar):
            if c.max_entries_per_day is not None and opened >= c.max_entries_per_day:
                break
            key = found.key
            if key in self._open:
                continue
            cand = found.candidate
            right = cand.right.value
            position = f"{bar.date.isoformat()}/{key}"
            u = found.underlying
            order = {
                f"{position}/short": self.add(
                    cand.short_strike, right, "SELL", c.qty, cand.expiry, underlying=u
                ),
                f"{position}/long": self.add(
                    cand.long_strike, right, "BUY", c.qty, cand.expiry, underlying=u
                ),
            }
            before = self.last_refusal
            filled = self.open_order(order)
            if filled is None:
                refusal = self.last_refusal  # a new one: this order's (sized to 0: none)
                if (
                    refusal is not before
                    and refusal is not None
                    and refusal.constraint in BOOK_WIDE
                ):
                    break
                continue
            self._open[key] = (tuple(order), cand.expiry)
            self.opened.append(found)
            opened += 1

    def open_order(self, order: Mapping[str, Any]) -> dict[str, Trade] | None:
        """Open one position (all legs or none), sized by ``sizing``; ``None`` when refused or
        sized to 0."""
        return self.try_fill_sized(order)

    # -- exits ---------------------------------------------------------------------------------
    def adjust(self, bar: BarContext) -> None:
        if not self._open:
            return
        c = self.config
        held = self._engine.book.open
        for key, (legs, expiry) in list(self._open.items()):
            live = [held[k] for k in legs if k in held]
            if not live:  # settled at expiry
                del self._open[key]
                continue
            reason = position_exit(
                opening_credit(live),
                cost_to_close(bar, live),
                (expiry - bar.date).days,
                c.profit_target_pct,
                c.stop_loss_pct,
                c.dte_exit,
            )
            if reason is not None:
                keys = [k for k in legs if k in held]
                if self._engine.close_keys(keys, reason) is not None:
                    del self._open[key]

    def exit_check(self, bar: BarContext) -> str | None:
        return None
