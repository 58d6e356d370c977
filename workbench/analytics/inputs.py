"""Load and validate what the analytics layer reads: a tradebook, a daily path and a manifest.

The input is anything with ``.tradebook``, ``.daily`` and ``.manifest`` (a ``BacktestResult`` or
any object shaped like one), or a saved run folder holding ``tradebook.parquet``, ``daily.csv``,
``manifest.json`` (and optionally ``metrics.json``). Column names and meanings follow the engine
section of ``docs/INTERFACES.md``. Validation errors name the file or frame, the row and the field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from workbench.engine.result import DAILY_COLUMNS, read_entries, read_excursions

#: Daily-path columns every analysis needs.
DAILY_REQUIRED: tuple[str, ...] = ("date", "pnl", "equity")
#: Daily-path numeric columns read when present (missing ones are filled with NaN / 0): the
#: engine's daily columns less the date and the text/flag ones.
DAILY_NUMERIC: tuple[str, ...] = tuple(
    c for c in DAILY_COLUMNS if c not in ("date", "skipped", "skip_reason", "warnings")
)
#: Tradebook columns the per-trade table needs (INTERFACES.md, engine section).
TRADEBOOK_REQUIRED: tuple[str, ...] = (
    "trade_id",
    "day",
    "ts",
    "underlying",
    "expiry",
    "strike",
    "right",
    "side",
    "action",
    "qty",
    "units",
    "signed_units",
    "price",
    "fees",
    "cash",
    "reason",
)
_ACTIONS = frozenset({"open", "close", "settle"})


class AnalyticsInputError(ValueError):
    """Bad analytics input; the message names the source, row and field at fault."""


@dataclass(frozen=True)
class RunData:
    """Validated inputs: ``tradebook`` (one row per fill), ``daily`` (one row per trading day,
    indexed by ``date`` as a ``DatetimeIndex``), ``manifest`` (plain dict), ``saved_metrics``
    (the ``metrics.json`` found beside a saved run, else ``None``), ``source`` (for messages)."""

    tradebook: pd.DataFrame
    daily: pd.DataFrame
    manifest: dict[str, Any]
    source: str = "<result>"
    saved_metrics: dict[str, Any] | None = field(default=None)
    #: the engine's tick-by-tick trade excursions (intraday runs; ``excursions.csv``), or None
    excursions: pd.DataFrame | None = field(default=None)
    #: the market at each opening order (``entries.csv``: VIX, IV rank, theta), or None
    entries: pd.DataFrame | None = field(default=None)


def _to_frame(obj: Any, what: str) -> pd.DataFrame:
    if obj is None:
        return pd.DataFrame()
    if isinstance(obj, pd.DataFrame):
        return obj.copy()
    if isinstance(obj, pa.Table):
        return obj.to_pandas()
    if isinstance(obj, list | dict):
        return pd.DataFrame(obj)
    raise AnalyticsInputError(
        f"{what}: expected a pandas DataFrame or pyarrow Table, got {type(obj).__name__}"
    )


def validate_daily(daily: pd.DataFrame, source: str = "daily") -> pd.DataFrame:
    """Return the daily path indexed by a sorted, unique ``DatetimeIndex`` named ``date``.

    Numeric columns are coerced to float; a value that is not a number raises naming the row
    (the date) and the column. Missing optional columns are added: Greeks/margin/spot as NaN,
    counts and money columns as 0.
    """
    frame = daily.copy()
    if "date" not in frame.columns and frame.index.name == "date":
        frame = frame.reset_index()
    if frame.empty and len(frame.columns) == 0:
        frame = pd.DataFrame({c: pd.Series(dtype=float) for c in DAILY_REQUIRED})
    missing = [c for c in DAILY_REQUIRED if c not in frame.columns]
    if missing:
        raise AnalyticsInputError(
            f"{source}: missing column(s) {', '.join(missing)} (have: {', '.join(map(str, frame.columns))})"
        )
    try:
        dates = pd.to_datetime(frame["date"], errors="raise")
    except (ValueError, TypeError) as exc:
        bad = next(
            (i for i, v in enumerate(frame["date"]) if pd.isna(pd.to_datetime(v, errors="coerce"))),
            None,
        )
        raise AnalyticsInputError(f"{source}: row {bad}, field 'date': not a date ({exc})") from exc
    frame["date"] = dates.dt.normalize() if hasattr(dates, "dt") else dates
    if frame["date"].isna().any():
        row = int(np.flatnonzero(frame["date"].isna().to_numpy())[0])
        raise AnalyticsInputError(f"{source}: row {row}, field 'date': empty")
    if frame["date"].duplicated().any():
        row = int(np.flatnonzero(frame["date"].duplicated().to_numpy())[0])
        raise AnalyticsInputError(
            f"{source}: row {row}, field 'date': {frame['date'].iloc[row].date()} appears twice"
        )
    for col in DAILY_NUMERIC:
        if col not in frame.columns:
            frame[col] = (
                0.0
                if col in ("realized", "unrealized", "fees", "fills", "refused_fills", "open_legs")
                else np.nan
            )
            continue
        values = pd.to_numeric(frame[col], errors="coerce")
        bad_mask = values.isna() & frame[col].notna() & (frame[col].astype(str).str.strip() != "")
        if bad_mask.any():
            row = int(np.flatnonzero(bad_mask.to_numpy())[0])
            raise AnalyticsInputError(
                f"{source}: row {row} ({frame['date'].iloc[row].date()}), field {col!r}: {frame[col].iloc[row]!r} is not a number"
            )
        frame[col] = values.astype(float)
    for col in ("pnl", "equity"):
        if frame[col].isna().any():
            row = int(np.flatnonzero(frame[col].isna().to_numpy())[0])
            raise AnalyticsInputError(
                f"{source}: row {row} ({frame['date'].iloc[row].date()}), field {col!r}: empty"
            )
    if "skipped" in frame.columns:
        frame["skipped"] = frame["skipped"].map(_as_bool)
    else:
        frame["skipped"] = False
    frame = frame.sort_values("date").set_index("date")
    return frame


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return False
    return bool(value)


def validate_tradebook(tradebook: pd.DataFrame, source: str = "tradebook") -> pd.DataFrame:
    """Return the tradebook sorted by (ts, fill_id) with typed columns.

    An empty tradebook (no rows) is valid whatever its columns. Otherwise every column in
    ``TRADEBOOK_REQUIRED`` must be present; ``action`` must be open/close/settle, ``side``
    BUY/SELL and ``qty``/``units`` positive; a fault names the row (fill_id when present) and field.
    """
    frame = tradebook.copy()
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in TRADEBOOK_REQUIRED})
    missing = [c for c in TRADEBOOK_REQUIRED if c not in frame.columns]
    if missing:
        raise AnalyticsInputError(f"{source}: missing column(s) {', '.join(missing)}")
    frame["ts"] = pd.to_datetime(frame["ts"])
    frame["day"] = pd.to_datetime(frame["day"]).dt.normalize()
    frame["expiry"] = pd.to_datetime(frame["expiry"]).dt.normalize()
    for col in ("strike", "qty", "units", "signed_units", "price", "fees", "cash"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    for col in ("mid", "spot", "iv", "delta"):
        frame[col] = (
            pd.to_numeric(frame[col], errors="coerce").astype(float)
            if col in frame.columns
            else np.nan
        )
    if "cycle" not in frame.columns:
        frame["cycle"] = 0
    if "fill_id" not in frame.columns:
        frame["fill_id"] = np.arange(len(frame))
    frame["trade_id"] = frame["trade_id"].astype(str)
    frame["action"] = frame["action"].astype(str).str.lower()
    frame["side"] = frame["side"].astype(str).str.upper()

    def fail(mask: pd.Series, col: str, why: str) -> None:
        row = int(np.flatnonzero(mask.to_numpy())[0])
        raise AnalyticsInputError(
            f"{source}: row {row} (fill_id {frame['fill_id'].iloc[row]}), field {col!r}: {frame[col].iloc[row]!r} {why}"
        )

    for col in ("ts", "day", "price", "units", "signed_units", "fees", "cash"):
        mask = frame[col].isna()
        if mask.any():
            fail(mask, col, "is empty or not a number")
    bad = ~frame["action"].isin(_ACTIONS)
    if bad.any():
        fail(bad, "action", "is not one of open/close/settle")
    bad = ~frame["side"].isin(("BUY", "SELL"))
    if bad.any():
        fail(bad, "side", "is not BUY or SELL")
    for col in ("qty", "units"):
        bad = ~(frame[col] > 0)
        if bad.any():
            fail(bad, col, "must be > 0")
    sign = np.where(frame["side"] == "BUY", 1.0, -1.0)
    bad = pd.Series(np.sign(frame["signed_units"].to_numpy()) != sign, index=frame.index)
    if bad.any():
        fail(bad, "signed_units", "has the wrong sign for its side")
    return frame.sort_values(["ts", "fill_id"], kind="stable").reset_index(drop=True)


def coerce_run(result_like: Any) -> RunData:
    """Validated ``RunData`` from a result object, a ``RunData`` or a saved run folder path."""
    if isinstance(result_like, RunData):
        return result_like
    if isinstance(result_like, str | Path):
        return load_run(result_like)
    for attr in ("tradebook", "daily", "manifest"):
        if not hasattr(result_like, attr):
            raise AnalyticsInputError(
                f"result: {type(result_like).__name__} has no attribute {attr!r}; pass an object with "
                ".tradebook, .daily and .manifest, or a saved run folder"
            )
    manifest = result_like.manifest
    if hasattr(manifest, "model_dump"):
        manifest = manifest.model_dump(mode="json")
    elif hasattr(manifest, "to_dict"):
        manifest = manifest.to_dict()
    excursions = getattr(result_like, "excursions", None)
    metrics = getattr(result_like, "metrics", None)
    entries = getattr(result_like, "entries", None)
    return RunData(
        tradebook=validate_tradebook(_to_frame(result_like.tradebook, "tradebook")),
        daily=validate_daily(_to_frame(result_like.daily, "daily")),
        manifest=dict(manifest or {}),
        excursions=None if excursions is None else _to_frame(excursions, "excursions"),
        saved_metrics=dict(metrics) if isinstance(metrics, dict) else None,
        entries=None if entries is None else _to_frame(entries, "entries"),
    )


def load_run(folder: str | Path) -> RunData:
    """Load a saved run folder (``tradebook.parquet``, ``daily.csv``, ``manifest.json``; an
    optional ``metrics.json`` is kept as ``saved_metrics``)."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"run folder {root} does not exist or is not a folder")
    paths = {name: root / name for name in ("tradebook.parquet", "daily.csv", "manifest.json")}
    for name, path in paths.items():
        if not path.is_file():
            raise FileNotFoundError(f"run folder {root}: {name} is missing")
    try:
        manifest = json.loads(paths["manifest.json"].read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise AnalyticsInputError(f"{paths['manifest.json']}: not valid JSON ({exc})") from exc
    saved = None
    if (root / "metrics.json").is_file():
        try:
            saved = json.loads((root / "metrics.json").read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise AnalyticsInputError(f"{root / 'metrics.json'}: not valid JSON ({exc})") from exc
    daily = pd.read_csv(paths["daily.csv"])
    excursions = None
    if (root / "excursions.csv").is_file():
        excursions = read_excursions(root / "excursions.csv")
    entries = None
    if (root / "entries.csv").is_file():
        entries = read_entries(root / "entries.csv")
    return RunData(
        tradebook=validate_tradebook(
            pd.read_parquet(paths["tradebook.parquet"]), str(paths["tradebook.parquet"])
        ),
        daily=validate_daily(daily, str(paths["daily.csv"])),
        manifest=manifest if isinstance(manifest, dict) else {"manifest": manifest},
        source=str(root),
        saved_metrics=saved,
        excursions=excursions,
        entries=entries,
    )


def run_mode(manifest: dict[str, Any], tradebook: pd.DataFrame) -> str | dict[str, str]:
    """How a run's positions are identified (:mod:`workbench.engine.positions`): the
    manifest's ``strategy.mode``; for a basket, its ``modes`` (``run_id -> mode``); for a bare
    tradebook, ``"positional"`` when a leg was held over a night, else ``"intraday"``."""
    modes = manifest.get("modes")
    if isinstance(modes, dict) and modes:
        return {str(k): str(v) for k, v in modes.items()}
    strategy = manifest.get("strategy")
    if isinstance(strategy, dict) and strategy.get("mode") in ("intraday", "positional"):
        return str(strategy["mode"])
    if tradebook.empty:
        return "intraday"
    spans = tradebook.groupby("trade_id")["day"].nunique()
    return "positional" if bool((spans > 1).any()) else "intraday"
