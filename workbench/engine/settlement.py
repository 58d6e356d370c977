"""Settlement of expiring option positions (positional mode): when, and at what value.

An option settles on its expiry's **settlement session** -- the expiry date when it is a
trading day, else the registry's shifted date
(:func:`workbench.model.calendars.settlement_day`; an underlying outside the registry settles
on the expiry date) -- at the expiry's **settlement value**, never at a price from after it:

1. ``official``: the dataset's settlement series of the options underlying, when it has a bar
   for that session. The series is an underlying named ``<UNDERLYING>.SETTLEMENT`` (for
   example ``SPX.SETTLEMENT``: CBOE's special opening quotation for AM-settled SPX) holding
   one daily bar per settlement session whose ``close`` is the official value; ingest it with
   ``workbench data ingest --format ohlc --underlying SPX.SETTLEMENT``.
2. ``open`` / ``close``: the settlement session's own spot -- AM-settled: the session's opening
   price (the first spot bar's open), PM-settled: its last close.
3. ``last-spot``: the session has no data (a missing file, or a day the dataset skips): the
   last spot close at or before the settlement time, i.e. the close of the latest earlier
   session with data. Flagged: a warning in ``days.csv`` and the fill model
   ``settle/last-spot`` in the tradebook (the tearsheet lists such settlements).

The simulator books a settlement at its session: at the first tick (AM) or after the last
tick (PM) of a session with data, or in the record of a trading day without data (a
"skipped" day that still holds the settlement fills).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np

from workbench.data.layout import settlement_series

if TYPE_CHECKING:
    from workbench.data.store import MarketStore

#: Tradebook ``fill_model`` of a settlement by the basis of its value.
FILL_MODELS = {
    "official": "settle/official",
    "open": "settle/intrinsic",
    "close": "settle/intrinsic",
    "last-spot": "settle/last-spot",
}


@dataclass(frozen=True, slots=True)
class SettlementValue:
    """The value an expiry settles at (underlying price units), how it was found, and the
    session whose data it comes from."""

    value: float
    basis: str
    source_day: date

    @property
    def fill_model(self) -> str:
        return FILL_MODELS[self.basis]


class Settlements:
    """Settlement sessions and values of one options underlying in one dataset (per run)."""

    def __init__(self, store: MarketStore, underlying: str) -> None:
        self.store = store
        self.underlying = underlying
        self._sessions: dict[date, date] = {}
        name = settlement_series(underlying)
        entry = store.catalog.day_index.get(name)
        self.series: str | None = name if entry is not None and entry.spot else None
        self._official_days = frozenset(entry.spot) if entry is not None else frozenset()

    def session(self, expiry: date) -> date:
        """The session ``expiry`` settles on (see the module docstring)."""
        found = self._sessions.get(expiry)
        if found is None:
            from workbench.model.calendars import CalendarRangeError, settlement_day
            from workbench.model.instruments import UnknownInstrumentError

            try:
                found = settlement_day(self.underlying, expiry)
            except (UnknownInstrumentError, CalendarRangeError):
                found = expiry
            self._sessions[expiry] = found
        return found

    def official(self, session: date) -> SettlementValue | None:
        """The official value of ``session`` from the settlement series, if the dataset has it."""
        if self.series is None or session not in self._official_days:
            return None
        arrays = self.store.spot_arrays(self.series, session)
        closes = np.asarray(arrays["close"], dtype=np.float64)
        finite = closes[np.isfinite(closes)]
        if not finite.size:
            return None
        return SettlementValue(float(finite[-1]), "official", session)

    def last_spot(self, session: date) -> SettlementValue | None:
        """The last spot close at or before ``session``'s settlement time when ``session`` has
        no data: the close of the latest earlier day with spot data (``None`` if none)."""
        from workbench.engine.market import last_close, previous_spot_day

        day = previous_spot_day(self.store, self.underlying, session + timedelta(days=1))
        while day is not None and day >= session:  # the session itself has no usable data
            day = previous_spot_day(self.store, self.underlying, day)
        if day is None:
            return None
        value = last_close(self.store, self.underlying, day)
        if not math.isfinite(value):
            return None
        return SettlementValue(value, "last-spot", day)
