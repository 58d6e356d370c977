"""``orats``: ORATS daily snapshot CSVs (seed 003, Appendix A).

Columns (one row per contract)::

    required  ticker, tradeDate, expirDate, strike, optionType, bid, ask, stockPrice
    optional  mid, last, volume, openInterest, delta, gamma, theta, vega, rho,
              impliedVolatility, underlyingBid, underlyingAsk

Mapping to the canonical layout (an end-of-day, ``1d`` dataset, America/New_York):

- Underlying: ``ticker`` (a registered US underlying: SPX, SPXW, SPY, QQQ, IWM, NDXP;
  another ticker is refused as ``unknown_ticker``); ``--underlying`` overrides it.
- Dates ``YYYY-MM-DD`` (``MM/DD/YYYY`` also accepted). ORATS takes its snapshot 14 minutes
  before the close, so ``ts`` is the session close minus 14 minutes (15:46 ET; 12:46 on early
  closes), exchange-local.
- ``optionType`` ``C``/``P`` (``call``/``put`` accepted). ``close`` is ``last`` (NaN when 0 or
  empty), ``open/high/low`` NaN; ``bid``/``ask`` as given (a zero bid kept).
- ``iv`` = ``impliedVolatility`` (annualised decimal; 0 -> NaN), ``delta``, ``gamma``,
  ``theta``, ``vega`` as ORATS gives them (vendor units: ORATS quotes theta per day and vega
  per vol point, unlike workbench.pricing's per year and per 1.00). ``mid`` (derived), ``rho``
  and the underlying's bid/ask are not stored (the canonical layout has no place for them).
- The daily spot bar of each ticker is ``stockPrice`` (open = high = low = close, volume 0) from
  the first accepted row of the day.

Whole-file and row rules are those of ``cboe-eod`` (:mod:`.cboe`, :mod:`.rules`): a dated file
name on a non-trading day -> ``exchange_holiday_file``; a trade date other than the name's ->
``quote_date_mismatch_file``; per row ``exchange_holiday``, ``negative_price``, ``bid_gt_ask``,
``no_price``, ``expiry_before_quote_date``, ``strike_off_grid``, unparseable/missing fields and
duplicate keys. Deltas are stored signed per right (calls 0..1, puts -1..0): a file whose put
deltas are unsigned is detected and converted (:func:`signed_put_deltas`; a note names the file
and the convention); put deltas of both signs in one file are refused row by row as
``put_delta_sign``, negative call deltas as ``call_delta_sign``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import ClassVar

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from workbench.data.ingest.base import Adapter, InputFile, Staged
from workbench.data.ingest.cboe import (
    blank_rows,
    combine_chunks,
    concat_rejects,
    name_date,
    parse_right,
)
from workbench.data.ingest.csvchunks import CsvChunk, iter_csv_chunks
from workbench.data.ingest.errors import HeaderError
from workbench.data.ingest.fields import (
    Parsed,
    eod_option_frame,
    parse_date,
    parse_float,
    parse_int,
)
from workbench.data.ingest.quarantine import BLANK, malformed_rows, reject_rows
from workbench.data.ingest.rules import first_reason, quote_checks
from workbench.data.ingest.sources import check_header, read_header
from workbench.model.instruments import UnknownInstrumentError, get_instrument

REQUIRED = ("ticker", "tradeDate", "expirDate", "strike", "optionType", "bid", "ask", "stockPrice")
OPTIONAL = (
    "mid",
    "last",
    "volume",
    "openInterest",
    "delta",
    "gamma",
    "theta",
    "vega",
    "rho",
    "impliedVolatility",
    "underlyingBid",
    "underlyingAsk",
)
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y")
GREEKS = {
    "impliedVolatility": "iv",
    "delta": "delta",
    "gamma": "gamma",
    "theta": "theta",
    "vega": "vega",
}
#: ORATS snapshots are taken this long before the close.
SNAPSHOT_BEFORE_CLOSE = np.timedelta64(14, "m")


class OratsAdapter(Adapter):
    """See the module docstring."""

    name: ClassVar[str] = "orats"
    takes_underlying: ClassVar[bool] = True
    venue = "CBOE"
    timezone = "America/New_York"
    bar_interval = "1d"

    def __init__(self, underlying: str | None = None) -> None:
        super().__init__(underlying)
        self.override = _registered(underlying, "--underlying") if underlying else None

    def read(self, file: InputFile) -> Iterator[Staged]:
        names = read_header(file.path)
        check_header(file.path, names, REQUIRED, OPTIONAL)
        dated = name_date(file.path.name)
        chunks: Iterator[CsvChunk] = iter_csv_chunks(file.path, names)
        if dated is not None:
            chunks = iter([combine_chunks(list(chunks), names)])
        for chunk in chunks:
            yield self._stage(file, chunk, dated)

    def _tickers(self, file: InputFile, raw_ticker: np.ndarray) -> np.ndarray:
        if self.override:
            return np.full(len(raw_ticker), self.override, dtype=object)
        out = np.full(len(raw_ticker), "", dtype=object)
        for t in pd.unique(raw_ticker):
            text = str(t).strip().upper()
            if not text:
                continue
            try:
                out[raw_ticker == t] = get_instrument(text).name
            except UnknownInstrumentError:
                out[raw_ticker == t] = None  # refused as unknown_ticker
        return out

    def _stage(self, file: InputFile, chunk: CsvChunk, dated: date | None) -> Staged:
        raw, lines = chunk.table, chunk.lines
        n = raw.num_rows
        bad_lines = malformed_rows(chunk.malformed, file.display)
        rows_read = n + len(chunk.malformed)
        if n == 0:
            return Staged(rows_read, rejects=bad_lines)
        col = raw.column
        names = raw.column_names
        trade = parse_date(col("tradeDate"), DATE_FORMATS)
        underlying = self._tickers(file, np.asarray(col("ticker").to_numpy(), dtype=object))
        first = next((str(u) for u in underlying if u), None)
        venue = self._days(first or "SPX")  # ORATS covers US listings: one calendar (XNYS)
        trade_oor = venue.out_of_range(trade.values)
        self.note_out_of_range(file, "tradeDate", trade_oor, col("tradeDate"), lines, venue)
        if dated is not None:
            reason = None
            if first is not None and venue.facts(dated).trading is False:
                reason = "exchange_holiday_file"
            else:
                other = (
                    ~np.isnat(trade.values)
                    & ~trade_oor
                    & (trade.values != np.datetime64(dated, "D"))
                )
                if other.any():
                    self.note_mismatch_lines(file, "tradeDate", dated, other, lines)
                    reason = "quote_date_mismatch_file"
            if reason is not None:
                reasons = np.where(trade_oor, "date_out_of_range", reason).astype(object)
                return Staged(
                    rows_read,
                    rejects=concat_rejects(
                        reject_rows(raw, lines, reasons, file.display), bad_lines
                    ),
                )
        expiry = parse_date(col("expirDate"), DATE_FORMATS)
        expiry_oor = venue.out_of_range(expiry.values, expiry=True)
        self.note_out_of_range(
            file, "expirDate", expiry_oor & ~trade_oor, col("expirDate"), lines, venue, expiry=True
        )
        strike = parse_float(col("strike"))
        bid = parse_float(col("bid"))
        ask = parse_float(col("ask"))
        spot = parse_float(col("stockPrice"))
        right, right_bad = parse_right(col("optionType"))
        last: Parsed | None = parse_float(col("last")) if "last" in names else None
        volume = parse_int(col("volume")) if "volume" in names else None
        oi = parse_int(col("openInterest")) if "openInterest" in names else None
        greeks = {dst: parse_float(col(src)) for src, dst in GREEKS.items() if src in names}

        trading = np.full(n, None, dtype=object)
        close_ts = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
        step = np.full(n, np.nan)
        known = np.array([bool(u) for u in underlying], dtype=bool)
        for u in pd.unique(underlying[known]):
            mask = known & (underlying == u)
            trading[mask], close_ts[mask], step[mask] = self._days(str(u)).arrays(
                trade.values[mask]
            )
        ts = close_ts - SNAPSHOT_BEFORE_CLOSE
        last_v = last.values if last is not None else np.full(n, np.nan)

        checks: list[tuple[str, np.ndarray]] = [(BLANK, blank_rows(raw))]
        ticker_text = np.asarray(pc.utf8_trim_whitespace(col("ticker")).to_numpy(), dtype=object)
        checks.append(("missing_ticker", ticker_text == ""))
        checks.append(("unknown_ticker", np.array([u is None for u in underlying], dtype=bool)))
        for field, parsed in (
            ("tradeDate", trade),
            ("expirDate", expiry),
            ("strike", strike),
            ("bid", bid),
            ("ask", ask),
        ):
            checks.append((f"missing_{field}", parsed.missing))
            checks.append((f"unparseable_{field}", parsed.bad))
        checks.append(("date_out_of_range", trade_oor | expiry_oor))
        checks.append(("unparseable_optionType", right_bad))
        checks.append(("unparseable_stockPrice", spot.bad))
        for field, maybe in (("last", last), ("volume", volume), ("openInterest", oi)):
            if maybe is not None:
                checks.append((f"unparseable_{field}", maybe.bad))
        for src, dst in GREEKS.items():
            if dst in greeks:
                checks.append((f"unparseable_{src}", greeks[dst].bad))
        if "delta" in greeks:
            raw_delta = greeks["delta"].values
            is_put = right == "P"
            signed, convention = signed_put_deltas(raw_delta, is_put, strike.values, spot.values)
            if convention in ("absolute", "call delta"):
                greeks["delta"] = Parsed(signed, greeks["delta"].missing, greeks["delta"].bad)
                self.note(
                    f"{file.display}: put deltas are unsigned ({convention} convention): "
                    "stored signed (puts -1..0)"
                )
            elif convention == "mixed":
                checks.append(("put_delta_sign", is_put & (raw_delta > 1e-9)))
            checks.append(("call_delta_sign", (right == "C") & (greeks["delta"].values < -1e-9)))
        checks.append(("exchange_holiday", trading == False))  # noqa: E712
        checks += quote_checks(
            bid=bid.values,
            ask=ask.values,
            last=last_v,
            expiry=expiry.values,
            quote_date=trade.values,
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
            day=trade.values,
            ts=ts,
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
            values = parsed.values[idx]
            options[field] = np.where(values == 0.0, np.nan, values) if field == "iv" else values

        options["_file"] = file.index
        options["_line"] = lines[idx]
        options["_rank"] = 0.0
        spot_rows = options[["underlying", "day", "ts", "_file", "_line", "_rank"]].assign(
            close=spot.values[idx]
        )
        spot_rows = spot_rows[np.isfinite(spot_rows["close"]) & (spot_rows["close"] > 0)]
        spot_rows = spot_rows.drop_duplicates(["underlying", "day"], keep="first")
        spot_frame = spot_rows.assign(
            open=spot_rows["close"],
            high=spot_rows["close"],
            low=spot_rows["close"],
            volume=np.zeros(len(spot_rows), dtype=np.int64),
        )
        return Staged(rows_read, options=options, spot=spot_frame, rejects=rejects)


#: A file's put deltas are "unsigned" when at least this share of them is positive.
UNSIGNED_SHARE = 0.95


def signed_put_deltas(
    delta: np.ndarray, is_put: np.ndarray, strike: np.ndarray, spot: np.ndarray
) -> tuple[np.ndarray, str]:
    """Put deltas made negative when a file gives them unsigned, and the convention found.

    ``"signed"``: puts already <= 0 (kept). Otherwise, when at least :data:`UNSIGNED_SHARE` of
    the finite put deltas are > 0, out-of-the-money puts (strike below spot) say which vendor
    convention it is: small values (median < 0.5) are absolute values, stored as ``-delta``
    (``"absolute"``); values near 1 are the call's delta, stored as ``delta - 1``
    (``"call delta"``). Anything else is ``"mixed"`` and left for the caller to refuse.
    """
    puts = is_put & np.isfinite(delta) & (delta != 0.0)
    if not puts.any() or not (delta[puts] > 1e-9).any():
        return delta, "signed"
    if (delta[puts] > 0).mean() < UNSIGNED_SHARE:
        return delta, "mixed"
    otm = puts & (strike < spot)
    sample = delta[otm] if otm.any() else delta[puts]
    out = delta.copy()
    if float(np.median(sample)) < 0.5:
        out[puts] = -delta[puts]
        return out, "absolute"
    out[puts] = delta[puts] - 1.0
    return out, "call delta"


def _registered(name: str, where: object) -> str:
    try:
        return get_instrument(name).name
    except UnknownInstrumentError as exc:
        raise HeaderError(
            f"{where}: ticker {name!r} is not a registered underlying ({exc})"
        ) from None
