"""Write a synthetic historical dataset: listed options priced on a real close series.

:func:`synth_history` reads a source dataset holding the underlying's daily closes (and, for
the index regime, the volatility index's), and writes a new dataset in the canonical layout the
engine reads for any end-of-day chain: the underlying's spot bars copied from the source, the
volatility index's too, and per option root one chain file a day at the day's close.

For each day ``T`` only data as of ``T`` is used: ``T``'s close, ``T``'s volatility (the fixed
value, the step in force, or the index's close of ``T`` -- the last earlier close when the
index has no ``T``, at most ``max_carry_days`` sessions, counted in the catalog source), the
rate and dividend steps in force, and strike bands built from earlier days' closes. Nothing of
a later day is read to build ``T`` (``tests/data/historical`` perturbs the index after ``T``
and checks every file up to ``T`` is unchanged byte for byte).

Each option row: ``close`` the Black-Scholes-Merton mid (continuous rate and dividend yield,
ACT/365 from the session close to the settlement instant) on the tick grid (at least one tick),
``open = high = low = close`` (one mark a day), ``bid``/``ask`` the declared quotes around the
mid (:class:`~workbench.data.historical.config.Quotes`; a bid below one tick is NaN, no bid),
``iv`` the smile volatility used, ``delta gamma theta vega`` at it (per unit of spot, per year,
per 1.00 of volatility), ``volume`` and ``oi`` 0 (the provider knows no traded volume).

The dataset's catalog ``source`` is ``"synthetic-history "`` and the JSON of the provider's
whole configuration, the source dataset (path and content version), the date range and the
days whose volatility was carried: every run on the dataset records it in its manifest
(``dataset.source``; :func:`provider_snapshot` parses it back).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from tqdm import tqdm

from workbench.data.catalog import Catalog
from workbench.data.historical.config import (
    SOURCE_PREFIX,
    FixedVol,
    HistoryConfig,
    IndexVol,
    StepVol,
)
from workbench.data.historical.listing import ListedExpiry, Lister
from workbench.data.locks import DEFAULT_LOCK_TIMEOUT
from workbench.data.store import MarketStore
from workbench.data.synth.bs import bs_greeks, year_fraction
from workbench.data.writer import DatasetWriter
from workbench.model import calendars
from workbench.model.dates import as_date
from workbench.model.instruments import get_instrument, instruments


def option_roots(config: HistoryConfig) -> tuple[str, ...]:
    """The roots listed: the configured ones, else every registry root on the spot (registry
    order: ``SPX`` before ``SPXW``)."""
    if config.roots:
        for root in config.roots:
            spec = get_instrument(root)
            if spec.spot_underlying != config.underlying:
                raise ValueError(
                    f"roots: {root} options are written on {spec.spot_underlying}, "
                    f"not {config.underlying}"
                )
        return config.roots
    found = tuple(i.name for i in instruments() if i.spot_underlying == config.underlying)
    if not found:
        raise ValueError(f"underlying: the registry lists no options on {config.underlying!r}")
    return found


def vol_levels(
    config: HistoryConfig, days: list[date], index_closes: Mapping[date, float]
) -> tuple[dict[date, float], list[date]]:
    """The 30-day at-the-money volatility of each day and the days that carried an earlier
    index close. Day ``T``'s value uses nothing after ``T``."""
    vol = config.vol
    out: dict[date, float] = {}
    carried: list[date] = []
    if isinstance(vol, FixedVol):
        return {d: vol.value for d in days}, carried
    if isinstance(vol, StepVol):
        return {d: vol.on(d) for d in days}, carried
    assert isinstance(vol, IndexVol)
    known = sorted(index_closes)
    last: tuple[date, float] | None = None
    run = 0
    k = 0
    for day in days:
        while k < len(known) and known[k] <= day:  # index closes up to day T, never later
            last = (known[k], index_closes[known[k]])
            k += 1
        if last is not None and last[0] == day:
            run = 0
        else:
            run += 1
            if last is None or run > vol.max_carry_days:
                since = f"its last close is {last[0]}" if last else "it has no earlier close"
                raise ValueError(
                    f"vol: index {vol.series} has no close on {day} ({since}; at most "
                    f"max_carry_days = {vol.max_carry_days} sessions are carried)"
                )
            carried.append(day)
        level = last[1]
        if not (math.isfinite(level) and level > 0):
            raise ValueError(f"vol: index {vol.series} close {level!r} on {last[0]} is not > 0")
        out[day] = vol.scale * level / 100.0
    return out, carried


def _ticks(values: np.ndarray, tick: float, how: str) -> np.ndarray:
    eps = 1e-9
    units = np.floor(values / tick + eps) if how == "down" else np.ceil(values / tick - eps)
    decimals = max(0, -math.floor(math.log10(tick) + 1e-9)) + 1
    return np.round(units * tick, decimals)


def price_chain(
    config: HistoryConfig,
    listed: list[ListedExpiry],
    root: str,
    ts: np.datetime64,
    spot: float,
    vol: float,
    rate: float,
    dividend: float,
) -> pa.Table:
    """One root's chain at ``ts`` (the day's close) from that day's inputs only."""
    spec = get_instrument(root)
    tick = float(spec.tick_size)
    mine = [e for e in listed if e.root == root]
    strikes = np.concatenate([np.repeat(e.strikes, 2) for e in mine])
    calls = np.concatenate([np.tile([True, False], len(e.strikes)) for e in mine])
    settle = np.concatenate(
        [np.full(2 * len(e.strikes), np.datetime64(e.settle, "us")) for e in mine]
    )
    expiry = np.concatenate(
        [np.full(2 * len(e.strikes), np.datetime64(e.expiry, "D")) for e in mine]
    )
    t = year_fraction(ts, settle)
    fwd = spot * np.exp((rate - dividend) * t)
    iv = config.smile.vol(vol, np.log(strikes / fwd), t)
    greeks = bs_greeks(spot, strikes, t, rate, iv, calls, q=dividend)
    mid = greeks["price"]
    q = config.quotes
    half = np.maximum(q.rel_spread / 2.0 * mid, q.min_ticks / 2.0 * tick) + q.stress_spread * mid
    close = np.maximum(_ticks(mid + tick / 2.0, tick, "down"), tick)  # nearest tick, >= 1 tick
    bid = _ticks(mid - half, tick, "down")
    bid = np.where(bid >= tick, bid, np.nan)
    ask = np.maximum(_ticks(mid + half, tick, "up"), tick)
    m = len(strikes)
    zeros = np.zeros(m, dtype=np.int64)
    return pa.table(
        {
            "ts": pa.array(np.full(m, ts), pa.timestamp("us")),
            "expiry": pa.array(expiry, pa.date32()),
            "strike": strikes,
            "right": pa.array(np.where(calls, "C", "P"), pa.string()),
            "open": close,
            "high": close,
            "low": close,
            "close": close,
            "bid": bid,
            "ask": ask,
            "volume": zeros,
            "oi": zeros,
            "iv": iv,
            "delta": greeks["delta"],
            "gamma": greeks["gamma"],
            "theta": greeks["theta"],
            "vega": greeks["vega"],
        }
    )


def check_out(out: Path) -> None:
    """Raise ``ValueError`` naming ``out`` unless it is absent, empty or a dataset this module
    wrote before (then replaced)."""
    from workbench.data.synth.output import check_generated_out

    check_generated_out(out, SOURCE_PREFIX, "a synthetic history")


def provider_snapshot(source: str) -> dict[str, Any] | None:
    """The provider configuration recorded in a catalog ``source`` (a run manifest's
    ``dataset.source``), or ``None`` when the dataset is not a synthetic history."""
    if not source.startswith(SOURCE_PREFIX):
        return None
    loaded: dict[str, Any] = json.loads(source[len(SOURCE_PREFIX) :].split("; ", 1)[0])
    return loaded


def synth_history(
    source: str | Path,
    out: str | Path,
    config: HistoryConfig,
    *,
    start: date | str | None = None,
    end: date | str | None = None,
    name: str | None = None,
    progress: bool = True,
    lock_timeout: float | None = DEFAULT_LOCK_TIMEOUT,
) -> Catalog:
    """Write the synthetic history of ``config.underlying`` from ``source``'s closes to ``out``.

    ``start``/``end`` (inclusive, default the source's range) bound the days; the days are the
    source's days of the underlying. Bad input (a missing series, a day without volatility, a
    day before the registry's expiries) raises ``ValueError`` naming it before anything is
    written; ``out`` is replaced in one atomic step.
    """
    out_path = Path(out)
    check_out(out_path)
    first = as_date(start, "start") if start is not None else None
    last = as_date(end, "end") if end is not None else None
    if first is not None and last is not None and last < first:
        raise ValueError(f"end {last} is before start {first}")
    roots = option_roots(config)
    store = MarketStore(source)
    try:
        underlying = config.underlying
        if underlying not in store.underlyings():
            raise ValueError(
                f"underlying: source {source} has no {underlying!r} series "
                f"(it has {', '.join(store.underlyings())})"
            )
        days = [
            d
            for d in store.days(underlying)
            if (first is None or d >= first) and (last is None or d <= last)
        ]
        if not days:
            raise ValueError(f"source {source} has no {underlying} day in {first} .. {last}")
        lo, _hi = calendars.expiry_coverage()
        if days[0] < lo:
            raise ValueError(
                f"start: {days[0]} is before {lo}, where the registry's expiry rules begin"
            )
        index_closes: dict[date, float] = {}
        if isinstance(config.vol, IndexVol):
            series = config.vol.series
            if series not in store.underlyings():
                raise ValueError(
                    f"vol: source {source} has no {series!r} series "
                    f"(it has {', '.join(store.underlyings())})"
                )
            # the index up to the last day only; from far enough back to carry into the first
            lookback = timedelta(days=7 * (config.vol.max_carry_days + 2))
            index_closes = store.daily_closes(series, days[0] - lookback, days[-1])
        vols, carried = vol_levels(config, days, index_closes)
        closes = store.daily_closes(underlying, days[0], days[-1])
        for d in days:
            if d not in closes:
                raise ValueError(f"source {source}: {underlying} has no finite close on {d}")
        rates = {d: (config.rate.on(d), config.dividend.on(d)) for d in days}
        meta = {
            **config.describe(),
            "source_dataset": {
                "path": str(Path(source).resolve()),
                "name": store.catalog.name,
                "content_version": store.catalog.content_version,
            },
            "start": days[0].isoformat(),
            "end": days[-1].isoformat(),
            "vol_carried": [d.isoformat() for d in carried],
        }
        spec = get_instrument(underlying)
        index_name = config.vol.series if isinstance(config.vol, IndexVol) else None
        writer = DatasetWriter(
            out_path,
            name=name or out_path.name,
            venue=spec.venue,
            timezone=store.catalog.timezone,
            bar_interval="1d",
            source=SOURCE_PREFIX + json.dumps(meta, sort_keys=True, separators=(",", ":")),
            underlying_specs={
                u: store.catalog.underlyings[u]
                for u in (underlying, *([index_name] if index_name else []))
                if u in store.catalog.underlyings and not store.catalog.underlyings[u].registered
            },
            replace=True,
            lock_timeout=lock_timeout,
        )
        try:
            check_out(out_path)
            lister = Lister(underlying, roots, config.listing)
            for day in tqdm(days, unit="day", desc="synth-history", disable=not progress):
                bar = store.read_spot(underlying, day)
                writer.write_spot(underlying, day, bar)
                if index_name is not None and store.has_day(index_name, day):
                    writer.write_spot(index_name, day, store.read_spot(index_name, day))
                ts = np.datetime64(bar.column("ts")[-1].as_py(), "us")
                spot, vol = closes[day], vols[day]
                listed = lister.day(day, spot, vol)
                rate, dividend = rates[day]
                for root in roots:
                    if any(e.root == root for e in listed):
                        table = price_chain(config, listed, root, ts, spot, vol, rate, dividend)
                        writer.write_options(root, day, table)
            return writer.finalize()
        except BaseException:
            writer.abort()
            raise
    finally:
        store.close()
