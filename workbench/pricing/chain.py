"""``enrich_chain``: implied volatility and Greeks for every row of an option chain DataFrame.

The pandas-facing edge of the pricing layer: it reads columns, works out time to expiry and
calls the array functions of :mod:`workbench.pricing.black_scholes` and
:mod:`workbench.pricing.implied`.

Time to expiry (:func:`workbench.pricing.year_fraction`, ACT/365 on exact timestamps) runs from
the valuation timestamp to the contract's settlement: the expiry date at ``settlement_time`` if
given, else at the instrument registry's ``settlement_clock`` for ``underlying`` (09:30 for
AM-settled SPX, the close for most others), else at 16:00. Times are exchange-local and naive.
It never goes negative: at or after settlement an option is worth its intrinsic value, its
``iv`` is NaN (no volatility is defined) and its Greeks are the payoff's (delta 1/0, or 0.5
exactly at the money, the rest 0).
"""

from __future__ import annotations

from datetime import time
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.pricing.black_scholes import black76_greeks, bs_greeks
from workbench.pricing.daycount import NS_PER_YEAR, to_naive_ns
from workbench.pricing.implied import black76_implied_vol, implied_vol
from workbench.pricing.inputs import _as_is_call

if TYPE_CHECKING:  # pandas is imported on first use, keeping `import workbench.pricing` light
    import pandas as pd

#: Settlement time of day used when neither ``settlement_time`` nor ``underlying`` is given.
DEFAULT_SETTLEMENT_TIME = time(16, 0)
ADDED_COLUMNS: tuple[str, ...] = ("iv", "delta", "gamma", "vega", "theta")


def settlement_clock(underlying: str | None, settlement_time: time | None = None) -> time:
    """Time of day (exchange-local) at which options on ``underlying`` settle on expiry day.

    ``settlement_time`` wins when given; else the registry's ``settlement_clock`` for
    ``underlying`` (``UnknownInstrumentError`` if the registry does not know it); else 16:00.
    """
    if settlement_time is not None:
        if not isinstance(settlement_time, time):
            raise ValueError(f"settlement_time must be a datetime.time, got {settlement_time!r}")
        return settlement_time
    if underlying is None:
        return DEFAULT_SETTLEMENT_TIME
    from workbench.model.instruments import get_instrument

    return get_instrument(underlying).settlement_clock


def chain_price(frame: pd.DataFrame) -> np.ndarray:
    """Default option price of each row: the bid/ask mid when both are > 0, else ``close``."""
    close = _column(frame, "close")
    if "bid" in frame.columns and "ask" in frame.columns:
        bid = frame["bid"].to_numpy(dtype=np.float64, na_value=np.nan)
        ask = frame["ask"].to_numpy(dtype=np.float64, na_value=np.nan)
        quoted = (bid > 0.0) & (ask > 0.0) & (ask >= bid)
        return np.where(quoted, 0.5 * (bid + ask), close)
    return close


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        raise ValueError(
            f"enrich_chain: frame has no column {name!r} (columns: {list(frame.columns)})"
        )
    try:
        return frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"enrich_chain: column {name!r} is not numeric ({exc})") from exc


def _per_row(value: Any, frame: pd.DataFrame, name: str) -> np.ndarray:
    """A scalar, a column name, or one value per row, as a float64 array of len(frame)."""
    if isinstance(value, str):
        return _column(frame, value)
    import pandas as pd

    if isinstance(value, pd.Series):
        value = value.reindex(frame.index).to_numpy(dtype=np.float64, na_value=np.nan)
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        return np.full(len(frame), float(arr))
    if arr.shape != (len(frame),):
        raise ValueError(
            f"enrich_chain: {name} has shape {arr.shape}; expected a scalar or ({len(frame)},)"
        )
    return arr


def time_to_settlement(
    frame: pd.DataFrame,
    valuation_ts: Any = None,
    *,
    underlying: str | None = None,
    settlement_time: time | None = None,
) -> np.ndarray:
    """Years (ACT/365, floored at 0) from valuation to settlement for every row of ``frame``.

    ``valuation_ts`` is one timestamp, or ``None`` to use the frame's ``ts`` column.
    """
    clock = settlement_clock(underlying, settlement_time)
    if "expiry" not in frame.columns:
        raise ValueError(
            f"enrich_chain: frame has no column 'expiry' (columns: {list(frame.columns)})"
        )
    expiry_ns = to_naive_ns(frame["expiry"].to_numpy(), "column 'expiry'")
    offset_ns = ((clock.hour * 60 + clock.minute) * 60 + clock.second) * 1_000_000_000
    offset_ns += clock.microsecond * 1000
    nat = np.iinfo(np.int64).min
    midnight = np.where(expiry_ns == nat, nat, expiry_ns - expiry_ns % (86_400 * 1_000_000_000))
    if valuation_ts is None:
        if "ts" not in frame.columns:
            raise ValueError("enrich_chain: valuation_ts not given and frame has no column 'ts'")
        val_ns = to_naive_ns(frame["ts"].to_numpy(), "column 'ts'")
    else:
        val_ns = np.broadcast_to(to_naive_ns(valuation_ts, "valuation_ts"), expiry_ns.shape)
    missing = (midnight == nat) | (val_ns == nat)
    delta_ns = np.where(missing, 0, midnight + offset_ns - val_ns)
    years = np.maximum(delta_ns, 0).astype(np.float64) / NS_PER_YEAR
    years[missing] = np.nan
    return years


def enrich_chain(
    frame: pd.DataFrame,
    spot: Any = None,
    r: Any = 0.0,
    valuation_ts: Any = None,
    *,
    q: Any = 0.0,
    forward: Any = None,
    underlying: str | None = None,
    settlement_time: time | None = None,
    price_column: str | None = None,
) -> pd.DataFrame:
    """Return a copy of ``frame`` with ``iv, delta, gamma, vega, theta`` columns added.

    Parameters
    ----------
    frame
        Chain rows with columns ``expiry`` (date), ``strike``, ``right`` (``"C"``/``"P"``) and
        prices: ``price_column``, or by default the bid/ask mid when both are > 0, else ``close``.
        A ``ts`` column is used as the valuation time when ``valuation_ts`` is None.
    spot, forward
        Exactly one: the spot (Black-Scholes-Merton with dividend yield ``q``) or the forward /
        futures price (Black-76). A scalar, one value per row, or a column name.
    r, q
        Continuously compounded rate and dividend yield per year (scalar, per row, or column).
    valuation_ts
        Exchange-local naive timestamp of the prices (or None: the ``ts`` column).
    underlying, settlement_time
        Settlement time of day: ``settlement_time`` if given, else the instrument registry's
        ``settlement_clock`` for ``underlying``, else 16:00.
    price_column
        Column holding the option price to invert (default: mid, else close).

    Units: ``iv`` per sqrt(year); delta per unit of the underlying (spot or forward), gamma per
    unit squared, vega per 1.00 of volatility, theta per year. Rows whose price no volatility
    reproduces get NaN ``iv`` and NaN Greeks; rows at or after settlement get NaN ``iv`` and the
    payoff's Greeks.
    """
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise ValueError(
            f"enrich_chain: frame must be a pandas DataFrame, got {type(frame).__name__}"
        )
    if (spot is None) == (forward is None):
        raise ValueError("enrich_chain: give exactly one of spot= or forward=")
    strike = _column(frame, "strike")
    if "right" not in frame.columns:
        raise ValueError(
            f"enrich_chain: frame has no column 'right' (columns: {list(frame.columns)})"
        )
    try:
        is_call = _as_is_call(frame["right"].to_numpy())
    except ValueError as exc:
        raise ValueError(f"enrich_chain: column 'right': {exc}") from exc
    price = _column(frame, price_column) if price_column is not None else chain_price(frame)
    years = time_to_settlement(
        frame, valuation_ts, underlying=underlying, settlement_time=settlement_time
    )
    rate = _per_row(r, frame, "r")
    expired = years == 0.0
    if forward is not None:
        fwd = _per_row(forward, frame, "forward")
        iv = black76_implied_vol(price, fwd, strike, years, rate, is_call)
        greeks = black76_greeks(fwd, strike, years, rate, np.where(expired, 0.0, iv), is_call)
    else:
        underlying_px = _per_row(spot, frame, "spot")
        div = _per_row(q, frame, "q")
        iv = implied_vol(price, underlying_px, strike, years, rate, is_call, q=div)
        greeks = bs_greeks(
            underlying_px, strike, years, rate, np.where(expired, 0.0, iv), is_call, q=div
        )
    out = frame.copy()
    out["iv"] = iv
    for name in ADDED_COLUMNS[1:]:
        out[name] = greeks[name]
    return out
