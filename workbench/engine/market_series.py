"""Market series inside a run: ``bar.series(name)`` and ``day.series(name)``, as of now.

A run reads series (VIX, INDIAVIX, an index, the underlying's own spot) from its own dataset
and from extra datasets given to it (``run_backtest(..., series=[path, ...])``, CLI ``--series
DATASET``), searched in that order: the first dataset whose catalog holds ``name`` (a spot
series, upper-cased) answers. The answer is a :class:`SeriesValue`, a ``(value, lag)`` tuple
that also says when the value was observed (``asof``) and in what unit its lag counts
(``unit``). Never the future:

* **daily series** (a dataset with bar interval ``1d``): the close of day ``D`` is visible only
  after ``D``'s close. On day ``D`` -- before the first tick (``on_day_start``, ``clock``,
  ``on_day_end``) and at every tick of the day, positional and intraday alike -- the value is
  the series' last close on a day before ``D``, and ``lag`` counts the run's trading sessions
  from that day to ``D`` (``1``: the previous session's close; ``unit == "days"``). A session
  the series has no close for (a holiday of its own market) makes the lag larger.
* **intraday series** (minute bars): at tick ``i`` the visible bar is the last one with
  ``ts <= clock[i]`` and ``lag`` is in clock ticks as for :meth:`BarContext.price`
  (:mod:`workbench.data.series`; ``unit == "ticks"``); before the series' first bar of the day
  (and before the first tick) it is the previous session's last close with its lag in days.

``value`` is NaN and ``lag`` ``None`` when the series has nothing before now (its first
day). A name no dataset holds raises :class:`UnknownSeriesError` naming the series and the
datasets searched. Daily closes are read a calendar year at a time, once per dataset version,
name and year (:meth:`~workbench.data.store.MarketStore.daily_closes`, kept in the process's
LRU): a run over one year of a 30-year VIX history reads that year and the one before, not
the 7,800 day files.
"""

from __future__ import annotations

import bisect
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.engine.pool import open_store, series_lru

if TYPE_CHECKING:
    from workbench.data.series import Series
    from workbench.data.store import MarketStore


class UnknownSeriesError(ValueError):
    """A series no dataset of the run holds; the message names it and the datasets searched."""


class SeriesValue(tuple):  # type: ignore[type-arg]
    """``(value, lag)`` of a market series as of now, plus ``asof`` (the date of a daily close,
    the timestamp of an intraday bar) and ``unit`` (``"days"``: trading sessions since that
    close; ``"ticks"``: clock ticks since that bar). Compares and unpacks as the plain tuple."""

    asof: date | datetime | None
    unit: str

    def __new__(
        cls, value: float, lag: int | None, asof: date | datetime | None, unit: str
    ) -> SeriesValue:
        self = super().__new__(cls, (value, lag))
        self.asof = asof
        self.unit = unit
        return self

    @property
    def value(self) -> float:
        return float(self[0])

    @property
    def lag(self) -> int | None:
        lag = self[1]
        return None if lag is None else int(lag)

    def __repr__(self) -> str:
        return f"SeriesValue({self[0]!r}, lag={self[1]!r} {self.unit}, asof={self.asof})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (SeriesValue, (self[0], self[1], self.asof, self.unit))


@dataclass(frozen=True)
class DailyCloses:
    """One series' daily closes (ascending dates) and the dataset they came from."""

    name: str
    dataset: str
    days: tuple[date, ...]
    closes: np.ndarray
    intraday: bool

    def before(self, day: date) -> tuple[float, date | None]:
        """The last close on a day strictly before ``day`` (NaN, None: none)."""
        j = bisect.bisect_left(self.days, day) - 1
        if j < 0:
            return math.nan, None
        return float(self.closes[j]), self.days[j]


def describe_datasets(data: str, extras: Sequence[str]) -> list[dict[str, Any]]:
    """The manifest's ``series`` entry: each extra dataset's path, name, content version,
    bar interval and the series it holds (checked to open; a bad one raises ``ValueError``
    naming it)."""
    out = []
    for path in extras:
        store = open_store(path)
        catalog = store.catalog
        out.append(
            {
                "path": str(path),
                "name": catalog.name,
                "content_version": catalog.content_version,
                "bar_interval": str(catalog.bar_interval),
                "series": sorted(store.underlyings()),
            }
        )
    return out


@functools.lru_cache(maxsize=4096)
def sessions_between(underlying: str, earlier: date, day: date) -> int:
    """Trading sessions of ``underlying``'s calendar after ``earlier`` up to and including
    ``day`` (1 when ``earlier`` is the previous session); weekdays when the calendar is not
    known or does not cover the dates."""
    if earlier >= day:
        return 0
    try:
        from workbench.model.calendars import trading_days

        return sum(1 for d in trading_days(underlying, earlier, day) if d > earlier)
    except (KeyError, ValueError):
        return int(np.busday_count(earlier, day, weekmask="1111100")) or 1


#: (datasets, underlying, run dataset version) -> the run's VIX-like series (RunSeries.vix_name)
_VIX_NAMES: dict[tuple[Any, ...], str | None] = {}


class RunSeries:
    """The series one run can read (its dataset first, then ``extras``); built per day by the
    engine, cheap (stores are the process's, closes live in the process LRU)."""

    def __init__(self, data: str, extras: Sequence[str], underlying: str) -> None:
        self.datasets: tuple[str, ...] = (str(data), *(str(p) for p in extras))
        self.underlying = underlying
        self._located: dict[str, tuple[MarketStore, str]] = {}
        self._vix: str | None = None
        self._first: dict[str, int] = {}
        self._vix_known = False

    def locate(self, name: str) -> tuple[MarketStore, str]:
        """The store holding series ``name`` and its name there (:class:`UnknownSeriesError`)."""
        if not isinstance(name, str) or not name.strip():
            raise UnknownSeriesError(f"series: expected a series name, got {name!r}")
        key = name.strip().upper()
        found = self._located.get(key)
        if found is not None:
            return found
        for path in self.datasets:
            store = open_store(path)
            if key in store.catalog.day_index and store.catalog.day_index[key].spot:
                self._located[key] = (store, key)
                return store, key
        held = "; ".join(
            f"{p} ({', '.join(sorted(open_store(p).underlyings())) or 'nothing'})"
            for p in self.datasets
        )
        raise UnknownSeriesError(
            f"series {name!r}: no dataset of the run holds it (searched: {held}); give the "
            "dataset that has it with series=[...] / --series DATASET"
        )

    def vix_name(self, version: str = "") -> str | None:
        """The VIX-like series among the run's datasets' series (``None`` when there is none;
        with both VIX and INDIAVIX, the one of the underlying's time zone). Given the run
        dataset's content ``version``, the answer is kept for the process (a run asks once a
        day; opening the catalogs each time cost more than the entries it serves)."""
        key = (self.datasets, self.underlying, version) if version else None
        if key is not None and key in _VIX_NAMES:
            return _VIX_NAMES[key]
        if not self._vix_known:
            from workbench.data.vol_index import pick_vix

            names: list[str] = []
            zone = None
            for path in self.datasets:
                catalog = open_store(path).catalog
                if zone is None and self.underlying in catalog.underlyings:
                    zone = catalog.underlyings[self.underlying].timezone
                names += [n for n, e in catalog.day_index.items() if e.spot]
            self._vix = pick_vix([n for n in names if n != self.underlying], zone)
            self._vix_known = True
        if key is not None:
            if len(_VIX_NAMES) > 256:
                _VIX_NAMES.clear()
            _VIX_NAMES[key] = self._vix
        return self._vix

    def _first_year(self, name: str, day: date) -> int:
        store, key = self.locate(name)
        found = self._first.get(key)
        if found is None:
            listed = store.catalog.day_index[key].spot
            found = self._first[key] = min(listed).year if listed else day.year
        return found

    def intraday(self, name: str) -> bool:
        """True when ``name``'s dataset holds minute bars (not one bar a day)."""
        store, _ = self.locate(name)
        return str(store.catalog.bar_interval) != "1d"

    def daily(self, name: str, year: int) -> DailyCloses:
        """Daily closes of ``name`` in calendar ``year`` (read once per dataset version, name
        and year, then from the LRU)."""
        store, key = self.locate(name)
        lru_key = ("market-series", store.catalog.content_version, key, year)
        found, cached = series_lru().get(lru_key)
        if found and cached is not None:
            return cached  # type: ignore[no-any-return]
        closes = store.daily_closes(key, date(year, 1, 1), date(year, 12, 31))
        days = tuple(sorted(closes))
        value = DailyCloses(
            name=key,
            dataset=str(store.path),
            days=days,
            closes=np.asarray([closes[d] for d in days], dtype=np.float64),
            intraday=str(store.catalog.bar_interval) != "1d",
        )
        series_lru().put(lru_key, value, 64 + 16 * len(days))
        return value

    def previous_close(self, name: str, day: date) -> SeriesValue:
        """``name``'s last close before ``day``, lag in sessions (the value before day's open)."""
        first = self._first_year(name, day)
        value, when = math.nan, None
        for year in range(day.year, first - 1, -1):  # this year, else the latest earlier one
            value, when = self.daily(name, year).before(day)
            if when is not None:
                break
        if when is None:
            return SeriesValue(math.nan, None, None, "days")
        return SeriesValue(value, sessions_between(self.underlying, when, day), when, "days")


class DaySeries:
    """The run's series on one day, read at a tick (engine internal: contexts pass the tick)."""

    def __init__(self, run: RunSeries, day: date) -> None:
        self.run = run
        self.day = day
        self._bars: dict[tuple[str, str], Series | None] = {}

    def value(self, name: str, i: int, clock_ns: np.ndarray, fingerprint: str) -> SeriesValue:
        """``name`` as of tick ``i`` of today's clock (``i < 0``: before the first tick)."""
        if i >= 0 and self.run.intraday(name):
            bars = self._intraday(name, clock_ns, fingerprint)
            if bars is not None:
                price, lag = bars.price_at(i)
                if lag is not None:
                    row = bars.row_at(i)
                    return SeriesValue(float(price), int(lag), bars.bar_time(row), "ticks")
        return self.run.previous_close(name, self.day)

    def _intraday(self, name: str, clock_ns: np.ndarray, fingerprint: str) -> Series | None:
        key = (name.strip().upper(), fingerprint)
        if key in self._bars:
            return self._bars[key]
        from workbench.data.series import datetime64_to_ns, series_from_arrays

        store, found = self.run.locate(name)
        bars: Series | None = None
        if self.day in store.catalog.day_index[found].spot:
            arrays = store.spot_arrays(found, self.day)
            ts = np.asarray(arrays["ts"])
            ts_ns = datetime64_to_ns(ts) if np.issubdtype(ts.dtype, np.datetime64) else ts
            close = np.asarray(arrays["close"], dtype=np.float64)
            keep = np.isfinite(close)
            columns = {"close": close[keep]}
            bars = series_from_arrays(found, np.asarray(ts_ns)[keep], columns, clock_ns)
        self._bars[key] = bars
        return bars
