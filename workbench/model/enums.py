"""Enumerations shared by every layer: option right, order side, settlement style, expiry kind."""

from __future__ import annotations

from enum import StrEnum


class Right(StrEnum):
    """Option right. Stored as ``"C"`` / ``"P"`` in every dataset and tradebook."""

    CALL = "C"
    PUT = "P"

    @classmethod
    def parse(cls, value: object) -> Right:
        """Accept ``C``/``P``, ``CE``/``PE`` (NSE), ``call``/``put`` in any case."""
        if isinstance(value, Right):
            return value
        text = str(value).strip().upper()
        if text in ("C", "CE", "CALL"):
            return cls.CALL
        if text in ("P", "PE", "PUT"):
            return cls.PUT
        raise ValueError(
            f"right {value!r} is not an option right (expected C/P, CE/PE or call/put)"
        )

    @property
    def is_call(self) -> bool:
        return self is Right.CALL


class Side(StrEnum):
    """Order side; ``sign`` is +1 for BUY and -1 for SELL."""

    BUY = "BUY"
    SELL = "SELL"

    @classmethod
    def parse(cls, value: object) -> Side:
        if isinstance(value, Side):
            return value
        text = str(value).strip().upper()
        if text in ("BUY", "B", "LONG"):
            return cls.BUY
        if text in ("SELL", "S", "SHORT"):
            return cls.SELL
        raise ValueError(f"side {value!r} is not an order side (expected BUY or SELL)")

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class Settlement(StrEnum):
    CASH = "cash"
    PHYSICAL = "physical"


class SettlementTime(StrEnum):
    """AM: settles against a special opening quotation; PM: against the closing price."""

    AM = "AM"
    PM = "PM"


class ExpiryKind(StrEnum):
    """``monthly`` is the venue's standard monthly contract; every other listed expiry is ``weekly``."""

    WEEKLY = "weekly"
    MONTHLY = "monthly"
