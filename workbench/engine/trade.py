"""Positions and legs as the strategy sees them.

A :class:`Trade` is one keyed position: one contract (an option, or the underlying after a
physical settlement), opened by one fill and closed by one fill or a settlement. The engine
owns every field; a strategy reads them (``entry_price``, ``exit_reason``...) and never writes
them (the day-end reconciliation would report a mismatch against the tradebook).

Units: ``qty`` is contracts (> 0); ``units = qty * lot_size`` is units of underlying;
``signed_units`` is ``+units`` for a long and ``-units`` for a short; prices are per unit of
underlying in the quote currency; money amounts (``pnl``, fees) are ``units x price``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from workbench.model.contracts import OptionContract
from workbench.model.enums import Side


class StrategyState(StrEnum):
    """Lifecycle owned by the engine: IDLE -> ACTIVE (a fill) -> IDLE (exit, cycles left) or DONE."""

    IDLE = "IDLE"
    ACTIVE = "ACTIVE"
    DONE = "DONE"


class Asset(StrEnum):
    """What a tradebook row trades: an ``option`` or the ``underlying`` (physical settlement)."""

    OPTION = "option"
    UNDERLYING = "underlying"


@dataclass(slots=True, eq=False)
class Trade:
    """One keyed position (open while ``exit_ts is None``)."""

    key: str
    trade_id: str
    asset: Asset
    underlying: str
    contract: OptionContract | None
    side: Side
    qty: int
    lot_size: float
    cycle: int
    entry_day: date
    entry_ts: datetime
    entry_price: float
    entry_fees: float
    entry_reason: str
    exit_ts: datetime | None = None
    exit_price: float | None = None
    exit_fees: float = 0.0
    exit_reason: str | None = None
    #: the display symbol, formatted once per contract object (the books read it daily)
    _symbol: tuple[OptionContract | None, str] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @property
    def units(self) -> float:
        """Units of underlying (``qty x lot_size``)."""
        return self.qty * self.lot_size

    @property
    def signed_units(self) -> float:
        """``+units`` long, ``-units`` short."""
        return self.side.sign * self.qty * self.lot_size

    @property
    def is_open(self) -> bool:
        return self.exit_ts is None

    @property
    def symbol(self) -> str:
        cached = self._symbol
        if cached is not None and cached[0] is self.contract:
            return cached[1]
        text = self.contract.symbol if self.contract is not None else self.underlying
        self._symbol = (self.contract, text)
        return text

    @property
    def entry_value(self) -> float:
        """Premium paid (> 0) or received (< 0) at entry, money, before fees."""
        return self.signed_units * self.entry_price

    def pnl(self, mark: float | None = None) -> float:
        """Money PnL net of fees: realised if closed, else against ``mark`` (per unit)."""
        price = self.exit_price if self.exit_price is not None else mark
        if price is None:
            raise ValueError(f"trade {self.key!r} is open: pnl needs a mark price")
        return self.signed_units * (price - self.entry_price) - self.entry_fees - self.exit_fees

    def __repr__(self) -> str:
        state = "open" if self.is_open else f"closed@{self.exit_price:g} ({self.exit_reason})"
        return (
            f"Trade({self.key!r}, {self.side.value} {self.qty} {self.symbol} @ {self.entry_price:g}, "
            f"{state})"
        )
