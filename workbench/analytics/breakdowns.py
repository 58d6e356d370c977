"""PnL decompositions: calendar tables, weekday, month of year, exit reason, expiry cycle, DTE at
entry and volatility regime.

Every function is pure and returns a DataFrame. Money columns are in the account currency;
``win_rate`` counts strictly positive values among the non-zero ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

WEEKDAYS: tuple[str, ...] = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)
MONTHS: tuple[str, ...] = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
#: DTE-at-entry buckets (calendar days): label -> inclusive (low, high).
DTE_BUCKETS: tuple[tuple[str, int, int], ...] = (
    ("0", 0, 0),
    ("1", 1, 1),
    ("2-3", 2, 3),
    ("4-7", 4, 7),
    ("8-14", 8, 14),
    ("15-30", 15, 30),
    ("31-60", 31, 60),
    (">60", 61, 100_000),
)
#: Volatility regimes of a VIX-like level (Mahler): label -> [low, high).
VIX_REGIMES: tuple[tuple[str, float, float], ...] = (
    ("<15", -np.inf, 15.0),
    ("15-25", 15.0, 25.0),
    ("25-35", 25.0, 35.0),
    (">35", 35.0, np.inf),
)
GROUP_COLUMNS: tuple[str, ...] = ("count", "pnl", "mean", "win_rate", "best", "worst")


def summarize(
    values: pd.Series, keys: pd.Series, order: tuple[str, ...] | list[str] | None = None
) -> pd.DataFrame:
    """Group ``values`` (money) by ``keys``: count, total, mean, win rate, best, worst.

    With ``order`` the rows follow it and only labels that occur are kept.
    """
    frame = pd.DataFrame({"key": keys.to_numpy(), "v": values.to_numpy(dtype=float)})
    frame = frame[frame["v"].notna()]
    if frame.empty:
        return pd.DataFrame(columns=list(GROUP_COLUMNS), index=pd.Index([], name="group"))
    g = frame.groupby("key", sort=True)["v"]
    out = pd.DataFrame(
        {
            "count": g.size(),
            "pnl": g.sum(),
            "mean": g.mean(),
            "win_rate": g.apply(
                lambda s: float((s[s != 0] > 0).mean()) if (s != 0).any() else np.nan
            ),
            "best": g.max(),
            "worst": g.min(),
        }
    )
    if order is not None:
        out = out.reindex([k for k in order if k in out.index])
    out.index.name = "group"
    return out


def by_weekday(pnl: pd.Series) -> pd.DataFrame:
    """Daily PnL grouped by weekday of its date (Monday first)."""
    idx = pd.DatetimeIndex(pnl.index)
    return summarize(pnl, pd.Series(idx.day_name(), index=pnl.index), WEEKDAYS)


def by_month_of_year(pnl: pd.Series) -> pd.DataFrame:
    """Daily PnL grouped by calendar month (all years together, January first)."""
    idx = pd.DatetimeIndex(pnl.index)
    return summarize(pnl, pd.Series([MONTHS[m - 1] for m in idx.month], index=pnl.index), MONTHS)


def monthly_returns(returns: pd.Series) -> pd.DataFrame:
    """Compounded return per calendar month: rows years, columns Jan..Dec plus ``Year`` (the
    compounded year). Months without data are NaN."""
    if returns.empty:
        return pd.DataFrame(columns=[*MONTHS, "Year"])
    r = returns.fillna(0.0)
    idx = pd.DatetimeIndex(r.index)
    grouped = (1.0 + r).groupby([idx.year, idx.month]).prod() - 1.0
    table = grouped.unstack()
    table = table.reindex(columns=range(1, 13))
    table.columns = list(MONTHS)
    yearly = (1.0 + r).groupby(idx.year).prod() - 1.0
    table["Year"] = yearly
    table.index.name = "year"
    return table


def monthly_pnl(pnl: pd.Series) -> pd.DataFrame:
    """PnL (money) per calendar month: rows years, columns Jan..Dec plus ``Year``."""
    if pnl.empty:
        return pd.DataFrame(columns=[*MONTHS, "Year"])
    idx = pd.DatetimeIndex(pnl.index)
    table = pnl.groupby([idx.year, idx.month]).sum().unstack().reindex(columns=range(1, 13))
    table.columns = list(MONTHS)
    table["Year"] = pnl.groupby(idx.year).sum()
    table.index.name = "year"
    return table


def yearly(returns: pd.Series, pnl: pd.Series) -> pd.DataFrame:
    """Per calendar year: compounded ``return`` (fraction), ``pnl`` (money), ``days``."""
    if returns.empty:
        return pd.DataFrame(columns=["return", "pnl", "days"])
    idx = pd.DatetimeIndex(returns.index)
    out = pd.DataFrame(
        {
            "return": (1.0 + returns.fillna(0.0)).groupby(idx.year).prod() - 1.0,
            "pnl": pnl.groupby(idx.year).sum(),
            "days": returns.groupby(idx.year).size(),
        }
    )
    out.index.name = "year"
    return out


def by_exit_reason(trades: pd.DataFrame) -> pd.DataFrame:
    """Closed trades grouped by exit reason (most frequent first)."""
    closed = trades[trades["status"] == "closed"]
    out = summarize(closed["pnl"], closed["exit_reason"].replace("", "(none)"))
    return out.sort_values(["count", "pnl"], ascending=[False, True]) if not out.empty else out


def by_expiry_kind(trades: pd.DataFrame) -> pd.DataFrame:
    """Closed trades grouped by expiry cycle (weekly / monthly / unknown)."""
    closed = trades[trades["status"] == "closed"]
    return summarize(closed["pnl"], closed["expiry_kind"], ["weekly", "monthly", "unknown", "none"])


def dte_bucket(dte: pd.Series) -> pd.Series:
    """Label each DTE (calendar days, >= 0) with its ``DTE_BUCKETS`` label."""
    labels = np.full(len(dte), "", dtype=object)
    values = dte.to_numpy(dtype=float)
    for label, lo, hi in DTE_BUCKETS:
        labels[(values >= lo) & (values <= hi)] = label
    return pd.Series(labels, index=dte.index)


def by_dte(trades: pd.DataFrame) -> pd.DataFrame:
    """Closed trades grouped by DTE at entry (``DTE_BUCKETS``)."""
    closed = trades[trades["status"] == "closed"]
    return summarize(closed["pnl"], dte_bucket(closed["dte_at_entry"]), [b[0] for b in DTE_BUCKETS])


def by_entry_weekday(trades: pd.DataFrame) -> pd.DataFrame:
    """Closed trades grouped by the weekday they were entered."""
    closed = trades[trades["status"] == "closed"]
    return summarize(closed["pnl"], closed["entry_weekday"], WEEKDAYS)


def vix_regime(level: pd.Series) -> pd.Series:
    """Label each level with its ``VIX_REGIMES`` bucket ("" where the level is missing)."""
    values = level.to_numpy(dtype=float)
    labels = np.full(len(values), "", dtype=object)
    for label, lo, hi in VIX_REGIMES:
        labels[(values >= lo) & (values < hi)] = label
    return pd.Series(labels, index=level.index)


def vix_asof(vix: pd.Series, days: pd.Series) -> pd.Series:
    """The VIX level known before each date in ``days``: the last value strictly before it (NaN
    before the series starts). A day's PnL and a trade entered during a day are labelled by the
    previous close, never by a close that came after them."""
    series = vix.copy()
    series.index = pd.DatetimeIndex(pd.to_datetime(series.index)).normalize()
    series = series[~series.index.duplicated(keep="last")].sort_index().astype(float).dropna()
    idx = pd.DatetimeIndex(pd.to_datetime(days)).normalize()
    if series.empty:
        return pd.Series(np.nan, index=days.index)
    pos = np.searchsorted(series.index.to_numpy(), idx.to_numpy(), side="left") - 1
    values = np.where(pos >= 0, series.to_numpy()[np.maximum(pos, 0)], np.nan)
    return pd.Series(values, index=days.index)


def by_vix_regime_trades(trades: pd.DataFrame, vix: pd.Series) -> pd.DataFrame:
    """Closed trades grouped by the VIX regime known at entry (the close before the entry day)."""
    closed = trades[trades["status"] == "closed"]
    level = vix_asof(vix, closed["entry_day"])
    labels = vix_regime(level)
    keep = labels != ""
    return summarize(closed["pnl"][keep], labels[keep], [r[0] for r in VIX_REGIMES])


def by_vix_regime_days(pnl: pd.Series, vix: pd.Series) -> pd.DataFrame:
    """Daily PnL grouped by the VIX regime known that morning (the previous close)."""
    days = pd.Series(pd.DatetimeIndex(pnl.index), index=pnl.index)
    labels = vix_regime(vix_asof(vix, days))
    keep = labels != ""
    return summarize(pnl[keep], labels[keep], [r[0] for r in VIX_REGIMES])
