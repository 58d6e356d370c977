"""Exchange rates for combining money in several currencies (baskets).

An :class:`FxSeries` is a daily close of a currency pair: ``USDINR`` at 83.2 means one USD costs
83.2 INR. It comes from a dataset -- ``workbench data ingest --format ohlc USDINR.csv --out
data/usdinr`` of a daily file (``Date,Open,High,Low,Close``) -- or from any mapping of dates to
closes. Money of a day is converted at that day's close; a day without a close (a holiday of the
pair's calendar) uses the last close before it, and the conversion says how many days did.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path


class FxError(ValueError):
    """An FX series that cannot convert what was asked; the message names the pair and day."""


_PAIR = re.compile(r"^[A-Z]{3}[A-Z]{3}$")


@dataclass(frozen=True)
class FxSeries:
    """Daily closes of ``pair`` (``BASEQUOTE``: the price of one BASE in QUOTE)."""

    pair: str
    closes: Mapping[date, float]
    source: str = ""
    _days: list[date] = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not _PAIR.match(self.pair):
            raise FxError(f"FX pair {self.pair!r}: expected six letters, BASE then QUOTE (USDINR)")
        bad = [d for d, v in self.closes.items() if not (math.isfinite(v) and v > 0)]
        if bad:
            raise FxError(f"FX {self.pair}: non-positive or missing close on {bad[0]}")
        if not self.closes:
            raise FxError(f"FX {self.pair}: no closes")
        object.__setattr__(self, "_days", sorted(self.closes))

    @property
    def base(self) -> str:
        return self.pair[:3]

    @property
    def quote(self) -> str:
        return self.pair[3:]

    def converts(self, source: str, target: str) -> bool:
        return {source, target} == {self.base, self.quote}

    def close_on(self, day: date) -> tuple[float, date]:
        """The close of ``day``, or of the last day before it with one, and that day."""
        i = bisect_right(self._days, day)
        if i == 0:
            raise FxError(
                f"FX {self.pair}: no close on or before {day} (the series starts {self._days[0]})"
            )
        used = self._days[i - 1]
        return float(self.closes[used]), used

    def factor(self, day: date, source: str, target: str) -> tuple[float, date]:
        """Multiply an amount in ``source`` money of ``day`` by this to get ``target`` money."""
        if source == target:
            return 1.0, day
        if not self.converts(source, target):
            raise FxError(f"FX {self.pair} cannot convert {source} to {target}")
        close, used = self.close_on(day)
        return (close if source == self.base else 1.0 / close), used


def fx_from_dataset(path: str | Path, pair: str | None = None) -> FxSeries:
    """The daily closes of ``pair`` (default: the dataset's only underlying) in the dataset at
    ``path`` (a spot series ingested with ``--format ohlc``)."""
    from workbench.data.store import MarketStore

    with MarketStore(path) as store:
        names = store.underlyings()
        if pair is None:
            if len(names) != 1:
                raise FxError(f"dataset {path} holds {', '.join(names)}: name the FX pair")
            pair = names[0]
        name = store.check_underlying(pair)
        return FxSeries(name, store.daily_closes(name), source=str(Path(path).resolve()))
