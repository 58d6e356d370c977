"""``workbench data verify DIR``: check every file of a dataset against its catalog.

Reads every data and rejects file once (a progress bar over the bytes) and compares its sha256,
size and Parquet row count with the catalog's record; also reports files the catalog does not
list and a catalog whose content version does not follow from its file list. Exit status 0 when
everything matches; 1 naming each bad file (or when the catalog records no checksums: run
``workbench data repair --rehash DIR``); 2 when there is no valid catalog.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from workbench.data.verify import verify_dataset


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "verify",
        help="check every file of a dataset against its catalog (sha256, size, rows)",
        description="Check every data and rejects file of the dataset in DIR against the "
        "checksums, sizes and row counts its catalog records. Exit 1 naming each bad file.",
    )
    parser.add_argument("dir", metavar="DIR", help="dataset folder (holding catalog.json)")
    parser.add_argument(
        "--quick", action="store_true", help="sizes and Parquet footers only, no hashing"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    report = verify_dataset(args.dir, quick=args.quick, progress=not args.no_progress)
    print(report.format_text())
    for problem in report.problems:
        print(f"workbench data verify: {problem.path}: {problem.problem}", file=sys.stderr)
    return 0 if report.ok else 1
