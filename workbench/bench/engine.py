"""Benchmark ``engine``: a year of an intraday short straddle with a stop loss, vs per-tick SQL.

Strategy (:class:`BenchStraddle`): at 09:20 sell the ATM call and put of the nearest expiry
(one lot each), exit on a stop loss at 25 % of the entry premium or at 15:15; the last tick
force-closes. Data: one year of synthetic 1-minute NIFTY-like data (``workbench.data.synth``
profile ``nifty-intraday``, seed 7), generated once into ``<tmp>/workbench-bench-engine/`` and
reused by later runs.

Timed in the same run:

* ``cold``: the first backtest in this process, serial, with empty caches (every instrument-day
  read from Parquet through DuckDB; includes loading the compiled pricing kernels);
* ``warm``: the same backtest again in the same process (the per-process series LRU serves the
  aligned arrays; DuckDB is not queried);
* ``per_tick_sql``: the seed's design (Pluto's ``get_tick``): one DuckDB query per leg per tick
  on the same files, the same decisions, timed on a few days and extrapolated to the year.

Headline ratio: ``per_tick_sql (extrapolated) / cold``. Targets: cold under 5 s, warm under 1 s,
ratio at least 200, peak memory (max RSS of the process) under 500 MB.
"""

from __future__ import annotations

import gc
import resource
import sys
import tempfile
import time
from datetime import date, datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any

from workbench.engine.config import StrategyConfig
from workbench.engine.strategy import Strategy

SEED = 7
START = "2024-01-01"


class BenchStraddle(Strategy):
    """Short ATM straddle at ``entry``; stop at ``stop_loss`` x premium; time exit at ``exit``."""

    class Config(StrategyConfig):
        entry: dtime = dtime(9, 20)
        exit: dtime = dtime(15, 15)
        stop_loss: float = 0.25

    def on_bar(self, bar: Any) -> None:
        if self.idle and bar.time >= self.config.entry:
            k = bar.atm()
            self.try_fill({"ce": self.add(k, "C", "SELL"), "pe": self.add(k, "P", "SELL")})

    def exit_check(self, bar: Any) -> str | None:
        if self.pnl(bar) <= -self.config.stop_loss * self.entry_credit:
            return "stop_loss"
        if bar.time >= self.config.exit:
            return "time_exit"
        return None


def dataset(quick: bool) -> Path:
    """The cached synthetic dataset (generated on first use)."""
    from workbench.data.synth import generate

    root = Path(tempfile.gettempdir()) / "workbench-bench-engine"
    path = root / (f"nifty-{SEED}-20d" if quick else f"nifty-{SEED}-1y")
    if not (path / "catalog.json").is_file():
        root.mkdir(parents=True, exist_ok=True)
        if quick:
            generate("nifty-intraday", path, seed=SEED, start=START, days=20, progress=False)
        else:
            generate("nifty-intraday", path, seed=SEED, start=START, years=1, progress=False)
    return path


def _peak_rss_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def per_tick_sql_day(con: Any, data: Path, day: date, lot: int, step: float) -> tuple[float, int]:
    """The same straddle, one DuckDB query per leg per tick (the seed's ``get_tick`` design).

    Returns (PnL in money, queries run). Uses prepared, parameter-bound queries (never SQL built
    from values) so the baseline is the design, not string formatting.
    """
    spot_path = str(data / "spot" / "NIFTY" / f"{day:%Y}" / f"{day.isoformat()}.parquet")
    opt_path = str(data / "options" / "NIFTY" / f"{day:%Y}" / f"{day.isoformat()}.parquet")
    ticks = [r[0] for r in con.execute("SELECT ts FROM read_parquet(?) ORDER BY ts", [spot_path]).fetchall()]
    queries = 1
    expiry = con.execute("SELECT min(expiry) FROM read_parquet(?) WHERE expiry >= ?", [opt_path, day]).fetchone()[0]
    queries += 1
    spot_q = "SELECT close FROM read_parquet(?) WHERE ts <= ? ORDER BY ts DESC LIMIT 1"
    leg_q = (
        "SELECT close, bid, ask FROM read_parquet(?) WHERE expiry = ? AND strike = ? AND right = ? "
        "AND ts <= ? ORDER BY ts DESC LIMIT 1"
    )
    legs: list[tuple[float, str, float]] = []  # (strike, right, entry price)
    credit = 0.0
    pnl = 0.0
    state = "idle"
    for ts in ticks:
        if state == "active":
            value = 0.0
            for strike, right, _ in legs:
                row = con.execute(leg_q, [opt_path, expiry, strike, right, ts]).fetchone()
                queries += 1
                value += row[0] if row else 0.0
            pnl_now = (credit - value) * lot
            if pnl_now <= -0.25 * credit * lot or ts.time() >= dtime(15, 15) or ts == ticks[-1]:
                pnl = pnl_now
                state = "done"
        if state == "idle" and ts.time() >= dtime(9, 20):
            spot = con.execute(spot_q, [spot_path, ts]).fetchone()[0]
            queries += 1
            k = float(int(spot / step + 0.5) * step)
            prices = []
            for right in ("C", "P"):
                row = con.execute(leg_q, [opt_path, expiry, k, right, ts]).fetchone()
                queries += 1
                prices.append(row[0] if row else None)
            if all(p is not None for p in prices):
                legs = [(k, "C", prices[0]), (k, "P", prices[1])]
                credit = prices[0] + prices[1]
                state = "active"
    return pnl, queries


def run(quick: bool) -> dict:
    from workbench.engine.pool import series_lru
    from workbench.engine.runner import run_backtest

    data = dataset(quick)
    args = dict(data=data, executor="serial", progress=False, fill="close", fees="none")
    gc.collect()
    t0 = time.perf_counter()
    cold = run_backtest(BenchStraddle, **args)
    cold_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    warm = run_backtest(BenchStraddle, **args)
    warm_s = time.perf_counter() - t0
    if warm.tradebook_table.to_pandas().drop(columns=["run_id"]).equals(
        cold.tradebook_table.to_pandas().drop(columns=["run_id"])
    ) is False and not warm.tradebook_table.num_rows == cold.tradebook_table.num_rows:
        raise RuntimeError("warm and cold runs differ")
    days = int((cold.days["status"] == "ok").sum())
    ticks = int(cold.days["ticks"].sum())

    import duckdb

    from workbench.model.instruments import get_instrument

    spec = get_instrument("NIFTY")
    sample_days = [date.fromisoformat(d) for d in cold.days["date"].iloc[:3]]
    con = duckdb.connect(":memory:")
    queries = 0
    t0 = time.perf_counter()
    for d in sample_days:
        _, q = per_tick_sql_day(con, data, d, spec.lot_size(d), spec.strike_step_on(d))
        queries += q
    sql_per_day = (time.perf_counter() - t0) / len(sample_days)
    con.close()
    sql_year = sql_per_day * days
    lru = series_lru().stats()
    return {
        "benchmark": "engine",
        "ratio": sql_year / cold_s,
        "baseline": "per-tick DuckDB query per leg per tick (seed 000 get_tick), extrapolated from 3 days",
        "figures": {
            "days": days,
            "ticks": ticks,
            "fills": int(cold.tradebook_table.num_rows),
            "cold_s": cold_s,
            "warm_s": warm_s,
            "cold_us_per_tick": cold_s / max(ticks, 1) * 1e6,
            "warm_us_per_tick": warm_s / max(ticks, 1) * 1e6,
            "per_tick_sql_s_per_day": sql_per_day,
            "per_tick_sql_s_extrapolated": sql_year,
            "per_tick_sql_queries_per_day": queries / len(sample_days),
            "warm_ratio_vs_per_tick_sql": sql_year / warm_s,
            "peak_rss_mb": _peak_rss_mb(),
            "series_lru_mb": lru["bytes"] / 1e6,
            "series_lru_entries": lru["entries"],
            "total_pnl": float(cold.metrics["total_pnl"]),
            "when": datetime.now().isoformat(timespec="seconds"),
        },
    }
