"""``workbench data ingest``: real market data files into a canonical dataset.

Examples::

    workbench data ingest --format cboe-eod $REAL/us_spx_eod_chains_2019 --out data/spx2019
    workbench data ingest --format ohlc BNF_2024.csv --underlying BANKNIFTY --out data/bnf
    workbench data ingest --format nse-chain $REAL/in_nse_option_chain_snapshots_2025-08 \
        --out data/nse

(``$REAL`` is the real-data folder, ``../shared/data/real``.)

One writer at a time: while another process writes ``--out`` the command waits (a warning
names that process) up to ``--lock-timeout`` seconds, then extends what it wrote. A killed ingest
leaves the previous dataset (or none); the next ingest cleans up after it.

Prints rows read, accepted and rejected by reason, the content version and any notes. Exit
status 0 when every file was read; 1 when some files were refused (each named with its reason
on stderr; the others were ingested); 2 for bad arguments or when every file was refused
(nothing is written then).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from workbench.data.ingest import ADAPTERS, ingest


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "ingest",
        help="ingest real market data files into a dataset",
        description="Read SRC files or folders (gzip read directly) in --format and write or "
        "extend the canonical dataset --out. Every row is written or quarantined under "
        "rejects/ with its file, line and reason.",
    )
    parser.add_argument("sources", nargs="+", metavar="SRC", help="input files or folders")
    parser.add_argument("--format", required=True, choices=sorted(ADAPTERS), help="input format")
    parser.add_argument("--out", required=True, help="dataset folder (created or extended)")
    parser.add_argument(
        "--underlying",
        default=None,
        help="underlying to store the rows under (ohlc, orats; overrides the file's own name)",
    )
    parser.add_argument("--name", default=None, help="dataset name (default: the folder name)")
    add_lock_timeout(parser)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(handler=_handle)


def add_lock_timeout(
    parser: argparse.ArgumentParser, waits_for: str = "another process writes --out"
) -> None:
    """The ``--lock-timeout`` option every dataset writer takes (read by :func:`lock_timeout_arg`)."""
    parser.add_argument(
        "--lock-timeout",
        default="600",
        help=f"seconds to wait while {waits_for} (default 600; 0: fail at once)",
    )


def lock_timeout_arg(text: str) -> float:
    """``--lock-timeout`` as seconds (a non-negative number); ``ValueError`` naming the flag."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"--lock-timeout must be a number of seconds, got {text!r}") from None
    if not value >= 0:
        raise ValueError(f"--lock-timeout must be >= 0 seconds, got {text!r}")
    return value


def _handle(args: argparse.Namespace) -> int:
    report = ingest(
        args.format,
        args.sources,
        args.out,
        underlying=args.underlying,
        name=args.name,
        progress=not args.no_progress,
        lock_timeout=lock_timeout_arg(args.lock_timeout),
    )
    print(report.format_text())
    for failed in report.failed:
        print(f"workbench data ingest: error: {failed.error}", file=sys.stderr)
    return 1 if report.failed else 0
