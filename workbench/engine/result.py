"""``BacktestResult``: tradebook, daily path, per-day metadata, metrics and manifest; save/load.

Files written by :meth:`BacktestResult.save` (docs/INTERFACES.md, engine section):

``tradebook.parquet``  one row per fill (:data:`~workbench.engine.tradebook.TRADEBOOK_SCHEMA`)
``daily.csv``          one row per trading day (:data:`DAILY_COLUMNS`)
``days.csv``           per-day metadata (:data:`DAYS_COLUMNS`): status ok/skipped/failed and why,
                       warnings and refused fills with their messages, cache fetches, traceback,
                       orders refused per portfolio constraint ("max_open_positions: 3; ...")
``metrics.json``       headline metrics (:mod:`workbench.engine.metrics`)
``manifest.json``      what the run depends on (:mod:`workbench.engine.manifest`)
``excursions.csv``     intraday runs: each trade's tick-by-tick MAE/MFE (:mod:`workbench.engine.excursions`)
``orders.csv``         runs that placed resting orders: one row per order event
                       (:data:`~workbench.engine.orders.ORDER_COLUMNS`)
``trades.parquet``     the trade log, one row per position (:mod:`workbench.engine.position_log`)
``params.toml``        the run's resolved parameters; ``workbench run --params`` replays them
                       (:mod:`workbench.engine.params_file`)
``entries.csv``        the market at each opening order: VIX, IV rank, theta (:mod:`workbench.engine.entries`);
                       written when the run opened anything

The folder is written atomically: into a temporary sibling folder, then renamed into place (an
existing folder is replaced only after the new one is complete).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from workbench.data.atomic import replace_folder
from workbench.engine.tradebook import TRADEBOOK_SCHEMA, read_tradebook, write_tradebook

DAILY_COLUMNS: tuple[str, ...] = (
    "date",
    "pnl",
    "realized",
    "unrealized",
    "fees",
    "cash",
    "mtm",
    "equity",
    "open_legs",
    "delta",
    "gamma",
    "vega",
    "theta",
    "margin",
    "peak_margin",
    "spot_close",
    "fills",
    "skipped",
    "skip_reason",
    "warnings",
    "refused_fills",
)
DAYS_COLUMNS: tuple[str, ...] = (
    "date",
    "status",
    "reason",
    "ticks",
    "fills",
    "refused_fills",
    "warnings",
    "fetches",
    "warning_messages",
    "refusal_messages",
    "error",
    "constraint_refusals",
)
FILES = ("tradebook.parquet", "daily.csv", "days.csv", "metrics.json", "manifest.json")


class BacktestResult:
    """The outcome of :func:`~workbench.engine.runner.run_backtest`.

    ``tradebook`` (pandas, one row per fill; ``tradebook_table`` is the Arrow table written to
    Parquet), ``daily`` (pandas, :data:`DAILY_COLUMNS`), ``days`` (pandas, :data:`DAYS_COLUMNS`),
    ``metrics`` and ``manifest`` (plain dicts). ``failed_days`` lists ``(date, traceback)`` of
    days that raised (intraday runs complete the other days).
    """

    def __init__(
        self,
        tradebook: pa.Table | pd.DataFrame,
        daily: pd.DataFrame,
        days: pd.DataFrame,
        metrics: dict[str, Any],
        manifest: dict[str, Any],
        *,
        excursions: pd.DataFrame | None = None,
        orders: pd.DataFrame | None = None,
        entries: pd.DataFrame | None = None,
    ) -> None:
        if isinstance(tradebook, pd.DataFrame):
            tradebook = pa.Table.from_pandas(
                tradebook, schema=TRADEBOOK_SCHEMA, preserve_index=False
            )
        self.tradebook_table: pa.Table = tradebook.replace_schema_metadata(None)
        self.daily = daily
        self.days = days
        self.metrics = metrics
        self.manifest = manifest
        #: intraday runs: each trade's tick-by-tick MAE/MFE (``excursions.csv``,
        #: :mod:`workbench.engine.excursions`); ``None`` for positional runs
        self.excursions = excursions
        #: order events (placed, replaced, cancelled, expired, rejected, triggered, filled) of
        #: resting orders, :data:`~workbench.engine.orders.ORDER_COLUMNS`; empty without any
        self.orders = orders if orders is not None else _no_orders()
        #: the market at each opening order (``entries.csv``, :mod:`workbench.engine.entries`);
        #: ``None`` when not recorded (a run saved before it was)
        self.entries = entries
        self._frame: pd.DataFrame | None = None

    def keep_frame(self, frame: pd.DataFrame) -> None:
        """Keep ``frame`` as :attr:`tradebook`: the pandas conversion of
        :attr:`tradebook_table` the caller already made (the engine computes its metrics on
        it), instead of converting the table again on first use."""
        if len(frame) != self.tradebook_table.num_rows or list(frame.columns) != list(
            self.tradebook_table.column_names
        ):
            raise ValueError("keep_frame: the frame is not this result's tradebook")
        self._frame = frame

    @property
    def tradebook(self) -> pd.DataFrame:
        """The tradebook as a DataFrame (``day``/``expiry`` as dates, ``ts``/``price_ts`` as datetimes)."""
        if self._frame is None:
            self._frame = self.tradebook_table.to_pandas()
        return self._frame

    @property
    def run_id(self) -> str:
        return str(self.manifest.get("run_id", ""))

    @property
    def failed_days(self) -> list[tuple[str, str]]:
        if self.days.empty:
            return []
        failed = self.days[self.days["status"] == "failed"]
        return [(str(d), str(e)) for d, e in zip(failed["date"], failed["error"])]

    def __repr__(self) -> str:
        return (
            f"BacktestResult(run {self.run_id}, {len(self.daily)} days, "
            f"{self.tradebook_table.num_rows} fills, total_pnl={self.metrics.get('total_pnl')})"
        )

    # -- persistence ---------------------------------------------------------------------------
    def save(self, out: str | Path, *, extras: Callable[[Path], None] | None = None) -> Path:
        """Write the run folder ``out`` atomically (see the module docstring); returns ``out``.

        ``out`` must be absent, empty or an earlier run folder: a file, a dataset or any other
        folder is refused (``ValueError`` naming it) rather than replaced. ``extras(folder)``
        writes further files (a tearsheet) into the new folder before it is swapped into
        place, so a killed run never leaves a run folder without them; if it raises, nothing
        is replaced.
        """
        out = Path(out)
        with replace_folder(out, ("manifest.json", "tradebook.parquet"), "a run folder") as tmp:
            write_tradebook(self.tradebook_table, tmp / "tradebook.parquet")
            # money and Greeks rounded to 1e-6 for readability (binary noise such as
            # -408.7399999999998); the invariants were checked to the cent before rounding
            self.daily.round(6).to_csv(tmp / "daily.csv", index=False, lineterminator="\n")
            self.days.to_csv(tmp / "days.csv", index=False, lineterminator="\n")
            _write_json(tmp / "metrics.json", self.metrics)
            _write_json(tmp / "manifest.json", self.manifest)
            if self.excursions is not None:
                self.excursions.round({"mae": 6, "mfe": 6}).to_csv(
                    tmp / "excursions.csv", index=False, lineterminator="\n"
                )
            if len(self.orders):
                self.orders.to_csv(tmp / "orders.csv", index=False, lineterminator="\n")
            self._write_seed003_files(tmp)
            if self.entries is not None and not self.entries.empty:
                self.entries.to_csv(tmp / "entries.csv", index=False, lineterminator="\n")
            if extras is not None:
                extras(tmp)
        return out

    def _write_seed003_files(self, folder: Path) -> None:
        """``trades.parquet`` (one row per position) and ``params.toml`` (the resolved
        parameters) beside the tradebook."""
        from workbench.engine.entries import tradebook_with_entries
        from workbench.engine.params_file import params_toml
        from workbench.engine.position_log import position_log, write_position_log

        mode = str((self.manifest.get("strategy") or {}).get("mode") or "intraday")
        fills = tradebook_with_entries(self.tradebook, self.entries)  # VIX, IV rank, theta
        write_position_log(position_log(fills, mode), folder / "trades.parquet")
        (folder / "params.toml").write_text(params_toml(self.manifest), encoding="utf-8")

    @classmethod
    def load(cls, folder: str | Path) -> BacktestResult:
        """Read a folder written by :meth:`save`; a missing file raises naming it."""
        folder = Path(folder)
        for name in FILES:
            if not (folder / name).is_file():
                raise FileNotFoundError(f"{folder}: not a saved backtest result (missing {name})")
        table = read_tradebook(folder / "tradebook.parquet")
        daily = pd.read_csv(folder / "daily.csv", keep_default_na=True)
        days = pd.read_csv(folder / "days.csv", keep_default_na=False, dtype={"error": str})
        with open(folder / "metrics.json") as fh:
            metrics = json.load(fh)
        with open(folder / "manifest.json") as fh:
            manifest = json.load(fh)
        excursions = None
        if (folder / "excursions.csv").is_file():
            excursions = read_excursions(folder / "excursions.csv")
        orders = None
        if (folder / "orders.csv").is_file():
            orders = read_orders(folder / "orders.csv")
        entries = None
        if (folder / "entries.csv").is_file():
            entries = read_entries(folder / "entries.csv")
        return cls(
            table, daily, days, metrics, manifest,
            excursions=excursions, orders=orders, entries=entries,
        )  # fmt: skip


def _no_orders() -> pd.DataFrame:
    from workbench.engine.orders import ORDER_COLUMNS

    return pd.DataFrame(columns=list(ORDER_COLUMNS))


def read_orders(path: Path) -> pd.DataFrame:
    """``orders.csv`` back as written (``day`` as dates, ``ts`` as datetimes, text as text)."""
    text = {
        c: str
        for c in ("order_id", "event", "kind", "action", "tif", "legs", "trigger_on", "reason")
    }
    frame = pd.read_csv(
        path,
        dtype=text,
        keep_default_na=False,
        na_values={c: [""] for c in ("limit", "above", "below", "net_price")},
    )
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    frame["ts"] = pd.to_datetime(frame["ts"])
    return frame


def read_entries(path: Path) -> pd.DataFrame:
    """``entries.csv`` (:mod:`workbench.engine.entries`) back as written."""
    frame = pd.read_csv(path, dtype={"vix_series": str, "trade_ids": str, "leg_thetas": str})
    frame["vix_series"] = frame["vix_series"].astype(object).where(frame["vix_series"].notna(), "")
    frame["trade_ids"] = frame["trade_ids"].astype(str)
    for col in ("day", "ts"):
        frame[col] = pd.to_datetime(frame[col])
    return frame


def read_excursions(path: Path) -> pd.DataFrame:
    """``excursions.csv`` back as written (dates, timestamps, ``trade_ids`` as text)."""
    frame = pd.read_csv(path, dtype={"trade_ids": str}, keep_default_na=True)
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    for name in ("entry_ts", "exit_ts", "mae_ts", "mfe_ts"):
        frame[name] = pd.to_datetime(frame[name])
    return frame


def _clean_json(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean_json(v) for v in value]
    return value


def _write_json(path: Path, data: dict[str, Any]) -> None:
    with open(path, "w") as fh:
        json.dump(_clean_json(data), fh, indent=2, sort_keys=True, default=str)
        fh.write("\n")
