"""Drawdown series and drawdown periods (peak, valley, recovery) with their dates.

Two kinds of path are handled by the same code:

* ``ratio``: a wealth index (starts from 1 before the first day); drawdown = value / peak - 1,
  a negative fraction.
* ``diff``: a money equity path (cumulative PnL, 0 before the first day); drawdown = value - peak,
  negative money.

The value before the first day counts as a peak. A drawdown period runs from the **peak** (the
last date at the high before the fall; the first date of the series when the high is the starting
value) through the **valley** (the lowest point) to the **recovery** (the first date back at or
above the peak; NaT while still under water). ``days`` is calendar days from peak to recovery (or
to the last date of the series), ``periods`` the number of rows under water.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

PERIOD_COLUMNS: tuple[str, ...] = (
    "peak",
    "valley",
    "recovery",
    "drawdown",
    "days",
    "periods",
    "recovered",
)


def drawdown_series(values: pd.Series, kind: Literal["ratio", "diff"]) -> pd.Series:
    """Drawdown at each date of ``values`` (see module docstring for units)."""
    start = 1.0 if kind == "ratio" else 0.0
    arr = values.to_numpy(dtype=float)
    peak = np.maximum.accumulate(np.concatenate([[start], arr]))[1:]
    dd = arr / peak - 1.0 if kind == "ratio" else arr - peak
    return pd.Series(dd, index=values.index, name="drawdown")


def drawdown_periods(
    values: pd.Series, kind: Literal["ratio", "diff"], *, tolerance: float = 1e-12
) -> pd.DataFrame:
    """Every drawdown period of ``values``, worst first (columns ``PERIOD_COLUMNS``).

    ``tolerance`` is the depth (fraction for ``ratio``, money for ``diff``) below which a dip is
    treated as flat, so rounding noise does not open a period.
    """
    dd = drawdown_series(values, kind).to_numpy()
    dates = pd.DatetimeIndex(values.index)
    under = dd < -tolerance
    rows = []
    n = len(dd)
    i = 0
    while i < n:
        if not under[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and under[j + 1]:
            j += 1
        valley = i + int(np.argmin(dd[i : j + 1]))
        peak_date = dates[i - 1] if i > 0 else dates[0]
        recovered = j + 1 < n
        end_date = dates[j + 1] if recovered else dates[n - 1]
        rows.append(
            {
                "peak": peak_date,
                "valley": dates[valley],
                "recovery": dates[j + 1] if recovered else pd.NaT,
                "drawdown": float(dd[valley]),
                "days": int((end_date - peak_date).days),
                "periods": j - i + 1,
                "recovered": recovered,
            }
        )
        i = j + 1
    frame = pd.DataFrame(rows, columns=list(PERIOD_COLUMNS))
    if frame.empty:
        return frame.astype({"drawdown": float, "days": int, "periods": int, "recovered": bool})
    return frame.sort_values(["drawdown", "peak"], kind="stable").reset_index(drop=True)


def worst_drawdowns(wealth: pd.Series, equity: pd.Series, n: int = 10) -> pd.DataFrame:
    """The ``n`` worst percentage drawdowns of ``wealth``, each with the money drawdown of
    ``equity`` over the same dates (``drawdown_money``: the lowest equity in the period minus the
    equity at its peak; before the first day equity is 0).

    Columns: ``peak, valley, recovery, drawdown_pct, drawdown_money, days, periods, recovered``.
    """
    periods = drawdown_periods(wealth, "ratio").head(n)
    money = []
    eq = equity.to_numpy(dtype=float)
    idx = pd.DatetimeIndex(equity.index)
    for row in periods.itertuples():
        start = int(idx.get_loc(row.peak))  # type: ignore[arg-type]
        end = int(idx.get_loc(row.recovery)) if row.recovered else len(eq) - 1  # type: ignore[arg-type]
        if start == 0 and wealth.iloc[0] < 1.0 - 1e-12:
            base, first = 0.0, 0  # under water from the first day: the peak is the start
        else:
            base, first = float(eq[start]), start + 1
        window = eq[first : end + 1]
        money.append(min(float(window.min() - base), 0.0) if window.size else 0.0)
    out = periods.rename(columns={"drawdown": "drawdown_pct"})
    out.insert(4, "drawdown_money", money)
    return out
