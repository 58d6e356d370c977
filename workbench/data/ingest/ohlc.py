"""``ohlc``: spot, index and VIX bars from CSV (sets 3, 5 and 6 of the real data).

Layouts recognised from the header (names matched case-insensitively, blanks stripped; a
column prefix such as ``VIX_OPEN`` is read as ``open``):

- GDFL minute files ``Instrument,Date,Time,Open,High,Low,Close`` (``Date`` YYYYMMDD, ``Time``
  HH:MM, exchange-local). The underlying is the ``Instrument`` column; ``--underlying``
  overrides it and a disagreement is reported as a note (set 5's ``BNF_2024.csv`` says NIFTY
  for BANKNIFTY values).
- Epoch bars ``Time,Open,High,Low,Close`` (``Time`` = Unix seconds, UTC), converted to the
  underlying's exchange-local time (03:45Z -> 09:15 IST).
- Daily files ``Date,Open,High,Low,Close[,Adj Close][,Volume]`` in any column order
  (Yahoo style, ISO dates). ``ts`` is the session close of that day (the calendar's early
  closes included); ``Adj Close`` is not stored.
- Long daily files with a ``root`` column naming each row's underlying (set 3's SPX, VIX,
  SPY, QQQ).

Without an ``Instrument``/``root`` column the underlying is ``--underlying`` or, failing that,
the leading name of the file (``BankNifty_2018_to_2023.csv`` -> BANKNIFTY,
``nifty50_daily...`` -> NIFTY, ``indiavix_daily...`` -> INDIAVIX). Underlyings outside the
instrument registry that are known here (:data:`EXTRA_SERIES`: VIX, INDIAVIX, USDINR) carry an explicit
spec in the catalog and use the calendar of a registered proxy (SPX, NIFTY). An official
settlement series is named after its options underlying with ``.SETTLEMENT``
(``--underlying SPX.SETTLEMENT``: a daily file of settlement values, ``close`` the value; the
engine settles expiries at it) and takes that underlying's zone and calendar.

The dataset takes the timezone of its underlyings (all must share it) and, so that spot and VIX
bars can extend a chain dataset, the venue of that zone's option chains (CBOE for
America/New_York, NSE for Asia/Kolkata). Bars with a time of day make an intraday (``1min``)
dataset; the epoch file's 15-minute bars are stored as they are (a note gives the spacing).

Row rules (a row gets the first that applies): ``blank_line``, ``missing_<field>``,
``unparseable_<field>``, ``non_positive_price`` (any of O/H/L/C <= 0), ``inconsistent_bar``
(high < low, or open/close outside [low, high], by more than :data:`BAR_TOLERANCE_POINTS`),
``date_out_of_range`` (a day outside the venue calendar's coverage: XNYS from 1990, XBOM from
1997; a two-digit year lands here, with a note naming the line), ``exchange_holiday`` (a day
inside the coverage on which the venue had no session; the registry's calendar overrides add
the special sessions exchange_calendars lacks, such as the 2020-02-01 budget day, the 2024
weekend sessions and Muhurat hours, so their bars are kept), ``outside_session`` (intraday bars
before the open, after the close, or inside a special session's break: set 5's flat after-hours
prints of 2024-01-20 from 15:31; a bar stamped at the close itself is the closing print, kept), then ``duplicate_key`` (same ``ts`` twice for an underlying;
the first line is kept). Volume is 0 where the file has none.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.data.catalog import UnderlyingSpec
from workbench.data.ingest.base import Adapter, InputFile, Staged
from workbench.data.ingest.cboe import blank_rows
from workbench.data.ingest.csvchunks import iter_csv_chunks
from workbench.data.ingest.errors import HeaderError, IngestError
from workbench.data.ingest.fields import Parsed, parse_date, parse_float, parse_int
from workbench.data.ingest.quarantine import BLANK, malformed_rows, reject_rows
from workbench.data.ingest.rules import first_reason
from workbench.data.ingest.sessions import VenueDays
from workbench.data.ingest.sources import read_header
from workbench.data.layout import settled_underlying, settlement_series
from workbench.model.instruments import UnknownInstrumentError, get_instrument, instrument_names


@dataclass(frozen=True)
class ExtraSeries:
    """A series outside the instrument registry: its catalog spec and a calendar proxy."""

    spec: UnderlyingSpec
    calendar_of: str


EXTRA_SERIES: dict[str, ExtraSeries] = {
    "VIX": ExtraSeries(
        UnderlyingSpec(venue="CBOE", currency="USD", timezone="America/New_York", calendar="XNYS"),
        "SPX",
    ),
    "INDIAVIX": ExtraSeries(
        UnderlyingSpec(venue="NSE", currency="INR", timezone="Asia/Kolkata", calendar="XBOM"),
        "NIFTY",
    ),
    # the rupee's daily close (INR per USD), for baskets of NSE and US runs (research.fx)
    "USDINR": ExtraSeries(
        UnderlyingSpec(venue="NSE", currency="INR", timezone="Asia/Kolkata", calendar="XBOM"),
        "NIFTY",
    ),
}
#: Dataset venue by timezone: the venue of that zone's option chains.
VENUE_BY_ZONE = {"America/New_York": "CBOE", "Asia/Kolkata": "NSE"}
PRICE_FIELDS = ("open", "high", "low", "close")
DAILY_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%m/%d/%Y")
#: A bar is inconsistent only beyond this many price points (one NSE tick): vendors round the
#: open and the high/low from different feeds, so bars off by a tick are kept as given.
BAR_TOLERANCE_POINTS = 0.05
_PREFIXED = re.compile(r"^[a-z0-9]+_(open|high|low|close|volume)$")


def canonical_name(column: str) -> str:
    """``VIX_OPEN`` -> ``open``, ``Adj Close`` -> ``adj close``, ``DATE`` -> ``date``."""
    name = column.strip().lower()
    match = _PREFIXED.match(name)
    return match[1] if match else name


@dataclass(frozen=True)
class Layout:
    """What a header says: ``kind`` (gdfl/epoch/daily), the source column of each field."""

    kind: str
    columns: dict[str, str]


def detect_layout(path: object, names: list[str]) -> Layout:
    """The layout of a header, or :class:`HeaderError` naming the file and the columns."""
    mapped: dict[str, str] = {}
    for raw in names:
        key = canonical_name(raw)
        if key in mapped:
            raise HeaderError(f"{path}: columns {mapped[key]!r} and {raw!r} both mean {key!r}")
        mapped[key] = raw
    allowed = {"instrument", "date", "time", "root", "volume", "adj close", *PRICE_FIELDS}
    missing = [f for f in PRICE_FIELDS if f not in mapped]
    unexpected = [mapped[k] for k in mapped if k not in allowed]
    if "date" in mapped and "time" in mapped:
        kind = "gdfl"
    elif "time" in mapped:
        kind = "epoch"
    elif "date" in mapped:
        kind = "daily"
    else:
        missing = ["date or time", *missing]
        kind = ""
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing column(s) {missing}")
        if unexpected:
            parts.append(f"unexpected column(s) {unexpected}")
        raise HeaderError(
            f"{path}: {'; '.join(parts)}; expected Instrument,Date,Time,Open,High,Low,Close "
            "(minute), Time,Open,High,Low,Close (epoch seconds) or Date,Open,High,Low,Close"
            "[,Adj Close][,Volume][,root] (daily)"
        )
    return Layout(kind, mapped)


def _known_names() -> list[str]:
    return sorted({*instrument_names(), *EXTRA_SERIES}, key=len, reverse=True)


def underlying_from_file_name(name: str) -> str | None:
    """The registered or extra series the file name starts with (longest match), if any."""
    stem = re.sub(r"[^A-Z0-9]", "", name.upper())
    for known in _known_names():
        if stem.startswith(known):
            return known
    return None


def check_series(name: str, where: object) -> str:
    """The canonical name of a registered or extra series; ``HeaderError`` naming ``where``."""
    key = name.strip().upper()
    if key in EXTRA_SERIES:
        return key
    base = settled_underlying(key)
    try:
        if base is not None:  # an official settlement series (SPX.SETTLEMENT)
            return settlement_series(get_instrument(base).name)
        return get_instrument(key).name
    except UnknownInstrumentError:
        raise HeaderError(
            f"{where}: unknown underlying {name!r}; known: {sorted(_known_names())} "
            "(and <registered name>.SETTLEMENT for an official settlement series)"
        ) from None


class OhlcAdapter(Adapter):
    """See the module docstring."""

    name: ClassVar[str] = "ohlc"
    input_kind = "spot"
    takes_underlying: ClassVar[bool] = True

    def __init__(self, underlying: str | None = None) -> None:
        super().__init__(underlying)
        self.override = check_series(underlying, "--underlying") if underlying else None
        self.timezone = ""
        self.venue = ""
        self.bar_interval = ""
        self._seen: set[str] = set()

    def prepare(self, files: list[InputFile]) -> None:
        zones: dict[str, str] = {}
        intervals: dict[str, str] = {}
        for file in files:
            try:
                names = read_header(file.path)
                layout = detect_layout(file.path, names)
                found = self._file_underlyings(file, layout)
            except IngestError:  # the file is refused, with this error, when it is read
                continue
            intervals[file.display] = "1d" if layout.kind == "daily" else "1min"
            for u in found:
                zones[u] = self._timezone_of(u)
        if len(set(intervals.values())) > 1:
            raise ValueError(f"ohlc inputs mix daily and intraday bars: {intervals}")
        if len(set(zones.values())) > 1:
            raise ValueError(f"ohlc inputs mix timezones (one dataset has one zone): {zones}")
        self.timezone = next(iter(zones.values()), "UTC")
        self.venue = VENUE_BY_ZONE.get(self.timezone, self.timezone)
        self.bar_interval = next(iter(intervals.values()), "1d")

    def underlying_specs(self) -> dict[str, UnderlyingSpec]:
        return {k: v.spec for k, v in EXTRA_SERIES.items()}

    @staticmethod
    def _timezone_of(underlying: str) -> str:
        if underlying in EXTRA_SERIES:
            return EXTRA_SERIES[underlying].spec.timezone
        return str(get_instrument(settled_underlying(underlying) or underlying).timezone)

    def _venue_days(self, underlying: str) -> VenueDays:
        """An extra series (a VIX, say) trades on the calendar of the market it belongs to."""
        extra = EXTRA_SERIES.get(underlying)
        if extra is not None:
            return self._days(extra.calendar_of)
        return self._days(settled_underlying(underlying) or underlying)

    def _file_underlyings(self, file: InputFile, layout: Layout) -> list[str]:
        if "root" in layout.columns:
            if self.override:
                raise HeaderError(
                    f"{file.path}: the file names each row's underlying in "
                    f"{layout.columns['root']!r}; --underlying does not apply"
                )
            roots = pc.unique(
                pa.concat_arrays(
                    [
                        c.table.column(layout.columns["root"]).combine_chunks()
                        for c in iter_csv_chunks(file.path)
                    ]
                )
            ).to_pylist()
            return sorted({check_series(r, file.path) for r in roots if r and r.strip()})
        if self.override:
            return [self.override]
        if "instrument" in layout.columns:
            # read per row when staging; the first block tells the zone
            first = next(iter_csv_chunks(file.path), None)
            if first is None:
                return []
            text = pc.utf8_trim_whitespace(first.table.column(layout.columns["instrument"]))
            return sorted({check_series(v, file.path) for v in pc.unique(text).to_pylist() if v})
        found = underlying_from_file_name(file.path.name)
        if found is None:
            raise HeaderError(
                f"{file.path}: no Instrument or root column and the file name names no known "
                "underlying; give --underlying"
            )
        return [found]

    def read(self, file: InputFile) -> Iterator[Staged]:
        names = read_header(file.path)
        layout = detect_layout(file.path, names)
        default = self._file_underlyings(file, layout)
        for chunk in iter_csv_chunks(file.path, names):
            yield self._stage(file, layout, chunk.table, chunk.lines, default, chunk.malformed)

    def _stage(
        self,
        file: InputFile,
        layout: Layout,
        raw: pa.Table,
        lines: np.ndarray,
        default: list[str],
        malformed: list,  # type: ignore[type-arg]
    ) -> Staged:
        n = raw.num_rows
        bad_lines = malformed_rows(malformed, file.display)
        rows_read = n + len(malformed)
        if n == 0:
            return Staged(rows_read, rejects=bad_lines)
        col = lambda key: raw.column(layout.columns[key])  # noqa: E731
        underlying = self._row_underlyings(file, layout, raw, default)
        prices = {f: parse_float(col(f)) for f in PRICE_FIELDS}
        volume = parse_int(col("volume")) if "volume" in layout.columns else None
        checks: list[tuple[str, np.ndarray]] = [(BLANK, blank_rows(raw))]
        ts = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
        day = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
        trading = np.full(n, None, dtype=object)
        if layout.kind == "daily":
            parsed = parse_date(col("date"), DAILY_FORMATS)
            checks += [("missing_date", parsed.missing), ("unparseable_date", parsed.bad)]
            day = parsed.values
        elif layout.kind == "gdfl":
            d = parse_date(col("date"), ("%Y%m%d", "%Y-%m-%d"))
            t = _parse_clock(col("time"))
            checks += [
                ("missing_date", d.missing),
                ("unparseable_date", d.bad),
                ("missing_time", t.missing),
                ("unparseable_time", t.bad),
            ]
            day = d.values
            ts = d.values.astype("datetime64[us]") + t.values
        else:
            epoch = parse_int(col("time"))
            checks += [("missing_time", epoch.missing), ("unparseable_time", epoch.bad)]
            ts = self._epoch_to_local(epoch.values, underlying)
            day = ts.astype("datetime64[D]")
        out_of_range = np.zeros(n, dtype=bool)
        outside = np.zeros(n, dtype=bool)
        for u in pd.unique(underlying[underlying != ""]):
            mask = underlying == u
            venue = self._venue_days(str(u))
            out_of_range[mask] = venue.out_of_range(day[mask])
            t_, close_, _ = venue.arrays(day[mask])
            trading[mask] = t_
            if layout.kind == "daily":
                ts[mask] = close_
            else:  # a bar stamped at the close is the closing print (2009 files have one)
                outside[mask] = venue.outside(day[mask], ts[mask], close_inclusive=True)
            date_col = "date" if "date" in layout.columns else "time"
            self.note_out_of_range(file, date_col, out_of_range & mask, col(date_col), lines, venue)
        checks.append(("date_out_of_range", out_of_range))
        for f in PRICE_FIELDS:
            checks += [(f"missing_{f}", prices[f].missing), (f"unparseable_{f}", prices[f].bad)]
        if volume is not None:
            checks.append(("unparseable_volume", volume.bad))
        o, h, lo, c = (prices[f].values for f in PRICE_FIELDS)
        tol = BAR_TOLERANCE_POINTS + 1e-9 * np.abs(np.nan_to_num(h))
        with np.errstate(invalid="ignore"):
            checks.append(("non_positive_price", (o <= 0) | (h <= 0) | (lo <= 0) | (c <= 0)))
            inconsistent = (
                (h < lo - tol) | (o > h + tol) | (o < lo - tol) | (c > h + tol) | (c < lo - tol)
            )
        checks.append(("inconsistent_bar", inconsistent))
        checks.append(("exchange_holiday", trading == False))  # noqa: E712
        checks.append(("outside_session", outside))
        reasons = first_reason(checks, n)
        ok = reasons == ""
        rejects = reject_rows(raw, lines, reasons, file.display)
        if bad_lines is not None:
            rejects = (
                bad_lines
                if rejects is None
                else pa.concat_tables([rejects, bad_lines], promote_options="permissive")
            )
        idx = np.flatnonzero(ok)
        vol = np.zeros(len(idx), dtype=np.int64)
        if volume is not None:
            v = volume.values[idx]
            vol = np.where(np.isfinite(v), v, 0).astype(np.int64)
        spot = pd.DataFrame(
            {
                "underlying": underlying[idx],
                "day": day[idx],
                "ts": ts[idx],
                "open": o[idx],
                "high": h[idx],
                "low": lo[idx],
                "close": c[idx],
                "volume": vol,
                "_file": file.index,
                "_line": lines[idx],
                "_rank": 0.0,
            }
        )
        if layout.kind != "daily" and len(idx) > 2:
            step = np.median(np.diff(np.unique(ts[idx]))).astype("timedelta64[s]").astype(int)
            if step > 60:
                self.note(
                    f"{file.display}: bars are {step // 60} minutes apart, stored as they are"
                )
        return Staged(rows_read, spot=spot, rejects=rejects)

    def _row_underlyings(
        self, file: InputFile, layout: Layout, raw: pa.Table, default: list[str]
    ) -> np.ndarray:
        n = raw.num_rows
        if "root" in layout.columns:
            text = pc.utf8_upper(pc.utf8_trim_whitespace(raw.column(layout.columns["root"])))
            out = np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)
            for r in pd.unique(out):
                if r:
                    out[out == r] = check_series(str(r), file.path)
            return out
        if "instrument" in layout.columns:
            text = pc.utf8_upper(pc.utf8_trim_whitespace(raw.column(layout.columns["instrument"])))
            stated = [s for s in pc.unique(text).to_pylist() if s]
            if self.override:
                others = [s for s in stated if s != self.override]
                if others:
                    self.note(
                        f"{file.display}: Instrument column says {others}; stored as "
                        f"{self.override} (--underlying)"
                    )
                return np.full(n, self.override, dtype=object)
            out = np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)
            for s in stated:
                out[out == s] = check_series(s, file.path)
            return out
        return np.full(n, default[0], dtype=object)

    def _epoch_to_local(self, seconds: np.ndarray, underlying: np.ndarray) -> np.ndarray:
        out = np.full(len(seconds), np.datetime64("NaT"), dtype="datetime64[us]")
        for u in pd.unique(underlying[underlying != ""]):
            mask = (underlying == u) & np.isfinite(seconds)
            utc = pd.to_datetime(seconds[mask].astype(np.int64), unit="s", utc=True)
            local = utc.tz_convert(self._timezone_of(str(u))).tz_localize(None)
            out[mask] = local.to_numpy().astype("datetime64[us]")
        return out


def _parse_clock(col: pa.ChunkedArray) -> Parsed:
    """``HH:MM`` or ``HH:MM:SS`` to ``timedelta64[us]`` since midnight."""
    text = pc.utf8_trim_whitespace(col.combine_chunks())
    missing = np.asarray(pc.equal(text, "").to_numpy(zero_copy_only=False), dtype=bool)
    got = None
    for fmt in ("%H:%M", "%H:%M:%S"):
        parsed = pc.strptime(
            pc.binary_join_element_wise("1970-01-01 ", text, ""),
            format=f"%Y-%m-%d {fmt}",
            unit="s",
            error_is_null=True,
        )
        got = parsed if got is None else pc.coalesce(got, parsed)
    assert got is not None
    seconds = np.asarray(got.to_numpy(zero_copy_only=False)).astype("datetime64[us]")
    values = seconds - np.datetime64("1970-01-01", "us")
    bad = ~missing & np.isnat(seconds)
    return Parsed(values, missing, bad)
