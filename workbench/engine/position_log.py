"""``trades.parquet``: the trade log, one row per position (seed 003's trade log for research/ML).

A position is the one trade model's (:mod:`workbench.engine.positions`): the legs of one cycle
(positionally, a leg key ``"<position>/<leg>"`` names its own position), adjustments inside it.
Every figure comes from the tradebook's fills. Columns (:data:`POSITION_LOG_SCHEMA`, typed:
dates are ``date32``, times ``timestamp[us]`` exchange-local, money in the account currency):

``run_id, position, cycle, underlying``
    the run, the position id, its cycle, its underlying;
``spread_type``
    the opening order's shape: ``bull_put`` / ``bear_call`` (credit verticals), ``bear_put`` /
    ``bull_call`` (debit verticals), ``single`` (one option leg), else ``other``;
``status``
    ``closed`` or ``open`` (a leg still held when the run ended);
``entry_date, entry_ts, exit_date, exit_ts, days_held``
    first opening fill, last closing/settling fill (null while open), calendar days between;
``expiry, dte_at_entry``
    the opening order's (earliest) option expiry and its calendar days from entry;
``right, short_strike, long_strike, qty, legs``
    of the opening order's option legs: the one right (null when both), the one strike sold /
    bought (null when none or several: a condor's), contracts per leg (the largest), legs ever
    opened (adjustments included);
``entry_credit``
    premium of the opening order, ``-sum(signed units x price)``: > 0 credit received, < 0
    debit paid (money, before fees);
``exit_debit``
    the net premium of every later fill (adjustments, closes, settlement at intrinsic value):
    ``sum(signed units x price)``, > 0 paid (null while open);
``fees``
    every fee of the position (money);
``max_risk``
    the opening order's largest loss held to expiry, premium included, before fees
    (:func:`workbench.execution.payoff.max_loss_at_expiry`; ``inf`` unlimited; null when its
    option legs have several expiries or it has an underlying leg);
``pnl, pnl_pct_max_risk``
    ``entry_credit - exit_debit - fees`` (= the sum of the fills' cash; null while open) and
    ``pnl / max_risk`` as a fraction (0.25 = 25 %; null without a finite positive max risk);
    the same units as ``trades.csv``;
``exit_reason``
    the reason of the fills that closed the last legs (``profit_target``, ``stop_loss``,
    ``dte_exit``, ``expiry``...; null while open);
``spot_entry, spot_exit, delta_at_entry``
    the underlying at the first and the last fill; the opening order's delta in units of
    underlying (``sum(delta x signed units)``);
``vix_at_entry, iv_rank_at_entry, iv_percentile_at_entry, theta_at_entry``
    market context at entry, read from the opening fills' tradebook columns ``vix``,
    ``iv_rank``, ``iv_percentile`` (the first finite value) and ``theta`` (per unit, summed
    over ``signed units``) when the run's tradebook has them; null otherwise.

Same tradebook -> same bytes (fixed Parquet options, no pandas metadata).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from workbench.engine.positions import position_ids, positions
from workbench.execution.payoff import PositionLeg, max_loss_at_expiry

__all__ = [
    "CONTEXT_COLUMNS",
    "POSITION_LOG_SCHEMA",
    "position_log",
    "read_position_log",
    "write_position_log",
]

POSITION_LOG_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("position", pa.string()),
        ("cycle", pa.int32()),
        ("underlying", pa.string()),
        ("spread_type", pa.string()),
        ("status", pa.string()),
        ("entry_date", pa.date32()),
        ("entry_ts", pa.timestamp("us")),
        ("exit_date", pa.date32()),
        ("exit_ts", pa.timestamp("us")),
        ("days_held", pa.int32()),
        ("expiry", pa.date32()),
        ("dte_at_entry", pa.int32()),
        ("right", pa.string()),
        ("short_strike", pa.float64()),
        ("long_strike", pa.float64()),
        ("qty", pa.int64()),
        ("legs", pa.int32()),
        ("entry_credit", pa.float64()),
        ("exit_debit", pa.float64()),
        ("fees", pa.float64()),
        ("max_risk", pa.float64()),
        ("pnl", pa.float64()),
        ("pnl_pct_max_risk", pa.float64()),
        ("exit_reason", pa.string()),
        ("spot_entry", pa.float64()),
        ("spot_exit", pa.float64()),
        ("delta_at_entry", pa.float64()),
        ("vix_at_entry", pa.float64()),
        ("iv_rank_at_entry", pa.float64()),
        ("iv_percentile_at_entry", pa.float64()),
        ("theta_at_entry", pa.float64()),
    ]
)

#: tradebook column -> trade-log column of the market context at entry (null without it)
CONTEXT_COLUMNS: dict[str, str] = {
    "vix": "vix_at_entry",
    "iv_rank": "iv_rank_at_entry",
    "iv_percentile": "iv_percentile_at_entry",
}


def _max_risk(right: np.ndarray, strike: np.ndarray, units: np.ndarray, price: np.ndarray) -> float:
    legs = [
        PositionLeg(strike=float(k), is_call=(r == "C"), units=float(u), price=max(float(p), 0.0))
        for k, r, u, p in zip(strike, right, units, price)
    ]
    return float(max_loss_at_expiry(legs))


def _dates(values: pd.Series) -> list[Any]:
    return [None if pd.isna(v) else pd.Timestamp(v).date() for v in values]


def _times(values: pd.Series) -> list[Any]:
    return [None if pd.isna(v) else pd.Timestamp(v).to_pydatetime() for v in values]


def _floats(values: pd.Series) -> list[float | None]:
    return [None if pd.isna(v) else float(v) for v in values]


def _single(frame: pd.DataFrame, column: str, index: pd.Index) -> pd.Series:
    """Per position: the column's value when the rows hold exactly one distinct value."""
    if frame.empty:
        return pd.Series(None, index=index, dtype=object)
    g = frame.groupby("_position", sort=False)[column]
    one = g.nunique() == 1
    return g.first().where(one).reindex(index)


def position_log(tradebook: pd.DataFrame, mode: str | Mapping[str, str]) -> pa.Table:
    """One row per position of ``tradebook`` (``mode`` the run's ``"intraday"`` or
    ``"positional"``), ordered by entry: see the module docstring."""
    if tradebook.empty:
        return POSITION_LOG_SCHEMA.empty_table()
    tb = tradebook.reset_index(drop=True)
    if "asset" not in tb.columns:
        tb = tb.assign(asset="option")
    own = positions(tb, mode).set_index("position")
    pid = position_ids(tb, mode)
    tb = tb.assign(_position=pid.to_numpy())
    first_ts = tb.groupby("_position", sort=False)["ts"].transform("min")
    opening_mask = ((tb["action"] == "open") & (tb["ts"] == first_ts)).to_numpy()
    signed = tb["signed_units"].to_numpy(dtype=float)
    premium = signed * tb["price"].to_numpy(dtype=float)
    tb = tb.assign(
        _open_premium=np.where(opening_mask, premium, 0.0),
        _later_premium=np.where(opening_mask, 0.0, premium),
    )
    index = pd.Index(own.index, name="position")
    g = tb.groupby("_position", sort=False)
    closed = (own["status"] == "closed").reindex(index)
    opening = tb[opening_mask]
    options = opening[opening["asset"] != "underlying"]
    go = opening.groupby("_position", sort=False)
    gopt = options.groupby("_position", sort=False)
    ordered = tb.sort_values("ts", kind="stable")
    last = ordered.groupby("_position", sort=False).tail(1).set_index("_position").reindex(index)
    first_open = go.head(1).set_index("_position").reindex(index)
    entry_credit = -g["_open_premium"].sum().reindex(index)
    exit_debit = g["_later_premium"].sum().reindex(index).where(closed)
    fees = g["fees"].sum().reindex(index)
    pnl = g["cash"].sum().reindex(index).where(closed)
    entry_date = pd.to_datetime(first_open["day"])
    exit_date = pd.to_datetime(last["day"]).where(closed)
    expiry = pd.to_datetime(gopt["expiry"].min().reindex(index))
    sells = options[options["side"] == "SELL"]
    buys = options[options["side"] == "BUY"]
    short_strike = _single(sells, "strike", index)
    long_strike = _single(buys, "strike", index)
    right = _single(options, "right", index)
    delta = (
        options.assign(_d=options["delta"].to_numpy(dtype=float) * options["signed_units"])
        .groupby("_position", sort=False)["_d"]
        .sum(min_count=1)
        .reindex(index)
    )
    # the opening order's shape
    n_open = go.size().reindex(index).fillna(0)
    n_opt = gopt.size().reindex(index).fillna(0)
    one_expiry = (gopt["expiry"].nunique() == 1).reindex(index).fillna(False)
    one_qty = (gopt["qty"].nunique() == 1).reindex(index).fillna(False)
    n_sell = sells.groupby("_position", sort=False).size().reindex(index).fillna(0)
    n_buy = buys.groupby("_position", sort=False).size().reindex(index).fillna(0)
    vertical = (
        (n_open == 2) & (n_opt == 2) & right.notna() & one_expiry & one_qty
        & (n_sell == 1) & (n_buy == 1)
    )  # fmt: skip
    k_s, k_l = short_strike.astype(float), long_strike.astype(float)
    kinds = np.select(
        [
            (n_open == 1) & (n_opt == 1),
            vertical & (right == "P") & (k_s > k_l),
            vertical & (right == "P") & (k_s < k_l),
            vertical & (right == "C") & (k_s < k_l),
            vertical & (right == "C") & (k_s > k_l),
        ],
        ["single", "bull_put", "bear_put", "bear_call", "bull_call"],
        default="other",
    )
    # max risk of the opening order held to expiry: one expiry, options only
    risk_values = np.full(len(index), np.nan)
    where = {p: i for i, p in enumerate(index)}
    is_stock = (opening["asset"] == "underlying").to_numpy()
    stock = pd.Series(is_stock, index=opening.index).groupby(opening["_position"]).any()
    r_arr = opening["right"].to_numpy()
    k_arr = opening["strike"].to_numpy(dtype=float)
    u_arr = opening["signed_units"].to_numpy(dtype=float)
    p_arr = opening["price"].to_numpy(dtype=float)
    for position, rows in opening.groupby("_position", sort=False).indices.items():
        if bool(stock.get(position, False)) or not bool(one_expiry.get(position, False)):
            continue
        risk_values[where[position]] = _max_risk(r_arr[rows], k_arr[rows], u_arr[rows], p_arr[rows])
    risk = pd.Series(risk_values, index=index, dtype=float)
    finite = np.isfinite(risk) & (risk > 0)
    pct = (pnl / risk).where(finite & pnl.notna())
    context: dict[str, pd.Series] = {}
    for source, target in CONTEXT_COLUMNS.items():
        if source in opening.columns:
            values = pd.to_numeric(opening[source], errors="coerce")
            values = values.where(np.isfinite(values))
            context[target] = values.groupby(opening["_position"], sort=False).first()
        else:
            context[target] = pd.Series(dtype=float)
    if "theta" in opening.columns:
        theta = pd.to_numeric(opening["theta"], errors="coerce") * opening["signed_units"]
        context["theta_at_entry"] = theta.groupby(opening["_position"], sort=False).sum(min_count=1)
    else:
        context["theta_at_entry"] = pd.Series(dtype=float)
    run_id = g["run_id"].first().reindex(index) if "run_id" in tb.columns else None
    days_held = (exit_date - entry_date).dt.days
    dte = (expiry - entry_date).dt.days
    qty = go["qty"].max().reindex(index)
    columns: dict[str, list[Any]] = {
        "run_id": [""] * len(index) if run_id is None else [str(v) for v in run_id],
        "position": [str(p) for p in index],
        "cycle": [int(c) for c in own["cycle"].reindex(index)],
        "underlying": [str(u) for u in g["underlying"].first().reindex(index)],
        "spread_type": [str(k) for k in kinds],
        "status": [str(s) for s in own["status"].reindex(index)],
        "entry_date": _dates(entry_date),
        "entry_ts": _times(g["ts"].min().reindex(index)),
        "exit_date": _dates(exit_date),
        "exit_ts": _times(pd.to_datetime(last["ts"]).where(closed)),
        "days_held": [None if pd.isna(v) else int(v) for v in days_held],
        "expiry": _dates(expiry),
        "dte_at_entry": [None if pd.isna(v) else int(v) for v in dte],
        "right": [None if pd.isna(v) else str(v) for v in right],
        "short_strike": _floats(short_strike),
        "long_strike": _floats(long_strike),
        "qty": [None if pd.isna(v) else int(v) for v in qty],
        "legs": [int(v) for v in own["legs"].reindex(index).fillna(0)],
        "entry_credit": _floats(entry_credit),
        "exit_debit": _floats(exit_debit),
        "fees": _floats(fees),
        "max_risk": _floats(risk),
        "pnl": _floats(pnl),
        "pnl_pct_max_risk": _floats(pct),
        "exit_reason": [
            str(r) if c else None for r, c in zip(own["exit_reason"].reindex(index), closed)
        ],
        "spot_entry": _floats(first_open["spot"]),
        "spot_exit": _floats(last["spot"].where(closed)),
        "delta_at_entry": _floats(delta),
    }
    for target in ("vix_at_entry", "iv_rank_at_entry", "iv_percentile_at_entry", "theta_at_entry"):
        columns[target] = _floats(context[target].reindex(index))
    table = pa.table(columns, schema=POSITION_LOG_SCHEMA)
    order = sorted(
        range(len(index)), key=lambda i: (columns["entry_ts"][i], columns["position"][i])
    )
    return table.take(pa.array(order, pa.int64()))


def write_position_log(table: pa.Table, path: str | Path) -> Path:
    """Write ``table`` (:data:`POSITION_LOG_SCHEMA`) as Parquet with fixed options (same rows
    -> same bytes); the caller makes it atomic (a run folder is written in a temporary folder)."""
    if not table.schema.equals(POSITION_LOG_SCHEMA):
        raise ValueError(f"trade log schema differs from POSITION_LOG_SCHEMA: {table.schema}")
    pq.write_table(
        table.replace_schema_metadata(None),
        str(path),
        compression="zstd",
        compression_level=3,
        use_dictionary=True,
        write_statistics=True,
        row_group_size=1 << 20,
    )
    return Path(path)


def read_position_log(path: str | Path) -> pa.Table:
    """Read ``trades.parquet`` and check its schema (``ValueError`` naming the file otherwise)."""
    table = pq.read_table(str(path))
    if not table.schema.remove_metadata().equals(POSITION_LOG_SCHEMA):
        raise ValueError(f"{path}: not a workbench trade log (schema {table.schema})")
    return table.replace_schema_metadata(None)
