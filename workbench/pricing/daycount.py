"""Time to expiry in years: ACT/365 (fixed) on exact timestamps, never negative.

``year_fraction(valuation_ts, expiry_ts) = max(expiry_ts - valuation_ts, 0) / 365 days``, to the
nanosecond: one calendar day is 1/365, one minute 1/525,600, whatever the weekday or holiday
(calendar time, the convention of theta "per year" in :mod:`workbench.pricing`). Timestamps are
exchange-local and naive, as everywhere in the workbench; time-zone-aware values are refused
rather than silently converted.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import numpy as np

SECONDS_PER_YEAR = 365.0 * 86_400.0
NS_PER_YEAR = SECONDS_PER_YEAR * 1e9


def _as_naive_datetime(value: date, name: str) -> datetime:
    if type(value) is date:
        return datetime(value.year, value.month, value.day)
    assert isinstance(value, datetime)
    if value.tzinfo is not None and value.utcoffset() is not None:
        raise ValueError(
            f"{name}: time-zone-aware timestamps are not accepted; pass exchange-local naive "
            f"timestamps (got zone {value.tzinfo})"
        )
    return value


def years_between(valuation: datetime | date, expiry: datetime | date) -> float:
    """:func:`year_fraction` for two plain ``datetime`` (or ``date`` = midnight) scalars, in pure
    Python: ``max(expiry - valuation, 0)`` in integer nanoseconds / :data:`NS_PER_YEAR`.

    Bit-identical to :func:`year_fraction` on the same values (the same integer difference, the
    same conversion to float and the same division) at about a hundredth of its cost; the engine
    calls it per fill, per mark and per chain snapshot. Time-zone-aware values raise
    ``ValueError`` naming the argument.
    """
    for name, value in (("valuation", valuation), ("expiry", expiry)):
        if not isinstance(value, date):
            raise TypeError(f"{name}: expected a datetime or date, got {value!r:.80}")
    delta = _as_naive_datetime(expiry, "expiry") - _as_naive_datetime(valuation, "valuation")
    ns = (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000
    return max(ns, 0) / NS_PER_YEAR


def _plain(value: Any) -> bool:
    """A ``datetime``/``date`` without sub-microsecond parts (not a pandas/NumPy scalar)."""
    return type(value) is datetime or type(value) is date


def to_naive_ns(value: Any, name: str) -> np.ndarray:
    """Timestamps (scalar, array, Series, dates) as int64 ns since the epoch; NaT stays NaT.

    Raises ``ValueError`` naming ``name`` for time-zone-aware or unparseable values.
    """
    import pandas as pd  # on first use, keeping `import workbench.pricing` light

    try:
        if np.ndim(value) == 0 and not isinstance(value, np.ndarray):
            stamps = pd.DatetimeIndex([pd.Timestamp(value)])
        else:
            stamps = pd.DatetimeIndex(pd.to_datetime(np.asarray(value).reshape(-1)))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: cannot read {value!r:.80} as timestamps ({exc})") from exc
    if stamps.tz is not None:
        raise ValueError(
            f"{name}: time-zone-aware timestamps are not accepted; pass exchange-local naive "
            f"timestamps (got zone {stamps.tz})"
        )
    return stamps.as_unit("ns").asi8


def year_fraction(valuation_ts: Any, expiry_ts: Any) -> Any:
    """Years from ``valuation_ts`` to ``expiry_ts`` (ACT/365 on exact timestamps), floored at 0.

    Accepts ``datetime``/``pd.Timestamp``/``np.datetime64`` scalars or arrays (broadcast against
    each other). Returns a float for two scalars, else a float64 array of the broadcast shape.
    NaT gives NaN. Two plain ``datetime``/``date`` scalars take :func:`years_between`'s pure
    Python path (same result, no pandas).
    """
    if _plain(valuation_ts) and _plain(expiry_ts):
        return years_between(valuation_ts, expiry_ts)
    scalar = np.ndim(valuation_ts) == 0 and np.ndim(expiry_ts) == 0
    val = to_naive_ns(valuation_ts, "valuation_ts")
    exp = to_naive_ns(expiry_ts, "expiry_ts")
    val_shape = np.shape(valuation_ts) if np.ndim(valuation_ts) else ()
    exp_shape = np.shape(expiry_ts) if np.ndim(expiry_ts) else ()
    try:
        val_b, exp_b = np.broadcast_arrays(val.reshape(val_shape), exp.reshape(exp_shape))
    except ValueError:
        raise ValueError(
            f"valuation_ts shape {val_shape} and expiry_ts shape {exp_shape} do not broadcast"
        ) from None
    nat = np.iinfo(np.int64).min
    missing = (val_b == nat) | (exp_b == nat)
    years = np.where(missing, np.nan, np.maximum(exp_b - val_b, 0) / NS_PER_YEAR)
    if scalar:
        return float(years.reshape(()))
    return years
