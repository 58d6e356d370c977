"""``workbench export RUN --format parquet|csv|json --out DIR``: a run folder's trades (one row
per position), daily path and metrics in one format (:mod:`workbench.research.export`)."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    from workbench.research.export import FORMATS

    parser: argparse.ArgumentParser = subparsers.add_parser(
        "export", help="write a run's trades, daily path and metrics as Parquet, CSV or JSON"
    )
    parser.add_argument("run", help="a run folder (written by workbench run)")
    parser.add_argument("--format", required=True, choices=FORMATS, help="file format")
    parser.add_argument("--out", required=True, help="folder to write the files into")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from workbench.research.export import export_run

    for path in export_run(args.run, args.out, args.format):
        print(f"wrote {path}")
    return 0
