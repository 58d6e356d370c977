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

import math
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


def _none(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NaT:
        return None
    return value


def _spread_type(opening: pd.DataFrame) -> str:
    options = opening[opening["asset"] != "underlying"]
    if len(options) == 1 and len(opening) == 1:
        return "single"
    if len(options) != 2 or len(opening) != 2:
        return "other"
    rights, expiries = set(options["right"]), set(options["expiry"])
    sides = sorted(options["side"])
    if len(rights) != 1 or len(expiries) != 1 or sides != ["BUY", "SELL"]:
        return "other"
    if options["qty"].nunique() != 1:
        return "other"
    short = float(options.loc[options["side"] == "SELL", "strike"].iloc[0])
    long = float(options.loc[options["side"] == "BUY", "strike"].iloc[0])
    if rights == {"P"}:
        return "bull_put" if short > long else "bear_put"
    return "bear_call" if short < long else "bull_call"


def _one_strike(frame: pd.DataFrame) -> float | None:
    strikes = frame["strike"].dropna().unique()
    return float(strikes[0]) if len(strikes) == 1 else None


def _max_risk(opening: pd.DataFrame) -> float | None:
    if (opening["asset"] == "underlying").any() or opening["expiry"].nunique() != 1:
        return None
    legs = [
        PositionLeg(strike=float(k), is_call=(r == "C"), units=float(u), price=max(float(p), 0.0))
        for k, r, u, p in zip(
            opening["strike"], opening["right"], opening["signed_units"], opening["price"]
        )
    ]
    return float(max_loss_at_expiry(legs))


def _first_finite(values: pd.Series) -> float | None:
    arr = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    ok = arr[np.isfinite(arr)]
    return float(ok[0]) if ok.size else None


def _as_date(value: Any) -> Any:
    value = _none(value)
    if value is None:
        return None
    return pd.Timestamp(value).date()


def position_log(tradebook: pd.DataFrame, mode: str | Mapping[str, str]) -> pa.Table:
    """One row per position of ``tradebook`` (``mode`` the run's ``"intraday"`` or
    ``"positional"``), ordered by entry: see the module docstring."""
    if tradebook.empty:
        return POSITION_LOG_SCHEMA.empty_table()
    tb = tradebook.reset_index(drop=True)
    if "asset" not in tb.columns:
        tb = tb.assign(asset="option")
    pid = position_ids(tb, mode)
    tb = tb.assign(_position=pid.to_numpy())
    own = positions(tb.drop(columns="_position"), mode).set_index("position")
    rows: list[dict[str, Any]] = []
    for position, fills in tb.groupby("_position", sort=False):
        first_ts = fills["ts"].min()
        is_opening = (fills["action"] == "open") & (fills["ts"] == first_ts)
        opening = fills[is_opening]
        later = fills[~is_opening]
        info: dict[Any, Any] = own.loc[position].to_dict()
        last: dict[Any, Any] = fills.iloc[int(np.argmax(fills["ts"].to_numpy()))].to_dict()
        closed = info["status"] == "closed"
        options = opening[opening["asset"] != "underlying"]
        signed = opening["signed_units"].to_numpy(dtype=float)
        entry_credit = float(-(signed * opening["price"].to_numpy(dtype=float)).sum())
        exit_debit = float(
            (
                later["signed_units"].to_numpy(dtype=float) * later["price"].to_numpy(dtype=float)
            ).sum()
        )
        fees = float(fills["fees"].sum())
        pnl = float(fills["cash"].sum()) if closed else None
        risk = _max_risk(opening) if not options.empty else None
        pct = None
        if pnl is not None and risk is not None and math.isfinite(risk) and risk > 0:
            pct = pnl / risk
        entry_ts = pd.Timestamp(first_ts)
        exit_ts = pd.Timestamp(fills["ts"].max()) if closed else None
        expiry = options["expiry"].min() if not options.empty else None
        entry_date = _as_date(opening["day"].iloc[0] if not opening.empty else fills["day"].iloc[0])
        exit_date = _as_date(last["day"]) if closed else None
        rights = options["right"].dropna().unique()
        delta = options["delta"].to_numpy(dtype=float) * options["signed_units"].to_numpy(
            dtype=float
        )
        row: dict[str, Any] = {
            "run_id": str(fills["run_id"].iloc[0]) if "run_id" in fills.columns else "",
            "position": str(position),
            "cycle": int(info["cycle"]),
            "underlying": str(fills["underlying"].iloc[0]),
            "spread_type": _spread_type(opening),
            "status": str(info["status"]),
            "entry_date": entry_date,
            "entry_ts": entry_ts.to_pydatetime(),
            "exit_date": exit_date,
            "exit_ts": None if exit_ts is None else exit_ts.to_pydatetime(),
            "days_held": None
            if exit_date is None or entry_date is None
            else (exit_date - entry_date).days,
            "expiry": _as_date(expiry),
            "dte_at_entry": None
            if _as_date(expiry) is None or entry_date is None
            else (_as_date(expiry) - entry_date).days,
            "right": str(rights[0]) if len(rights) == 1 else None,
            "short_strike": _one_strike(options[options["side"] == "SELL"]),
            "long_strike": _one_strike(options[options["side"] == "BUY"]),
            "qty": int(opening["qty"].max()) if not opening.empty else None,
            "legs": int(info["legs"]),
            "entry_credit": entry_credit,
            "exit_debit": exit_debit if closed else None,
            "fees": fees,
            "max_risk": risk,
            "pnl": pnl,
            "pnl_pct_max_risk": pct,
            "exit_reason": str(info["exit_reason"]) if closed else None,
            "spot_entry": _none(float(opening["spot"].iloc[0])) if not opening.empty else None,
            "spot_exit": _none(float(last["spot"])) if closed else None,
            "delta_at_entry": float(np.nansum(delta)) if np.isfinite(delta).any() else None,
        }
        for source, target in CONTEXT_COLUMNS.items():
            row[target] = _first_finite(opening[source]) if source in opening.columns else None
        theta = None
        if "theta" in opening.columns:
            per_leg = pd.to_numeric(opening["theta"], errors="coerce").to_numpy(dtype=float)
            if np.isfinite(per_leg).any():
                theta = float(np.nansum(per_leg * signed))
        row["theta_at_entry"] = theta
        rows.append(row)
    rows.sort(key=lambda r: (r["entry_ts"], r["position"]))
    return pa.Table.from_pylist(rows, schema=POSITION_LOG_SCHEMA)


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
