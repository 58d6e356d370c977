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
from typing import Any

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
    cycles = tradebook["cycle"].astype("int64").tolist()
    runs = tradebook["run_id"].astype(str) if "run_id" in tradebook.columns else None
    if isinstance(mode, str):
        positional = np.full(len(tradebook), mode == "positional")
    else:
        known = runs if runs is not None else pd.Series("", index=tradebook.index)
        positional = (known.map(dict(mode)).fillna("intraday") == "positional").to_numpy()
    # built as Python strings, not with pandas' string methods: a study's tradebook has tens
    # of thousands of fills and every run's headline metrics number its positions
    ids = np.array([f"#{c}" for c in cycles], dtype=object)
    if not positional.all():  # intraday: "<first day of the fill's leg>#<cycle>"
        first = tradebook.groupby("trade_id")["day"].transform("first")
        _complete(first[~positional], "trade_id and day")
        first_day = first.astype(str).tolist()
        day_ids = np.array(
            [f"{d}#{c}" for d, c in zip(first_day, cycles, strict=True)], dtype=object
        )
        ids = np.where(positional, ids, day_ids)
    # a key "<position>/<leg>" (a study's "<entry day>/<expiry>/<leg>") names its position:
    # overlapping positions of one positional cycle are positions of their own
    if "position_key" in tradebook.columns:
        keys = tradebook["position_key"].astype(str)
        nested = np.flatnonzero(keys.str.contains("/", regex=False).to_numpy() & positional)
        if nested.size:
            held = keys.to_numpy(dtype=object)[nested]
            ids[nested] = [
                f"{i}/{k.rpartition('/')[0]}" for i, k in zip(ids[nested], held, strict=True)
            ]
    if runs is not None and runs.nunique() > 1:
        _complete(runs, "run_id")
        ids = np.array([f"{r}|{i}" for r, i in zip(runs.tolist(), ids, strict=True)], dtype=object)
    return pd.Series(ids, index=tradebook.index, name="position", dtype=object)


def _complete(values: pd.Series, what: str) -> None:
    """Refuse a fill whose position cannot be named (a missing value would make an id such as
    ``"nan#0"`` and merge unrelated fills)."""
    missing = values.isna().to_numpy()
    if missing.any():
        row = values.index[int(np.argmax(missing))]
        raise ValueError(f"tradebook row {row!r}: {what} missing, the fill's position is unknown")


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
    # every run's headline metrics come through here (a sweep assembles one run per
    # combination), so the positions are numbered once and reduced with NumPy; the sums of
    # money stay pandas' (compensated) group sums
    pid = position_ids(tb, mode).to_numpy()
    codes, ids = pd.factorize(pid, sort=False)  # position number of each fill, 0..n-1
    by_position = pd.Series(codes)
    n = len(ids)
    first_row = np.unique(codes, return_index=True)[1]
    ts = tb["ts"]
    bounds = ts.groupby(by_position, sort=True).agg(["min", "max"])  # dtype kept (a tz too)
    first_ts, last_ts = bounds["min"].array, bounds["max"].array
    stamps = getattr(ts.array, "asi8", None)  # hashable stamps (int64 for datetimes)
    stamps = ts.to_numpy() if stamps is None else stamps
    # a leg is done when its units net to zero (closed or settled)
    trade_codes, _ = pd.factorize(tb["trade_id"].to_numpy(), sort=False)
    units = pd.Series(tb["signed_units"].to_numpy(dtype=float))
    net = units.groupby(pd.Series(trade_codes)).transform("sum").to_numpy(dtype=float)
    leg_open = ~np.isclose(net, 0.0, atol=1e-9)
    is_open = np.bincount(codes, weights=leg_open, minlength=n) > 0
    action = tb["action"]
    opening = (action == "open").to_numpy(dtype=bool)
    entry = opening & np.asarray(ts.array == first_ts.take(codes), dtype=bool)
    at_last = np.asarray(ts.array == last_ts.take(codes), dtype=bool)
    ending = action.isin(_END).to_numpy(dtype=bool) & at_last & ~is_open[codes]
    cash_fees = {"cash": tb["cash"].to_numpy(dtype=float), "fees": tb["fees"].to_numpy(dtype=float)}
    money = pd.DataFrame(cash_fees).groupby(by_position, sort=True).sum()
    legs_opened = np.unique(np.stack([codes[opening], trade_codes[opening]]), axis=1)[0]
    reason = tb["reason"].astype(str).to_numpy()
    # adjustments: the distinct timestamps of fills neither in the entry nor in the exit, each
    # counted under the reason of its first fill
    middle = np.flatnonzero(~(entry | ending))
    adjustments = np.zeros(n, dtype="int64")
    by_reason: dict[int, dict[str, int]] = {}
    seen: set[tuple[int, Any]] = set()
    for row, code, stamp in zip(middle.tolist(), codes[middle].tolist(), stamps[middle].tolist()):
        if (code, stamp) in seen:
            continue
        seen.add((code, stamp))
        adjustments[code] += 1
        why = reason[row]
        if not pd.isna(why):
            counts = by_reason.setdefault(code, {})
            counts[why] = counts.get(why, 0) + 1
    text = np.full(n, "", dtype=object)
    for code, counts in by_reason.items():
        text[code] = ", ".join(f"{why}:{k}" for why, k in sorted(counts.items()))
    exit_reason = np.full(n, "", dtype=object)
    ending_rows = np.flatnonzero(ending)
    done, first_end = np.unique(codes[ending_rows], return_index=True)
    exits = reason[ending_rows[first_end]]
    exit_reason[done] = np.where(pd.isna(exits), "", exits)
    out = pd.DataFrame(
        {
            "position": ids,
            "cycle": tb["cycle"].to_numpy()[first_row].astype("int64"),
            "entry_day": tb["day"].iloc[first_row].to_numpy(),
            "entry_ts": first_ts,
            "exit_ts": bounds["max"].where(~is_open).array,
            "status": np.where(is_open, "open", "closed"),
            "legs": np.bincount(legs_opened, minlength=n).astype("int64"),
            "fills": np.bincount(codes, minlength=n).astype("int64"),
            "adjustments": adjustments,
            "adjustment_reasons": pd.Series(text, dtype=object),
            "pnl": money["cash"].where(~is_open).to_numpy(),
            "cash": money["cash"].to_numpy(),
            "fees": money["fees"].to_numpy(),
            "exit_reason": exit_reason,
        },
        columns=cols,
    )
    return out.sort_values(["entry_ts", "position"], kind="stable").reset_index(drop=True)
