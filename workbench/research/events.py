"""Event presets (seed 002, section 4): named market windows to compare templates across.

A preset is a TOML file in ``templates/events/`` named after its slug::

    slug = "covid-crash-2020"
    display_name = "COVID-19 crash (SPX peak to trough)"
    symbol = "SPX"
    window_start = 2020-02-19          # inclusive
    window_end = 2020-03-23            # inclusive
    anchor_date = 2020-03-16           # optional focal date inside the window
    event_type = "selloff"             # selloff | recovery | stress_test
    tags = ["macro", "vol-spike"]
    description = "Why this window matters."
    lookback_days = 5                  # trading sessions of warm-up before window_start
    recovery_days = 10                 # trading sessions of tail after window_end
    default_template_slugs = ["protective-put", "collar"]
    normalize_start_value = true       # paths start at 1.0 (else money from 0)

Dates are manual windows (no automatic peak/trough detection, as the seed decides).
:func:`materialize` turns a preset into the run's inclusive ``(start, end)`` on the symbol's
exchange calendar; :func:`compare` runs each template over exactly that range and returns
normalised daily paths and a ranked summary. The engine is given ``start`` and ``end`` only:
a strategy never sees the event's endpoints, and nothing after the run's end is read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from workbench.analytics.collateral import (
    COLLATERAL_RANKING,
    SUMMARY_KEYS,
    Portfolio,
    rank_hedges,
)
from workbench.data.atomic import replace_folder
from workbench.engine.spec import RunSpec
from workbench.engine.usercode import Portable
from workbench.model.names import check_name
from workbench.research.files import load_toml_model, validation_problems
from workbench.research.strategy_spec import resolve_strategy_spec
from workbench.research.sweep import RunTask, executor_scope, run_tasks
from workbench.research.templates import TemplateRepository

DEFAULT_EVENTS_DIR = Path(__file__).resolve().parents[2] / "templates" / "events"

#: Ranking keys, in order (seed 002's "fewer margin-call days, lower max LTV, lower hedge cost,
#: higher end value" adapted to option books): completed runs first; then the shallower maximum
#: drawdown; then the better worst day; then the lower fees; then the higher total PnL; then the
#: template name. Money is compared to the cent; a missing value ranks last on its key.
RANKING: tuple[str, ...] = (
    "failed",
    "no_fills",
    "max_drawdown",
    "worst_day",
    "fees",
    "total_pnl",
    "template",
)

SUMMARY_COLUMNS: tuple[str, ...] = (
    "rank",
    "template",
    "total_pnl",
    "end_value",
    "max_drawdown",
    "max_drawdown_pct",
    "worst_day",
    "worst_day_date",
    "fees",
    "sharpe",
    "trades",
    "fills",
    "days",
    "days_skipped",
    "days_failed",
    "run_id",
    "error",
    "flag",
)


#: Summary columns when a portfolio is given: seed 002's metrics after the run's own.
COLLATERAL_KEYS: tuple[str, ...] = SUMMARY_KEYS
COLLATERAL_SUMMARY_COLUMNS: tuple[str, ...] = (
    "template",
    *SUMMARY_KEYS,
    *(c for c in SUMMARY_COLUMNS if c not in ("rank", "template", "end_value")),
)


class EventPresetError(ValueError):
    """An event preset file is missing or invalid; the message names the file and field."""


class EventPreset(BaseModel):
    """One event preset, validated (dates inclusive, exchange-local)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$")
    display_name: str = Field(min_length=1)
    symbol: str = Field(min_length=1, description="underlying whose calendar sets the sessions")
    window_start: date
    window_end: date
    anchor_date: date | None = None
    event_type: Literal["selloff", "recovery", "stress_test"]
    tags: tuple[str, ...] = ()
    description: str = ""
    lookback_days: int = Field(default=0, ge=0, description="trading sessions before the window")
    recovery_days: int = Field(default=0, ge=0, description="trading sessions after the window")
    default_template_slugs: tuple[str, ...] = ()
    normalize_start_value: bool = True
    path: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _dates_in_order(self) -> EventPreset:
        if self.window_end < self.window_start:
            raise ValueError(
                f"window_end {self.window_end} is before window_start {self.window_start}"
            )
        if self.anchor_date is not None and not (
            self.window_start <= self.anchor_date <= self.window_end
        ):
            raise ValueError(
                f"anchor_date {self.anchor_date} is outside the window "
                f"{self.window_start}..{self.window_end}"
            )
        return self


def load_event_file(path: str | Path) -> EventPreset:
    """Parse and validate one preset file; errors name the file and the field."""
    path = Path(path)
    preset, _ = load_toml_model(path, EventPreset, EventPresetError, "event preset")
    if path.stem != preset.slug:
        raise EventPresetError(f"{path}: slug: file name must be the slug ({preset.slug}.toml)")
    return preset.model_copy(update={"path": path})


class EventRepository:
    """The event presets in a folder (default: the repository's ``templates/events``)."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else DEFAULT_EVENTS_DIR
        if not self.root.is_dir():
            raise EventPresetError(f"event presets folder {self.root} does not exist")

    def __iter__(self) -> Iterator[EventPreset]:
        return iter(self.list())

    def list(self) -> list[EventPreset]:
        """Every preset, sorted by slug (an invalid file raises)."""
        return [load_event_file(p) for p in sorted(self.root.glob("*.toml"))]

    def get(self, slug: str) -> EventPreset:
        try:
            check_name(slug, "event preset")
        except ValueError as exc:
            raise EventPresetError(str(exc)) from None
        path = self.root / f"{slug}.toml"
        if not path.is_file():
            known = ", ".join(sorted(p.stem for p in self.root.glob("*.toml"))) or "none"
            raise EventPresetError(f"unknown event preset {slug!r} (no {path}); known: {known}")
        return load_event_file(path)


def materialize(preset: EventPreset) -> tuple[date, date]:
    """The run's inclusive ``(start, end)`` on ``preset.symbol``'s exchange calendar.

    ``start`` is the first session on or after ``window_start`` moved back ``lookback_days``
    sessions; ``end`` is the last session on or before ``window_end`` moved forward
    ``recovery_days`` sessions. Raises ``ValueError`` if the window holds no session (or the
    calendar does not cover it; ``KeyError`` for a symbol the registry does not know).
    """
    from workbench.model import calendars

    sym = preset.symbol
    sessions = calendars.trading_days(sym, preset.window_start, preset.window_end)
    if not sessions:
        raise ValueError(
            f"{preset.path or preset.slug}: window {preset.window_start}..{preset.window_end} "
            f"holds no {sym} trading session"
        )
    start, end = sessions[0], sessions[-1]
    for _ in range(preset.lookback_days):
        start = calendars.previous_trading_day(sym, start)
    for _ in range(preset.recovery_days):
        end = calendars.next_trading_day(sym, end)
    return start, end


def drawdown_and_worst_day(pnl: Sequence[float] | np.ndarray) -> tuple[float, float, int | None]:
    """``(max drawdown, worst day, index of the worst day)`` of a daily PnL series (money).

    The drawdown is the deepest fall of cumulative PnL from its running peak, the start (0)
    counting as a peak, so it is <= 0; the worst day is the smallest daily PnL (NaN, None for an
    empty series).
    """
    values = np.asarray(pnl, dtype=float)
    if values.size == 0:
        return float("nan"), float("nan"), None
    equity = np.concatenate([[0.0], np.cumsum(values)])
    drawdown = float(np.min(equity - np.maximum.accumulate(equity)))
    worst = int(np.argmin(values))
    return drawdown, float(values[worst]), worst


def rank_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """``summary`` sorted by :data:`RANKING` with a ``rank`` column (1 = best).

    Needs ``template, max_drawdown, worst_day, fees, total_pnl, error`` columns; a ``fills``
    column, when present, ranks runs without a single fill after those that traded (a template
    that stayed flat through the event has no drawdown, but the event did not test it). ``trades``
    counts finished round trips only, so a hedge held through the window has 0 trades and fills.
    """

    def cents(name: str, sign: float) -> tuple[np.ndarray, np.ndarray]:
        values = pd.to_numeric(summary[name], errors="coerce").to_numpy(dtype=float)
        missing = ~np.isfinite(values)
        return missing, np.where(missing, 0.0, np.round(values * sign, 2))

    dd_missing, dd = cents("max_drawdown", -1.0)  # smaller magnitude first
    wd_missing, wd = cents("worst_day", -1.0)  # larger (less negative) first
    fee_missing, fees = cents("fees", 1.0)  # lower first
    pnl_missing, pnl = cents("total_pnl", -1.0)  # higher first
    keys = pd.DataFrame(
        {
            "failed": summary["error"].notna().to_numpy(),
            "no_fills": (
                pd.to_numeric(summary["fills"], errors="coerce").fillna(0).to_numpy() == 0
                if "fills" in summary.columns
                else np.zeros(len(summary), dtype=bool)
            ),
            "dd_missing": dd_missing,
            "dd": dd,
            "wd_missing": wd_missing,
            "wd": wd,
            "fee_missing": fee_missing,
            "fees": fees,
            "pnl_missing": pnl_missing,
            "pnl": pnl,
            "template": summary["template"].astype(str).to_numpy(),
        },
        index=summary.index,
    )
    order = keys.sort_values(list(keys.columns), kind="stable").index
    ranked = summary.loc[order].reset_index(drop=True)
    ranked.insert(0, "rank", np.arange(1, len(ranked) + 1))
    return ranked


@dataclass
class EventComparison:
    """Templates compared over one event.

    ``paths``: index ``date`` (the session before ``start`` as the baseline, then every run
    day), one column per template: the value normalised to 1.0 at the baseline, ``1 + cumulative
    PnL / capital``, or with ``normalize_start_value = false`` the cumulative PnL in money from 0.
    ``summary``: one row per template ranked by :data:`RANKING` (:data:`SUMMARY_COLUMNS`; money
    in the dataset's currency, ``max_drawdown_pct`` a fraction of ``capital``). With a
    ``portfolio``: ranked by seed 002's collateral order instead, with its metrics
    (:data:`COLLATERAL_SUMMARY_COLUMNS`), and ``collateral`` holds each template's day-by-day
    value, loan and LTV path.
    """

    preset: EventPreset
    start: date
    end: date
    capital: float | None
    paths: pd.DataFrame
    summary: pd.DataFrame
    portfolio: Portfolio | None = None
    #: template -> :func:`~workbench.analytics.collateral.collateral_path` (with a portfolio)
    collateral: dict[str, pd.DataFrame] = dataclass_field(default_factory=dict)
    #: one line per template that failed, never traded or whose ladder collapsed
    warnings: list[str] = dataclass_field(default_factory=list)
    #: template -> its run's tradebook (pandas; empty when it never traded)
    tradebooks: dict[str, pd.DataFrame] = dataclass_field(default_factory=dict)
    #: template -> its daily path without a portfolio (``date``, ``pnl``, ``fills``)
    daily: dict[str, pd.DataFrame] = dataclass_field(default_factory=dict)
    #: template -> ``{"name", "version", "sha256", ...}`` (``None`` for a class of one's own)
    templates: dict[str, Any] = dataclass_field(default_factory=dict)
    #: the synthetic provider's configuration when the dataset is a synthetic history
    provider: dict[str, Any] | None = None
    dataset: dict[str, Any] = dataclass_field(default_factory=dict)

    def save(self, out: str | Path) -> Path:
        """Write the comparison into ``out`` atomically (a temporary folder renamed into place):

        * ``ranking.csv`` (and ``summary.csv``, the same table): the ranked summary with its
          ``flag`` column; ``summary.json``: the preset, range, portfolio, provider, ranking
          order, warnings and the summary as JSON records; ``event.json``: the preset and range;
        * ``paths.csv``: the normalised paths; with a portfolio ``collateral.csv`` (every
          template's day-by-day collateral path, long) and ``collateral.png``;
        * ``templates/<template>/``: ``tradebook.csv`` (every fill), ``daily.csv`` (the
          collateral path: hedged and unhedged value, loan with its financing, LTVs, margin-call
          flags, the end liquidation; without a portfolio the daily PnL) and ``template.json``
          (name, version and sha256 of the template, its flag);
        * ``report.html``: the self-contained comparison report; ``event.html``: the page on
          the report layout (:mod:`workbench.research.event_page`). A folder under a reports
          day is listed in that day's index.
        """
        from workbench.research.event_page import write_event_page
        from workbench.research.index import refresh_day_index

        out = Path(out)
        with replace_folder(
            out, ("event.json", "summary.csv"), "an event comparison folder"
        ) as tmp:
            self.paths.to_csv(tmp / "paths.csv", lineterminator="\n")
            self.summary.to_csv(tmp / "summary.csv", index=False, lineterminator="\n")
            self.summary.to_csv(tmp / "ranking.csv", index=False, lineterminator="\n")
            if self.collateral:
                long = pd.concat(
                    [p.assign(template=name) for name, p in self.collateral.items()],
                    ignore_index=True,
                )
                long = long[["template", *[c for c in long.columns if c != "template"]]]
                long.to_csv(tmp / "collateral.csv", index=False, lineterminator="\n")
                if self.portfolio is not None:
                    from workbench.analytics.charts import figure_png
                    from workbench.analytics.collateral import collateral_chart

                    chart = collateral_chart(self.collateral, self.portfolio)
                    (tmp / "collateral.png").write_bytes(figure_png(chart))
            for row in self.summary.to_dict(orient="records"):
                label = str(row["template"])
                folder = tmp / "templates" / check_name(label, "template")
                folder.mkdir(parents=True)
                book = self.tradebooks.get(label)
                (book if book is not None else pd.DataFrame()).to_csv(
                    folder / "tradebook.csv", index=False, lineterminator="\n"
                )
                path = self.collateral.get(label, self.daily.get(label))
                (path if path is not None else pd.DataFrame()).to_csv(
                    folder / "daily.csv", index=False, lineterminator="\n"
                )
                meta = {
                    "template": self.templates.get(label),
                    "label": label,
                    "rank": row["rank"],
                    "flag": row.get("flag") or None,
                    "run_id": row.get("run_id"),
                }
                (folder / "template.json").write_text(json.dumps(meta, indent=2) + "\n")
            ranking = (
                [*(key for key, _ in COLLATERAL_RANKING), "template"]
                if self.portfolio is not None
                else list(RANKING)
            )
            document = {
                "preset": self.preset.model_dump(mode="json"),
                "start": self.start.isoformat(),
                "end": self.end.isoformat(),
                "capital": self.capital,
                "portfolio": None if self.portfolio is None else self.portfolio.model_dump(),
                "ranking": ranking,
            }
            (tmp / "event.json").write_text(json.dumps(document, indent=2) + "\n")
            summary = {
                **document,
                "flagged_last": True,
                "warnings": self.warnings,
                "dataset": self.dataset,
                "provider": self.provider,
                "templates": self.templates,
                "summary": comparison_metrics(self)["summary"],
            }
            (tmp / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
            from workbench.research.event_report import render_event_report

            (tmp / "report.html").write_text(render_event_report(self), encoding="utf-8")
            write_event_page(self, tmp)
        refresh_day_index(out)
        return out


def dataset_underlying(data: str | Path, symbol: str) -> str:
    """The dataset's underlying an event on ``symbol`` trades: ``symbol`` itself, or the one
    option root whose spot it is (SPXW for SPX); ``ValueError`` naming both otherwise."""
    from workbench.data.catalog import Catalog
    from workbench.model.instruments import get_instrument

    names = list(Catalog.load(data).underlyings)
    if symbol in names:
        return symbol
    matches = []
    for name in names:
        try:
            spot = get_instrument(name).spot_underlying
        except KeyError:
            continue
        if spot == symbol:
            matches.append(name)
    if len(matches) == 1:
        return matches[0]
    raise ValueError(
        f"{data}: the event is on {symbol} but the dataset has underlyings {names}"
        + (" (several match: set underlying in the overrides)" if matches else "")
    )


def compare(
    preset: EventPreset | str,
    templates: Sequence[Any] | None = None,
    spec: RunSpec | None = None,
    *,
    data: str | Path | None = None,
    capital: float | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    fill: Any = None,
    fees: Any = None,
    margin: Any = None,
    rate: float | None = None,
    executor: Any = None,
    workers: int | None = None,
    progress: bool = True,
    events: EventRepository | None = None,
    repository: TemplateRepository | None = None,
    templates_dir: str | Path | None = None,
    portfolio: Portfolio | Mapping[str, Any] | None = None,
) -> EventComparison:
    """Run each template over ``materialize(preset)`` and compare them.

    Parameters
    ----------
    preset
        An :class:`EventPreset` or a slug from ``events`` (default repository).
    templates
        Template names or objects, or strategies of one's own (``module:Class``,
        ``path/to/file.py:Class``, a class); each is labelled by its template name or class
        name (default: the preset's ``default_template_slugs``).
    spec
        A :class:`~workbench.engine.spec.RunSpec` (its dates are the preset's); the keyword
        arguments given override it.
    templates_dir
        Folder of templates of one's own (or give ``repository``).
    data
        Dataset folder holding the preset's symbol (or an option root whose spot it is).
    capital
        Money (dataset currency) the paths are normalised by; required when the preset's
        ``normalize_start_value`` is true.
    overrides
        Per-template parameter overrides, ``{template name: {param: value}}``.
    fill, fees, margin, rate, executor, workers, progress
        As :func:`workbench.research.sweep.sweep` (one run per template through the executor).
    portfolio
        A :class:`~workbench.analytics.collateral.Portfolio` (or its fields as a mapping): the
        holding and loan the hedges protect. Each template's collateral path is kept
        (``EventComparison.collateral``), the summary gains seed 002's metrics
        (:data:`~workbench.analytics.collateral.SUMMARY_KEYS`) and is ranked by
        :data:`~workbench.analytics.collateral.COLLATERAL_RANKING` (fewer hedged margin-call
        days, lower hedged max LTV, lower hedge cost, higher end value) instead of
        :data:`RANKING`. Hedges that size by ``cover_units`` (the protective put family) are
        sized to the portfolio's units rather than their template's ``qty``, unless
        ``overrides`` set ``qty`` or ``cover_units`` for them.
    """
    if isinstance(preset, str):
        preset = (events or EventRepository()).get(preset)
    names = list(templates) if templates is not None else list(preset.default_template_slugs)
    if not names:
        raise ValueError(f"{preset.slug}: no templates given and the preset names none")
    folder = repository if repository is not None else templates_dir
    chosen = [resolve_strategy_spec(t, templates=folder) for t in names]
    labels = [c.slug for c in chosen]
    if len(set(labels)) != len(labels):
        raise ValueError(f"templates must be distinct, got {labels}")
    unknown = set(overrides or {}) - set(labels)
    if unknown:
        raise ValueError(f"overrides name templates not compared: {sorted(unknown)}")
    if capital is None and spec is not None:
        capital = spec.capital  # the spec's capital normalises the paths when none is given
    if portfolio is not None and not isinstance(portfolio, Portfolio):
        try:
            portfolio = Portfolio(**dict(portfolio))
        except ValidationError as exc:
            raise ValueError(f"portfolio: {validation_problems(exc, '(portfolio)')}") from None
    start, end = materialize(preset)
    source = data if data is not None else (spec.data if spec is not None else None)
    if capital is None and portfolio is not None and source is not None:
        capital = _holding_value(source, preset.symbol, start, portfolio)
    if preset.normalize_start_value and (capital is None or not capital > 0):
        raise ValueError(
            f"{preset.slug}: capital (> 0, in the dataset's currency) is required to normalise "
            f"the paths to 1.0 (normalize_start_value = true), got {capital!r}"
        )
    run_spec = RunSpec.build(
        spec, data=data, start=start, end=end, fill=fill, fees=fees, margin=margin,
        capital=capital, rate=rate,
    )  # fmt: skip
    capital = run_spec.capital
    underlying = dataset_underlying(run_spec.data, preset.symbol)
    tasks = []
    ladders: list[int] = []
    for label, picked in zip(labels, chosen, strict=True):
        override = dict((overrides or {}).get(label, {}))
        params = picked.resolved_params(override)
        params.setdefault("underlying", underlying)
        if portfolio is not None:
            params = _sized_to_holding(picked.cls, params, override, portfolio)
        tasks.append(
            RunTask(
                Portable(picked.cls),
                params,
                run_spec,
                keep_daily=True,
                portfolio=portfolio,
                keep_tradebook=True,
                liquidate_at_end=portfolio is not None,
            )
        )
        ladders.append(len(params.get("ladder") or ()))
    with executor_scope(executor, workers) as pool:
        records = run_tasks(tasks, pool, progress=progress, desc=preset.slug)

    from workbench.model import calendars

    baseline = calendars.previous_trading_day(preset.symbol, start)
    columns: dict[str, pd.Series] = {}
    rows = []
    for label, record, rungs in zip(labels, records, ladders, strict=True):
        daily = record.daily
        pnl = daily["pnl"].to_numpy(dtype=float) if daily is not None else np.array([])
        cumulative = pd.Series(
            np.concatenate([[0.0], np.cumsum(pnl)]),
            index=[baseline, *(daily["date"] if daily is not None else [])],
        )
        path = (
            1.0 + cumulative / float(capital or 1.0) if preset.normalize_start_value else cumulative
        )
        if daily is not None:
            columns[label] = path
        drawdown, worst, worst_i = drawdown_and_worst_day(pnl)
        metrics = record.metrics
        rows.append(
            {
                "template": label,
                "total_pnl": float(pnl.sum()) if daily is not None else float("nan"),
                "end_value": float(path.iloc[-1]) if daily is not None else float("nan"),
                "max_drawdown": drawdown,
                "max_drawdown_pct": drawdown / capital if capital else float("nan"),
                "worst_day": worst,
                "worst_day_date": daily["date"].iloc[worst_i]
                if daily is not None and worst_i is not None
                else None,
                "fees": _metric(metrics, "fees"),
                "sharpe": _metric(metrics, "sharpe"),
                "trades": _metric(metrics, "trades"),
                "fills": _metric(metrics, "fills"),
                "days": _metric(metrics, "days"),
                "days_skipped": _metric(metrics, "days_skipped"),
                "days_failed": _metric(metrics, "days_failed"),
                "run_id": record.run_id,
                "error": record.error,
                "flag": _flag(record, rungs),
            }
        )
    paths = pd.DataFrame(columns) if columns else pd.DataFrame(index=[baseline])
    paths.index.name = "date"
    extras: dict[str, Any] = {
        "warnings": [_warning(row) for row in rows if row["flag"]],
        "tradebooks": {
            label: r.tradebook for label, r in zip(labels, records) if r.tradebook is not None
        },
        "daily": {label: r.daily for label, r in zip(labels, records) if r.daily is not None},
        "templates": {
            label: c.manifest_entry((overrides or {}).get(label))
            for label, c in zip(labels, chosen)
        },
        **_dataset_info(run_spec.data),
    }
    if portfolio is None:
        summary = _flagged_last(pd.DataFrame(rows), rank_summary)[list(SUMMARY_COLUMNS)]
        return EventComparison(preset, start, end, capital, paths, summary, **extras)
    collateral: dict[str, pd.DataFrame] = {}
    for label, record, row in zip(labels, records, rows, strict=True):
        found = record.collateral_summary or {}
        row.update({key: found.get(key, float("nan")) for key in COLLATERAL_KEYS})
        if record.collateral is not None:
            collateral[label] = record.collateral
    summary = _flagged_last(pd.DataFrame(rows), rank_hedges)
    summary = summary[["rank", *COLLATERAL_SUMMARY_COLUMNS]]
    return EventComparison(
        preset, start, end, capital, paths, summary, portfolio, collateral, **extras
    )


def _flag(record: Any, rungs: int) -> str:
    """Why a template's result is not a hedge to rank: ``failed``, ``no_fills`` (it never
    traded: no cost, no protection) or ``ladder_collapsed`` (a ladder of n rungs whose first
    order bought fewer: the sizing left rungs with no contract); ``""`` when none."""
    if record.error is not None:
        return "failed"
    fills = record.metrics.get("fills")
    if fills is None or not fills or fills != fills:  # None, 0 or NaN
        return "no_fills"
    book = record.tradebook
    if rungs > 1 and book is not None and not book.empty:
        opening = book[(book["action"] == "open") & (book["right"] == "P")]
        if not opening.empty:
            first = opening[opening["ts"] == opening["ts"].min()]
            bought = first["position_key"].nunique()
            if bought < rungs:
                return f"ladder_collapsed ({bought} of {rungs} rungs)"
    return ""


def _warning(row: Mapping[str, Any]) -> str:
    flag = str(row["flag"])
    what = {
        "failed": f"failed ({row['error']})",
        "no_fills": "never traded (0 fills): no hedge was bought, it is not a zero-cost hedge",
    }.get(flag, f"{flag}: it bought fewer rungs than it declares, so it is not that ladder")
    return f"{row['template']}: {what}; ranked after every template without a flag"


def _flagged_last(rows: pd.DataFrame, ranker: Any) -> pd.DataFrame:
    """``ranker``'s order among the templates without a flag, then the flagged ones (in
    ``ranker``'s order among themselves); ``rank`` renumbered 1..n."""
    flagged = rows["flag"].astype(bool)
    parts = [ranker(rows[~flagged]), ranker(rows[flagged])] if flagged.any() else [ranker(rows)]
    ranked = pd.concat([p for p in parts if not p.empty], ignore_index=True)
    ranked["rank"] = np.arange(1, len(ranked) + 1)
    return ranked


def _holding_value(
    data: str | Path, symbol: str, start: date, portfolio: Portfolio
) -> float | None:
    """The portfolio's value at the first day's close (the capital its paths start from)."""
    from workbench.data.store import MarketStore

    try:
        store = MarketStore(data)
    except Exception:  # the run reports a bad dataset with its own message
        return None
    try:
        closes = store.daily_closes(symbol, start, start)
    except Exception:
        return None
    finally:
        store.close()
    if start not in closes:
        return None
    spot = portfolio.entry_spot or closes[start]
    return portfolio.underlying_units * spot + portfolio.cash_balance


def _dataset_info(data: Any) -> dict[str, Any]:
    """The dataset's name, version and source, and the synthetic provider's configuration."""
    from workbench.data.catalog import Catalog
    from workbench.data.historical import provider_snapshot

    try:
        catalog = Catalog.load(data)
    except Exception:
        return {"dataset": {"path": str(data)}, "provider": None}
    return {
        "dataset": {
            "path": str(data),
            "name": catalog.name,
            "content_version": catalog.content_version,
            "source": catalog.source,
        },
        "provider": provider_snapshot(catalog.source),
    }


def _sized_to_holding(
    strategy: type, params: dict[str, Any], override: Mapping[str, Any], portfolio: Portfolio
) -> dict[str, Any]:
    """A hedge whose strategy sizes by ``cover_units`` (the protective put, collar and ladder)
    covers the portfolio's units instead of its template's fixed ``qty``, unless the overrides
    set either; other strategies keep their parameters."""
    fields = strategy.Config.model_fields  # type: ignore[attr-defined]
    if "cover_units" not in fields:
        return params
    if "qty" in override:
        return params
    sized = {k: v for k, v in params.items() if k != "qty"}
    sized.setdefault("cover_units", portfolio.underlying_units)
    return sized


def _metric(metrics: Mapping[str, Any], name: str) -> float:
    value = metrics.get(name)
    return float("nan") if value is None else float(value)


def comparison_metrics(result: EventComparison) -> dict[str, Any]:
    """What the run repository keeps of a comparison: the preset, the range, the ranked
    summary (one JSON object per template) and how many templates failed or never traded."""
    from workbench.analytics.analysis import jsonable

    summary = jsonable(result.summary.to_dict(orient="records"))
    fills = pd.to_numeric(result.summary["fills"], errors="coerce")
    return {
        "preset": result.preset.slug,
        "start": result.start.isoformat(),
        "end": result.end.isoformat(),
        "capital": result.capital,
        "templates": len(result.summary),
        "failed": int(result.summary["error"].notna().sum()),
        "no_fills": int((fills.fillna(0) == 0).sum()),
        "flagged": int(result.summary["flag"].astype(bool).sum())
        if "flag" in result.summary.columns
        else 0,
        "warnings": list(result.warnings),
        "winner": None if result.summary.empty else str(result.summary["template"].iloc[0]),
        "summary": summary,
    }
