"""A tiny-market builder for the strategies' golden tests (written with the real DatasetWriter).

A market is described as plain dicts so every price the expected values use is visible in the
test: ``spot[day] = [(hh:mm, close), ...]`` and ``options[day] = {(hh:mm, expiry, strike, right):
Bar(mid, ...)}``. Each option bar gets ``bid = mid - half_spread``, ``ask = mid + half_spread``,
``close = mid``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import pyarrow as pa

from workbench.data.writer import DatasetWriter

Key = tuple[str, date, float, str]  # (hh:mm, expiry, strike, right)


@dataclass(frozen=True)
class Bar:
    """One option bar: ``mid`` per unit; optional ``delta`` (signed) and ``iv``."""

    mid: float
    delta: float | None = None
    half_spread: float = 0.5
    volume: int = 100
    oi: int = 1000

    @property
    def bid(self) -> float:
        return self.mid - self.half_spread

    @property
    def ask(self) -> float:
        return self.mid + self.half_spread


def at(d: date, hhmm: str) -> datetime:
    h, m = hhmm.split(":")
    return datetime.combine(d, time(int(h), int(m)))


def spot_table(d: date, bars: Sequence[tuple[str, float]]) -> pa.Table:
    closes = [float(c) for _, c in bars]
    return pa.table(
        {
            "ts": pa.array([at(d, t) for t, _ in bars], pa.timestamp("us")),
            "open": closes,
            "high": closes,
            "low": closes,
            "close": closes,
            "volume": pa.array([0] * len(bars), pa.int64()),
        }
    )


def option_table(d: date, bars: Mapping[Key, Bar]) -> pa.Table:
    keys = list(bars)
    values = [bars[k] for k in keys]
    columns: dict[str, object] = {
        "ts": pa.array([at(d, k[0]) for k in keys], pa.timestamp("us")),
        "expiry": pa.array([k[1] for k in keys], pa.date32()),
        "strike": [float(k[2]) for k in keys],
        "right": [k[3] for k in keys],
        "open": [b.mid for b in values],
        "high": [b.mid for b in values],
        "low": [b.mid for b in values],
        "close": [b.mid for b in values],
        "bid": [b.bid for b in values],
        "ask": [b.ask for b in values],
        "volume": pa.array([b.volume for b in values], pa.int64()),
        "oi": pa.array([b.oi for b in values], pa.int64()),
    }
    if any(b.delta is not None for b in values):
        columns["delta"] = [float("nan") if b.delta is None else b.delta for b in values]
    return pa.table(columns)


def write_market(
    root: Path,
    underlying: str,
    spot: Mapping[date, Sequence[tuple[str, float]]],
    options: Mapping[date, Mapping[Key, Bar]],
    *,
    venue: str,
    timezone: str,
    bar_interval: str = "1min",
) -> Path:
    with DatasetWriter(
        root,
        name="golden",
        venue=venue,
        timezone=timezone,
        bar_interval=bar_interval,
        source="hand-made golden test market",
    ) as writer:
        for d, bars in spot.items():
            writer.write_spot(underlying, d, spot_table(d, bars))
        for d, opts in options.items():
            writer.write_options(underlying, d, option_table(d, opts))
    return root
