"""``workbench runs``: the run repository -- list and filter the recorded runs, or show one.

``workbench runs [--kind K] [--status S] [--template T] [--parent ID] [--limit N]`` lists the
runs (newest last); ``workbench runs show ID`` prints one with its manifest and metrics. Both
read ``<reports>/repository.sqlite`` (``--reports``, default ``$WORKBENCH_REPORTS`` or the
repository's ``reports/``). A run still marked running whose process has ended (killed) is
marked failed first, so the list never shows a run as running that nothing runs.
"""

from __future__ import annotations

import argparse
import json
import math
from datetime import datetime
from typing import Any

from workbench.research.repository import (
    KINDS,
    STATUSES,
    RunEntry,
    RunRepository,
    default_reports,
)


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "runs", help="list the run repository's runs (filters), or show one (runs show ID)"
    )
    _common(parser)
    parser.add_argument("--kind", choices=KINDS, default=None, help="only runs of this kind")
    parser.add_argument("--status", choices=STATUSES, default=None, help="only this status")
    parser.add_argument(
        "--template", default=None, help="only runs of this template (name or name@version)"
    )
    parser.add_argument("--parent", default=None, help="only the members of this grid/walk-forward")
    parser.add_argument("--limit", type=int, default=None, help="the newest N runs only")
    sub = parser.add_subparsers(dest="runs_command", metavar="show")
    show = sub.add_parser("show", help="print one run: fields, manifest, metrics")
    show.add_argument("id", help="the run's record id (first column of `workbench runs`)")
    _common(show)
    parser.set_defaults(handler=_handle)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--reports",
        default=argparse.SUPPRESS,
        help="reports folder holding repository.sqlite "
        "(default: $WORKBENCH_REPORTS or the repository's reports/)",
    )
    parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="as JSON")


def _handle(args: argparse.Namespace) -> int:
    reports = getattr(args, "reports", None) or default_reports()
    repo = RunRepository(reports)
    as_json = bool(getattr(args, "json", False))
    if not repo.path.is_file():
        if getattr(args, "runs_command", None) == "show":
            raise KeyError(f"no run {args.id!r}: no run repository at {repo.path}")
        print("[]" if as_json else f"no runs recorded yet ({repo.path} does not exist)")
        return 0
    repo.reap()
    if getattr(args, "runs_command", None) == "show":
        entry = repo.get(args.id)
        if as_json:
            print(json.dumps(entry.as_dict(), indent=2, sort_keys=True))
        else:
            print(format_entry(entry))
        return 0
    if args.limit is not None and args.limit < 1:
        raise ValueError(f"--limit must be >= 1, got {args.limit}")
    entries = repo.list(
        kind=args.kind,
        status=args.status,
        template=args.template,
        parent=args.parent,
        limit=args.limit,
        newest_first=True,
    )[::-1]
    if as_json:
        print(json.dumps([e.as_dict() for e in entries], indent=2, sort_keys=True))
        return 0
    if not entries:
        print("no runs match")
        return 0
    print(format_table(entries))
    return 0


def _when(stamp: str | None) -> str:
    if not stamp:
        return "-"
    moment = datetime.fromisoformat(stamp).astimezone()
    return f"{moment:%Y-%m-%d %H:%M:%S}"


def _duration(entry: RunEntry) -> str:
    if not entry.started_at:
        return "-"
    start = datetime.fromisoformat(entry.started_at)
    end = datetime.fromisoformat(entry.finished_at) if entry.finished_at else None
    if end is None:
        return "..."
    seconds = (end - start).total_seconds()
    return f"{seconds:.1f}s" if seconds < 120 else f"{seconds / 60:.1f}m"


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "-"
    if isinstance(value, float) and not math.isfinite(value):
        return "-"
    return f"{value:,.2f}" if isinstance(value, float) else f"{value:,}"


def format_table(entries: list[RunEntry]) -> str:
    """One line per run: id, kind, status, what ran, created (local time), duration, total
    PnL, Sharpe, and the first line of the error."""
    rows = []
    for e in entries:
        metrics = e.metrics or {}
        progress = ""
        if e.status == "running" and e.progress_total:
            progress = f" {e.progress_done or 0}/{e.progress_total}"
        error = (e.error or "").strip().splitlines()[0][:80] if e.error else ""
        rows.append(
            [
                e.id,
                e.kind,
                e.status + progress,
                e.label,
                _when(e.created_at),
                _duration(e),
                _number(metrics.get("total_pnl")),
                _number(metrics.get("sharpe")),
                error,
            ]
        )
    header = ["id", "kind", "status", "run", "created", "took", "total_pnl", "sharpe", "error"]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    right = {5, 6, 7}

    def line(cells: list[Any]) -> str:
        parts = [
            str(c).rjust(widths[i]) if i in right else str(c).ljust(widths[i])
            for i, c in enumerate(cells)
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(header), *(line(r) for r in rows)])


def format_entry(entry: RunEntry) -> str:
    """Every field of one run; the manifest and metrics as indented JSON."""
    lines = []
    for name in (
        "id",
        "kind",
        "status",
        "error",
        "template",
        "strategy",
        "data",
        "out",
        "run_id",
        "parent",
        "origin",
        "owner",
    ):
        value = getattr(entry, name)
        if value is not None:
            text = str(value)
            if "\n" in text:
                text = "\n    " + text.replace("\n", "\n    ")
            lines.append(f"{name:<10} {text}")
    for name in ("created_at", "started_at", "finished_at"):
        lines.append(f"{name[:-3]:<10} {_when(getattr(entry, name))}")
    if entry.progress_total:
        lines.append(f"{'progress':<10} {entry.progress_done or 0}/{entry.progress_total}")
    for name in ("request", "metrics", "manifest"):
        value = getattr(entry, name)
        if value:
            body = json.dumps(value, indent=2, sort_keys=True).replace("\n", "\n  ")
            lines.append(f"{name}:\n  {body}")
    return "\n".join(lines)
