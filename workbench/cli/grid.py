"""``workbench grid GRID.toml``: run a parameter grid of backtest notebooks into dated reports."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from workbench.cli.run import add_constraint_flags, constraints_arg
from workbench.research.grid import load_grid, run_grid


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "grid", help="run a template over a parameter grid (papermill, in parallel)"
    )
    parser.add_argument("grid", help="grid file (TOML)")
    parser.add_argument("--reports", default="reports", help="reports root (default: reports)")
    parser.add_argument(
        "--templates",
        default=None,
        metavar="DIR",
        help="templates folder of one's own (default: the file's templates key, else "
        "templates/strategies)",
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="parallel notebooks (default: cores)"
    )
    parser.add_argument(
        "--dask",
        default=None,
        metavar="ADDRESS",
        help="run on a Dask distributed scheduler instead",
    )
    parser.add_argument(
        "--vix",
        default=None,
        metavar="DATASET",
        help="a dataset with a daily VIX-like series for every run's volatility regimes "
        "(overrides the file's vix; default: one in the grid's data, if any)",
    )
    add_constraint_flags(
        parser, over="the file's [constraints] table, itself over the template's own"
    )
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    spec = load_grid(args.grid).with_constraints(constraints_arg(args))
    if args.workers is not None:
        spec = spec.model_copy(update={"workers": args.workers})
    if args.vix is not None:
        spec = spec.model_copy(update={"vix": args.vix})
    executor = None
    client = None
    if args.dask:
        from dask.distributed import Client

        client = Client(args.dask)
        executor = client.get_executor()
    try:
        result = run_grid(
            spec,
            reports_root=args.reports,
            executor=executor,
            templates_dir=args.templates,
            origin="cli",
        )
    finally:
        if client is not None:
            client.close()
    ok = len(result.runs) - len(result.failed)
    print(f"{ok} of {len(result.runs)} runs completed; index: {result.index}")
    for run in result.failed:
        print(f"  failed {run.run_id} {run.params}: {run.error}")
    for warning in result.warnings:
        print(f"workbench grid: warning: {warning}", file=sys.stderr)
    return 0 if not result.failed else 1
