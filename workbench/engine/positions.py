"""The one trade model: positions rebuilt from the tradebook.

A **position** is what a strategy opened as one cycle of its state machine (IDLE -> ACTIVE ->
IDLE): the legs of its opening order, plus every leg opened, closed or rolled while the cycle
was active -- adjustments are *inside* the position, never positions of their own. Intraday, a
cycle lives within one day (``(day, cycle)``); positionally, the cycle number identifies it
across days.

* A position is **closed** when every leg it opened is closed or settled; its **PnL** is the
  sum of its fills' cash (money, net of fees) and its **exit reason** is the reason of the fills
  that closed its last legs (``stop_loss``, ``profit_target``, ``expiry``, ``eod``...).
* An **open** position (a leg still held at the end of the run) is reported apart, with its
  cash so far; it is never counted as a trade, won or lost.
* Positionally, a leg key ``"<position>/<leg>"`` names its position (a study's positions,
  ``"<entry day>/<expiry>/<leg>"``, overlap within one cycle and are positions of their own).
* **Adjustments** are the orders between the opening order and the exit: each distinct
  timestamp at which the position's fills are neither its first opening fills nor its final
  closing fills (a roll, a delta hedge, a leg stopped alone). They are counted per reason.

Everything that counts trades -- ``metrics.json`` (``trades``, ``win_rate``,
``avg_trade_pnl``, ``open_positions``, ``adjustments``), the tearsheet, the report index,
baskets and walk-forward -- reads :func:`positions` (directly or through the engine's headline
metrics).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

POSITION_COLUMNS: tuple[str, ...] = (
    "position",
    "cycle",
    "entry_day",
    "entry_ts",
    "exit_ts",
    "status",
    "legs",
    "fills",
    "adjustments",
    "adjustment_reasons",
    "pnl",
    "cash",
    "fees",
    "exit_reason",
)

#: Fill reasons that never close a position on their own: orders inside an open position.
_END = ("close", "settle")


def position_ids(tradebook: pd.DataFrame, mode: str | Mapping[str, str]) -> pd.Series:
    """The position of each fill, indexed like ``tradebook``: ``"<entry day>#<cycle>"``
    intraday, ``"#<cycle>"`` positionally. ``mode`` is the run's mode, or for a tradebook of
    several runs (a basket) a mapping ``run_id -> mode`` (``"intraday"`` where a run is not
    named); ids are then prefixed ``"<run_id>|"`` so that they stay unique."""
    if tradebook.empty:
        return pd.Series([], dtype=object, index=tradebook.index, name="position")
    cycle = tradebook["cycle"].astype("int64").astype(str).to_numpy()
    runs = tradebook["run_id"].astype(str) if "run_id" in tradebook.columns else None
    if isinstance(mode, str):
        positional = np.full(len(tradebook), mode == "positional")
    else:
        known = runs if runs is not None else pd.Series("", index=tradebook.index)
        positional = (known.map(dict(mode)).fillna("intraday") == "positional").to_numpy()
    first_day = tradebook.groupby("trade_id")["day"].transform("first").astype(str).to_numpy()
    ids = np.where(positional, "#" + cycle.astype(object), first_day.astype(object) + "#" + cycle)
    # a key "<position>/<leg>" (a study's "<entry day>/<expiry>/<leg>") names its position:
    # overlapping positions of one positional cycle are positions of their own
    keys = (
        tradebook["position_key"].astype(str)
        if "position_key" in tradebook.columns
        else pd.Series("", index=tradebook.index)
    )
    nested = keys.str.contains("/", regex=False).to_numpy() & positional
    if nested.any():
        parent = keys.str.rsplit("/", n=1).str[0].to_numpy().astype(object)
        ids = np.where(nested, ids + "/" + parent, ids)
    if runs is not None and runs.nunique() > 1:
        ids = runs.to_numpy().astype(object) + "|" + ids
    return pd.Series(ids, index=tradebook.index, name="position", dtype=object)


def positions(tradebook: pd.DataFrame, mode: str | Mapping[str, str]) -> pd.DataFrame:
    """One row per position (see the module docstring), in order of entry.

    Columns (:data:`POSITION_COLUMNS`): ``position`` id, ``cycle``, ``entry_day``, ``entry_ts``
    and ``exit_ts`` (NaT while open), ``status`` (``closed`` / ``open``), ``legs`` (legs ever
    opened, adjustments included), ``fills``, ``adjustments`` (orders between entry and exit),
    ``adjustment_reasons`` (``"roll:2, delta_adjust:1"``), ``pnl`` (money net of fees; NaN while
    open), ``cash`` (money so far, whatever the status), ``fees`` and ``exit_reason`` (``""``
    while open).
    """
    cols = list(POSITION_COLUMNS)
    if tradebook.empty:
        return pd.DataFrame(columns=cols)
    tb = tradebook.reset_index(drop=True)
    pid = position_ids(tb, mode)
    ts = tb["ts"]
    by_position = ts.groupby(pid)
    first_ts, last_ts = by_position.transform("min"), by_position.transform("max")
    # a leg is done when its units net to zero (closed or settled)
    net = tb.groupby("trade_id")["signed_units"].transform("sum").to_numpy(dtype=float)
    leg_open = pd.Series(~np.isclose(net, 0.0, atol=1e-9), index=tb.index)
    position_open = leg_open.groupby(pid).transform("any").to_numpy(dtype=bool)
    opening = (tb["action"] == "open").to_numpy()
    entry = opening & (ts == first_ts).to_numpy()
    ending = tb["action"].isin(_END).to_numpy() & (ts == last_ts).to_numpy() & ~position_open
    work = pd.DataFrame(
        {
            "position": pid.to_numpy(),
            "ts": ts.to_numpy(),
            "reason": tb["reason"].astype(str).to_numpy(),
            "trade_id": tb["trade_id"].to_numpy(),
            "cash": tb["cash"].to_numpy(dtype=float),
            "fees": tb["fees"].to_numpy(dtype=float),
        }
    )
    g = work.groupby("position", sort=False)
    out = pd.DataFrame(
        {
            "cycle": tb["cycle"].groupby(pid, sort=False).first().astype("int64"),
            "entry_day": tb["day"].groupby(pid, sort=False).first(),
            "entry_ts": g["ts"].min(),
            "last_ts": g["ts"].max(),
            "open": pd.Series(position_open, index=tb.index).groupby(pid, sort=False).first(),
            "legs": work[opening].groupby("position", sort=False)["trade_id"].nunique(),
            "fills": g.size(),
            "cash": g["cash"].sum(),
            "fees": g["fees"].sum(),
        }
    )
    out.index.name = "position"
    # adjustments: the distinct timestamps of fills neither in the entry nor in the exit
    middle = work[~(entry | ending)].drop_duplicates(["position", "ts"])
    out["adjustments"] = middle.groupby("position").size().reindex(out.index).fillna(0)
    counted = middle.groupby(["position", "reason"]).size()
    text = {
        position: ", ".join(f"{reason}:{n}" for reason, n in group.droplevel(0).items())
        for position, group in counted.groupby(level=0)
    }
    out["adjustment_reasons"] = pd.Series(text, dtype=object).reindex(out.index).fillna("")
    exits = work[ending].drop_duplicates("position").set_index("position")["reason"]
    out["exit_reason"] = exits.reindex(out.index).fillna("")
    is_open = out["open"].to_numpy(dtype=bool)
    out["status"] = np.where(is_open, "open", "closed")
    out["exit_ts"] = out["last_ts"].where(~is_open)
    out["pnl"] = out["cash"].where(~is_open)
    out["legs"] = out["legs"].fillna(0).astype("int64")
    out["adjustments"] = out["adjustments"].astype("int64")
    out = out.reset_index()[cols]
    return out.sort_values(["entry_ts", "position"], kind="stable").reset_index(drop=True)
