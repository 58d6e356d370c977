"""Checks of a backtest result recomputed from its tradebook and the dataset, not from the engine.

Used by ``test_backtests_realdata.py``. Each helper asserts one property with a message naming
the row or day at fault:

- :func:`check_cash`: every fill's cash = ``-signed_units x price - fees``.
- :func:`check_lifecycle`: every opened leg is closed or settled, or still open at the end (and
  then counted in the last day's ``open_legs``); no leg closes twice.
- :func:`check_pnl_sums`: the daily PnL adds up to the final equity, the metrics' total and the
  tradebook's cash plus the final mark-to-market.
- :func:`check_round_trips`: trades, win rate and average trade PnL of the metrics from the
  finished cycles of the tradebook (a cycle with a leg still open is not a round trip).
- :func:`recomputed_equity`: equity per day = cumulative tradebook cash + the open legs marked
  at that day's close with the engine's documented mark rule (INTERFACES.md "Mark rule"), read
  from the dataset through :class:`~workbench.data.store.MarketStore`.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from workbench.data.store import MarketStore
from workbench.model.contracts import OptionContract
from workbench.model.enums import Right

CENT = 0.01


def check_cash(tb: pd.DataFrame) -> None:
    expected = -tb["signed_units"] * tb["price"] - tb["fees"]
    bad = tb[(expected - tb["cash"]).abs() > 1e-6]
    assert bad.empty, f"cash != -signed_units x price - fees on fills {list(bad['fill_id'])}"


def open_legs_at_end(tb: pd.DataFrame) -> pd.DataFrame:
    """Opening rows of legs that no close/settle row ends (still open at the end of the run)."""
    opens = tb[tb["action"] == "open"]
    ends = tb[tb["action"].isin(["close", "settle"])]
    counts = ends.groupby("trade_id").size()
    assert (counts == 1).all(), f"legs closed more than once: {list(counts[counts > 1].index)}"
    unknown = set(ends["trade_id"]) - set(opens["trade_id"])
    assert not unknown, f"close/settle rows without an opening fill: {sorted(unknown)}"
    for tid, row in ends.set_index("trade_id").iterrows():
        start = opens.loc[opens["trade_id"] == tid].iloc[0]
        assert row["qty"] == start["qty"] and row["side"] != start["side"], tid
        assert row["ts"] >= start["ts"], f"{tid} closes before it opens"
    return opens[~opens["trade_id"].isin(ends["trade_id"])]


def check_lifecycle(tb: pd.DataFrame, daily: pd.DataFrame) -> pd.DataFrame:
    still_open = open_legs_at_end(tb)
    assert int(daily["open_legs"].iloc[-1]) == len(still_open), (
        f"last day reports {daily['open_legs'].iloc[-1]} open legs, the tradebook {len(still_open)}"
    )
    return still_open


def check_pnl_sums(tb: pd.DataFrame, daily: pd.DataFrame, metrics: dict[str, float]) -> None:
    final = float(daily["equity"].iloc[-1])
    assert math.isclose(float(daily["pnl"].sum()), final, abs_tol=CENT)
    assert math.isclose(float(metrics["total_pnl"]), final, abs_tol=CENT)
    assert math.isclose(float(tb["cash"].sum()) + float(daily["mtm"].iloc[-1]), final, abs_tol=CENT)
    assert math.isclose(float(tb["fees"].sum()), float(metrics["fees"]), abs_tol=CENT)


def check_round_trips(tb: pd.DataFrame, metrics: dict[str, float]) -> pd.Series:
    """Per finished cycle PnL (cash net of fees), checked against the metrics; returned."""
    still_open = set(open_legs_at_end(tb)["cycle"])
    finished = tb[~tb["cycle"].isin(still_open)]
    pnl = finished.groupby("cycle")["cash"].sum()
    assert metrics["trades"] == len(pnl)
    if len(pnl):
        assert metrics["win_rate"] == pytest.approx(float((pnl > 0).mean()))
        assert metrics["avg_trade_pnl"] == pytest.approx(float(pnl.mean()))
    return pnl


def _quoted(bar: pd.Series) -> bool:
    bid, ask = float(bar["bid"]), float(bar["ask"])
    return math.isfinite(bid) and math.isfinite(ask) and bid >= 0 and ask > 0 and ask >= bid


def mark_from_rows(rows: pd.DataFrame) -> float:
    """INTERFACES.md mark rule on one instrument's bars up to now: the mid of the last bar with a
    usable two-sided quote (finite bid >= 0, finite ask > 0, ask >= bid), else its close."""
    if rows.empty:
        return math.nan
    last = rows.iloc[-1]
    bid, ask = float(last["bid"]), float(last["ask"])
    if math.isfinite(bid) and math.isfinite(ask) and bid >= 0 and ask > 0 and ask >= bid:
        return (bid + ask) / 2
    return float(last["close"])


def bounded_mark(store: MarketStore, leg: pd.Series, day: date, mark: float) -> float:
    """INTERFACES.md (days.csv, positional): a leg whose day-end bar has no two-sided quote is
    held within the no-arbitrage bounds of the nearest quoted strikes of its expiry and right
    (monotone in strike; neighbours differ by at most the strike distance; never below 0).
    Written from the rule, on the raw chain, apart from workbench.engine.markbounds."""
    chain = store.read_chain(leg["underlying"], day, leg["expiry"]).to_pandas()
    chain = chain[chain["right"] == leg["right"]].sort_values("ts").groupby("strike").last()
    quoted = chain[
        np.isfinite(chain["bid"])
        & np.isfinite(chain["ask"])
        & (chain["bid"] >= 0)
        & (chain["ask"] > 0)
        & (chain["ask"] >= chain["bid"])
    ]
    k = float(leg["strike"])
    mids = ((quoted["bid"] + quoted["ask"]) / 2).drop(k, errors="ignore")
    below, above = mids[mids.index < k], mids[mids.index > k]
    if below.empty and above.empty:
        return mark
    call = leg["right"] == "C"
    low, high = 0.0, math.inf
    if not below.empty:
        kb, mb = float(below.index[-1]), float(below.iloc[-1])
        low = max(low, mb - (k - kb) if call else mb)
        high = min(high, mb if call else mb + (k - kb))
    if not above.empty:
        ka, ma = float(above.index[0]), float(above.iloc[0])
        low = max(low, ma if call else ma - (ka - k))
        high = min(high, ma + (ka - k) if call else ma)
    if low > high:
        return (low + high) / 2
    return min(max(mark, low), high)


def recomputed_equity(
    tb: pd.DataFrame, daily: pd.DataFrame, store: MarketStore, underlying: str
) -> pd.Series:
    """Equity at each day's close from the tradebook's cash and marks read from the dataset.

    A leg without a bar on a day (or a day without data) keeps its last mark, as the engine does.
    """
    tb = tb.sort_values("fill_id")
    opens = tb[tb["action"] == "open"].set_index("trade_id")
    end_day = dict(
        zip(
            *(tb.loc[tb["action"].isin(["close", "settle"]), c] for c in ("trade_id", "day")),
            strict=True,
        )
    )
    last_mark: dict[str, float] = {}
    out = {}
    for day_text in daily["date"]:
        day = date.fromisoformat(day_text)
        cash = float(tb.loc[tb["day"] <= day, "cash"].sum())
        mtm = 0.0
        for tid, leg in opens.iterrows():
            if leg["day"] > day or (tid in end_day and end_day[tid] <= day):
                continue
            if store.has_day(underlying, day):
                contract = OptionContract(
                    leg["underlying"], leg["expiry"], float(leg["strike"]), Right(leg["right"])
                )
                rows = store.read_instrument(contract, day).to_pandas()
                mark = mark_from_rows(rows)
                if not rows.empty and not _quoted(rows.iloc[-1]) and end_day.get(tid) != day:
                    mark = bounded_mark(store, leg, day, mark)
                if math.isfinite(mark):
                    last_mark[str(tid)] = mark
            mtm += float(leg["signed_units"]) * last_mark.get(str(tid), float(leg["price"]))
        out[day_text] = cash + mtm
    return pd.Series(out)


def orats_price(side: str, bid: float, ask: float, fraction: float) -> float:
    """Seed 003: buy at ``bid + (ask - bid) x f``, sell at ``ask - (ask - bid) x f``."""
    if side == "BUY":
        return bid + (ask - bid) * fraction
    return ask - (ask - bid) * fraction


def max_drawdown(equity: pd.Series) -> float:
    values = np.concatenate([[0.0], equity.to_numpy(dtype=float)])
    return float((values - np.maximum.accumulate(values)).min())
