"""``workbench data cache [--clear] [DIR]``: the end-of-day column cache on this machine.

Positional runs on daily data keep a month of a dataset's days as Arrow IPC files
(:mod:`workbench.data.eod_cache`). Without options: where the cache is, and per dataset its
months and size. ``--clear`` removes the cache's files (only those of dataset ``DIR`` when
given); runs rebuild what they need.
"""

from __future__ import annotations

import argparse
from typing import Any

from workbench.data.eod_cache import ENV, cache_root, cache_summary, clear_cache


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "cache",
        help="show or clear the end-of-day column cache",
        description="Show where the end-of-day column cache is and what it holds per dataset; "
        f"--clear removes it (or one dataset's part). ${ENV} moves it; {ENV}=0 turns it off.",
    )
    parser.add_argument("dir", metavar="DIR", nargs="?", help="only this dataset's part")
    parser.add_argument("--clear", action="store_true", help="remove the cache's files")
    parser.set_defaults(handler=_handle)


def _mb(n: int) -> str:
    return f"{n / 2**20:,.1f} MB"


def _handle(args: argparse.Namespace) -> int:
    root = cache_root()
    if root is None:
        print(f"the end-of-day column cache is off ({ENV}=0)")
        return 0
    if args.clear:
        files, size = clear_cache(root, args.dir)
        what = f" of {args.dir}" if args.dir else ""
        if not files:
            print(f"nothing cached{' for ' + args.dir if args.dir else ''} in {root}")
            return 0
        print(f"removed {files} file(s){what}, {_mb(size)}, from {root}")
        return 0
    rows = cache_summary(root)
    if args.dir is not None:
        from pathlib import Path

        wanted = str(Path(args.dir).resolve())
        rows = [r for r in rows if r["dataset"] == wanted]
    print(f"end-of-day column cache: {root}")
    if not rows:
        print(f"  (nothing cached for {args.dir})" if args.dir is not None else "  (empty)")
        return 0
    for r in rows:
        print(
            f"  {r['dataset'] or '(dataset not recorded)'}: {r['months']} month(s), {_mb(r['bytes'])}"
        )
    total = sum(r["bytes"] for r in rows)
    print(f"  total {_mb(total)}")
    return 0
