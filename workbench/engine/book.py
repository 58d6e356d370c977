"""The books of one strategy: open positions, closed trades, fills, cash, and their reconciliation.

Tradebook first: every fill becomes one row (see :mod:`workbench.engine.tradebook`) and updates
the positions; at every day end :meth:`Book.reconcile` rebuilds the positions from the rows and
compares them with the engine's, and checks that cash flows plus mark-to-market equal realised
plus unrealised PnL (two independent routes) to the cent. A mismatch raises
:class:`~workbench.engine.errors.ReconciliationError`.

Money conventions: ``cash`` of a fill is ``-signed_units x price - fees``; realised PnL of a
closed position is ``signed_units x (exit - entry)``; fees are charged to realised PnL on the
day they are paid; unrealised PnL is ``signed_units x (mark - entry)`` of open positions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from workbench.engine.errors import ReconciliationError
from workbench.engine.trade import Asset, Trade
from workbench.model.contracts import OptionContract
from workbench.model.enums import Side

CENT = 0.005
"""Tolerance of the money checks: half a cent (the invariants hold to the cent)."""


@dataclass(slots=True)
class FillInfo:
    """Where a fill price came from (for the tradebook row)."""

    price_ts: datetime | None
    lag: int | None
    fill_model: str
    mid: float
    spot: float
    iv: float
    delta: float


class Book:
    """Positions, fills and cash of one strategy (one day in intraday mode, the run in positional)."""

    def __init__(self, trade_prefix: str) -> None:
        self.rows: list[tuple[Any, ...]] = []
        self.open: dict[str, Trade] = {}
        self.closed: list[Trade] = []
        self.cash = 0.0
        self.realized = 0.0
        self.fees = 0.0
        self._prefix = trade_prefix
        self._seq = 0
        # reconciliation folds rows in once: positions rebuilt and cash/fees summed so far
        self._rebuilt: dict[str, tuple[str, float]] = {}
        self._rebuilt_upto = 0
        self._cash_rows = 0.0
        self._fees_rows = 0.0
        self._summed_upto = 0

    def set_prefix(self, prefix: str) -> None:
        """Trade ids are ``<prefix>-<n>``; positional runs set the day so ids say when they opened."""
        self._prefix = prefix

    # -- fills ------------------------------------------------------------------------------
    def _row(
        self,
        trade: Trade,
        *,
        day: date,
        ts: datetime,
        side: Side,
        action: str,
        price: float,
        fees: float,
        reason: str,
        info: FillInfo,
    ) -> float:
        units = trade.qty * trade.lot_size
        signed = side.sign * units
        cash = -signed * price - fees
        c = trade.contract
        self.rows.append(
            (
                trade.trade_id,
                trade.key,
                trade.cycle,
                day,
                ts,
                trade.asset.value,
                trade.underlying,
                None if c is None else c.expiry,
                None if c is None else c.strike,
                None if c is None else c.right.value,
                trade.symbol,
                side.value,
                action,
                trade.qty,
                units,
                signed,
                price,
                info.price_ts,
                info.lag,
                info.fill_model,
                info.mid,
                fees,
                cash,
                reason,
                info.spot,
                info.iv,
                info.delta,
            )
        )
        self.cash += cash
        self.fees += fees
        self.realized -= fees
        return cash

    def open_position(
        self,
        key: str,
        *,
        asset: Asset,
        underlying: str,
        contract: OptionContract | None,
        side: Side,
        qty: int,
        lot_size: float,
        cycle: int,
        day: date,
        ts: datetime,
        price: float,
        fees: float,
        reason: str,
        info: FillInfo,
    ) -> Trade:
        """Record an opening fill; ``key`` must be free (``ValueError`` naming it otherwise)."""
        if key in self.open:
            raise ValueError(f"position key {key!r} is already open ({self.open[key]!r})")
        _check_price(price, key)
        self._seq += 1
        trade = Trade(
            key=key,
            trade_id=f"{self._prefix}-{self._seq}",
            asset=asset,
            underlying=underlying,
            contract=contract,
            side=side,
            qty=qty,
            lot_size=float(lot_size),
            cycle=cycle,
            entry_day=day,
            entry_ts=ts,
            entry_price=price,
            entry_fees=fees,
            entry_reason=reason,
        )
        self._row(
            trade,
            day=day,
            ts=ts,
            side=side,
            action="open",
            price=price,
            fees=fees,
            reason=reason,
            info=info,
        )
        self.open[key] = trade
        return trade

    def close_position(
        self,
        key: str,
        *,
        day: date,
        ts: datetime,
        price: float,
        fees: float,
        reason: str,
        info: FillInfo,
        action: str = "close",
    ) -> Trade:
        """Record the closing fill (or settlement) of ``key``; the key is freed."""
        trade = self.open.get(key)
        if trade is None:
            raise KeyError(f"no open position {key!r} (open: {', '.join(self.open) or 'none'})")
        _check_price(price, key)
        self._row(
            trade,
            day=day,
            ts=ts,
            side=trade.side.opposite,
            action=action,
            price=price,
            fees=fees,
            reason=reason,
            info=info,
        )
        trade.exit_ts = ts
        trade.exit_price = price
        trade.exit_fees = fees
        trade.exit_reason = reason
        self.realized += trade.signed_units * (price - trade.entry_price)
        del self.open[key]
        self.closed.append(trade)
        return trade

    # -- valuation ----------------------------------------------------------------------------
    # The sums below spell out ``Trade.signed_units`` (the same product, in the same order):
    # they run over every open leg several times a day, and a property call per leg is most of
    # their cost in a book of thousands of legs.
    def unrealized(self, marks: dict[str, float]) -> float:
        buy = Side.BUY
        return sum(
            ((1 if t.side is buy else -1) * t.qty * t.lot_size) * (marks[k] - t.entry_price)
            for k, t in self.open.items()
        )

    def mtm(self, marks: dict[str, float]) -> float:
        buy = Side.BUY
        return sum(
            ((1 if t.side is buy else -1) * t.qty * t.lot_size) * marks[k]
            for k, t in self.open.items()
        )

    # -- reconciliation -------------------------------------------------------------------------
    def rebuilt_positions(self) -> dict[str, tuple[str, float]]:
        """Positions rebuilt from the rows alone: key -> (symbol, signed units), flat ones dropped.

        Incremental: the rows already folded in are remembered, so a day's reconciliation reads
        only that day's rows (the fold is the same as from the first row)."""
        return dict(self._fold())

    def _fold(self) -> dict[str, tuple[str, float]]:
        """:meth:`rebuilt_positions` itself (not a copy), the new rows folded in."""
        pos = self._rebuilt
        for row in self.rows[self._rebuilt_upto :]:
            key, symbol, signed = row[1], row[10], row[15]
            held = pos.get(key)
            if held is not None and held[0] != symbol:
                raise ReconciliationError(
                    f"position key {key!r} holds {held[0]} and a fill on {symbol} before it was flat"
                )
            total = (held[1] if held else 0.0) + signed
            if abs(total) < 1e-9:
                pos.pop(key, None)
            else:
                pos[key] = (symbol, total)
        self._rebuilt_upto = len(self.rows)
        return pos

    def reconcile(self, when: str, marks: dict[str, float]) -> tuple[float, float]:
        """Check positions and money against the tradebook; raise naming ``when`` on a mismatch.

        Returns the book's ``(mtm, unrealized)`` at ``marks``, which the check computed (the
        day's record reports the same two numbers)."""
        rebuilt = self._fold()
        buy = Side.BUY
        # the same test as comparing the key sets and then each key (equal sizes and every
        # engine key rebuilt alike), without building the engine's side unless they differ
        same = len(rebuilt) == len(self.open)
        if same:
            for k, t in self.open.items():
                held = rebuilt.get(k)
                if (
                    held is None
                    or held[0] != t.symbol
                    or abs(held[1] - (1 if t.side is buy else -1) * t.qty * t.lot_size) > 1e-9
                ):
                    same = False
                    break
        if not same:
            engine = {
                k: (t.symbol, (1 if t.side is buy else -1) * t.qty * t.lot_size)
                for k, t in self.open.items()
            }
            raise ReconciliationError(
                f"{when}: positions rebuilt from the tradebook {dict(rebuilt)} != engine "
                f"positions {engine}"
            )
        new = self.rows[self._summed_upto :]
        self._cash_rows = math.fsum([self._cash_rows, *(row[22] for row in new)])
        self._fees_rows = math.fsum([self._fees_rows, *(row[21] for row in new)])
        self._summed_upto = len(self.rows)
        cash_rows = self._cash_rows
        if abs(cash_rows - self.cash) > CENT:
            raise ReconciliationError(
                f"{when}: tradebook cash {cash_rows:.6f} != engine cash {self.cash:.6f}"
            )
        fees_rows = self._fees_rows
        if abs(fees_rows - self.fees) > CENT:
            raise ReconciliationError(
                f"{when}: tradebook fees {fees_rows:.6f} != engine fees {self.fees:.6f}"
            )
        mtm = self.mtm(marks)
        unrealized = self.unrealized(marks)
        equity_cash = cash_rows + mtm
        equity_pnl = self.realized + unrealized
        if abs(equity_cash - equity_pnl) > CENT:
            raise ReconciliationError(
                f"{when}: cash + mark-to-market {equity_cash:.6f} != realised + unrealised "
                f"{equity_pnl:.6f}"
            )
        return mtm, unrealized


def _check_price(price: float, key: str) -> None:
    if not (isinstance(price, float | int) and math.isfinite(price) and price >= 0):
        raise ValueError(
            f"fill price for position {key!r} must be a finite price >= 0, got {price!r}"
        )
