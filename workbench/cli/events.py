"""``workbench events [SLUG]``: list the event presets, show one, or compare templates over it."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
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
        "--strategies",
        default=None,
        help="comma-separated templates or strategies to compare (template names, module:Class, "
        "path/to/file.py:Class; default: the preset's templates)",
    )
    parser.add_argument(
        "--templates", default=None, metavar="DIR", help="templates folder of one's own"
    )
    parser.add_argument("--capital", type=float, default=None, help="money the paths start at")
    parser.add_argument("--fill", default=None, help="fill model spec")
    parser.add_argument("--fees", default=None, help="fee model spec")
    parser.add_argument("--margin", default=None, help="margin model spec")
    loan = parser.add_argument_group(
        "collateral (seed 002)",
        "the holding the hedges protect and the loan against it: ranks the templates by "
        "margin-call days, max LTV, hedge cost and end value (all three of --units, --loan and "
        "--margin-call-ltv)",
    )
    loan.add_argument("--units", type=float, default=None, help="units of the underlying held")
    loan.add_argument("--loan", type=float, default=None, help="loan outstanding (money)")
    loan.add_argument(
        "--margin-call-ltv", type=float, default=None, help="margin call at this LTV, e.g. 0.75"
    )
    loan.add_argument(
        "--financing-rate", type=float, default=0.0, help="loan interest per year (continuous)"
    )
    loan.add_argument("--cash", type=float, default=0.0, help="cash held beside the units")
    parser.add_argument("--workers", type=int, default=None, help="parallel runs (default: cores)")
    parser.add_argument(
        "--out", default=None, help="write paths.csv, summary.csv and the event.html page into DIR"
    )
    parser.add_argument(
        "--reports",
        default=None,
        metavar="DIR",
        help="reports folder: its run repository records the comparison (default: "
        "$WORKBENCH_REPORTS or the repository's reports/); given without --out, the comparison "
        "is written into DIR/<today>/event-<slug>/ and listed in that day's index",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    if args.reports and not args.compare:
        raise ValueError("--reports needs --compare and a preset SLUG")
    if args.reports and not args.out:
        if not args.slug:
            raise ValueError("--reports needs --compare and a preset SLUG")
        from workbench.research.files import day_report_folder

        args.out = str(day_report_folder(args.reports, "event", args.slug))
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
        templates = [t.strip() for t in args.strategies.split(",")] if args.strategies else None
        portfolio = _portfolio(args)
        preset = repo.get(args.slug)
        from workbench.research.events import comparison_metrics
        from workbench.research.repository import RunRecorder

        with RunRecorder.open(
            args.reports,
            "event-comparison",
            origin="cli",
            template=None,
            data=Path(args.data).resolve(),
            out=Path(args.out).resolve() if args.out else None,
            request={
                "preset": preset.slug,
                "templates": templates,
                "data": args.data,
                "capital": args.capital,
                "fill": args.fill,
                "fees": args.fees,
                "margin": args.margin,
                "portfolio": portfolio,
            },
        ) as record:
            result = compare(
                preset,
                templates,
                data=args.data,
                capital=args.capital,
                fill=args.fill,
                fees=args.fees,
                margin=args.margin,
                workers=args.workers,
                progress=not args.no_progress,
                portfolio=portfolio,
                templates_dir=args.templates,
            )
            folder = result.save(args.out) if args.out else None
            record.completed(metrics=comparison_metrics(result))
        print(format_comparison(result))
        if folder is not None:
            print(f"written: {folder} (page: {folder / 'event.html'})")
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


def _portfolio(args: argparse.Namespace) -> dict[str, float] | None:
    given = {
        "--units": args.units,
        "--loan": args.loan,
        "--margin-call-ltv": args.margin_call_ltv,
    }
    if all(v is None for v in given.values()):
        for flag, value in (("--financing-rate", args.financing_rate), ("--cash", args.cash)):
            if value:
                raise ValueError(f"{flag} needs --units, --loan and --margin-call-ltv")
        return None
    missing = [flag for flag, value in given.items() if value is None]
    if missing:
        raise ValueError(
            f"the collateral view needs --units, --loan and --margin-call-ltv (missing: "
            f"{', '.join(missing)})"
        )
    return {
        "underlying_units": args.units,
        "loan_amount": args.loan,
        "margin_call_ltv": args.margin_call_ltv,
        "financing_rate": args.financing_rate,
        "cash_balance": args.cash,
    }


def _num(value: Any, digits: int = 2) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "-"
    return "-" if not math.isfinite(number) else f"{number:,.{digits}f}"


def format_comparison(result: EventComparison) -> str:
    """The ranked summary as a text table."""
    if result.portfolio is not None:
        return _format_collateral(result)
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


def _format_collateral(result: EventComparison) -> str:
    preset, p = result.preset, result.portfolio
    assert p is not None
    lines = [
        f"{preset.display_name}: {result.start} .. {result.end} "
        f"(window {preset.window_start} .. {preset.window_end})",
        f"holding {p.underlying_units:,g} units, loan {p.loan_amount:,.2f}, margin call at LTV "
        f"{p.margin_call_ltv:g}; ranked by hedged margin-call days, max LTV, hedge cost, end value",
        f"{'rank':>4}  {'template':<24} {'calls h/u':>9} {'max LTV h':>9} {'max LTV u':>9} "
        f"{'hedge cost':>12} {'end value h':>14} {'end value u':>14} {'rolls':>5}",
    ]
    for row in result.summary.to_dict(orient="records"):
        calls = (
            f"{_num(row['margin_call_days_hedged'], 0)}/{_num(row['margin_call_days_unhedged'], 0)}"
        )
        lines.append(
            f"{row['rank']:>4}  {row['template']:<24} {calls:>9} "
            f"{_num(row['max_ltv_hedged'], 4):>9} {_num(row['max_ltv_unhedged'], 4):>9} "
            f"{_num(row['total_hedge_cost']):>12} {_num(row['end_value_hedged_net']):>14} "
            f"{_num(row['end_value_unhedged']):>14} {_num(row['roll_count'], 0):>5}"
        )
        if isinstance(row["error"], str):
            lines.append(f"        error: {row['error']}")
    return "\n".join(lines)
