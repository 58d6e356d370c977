"""``cboe-eod``: CBOE-style end-of-day chain CSVs (sets 1 and 2 of the real data).

Columns (header names are stripped, a UTF-8 BOM is ignored)::

    required  optionroot, type, expiration, quotedate, strike, bid, ask, underlying_last
    optional  underlying, exchange, last, net, volume, openinterest, impliedvol, delta, gamma,
              theta, vega, optionext, optionalias

Mapping to the canonical layout:

- The OCC root of ``optionroot`` decides the underlying (``SPX`` AM-settled monthlies,
  ``SPXW`` PM-settled weeklies/EOM, through ``instrument_by_occ_root``); the ``underlying``
  column is ignored (set 1 says SPX for both). A root the registry does not know is refused as
  ``unknown_root``. The expiry, right and strike in the OCC symbol must agree with
  ``expiration``, ``type`` and ``strike`` (``optionroot_mismatch`` otherwise).
- Dates are ``MM/DD/YYYY`` (``YYYY-MM-DD`` also accepted; the two cannot be confused).
- ``ts`` is the venue's session close on the quote date (16:00 ET, 13:00 on early-close days),
  exchange-local. ``close`` is ``last`` (NaN when ``last`` is 0 or empty: no trade);
  ``open/high/low`` are NaN (an EOD chain has no option bars). ``bid``/``ask`` as given, a zero
  bid kept as 0.0. ``volume``/``oi`` as given (0 when the column is absent).
- ``iv`` (decimal), ``delta``, ``gamma`` and, when present, ``theta``, ``vega`` are the vendor's,
  stored as given (vendor units; set 2's theta is per year), except an IV of exactly 0, the
  vendor's "none computed", stored as NaN. Set 1 has junk IVs on deep in-the-money rows (up to
  36): they are kept; prefer recomputed values (``workbench.pricing.enrich_chain``) when it
  matters. ``net``, ``exchange``,
  ``optionext`` and ``optionalias`` are not stored.
- Each of SPX and SPXW gets a daily spot bar (``open = high = low = close = underlying_last``,
  volume 0) at the same ``ts``, taken from the file's first row with a valid ``underlying_last``.

Whole-file checks (file names with a ``YYYYMMDD`` date): a file dated on a day the venue did
not trade is refused as ``exchange_holiday_file`` (set 1's stale 2019-05-27 and 2019-07-04
files); a file with a quote date other than its name's is refused as
``quote_date_mismatch_file``. Files without a date in the name may hold many days; a row
quoted on a non-trading day is refused as ``exchange_holiday``. Row rules: :mod:`rules`.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from datetime import date
from typing import ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.data.ingest.base import Adapter, InputFile, Staged
from workbench.data.ingest.csvchunks import CsvChunk, iter_csv_chunks
from workbench.data.ingest.fields import eod_option_frame, parse_date, parse_float, parse_int
from workbench.data.ingest.quarantine import BLANK, malformed_rows, reject_rows
from workbench.data.ingest.rules import first_reason, quote_checks
from workbench.data.ingest.sources import check_header, read_header
from workbench.model.instruments import UnknownInstrumentError, instrument_by_occ_root

REQUIRED = (
    "optionroot",
    "type",
    "expiration",
    "quotedate",
    "strike",
    "bid",
    "ask",
    "underlying_last",
)
OPTIONAL = (
    "underlying",
    "exchange",
    "last",
    "net",
    "volume",
    "openinterest",
    "impliedvol",
    "delta",
    "gamma",
    "theta",
    "vega",
    "optionext",
    "optionalias",
)
DATE_FORMATS = ("%m/%d/%Y", "%Y-%m-%d")
GREEKS = {"impliedvol": "iv", "delta": "delta", "gamma": "gamma", "theta": "theta", "vega": "vega"}
#: Vendor IVs above this (500% a year) are junk in practice; kept, counted in a note.
JUNK_IV = 5.0
_OCC = r"^\s*(?P<root>[A-Z]{1,6})\s*(?P<date>\d{6})(?P<right>[CP])(?P<strike>\d{8})\s*$"
_NAME_DATE = re.compile(r"(?<!\d)(20\d{2})(\d{2})(\d{2})(?!\d)")


def name_date(file_name: str) -> date | None:
    """The ``YYYYMMDD`` date in a file name (``SPX_20190425.csv.gz``), if any."""
    match = _NAME_DATE.search(file_name)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def parse_right(col: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """``call``/``put``/``C``/``P``/``CE``/``PE`` (any case) to ``C``/``P``; ``(right, bad)``."""
    text = pc.utf8_upper(pc.utf8_trim_whitespace(col))
    arr = np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)
    right = np.full(len(arr), "", dtype=object)
    right[np.isin(arr, ["C", "CALL", "CE"])] = "C"
    right[np.isin(arr, ["P", "PUT", "PE"])] = "P"
    return right, right == ""


def blank_rows(table: pa.Table) -> np.ndarray:
    """Rows whose every field is empty (blank lines)."""
    blank = np.ones(table.num_rows, dtype=bool)
    for col in table.columns:
        text = pc.utf8_trim_whitespace(col.combine_chunks())
        blank &= np.asarray(pc.equal(text, "").to_numpy(zero_copy_only=False), dtype=bool)
    return blank


class CboeEodAdapter(Adapter):
    """See the module docstring."""

    name: ClassVar[str] = "cboe-eod"
    venue = "CBOE"
    timezone = "America/New_York"
    bar_interval = "1d"

    def __init__(self, underlying: str | None = None) -> None:
        super().__init__(underlying)
        self._junk_iv = 0
        self._max_iv = 0.0

    def read(self, file: InputFile) -> Iterator[Staged]:
        names = read_header(file.path)
        check_header(file.path, names, REQUIRED, OPTIONAL)
        dated = name_date(file.path.name)
        chunks: Iterator[CsvChunk] = iter_csv_chunks(file.path, names)
        if dated is not None:
            # a daily file: read it whole, so the whole-file checks see every row
            whole = list(chunks)
            chunks = iter([combine_chunks(whole, names)])
        for chunk in chunks:
            yield self._stage(file, chunk, dated)

    def _stage(self, file: InputFile, chunk: CsvChunk, dated: date | None) -> Staged:
        raw, lines = chunk.table, chunk.lines
        n = raw.num_rows
        bad_lines = malformed_rows(chunk.malformed, file.display)
        rows_read = n + len(chunk.malformed)
        if n == 0:
            return Staged(rows_read, rejects=bad_lines)
        col = raw.column
        venue = self._days("SPX")  # SPX and SPXW share the XNYS calendar
        quotedate = parse_date(col("quotedate"), DATE_FORMATS)
        quote_oor = venue.out_of_range(quotedate.values)
        self.note_out_of_range(file, "quotedate", quote_oor, col("quotedate"), lines, venue)
        file_reason = self._file_reason(file, dated, quotedate.values, quote_oor, lines)
        if file_reason is not None:
            reasons = np.where(quote_oor, "date_out_of_range", file_reason).astype(object)
            rejects = reject_rows(raw, lines, reasons, file.display)
            return Staged(rows_read, rejects=concat_rejects(rejects, bad_lines))

        expiry = parse_date(col("expiration"), DATE_FORMATS)
        expiry_oor = venue.out_of_range(expiry.values, expiry=True)
        self.note_out_of_range(
            file,
            "expiration",
            expiry_oor & ~quote_oor,
            col("expiration"),
            lines,
            venue,
            expiry=True,
        )
        strike = parse_float(col("strike"))
        bid = parse_float(col("bid"))
        ask = parse_float(col("ask"))
        right, right_bad = parse_right(col("type"))
        names = raw.column_names
        last = parse_float(col("last")) if "last" in names else None
        volume = parse_int(col("volume")) if "volume" in names else None
        oi = parse_int(col("openinterest")) if "openinterest" in names else None
        greeks = {dst: parse_float(col(src)) for src, dst in GREEKS.items() if src in names}
        spot = parse_float(col("underlying_last"))

        occ = pc.extract_regex(col("optionroot").combine_chunks(), _OCC)
        root = np.asarray(pc.struct_field(occ, "root").to_numpy(zero_copy_only=False), object)
        occ_ok = np.asarray(pc.is_valid(occ).to_numpy(zero_copy_only=False), bool)
        underlying = np.full(n, "", dtype=object)
        for r in pd.unique(root[occ_ok]):
            with contextlib.suppress(UnknownInstrumentError):
                underlying[occ_ok & (root == r)] = instrument_by_occ_root(str(r)).name
        mismatch = self._occ_mismatch(occ, occ_ok, expiry.values, right, strike.values)

        quote_day = quotedate.values
        trading = np.full(n, None, dtype=object)
        close_ts = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
        step = np.full(n, np.nan)
        for u in pd.unique(underlying[underlying != ""]):
            mask = underlying == u
            t, c, s = self._days(str(u)).arrays(quote_day[mask])
            trading[mask], close_ts[mask], step[mask] = t, c, s

        last_v = last.values if last is not None else np.full(n, np.nan)
        checks: list[tuple[str, np.ndarray]] = [(BLANK, blank_rows(raw))]
        for field, parsed in (
            ("quotedate", quotedate),
            ("expiration", expiry),
            ("strike", strike),
            ("bid", bid),
            ("ask", ask),
        ):
            checks.append((f"missing_{field}", parsed.missing))
            checks.append((f"unparseable_{field}", parsed.bad))
        checks.append(("date_out_of_range", quote_oor | expiry_oor))
        checks.append(("unparseable_type", right_bad))
        checks.append(("unparseable_optionroot", ~occ_ok))
        checks.append(("unknown_root", occ_ok & (underlying == "")))
        for field, maybe in (("last", last), ("volume", volume), ("openinterest", oi)):
            if maybe is not None:
                checks.append((f"unparseable_{field}", maybe.bad))
        for field, parsed in greeks.items():
            checks.append((f"unparseable_{'impliedvol' if field == 'iv' else field}", parsed.bad))
        checks.append(("optionroot_mismatch", mismatch))
        checks.append(("exchange_holiday", trading == False))  # noqa: E712 (object array)
        checks += quote_checks(
            bid=bid.values,
            ask=ask.values,
            last=last_v,
            expiry=expiry.values,
            quote_date=quote_day,
            strike=strike.values,
            strike_step=step,
            spot=spot.values,
        )
        reasons = first_reason(checks, n)
        ok = reasons == ""
        rejects = concat_rejects(reject_rows(raw, lines, reasons, file.display), bad_lines)

        idx = np.flatnonzero(ok)
        options = eod_option_frame(
            idx,
            underlying=underlying,
            day=quote_day,
            ts=close_ts,
            expiry=expiry,
            strike=strike,
            right=right,
            last=last_v,
            bid=bid,
            ask=ask,
            volume=volume,
            oi=oi,
        )
        for field, parsed in greeks.items():
            options[field] = parsed.values[idx]
        if "iv" in options:
            options["iv"] = options["iv"].where(options["iv"] != 0.0)  # 0 = none computed
            junk = options["iv"] > JUNK_IV
            self._junk_iv += int(junk.sum())
            self._max_iv = max(self._max_iv, float(options["iv"].max(skipna=True) or 0.0))
        options["_file"] = file.index
        options["_line"] = lines[idx]
        options["_rank"] = 0.0
        spot_frame = self._spot(
            file,
            underlying,
            quote_day,
            close_ts,
            spot.values,
            lines,
            np.where(quote_oor, False, trading),  # no spot bar on a day outside the calendar
        )
        return Staged(rows_read, options=options, spot=spot_frame, rejects=rejects)

    def finish(self) -> None:
        if self._junk_iv:
            self.note(
                f"kept {self._junk_iv:,} rows whose vendor IV is above {JUNK_IV:g} (max "
                f"{self._max_iv:g}; deep in-the-money junk): prefer recomputed IVs"
            )

    def _file_reason(
        self,
        file: InputFile,
        dated: date | None,
        quote_day: np.ndarray,
        out_of_range: np.ndarray,
        lines: np.ndarray,
    ) -> str | None:
        """Whole-file reason of a file whose name carries a date (rows outside the calendar
        are refused on their own, as ``date_out_of_range``, and do not count here)."""
        if dated is None:
            return None
        facts = self._days("SPX").facts(dated)
        if facts.trading is False:
            return "exchange_holiday_file"
        other = ~np.isnat(quote_day) & ~out_of_range & (quote_day != np.datetime64(dated, "D"))
        if other.any():
            self.note_mismatch_lines(file, "quotedate", dated, other, lines)
            return "quote_date_mismatch_file"
        return None

    @staticmethod
    def _occ_mismatch(
        occ: pa.Array, ok: np.ndarray, expiry: np.ndarray, right: np.ndarray, strike: np.ndarray
    ) -> np.ndarray:
        n = len(ok)
        occ_date = parse_date(pc.struct_field(occ, "date"), ("%y%m%d",)).values
        occ_right = np.asarray(pc.struct_field(occ, "right").to_numpy(zero_copy_only=False), object)
        occ_strike = parse_float(pc.struct_field(occ, "strike")).values / 1000.0
        with np.errstate(invalid="ignore"):
            differs = (
                (~np.isnat(expiry) & (occ_date != expiry))
                | ((right != "") & (occ_right != right))
                | (np.isfinite(strike) & (np.abs(occ_strike - strike) > 1e-6))
            )
        return np.asarray(ok & differs, dtype=bool).reshape(n)

    def _spot(
        self,
        file: InputFile,
        underlying: np.ndarray,
        quote_day: np.ndarray,
        close_ts: np.ndarray,
        spot: np.ndarray,
        lines: np.ndarray,
        trading: np.ndarray,
    ) -> pd.DataFrame:
        usable = (
            (underlying != "")
            & ~np.isnat(close_ts)
            & np.isfinite(spot)
            & (spot > 0)
            & (trading != False)  # noqa: E712
        )
        frame = pd.DataFrame(
            {
                "underlying": underlying[usable],
                "day": quote_day[usable],
                "ts": close_ts[usable],
                "spot": spot[usable],
                "_line": lines[usable],
            }
        )
        spread = frame.groupby(["underlying", "day"])["spot"].agg(["min", "max"])
        wide = spread[spread["max"] != spread["min"]]
        for key, lo, hi in zip(wide.index, wide["min"], wide["max"], strict=True):
            self.note(
                f"{file.display}: {key[0]} {pd.Timestamp(key[1]).date()} has underlying_last "
                f"from {lo} to {hi}; the first row's value is the spot bar"
            )
        first = frame.drop_duplicates(["underlying", "day"], keep="first")
        s = first["spot"].to_numpy()
        return pd.DataFrame(
            {
                "underlying": first["underlying"].to_numpy(),
                "day": first["day"].to_numpy(),
                "ts": first["ts"].to_numpy(),
                "open": s,
                "high": s,
                "low": s,
                "close": s,
                "volume": np.zeros(len(s), dtype=np.int64),
                "_file": file.index,
                "_line": first["_line"].to_numpy(),
                "_rank": 0.0,
            }
        )


def combine_chunks(chunks: list[CsvChunk], names: list[str]) -> CsvChunk:
    if len(chunks) == 1:
        return chunks[0]
    tables = [c.table for c in chunks] or [pa.table({n: pa.array([], pa.string()) for n in names})]
    lines = np.concatenate([c.lines for c in chunks]) if chunks else np.empty(0, np.int64)
    malformed = [m for c in chunks for m in c.malformed]
    return CsvChunk(pa.concat_tables(tables), lines, malformed)


def concat_rejects(*tables: pa.Table | None) -> pa.Table | None:
    present = [t for t in tables if t is not None and t.num_rows]
    if not present:
        return None
    return pa.concat_tables(present, promote_options="permissive")
