"""Walk-forward optimisation (seed 003, section 7): train, validate, test, roll forward.

For each window:

1. **train**: sweep the whole grid over the train period;
2. **validate**: the ``top_n`` combinations by the objective on train run over the validate
   period; the best there is chosen (ties: the better train rank);
3. **test**: the chosen combination runs over the test period: its daily PnL is the
   out-of-sample record.

The test periods' daily PnL, stitched in window order, is one out-of-sample equity path. The
choice for a window reads only runs that end before that window's test start: each backtest
sees only the days between its own start and end (the engine's contract), and train and validate
end before test begins.

Reported: per-window parameters and train/validate/test objective, Sharpe and trade counts;
parameter stability (how often the choice changes, each parameter's distribution); alpha decay
(least-squares line of test Sharpe on window index; half-life when it slopes down).

Windows are built by :func:`make_windows` from the trading days in range, in trading days or
calendar months; :func:`alpha_decay` and :func:`parameter_stability` are pure functions.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from workbench.data.atomic import replace_folder
from workbench.engine.resolve import strategy_ref
from workbench.engine.spec import RunSpec
from workbench.engine.usercode import Portable, code_identity
from workbench.research.files import load_toml_model
from workbench.research.strategy_spec import (
    ConstraintsField,
    StrategyFields,
    resolve_strategy_spec,
)
from workbench.research.sweep import (
    RunRecord,
    RunTask,
    executor_scope,
    expand_grid,
    records_frame,
    run_tasks,
)

Unit = Literal["days", "months"]

#: Objectives a walk-forward can rank by (metrics.json names); higher is better except
#: where noted in :data:`LOWER_IS_BETTER`.
OBJECTIVES: tuple[str, ...] = (
    "sharpe",
    "total_pnl",
    "avg_trade_pnl",
    "win_rate",
    "max_drawdown",
    "fees",
)
LOWER_IS_BETTER: frozenset[str] = frozenset({"fees"})

WINDOW_COLUMNS: tuple[str, ...] = (
    "window",
    "train_start",
    "train_end",
    "validate_start",
    "validate_end",
    "test_start",
    "test_end",
)


@dataclass(frozen=True)
class Window:
    """One walk-forward window; every date inclusive and a trading day of the range."""

    index: int
    train_start: date
    train_end: date
    validate_start: date
    validate_end: date
    test_start: date
    test_end: date

    def as_dict(self) -> dict[str, Any]:
        return {
            "window": self.index,
            "train_start": self.train_start,
            "train_end": self.train_end,
            "validate_start": self.validate_start,
            "validate_end": self.validate_end,
            "test_start": self.test_start,
            "test_end": self.test_end,
        }


def make_windows(
    days: Sequence[date],
    *,
    train: int,
    validate: int,
    test: int,
    step: int | None = None,
    unit: Unit = "days",
) -> list[Window]:
    """Walk-forward windows over the trading days ``days`` (sorted, distinct).

    With ``unit="days"`` the lengths count trading days of ``days``: window ``k`` trains on
    days ``[k*step, k*step+train)``, validates on the next ``validate`` days and tests on the
    next ``test``. With ``unit="months"`` the lengths count calendar months that have days in
    ``days`` (a partial first or last month counts as a month: choose the range to suit).
    Only complete windows are returned. ``step`` (default ``test``) must be >= ``test`` so
    that test periods never overlap and no day is counted twice out of sample.

    Raises ``ValueError`` naming the parameter at fault.
    """
    for name, value in (("train", train), ("validate", validate), ("test", test)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a whole number >= 1 ({unit}), got {value!r}")
    step = test if step is None else step
    if not isinstance(step, int) or step < test:
        raise ValueError(
            f"step must be a whole number >= test ({test}) so test periods do not overlap, "
            f"got {step!r}"
        )
    if unit not in ("days", "months"):
        raise ValueError(f"unit must be 'days' or 'months', got {unit!r}")
    ordered = list(days)
    if any(b <= a for a, b in itertools.pairwise(ordered)):
        raise ValueError("days must be sorted ascending without repeats")
    if unit == "days":
        buckets = [[d] for d in ordered]
    else:
        by_month: dict[tuple[int, int], list[date]] = {}
        for d in ordered:
            by_month.setdefault((d.year, d.month), []).append(d)
        buckets = list(by_month.values())
    span = train + validate + test
    windows: list[Window] = []
    first = 0
    while first + span <= len(buckets):
        tr = buckets[first : first + train]
        va = buckets[first + train : first + train + validate]
        te = buckets[first + train + validate : first + span]
        windows.append(
            Window(
                index=len(windows),
                train_start=tr[0][0],
                train_end=tr[-1][-1],
                validate_start=va[0][0],
                validate_end=va[-1][-1],
                test_start=te[0][0],
                test_end=te[-1][-1],
            )
        )
        first += step
    return windows


@dataclass(frozen=True)
class AlphaDecay:
    """Least-squares line ``test Sharpe = intercept + slope * window index``.

    ``half_life`` (in windows, counted from window 0) is where the fitted Sharpe falls to half
    its window-0 value, ``-intercept / (2 * slope)``; defined only when the slope is negative and
    the fitted window-0 Sharpe positive. ``n`` = windows with a finite Sharpe (the fit needs 2;
    fewer gives NaN). ``p_value`` tests slope = 0 (two-sided; NaN with fewer than 3 points).
    """

    slope: float
    intercept: float
    r_squared: float
    p_value: float
    n: int
    half_life: float | None

    @property
    def decaying(self) -> bool:
        return bool(np.isfinite(self.slope) and self.slope < 0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "slope": _json_float(self.slope),
            "intercept": _json_float(self.intercept),
            "r_squared": _json_float(self.r_squared),
            "p_value": _json_float(self.p_value),
            "n": self.n,
            "half_life_windows": _json_float(self.half_life),
            "decaying": self.decaying,
        }


def alpha_decay(test_sharpe: Sequence[float | None]) -> AlphaDecay:
    """Fit test Sharpe against window index (0, 1, ...); NaN/None Sharpes are left out."""
    from scipy import stats

    y = np.array([np.nan if v is None else float(v) for v in test_sharpe], dtype=float)
    x = np.arange(len(y), dtype=float)
    keep = np.isfinite(y)
    x, y = x[keep], y[keep]
    n = len(y)
    if n < 2 or np.ptp(x) == 0:
        nan = float("nan")
        return AlphaDecay(nan, nan, nan, nan, n, None)
    if np.ptp(y) == 0:
        return AlphaDecay(0.0, float(y[0]), float("nan"), float("nan"), n, None)
    fit = stats.linregress(x, y)
    slope, intercept = float(fit.slope), float(fit.intercept)
    p_value = float(fit.pvalue) if n >= 3 else float("nan")
    half_life = -intercept / (2.0 * slope) if slope < 0 and intercept > 0 else None
    return AlphaDecay(slope, intercept, float(fit.rvalue) ** 2, p_value, n, half_life)


def parameter_stability(chosen: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """How stable the chosen parameters are across windows (in window order).

    Returns ``{"windows", "changes" (windows whose choice differs from the previous window's),
    "change_rate" (changes / (windows - 1), NaN with one window), "parameters": {name:
    {"changes", "distinct", "mode", "counts" {value: windows}, and for numbers "mean", "std"
    (ddof 0), "min", "max"}}}``. Values are compared as given (``0.25 == 0.25``).
    """
    chosen = [dict(c) for c in chosen]
    n = len(chosen)
    changes = sum(1 for a, b in itertools.pairwise(chosen) if a != b)
    names: list[str] = []
    for c in chosen:
        names.extend(k for k in c if k not in names)
    per_param: dict[str, Any] = {}
    for name in names:
        values = [c.get(name) for c in chosen]
        counts: dict[str, int] = {}
        for v in values:
            counts[_label(v)] = counts.get(_label(v), 0) + 1
        entry: dict[str, Any] = {
            "changes": sum(1 for a, b in itertools.pairwise(values) if a != b),
            "distinct": len(counts),
            # most frequent; ties go to the value chosen first
            "mode": max(counts, key=lambda k: (counts[k], -[_label(v) for v in values].index(k))),
            "counts": counts,
        }
        if values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            arr = np.array(values, dtype=float)
            entry.update(
                mean=float(arr.mean()),
                std=float(arr.std()),
                min=float(arr.min()),
                max=float(arr.max()),
            )
        per_param[name] = entry
    return {
        "windows": n,
        "changes": changes,
        "change_rate": changes / (n - 1) if n > 1 else float("nan"),
        "parameters": per_param,
    }


def _label(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def rank_by_objective(frame: pd.DataFrame, objective: str) -> pd.DataFrame:
    """Rows ordered best first by ``objective``: completed runs with a value, best first; then
    completed runs whose objective is undefined (NaN, e.g. a Sharpe without trades); then failed
    runs. Ties keep the frame's order (the grid order), so the ranking is deterministic."""
    if objective not in frame.columns:
        raise ValueError(f"objective {objective!r} is not a sweep column; use one of {OBJECTIVES}")
    score = pd.to_numeric(frame[objective], errors="coerce").astype(float)
    if objective in LOWER_IS_BETTER:
        score = -score
    failed = frame["error"].notna().to_numpy()
    undefined = ~np.isfinite(score.to_numpy())
    order = pd.DataFrame(
        {
            "failed": failed,
            "undefined": undefined,
            "neg": -np.where(undefined, 0.0, score.to_numpy()),
            "pos": np.arange(len(frame)),
        },
        index=frame.index,
    ).sort_values(["failed", "undefined", "neg", "pos"], kind="stable")
    return frame.loc[order.index]


@dataclass
class WalkForwardResult:
    """What :func:`walk_forward` found.

    ``windows``: one row per window: the window dates, ``params`` (the chosen combination, a
    dict; ``None`` when nothing on train/validate was usable), one column per grid parameter,
    ``train_<objective>``, ``validate_<objective>``, ``test_<objective>``, ``train_sharpe,
    validate_sharpe, test_sharpe``, ``train_trades, validate_trades, test_trades``,
    ``test_pnl`` (money), ``test_run_id`` and ``error``.
    ``oos_daily``: ``date, window, pnl, equity`` (money; equity = cumulative test PnL from 0).
    ``stability``: :func:`parameter_stability` of the chosen parameters.
    ``decay``: :func:`alpha_decay` of the test Sharpe.
    ``config``: the inputs (strategy, grid, windows, objective, top_n, data, models).
    ``vix``: a VIX-like daily series (:class:`~workbench.research.market_series.DailySeries`)
    for the page's out-of-sample regime table, or None.
    """

    windows: pd.DataFrame
    oos_daily: pd.DataFrame
    stability: dict[str, Any]
    decay: AlphaDecay
    config: dict[str, Any]
    vix: Any = None

    @property
    def oos_sharpe(self) -> float:
        """Sharpe of the stitched out-of-sample daily PnL (sqrt(252), ddof 1; NaN if undefined)."""
        from workbench.analytics.metrics import sharpe

        pnl = self.oos_daily["pnl"].to_numpy(dtype=float)
        if len(pnl) < 2:
            return float("nan")
        return float(sharpe(pd.Series(pnl), periods_per_year=252))

    def summary(self) -> dict[str, Any]:
        test = pd.to_numeric(self.windows["test_sharpe"], errors="coerce")
        return {
            "windows": len(self.windows),
            "oos_days": len(self.oos_daily),
            "oos_total_pnl": float(self.oos_daily["pnl"].sum()),
            "oos_sharpe": _json_float(self.oos_sharpe),
            "mean_test_sharpe": _json_float(float(test.mean())) if test.notna().any() else None,
            "failed_windows": int(self.windows["error"].notna().sum()),
        }

    def save(self, out: str | Path) -> Path:
        """Write ``walk_forward.json``, ``oos_daily.csv``, ``windows.csv`` and the report page
        ``walk_forward.html`` (:mod:`workbench.research.walkforward_report`) into ``out``
        atomically (a temporary folder renamed into place); returns ``out``. A folder under a
        day of the reports (``reports/<YYYY-MM-DD>/``) is listed in that day's index."""
        from workbench.research.walkforward_report import write_walkforward_page

        out = Path(out)
        with replace_folder(
            out, ("walk_forward.json", "windows.csv"), "a walk-forward folder"
        ) as tmp:
            table = self.windows.drop(columns=["params"])
            table.to_csv(tmp / "windows.csv", index=False, lineterminator="\n")
            self.oos_daily.round(6).to_csv(tmp / "oos_daily.csv", index=False, lineterminator="\n")
            document = {
                "config": self.config,
                "summary": self.summary(),
                "windows": [_json_row(r) for r in self.windows.to_dict(orient="records")],
                "stability": self.stability,
                "decay": self.decay.as_dict(),
            }
            text = json.dumps(_jsonable(document), indent=2, sort_keys=False, allow_nan=False)
            (tmp / "walk_forward.json").write_text(text + "\n", encoding="utf-8")
            write_walkforward_page(self, tmp)
        _refresh_day_index(out)
        return out


def _refresh_day_index(folder: Path) -> None:
    """Rewrite the index of the reports day ``folder`` sits in (a ``YYYY-MM-DD`` parent)."""
    from workbench.research.index import refresh_day_index

    refresh_day_index(folder)


def _json_float(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return _json_float(float(value))
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def _json_row(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        k: (None if not isinstance(v, (dict, list)) and pd.isna(v) else v) for k, v in row.items()
    }


def trading_days_of(data: str | Path, underlying: str | None = None) -> list[date]:
    """The dataset's days for ``underlying`` (default: its only underlying)."""
    from workbench.data.store import MarketStore

    store = MarketStore(data)
    try:
        names = list(store.catalog.underlyings)
        if underlying is None:
            if len(names) != 1:
                raise ValueError(
                    f"{data}: dataset has underlyings {names}; pass underlying= to choose one"
                )
            underlying = names[0]
        return list(store.days(underlying))
    finally:
        close = getattr(store, "close", None)
        if close is not None:
            close()


def walk_forward(
    strategy: Any,
    grid: Mapping[str, Sequence[Any]],
    spec: RunSpec | None = None,
    *,
    data: str | Path | None = None,
    windows: Sequence[Window] | None = None,
    train: int | None = None,
    validate: int | None = None,
    test: int | None = None,
    step: int | None = None,
    unit: Unit = "days",
    start: date | str | None = None,
    end: date | str | None = None,
    objective: str = "sharpe",
    top_n: int = 10,
    params: Mapping[str, Any] | None = None,
    fill: Any = None,
    fees: Any = None,
    margin: Any = None,
    capital: float | None = None,
    rate: float | None = None,
    mode: str | None = None,
    executor: Any = None,
    workers: int | None = None,
    progress: bool = True,
    templates_dir: str | Path | None = None,
    on_window: Callable[[dict[str, Any], int], None] | None = None,
    vix: Any = None,
) -> WalkForwardResult:
    """Walk ``strategy`` forward over ``grid`` (see the module docstring).

    ``strategy`` is anything :func:`workbench.research.sweep.sweep` takes (a template name,
    ``module:Class``, ``path/to/file.py:Class``, a class of a notebook's own). Give ``windows``
    (from :func:`make_windows`) or ``train``, ``validate``, ``test`` (and ``step``, ``unit``):
    windows are then built from the dataset's trading days between ``start`` and ``end``
    (inclusive; default: all). ``objective`` is a metrics.json name from :data:`OBJECTIVES`
    (higher is better, except ``fees``); ``top_n`` combinations go from train to validate.
    ``spec`` and the other arguments as :func:`workbench.research.sweep.sweep`; one executor
    serves every phase of every window. ``on_window(row, windows)`` is called as each window
    finishes with its row of :attr:`WalkForwardResult.windows` (as a dict) and the number of
    windows (the run repository's hook). ``vix`` (a dataset holding a daily VIX-like series, or
    a :class:`~workbench.research.market_series.DailySeries`; default: one in ``data``, if any)
    adds the out-of-sample days by volatility regime to the page.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    if not isinstance(top_n, int) or top_n < 1:
        raise ValueError(f"top_n must be a whole number >= 1, got {top_n!r}")
    picked = resolve_strategy_spec(strategy, templates=templates_dir)
    run_spec = RunSpec.build(
        spec, data=data, start=start, end=end, fill=fill, fees=fees, margin=margin,
        capital=capital, rate=rate, mode=mode,
    )  # fmt: skip
    run_spec = picked.run_spec(run_spec)
    data = run_spec.data
    base = picked.resolved_params(params)
    vix_series = _vix_series(vix, data, base.get("underlying"))
    combos = expand_grid(grid)
    if windows is None:
        if train is None or validate is None or test is None:
            raise ValueError("give windows= or train=, validate= and test= lengths")
        days = trading_days_of(data, base.get("underlying"))
        lo, hi = run_spec.start, run_spec.end
        days = [d for d in days if (lo is None or d >= lo) and (hi is None or d <= hi)]
        windows = make_windows(
            days, train=train, validate=validate, test=test, step=step, unit=unit
        )
    windows = list(windows)
    if not windows:
        raise ValueError(
            f"{data}: no complete walk-forward window fits the days in range "
            f"(train={train}, validate={validate}, test={test} {unit})"
        )
    code = Portable(picked.cls)

    def task(combo: Mapping[str, Any], lo: date, hi: date, keep: bool = False) -> RunTask:
        return RunTask(code, {**base, **combo}, run_spec.replace(start=lo, end=hi), keep)

    rows: list[dict[str, Any]] = []
    oos: list[pd.DataFrame] = []
    chosen: list[dict[str, Any]] = []

    def finish(row: dict[str, Any]) -> None:
        rows.append(row)
        if on_window is not None:
            on_window(dict(row), len(windows))

    with executor_scope(executor, workers) as pool:
        for w in windows:
            label = f"window {w.index + 1}/{len(windows)}"
            train_frame = records_frame(
                combos,
                run_tasks(
                    [task(c, w.train_start, w.train_end) for c in combos],
                    pool,
                    progress=progress,
                    desc=f"{label} train",
                ),
            )
            ranked = rank_by_objective(train_frame, objective)
            usable = ranked[ranked["error"].isna()]
            finalists = list(usable.index[:top_n])
            row: dict[str, Any] = {**w.as_dict(), "params": None}
            for name in combos[0]:
                row[name] = None
            if not finalists:
                row["error"] = "no usable combination on train: " + _first_error(train_frame)
                finish(_fill_missing(row, objective))
                continue
            val_frame = records_frame(
                [combos[i] for i in finalists],
                run_tasks(
                    [task(combos[i], w.validate_start, w.validate_end) for i in finalists],
                    pool,
                    progress=progress,
                    desc=f"{label} validate",
                ),
            )
            val_frame.index = pd.Index(finalists)
            val_ranked = rank_by_objective(val_frame, objective)
            if not pd.isna(val_ranked["error"].iloc[0]):
                row["error"] = "no usable combination on validate: " + _first_error(val_frame)
                finish(_fill_missing(row, objective))
                continue
            best = int(val_ranked.index[0])
            combo = combos[best]
            (test_record,) = run_tasks(
                [task(combo, w.test_start, w.test_end, keep=True)],
                pool,
                progress=False,
            )
            chosen.append(combo)
            row.update(combo)
            row["params"] = combo
            row.update(
                _phase_columns("train", train_frame.loc[best], objective)
                | _phase_columns("validate", val_frame.loc[best], objective)
                | _record_columns(test_record, objective)
            )
            finish(row)
            if test_record.daily is not None:
                part = test_record.daily[["date", "pnl"]].copy()
                part.insert(1, "window", w.index)
                oos.append(part)
    columns = [*WINDOW_COLUMNS, "params", *combos[0]]
    for phase in ("train", "validate", "test"):
        columns += [f"{phase}_{objective}", f"{phase}_sharpe", f"{phase}_trades"]
    columns += ["test_pnl", "test_run_id", "error"]
    windows_frame = pd.DataFrame(rows, columns=list(dict.fromkeys(columns)))
    if oos:
        oos_daily = pd.concat(oos, ignore_index=True)
    else:
        oos_daily = pd.DataFrame({"date": [], "window": [], "pnl": []})
    oos_daily["equity"] = oos_daily["pnl"].astype(float).cumsum()
    test_sharpe = [None if pd.isna(v) else float(v) for v in windows_frame["test_sharpe"]]
    config = {
        "strategy": strategy_ref(picked.cls),
        "template": None if picked.template is None else picked.template.ref,
        "params": dict(base),
        "grid": {k: list(v) for k, v in grid.items()},
        "objective": objective,
        "top_n": top_n,
        "unit": unit,
        "lengths": {
            "train": train,
            "validate": validate,
            "test": test,
            "step": step if step is not None or test is None else test,
        },
        "data": str(data),
        "fill": _spec(run_spec.fill),
        "fees": _spec(run_spec.fees),
        "margin": _spec(run_spec.margin),
        "capital": run_spec.capital,
        "rate": run_spec.rate,
        "vix": None if vix_series is None else vix_series.manifest_entry(),
        "code": code_identity(picked.cls),
    }
    constraints = run_spec.describe().get("constraints")
    if constraints:  # the runs' constraints (the file's, the flags', the template's)
        config["constraints"] = constraints
    return WalkForwardResult(
        windows=windows_frame,
        oos_daily=oos_daily,
        stability=parameter_stability(chosen),
        decay=alpha_decay(test_sharpe),
        config=config,
        vix=vix_series,
    )


def _vix_series(vix: Any, data: Any, underlying: Any) -> Any:
    """The walk-forward's VIX-like series: ``vix`` (a dataset or a series), else the one held by
    ``data`` when it holds one."""
    from workbench.research.market_series import DailySeries, vix_from_dataset, vix_in_dataset

    if isinstance(vix, DailySeries):
        return vix
    if vix is not None:
        return vix_from_dataset(vix)
    if data is None:
        return None
    return vix_in_dataset(data, underlying if isinstance(underlying, str) else None)


def _spec(model: Any) -> Any:
    if model is None or isinstance(model, (str, int, float)):
        return model
    return getattr(model, "spec", None) or repr(model)


def _first_error(frame: pd.DataFrame) -> str:
    errors = frame["error"].dropna()
    return str(errors.iloc[0]) if len(errors) else "objective undefined for every combination"


def _phase_columns(phase: str, row: Any, objective: str) -> dict[str, Any]:
    return {
        f"{phase}_{objective}": row[objective],  # same key as below when objective is sharpe
        f"{phase}_sharpe": row["sharpe"],
        f"{phase}_trades": row["trades"],
    }


def _record_columns(record: RunRecord, objective: str) -> dict[str, Any]:
    def metric(name: str) -> Any:
        value = record.metrics.get(name)
        return float("nan") if value is None else value

    return {
        f"test_{objective}": metric(objective),
        "test_sharpe": metric("sharpe"),
        "test_trades": metric("trades"),
        "test_pnl": metric("total_pnl"),
        "test_run_id": record.run_id,
        "error": record.error,
    }


def _fill_missing(row: dict[str, Any], objective: str) -> dict[str, Any]:
    for phase in ("train", "validate", "test"):
        for name in (objective, "sharpe", "trades"):
            row.setdefault(f"{phase}_{name}", float("nan"))
    row.setdefault("test_pnl", float("nan"))
    row.setdefault("test_run_id", None)
    return row


class WalkForwardSpecError(ValueError):
    """A walk-forward file is invalid; the message names the file and field."""


class WindowSpec(BaseModel):
    """``[windows]`` of a walk-forward file: lengths in ``unit`` (trading days or months)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    unit: Unit = "days"
    train: int = Field(ge=1)
    validate_: int = Field(ge=1, alias="validate")
    test: int = Field(ge=1)
    step: int | None = Field(default=None, ge=1)


class WalkForwardSpec(StrategyFields, ConstraintsField):
    """A validated walk-forward file (``template``, or ``strategy = "path/to/file.py:Class"``,
    and optionally ``templates = "DIR"``: :class:`StrategyFields`)::

    template = "short-straddle"
    data = "data/nifty-demo"
    start = "2024-01-01"          # optional, inclusive
    end = "2024-06-28"            # optional, inclusive
    objective = "sharpe"
    top_n = 10
    fees = "per-order:20+india"   # fill, fees, margin, capital: as `workbench run`
    vix = "data/indiavix"         # optional: a VIX-like series for the page's regime table
    series = ["data/vix"]         # optional: datasets whose series the runs read (bar.series)
    [constraints]                 # optional: portfolio constraints for every run (as a template's)
    max_open_positions = 3
    [overrides]                   # template parameters fixed for every combination
    qty = 1
    [grid]
    stop_loss_pct = [0.25, 0.5]
    [windows]
    unit = "days"                 # or "months"
    train = 40
    validate = 10
    test = 10
    step = 10                     # default: test
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    data: str
    start: date | None = None
    end: date | None = None
    objective: str = "sharpe"
    top_n: int = Field(default=10, ge=1)
    fill: str | None = None
    fees: str | None = None
    margin: str | None = None
    capital: float | None = Field(default=None, gt=0)
    vix: str | None = None
    series: list[str] = Field(default_factory=list)
    overrides: dict[str, Any] = Field(default_factory=dict)
    grid: dict[str, list[Any]]
    windows: WindowSpec

    @field_validator("objective")
    @classmethod
    def _known_objective(cls, value: str) -> str:
        if value not in OBJECTIVES:
            raise ValueError(f"must be one of {', '.join(OBJECTIVES)}")
        return value

    @field_validator("grid")
    @classmethod
    def _non_empty(cls, value: dict[str, list[Any]]) -> dict[str, list[Any]]:
        if not value:
            raise ValueError("needs at least one parameter with a list of values")
        for key, values in value.items():
            if not values:
                raise ValueError(f"{key}: empty list of values")
        return value


def load_walkforward_spec(path: str | Path) -> WalkForwardSpec:
    """Read and validate a walk-forward TOML file (errors name the file and field)."""
    spec, _ = load_toml_model(
        Path(path), WalkForwardSpec, WalkForwardSpecError, "walk-forward file"
    )
    return spec


def run_walkforward_spec(
    spec: WalkForwardSpec,
    *,
    templates: Any = None,
    executor: Any = None,
    workers: int | None = None,
    progress: bool = True,
    on_window: Callable[[dict[str, Any], int], None] | None = None,
    vix: str | Path | None = None,
) -> WalkForwardResult:
    """Run a :class:`WalkForwardSpec`: its template or strategy class (templates from
    ``templates``, a folder or a :class:`TemplateRepository`, else the file's ``templates``,
    else the repository's) with its overrides as the base; ``vix`` (a dataset) wins over the
    file's ``vix``."""
    picked = spec.strategy_spec(templates_dir=templates)
    picked.validate(spec.overrides)
    # every combination is checked before any window runs: a bad value would otherwise fail
    # in every window while the best of the others was chosen without a word
    for combination in expand_grid(spec.grid):
        picked.validate({**spec.overrides, **combination})
    return walk_forward(
        picked,
        spec.grid,
        RunSpec(data=spec.data, series=spec.series, constraints=spec.constraints)
        if spec.series or spec.constraints
        else None,
        data=spec.data,
        train=spec.windows.train,
        validate=spec.windows.validate_,
        test=spec.windows.test,
        step=spec.windows.step,
        unit=spec.windows.unit,
        start=spec.start,
        end=spec.end,
        objective=spec.objective,
        top_n=spec.top_n,
        params=spec.overrides,
        fill=spec.fill,
        fees=spec.fees,
        margin=spec.margin,
        capital=spec.capital,
        executor=executor,
        workers=workers,
        progress=progress,
        on_window=on_window,
        vix=vix if vix is not None else spec.vix,
    )


def window_recorder(
    repository: Any, parent: str, *, template: str | None, strategy: str | None, data: Any
) -> Callable[[dict[str, Any], int], None]:
    """An ``on_window`` hook recording each finished window in the run repository: kind
    ``walkforward-window`` under ``parent``, completed with the test run's figures (the
    chosen parameters, the window's dates, the train/validate/test objective) or failed with
    the window's error; the parent's progress counts the windows."""
    from workbench.research.repository import record_safely

    done = [0]

    def record(row: dict[str, Any], total: int) -> None:
        done[0] += 1
        plain = _jsonable(_json_row(row))
        request = {k: plain.get(k) for k in (*WINDOW_COLUMNS, "params")}
        # the test run's figures under the names every run has (lists show them)
        plain.setdefault("total_pnl", plain.get("test_pnl"))
        plain.setdefault("sharpe", plain.get("test_sharpe"))
        plain.setdefault("trades", plain.get("test_trades"))

        def write() -> None:
            record_id = repository.create(
                "walkforward-window",
                status="running",
                origin="walkforward",
                parent=parent,
                template=template,
                strategy=strategy,
                data=data,
                request=request,
            )
            if plain.get("error"):
                repository.fail(record_id, str(plain["error"]), metrics=plain)
            else:
                repository.complete(record_id, metrics=plain, run_id=plain.get("test_run_id"))
            repository.progress(parent, done[0], total)

        record_safely(write)

    return record
