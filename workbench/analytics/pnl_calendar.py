"""Daily PnL laid out as calendars: a month grid of days, and a weekday x month table.

Pure functions of the daily path (money in the account currency); the tearsheet colours them.
Days outside the run, weekends and holidays are empty cells; a day of the run that was skipped
(no trade, a failed day) is marked as such.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.analytics.breakdowns import MONTHS, WEEKDAYS


@dataclass(frozen=True)
class DayCell:
    """One date of a month: its PnL (money; NaN when the date is not a day of the run, e.g. a
    holiday) and whether the run skipped it."""

    date: pd.Timestamp
    pnl: float
    skipped: bool

    @property
    def in_run(self) -> bool:
        return bool(np.isfinite(self.pnl))


@dataclass(frozen=True)
class MonthGrid:
    """A month: ``weeks`` rows of ``len(weekdays)`` cells (``None`` outside the month), the
    month's total PnL and its count of days in the run."""

    year: int
    month: int
    weekdays: tuple[str, ...]
    weeks: tuple[tuple[DayCell | None, ...], ...]
    total: float
    days: int

    @property
    def label(self) -> str:
        return f"{MONTHS[self.month - 1]} {self.year}"


def month_grids(pnl: pd.Series, skipped: pd.Series | None = None) -> list[MonthGrid]:
    """One :class:`MonthGrid` per calendar month of ``pnl`` (indexed by date), in order.

    Columns are Monday..Friday, with Saturday and Sunday only when some day of the run falls on
    a weekend (a market that trades then).
    """
    if pnl.empty:
        return []
    idx = pd.DatetimeIndex(pnl.index).normalize()
    values = pnl.to_numpy(dtype=float)
    flags = np.zeros(len(values), bool) if skipped is None else skipped.to_numpy(dtype=bool)
    ncols = 7 if bool((idx.day_of_week >= 5).any()) else 5
    known = {d: (float(v), bool(f)) for d, v, f in zip(idx, values, flags)}
    grids: list[MonthGrid] = []
    for year, month in sorted(set(zip(idx.year.tolist(), idx.month.tolist()))):
        first = pd.Timestamp(year, month, 1)
        weeks: list[tuple[DayCell | None, ...]] = []
        row: list[DayCell | None] = [None] * ncols
        for day in pd.date_range(first, first + pd.offsets.MonthEnd(0), freq="D"):
            if day.day_of_week < ncols:
                value, flag = known.get(day, (float("nan"), False))
                row[day.day_of_week] = DayCell(day, value, flag)
            if day.day_of_week == 6 or day.is_month_end:
                if any(c is not None for c in row):
                    weeks.append(tuple(row))
                row = [None] * ncols
        inside = (idx.year == year) & (idx.month == month)
        grids.append(
            MonthGrid(
                year=int(year),
                month=int(month),
                weekdays=WEEKDAYS[:ncols],
                weeks=tuple(weeks),
                total=float(values[inside].sum()),
                days=int(inside.sum()),
            )
        )
    return grids


def weekday_by_month(pnl: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Daily PnL summed by (weekday, calendar month), all years together: ``(pnl, days)``
    frames with weekdays as rows (Monday first, weekend rows only when traded) and the months
    that occur as columns (January first)."""
    if pnl.empty:
        empty = pd.DataFrame(index=pd.Index([], name="weekday"))
        return empty, empty
    idx = pd.DatetimeIndex(pnl.index)
    frame = pd.DataFrame(
        {
            "weekday": idx.day_name(),
            "month": [MONTHS[m - 1] for m in idx.month],
            "pnl": pnl.to_numpy(dtype=float),
        }
    )
    total = frame.pivot_table(index="weekday", columns="month", values="pnl", aggfunc="sum")
    count = frame.pivot_table(index="weekday", columns="month", values="pnl", aggfunc="size")
    rows = [d for d in WEEKDAYS if d in total.index]
    cols = [m for m in MONTHS if m in total.columns]
    total = total.reindex(index=rows, columns=cols)
    count = count.reindex(index=rows, columns=cols).fillna(0).astype(int)
    total.index.name = count.index.name = "weekday"
    return total, count
