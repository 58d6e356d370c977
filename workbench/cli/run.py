"""``workbench run STRATEGY --data DIR --start D --end D [--set k=v ...] --out DIR``: one backtest.

``STRATEGY`` is a template name (``short-straddle``; ``--templates DIR`` for templates of one's
own), ``module:ClassName`` (``workbench.strategies.short_straddle:IntradayShortStraddle``) or
``path/to/file.py:ClassName``. The run folder always holds the tearsheet.
``workbench run --params RUN/params.toml --out DIR`` runs a saved run's resolved parameters
again (strategy or template version, every parameter, dataset, dates, models, capital, rate):
same run id, same files; flags given beside it (``--set``, ``--start``...) change those fields.
``--set key=value`` sets a parameter of the strategy's Config (values are read as JSON when they
parse -- ``0.25``, ``true``, ``[1, 2]`` -- and as text otherwise -- ``09:20``). Prints where the
run folder was written and the headline metrics.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from workbench.cli.out_folder import check_out_folder
from workbench.engine.spec import RunSpec


def parse_sets(items: list[str]) -> dict[str, Any]:
    """``["a=1", "b=x"]`` -> ``{"a": 1, "b": "x"}``; a malformed item raises naming it."""
    params: dict[str, Any] = {}
    for item in items:
        key, eq, raw = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise ValueError(f"--set {item!r}: expected key=value")
        if key in params:
            raise ValueError(f"--set {item!r}: parameter {key!r} given twice")
        try:
            params[key] = json.loads(raw)
        except json.JSONDecodeError:
            params[key] = raw
    return params


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "run", help="run one backtest and write its result folder"
    )
    parser.add_argument(
        "strategy",
        nargs="?",
        default=None,
        help="a template name (templates/strategies, or --templates DIR), module:ClassName or "
        "path/to/file.py:ClassName; --set overrides its parameters (omit with --params)",
    )
    parser.add_argument(
        "--params",
        dest="params_file",
        default=None,
        metavar="PARAMS.toml",
        help="a run's params.toml: run its resolved parameters again (flags given override)",
    )
    parser.add_argument(
        "--templates", default=None, metavar="DIR", help="templates folder of one's own"
    )
    parser.add_argument("--data", default=None, help="dataset folder (required without --params)")
    parser.add_argument(
        "--start", default=None, help="first day YYYY-MM-DD (default: dataset start)"
    )
    parser.add_argument("--end", default=None, help="last day YYYY-MM-DD (default: dataset end)")
    parser.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="strategy parameter (repeatable)",
    )
    parser.add_argument(
        "--fill", default=None, help="fill spec, e.g. orats, mid, mid/cross (entry/exit)"
    )
    parser.add_argument(
        "--fees", default=None, help="fee spec, e.g. india, per-contract:0.65,min=1"
    )
    parser.add_argument("--margin", default=None, help="margin spec for the daily margin column")
    parser.add_argument("--mode", choices=("intraday", "positional"), default=None)
    parser.add_argument(
        "--capital",
        type=float,
        default=None,
        help="the account's starting capital: base of returns, of the account and of sizing "
        "from equity (default by currency)",
    )
    add_constraint_flags(parser)
    parser.add_argument(
        "--vix",
        default=None,
        metavar="DATASET",
        help="a dataset with a daily VIX-like series (VIX or INDIAVIX, ingested with --format "
        "ohlc) for the tearsheet's volatility regimes; default: one in --data, if any",
    )
    parser.add_argument(
        "--series",
        action="append",
        default=None,
        metavar="DATASET",
        help="a dataset whose series (VIX, INDIAVIX, an index) the strategy reads inside the "
        "run with bar.series(NAME) (repeatable; recorded in the manifest); a VIX-like one also "
        "gives the tearsheet's volatility regimes",
    )
    parser.add_argument(
        "--executor",
        choices=("process", "serial"),
        default="process",
        help="run days in a local process pool (default) or serially",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument(
        "--reports",
        default=None,
        help="reports folder whose run repository records the run (and, with a template, "
        "its version); default: $WORKBENCH_REPORTS or the repository's reports/",
    )
    parser.add_argument("--out", required=True, help="run folder to write (replaced atomically)")
    parser.set_defaults(handler=_handle)


_HEADLINE = (
    "total_pnl",
    "sharpe",
    "max_drawdown",
    "win_rate",
    "trades",
    "fees",
    "days",
    "days_failed",
)


#: Headline figures printed as money (two decimals, thousands separators).
_MONEY = {"total_pnl", "max_drawdown", "fees", "avg_trade_pnl"}


def format_metric(key: str, value: Any) -> str:
    """``14,095.00`` for money, ``0.65`` for ratios, whole numbers as they are; ``-`` for none."""
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}" if key in _MONEY else f"{value:,.3f}"
    return str(value)


def _print_metrics(m: dict[str, Any]) -> None:
    for key in _HEADLINE:
        print(f"  {key:<14} {format_metric(key, m.get(key))}")


#: The files that make a folder a saved run (``BacktestResult.save``): only such a folder is
#: replaced by ``--out``.
RUN_MARKERS = ("manifest.json", "tradebook.parquet")


def add_constraint_flags(parser: argparse.ArgumentParser, over: str = "the template's own") -> None:
    """``--constraints FILE.toml`` and ``--constraint NAME=VALUE`` (read by
    :func:`constraints_arg`): ``workbench run``, ``sweep``, ``walkforward`` and ``grid``."""
    parser.add_argument(
        "--constraints",
        default=None,
        metavar="FILE.toml",
        help="portfolio constraints checked before every opening fill (a [constraints] table; "
        f"over {over}, field by field)",
    )
    parser.add_argument(
        "--constraint",
        dest="constraint_sets",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="one constraint, e.g. max_open_positions=3 or max_portfolio_heat=0.1 (repeatable; "
        "over --constraints)",
    )


def constraints_arg(args: argparse.Namespace) -> dict[str, Any] | None:
    """``--constraints FILE`` with ``--constraint NAME=VALUE`` over it, as a mapping of the
    fields given (``None`` for none); a bad file or value raises naming it."""
    from workbench.engine.constraints import as_constraints, load_constraints

    out: dict[str, Any] = {}
    if args.constraints is not None:
        loaded = load_constraints(args.constraints)
        if loaded is not None:
            out.update(loaded.model_dump(exclude_unset=True))
    try:
        given = parse_sets(args.constraint_sets)
    except ValueError as exc:
        raise ValueError(str(exc).replace("--set ", "--constraint ", 1)) from None
    out.update(given)
    if not out and args.constraints is None:
        return None
    as_constraints(out, what="--constraint")  # checked here: one line naming the field
    return out


def _handle(args: argparse.Namespace) -> int:
    from workbench.research.repository import RunRecorder, default_reports
    from workbench.research.runs import run_strategy

    check_out_folder(args.out, RUN_MARKERS, "a run folder")
    reports = args.reports if args.reports is not None else default_reports()
    params = parse_sets(args.sets)
    replay = None
    if args.params_file is not None:
        replay, params = _from_params_file(args, params)
    elif args.strategy is None:
        raise ValueError(
            "run: name a STRATEGY (a template, module:Class or file.py:Class) or --params"
        )
    elif args.data is None:
        raise ValueError("run: --data DIR is required (the dataset folder)")
    constraints = constraints_arg(args)
    if constraints is None and replay is not None:  # the file's, unless flags give others
        constraints = replay.constraints
    chosen = _check_inputs(args, params, reports, constraints)
    if replay is not None and replay.template is not None and not args.sets:
        resolved = chosen.validate(params).model_dump(mode="json")
        if resolved != replay.params:
            changed = sorted(k for k in set(resolved) | set(replay.params)
                             if resolved.get(k) != replay.params.get(k))  # fmt: skip
            raise ValueError(
                f"{replay.path}: template {args.strategy} now resolves to other parameters "
                f"than the file records ({', '.join(changed)})"
            )
    template = chosen.template.ref if chosen.template is not None else None
    request = {
        "strategy": args.strategy,
        "templates": args.templates,
        "data": args.data,
        "start": None if args.start is None else str(args.start),
        "end": None if args.end is None else str(args.end),
        "params": params,
        "params_file": args.params_file,
        "fill": _described(args.fill),
        "fees": _described(args.fees),
        "margin": _described(args.margin),
        "mode": args.mode,
        "capital": args.capital,
        "constraints": constraints,
        "vix": args.vix,
        "series": args.series,
        "out": args.out,
    }
    with RunRecorder.open(
        reports,
        "single",
        origin="cli",
        template=template,
        strategy=None if template else chosen.label,
        data=Path(args.data).expanduser().resolve(),
        out=Path(args.out).expanduser().resolve(),
        request=request,
    ) as record:
        summary = run_strategy(
            chosen,
            data=args.data,
            out=args.out,
            overrides=params,
            start=args.start,
            end=args.end,
            fill=args.fill,
            fees=args.fees,
            margin=args.margin,
            mode=args.mode,
            capital=args.capital,
            executor=args.executor,
            progress=not args.no_progress,
            templates_dir=args.templates,
            refs_dir=reports,
            vix=args.vix,
            spec=None if replay is None else RunSpec(data=args.data, rate=replay.rate),
            constraints=constraints,
            series=args.series,
        )
        _record(record, summary.manifest, summary.metrics, summary.out)
    if replay is not None and replay.run_id and not args.sets:
        new_id = summary.manifest.get("run_id")
        if new_id != replay.run_id:
            print(
                f"  note: run id {new_id} differs from {replay.run_id} in {replay.path} "
                "(the code, the dataset or a flag changed)"
            )
    print(f"wrote run {summary.manifest.get('run_id')} to {summary.out}")
    print(f"  tearsheet      {summary.tearsheet}")
    print(f"  trade log      {summary.out / 'trades.csv'}")
    _print_metrics(summary.metrics)
    failed = summary.metrics.get("days_failed") or 0
    if failed:
        print(f"  {failed} day(s) failed: tracebacks in {summary.out / 'days.csv'}")
    return 1 if failed else 0


def _described(value: Any) -> Any:
    """A model given by a params file as its description (the run request is JSON)."""
    if isinstance(value, dict):
        return {k: _described(v) for k, v in value.items()}
    describe = getattr(value, "describe", None)
    return describe() if callable(describe) else value


def _from_params_file(args: argparse.Namespace, sets: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """Fill ``args`` from a ``params.toml`` (flags given on the command line win) and return
    it with the parameters to run: a template's recorded overrides, or every parameter of a
    strategy class, each with ``--set`` on top."""
    from workbench.engine.params_file import read_params

    if args.strategy is not None:
        raise ValueError(
            f"run: give STRATEGY or --params, not both (--params {args.params_file} names its "
            "strategy)"
        )
    replay = read_params(args.params_file)
    template = replay.template
    if template is not None:
        args.strategy = f"{template['name']}@{template['version']}"
        if args.templates is None and template.get("path"):
            args.templates = str(Path(str(template["path"])).parent)
        params = {**dict(template.get("overrides") or {}), **sets}
    else:
        args.strategy = replay.strategy
        params = {**replay.params, **sets}
    args.data = args.data if args.data is not None else replay.data
    args.start = args.start if args.start is not None else replay.start
    args.end = args.end if args.end is not None else replay.end
    args.mode = args.mode if args.mode is not None else replay.mode
    args.capital = args.capital if args.capital is not None else replay.capital
    args.vix = args.vix if args.vix is not None else replay.vix
    args.series = args.series if args.series is not None else (list(replay.series) or None)
    args.fill = args.fill if args.fill is not None else replay.fill
    args.fees = args.fees if args.fees is not None else replay.fees
    args.margin = args.margin if args.margin is not None else replay.margin
    return replay, params


def _check_inputs(
    args: argparse.Namespace,
    params: dict[str, Any],
    reports: Any,
    constraints: dict[str, Any] | None = None,
) -> Any:
    """Everything the run checks before its first day, checked first (the strategy, its
    parameters, the data, the dates, the models): bad input is one error line and no run is
    recorded (as the service answers 422 and queues nothing). Returns the resolved strategy."""
    from workbench.engine.runner import plan_run
    from workbench.research.strategy_spec import resolve_strategy_spec

    chosen = resolve_strategy_spec(args.strategy, templates=args.templates, refs_dir=reports)
    chosen.validate(params)
    from workbench.engine.spec import RunSpec
    from workbench.research.runs import default_capital

    capital = args.capital
    if capital is None:  # what run_strategy will use (a missing dataset is plan_run's error)
        try:
            capital = default_capital(args.data)
        except (OSError, ValueError):
            capital = None
    spec = RunSpec(
        data=args.data,
        start=args.start,
        end=args.end,
        fill=args.fill,
        fees=args.fees,
        margin=args.margin,
        mode=args.mode,
        capital=capital,
        constraints=constraints,
        series=args.series,
    )
    plan_run(chosen.cls, chosen.run_spec(spec), params=chosen.resolved_params(params))
    if args.vix is not None:
        from workbench.research.market_series import vix_from_dataset

        vix_from_dataset(args.vix)
    return chosen


def _record(record: Any, manifest: dict[str, Any], metrics: dict[str, Any], out: Any) -> None:
    """Completed, or failed naming the failed days (the run folder is written either way)."""
    failed = int(metrics.get("days_failed") or 0)
    if failed:
        record.failed(
            f"{failed} day(s) failed (days.csv has each error)",
            manifest=manifest,
            metrics=metrics,
            out=Path(out).resolve(),
        )
    else:
        record.completed(manifest=manifest, metrics=metrics, out=Path(out).resolve())
