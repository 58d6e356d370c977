"""Per-trade table built from the tradebook (one row per fill).

Two levels:

* **legs** (``leg_trades``): one row per ``trade_id`` (one engine position), all of its fills;
* **trades** (``trade_table``): one row per *position*, the workbench's one trade model
  (:mod:`workbench.engine.positions`): the legs of one cycle, its opening order and every
  adjustment inside it (a roll, a hedge, a leg stopped alone), grouped by (``run_id`` when
  present, position id). A straddle is one trade; a leg added later by an adjustment belongs to
  it and is counted in ``adjustments``, not as a trade of its own.

Money columns are in the account currency: ``pnl`` is the sum of the fills' ``cash`` (net of
fees), ``gross_pnl`` is before fees, ``premium`` is ``-sum(signed_units * price)`` over opening
fills (positive = credit received), ``slippage`` is ``sum(signed_units * (price - mid))`` (money
lost to the fill versus the mid; 0 where no mid was recorded). A trade is ``closed`` when every
leg's units net to zero; open trades keep ``pnl`` NaN.

MAE / MFE (most adverse / favourable excursion, money, MAE <= 0 <= MFE) are taken from the best
path available, named in ``excursion_basis``:

``ticks``  the engine's own tick-by-tick excursion of the trade (intraday runs:
           ``excursions.csv``, :mod:`workbench.engine.excursions`), matched on the legs' trade ids;
``marks``  a per-leg mark series ``(trade_id, ts, pnl)`` supplied by the caller, where ``pnl`` is
           that leg's open PnL before fees at ``ts``; legs are forward-filled onto their union.
``daily``  the daily path (cumulative PnL at each close while the trade was open), used only when
           no other trade was open during its life, so the book's PnL is the trade's.
``fills``  only the entry and the exit are known: ``min(pnl, 0)`` and ``max(pnl, 0)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from workbench.analytics.tradelog import entry_features, legs_detail, trade_legs
from workbench.engine.positions import position_ids, positions

TRADE_COLUMNS: tuple[str, ...] = (
    "trade",
    "position",
    "cycle",
    "legs",
    "adjustments",
    "adjustment_reasons",
    "underlying",
    "symbols",
    "entry_ts",
    "exit_ts",
    "entry_day",
    "exit_day",
    "days_held",
    "minutes_held",
    "expiry",
    "dte_at_entry",
    "expiry_kind",
    "entry_weekday",
    "premium",
    "fees",
    "slippage",
    "gross_pnl",
    "pnl",
    "pnl_pct_premium",
    "max_risk",
    "pnl_pct_max_risk",
    "exit_reason",
    "status",
    "spot_entry",
    "spot_exit",
    "delta_entry",
    "main_delta",
    "moneyness_pct",
    "short_strike",
    "long_strike",
    "short_strikes",
    "long_strikes",
    "theta_entry",
    "vix_entry",
    "atm_iv_entry",
    "iv_rank_entry",
    "iv_percentile_entry",
    "mae",
    "mfe",
    "excursion_basis",
    "legs_detail",
)

#: the engine's entries (``BacktestResult.entries``) -> trade table columns
ENTRY_FIELDS: dict[str, str] = {
    "theta": "theta_entry",
    "vix": "vix_entry",
    "atm_iv": "atm_iv_entry",
    "iv_rank": "iv_rank_entry",
    "iv_percentile": "iv_percentile_entry",
}

LEG_COLUMNS: tuple[str, ...] = (
    "trade_id",
    "group",
    "underlying",
    "symbol",
    "entry_ts",
    "exit_ts",
    "expiry",
    "net_units",
    "premium",
    "fees",
    "slippage",
    "cash",
    "exit_reason",
    "spot_entry",
    "spot_exit",
    "delta_entry",
)

ExpiryKindFn = Callable[[str, date], str]


def leg_trades(tradebook: pd.DataFrame, mode: str | Mapping[str, str] = "intraday") -> pd.DataFrame:
    """One row per ``trade_id``: entry/exit timestamps, net units, premium, fees, slippage, PnL,
    exit reason (the reason of the last closing or settling fill) and the grouping key (the
    run and position, ``mode`` being the run's ``"intraday"`` or ``"positional"``)."""
    cols = list(LEG_COLUMNS)
    if tradebook.empty:
        return pd.DataFrame(columns=cols)
    tb = tradebook.assign(position=position_ids(tradebook, mode).to_numpy())
    is_open = (tb["action"] == "open").to_numpy()
    signed = tb["signed_units"].to_numpy(dtype=float)
    price = tb["price"].to_numpy(dtype=float)
    mid = tb["mid"].to_numpy(dtype=float)
    work = pd.DataFrame(
        {
            "trade_id": tb["trade_id"].to_numpy(),
            "open_value": np.where(is_open, -signed * price, 0.0),
            "slippage": np.where(np.isfinite(mid), signed * (price - np.nan_to_num(mid)), 0.0),
            "delta_pos": np.where(is_open, tb["delta"].to_numpy(dtype=float) * signed, np.nan),
            "signed_units": signed,
            "units": tb["units"].to_numpy(dtype=float),
            "fees": tb["fees"].to_numpy(dtype=float),
            "cash": tb["cash"].to_numpy(dtype=float),
        }
    )
    g = work.groupby("trade_id", sort=False)
    sums = g[["open_value", "slippage", "signed_units", "fees", "cash"]].sum()
    delta = g["delta_pos"].sum(min_count=1)
    max_units = g["units"].max()
    # first opening fill of each leg (or its first fill when the book starts mid-trade)
    opens = tb[is_open].groupby("trade_id", sort=False).head(1).set_index("trade_id")
    firsts = tb.groupby("trade_id", sort=False).head(1).set_index("trade_id")
    first = opens.reindex(sums.index).combine_first(firsts.reindex(sums.index))
    lasts = (
        tb[~is_open]
        .groupby("trade_id", sort=False)
        .tail(1)
        .set_index("trade_id")
        .reindex(sums.index)
    )
    net = sums["signed_units"].to_numpy()
    closed = (np.abs(net) < 1e-9 * np.maximum(1.0, max_units.to_numpy())) & lasts[
        "ts"
    ].notna().to_numpy()
    if "symbol" in first.columns:
        symbol = first["symbol"].astype(str)
    else:
        symbol = (
            first["underlying"].astype(str)
            + " "
            + first["expiry"].dt.strftime("%Y-%m-%d")
            + " "
            + first["strike"].map("{:g}".format)
            + first["right"].astype(str)
        )
    out = pd.DataFrame(
        {
            "trade_id": sums.index.to_numpy(),
            "group": first["position"].astype(str).to_numpy(),
            "underlying": first["underlying"].astype(str).to_numpy(),
            "symbol": symbol.to_numpy(),
            "entry_ts": pd.to_datetime(first["ts"]).to_numpy(),
            "exit_ts": np.where(
                closed, pd.to_datetime(lasts["ts"]).to_numpy(), np.datetime64("NaT")
            ),
            "expiry": pd.to_datetime(first["expiry"]).to_numpy(),
            "net_units": np.where(closed, 0.0, net),
            "premium": sums["open_value"].to_numpy(),
            "fees": sums["fees"].to_numpy(),
            "slippage": sums["slippage"].to_numpy(),
            "cash": sums["cash"].to_numpy(),
            "exit_reason": np.where(closed, lasts["reason"].astype(str).to_numpy(), ""),
            "spot_entry": first["spot"].to_numpy(dtype=float),
            "spot_exit": np.where(closed, lasts["spot"].to_numpy(dtype=float), np.nan),
            "delta_entry": delta.to_numpy(),
        }
    )
    out["exit_ts"] = pd.to_datetime(out["exit_ts"])
    return out[cols]


def _expiry_kind(underlying: str, expiry: pd.Timestamp, fn: ExpiryKindFn | None) -> str:
    if pd.isna(expiry):
        return "none"  # only underlying (stock) legs: nothing expires
    if fn is None:
        return "unknown"
    try:
        return str(fn(underlying, expiry.date()))
    except (KeyError, ValueError, LookupError):
        return "unknown"


def default_expiry_kind() -> ExpiryKindFn | None:
    """``workbench.model.calendars.expiry_kind`` when the model layer provides it, else ``None``
    (trades then carry ``expiry_kind == "unknown"``)."""
    try:
        from workbench.model import calendars  # type: ignore[attr-defined]
    except ImportError:
        return None
    fn = getattr(calendars, "expiry_kind", None)
    return fn if callable(fn) else None


def _per_group(
    keys: pd.Series,
    values: pd.Series,
    reduce: Callable[[list[Any]], Any],
    index: pd.Index,
    dtype: str = "object",
) -> pd.Series:
    """``reduce`` of each group's values in row order, on ``index`` (the groups' own index, in
    order of first appearance): ``groupby(...).agg(reduce)`` without a Series per group (a
    study has thousands of positions)."""
    members: dict[Any, list[Any]] = {}
    for key, value in zip(keys.tolist(), values.tolist(), strict=True):
        members.setdefault(key, []).append(value)
    return pd.Series([reduce(members[k]) for k in index], index=index, dtype=dtype)


def trade_table(
    tradebook: pd.DataFrame,
    daily: pd.DataFrame | None = None,
    *,
    marks: pd.DataFrame | None = None,
    expiry_kind: ExpiryKindFn | None = None,
    excursions: pd.DataFrame | None = None,
    mode: str | Mapping[str, str] = "intraday",
    legs: pd.DataFrame | None = None,
    entries: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per trade (a position: see the module docstring), columns ``TRADE_COLUMNS``,
    ordered by entry.

    Beside the money figures: ``cycle`` (the strategy's cycle: 0 the first entry of a day
    intraday, 1 the first re-entry...), ``max_risk`` (the opening order's largest loss at
    expiry, money, ``inf`` when unlimited, NaN across expiries) and ``pnl_pct_max_risk``,
    ``main_delta`` and ``moneyness_pct`` of the main leg, and ``legs_detail`` (every leg's
    entry and exit: :mod:`workbench.analytics.tradelog`).

    Parameters
    ----------
    tradebook : validated tradebook (``inputs.validate_tradebook``).
    daily : validated daily path, used for MAE/MFE when no marks are given (see module docstring).
    marks : optional per-leg open-PnL path, columns ``trade_id, ts, pnl`` (money, before fees).
    expiry_kind : ``f(underlying, expiry) -> "weekly" | "monthly"``; ``None`` labels "unknown".
    excursions : the engine's per-trade excursions (``trade_ids``, ``mae``, ``mfe``), used first.
    mode : the run's mode, ``"intraday"`` or ``"positional"`` (how positions are identified).
    legs : :func:`workbench.analytics.tradelog.trade_legs` of the same tradebook, when the
        caller already has it.
    entries : the engine's market at each opening order (``BacktestResult.entries``:
        ``trade_ids, theta, vix, atm_iv, iv_rank, iv_percentile``): a position takes the
        row of its first opening order as ``theta_entry`` (money per day), ``vix_entry``
        (the VIX-like level the strategy could read then: a daily series' previous close),
        ``atm_iv_entry``, ``iv_rank_entry``, ``iv_percentile_entry`` (NaN without one).
    """
    log_legs = trade_legs(tradebook, mode) if legs is None else legs
    features = entry_features(log_legs)
    detail = legs_detail(log_legs)
    legs = leg_trades(tradebook, mode)
    if legs.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in TRADE_COLUMNS})
    if marks is not None:
        missing = {"trade_id", "ts", "pnl"} - set(marks.columns)
        if missing:
            raise ValueError(
                f"marks: missing column(s) {', '.join(sorted(missing))} (need trade_id, ts, pnl)"
            )
    legs = legs.sort_values(["exit_ts", "entry_ts"], kind="stable", na_position="first")
    g = legs.groupby("group", sort=False)
    closed = legs["net_units"].eq(0).groupby(legs["group"], sort=False).all().astype(bool)
    last = g.tail(1).set_index("group").reindex(closed.index)
    sums = g[["premium", "fees", "slippage", "cash"]].sum()
    entry_ts = g["entry_ts"].min()
    exit_ts = g["exit_ts"].max().where(closed)
    expiry = g["expiry"].min()
    first = g.head(1).set_index("group").reindex(closed.index)
    entry_day = entry_ts.dt.normalize()
    exit_day = exit_ts.dt.normalize()
    pnl = sums["cash"].where(closed)
    kinds: dict[tuple[str, pd.Timestamp], str] = {}
    for key in zip(first["underlying"], expiry):
        if key not in kinds:
            kinds[key] = _expiry_kind(key[0], key[1], expiry_kind)
    premium = sums["premium"]
    rows = pd.DataFrame(
        {
            "trade": "",
            "legs": g.size(),
            "underlying": first["underlying"],
            "symbols": _per_group(legs["group"], legs["symbol"], " / ".join, closed.index, "str"),
            "entry_ts": entry_ts,
            "exit_ts": exit_ts,
            "entry_day": entry_day,
            "exit_day": exit_day,
            "days_held": (exit_day - entry_day).dt.days,
            "minutes_held": (exit_ts - entry_ts).dt.total_seconds() / 60.0,
            "expiry": expiry,
            "dte_at_entry": (expiry - entry_day).dt.days,
            "expiry_kind": [kinds[k] for k in zip(first["underlying"], expiry)],
            "entry_weekday": entry_day.dt.day_name(),
            "premium": premium,
            "fees": sums["fees"],
            "slippage": sums["slippage"],
            "gross_pnl": pnl + sums["fees"],
            "pnl": pnl,
            "pnl_pct_premium": (pnl / premium).where(premium > 0),
            "exit_reason": "",
            "status": np.where(closed, "closed", "open"),
            "spot_entry": first["spot_entry"],
            "spot_exit": last["spot_exit"].where(closed),
            "delta_entry": g["delta_entry"].sum(min_count=1),
            "leg_ids": _per_group(legs["group"], legs["trade_id"], list, closed.index),
        }
    )
    # the position's own figures (:func:`workbench.engine.positions.positions`): exit reason
    # and adjustments
    own = positions(tradebook, mode).set_index("position", drop=False)
    rows["position"] = own["position"].reindex(rows.index).to_numpy()
    rows["cycle"] = own["cycle"].reindex(rows.index).to_numpy()
    rows["max_risk"] = features["max_risk"].reindex(rows.index).to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        risk = rows["max_risk"].to_numpy(dtype=float)
        rows["pnl_pct_max_risk"] = np.where(
            np.isfinite(risk) & (risk > 0), rows["pnl"].to_numpy(dtype=float) / risk, np.nan
        )
    rows["main_delta"] = features["main_delta"].reindex(rows.index).to_numpy(dtype=float)
    rows["moneyness_pct"] = features["moneyness_pct"].reindex(rows.index).to_numpy(dtype=float)
    for name in ("short_strike", "long_strike"):
        rows[name] = features[name].reindex(rows.index).to_numpy(dtype=float)
    for name in ("short_strikes", "long_strikes"):
        rows[name] = features[name].reindex(rows.index).fillna("").to_numpy()
    _add_entries(rows, entries)
    rows["legs_detail"] = detail.reindex(rows.index).fillna("").to_numpy()
    rows["adjustments"] = own["adjustments"].reindex(rows.index).fillna(0).astype(int).to_numpy()
    rows["adjustment_reasons"] = own["adjustment_reasons"].reindex(rows.index).fillna("").to_numpy()
    rows["exit_reason"] = (
        own["exit_reason"].reindex(rows.index).fillna("").where(closed, "").to_numpy()
    )
    table = rows.sort_values("entry_ts", kind="stable").reset_index(drop=True)
    table["trade"] = [f"T{i + 1:04d}" for i in range(len(table))]
    _add_excursions(table, daily, marks, excursions)
    return table[list(TRADE_COLUMNS)].copy()


def _add_entries(rows: pd.DataFrame, entries: pd.DataFrame | None) -> None:
    """The engine's entry rows joined to each position by its legs (the earliest matching)."""
    for column in ENTRY_FIELDS.values():
        rows[column] = np.nan
    if entries is None or entries.empty or rows.empty:
        return
    order = entries.sort_values("ts", kind="stable")
    by_leg: dict[str, int] = {}
    for j, ids in enumerate(order["trade_ids"].astype(str)):
        for leg in ids.split(";"):
            by_leg.setdefault(leg, j)
    for source, column in ENTRY_FIELDS.items():
        if source not in order.columns:
            continue
        values = order[source].to_numpy(dtype=float)
        picked = []
        for legs in rows["leg_ids"]:
            hits = [by_leg[str(t)] for t in legs if str(t) in by_leg]
            picked.append(values[min(hits)] if hits else np.nan)
        rows[column] = picked


def _add_excursions(
    table: pd.DataFrame,
    daily: pd.DataFrame | None,
    marks: pd.DataFrame | None,
    excursions: pd.DataFrame | None = None,
) -> None:
    mae = np.full(len(table), np.nan)
    mfe = np.full(len(table), np.nan)
    basis = np.full(len(table), "", dtype=object)
    engine: dict[frozenset[str], tuple[float, float]] = {}
    if excursions is not None and not excursions.empty:
        for ids, lo, hi in zip(excursions["trade_ids"], excursions["mae"], excursions["mfe"]):
            engine[frozenset(str(ids).split(";"))] = (float(lo), float(hi))
    by_leg = None
    if marks is not None and not marks.empty:
        m = marks.copy()
        m["trade_id"] = m["trade_id"].astype(str)
        m["ts"] = pd.to_datetime(m["ts"])
        by_leg = {
            k: v.set_index("ts")["pnl"].astype(float).sort_index() for k, v in m.groupby("trade_id")
        }
    starts = table["entry_day"].to_numpy(dtype="datetime64[ns]")
    ends = table["exit_day"].to_numpy(dtype="datetime64[ns]")
    ends = np.where(np.isnat(ends), np.datetime64("2262-01-01", "ns"), ends)  # open: no end
    # trades whose [entry_day, exit_day) meets this one's: those starting before it ends minus
    # those ending before it starts; 1 means it was alone (itself)
    overlaps = np.searchsorted(np.sort(starts), ends, "left") - np.searchsorted(
        np.sort(ends), starts, "left"
    )
    final_pnl = table["pnl"].to_numpy(dtype=float)
    gross_pnl = table["gross_pnl"].to_numpy(dtype=float)
    leg_ids: list[list[str]] = list(table["leg_ids"])
    eq_dates = eq_values = None
    if daily is not None and not daily.empty:
        eq_dates = daily.index.to_numpy(dtype="datetime64[ns]")
        eq_values = daily["equity"].to_numpy(dtype=float)
    for i in range(len(table)):
        ids = leg_ids[i]
        found = engine.get(frozenset(str(t) for t in ids))
        if found is not None:
            mae[i], mfe[i] = found
            basis[i] = "ticks"
            continue
        if by_leg is not None and any(t in by_leg for t in ids):
            frame = pd.concat({t: by_leg[t] for t in ids if t in by_leg}, axis=1)
            path = frame.sort_index().ffill().fillna(0.0).sum(axis=1).to_numpy(dtype=float)
            if np.isfinite(gross_pnl[i]):
                path = np.append(path, gross_pnl[i])
            mae[i], mfe[i], basis[i] = min(path.min(), 0.0), max(path.max(), 0.0), "marks"
            continue
        final = float(final_pnl[i])
        if not np.isfinite(final):
            basis[i] = "open"
            continue
        lo, hi = min(final, 0.0), max(final, 0.0)
        basis[i] = "fills"
        if (
            eq_dates is not None
            and eq_values is not None
            and ends[i] > starts[i]
            and overlaps[i] == 1
        ):
            base_idx = np.searchsorted(eq_dates, starts[i], "left") - 1
            base = float(eq_values[base_idx]) if base_idx >= 0 else 0.0
            inside = (eq_dates >= starts[i]) & (eq_dates < ends[i])
            if inside.any():
                during = eq_values[inside] - base
                lo, hi = min(lo, float(during.min())), max(hi, float(during.max()))
                basis[i] = "daily"
        mae[i], mfe[i] = lo, hi
    table["mae"] = mae
    table["mfe"] = mfe
    table["excursion_basis"] = basis
