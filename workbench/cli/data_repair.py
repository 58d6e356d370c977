"""``workbench data repair DIR``: recover a dataset after a killed writer.

Puts in place a new version a killed writer had completely staged, removes the staging and
spill folders killed writers left beside the dataset, and removes a dataset folder that a
killed writer was creating (day folders without a catalog), so a rerun works without a manual
``rm -rf``. ``--rehash`` then rewrites the catalog with every file's checksum as it is now (for a
catalog written before checksums were recorded, or to accept files ``data verify`` reports as
changed: it trusts them). Prints what it did; exit status 2 if DIR is not a dataset folder.
"""

from __future__ import annotations

import argparse
from typing import Any

from workbench.cli.data_ingest import add_lock_timeout, lock_timeout_arg
from workbench.data.repair import repair_dataset


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "repair",
        help="recover a dataset after a killed writer (and --rehash its checksums)",
        description="Finish or clean up what killed writers left of the dataset in DIR.",
    )
    parser.add_argument("dir", metavar="DIR", help="dataset folder")
    parser.add_argument(
        "--rehash",
        action="store_true",
        help="record every file's sha256, size and rows as they are now (trusts the files)",
    )
    add_lock_timeout(parser, waits_for="another process writes DIR")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    done = repair_dataset(
        args.dir, rehash=args.rehash, lock_timeout=lock_timeout_arg(args.lock_timeout)
    )
    print(f"repair {args.dir}")
    for line in done or ["nothing to repair"]:
        print(f"  {line}")
    return 0
