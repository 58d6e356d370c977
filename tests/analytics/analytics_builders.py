"""Hand-built analytics inputs shaped as docs/INTERFACES.md (engine section) describes.

``make_run`` fabricates a consistent tradebook and daily path without the engine: one short
straddle per trading day (intraday, opened 09:20 and closed 15:15) and optionally a positional
trade held over several days. Every daily number is derived from the fills, so
``daily.pnl.sum() == tradebook.cash.sum()`` to rounding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

LOT = 50.0


@dataclass
class FakeResult:
    tradebook: pd.DataFrame
    daily: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)


def fill(
    fill_id: int,
    trade_id: str,
    ts: str,
    side: str,
    action: str,
    price: float,
    *,
    strike: float = 22000.0,
    right: str = "C",
    expiry: str | None = None,
    qty: int = 1,
    fees: float = 20.0,
    mid: float | None = None,
    reason: str = "entry",
    cycle: int = 0,
    spot: float = 22000.0,
) -> dict[str, Any]:
    """One tradebook row (units = qty x 50)."""
    t = pd.Timestamp(ts)
    units = qty * LOT
    signed = units if side == "BUY" else -units
    return {
        "run_id": "test",
        "fill_id": fill_id,
        "trade_id": trade_id,
        "position_key": trade_id,
        "cycle": cycle,
        "day": t.normalize(),
        "ts": t,
        "underlying": "NIFTY",
        "expiry": pd.Timestamp(expiry) if expiry else t.normalize(),
        "strike": strike,
        "right": right,
        "symbol": f"NIFTY{strike:g}{right}E",
        "side": side,
        "action": action,
        "qty": qty,
        "units": units,
        "signed_units": signed,
        "price": price,
        "price_ts": t,
        "lag": 0,
        "fill_model": "mid",
        "mid": price if mid is None else mid,
        "fees": fees,
        "cash": -signed * price - fees,
        "reason": reason,
        "spot": spot,
        "iv": 0.15,
        "delta": 0.5 if right == "C" else -0.5,
    }


def daily_from_fills(
    tradebook: pd.DataFrame, days: pd.DatetimeIndex, marks: dict[pd.Timestamp, float] | None = None
) -> pd.DataFrame:
    """Daily path from the fills: cash per day, optional mark value of open positions per day."""
    marks = marks or {}
    rows = []
    cash = 0.0
    prev_equity = 0.0
    for d in days:
        today = tradebook[tradebook["day"] == d] if len(tradebook) else tradebook
        day_cash = float(today["cash"].sum()) if len(today) else 0.0
        cash += day_cash
        mtm = marks.get(d, 0.0)
        equity = cash + mtm
        rows.append(
            {
                "date": d.date().isoformat(),
                "pnl": equity - prev_equity,
                "realized": day_cash,
                "unrealized": mtm,
                "fees": float(today["fees"].sum()) if len(today) else 0.0,
                "cash": cash,
                "mtm": mtm,
                "equity": equity,
                "open_legs": 2 if mtm else 0,
                "delta": 10.0 * np.sin(len(rows) / 5),
                "gamma": -0.5,
                "vega": -120.0 + len(rows),
                "theta": 300.0,
                "margin": 150000.0 if mtm else 0.0,
                "spot_close": 22000.0 + 10 * len(rows),
                "fills": len(today),
                "skipped": len(today) == 0,
                "skip_reason": "" if len(today) else "no entry",
                "warnings": "",
                "refused_fills": 0,
            }
        )
        prev_equity = equity
    return pd.DataFrame(rows)


def make_run(
    n_days: int = 60, seed: int = 7, *, start: str = "2024-01-01", positional: bool = True
) -> FakeResult:
    """A short straddle every trading day with random outcomes, plus a 3-day positional trade."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range(start, periods=n_days)
    rows: list[dict[str, Any]] = []
    fid = 0
    reasons = ["stop_loss", "target", "eod"]
    for i, d in enumerate(days):
        exp = (d + pd.offsets.Week(weekday=3)).date().isoformat()
        ce_in, pe_in = 100 + rng.normal(0, 5), 95 + rng.normal(0, 5)
        ce_out, pe_out = max(ce_in + rng.normal(-8, 25), 0.5), max(pe_in + rng.normal(-8, 25), 0.5)
        reason = reasons[i % 3]
        for leg, right, pin, pout in (("a", "C", ce_in, ce_out), ("b", "P", pe_in, pe_out)):
            tid = f"{d:%Y%m%d}-{leg}"
            rows.append(
                fill(
                    fid,
                    tid,
                    f"{d:%Y-%m-%d} 09:20",
                    "SELL",
                    "open",
                    round(pin, 2),
                    right=right,
                    expiry=exp,
                    mid=round(pin, 2) + 0.5,
                )
            )
            rows.append(
                fill(
                    fid + 1,
                    tid,
                    f"{d:%Y-%m-%d} 15:15",
                    "BUY",
                    "close",
                    round(pout, 2),
                    right=right,
                    expiry=exp,
                    mid=round(pout, 2) - 0.5,
                    reason=reason,
                )
            )
            fid += 2
    marks: dict[pd.Timestamp, float] = {}
    if positional and n_days >= 10:
        d0, d3 = days[5], days[8]
        rows.append(
            fill(
                fid,
                "pos-1",
                f"{d0:%Y-%m-%d} 10:00",
                "SELL",
                "open",
                250.0,
                strike=22500,
                right="C",
                expiry=f"{days[-1]:%Y-%m-%d}",
                reason="entry",
                cycle=1,
            )
        )
        rows.append(
            fill(
                fid + 1,
                "pos-1",
                f"{d3:%Y-%m-%d} 14:00",
                "BUY",
                "close",
                200.0,
                strike=22500,
                right="C",
                expiry=f"{days[-1]:%Y-%m-%d}",
                reason="target",
                cycle=1,
            )
        )
        # open value of the short call at the closes in between (negative market value)
        for d, px in zip(days[5:8], (260.0, 300.0, 180.0)):
            marks[d] = -px * LOT
    tradebook = pd.DataFrame(rows).sort_values(["ts", "fill_id"]).reset_index(drop=True)
    daily = daily_from_fills(tradebook, days, marks)
    manifest = {
        # cycles restart every day, as in an intraday run (the one position held over days
        # has a cycle of its own): positions are (entry day, cycle)
        "strategy": {"name": "short-straddle", "mode": "intraday"},
        "template": "short-straddle",
        "version": "1",
        "params": {"entry": "09:20"},
        "dataset": "synth",
        "seed": seed,
    }
    return FakeResult(tradebook, daily, manifest)


def empty_run(n_days: int = 5, start: str = "2024-01-01") -> FakeResult:
    """No fills at all: every day skipped, PnL 0."""
    days = pd.bdate_range(start, periods=n_days)
    tb = pd.DataFrame(columns=list(fill(0, "x", "2024-01-01 09:20", "SELL", "open", 1.0).keys()))
    return FakeResult(tb, daily_from_fills(tb, days), {"template": "none"})


def fake_paths(run: FakeResult, seed: int = 5, step_minutes: int = 5) -> pd.DataFrame:
    """An intraday path per day with fills (``day, ts, pnl``): from minus the entry fees at the
    first fill to the day's cash at the last, a random walk in between (a stand-in for the
    marks the research layer reads from a dataset)."""
    rng = np.random.default_rng(seed)
    frames = []
    tb = run.tradebook
    for day, fills in tb.groupby("day"):
        first, last = fills["ts"].min(), fills["ts"].max()
        ts = pd.date_range(first, last, freq=f"{step_minutes}min")
        if ts[-1] != last:
            ts = ts.append(pd.DatetimeIndex([last]))
        n = len(ts)
        start = -float(fills.loc[fills["ts"] == first, "fees"].sum())
        end = float(fills["cash"].sum())
        walk = np.cumsum(rng.normal(0, 150.0, n))
        bridge = walk - np.linspace(0, 1, n) * walk[-1]
        pnl = start + (end - start) * np.linspace(0, 1, n) + bridge
        pnl[-1] = end
        frames.append(pd.DataFrame({"day": pd.Timestamp(day), "ts": ts, "pnl": pnl}))
    return pd.concat(frames, ignore_index=True)


def fake_closes(run: FakeResult, seed: int = 9) -> pd.Series:
    """Daily closes of the underlying from the business day before the run to its last day."""
    rng = np.random.default_rng(seed)
    days = pd.to_datetime(run.daily["date"])
    index = pd.DatetimeIndex([days.iloc[0] - pd.offsets.BDay(1), *days])
    return pd.Series(22000.0 * np.exp(np.cumsum(rng.normal(0, 0.01, len(index)))), index=index)
