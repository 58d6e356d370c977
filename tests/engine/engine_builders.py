"""Builders for tiny hand-made datasets (written with the real DatasetWriter).

``minute(d, "09:15")`` gives a timestamp; :func:`write_market` writes spot and option bars for
a few days. Option rows are ``(hh:mm, expiry, strike, right, close, bid, ask)``; ``None`` for a
missing bid/ask/close.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time
from pathlib import Path

import pyarrow as pa

from workbench.data.writer import DatasetWriter

OptionRow = tuple[str, date, float, str, float | None, float | None, float | None]


def minute(d: date, hhmm: str) -> datetime:
    h, m = hhmm.split(":")
    return datetime.combine(d, time(int(h), int(m)))


def _f(x: float | None) -> float:
    return math.nan if x is None else float(x)


def spot_table(d: date, bars: Sequence[tuple[str, float, float]]) -> pa.Table:
    """``bars`` = [(hh:mm, open, close)]; high/low from them, volume 0."""
    return pa.table(
        {
            "ts": pa.array([minute(d, t) for t, _, _ in bars], pa.timestamp("us")),
            "open": [float(o) for _, o, _ in bars],
            "high": [max(o, c) for _, o, c in bars],
            "low": [min(o, c) for _, o, c in bars],
            "close": [float(c) for _, _, c in bars],
            "volume": pa.array([0] * len(bars), pa.int64()),
        }
    )


def option_table(d: date, rows: Iterable[OptionRow]) -> pa.Table:
    rows = list(rows)
    return pa.table(
        {
            "ts": pa.array([minute(d, r[0]) for r in rows], pa.timestamp("us")),
            "expiry": pa.array([r[1] for r in rows], pa.date32()),
            "strike": [float(r[2]) for r in rows],
            "right": [r[3] for r in rows],
            "open": [_f(r[4]) for r in rows],
            "high": [_f(r[4]) for r in rows],
            "low": [_f(r[4]) for r in rows],
            "close": [_f(r[4]) for r in rows],
            "bid": [_f(r[5]) for r in rows],
            "ask": [_f(r[6]) for r in rows],
            "volume": pa.array([100] * len(rows), pa.int64()),
            "oi": pa.array([1000] * len(rows), pa.int64()),
        }
    )


def write_market(
    root: Path,
    underlying: str,
    spot: Mapping[date, Sequence[tuple[str, float, float]]],
    options: Mapping[date, Iterable[OptionRow]],
    *,
    venue: str = "NSE",
    timezone: str = "Asia/Kolkata",
    name: str = "tiny",
) -> Path:
    with DatasetWriter(
        root,
        name=name,
        venue=venue,
        timezone=timezone,
        bar_interval="1min",
        source="hand-made test data",
    ) as w:
        for d, bars in spot.items():
            w.write_spot(underlying, d, spot_table(d, bars))
        for d, rows in options.items():
            w.write_options(underlying, d, option_table(d, rows))
    return root
