"""``workbench data info DIR``: print a dataset's catalog in a readable way.

Shows name, content version, venue, source, timezone, bar interval, date range and trading
days, each underlying's spec summary and days, columns, row counts, the rejected rows by
reason, the input files refused whole (with their reason and row count when known), notes the
ingest recorded per input, how many files carry checksums, and what interrupted writers left
beside the dataset. ``--json`` prints ``catalog.json`` as stored (validated). A folder without a
catalog, or an invalid one, gives one line naming the path and field (exit status 2).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from workbench.data.catalog import Catalog
from workbench.data.txn import leftovers


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "info",
        help="show a dataset's catalog",
        description="Print the catalog of the dataset in DIR (name, content version, range, "
        "underlyings, columns, row counts, rejected rows by reason).",
    )
    parser.add_argument("dir", metavar="DIR", help="dataset folder (holding catalog.json)")
    parser.add_argument("--json", action="store_true", help="print the validated catalog as JSON")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    catalog = Catalog.load(args.dir)
    if args.json:
        print(json.dumps(catalog.model_dump(mode="json"), indent=2))
    else:
        print(format_catalog(catalog))
        left = leftovers(Path(args.dir))
        if left:
            names = ", ".join(p.name for p in left)
            print(
                f"\nleft by interrupted writers: {names} (not part of the dataset; removed by "
                f"its next writer or `workbench data repair {args.dir}`)"
            )
    return 0


def _n(value: int) -> str:
    return f"{value:,}"


def format_catalog(catalog: Catalog) -> str:
    """The catalog as aligned, human-readable text."""
    lines: list[str] = []

    def row(label: str, value: object) -> None:
        lines.append(f"{label:<18}{value}")

    row("dataset", catalog.name)
    row("content version", catalog.content_version)
    row("venue", catalog.venue)
    row("source", catalog.source)
    row("timezone", f"{catalog.timezone} (timestamps exchange-local, naive)")
    row("bar interval", catalog.bar_interval)
    span = "empty" if catalog.start is None else f"{catalog.start} .. {catalog.end}"
    row("date range", f"{span} ({_n(catalog.days)} trading days)")
    row("created by", catalog.created_by)
    lines.append("")
    lines.append("underlyings")
    for name, spec in catalog.underlyings.items():
        days = catalog.day_index.get(name)
        n_spot = len(days.spot) if days else 0
        n_opt = len(days.options) if days else 0
        origin = "registry" if spec.registered else "explicit spec"
        facts = [f"{spec.venue}", spec.currency, spec.timezone]
        if spec.spot:
            facts.append(f"spot {spec.spot}")
        if spec.lot_size is not None:
            facts.append(f"lot {spec.lot_size}")
        if spec.strike_step is not None:
            facts.append(f"strike step {spec.strike_step:g}")
        if spec.settlement:
            facts.append(f"{spec.settlement} {spec.settlement_time or ''}".strip())
        lines.append(f"  {name:<12}{', '.join(facts)} [{origin}]")
        lines.append(f"  {'':<12}days: spot {_n(n_spot)}, options {_n(n_opt)}")
    lines.append("")
    lines.append("columns")
    for kind, cols in catalog.columns.items():
        lines.append(f"  {kind:<12}" + ", ".join(f"{c} {t}" for c, t in cols.items()))
    lines.append("")
    counts = catalog.row_counts
    lines.append("rows")
    lines.append(f"  {'spot':<12}{_n(counts.spot):>14}")
    lines.append(f"  {'options':<12}{_n(counts.options):>14}")
    lines.append(f"  {'rejected':<12}{_n(counts.rejected):>14}")
    if catalog.rejected_by_reason:
        lines.append("")
        lines.append("rejected by reason")
        width = max(len(r) for r in catalog.rejected_by_reason)
        for reason, n in sorted(catalog.rejected_by_reason.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  {reason:<{width}}  {_n(n):>12}")
    refused = [r for r in catalog.inputs.values() if r.status == "refused"]
    if refused:
        lines.append("")
        lines.append("input files refused whole (not read, not counted above)")
        for record in sorted(refused, key=lambda r: r.file):
            rows = "rows unknown" if record.rows_read is None else f"{_n(record.rows_read)} rows"
            lines.append(f"  {record.file} ({record.format}, {rows}): {record.reason}")
    noted = [r for r in catalog.inputs.values() if r.notes]
    if noted:
        lines.append("")
        lines.append("notes")
        for record in sorted(noted, key=lambda r: r.file):
            for note in record.notes:
                lines.append(f"  {note}")
    lines.append("")
    if catalog.files:
        lines.append(
            f"checksums         {_n(len(catalog.files))} files recorded (sha256, size, rows): "
            "`workbench data verify` checks them"
        )
    else:
        lines.append(
            "checksums         none recorded (catalog format 1): `workbench data repair "
            "--rehash` records them"
        )
    return "\n".join(lines)
