"""Benchmark ``analytics``: analysing and reporting a long intraday run built from fills.

Input: a synthetic tradebook of one two-leg short straddle per trading day (4 fills a day:
sell call and put at 09:20, buy back at 15:15, random prices, seed 3), 5 years (1,260 days,
5,040 fills; ``--quick``: 1 year), and its daily path.

Timed in the same run:

* ``trade_table``: :func:`workbench.analytics.trades.trade_table` (grouped NumPy/pandas);
* ``loop_baseline``: the straightforward way, one pass per trade over boolean masks of the
  tradebook (``tb[tb.trade_id == t]``) accumulating entry, exit, PnL, fees and reason, then
  grouping legs by entry time in a dict; its PnL per trade must equal ``trade_table``'s;
* ``analyse``: the whole :func:`workbench.analytics.analyse` (metrics, drawdowns, breakdowns,
  five Monte Carlo simulations of 1,000 paths);
* ``tearsheet``: rendering the HTML with every chart (:func:`render_html`).

Headline ratio: ``loop_baseline / trade_table``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from workbench.analytics import analyse
from workbench.analytics.inputs import RunData, validate_daily, validate_tradebook
from workbench.analytics.trades import trade_table

LOT = 50.0


def synthetic_run(n_days: int, seed: int = 3) -> RunData:
    """One intraday short straddle per business day; daily path derived from the fills."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2015-01-01", periods=n_days)
    n = n_days * 4
    day_of = np.repeat(days.to_numpy(), 4)
    leg = np.tile(np.array([0, 1, 0, 1]), n_days)  # call, put, call, put
    is_open = np.tile(np.array([True, True, False, False]), n_days)
    ts = day_of + np.where(
        is_open, np.timedelta64(9 * 60 + 20, "m"), np.timedelta64(15 * 60 + 15, "m")
    )
    entry = rng.normal(100.0, 10.0, size=(n_days, 2))
    exit_ = np.maximum(entry + rng.normal(-8.0, 25.0, size=(n_days, 2)), 0.5)
    price = np.round(
        np.stack([entry[:, 0], entry[:, 1], exit_[:, 0], exit_[:, 1]], axis=1).ravel(), 2
    )
    signed = np.where(is_open, -LOT, LOT)
    fees = np.full(n, 20.0)
    trade_ids = np.array([f"{pd.Timestamp(d):%Y%m%d}-{k}" for d, k in zip(day_of, leg)])
    frame = pd.DataFrame(
        {
            "run_id": "bench",
            "fill_id": np.arange(n),
            "trade_id": trade_ids,
            "position_key": np.where(leg == 0, "call", "put"),
            "cycle": 0,
            "day": day_of,
            "ts": ts,
            "underlying": "NIFTY",
            "expiry": day_of + np.timedelta64(3, "D"),
            "strike": 22000.0,
            "right": np.where(leg == 0, "C", "P"),
            "symbol": np.where(leg == 0, "NIFTY22000CE", "NIFTY22000PE"),
            "side": np.where(is_open, "SELL", "BUY"),
            "action": np.where(is_open, "open", "close"),
            "qty": 1,
            "units": LOT,
            "signed_units": signed,
            "price": price,
            "mid": price + np.where(is_open, 0.5, -0.5),
            "fees": fees,
            "cash": -signed * price - fees,
            "reason": np.where(is_open, "entry", np.where(rng.random(n) < 0.3, "stop_loss", "eod")),
            "spot": 22000.0,
            "iv": 0.15,
            "delta": np.where(leg == 0, 0.5, -0.5),
        }
    )
    pnl = frame.groupby("day")["cash"].sum().reindex(days, fill_value=0.0)
    daily = pd.DataFrame(
        {
            "date": days,
            "pnl": pnl.to_numpy(),
            "equity": pnl.cumsum().to_numpy(),
            "fills": 4,
            "spot_close": 22000.0,
        }
    )
    return RunData(validate_tradebook(frame), validate_daily(daily), {"template": "bench-straddle"})


def loop_trade_pnl(tb: pd.DataFrame) -> dict[str, float]:
    """The baseline: per-trade boolean masks, then legs grouped by entry time in a dict."""
    legs: dict[str, dict[str, Any]] = {}
    for trade_id in tb["trade_id"].unique():
        rows = tb[tb["trade_id"] == trade_id]
        opens = rows[rows["action"] == "open"]
        closes = rows[rows["action"] != "open"]
        legs[trade_id] = {
            "entry": opens["ts"].iloc[0],
            "exit": closes["ts"].iloc[-1],
            "cash": float(rows["cash"].sum()),
            "fees": float(rows["fees"].sum()),
            "reason": closes["reason"].iloc[-1],
        }
    trades: dict[str, float] = {}
    for leg in legs.values():
        key = str(leg["entry"])
        trades[key] = trades.get(key, 0.0) + leg["cash"]
    return trades


def run(quick: bool) -> dict[str, Any]:
    n_days = 252 if quick else 1260
    data = synthetic_run(n_days)
    t0 = time.perf_counter()
    table = trade_table(data.tradebook, data.daily, expiry_kind=None)
    t_table = time.perf_counter() - t0
    t0 = time.perf_counter()
    baseline = loop_trade_pnl(data.tradebook)
    t_loop = time.perf_counter() - t0
    ours = dict(zip(table["entry_ts"].astype(str), table["pnl"]))
    if set(ours) != set(baseline) or any(abs(ours[k] - baseline[k]) > 1e-6 for k in ours):
        raise AssertionError(
            "analytics benchmark: trade_table and the loop baseline disagree on trade PnL"
        )
    t0 = time.perf_counter()
    analysis = analyse(data, capital=1_000_000, mc_paths=1000, expiry_kind=None)
    t_analyse = time.perf_counter() - t0
    from workbench.analytics.tearsheet import render_html

    t0 = time.perf_counter()
    html = render_html(analysis)
    t_render = time.perf_counter() - t0
    return {
        "benchmark": "analytics",
        "ratio": t_loop / t_table,
        "baseline": "per-trade boolean-mask loop building the same trade PnL",
        "figures": {
            "days": n_days,
            "fills": len(data.tradebook),
            "trades": len(table),
            "trade_table_s": t_table,
            "loop_baseline_s": t_loop,
            "analyse_s": t_analyse,
            "tearsheet_render_s": t_render,
            "tearsheet_bytes": len(html.encode("utf-8")),
        },
    }
