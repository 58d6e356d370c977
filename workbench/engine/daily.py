"""Assembling the daily path and the per-day metadata from the simulated days' records.

:func:`daily_frame` accumulates cash and equity across days and checks, day by day, that equity
(cash + mark-to-market) equals realised plus unrealised PnL to the cent.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from workbench.engine.book import CENT
from workbench.engine.errors import ReconciliationError
from workbench.engine.result import DAILY_COLUMNS, DAYS_COLUMNS
from workbench.engine.simulator import DayRecord


def daily_frame(records: Sequence[DayRecord]) -> pd.DataFrame:
    rows = []
    cash = 0.0
    realized_cum = 0.0
    prev_equity = 0.0
    for r in records:
        cash += r.cash
        realized_cum += r.realized
        equity = cash + r.mtm
        if abs(equity - (realized_cum + r.unrealized)) > CENT:
            raise ReconciliationError(
                f"{r.day}: equity {equity:.6f} (cash + mark-to-market) != realised + unrealised "
                f"{realized_cum + r.unrealized:.6f}"
            )
        skipped = r.status != "ok"
        rows.append(
            {
                "date": r.day.isoformat(),
                "pnl": equity - prev_equity,
                "realized": r.realized,
                "unrealized": r.unrealized,
                "fees": r.fees,
                "cash": cash,
                "mtm": r.mtm,
                "equity": equity,
                "open_legs": r.open_legs,
                "delta": r.delta,
                "gamma": r.gamma,
                "vega": r.vega,
                "theta": r.theta,
                "margin": r.margin,
                "peak_margin": r.peak_margin,
                "spot_close": r.spot_close,
                "fills": r.fills,
                "skipped": skipped,
                "skip_reason": r.reason if skipped else "",
                "warnings": len(r.warnings),
                "refused_fills": len(r.refusals),
            }
        )
        prev_equity = equity
    return pd.DataFrame(rows, columns=list(DAILY_COLUMNS))


def days_frame(records: Sequence[DayRecord]) -> pd.DataFrame:
    rows = [
        {
            "date": r.day.isoformat(),
            "status": r.status,
            "reason": r.reason,
            "ticks": r.ticks,
            "fills": r.fills,
            "refused_fills": len(r.refusals),
            "warnings": len(r.warnings),
            "fetches": r.fetches,
            "warning_messages": " | ".join(r.warnings),
            "refusal_messages": " | ".join(r.refusals),
            "error": r.error,
            "constraint_refusals": "; ".join(
                f"{name}: {n}" for name, n in sorted(r.constraint_refusals.items())
            ),
        }
        for r in records
    ]
    return pd.DataFrame(rows, columns=list(DAYS_COLUMNS))
