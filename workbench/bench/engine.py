"""Benchmark ``engine``: a year of intraday short straddles with a stop loss, vs per-tick SQL.

Strategies: :class:`BenchStraddle` (the issue's): at 09:20 sell the ATM call and put of the
nearest expiry (one lot each), exit on a stop loss at 25 % of the entry premium or at 15:15; the
last tick force-closes. :class:`BenchIronFly` (BENCHMARKS.md's "4-leg strategy with stop loss"):
the same straddle with long wings four strikes out, the same rules on the net credit. Data: one
year of synthetic 1-minute NIFTY-like data (``workbench.data.synth`` profile
``nifty-intraday``, seed 7), generated once into ``<tmp>/workbench-bench-engine/`` and reused by
later runs (the folder name carries the Parquet codec, so a changed writer regenerates it).

Each strategy runs in a fresh interpreter (:func:`scenario`), timing:

* ``cold``: the first backtest in the process, serial, with empty caches (every instrument-day
  read from its Parquet file: row groups chosen from the footer, DuckDB where that cannot
  answer); the once-per-process import of the engine and its dependencies and load of the
  compiled pricing kernels is timed apart (``kernel_load_s``);
* ``warm``: the same backtest again in the same process (the per-process series LRU serves the
  aligned arrays; no file is read);
* ``per_tick_sql``: the seed's design (Pluto's ``get_tick``, :class:`PerTickSql`): one DuckDB
  query per leg per tick on the same files (``fetchdf`` + ``iloc[0]``, falling back to the last
  tick on a miss), the same decisions at bar closes, timed on :data:`SAMPLE_DAYS` days spread
  evenly over the year -- whose PnL must equal the engine's -- and extrapolated to the year.

Headline ratio: ``per_tick_sql (extrapolated) / cold`` for the straddle; the iron fly's figures
are reported beside it (``iron_fly_*``). Targets: cold under 5 s, warm under 1 s, ratio at least
200, peak memory (max RSS of the process) under 500 MB.
"""

from __future__ import annotations

import gc
import math
import tempfile
import time
from datetime import date, datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any

from workbench.bench.memory import peak_rss_mb
from workbench.engine.config import StrategyConfig
from workbench.engine.strategy import Strategy

SEED = 7
START = "2024-01-01"
#: Days the per-tick engine is timed on, spread evenly over the year.
SAMPLE_DAYS = 6


class BenchStraddle(Strategy):
    """Short ATM straddle at ``entry``; stop at ``stop_loss`` x premium; time exit at ``exit``."""

    class Config(StrategyConfig):
        entry: dtime = dtime(9, 20)
        exit: dtime = dtime(15, 15)
        stop_loss: float = 0.25

    def on_day_start(self, day: Any) -> bool:
        # a hint: the strikes around the open in one query (the cache fetches lazily anyway)
        day.prefetch(expiry=0, strikes=day.atm_window(2))
        return True

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


class BenchIronFly(BenchStraddle):
    """The straddle with long wings ``wing`` strikes out (a 4-leg iron butterfly), same rules:
    stop at ``stop_loss`` x the net credit, time exit at ``exit``."""

    class Config(BenchStraddle.Config):
        wing: int = 4

    def on_day_start(self, day: Any) -> bool:
        self.step = day.strike_step
        day.prefetch(expiry=0, strikes=day.atm_window(2 + self.config.wing))
        return True

    def on_bar(self, bar: Any) -> None:
        if self.idle and bar.time >= self.config.entry:
            k = bar.atm()
            w = self.config.wing * self.step
            self.try_fill(
                {
                    "ce": self.add(k, "C", "SELL"),
                    "pe": self.add(k, "P", "SELL"),
                    "cw": self.add(k + w, "C", "BUY"),
                    "pw": self.add(k - w, "P", "BUY"),
                }
            )


#: The benchmark's strategies: the class and its legs for the per-tick engine as
#: ``(strikes from ATM, right, +1 bought / -1 sold)``.
SCENARIOS: dict[str, tuple[type[Strategy], tuple[tuple[int, str, int], ...]]] = {
    "straddle": (BenchStraddle, ((0, "C", -1), (0, "P", -1))),
    "iron_fly": (BenchIronFly, ((0, "C", -1), (0, "P", -1), (4, "C", 1), (-4, "P", 1))),
}


def dataset(quick: bool) -> Path:
    """The cached synthetic dataset (generated on first use)."""
    from workbench.data.schema import COMPRESSION
    from workbench.data.synth import generate
    from workbench.data.synth.output import GENERATOR_VERSION

    root = Path(tempfile.gettempdir()) / "workbench-bench-engine"
    # the codec and generator in the name: a dataset another version wrote is not reused
    tag = f"{COMPRESSION}-g{GENERATOR_VERSION}"
    path = root / (f"nifty-{SEED}-20d-{tag}" if quick else f"nifty-{SEED}-1y-{tag}")
    if not (path / "catalog.json").is_file():
        root.mkdir(parents=True, exist_ok=True)
        if quick:
            generate("nifty-intraday", path, seed=SEED, start=START, days=20, progress=False)
        else:
            generate("nifty-intraday", path, seed=SEED, start=START, years=1, progress=False)
    return path


class PerTickSql:
    """The seed's data interface (Pluto's ``get_tick``): one DuckDB query per instrument per tick,
    ``fetchdf()`` and ``iloc[0]``, falling back to the last available tick on a miss. Queries
    are parameter-bound (the seed formatted values into the SQL; binding is, if anything, faster)."""

    EXACT = 'SELECT * FROM read_parquet(?) WHERE ts = ? AND expiry = ? AND strike = ? AND "right" = ? LIMIT 1'
    LAST = (
        'SELECT * FROM read_parquet(?) WHERE ts <= ? AND expiry = ? AND strike = ? AND "right" = ? '
        "ORDER BY ts DESC LIMIT 1"
    )
    SPOT = "SELECT * FROM read_parquet(?) WHERE ts = ? LIMIT 1"

    def __init__(self, data: Path) -> None:
        import duckdb

        self.data = data
        self.con = duckdb.connect(":memory:")
        self.queries = 0

    def _path(self, kind: str, day: date) -> str:
        return str(self.data / kind / "NIFTY" / f"{day:%Y}" / f"{day.isoformat()}.parquet")

    def get_tick(self, ts: datetime, key: tuple[date, float, str] | None) -> Any:
        day = ts.date()
        if key is None:
            frame = self.con.execute(self.SPOT, [self._path("spot", day), ts]).fetchdf()
            self.queries += 1
            return frame.iloc[0] if not frame.empty else None
        path = self._path("options", day)
        frame = self.con.execute(self.EXACT, [path, ts, *key]).fetchdf()
        self.queries += 1
        if frame.empty:
            frame = self.con.execute(self.LAST, [path, ts, *key]).fetchdf()
            self.queries += 1
        return frame.iloc[0] if not frame.empty else None

    def close(self) -> None:
        self.con.close()


def _mark(row: Any) -> float:
    """The engine's mark rule: mid of a usable two-sided quote, else the close."""
    bid, ask = float(row["bid"]), float(row["ask"])
    if math.isfinite(bid) and math.isfinite(ask) and bid >= 0 and ask > 0 and ask >= bid:
        return 0.5 * (bid + ask)
    return float(row["close"])


def per_tick_sql_day(
    engine: PerTickSql,
    day: date,
    ticks: list[datetime],
    lot: int,
    step: float,
    legs: tuple[tuple[int, str, int], ...] = SCENARIOS["straddle"][1],
) -> float:
    """A benchmark strategy on the per-tick engine; returns the day's PnL (money).

    Same decisions as :class:`BenchStraddle` / :class:`BenchIronFly` with the ``close`` fill
    model: entry at 09:20 at the closes of bars at that minute (every leg or none), marks by the
    engine's rule, the stop on the net credit, exit at the bar closes.
    """
    path = engine._path("options", day)
    found = engine.con.execute(
        "SELECT min(expiry) FROM read_parquet(?) WHERE expiry >= ?", [path, day]
    ).fetchone()
    if found is None or found[0] is None:
        return 0.0
    expiry = found[0]
    keys: list[tuple[date, float, str]] = []
    signs = [sign for _, _, sign in legs]
    credit = 0.0
    state = "idle"
    for ts in ticks:
        if state == "active":
            rows = [engine.get_tick(ts, key) for key in keys]
            value = -sum(sign * _mark(r) for sign, r in zip(signs, rows))
            pnl = (credit - value) * lot
            if pnl <= -0.25 * credit * lot or ts.time() >= dtime(15, 15) or ts == ticks[-1]:
                exit_value = -sum(sign * float(r["close"]) for sign, r in zip(signs, rows))
                return (credit - exit_value) * lot
        if state == "idle" and ts.time() >= dtime(9, 20):
            spot = engine.get_tick(ts, None)
            k = float(int(float(spot["close"]) / step + 0.5) * step)
            keys = [(expiry, k + off * step, right) for off, right, _ in legs]
            rows = [engine.get_tick(ts, key) for key in keys]
            if all(r is not None and r["ts"] == ts for r in rows):
                credit = -sum(sign * float(r["close"]) for sign, r in zip(signs, rows))
                state = "active"
    return 0.0


def _load_kernels() -> None:
    """Import the engine and its dependencies and load the compiled pricing kernels (a
    once-per-process cost, reported apart from the cold run as ``kernel_load_s``).

    The engine imports some dependencies on first use (pandas for the result frames,
    exchange_calendars for the trading calendar, tqdm for progress); they are imported here so
    that ``cold`` measures reading and simulating the year, not module imports. Building the
    trading calendar and every data cache stay inside ``cold``.
    """
    import exchange_calendars  # noqa: F401
    import numpy as np
    import pandas  # noqa: F401
    import tqdm.auto  # noqa: F401

    import workbench.data.cache
    import workbench.engine.runner
    import workbench.engine.simulator  # noqa: F401
    from workbench.pricing import bs_greeks, implied_vol
    from workbench.pricing.implied import implied_book_greeks

    one = np.ones(1)
    sigma = implied_vol(
        one * 10.0, one * 100.0, one * 100.0, one * 0.1, one * 0.0, np.ones(1, dtype=bool)
    )
    bs_greeks(one * 100.0, one * 100.0, one * 0.1, one * 0.0, sigma, np.ones(1, dtype=bool))
    implied_book_greeks(one * 10.0, one * 100.0, one * 100.0, one * 0.1, 0.0, one > 0, one)


def scenario(name: str, quick: bool) -> dict[str, Any]:
    """One scenario, meant for a fresh process: kernels, cold run, warm run, per-tick engine on
    sample days spread over the period (their PnL must equal the engine's), peak memory."""
    from workbench.engine.pool import series_lru
    from workbench.engine.runner import run_backtest
    from workbench.model.instruments import get_instrument

    strategy, legs = SCENARIOS[name]
    data = dataset(quick)
    args: dict[str, Any] = dict(
        data=data, executor="serial", progress=False, fill="close", fees="none"
    )
    t0 = time.perf_counter()
    _load_kernels()
    kernels_s = time.perf_counter() - t0
    gc.collect()
    t0 = time.perf_counter()
    cold = run_backtest(strategy, **args)
    cold_s = time.perf_counter() - t0
    cold_rss = peak_rss_mb()
    t0 = time.perf_counter()
    warm = run_backtest(strategy, **args)
    warm_s = time.perf_counter() - t0
    same = warm.tradebook.drop(columns=["run_id"]).equals(cold.tradebook.drop(columns=["run_id"]))
    if not same:
        raise RuntimeError(f"{name}: the warm run's tradebook differs from the cold run's")
    days = int((cold.days["status"] == "ok").sum())
    ticks = int(cold.days["ticks"].sum())
    engine_rss = peak_rss_mb()

    spec = get_instrument("NIFTY")
    ok = cold.days["status"] == "ok"
    listed = [date.fromisoformat(d) for d in cold.days.loc[ok, "date"]]
    n = 3 if quick else SAMPLE_DAYS
    sample = [listed[round(i * (len(listed) - 1) / max(n - 1, 1))] for i in range(n)]
    tb = cold.tradebook
    engine = PerTickSql(data)
    agree = True
    t0 = time.perf_counter()
    for d in sample:
        spot = engine.con.execute(
            "SELECT ts FROM read_parquet(?) ORDER BY ts", [engine._path("spot", d)]
        ).fetchall()
        pnl = per_tick_sql_day(
            engine, d, [r[0] for r in spot], spec.lot_size(d), spec.strike_step_on(d), legs
        )
        ours = float(tb.loc[tb["day"].astype(str) == d.isoformat(), "cash"].sum())
        agree = agree and abs(pnl - ours) <= 0.01
    sql_per_day = (time.perf_counter() - t0) / len(sample)
    queries = engine.queries
    engine.close()
    if not agree:
        raise RuntimeError(
            f"{name}: the per-tick engine's PnL differs from the engine's on {sample}: "
            "the baseline is not running the same strategy"
        )
    sql_year = sql_per_day * days
    lru = series_lru().stats()
    return {
        "ratio": sql_year / cold_s,
        "legs": len(legs),
        "days": days,
        "ticks": ticks,
        "fills": int(cold.tradebook_table.num_rows),
        "kernel_load_s": kernels_s,
        "cold_s": cold_s,
        "warm_s": warm_s,
        "cold_us_per_tick": cold_s / max(ticks, 1) * 1e6,
        "warm_us_per_tick": warm_s / max(ticks, 1) * 1e6,
        "per_tick_sql_sample_days": ",".join(d.isoformat() for d in sample),
        "per_tick_sql_s_per_day": sql_per_day,
        "per_tick_sql_s_extrapolated": sql_year,
        "per_tick_sql_queries_per_day": queries / len(sample),
        "warm_ratio_vs_per_tick_sql": sql_year / warm_s,
        "per_tick_sql_same_pnl": agree,
        "peak_rss_mb_after_cold": cold_rss,
        "peak_rss_mb": engine_rss,
        "series_lru_mb": lru["bytes"] / 1e6,
        "total_pnl": float(cold.metrics["total_pnl"]),
    }


def run(quick: bool) -> dict:
    """Each scenario in a fresh interpreter, one after the other: every cold run is cold (no
    module, store or series cache left by the other) and each reports its own peak memory."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    dataset(quick)  # generate once, before the timed processes
    results: dict[str, dict[str, Any]] = {}
    for name in SCENARIOS:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
            results[name] = pool.submit(scenario, name, quick).result()
    head = results["straddle"]
    figures: dict[str, Any] = {k: v for k, v in head.items() if k != "ratio"}
    for name, result in results.items():
        if name == "straddle":
            continue
        figures[f"{name}_ratio_vs_per_tick_sql"] = result["ratio"]
        for key in (
            "legs",
            "fills",
            "cold_s",
            "warm_s",
            "per_tick_sql_s_per_day",
            "per_tick_sql_queries_per_day",
            "per_tick_sql_same_pnl",
            "peak_rss_mb",
            "total_pnl",
        ):
            figures[f"{name}_{key}"] = result[key]
    figures["when"] = datetime.now().isoformat(timespec="seconds")
    return {
        "benchmark": "engine",
        "ratio": head["ratio"],
        "baseline": (
            "per-tick DuckDB query per leg per tick (seed 000 get_tick), timed on "
            f"{len(head['per_tick_sql_sample_days'].split(','))} days spread over the year "
            "and extrapolated; headline: the 2-leg straddle (iron_fly_*: the 4-leg version)"
        ),
        "figures": figures,
    }
