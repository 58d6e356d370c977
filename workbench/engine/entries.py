"""The market at each entry: one row per opening order (``BacktestResult.entries``).

Recorded by the simulator when ``try_fill`` opens positions, as of the order's tick (nothing
later): the run's VIX-like series (:func:`workbench.data.vol_index.pick_vix` among the series
of the run's datasets; the value ``bar.series`` gives at that tick, so a daily VIX is the
previous session's close), the underlying's ATM IV and -- when the strategy read IV rank or IV
percentile in the run (``bar.iv_rank``/``bar.iv_percentile``), with the window it last used --
its IV rank and IV percentile at that tick, and the order's theta. The analytics trade table
joins them to the position the order opened (``vix_entry``, ``iv_rank_entry`` ...).

Columns (:data:`ENTRY_COLUMNS`): ``day, ts, trade_ids`` (the order's legs, ``;``-joined, as in
the tradebook), ``vix_series`` (the series' name, "" without one), ``vix, vix_lag`` (lag in
sessions for a daily series, clock ticks for an intraday bar), ``atm_iv`` (fraction per year,
NaN unless IV was read), ``iv_rank, iv_percentile`` (percent, ``0..100``), ``iv_window`` (sessions,
0 when not read), ``theta`` (the order's theta at its fill prices, money per calendar day:
the engine's per-year theta / 365, signed: > 0 earns time decay; legs whose price implies no
volatility -- all intrinsic value -- count for nothing, NaN when none has one), ``leg_thetas``
(each leg's theta per unit of underlying per day, ``;``-joined in ``trade_ids`` order, "nan"
where none). :func:`tradebook_with_entries` lays them on the opening fills as the tradebook
columns ``vix, iv_rank, iv_percentile, theta`` that ``trades.parquet`` reads
(:mod:`workbench.engine.position_log`: its ``theta_at_entry`` is then money per day).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from workbench.engine.simulator import Simulator
    from workbench.engine.trade import Trade

ENTRY_COLUMNS: tuple[str, ...] = (
    "day",
    "ts",
    "trade_ids",
    "vix_series",
    "vix",
    "vix_lag",
    "atm_iv",
    "iv_rank",
    "iv_percentile",
    "iv_window",
    "theta",
    "leg_thetas",
)


def entry_row(
    sim: Simulator, trades: Sequence[Trade], options: Sequence[Any], greeks: dict[str, Any] | None
) -> tuple[Any, ...]:
    """The :data:`ENTRY_COLUMNS` row of an opening order just filled at the simulator's tick."""
    from workbench.engine.universe import market_of

    # the market of the order's underlying (a universe run's), else the run's one market
    try:
        market = market_of(sim.market, trades[0].underlying if trades else None)
    except ValueError:  # not an underlying of its own today: the run's first
        market = market_of(sim.market, None)
    i = sim.tick
    name = market.vix_name()
    vix, vix_lag = math.nan, -1
    if name:
        value = market.series_value(name, i)
        vix, vix_lag = value.value, -1 if value.lag is None else value.lag
    atm_iv = rank = pct = math.nan
    window = 0
    if sim._iv_window is not None:
        window, min_days = sim._iv_window
        atm_iv, rank, pct, _ = market.iv_stats(i, window, min_days)
    theta = math.nan
    per_leg: dict[str, float] = {}
    if greeks is not None:
        by_key = {t.key: t for t in trades}
        total, known = 0.0, 0
        for p, value in zip(options, greeks["theta"], strict=True):
            per_leg[p.key] = value / 365.0
            if value == value:
                total += by_key[p.key].signed_units * value
                known += 1
        theta = total / 365.0 if known else math.nan  # no leg with an implied volatility
    leg_thetas = ";".join(repr(float(per_leg.get(t.key, math.nan))) for t in trades)
    return (
        market.day,
        market.clock[i],
        ";".join(t.trade_id for t in trades),
        name or "",
        vix,
        vix_lag,
        atm_iv,
        rank,
        pct,
        window,
        theta,
        leg_thetas,
    )


def tradebook_with_entries(tradebook: pd.DataFrame, entries: pd.DataFrame | None) -> pd.DataFrame:
    """``tradebook`` with the columns ``vix, iv_rank, iv_percentile, theta`` (theta per unit
    per day) filled on the opening fills of each entry's legs (NaN elsewhere); the tradebook
    itself when there are no entries."""
    if entries is None or entries.empty or tradebook.empty:
        return tradebook
    values: dict[str, dict[str, float]] = {c: {} for c in ("vix", "iv_rank", "iv_percentile")}
    theta: dict[str, float] = {}
    legs_theta = entries["leg_thetas"] if "leg_thetas" in entries else [""] * len(entries)
    for ids, vix, rank, pct, legs in zip(
        entries["trade_ids"].astype(str), entries["vix"], entries["iv_rank"],
        entries["iv_percentile"], legs_theta, strict=True,
    ):  # fmt: skip
        keys = ids.split(";")
        parts = str(legs).split(";") if isinstance(legs, str) and legs else []
        for j, key in enumerate(keys):
            values["vix"].setdefault(key, float(vix))
            values["iv_rank"].setdefault(key, float(rank))
            values["iv_percentile"].setdefault(key, float(pct))
            if j < len(parts):
                theta.setdefault(key, float(parts[j]))
    out = tradebook.copy()
    opening = (out["action"] == "open").to_numpy()
    trade_ids = out["trade_id"].astype(str)
    for column, by_id in (*values.items(), ("theta", theta)):
        out[column] = trade_ids.map(by_id).where(opening).astype(float)
    return out


def entries_frame(rows: Sequence[tuple[Any, ...]]) -> pd.DataFrame:
    """The run's entries (one row per opening order, by time)."""
    frame = pd.DataFrame(list(rows), columns=list(ENTRY_COLUMNS))
    if not frame.empty:
        frame["day"] = pd.to_datetime(frame["day"])
        frame["ts"] = pd.to_datetime(frame["ts"])
        frame = frame.sort_values(["ts", "trade_ids"], kind="stable").reset_index(drop=True)
    frame["vix_lag"] = frame["vix_lag"].astype("int64")
    frame["iv_window"] = frame["iv_window"].astype("int64")
    return frame
