"""``workbench events [SLUG]``: list the event presets, show one, or compare templates over it."""

from __future__ import annotations

import argparse
import math
from typing import Any

from workbench.cli.out_folder import check_out_folder
from workbench.research.events import EventComparison, EventRepository, compare, materialize
from workbench.research.grid import check_run_inputs


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "events", help="list event presets; compare templates over one (--compare)"
    )
    parser.add_argument("slug", nargs="?", help="show this preset (default: list them all)")
    parser.add_argument("--dir", default=None, help="presets folder (default: templates/events)")
    parser.add_argument(
        "--compare", action="store_true", help="run templates over the event (needs --data)"
    )
    parser.add_argument("--data", default=None, help="dataset folder holding the symbol")
    parser.add_argument(
        "--templates", default=None, help="comma-separated template names (default: the preset's)"
    )
    parser.add_argument("--capital", type=float, default=None, help="money the paths start at")
    parser.add_argument("--fill", default=None, help="fill model spec")
    parser.add_argument("--fees", default=None, help="fee model spec")
    parser.add_argument("--margin", default=None, help="margin model spec")
    parser.add_argument("--workers", type=int, default=None, help="parallel runs (default: cores)")
    parser.add_argument("--out", default=None, help="write paths.csv, summary.csv into DIR")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    if args.out:
        check_out_folder(args.out, ("event.json", "paths.csv"), "an event comparison folder")
    repo = EventRepository(args.dir)
    if args.compare:
        if not args.slug or not args.data:
            raise ValueError("--compare needs a preset SLUG and --data DIR")
        check_run_inputs(
            f"events {args.slug}",
            data=args.data,
            fill=args.fill,
            fees=args.fees,
            margin=args.margin,
        )
        templates = args.templates.split(",") if args.templates else None
        result = compare(
            repo.get(args.slug),
            templates,
            data=args.data,
            capital=args.capital,
            fill=args.fill,
            fees=args.fees,
            margin=args.margin,
            workers=args.workers,
            progress=not args.no_progress,
        )
        print(format_comparison(result))
        if args.out:
            print(f"written: {result.save(args.out)}")
        return 0 if result.summary["error"].isna().all() else 1
    presets = [repo.get(args.slug)] if args.slug else repo.list()
    if not presets:
        print(f"no event presets in {repo.root}")
        return 0
    width = max(len(p.slug) for p in presets)
    for preset in presets:
        start, end = materialize(preset)
        print(
            f"{preset.slug:<{width}}  {preset.symbol:<6} {preset.event_type:<11} "
            f"{preset.window_start} .. {preset.window_end}  runs {start} .. {end}  "
            f"({preset.display_name})"
        )
        if args.slug:
            print(f"  {preset.description}")
            print(f"  tags: {', '.join(preset.tags)}; anchor: {preset.anchor_date}")
            print(
                f"  lookback {preset.lookback_days} / recovery {preset.recovery_days} sessions; "
                f"templates: {', '.join(preset.default_template_slugs)}"
            )
    return 0


def _num(value: Any, digits: int = 2) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "-"
    return "-" if not math.isfinite(number) else f"{number:,.{digits}f}"


def format_comparison(result: EventComparison) -> str:
    """The ranked summary as a text table."""
    preset = result.preset
    lines = [
        f"{preset.display_name}: {result.start} .. {result.end} "
        f"(window {preset.window_start} .. {preset.window_end})",
        f"{'rank':>4}  {'template':<24} {'end value':>10} {'total pnl':>12} {'max dd':>12} "
        f"{'worst day':>12} {'fees':>10} {'trades':>6} {'fills':>6}",
    ]
    for row in result.summary.to_dict(orient="records"):
        lines.append(
            f"{row['rank']:>4}  {row['template']:<24} {_num(row['end_value'], 4):>10} "
            f"{_num(row['total_pnl']):>12} {_num(row['max_drawdown']):>12} "
            f"{_num(row['worst_day']):>12} {_num(row['fees']):>10} {_num(row['trades'], 0):>6} {_num(row['fills'], 0):>6}"
        )
        if isinstance(row["error"], str):
            lines.append(f"        error: {row['error']}")
    return "\n".join(lines)
