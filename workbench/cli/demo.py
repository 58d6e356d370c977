"""``workbench demo``: synthetic data, a small grid of backtests, a basket; prints the index path."""

from __future__ import annotations

import argparse
from typing import Any

from workbench.research.demo import DEMO_DAYS, REPO_ROOT, ensure_demo_data, run_demo


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo", help="run the demo: synthetic NIFTY data, demo grids, a basket, the day's index"
    )
    parser.add_argument("--reports", default="reports", help="reports root (default: reports)")
    parser.add_argument(
        "--days", type=int, default=DEMO_DAYS, help="days of synthetic data to create"
    )
    parser.add_argument(
        "--data-only",
        action="store_true",
        help="only create the demo dataset (data/nifty-demo) when absent",
    )
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    if args.days <= 0:
        raise ValueError(f"--days must be positive, got {args.days}")
    if args.data_only:
        print(f"dataset: {ensure_demo_data(REPO_ROOT, days=args.days)}")
        return 0
    index = run_demo(reports=args.reports, days=args.days)
    print(f"index: {index}")
    return 0
