"""``workbench walkforward WF.toml``: walk-forward optimisation of a template over a grid."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from workbench.cli.out_folder import check_out_folder
from workbench.cli.run import add_constraint_flags, constraints_arg
from workbench.research.grid import check_run_inputs
from workbench.research.walkforward import (
    WalkForwardResult,
    load_walkforward_spec,
    run_walkforward_spec,
    window_recorder,
)


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "walkforward",
        help="train/validate/test a template's parameter grid over rolling windows",
    )
    parser.add_argument(
        "spec", help="walk-forward file (TOML: template or strategy, data, grid, windows)"
    )
    parser.add_argument(
        "--out",
        default=None,
        help="write walk_forward.json, the CSVs and the walk_forward.html page into DIR",
    )
    parser.add_argument(
        "--reports",
        default=None,
        metavar="DIR",
        help="reports folder: its run repository records the walk-forward and its windows "
        "(default: $WORKBENCH_REPORTS or the repository's reports/); given without --out, the "
        "walk-forward is written into DIR/<today>/walkforward-<file name>/ and listed in that "
        "day's index",
    )
    parser.add_argument(
        "--vix",
        default=None,
        metavar="DATASET",
        help="a dataset with a daily VIX-like series: the page adds the out-of-sample days by "
        "volatility regime (overrides the file's vix; default: one in the data, if any)",
    )
    parser.add_argument(
        "--templates",
        default=None,
        metavar="DIR",
        help="templates folder of one's own (default: the file's templates key, else "
        "templates/strategies)",
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="parallel backtests (default: cores)"
    )
    parser.add_argument(
        "--dask", default=None, metavar="ADDRESS", help="run on a Dask distributed scheduler"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_constraint_flags(
        parser, over="the file's [constraints] table, itself over the template's own"
    )
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    if args.reports and not args.out:
        from workbench.research.files import day_report_folder

        args.out = str(day_report_folder(args.reports, "walkforward", Path(args.spec).stem))
    if args.out:
        check_out_folder(args.out, ("walk_forward.json",), "a walk-forward folder")
    spec = load_walkforward_spec(args.spec).with_constraints(constraints_arg(args))
    check_run_inputs(
        str(args.spec), data=spec.data, fill=spec.fill, fees=spec.fees, margin=spec.margin
    )
    client = None
    executor = None
    if args.dask:
        from dask.distributed import Client

        client = Client(args.dask)
        executor = client.get_executor()
    from workbench.research.repository import RunRecorder

    out = Path(args.out).resolve() if args.out else None
    try:
        with RunRecorder.open(
            args.reports,
            "walkforward",
            origin="cli",
            template=spec.template,
            strategy=spec.strategy,
            data=Path(spec.data).resolve(),
            out=out,
            request=spec.model_dump(mode="json", by_alias=True),
        ) as record:
            hook = None
            if record.id is not None and record.repository is not None:
                hook = window_recorder(
                    record.repository,
                    record.id,
                    template=spec.template,
                    strategy=spec.strategy,
                    data=Path(spec.data).resolve(),
                )
            result = run_walkforward_spec(
                spec,
                templates=args.templates,
                executor=executor,
                workers=args.workers,
                progress=not args.no_progress,
                on_window=hook,
                vix=args.vix,
            )
            folder = result.save(args.out) if args.out else None
            record.completed(metrics=result.summary(), out=out)
    finally:
        if client is not None:
            client.close()
    print(format_report(result))
    if folder is not None:
        print(f"written: {folder} (page: {folder / 'walk_forward.html'})")
    return 0 if result.windows["error"].isna().all() else 1


def _num(value: Any, digits: int = 2) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "-"
    return "-" if not math.isfinite(number) else f"{number:.{digits}f}"


def format_report(result: WalkForwardResult) -> str:
    """The per-window table, the out-of-sample summary, stability and alpha decay as text."""
    objective = result.config["objective"]
    lines = [
        f"{'win':>3}  {'test period':<23}  {'train':>8}  {'valid':>8}  {'test':>8}  "
        f"{'trades':>6}  {'test pnl':>11}  params"
    ]
    for row in result.windows.to_dict(orient="records"):
        params = row["params"]
        shown = ", ".join(f"{k}={v}" for k, v in params.items()) if params else row["error"]
        lines.append(
            f"{row['window']:>3}  {row['test_start']!s:<10} .. {row['test_end']!s:<10}  "
            f"{_num(row[f'train_{objective}']):>8}  {_num(row[f'validate_{objective}']):>8}  "
            f"{_num(row[f'test_{objective}']):>8}  {_num(row['test_trades'], 0):>6}  "
            f"{_num(row['test_pnl']):>11}  {shown}"
        )
    summary = result.summary()
    lines.append(
        f"objective {objective}; out of sample: {summary['oos_days']} days, "
        f"PnL {_num(summary['oos_total_pnl'])}, Sharpe {_num(summary['oos_sharpe'])}, "
        f"mean test Sharpe {_num(summary['mean_test_sharpe'])}"
    )
    stab = result.stability
    lines.append(
        f"parameter stability: choice changed {stab['changes']} of "
        f"{max(stab['windows'] - 1, 0)} times"
    )
    for name, entry in stab["parameters"].items():
        counts = ", ".join(f"{k}: {v}" for k, v in entry["counts"].items())
        lines.append(f"  {name}: {counts}")
    decay = result.decay
    half = (
        f"half-life {decay.half_life:.1f} windows"
        if decay.half_life is not None
        else "no half-life"
    )
    lines.append(
        f"alpha decay: slope {_num(decay.slope, 3)} Sharpe/window, intercept "
        f"{_num(decay.intercept)}, R^2 {_num(decay.r_squared)}, p {_num(decay.p_value, 3)}, {half}"
    )
    return "\n".join(lines)
