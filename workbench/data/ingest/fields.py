"""Vectorised parsing of text columns into numbers and dates, flagging what does not parse.

Every parser takes a PyArrow string column (as :mod:`csvchunks` reads it) and returns NumPy
arrays plus a boolean ``bad`` mask: True where the text is present but is not a value of the
expected kind. Empty text is "missing", not "bad": the caller decides whether a missing value
is allowed (a missing ``last`` is; a missing ``strike`` is not).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class Parsed:
    """``values`` (NaN/NaT where missing or bad), ``missing`` (empty text), ``bad`` (no parse)."""

    values: np.ndarray
    missing: np.ndarray
    bad: np.ndarray


def _stripped(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
        arr = pc.cast(arr, pa.string())
    return pc.utf8_trim_whitespace(arr)


def _empty_mask(arr: pa.Array) -> np.ndarray:
    empty = pc.or_kleene(pc.is_null(arr), pc.equal(arr, ""))
    return np.asarray(empty.to_numpy(zero_copy_only=False), dtype=bool)


def parse_float(col: pa.ChunkedArray | pa.Array) -> Parsed:
    """Decimal text to float64; ``nan``/``inf`` spellings count as bad (not market values)."""
    arr = _stripped(col)
    missing = _empty_mask(arr)
    text = pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), arr)
    try:
        values = np.asarray(pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False), float)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        series = pd.Series(text.to_numpy(zero_copy_only=False), dtype=object)
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~missing & ~np.isfinite(values)
    values = np.where(bad, np.nan, values)
    return Parsed(values, missing, bad)


def parse_int(col: pa.ChunkedArray | pa.Array) -> Parsed:
    """Whole-number text (``12`` or ``12.0``) to float64 holding integers; fractions are bad."""
    parsed = parse_float(col)
    frac = np.isfinite(parsed.values) & (parsed.values != np.round(parsed.values))
    bad = parsed.bad | frac
    return Parsed(np.where(bad, np.nan, parsed.values), parsed.missing, bad)


def parse_date(col: pa.ChunkedArray | pa.Array, formats: Sequence[str]) -> Parsed:
    """Date text to ``datetime64[D]`` trying each ``strptime`` format in turn (first wins).

    Formats with different separators are unambiguous (``%m/%d/%Y`` and ``%Y-%m-%d``); never
    pass both ``%m/%d/%Y`` and ``%d/%m/%Y``.
    """
    return _parse_times(col, formats, "datetime64[D]")


def parse_datetime(col: pa.ChunkedArray | pa.Array, formats: Sequence[str]) -> Parsed:
    """Date-time text to ``datetime64[s]`` (naive) trying each format in turn."""
    return _parse_times(col, formats, "datetime64[s]")


def _parse_times(col: pa.ChunkedArray | pa.Array, formats: Sequence[str], dtype: str) -> Parsed:
    """Text to ``dtype`` trying each ``strptime`` format in turn (the first that reads wins)."""
    arr = _stripped(col)
    missing = _empty_mask(arr)
    out: pa.Array | None = None
    for fmt in formats:
        got = pc.strptime(arr, format=fmt, unit="s", error_is_null=True)
        out = got if out is None else pc.coalesce(out, got)
    assert out is not None
    values = np.asarray(out.to_numpy(zero_copy_only=False)).astype(dtype)
    bad = ~missing & np.isnat(values)
    return Parsed(values, missing, bad)


def ints_or_zero(parsed: object, idx: np.ndarray) -> np.ndarray:
    """Whole numbers of a parsed column at ``idx`` (missing and unparsed values 0); zeros when
    the column is absent (``parsed`` not a :class:`Parsed`)."""
    if not isinstance(parsed, Parsed):
        return np.zeros(len(idx), dtype=np.int64)
    values = parsed.values[idx]
    return np.where(np.isfinite(values), values, 0).astype(np.int64)


def eod_option_frame(
    idx: np.ndarray,
    *,
    underlying: np.ndarray,
    day: np.ndarray,
    ts: np.ndarray,
    expiry: Parsed,
    strike: Parsed,
    right: np.ndarray,
    last: np.ndarray,
    bid: Parsed,
    ask: Parsed,
    volume: object,
    oi: object,
) -> pd.DataFrame:
    """Accepted rows ``idx`` of an end-of-day chain file in the canonical option columns: no
    open/high/low, the last trade as the close (a last of 0 means none: NaN), bid/ask as quoted,
    volume and open interest as whole numbers (0 when absent)."""
    last_v = last[idx]
    return pd.DataFrame(
        {
            "underlying": underlying[idx],
            "day": day[idx],
            "ts": ts[idx],
            "expiry": expiry.values[idx],
            "strike": strike.values[idx],
            "right": right[idx],
            "open": np.nan,
            "high": np.nan,
            "low": np.nan,
            "close": np.where(last_v > 0, last_v, np.nan),
            "bid": bid.values[idx],
            "ask": ask.values[idx],
            "volume": ints_or_zero(volume, idx),
            "oi": ints_or_zero(oi, idx),
        }
    )
