"""Baskets: several runs' tradebooks combined into one portfolio.

A basket aligns the sleeves' daily paths on the union of their dates (a sleeve contributes 0 on
a day it did not run), scales each by a weight (or a lot multiplier: the same thing applied to
quantities and cash), and derives the combined tradebook, daily path, drawdown, correlation
matrix of daily PnL, contribution by sleeve and combined margin. Every combined number comes
from the sleeves' saved results; nothing is re-simulated.
"""

from __future__ import annotations

import glob
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.engine.metrics import sharpe
from workbench.research.fx import FxSeries

#: Daily columns that scale linearly with position size and are summed across sleeves.
ADDITIVE_DAILY = (
    "pnl",
    "realized",
    "unrealized",
    "fees",
    "cash",
    "mtm",
    "equity",
    "delta",
    "gamma",
    "vega",
    "theta",
    "margin",
    "peak_margin",
)
#: Tradebook columns that scale with the weight.
SCALED_TRADEBOOK = ("qty", "units", "signed_units", "fees", "cash")


class BasketError(ValueError):
    """A basket input is invalid; the message names the run folder or parameter."""


@dataclass(frozen=True)
class Sleeve:
    """One saved run folder."""

    name: str
    folder: Path
    tradebook: pd.DataFrame
    daily: pd.DataFrame
    manifest: dict[str, Any]

    @property
    def currency(self) -> str:
        """The run's money: its manifest's ``currency`` (older runs: the registry's currency
        of its underlying); "" when unknown."""
        from workbench.analytics.analysis import resolve_currency

        return resolve_currency(self.manifest, self.tradebook)


def load_sleeve(folder: str | Path, name: str | None = None) -> Sleeve:
    """Read a saved run folder (``tradebook.parquet``, ``daily.csv``, ``manifest.json``)."""
    folder = Path(folder)
    missing = [
        f for f in ("tradebook.parquet", "daily.csv", "manifest.json") if not (folder / f).is_file()
    ]
    if missing:
        raise BasketError(f"{folder}: not a saved run folder (missing {', '.join(missing)})")
    try:
        tradebook = pd.read_parquet(folder / "tradebook.parquet")
        daily = pd.read_csv(folder / "daily.csv", parse_dates=["date"])
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError) as exc:
        raise BasketError(f"{folder}: unreadable run folder: {exc}") from None
    if "pnl" not in daily.columns:
        raise BasketError(f"{folder}/daily.csv: column 'pnl' is missing")
    return Sleeve(name or folder.name, folder, tradebook, daily, manifest)


#: Daily columns that are flows of the day (converted at the day's close) and values held at
#: the close (converted at that close); equity and cash are rebuilt from the converted flows.
_DAILY_FLOWS = ("pnl", "realized", "fees")
_DAILY_HELD = ("unrealized", "mtm", "vega", "theta", "margin", "peak_margin")
_BOOK_MONEY = ("cash", "fees", "price", "mid")


def _one_currency(
    sleeves: list[Sleeve], currency: str | None, fx: FxSeries | str | Path | None
) -> tuple[list[Sleeve], dict[str, Any]]:
    """The sleeves in one currency (converted where needed) and what was done, for the
    manifest and the page."""
    from workbench.research.fx import FxSeries, fx_from_dataset

    currencies = {s.name: s.currency for s in sleeves}
    target = (currency or next(iter(currencies.values()), "")).upper()
    foreign = {n: c for n, c in currencies.items() if c and c != target}
    unknown = [n for n, c in currencies.items() if not c]
    if unknown and foreign:
        raise BasketError(f"sleeve(s) {', '.join(unknown)}: currency unknown; cannot convert")
    if not foreign:
        return sleeves, {"currency": target}
    if fx is None:
        listed = ", ".join(f"{n} ({c})" for n, c in currencies.items())
        raise BasketError(
            f"sleeves in different currencies: {listed}; give fx= (a daily FX series: a dataset "
            f"of e.g. USDINR ingested with `workbench data ingest --format ohlc`) to convert "
            f"them to {target}, or combine runs of one currency"
        )
    series = fx if isinstance(fx, FxSeries) else fx_from_dataset(fx)
    out, stale = [], 0
    for sleeve in sleeves:
        source = currencies[sleeve.name]
        if source == target:
            out.append(sleeve)
            continue
        if not series.converts(source, target):
            raise BasketError(
                f"sleeve {sleeve.name} is in {source}; FX {series.pair} cannot convert it to {target}"
            )
        converted, late = _convert(sleeve, series, source, target)
        stale += late
        out.append(converted)
    note = {
        "pair": series.pair,
        "source": series.source,
        "converted": {n: f"{c} -> {target}" for n, c in foreign.items()},
        "rule": "each day's close (the last close before a day without one)",
        "days_on_an_earlier_close": stale,
    }
    return out, {"currency": target, "fx": note}


def _convert(sleeve: Sleeve, fx: FxSeries, source: str, target: str) -> tuple[Sleeve, int]:
    daily = sleeve.daily.copy()
    days = pd.to_datetime(daily["date"]).dt.date
    factors, late = [], 0
    for day in days:
        factor, used = fx.factor(day, source, target)
        factors.append(factor)
        late += used != day
    rate = np.asarray(factors, dtype=float)
    for col in (*_DAILY_FLOWS, *_DAILY_HELD):
        if col in daily.columns:
            daily[col] = daily[col].astype(float) * rate
    daily["equity"] = daily["pnl"].astype(float).cumsum()
    if "cash" in daily.columns:
        daily["cash"] = daily["equity"] - (daily["mtm"].astype(float) if "mtm" in daily else 0.0)
    book = sleeve.tradebook.copy()
    if len(book):
        fill_days = pd.to_datetime(book["day"]).dt.date
        by_day = {d: fx.factor(d, source, target)[0] for d in sorted(set(fill_days))}
        book_rate = fill_days.map(by_day).to_numpy(dtype=float)
        for col in _BOOK_MONEY:
            if col in book.columns:
                book[col] = book[col].astype(float) * book_rate
    manifest = {**sleeve.manifest, "currency": target, "converted_from": source}
    return Sleeve(sleeve.name, sleeve.folder, book, daily, manifest), late


def resolve_runs(runs: str | Path | list[str | Path]) -> list[Path]:
    """Run folders from a list of folders and/or glob patterns, de-duplicated, in the order
    given (a pattern's matches sorted). A folder named outright must be a run folder; a pattern
    skips the folders it matches that are not runs."""
    items = [runs] if isinstance(runs, (str, Path)) else list(runs)
    found: list[Path] = []
    for item in items:
        text = str(item)
        pattern = any(ch in text for ch in "*?[")
        matches = sorted(glob.glob(text)) if pattern else [text]
        if not matches:
            raise BasketError(f"no run folders match {text!r}")
        for match in matches:
            path = Path(match)
            is_run = path.is_dir() and (path / "manifest.json").is_file()
            if not pattern and not path.exists():
                raise BasketError(f"{path}: no such run folder")
            if not pattern and not is_run:
                raise BasketError(f"{path}: not a saved run folder (no manifest.json)")
            if is_run and path not in found:
                found.append(path)
    if not found:
        raise BasketError(f"no saved run folders in {items}")
    return found


@dataclass
class Basket:
    sleeves: list[Sleeve]
    weights: dict[str, float]
    sleeve_pnl: pd.DataFrame  # date x sleeve, weighted daily PnL
    daily: pd.DataFrame  # combined daily path (schema of a run's daily.csv)
    tradebook: pd.DataFrame  # combined, with a `sleeve` column, quantities and cash scaled
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def correlation(self) -> pd.DataFrame:
        """Correlation of the sleeves' daily PnL (days where every sleeve ran)."""
        return self.sleeve_pnl.corr()

    @property
    def contribution(self) -> pd.DataFrame:
        """Total weighted PnL per sleeve and its share of the basket's PnL."""
        total = self.sleeve_pnl.sum()
        grand = float(total.sum())
        share = total / grand if grand != 0 else total * np.nan
        return pd.DataFrame({"weight": pd.Series(self.weights), "pnl": total, "share": share})

    @property
    def drawdown(self) -> pd.Series:
        equity = self.daily.set_index("date")["equity"]
        return equity - equity.cummax()

    @property
    def metrics(self) -> dict[str, Any]:
        pnl = self.daily["pnl"].to_numpy(dtype=float)
        ratio = sharpe(pnl)
        return {
            "total_pnl": float(pnl.sum()),
            "sharpe": ratio if np.isfinite(ratio) else None,
            "max_drawdown": float(self.drawdown.min()) if len(pnl) else 0.0,
            # each sleeve's largest margin of the day summed: intraday sleeves count what they
            # needed during the day (flat at the close); an upper bound when sleeves peak at
            # different times of the day
            "max_margin": float(self.daily["peak_margin"].max())
            if "peak_margin" in self.daily and len(pnl)
            else None,
            "sleeves": len(self.sleeves),
        }


def _with_day_peak_margin(daily: pd.DataFrame) -> pd.DataFrame:
    """``daily`` with ``peak_margin`` = the day's largest margin (the engine's intraday peak,
    or the close margin for runs saved without it)."""
    if "margin" not in daily.columns:
        return daily
    out = daily.copy()
    close = out["margin"].astype(float)
    peak = out["peak_margin"].astype(float) if "peak_margin" in out.columns else close
    out["peak_margin"] = np.fmax(peak, close)
    return out


def combine(
    runs: str | Path | list[str | Path] | list[Sleeve],
    weights: dict[str, float] | list[float] | None = None,
    *,
    currency: str | None = None,
    fx: FxSeries | str | Path | None = None,
) -> Basket:
    """Combine saved runs into one portfolio.

    Parameters
    ----------
    runs
        Run folders, glob patterns, or loaded :class:`Sleeve` objects.
    weights
        Per sleeve (by folder name, or a list in the order of ``runs``); a weight multiplies
        the sleeve's quantities, cash flows, PnL, Greeks and margin (an integer weight is a lot
        multiplier). Default 1 for every sleeve.
    currency
        The basket's money (default: the first sleeve's).
    fx
        An :class:`~workbench.research.fx.FxSeries` or a dataset folder holding one (a pair
        such as USDINR ingested with ``--format ohlc``). Sleeves in another currency than the
        basket's are converted with it at each day's close (flows -- PnL, realised, fees, fills'
        cash and prices -- at their day's close; values held -- market value, margin, vega and
        theta -- at each close; equity is the sum of the converted daily PnL). Without it,
        sleeves in different currencies are refused: adding rupees to dollars is not a number.
    """
    if isinstance(runs, list) and runs and all(isinstance(r, Sleeve) for r in runs):
        sleeves = [r for r in runs if isinstance(r, Sleeve)]
    else:
        sleeves = [load_sleeve(p) for p in resolve_runs(runs)]  # type: ignore[arg-type]
    names = [s.name for s in sleeves]
    if len(set(names)) != len(names):
        raise BasketError(f"sleeve names must be unique: {names}")
    if weights is None:
        w = {n: 1.0 for n in names}
    elif isinstance(weights, dict):
        unknown = set(weights) - set(names)
        if unknown:
            raise BasketError(f"weights name unknown sleeves {sorted(unknown)}; sleeves: {names}")
        w = {n: float(weights.get(n, 1.0)) for n in names}
    else:
        if len(weights) != len(names):
            raise BasketError(f"{len(weights)} weights for {len(names)} sleeves")
        w = {n: float(x) for n, x in zip(names, weights)}
    for name, value in w.items():
        if not np.isfinite(value):
            raise BasketError(f"weight for {name} must be finite, got {value}")
    sleeves, conversion = _one_currency(sleeves, currency, fx)

    dates = sorted(set().union(*(set(s.daily["date"]) for s in sleeves)))
    index = pd.DatetimeIndex(dates, name="date")
    columns = {}
    combined = pd.DataFrame(index=index)
    for sleeve in sleeves:
        daily = _with_day_peak_margin(sleeve.daily).set_index("date").reindex(index)
        columns[sleeve.name] = daily["pnl"].fillna(0.0) * w[sleeve.name]
        for col in ADDITIVE_DAILY:
            if col not in daily.columns:
                continue
            values = daily[col].astype(float)
            # stock-like columns carry forward over days a sleeve did not run; flows are 0
            if col in (
                "cash",
                "mtm",
                "equity",
                "margin",
                "peak_margin",
                "delta",
                "gamma",
                "vega",
                "theta",
                "unrealized",
            ):
                values = values.ffill().fillna(0.0)
            else:
                values = values.fillna(0.0)
            combined[col] = combined.get(col, 0.0) + values * w[sleeve.name]
        if "open_legs" in daily.columns:
            combined["open_legs"] = combined.get("open_legs", 0) + daily[
                "open_legs"
            ].ffill().fillna(0).astype(int)
    sleeve_pnl = pd.DataFrame(columns, index=index)
    combined = combined.reset_index()

    books = []
    for sleeve in sleeves:
        book = sleeve.tradebook.copy()
        for col in SCALED_TRADEBOOK:
            if col in book.columns:
                book[col] = book[col].astype(float) * w[sleeve.name]
        for col in ("run_id", "trade_id", "position_key"):  # unique within a run, not across runs
            if col in book.columns:
                book[col] = sleeve.name + ":" + book[col].astype(str)
        book.insert(0, "sleeve", sleeve.name)
        books.append(book)
    tradebook = pd.concat(books, ignore_index=True) if books else pd.DataFrame()
    if "ts" in tradebook.columns and len(tradebook):
        tradebook = tradebook.sort_values(["ts", "sleeve"], kind="stable").reset_index(drop=True)
    manifest = {
        "kind": "basket",
        "currency": conversion["currency"],
        "fx": conversion.get("fx"),
        # each sleeve's mode, by its (prefixed) run id: how its positions are identified
        "modes": {
            f"{s.name}:{s.manifest.get('run_id')}": (s.manifest.get("strategy") or {}).get(
                "mode", "intraday"
            )
            for s in sleeves
        },
        "sleeves": [
            {
                "name": s.name,
                "folder": str(s.folder),
                "weight": w[s.name],
                "run_id": s.manifest.get("run_id"),
            }
            for s in sleeves
        ],
    }
    return Basket(sleeves, w, sleeve_pnl, combined, tradebook, manifest)
