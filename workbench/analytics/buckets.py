"""Optopsy-style buckets: closed trades' PnL and win rate by entry delta x DTE and by
moneyness x DTE.

A position's delta and moneyness are those of its *main leg* at entry (the opening order's
option leg with the largest premium: :mod:`workbench.analytics.tradelog`): ``|main_delta|``
(per unit, 0..1) and ``moneyness_pct`` (how far out of the money, % of spot; negative = in the
money). DTE is calendar days to the position's nearest expiry at entry
(:data:`workbench.analytics.breakdowns.DTE_BUCKETS`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.analytics.breakdowns import DTE_BUCKETS, dte_bucket

#: |delta| of the main leg at entry: label -> [low, high) (the last includes 1 and above).
DELTA_BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("0.00-0.10", 0.0, 0.10),
    ("0.10-0.20", 0.10, 0.20),
    ("0.20-0.30", 0.20, 0.30),
    ("0.30-0.40", 0.30, 0.40),
    ("0.40-0.45", 0.40, 0.45),
    ("0.45-0.55", 0.45, 0.55),
    ("0.55-0.70", 0.55, 0.70),
    ("0.70-1.00", 0.70, np.inf),
)
#: Moneyness of the main leg (% out of the money; negative in the money): label -> [low, high).
MONEYNESS_BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("ITM > 5%", -np.inf, -5.0),
    ("ITM 2-5%", -5.0, -2.0),
    ("ITM 0.5-2%", -2.0, -0.5),
    ("ATM ±0.5%", -0.5, 0.5),
    ("OTM 0.5-2%", 0.5, 2.0),
    ("OTM 2-5%", 2.0, 5.0),
    ("OTM 5-10%", 5.0, 10.0),
    ("OTM > 10%", 10.0, np.inf),
)


@dataclass(frozen=True)
class BucketGrid:
    """Closed trades bucketed by ``rows`` (delta or moneyness) and DTE at entry: ``pnl`` (money,
    total), ``win_rate`` (winning share) and ``count`` frames, rows and columns in bucket order
    (only buckets that occur). ``unbucketed`` counts closed trades without the feature (no
    delta recorded, no option leg)."""

    rows: str
    pnl: pd.DataFrame
    win_rate: pd.DataFrame
    count: pd.DataFrame
    unbucketed: int

    @property
    def empty(self) -> bool:
        return self.count.empty


def label(values: np.ndarray, buckets: tuple[tuple[str, float, float], ...]) -> np.ndarray:
    """The bucket label of each value ("" for NaN)."""
    out = np.full(values.shape, "", dtype=object)
    for name, lo, hi in buckets:
        out[(values >= lo) & (values < hi)] = name
    return out


def bucket_grid(trades: pd.DataFrame, rows: str = "delta") -> BucketGrid:
    """``rows`` = ``"delta"`` (:data:`DELTA_BUCKETS` of ``|main_delta|``) or ``"moneyness"``
    (:data:`MONEYNESS_BUCKETS` of ``moneyness_pct``) against DTE buckets."""
    if rows not in ("delta", "moneyness"):
        raise ValueError(f"rows must be 'delta' or 'moneyness', got {rows!r}")
    closed = trades[trades["status"] == "closed"]
    if rows == "delta":
        feature = np.abs(closed["main_delta"].to_numpy(dtype=float))
        buckets = DELTA_BUCKETS
    else:
        feature = closed["moneyness_pct"].to_numpy(dtype=float)
        buckets = MONEYNESS_BUCKETS
    row_label = label(feature, buckets)
    col_label = dte_bucket(closed["dte_at_entry"].astype(float)).to_numpy()
    frame = pd.DataFrame(
        {"row": row_label, "col": col_label, "pnl": closed["pnl"].to_numpy(dtype=float)}
    )
    keep = (frame["row"] != "") & (frame["col"] != "")
    unbucketed = int((~keep).sum())
    frame = frame[keep]
    row_order = [b[0] for b in buckets if b[0] in set(frame["row"])]
    col_order = [b[0] for b in DTE_BUCKETS if b[0] in set(frame["col"])]
    frame = frame.assign(win=(frame["pnl"] > 0).astype(float))
    pnl = frame.pivot_table(index="row", columns="col", values="pnl", aggfunc="sum")
    win = frame.pivot_table(index="row", columns="col", values="win", aggfunc="mean")
    count = frame.pivot_table(index="row", columns="col", values="pnl", aggfunc="size")
    pnl = pnl.reindex(index=row_order, columns=col_order)
    win = win.reindex(index=row_order, columns=col_order)
    count = count.reindex(index=row_order, columns=col_order).fillna(0).astype(int)
    for table in (pnl, win, count):
        table.index.name = rows
        table.columns.name = "dte"
    return BucketGrid(rows, pnl, win, count, unbucketed)
