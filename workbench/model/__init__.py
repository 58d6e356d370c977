"""Value objects shared by every layer: contracts, legs, quotes, enums, instruments, calendars.

Public names are re-exported here; submodules hold the details:
:mod:`~workbench.model.enums`, :mod:`~workbench.model.contracts`,
:mod:`~workbench.model.instruments`, :mod:`~workbench.model.calendars`,
:mod:`~workbench.model.symbols`, :mod:`~workbench.model.trades`.
"""

from workbench.model.calendars import (
    CalendarRangeError,
    expiries_between,
    expiry_kind,
    is_expiry,
    is_trading_day,
    listed_expiries,
    monthly_expiry,
    next_trading_day,
    previous_trading_day,
    session_bounds,
    trading_calendar,
    trading_days,
)
from workbench.model.contracts import OptionContract
from workbench.model.enums import ExpiryKind, Right, Settlement, SettlementTime, Side
from workbench.model.instruments import (
    ExerciseStyle,
    ExpiryRule,
    InstrumentSpec,
    MonthlyRule,
    UnknownInstrumentError,
    get_instrument,
    instruments,
)
from workbench.model.symbols import SymbolError, format_symbol, parse_symbol
from workbench.model.trades import Leg, Quote

__all__ = [
    "CalendarRangeError",
    "ExerciseStyle",
    "ExpiryKind",
    "ExpiryRule",
    "InstrumentSpec",
    "Leg",
    "MonthlyRule",
    "OptionContract",
    "Quote",
    "Right",
    "Settlement",
    "SettlementTime",
    "Side",
    "SymbolError",
    "UnknownInstrumentError",
    "expiries_between",
    "expiry_kind",
    "format_symbol",
    "get_instrument",
    "instruments",
    "is_expiry",
    "is_trading_day",
    "listed_expiries",
    "monthly_expiry",
    "next_trading_day",
    "parse_symbol",
    "previous_trading_day",
    "session_bounds",
    "trading_calendar",
    "trading_days",
]
