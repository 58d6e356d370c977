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


# -- the hand-made NIFTY market used across the engine tests ---------------------------------------
# NIFTY, lot 50 in Jan 2024, strike step 50, PM cash settlement at the close.
D1, D2, D3 = date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)
E = date(2024, 1, 4)  # weekly expiry (Thursday) = D3
E2 = date(2024, 1, 11)
MINUTES = ("09:15", "09:16", "09:17", "09:18", "09:19", "09:20")


def _quoted(
    minutes: Sequence[str],
    expiry: date,
    strike: float,
    right: str,
    closes: Sequence[float],
    half: float = 1.0,
) -> list[OptionRow]:
    return [(m, expiry, strike, right, c, c - half, c + half) for m, c in zip(minutes, closes)]


def nifty_spot() -> dict[date, list[tuple[str, float, float]]]:
    return {
        D1: list(
            zip(
                MINUTES,
                (21490, 21510, 21520, 21540, 21530, 21560),
                (21510, 21520, 21540, 21530, 21560, 21550),
            )
        ),
        D2: list(
            zip(
                MINUTES,
                (21550, 21560, 21570, 21580, 21600, 21590),
                (21560, 21570, 21580, 21600, 21590, 21610),
            )
        ),
        D3: list(
            zip(
                MINUTES,
                (21620, 21630, 21640, 21625, 21650, 21660),
                (21630, 21640, 21625, 21650, 21660, 21655),
            )
        ),
    }


def nifty_options() -> dict[date, list[OptionRow]]:
    d1: list[OptionRow] = [
        # 21500 C: no bar at 09:19 (a gap)
        ("09:15", E, 21500, "C", 100, 99, 101),
        ("09:16", E, 21500, "C", 105, 104, 106),
        ("09:17", E, 21500, "C", 120, 119, 121),
        ("09:18", E, 21500, "C", 115, 114, 116),
        ("09:20", E, 21500, "C", 130, 129, 131),
        # 21500 P: no bid at 09:18
        ("09:15", E, 21500, "P", 90, 89, 91),
        ("09:16", E, 21500, "P", 85, 84, 86),
        ("09:17", E, 21500, "P", 75, 74, 76),
        ("09:18", E, 21500, "P", 80, None, 81),
        ("09:19", E, 21500, "P", 70, 69, 71),
        ("09:20", E, 21500, "P", 72, 71, 73),
        # 21550 C: illiquid, bars at 09:17 and 09:19 only
        ("09:17", E, 21550, "C", 95, 94, 96),
        ("09:19", E, 21550, "C", 85, 84, 86),
    ]
    d1 += _quoted(MINUTES, E2, 21500, "C", (150, 152, 160, 158, 165, 170))
    d2 = (
        _quoted(MINUTES, E, 21500, "C", (70, 75, 80, 95, 90, 110))
        + _quoted(MINUTES, E, 21500, "P", (20, 18, 16, 12, 13, 10))
        + _quoted(MINUTES, E, 21550, "C", (40, 42, 48, 55, 52, 62))
        + _quoted(MINUTES, E2, 21500, "C", (140, 142, 150, 160, 155, 170))
    )
    d3 = (
        _quoted(MINUTES, E, 21500, "C", (130, 140, 125, 150, 160, 155))
        + _quoted(MINUTES, E, 21500, "P", (1, 1, 1, 1, 1, 1), half=0.5)
        + _quoted(MINUTES, E, 21550, "C", (80, 90, 75, 100, 110, 105))
        + _quoted(MINUTES, E2, 21500, "C", (180, 185, 175, 190, 200, 195))
    )
    return {D1: d1, D2: d2, D3: d3}


def tiny_nifty(root: Path) -> Path:
    """Three NIFTY days (2024-01-02..04) with known prices, a gap, a missing bid, an illiquid strike."""
    return write_market(root, "NIFTY", nifty_spot(), nifty_options())
