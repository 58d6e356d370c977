"""Most adverse and most favourable excursion of each intraday trade, tick by tick.

A *trade* is a position (:mod:`workbench.engine.positions`): the legs of one cycle of the
day, the opening order and every adjustment inside it. Its path at tick ``t``, from its first
opening tick to its last leg's exit, is the gross PnL (before fees) of its legs: nothing before a
leg opened, ``signed_units x (mark_t - entry price)`` while a leg is open (the engine's mark: the mid of the
last usable quote, else the last close; see :mod:`workbench.engine.ticks`), and
``signed_units x (exit price - entry price)`` from the tick it closed. ``mae = min(path, 0)``
(<= 0) and ``mfe = max(path, 0)`` (>= 0), in money, with the ticks where they were reached.

Only intraday days are covered: a day's positions open and close on the day's clock, whose
per-tick marks the engine already holds, so the path costs a few NumPy operations per trade.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from datetime import date, datetime

import numpy as np

from workbench.engine.ticks import TickSeries
from workbench.engine.trade import Trade

EXCURSION_COLUMNS: tuple[str, ...] = (
    "day",
    "cycle",
    "entry_ts",
    "exit_ts",
    "trade_ids",
    "mae",
    "mfe",
    "mae_ts",
    "mfe_ts",
)


def day_excursions(
    day: date,
    trades: Sequence[Trade],
    clock: Sequence[datetime],
    ticks_of: Callable[[Trade], TickSeries | None],
) -> list[tuple[object, ...]]:
    """One row (:data:`EXCURSION_COLUMNS`) per trade of ``trades`` (closed legs) on ``clock``.

    ``ticks_of(leg)`` gives the leg's aligned day (``None``: no bars, the leg keeps its entry
    price as its mark). ``trade_ids`` joins the legs' trade ids with ``;`` in sorted order.
    """
    groups: dict[int, list[Trade]] = {}
    for leg in trades:
        if leg.exit_ts is None or leg.exit_price is None:
            continue
        groups.setdefault(leg.cycle, []).append(leg)
    rows: list[tuple[object, ...]] = []
    ordered = sorted(groups.items(), key=lambda kv: (min(leg.entry_ts for leg in kv[1]), kv[0]))
    for cycle, legs in ordered:
        opened = min(leg.entry_ts for leg in legs)
        t0 = bisect.bisect_left(clock, opened)
        exits = [bisect.bisect_left(clock, leg.exit_ts) for leg in legs]  # type: ignore[arg-type,type-var]
        t1 = max(max(exits), t0)
        path = np.zeros(t1 - t0 + 1)
        for leg, t_exit in zip(legs, exits, strict=True):
            start = max(bisect.bisect_left(clock, leg.entry_ts) - t0, 0)
            held = max(t_exit - t0, start)
            entry, units = leg.entry_price, leg.signed_units
            ticks = ticks_of(leg)
            if held > start and ticks is not None:
                marks = np.asarray(ticks.mark[t0 + start : t0 + held], dtype=np.float64)
                marks = np.where(np.isfinite(marks), marks, entry)
                path[start:held] += units * (marks - entry)
            path[held:] += units * (float(leg.exit_price) - entry)  # type: ignore[arg-type]
        lo, hi = int(np.argmin(path)), int(np.argmax(path))
        last_exit = max(leg.exit_ts for leg in legs)  # type: ignore[type-var]
        rows.append(
            (
                day,
                cycle,
                opened,
                last_exit,
                ";".join(sorted(leg.trade_id for leg in legs)),
                min(float(path[lo]), 0.0),
                max(float(path[hi]), 0.0),
                clock[t0 + lo] if path[lo] < 0 else None,
                clock[t0 + hi] if path[hi] > 0 else None,
            )
        )
    return rows
