"""Each day's mark-to-market path of an intraday run, rebuilt from its tradebook and dataset.

For every day with fills, at every minute bar of the underlying's spot (and every fill time)
from the day's first fill to its last, the book's PnL of the day, net of fees:

    cash of the day's fills up to and including t  +  sum over legs of units held x mark_t

The mark is the engine's (:mod:`workbench.engine.ticks`: the mid of the last bar with a usable
two-sided quote, else that bar's close), read from the same dataset; a leg without a mark yet
keeps its last fill price. The path's last value is the day's PnL (every leg is closed by then),
and at a fill it differs from the tick before only by the fill's slippage against the mark and
its fees. Positional runs have no such path (positions live across days): ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

PATH_COLUMNS: tuple[str, ...] = ("day", "ts", "pnl")


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "day": pd.Series(dtype="datetime64[ns]"),
            "ts": pd.Series(dtype="datetime64[ns]"),
            "pnl": pd.Series(dtype=float),
        }
    )


def day_path(
    fills: Mapping[str, np.ndarray],
    spot_ts: np.ndarray,
    marks_of: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray]:
    """``(clock, pnl)`` of one day: ``fills`` are the day's tradebook columns as arrays
    (``ts`` datetime64, ``trade_id``, ``signed_units``, ``price``, ``cash``), the clock is
    ``spot_ts`` between the first and last fill plus the fill times (int64 ns);
    ``marks_of[trade_id]`` = the leg's bars ``(ts, close, bid, ask)`` (empty without bars)."""
    from workbench.engine.ticks import align, clock_to_ns

    fill_ns = clock_to_ns(np.asarray(fills["ts"], dtype="datetime64[ns]"))
    first, last = int(fill_ns.min()), int(fill_ns.max())
    clock = clock_to_ns(np.asarray(spot_ts, dtype="datetime64[ns]"))
    clock = np.unique(np.concatenate([clock[(clock >= first) & (clock <= last)], fill_ns]))
    n = clock.size
    # fills count from their own tick on: at t, everything filled up to and including t
    at = np.searchsorted(clock, fill_ns, side="left")
    cash_step = np.zeros(n)
    np.add.at(cash_step, at, np.asarray(fills["cash"], dtype=float))
    pnl = np.cumsum(cash_step)
    ids = np.asarray(fills["trade_id"]).astype(str)
    units = np.asarray(fills["signed_units"], dtype=float)
    prices = np.asarray(fills["price"], dtype=float)
    for trade_id in dict.fromkeys(ids.tolist()):
        mine = ids == trade_id
        step = np.zeros(n)
        np.add.at(step, at[mine], units[mine])
        held = np.cumsum(step)
        held[np.abs(held) < 1e-9] = 0.0
        if not held.any():
            continue
        # the last fill price stands in for the mark until the leg has a bar
        price_at = np.full(n, np.nan)
        price_at[at[mine]] = prices[mine]
        fallback = pd.Series(price_at).ffill().to_numpy()
        bars = marks_of.get(trade_id)
        if bars is not None and bars[0].size:
            ts, close, bid, ask = bars
            series = align(clock_to_ns(ts), close, clock, bid=bid, ask=ask)
            mark = np.asarray(series.mark, dtype=float)
            mark = np.where(np.isfinite(mark), mark, fallback)
        else:
            mark = fallback
        pnl = pnl + held * np.nan_to_num(mark)
    return clock, pnl


def intraday_paths(
    tradebook: pd.DataFrame, data: str | Path, *, mode: str = "intraday"
) -> pd.DataFrame | None:
    """:data:`PATH_COLUMNS` for every day of an intraday run with fills (``None`` for a
    positional run); ``data`` is the run's dataset. Days are read in order, each once."""
    from workbench.data.store import MarketStore
    from workbench.research.market_series import spot_series_name

    if mode != "intraday":
        return None
    if tradebook.empty:
        return _empty()
    book = tradebook.sort_values(
        ["ts", "fill_id"] if "fill_id" in tradebook.columns else ["ts"], kind="stable"
    )
    ts = pd.to_datetime(book["ts"]).to_numpy(dtype="datetime64[ns]")
    days = ts.astype("datetime64[D]")
    cols = {
        "ts": ts,
        "trade_id": book["trade_id"].astype(str).to_numpy(),
        "signed_units": book["signed_units"].to_numpy(dtype=float),
        "price": book["price"].to_numpy(dtype=float),
        "cash": book["cash"].to_numpy(dtype=float),
        "underlying": book["underlying"].astype(str).to_numpy(),
        "expiry": pd.to_datetime(book["expiry"]).to_numpy(dtype="datetime64[D]"),
        "strike": book["strike"].to_numpy(dtype=float),
        "right": book["right"].astype(str).to_numpy(),
        "asset": (
            book["asset"].astype(str).to_numpy()
            if "asset" in book.columns
            else np.full(len(book), "option")
        ),
    }
    order = np.argsort(days, kind="stable")
    bounds = np.flatnonzero(np.diff(days[order].astype(np.int64))) + 1
    out_day: list[np.ndarray] = []
    out_ts: list[np.ndarray] = []
    out_pnl: list[np.ndarray] = []
    with MarketStore(data) as store:
        for rows in np.split(order, bounds):
            fills = {k: v[rows] for k, v in cols.items()}
            d: date = pd.Timestamp(days[rows[0]]).date()
            underlying = str(fills["underlying"][0])
            spot = _spot(store, spot_series_name(store.catalog, underlying), d)
            marks: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
            _, first = np.unique(fills["trade_id"], return_index=True)
            by_expiry: dict[Any, list[int]] = {}
            for i in first:
                if fills["asset"][i] == "underlying":
                    none = np.full(spot[0].size, np.nan)
                    marks[fills["trade_id"][i]] = (spot[0], spot[1], none, none)
                else:
                    by_expiry.setdefault(fills["expiry"][i], []).append(int(i))
            for expiry, legs in by_expiry.items():
                keys = [(float(fills["strike"][i]), str(fills["right"][i])) for i in legs]
                arrays = store.instruments_arrays(underlying, d, pd.Timestamp(expiry).date(), keys)
                for i, (k, r) in zip(legs, keys, strict=True):
                    keep = (arrays["strike"] == k) & (arrays["right"] == r)
                    marks[fills["trade_id"][i]] = (
                        arrays["ts"][keep],
                        arrays["close"][keep],
                        arrays["bid"][keep],
                        arrays["ask"][keep],
                    )
            clock, pnl = day_path(fills, spot[0], marks)
            out_day.append(np.full(clock.size, np.datetime64(d, "ns")))
            out_ts.append(clock.astype("datetime64[ns]"))
            out_pnl.append(pnl)
    return pd.DataFrame(
        {
            "day": np.concatenate(out_day),
            "ts": np.concatenate(out_ts),
            "pnl": np.concatenate(out_pnl),
        }
    )


def _spot(store: Any, name: str, day: date) -> tuple[np.ndarray, np.ndarray]:
    from workbench.data.errors import DatasetError

    try:
        arrays = store.spot_arrays(name, day)
    except DatasetError:
        return np.zeros(0, dtype="datetime64[us]"), np.zeros(0)
    return arrays["ts"], arrays["close"]
