"""``nse-chain``: NSE option-chain snapshots, calls and puts side by side (set 4).

One Parquet file per snapshot (``NIFTY_20250829_092416.parquet``), one row per (expiry, strike)
with ``CALLS_*`` and ``PUTS_*`` fields. Columns::

    required  Fetch_Time, Expiry_Date, Strike_Price, and for CALLS_ and PUTS_:
              OI, Volume, IV, LTP, Bid_Price, Ask_Price
    optional  Symbol, index_name, collection_timestamp, date, and for CALLS_/PUTS_:
              Chng_in_OI, Net_Chng (not stored), Bid_Qty, Ask_Qty

Each input row holds two quotes (call and put): counts are per side, so a file of ``n`` rows
reads ``2n`` rows, and each side is accepted or quarantined on its own (``line`` is the
1-based row number in the file; rejects carry ``side``).

Mapping to the canonical layout (1-minute dataset, ``Asia/Kolkata``):

- Underlying: ``Symbol`` (else ``index_name``, else the file name's prefix).
- ``ts``: ``Fetch_Time`` (NSE's as-of time) floored to its minute, the minute bar that holds it
  (bars are labelled by their start, like the GDFL minute files). Two snapshots in the same
  minute: the later ``Fetch_Time`` is kept (the minute's close), the other's rows are
  quarantined as ``duplicate_key``; identical ``Fetch_Time`` (NSE had not updated) keeps the
  first file.
- Prices: NSE writes 0 for "none" (no trade, no bid, no offer), so 0 becomes NaN.
  ``open = high = low = close = LTP`` when LTP > 0, else NaN (a snapshot is not a bar);
  ``bid``/``ask`` from the best bid/offer.
- ``volume``: NSE gives the day's cumulative volume (contracts); the stored volume is the
  difference from the same contract's previous kept snapshot that day (the first snapshot keeps
  the cumulative figure, which includes the trading before it; a decrease, an NSE revision,
  gives 0).
- ``oi``: NSE reports open interest in contracts of the current lot size, fractional for
  positions opened under an older lot size (12.666667 = 950 units / 75); stored rounded to
  whole contracts.
- ``iv``: NSE percent -> decimal; 0 (none published) -> NaN. No Greeks are given.
- ``bid_size`` / ``ask_size`` (when the file has ``Bid_Qty`` / ``Ask_Qty``): NSE quotes the
  quantity at the best bid / offer in units of the underlying (multiples of the lot, 75 for
  NIFTY in Aug 2025); stored in contracts, ``quantity / lot size`` of the quote day; 0 or
  missing (no bid, no offer) -> NaN. The liquidity fill model caps an order by them.
- Spot is not in the data: for each snapshot it is derived from put-call parity on the nearest
  expiry (:func:`workbench.data.ingest.parity.parity_spot`, ``r`` = :data:`PARITY_RATE`,
  ``T`` to 15:30 IST on expiry) and written as the spot bar at the same ``ts`` (open = high =
  low = close, volume 0). The catalog's ``source`` says so. A snapshot whose chain does not
  bracket the money gets no spot bar (a note says which).

Whole-file checks: a file whose name's date is not an NSE trading day is refused as
``exchange_holiday_file`` (set 4's stale 2025-08-27 files); a ``Fetch_Time`` on another day
than the name's as ``quote_date_mismatch_file`` (a note names the lines). Row rules:
:mod:`rules`, plus ``outside_session`` for a ``Fetch_Time`` outside the day's session
(09:15-15:30, or a special session's hours and breaks). A file whose name's prefix names
another underlying than its ``Symbol`` column (a NIFTY file holding BANKNIFTY) is stored under
the column's underlying, with a note the catalog keeps with the input.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time
from typing import ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from workbench.data.ingest.base import Adapter, InputFile, Staged
from workbench.data.ingest.cboe import name_date
from workbench.data.ingest.daybuffer import Columns
from workbench.data.ingest.errors import UnreadableFileError
from workbench.data.ingest.fields import Parsed, parse_date, parse_datetime, parse_float
from workbench.data.ingest.parity import PARITY_STRIKES, parity_spot
from workbench.data.ingest.quarantine import reject_rows
from workbench.data.ingest.rules import first_reason, quote_checks
from workbench.data.ingest.sources import check_header
from workbench.model.instruments import UnknownInstrumentError, get_instrument

#: Annual rate (decimal, continuous) used in the parity spot: RBI repo rate 5.50% (June 2025).
PARITY_RATE = 0.055
SIDE_FIELDS = ("OI", "Volume", "IV", "LTP", "Bid_Price", "Ask_Price")
SIDE_OPTIONAL = ("Chng_in_OI", "Net_Chng", "Bid_Qty", "Ask_Qty")
SIDES = (("C", "CALLS_"), ("P", "PUTS_"))
REQUIRED = (
    "Fetch_Time",
    "Expiry_Date",
    "Strike_Price",
    *(p + f for _, p in SIDES for f in SIDE_FIELDS),
)
OPTIONAL = (
    "Symbol",
    "index_name",
    "collection_timestamp",
    "date",
    *(p + f for _, p in SIDES for f in SIDE_OPTIONAL),
)
FETCH_FORMATS = ("%d-%b-%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S")
EXPIRY_FORMATS = ("%d-%b-%Y", "%Y-%m-%d")
SETTLEMENT = time(15, 30)
_YEAR_S = 365.0 * 86400.0


class NseChainAdapter(Adapter):
    """See the module docstring."""

    name: ClassVar[str] = "nse-chain"
    suffixes: ClassVar[tuple[str, ...]] = (".parquet",)
    venue = "NSE"
    timezone = "Asia/Kolkata"
    bar_interval = "1min"

    def __init__(self, underlying: str | None = None, rate: float = PARITY_RATE) -> None:
        super().__init__(underlying)
        self.rate = rate

    def source_note(self) -> str:
        return (
            f"ingest {self.name} (spot derived from put-call parity on the nearest expiry, "
            f"median over the {PARITY_STRIKES} strikes nearest the money, r={self.rate})"
        )

    def read(self, file: InputFile) -> Iterator[Staged]:
        raw = _read_parquet(file)
        check_header(file.path, raw.column_names, REQUIRED, OPTIONAL)
        yield self._stage(file, raw)

    def _underlying(self, file: InputFile, raw: pa.Table) -> str:
        named = file.path.name.split("_")[0].strip().upper()
        for col in ("Symbol", "index_name"):
            if col in raw.column_names:
                values = [v for v in pd.unique(raw.column(col).to_numpy()) if isinstance(v, str)]
                if len(values) > 1:
                    raise UnreadableFileError(f"{file.path}: column {col!r} holds {values}")
                if values:
                    stated = _known(file, values[0].strip().upper())
                    if named and named != stated and _is_instrument(named):
                        self.note(
                            f"{file.display}: the file name says {named} but column {col!r} "
                            f"says {stated}; stored as {stated} (the data's own label)"
                        )
                    return stated
        return _known(file, named)

    def _stage(self, file: InputFile, raw: pa.Table) -> Staged:
        n = raw.num_rows
        lines = np.arange(1, n + 1, dtype=np.int64)
        long_raw = _long_raw(raw)
        long_lines = np.concatenate([lines, lines])
        rows_read = 2 * n
        if n == 0:
            return Staged(0)
        underlying = self._underlying(file, raw)
        venue = self._days(underlying)
        col = raw.column
        fetch = parse_datetime(_text(col("Fetch_Time")), FETCH_FORMATS)
        quote_day = fetch.values.astype("datetime64[D]")
        fetch_oor = venue.out_of_range(quote_day)
        self.note_out_of_range(file, "Fetch_Time", fetch_oor, col("Fetch_Time"), lines, venue)
        dated = name_date(file.path.name)
        file_reason = None
        if dated is not None:
            if venue.facts(dated).trading is False:
                file_reason = "exchange_holiday_file"
            else:
                other = ~np.isnat(quote_day) & ~fetch_oor & (quote_day != np.datetime64(dated, "D"))
                if other.any():
                    self.note_mismatch_lines(file, "Fetch_Time", dated, other, lines)
                    file_reason = "quote_date_mismatch_file"
        if file_reason is not None:
            reasons = np.where(fetch_oor, "date_out_of_range", file_reason).astype(object)
            return Staged(
                rows_read,
                rejects=reject_rows(
                    long_raw, long_lines, np.concatenate([reasons, reasons]), file.display
                ),
            )

        expiry = parse_date(_text(col("Expiry_Date")), EXPIRY_FORMATS)
        expiry_oor = venue.out_of_range(expiry.values, expiry=True)
        self.note_out_of_range(
            file,
            "Expiry_Date",
            expiry_oor & ~fetch_oor,
            col("Expiry_Date"),
            lines,
            venue,
            expiry=True,
        )
        strike = parse_float(_text(col("Strike_Price")))
        trading, _, _, step = venue.table(quote_day)
        ts = fetch.values.astype("datetime64[m]").astype("datetime64[us]")
        outside = venue.outside(quote_day, ts, close_inclusive=True)

        sides: dict[str, dict[str, Parsed]] = {
            right: {f: parse_float(_text(col(prefix + f))) for f in SIDE_FIELDS}
            for right, prefix in SIDES
        }

        def both(values: np.ndarray) -> np.ndarray:
            return np.concatenate([values, values])

        def side_values(field: str, none_zero: bool) -> np.ndarray:
            vals = np.concatenate([sides["C"][field].values, sides["P"][field].values])
            return np.where(vals == 0, np.nan, vals) if none_zero else vals

        def side_bad(field: str) -> np.ndarray:
            return np.concatenate([sides["C"][field].bad, sides["P"][field].bad])

        bid = side_values("Bid_Price", True)
        ask = side_values("Ask_Price", True)
        ltp = side_values("LTP", True)
        checks: list[tuple[str, np.ndarray]] = [
            ("missing_Fetch_Time", both(fetch.missing)),
            ("unparseable_Fetch_Time", both(fetch.bad)),
            ("missing_Expiry_Date", both(expiry.missing)),
            ("unparseable_Expiry_Date", both(expiry.bad)),
            ("missing_Strike_Price", both(strike.missing)),
            ("unparseable_Strike_Price", both(strike.bad)),
        ]
        for field in SIDE_FIELDS:
            checks.append((f"unparseable_{field}", side_bad(field)))
        checks.append(("date_out_of_range", both(fetch_oor | expiry_oor)))
        checks.append(("exchange_holiday", both(trading == False)))  # noqa: E712
        checks.append(("outside_session", both(outside)))
        checks += quote_checks(
            bid=bid,
            ask=ask,
            last=ltp,
            expiry=both(expiry.values),
            quote_date=both(quote_day),
            strike=both(strike.values),
            strike_step=both(step),
        )
        reasons = first_reason(checks, 2 * n)
        ok = reasons == ""
        rejects = reject_rows(long_raw, long_lines, reasons, file.display)

        idx = np.flatnonzero(ok)
        rights = np.array(["C"] * n + ["P"] * n, dtype=object)
        fetch_s = both(fetch.values.astype("datetime64[s]").astype(np.int64)).astype(float)
        iv = side_values("IV", True) / 100.0
        sizes = self._sizes(raw, underlying, quote_day)
        oi = side_values("OI", False)
        vol = side_values("Volume", False)
        options = pd.DataFrame(
            {
                "underlying": underlying,
                "day": both(quote_day)[idx],
                "ts": both(ts)[idx],
                "expiry": both(expiry.values)[idx],
                "strike": both(strike.values)[idx],
                "right": rights[idx],
                "open": ltp[idx],
                "high": ltp[idx],
                "low": ltp[idx],
                "close": ltp[idx],
                "bid": bid[idx],
                "ask": ask[idx],
                "volume": np.where(np.isfinite(vol[idx]), vol[idx], 0).astype(np.int64),
                "oi": np.rint(np.where(np.isfinite(oi[idx]), oi[idx], 0)).astype(np.int64),
                "iv": iv[idx],
                **{name: values[idx] for name, values in sizes.items()},
                "_file": file.index,
                "_line": long_lines[idx],
                "_rank": -fetch_s[idx],
            }
        )
        spot = self._spot(file, underlying, options)
        return Staged(rows_read, options=options, spot=spot, rejects=rejects)

    def _sizes(
        self, raw: pa.Table, underlying: str, quote_day: np.ndarray
    ) -> dict[str, np.ndarray]:
        """``bid_size`` / ``ask_size`` in contracts (calls then puts, as the long rows) from
        ``Bid_Qty`` / ``Ask_Qty`` in units; absent columns are not stored."""
        out: dict[str, np.ndarray] = {}
        days = quote_day.astype("datetime64[D]")
        lots = np.full(len(days), np.nan)
        try:
            spec = get_instrument(underlying)
        except UnknownInstrumentError:
            return out  # no lot size to count contracts by: sizes not stored
        for d in np.unique(days[~np.isnat(days)]):
            lots[days == d] = spec.lot_size(d.astype(object))
        lots2 = np.concatenate([lots, lots])
        for name, field in (("bid_size", "Bid_Qty"), ("ask_size", "Ask_Qty")):
            cols = [prefix + field for _, prefix in SIDES]
            if not all(c in raw.column_names for c in cols):
                continue
            units = np.concatenate([parse_float(_text(raw.column(c))).values for c in cols]).astype(
                np.float64
            )
            with np.errstate(invalid="ignore"):
                out[name] = np.where(np.isfinite(units) & (units > 0), units / lots2, np.nan)
        return out

    def _spot(self, file: InputFile, underlying: str, options: pd.DataFrame) -> pd.DataFrame | None:
        rows = []
        for (day, ts), snap in options.groupby(["day", "ts"], sort=True):
            stamp = pd.Timestamp(ts)  # type: ignore[arg-type]
            live = snap[snap["expiry"] >= pd.Timestamp(day)]  # type: ignore[arg-type]
            if live.empty:
                continue
            nearest = live[live["expiry"] == live["expiry"].min()]
            calls = nearest[nearest["right"] == "C"]
            puts = nearest[nearest["right"] == "P"]
            common, ci, pi = np.intersect1d(
                calls["strike"].to_numpy(float),
                puts["strike"].to_numpy(float),
                return_indices=True,
            )
            c_mid = (calls["bid"].to_numpy(float) + calls["ask"].to_numpy(float))[ci] / 2.0
            p_mid = (puts["bid"].to_numpy(float) + puts["ask"].to_numpy(float))[pi] / 2.0
            expiry = pd.Timestamp(nearest["expiry"].iloc[0]).to_pydatetime()
            settle = datetime.combine(expiry.date(), SETTLEMENT)
            t_years = (settle - stamp.to_pydatetime()).total_seconds() / _YEAR_S
            got = parity_spot(common, c_mid, p_mid, t_years, self.rate)
            if got is None:
                self.note(f"{file.display}: no parity spot at {stamp} (money not bracketed)")
                continue
            rank = float(snap["_rank"].iloc[0])
            rows.append((day, ts, got.spot, int(snap["_line"].min()), rank))
        if not rows:
            return None
        cols = list(zip(*rows, strict=True))
        spot = np.asarray(cols[2], dtype=float)
        return pd.DataFrame(
            {
                "underlying": underlying,
                "day": list(cols[0]),
                "ts": list(cols[1]),
                "open": spot,
                "high": spot,
                "low": spot,
                "close": spot,
                "volume": np.zeros(len(spot), dtype=np.int64),
                "_file": file.index,
                "_line": np.asarray(cols[3], dtype=np.int64),
                "_rank": np.asarray(cols[4], dtype=float),
            }
        )

    def finish_options(self, underlying: str, cols: Columns) -> Columns:
        """Cumulative volume -> volume since the contract's previous kept snapshot."""
        cumulative = cols["volume"].astype(np.int64)
        n = len(cumulative)
        same = np.zeros(n, dtype=bool)
        if n > 1:
            same[1:] = (
                (cols["expiry"][1:] == cols["expiry"][:-1])
                & (cols["strike"][1:] == cols["strike"][:-1])
                & (cols["right"][1:] == cols["right"][:-1])
            )
        delta = np.zeros(n, dtype=np.int64)
        if n > 1:
            delta[1:] = cumulative[1:] - cumulative[:-1]
        out = dict(cols)
        out["volume"] = np.where(same, np.maximum(delta, 0), cumulative)
        return out


def _is_instrument(name: str) -> bool:
    try:
        get_instrument(name)
    except UnknownInstrumentError:
        return False
    return True


def _known(file: InputFile, name: str) -> str:
    try:
        return get_instrument(name).name
    except UnknownInstrumentError as exc:
        raise UnreadableFileError(f"{file.path}: {exc}") from None


def _read_parquet(file: InputFile) -> pa.Table:
    if not file.path.is_file():
        raise UnreadableFileError(f"{file.path}: no such file")
    try:
        return pq.read_table(file.path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise UnreadableFileError(f"{file.path}: cannot read as Parquet ({exc})") from None


def _text(col: pa.ChunkedArray) -> pa.Array:
    arr = col.combine_chunks()
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        return arr
    return arr.cast(pa.string())


def _long_raw(raw: pa.Table) -> pa.Table:
    """Each input row twice (call side, then put side) with a ``side`` column, for rejects."""
    doubled = pa.concat_tables([raw, raw])
    side = pa.array(["C"] * raw.num_rows + ["P"] * raw.num_rows, pa.string())
    return doubled.append_column("side", side)
