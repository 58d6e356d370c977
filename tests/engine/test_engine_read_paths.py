"""The engine's results do not depend on how the data layer reads a day.

The store answers a day's spot, its expiries and a prefetch of instruments from the Parquet
footer and row groups directly, and falls back to DuckDB queries for files the footer cannot
answer. Both paths must give the same tradebook, byte for byte, and the same daily path.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest
from engine_builders import tiny_nifty
from engine_strategies import PrefetchingScripted

from workbench.data.store import MarketStore
from workbench.engine.pool import close_stores, series_lru
from workbench.engine.runner import run_backtest

ORDERS = [
    {
        "at": time(9, 16),
        "legs": [
            {"strike": 21500, "right": "C", "side": "SELL"},
            {"strike": 21500, "right": "P", "side": "SELL"},
        ],
    },
    {"at": time(9, 18), "legs": [{"strike": 21550, "right": "C", "side": "BUY"}]},
]


def _run(data: Path, out: Path):
    series_lru().clear()
    close_stores()
    result = run_backtest(
        PrefetchingScripted,
        data=data,
        params={"orders": ORDERS, "exit_at": time(9, 19), "max_cycles": 2},
        fill="mid",
        fees="none",
        executor="serial",
        progress=False,
    )
    result.save(out)
    return result


def test_direct_reads_and_duckdb_queries_give_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tiny_nifty(tmp_path / "tiny")
    queries = []
    real_query = MarketStore._query_numpy

    def counted(self, *args, **kwargs):
        queries.append(args[1])
        return real_query(self, *args, **kwargs)

    monkeypatch.setattr(MarketStore, "_query_numpy", counted)
    direct = _run(data, tmp_path / "direct")
    assert len(direct.tradebook) > 0 and (direct.days["status"] == "ok").all()
    assert "spot" not in queries  # every spot read went direct
    direct_queries = len(queries)
    monkeypatch.setattr(MarketStore, "_direct_arrays", lambda self, *a: None)
    monkeypatch.setattr(MarketStore, "_footer_expiries", lambda self, path: None)
    _run(data, tmp_path / "queried")
    assert len(queries) - direct_queries > direct_queries  # the fallback really queried
    for name in ("tradebook.parquet", "daily.csv", "metrics.json"):
        assert (tmp_path / "direct" / name).read_bytes() == (
            tmp_path / "queried" / name
        ).read_bytes(), name
    series_lru().clear()
    close_stores()
