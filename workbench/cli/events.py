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
    parser.add_argument(
        "--capital",
        type=float,
        default=None,
        help="money the paths start at (default with --units: the holding's first close)",
    )
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
    synthetic = parser.add_argument_group(
        "synthetic provider (seed 002 BT-001)",
        "--provider synthetic: --data holds real daily closes (e.g. set 3 or 6 ingested with "
        "--format ohlc); listed options are priced on them over the event's range (see "
        "workbench data synth-history) and the comparison runs on that history",
    )
    synthetic.add_argument(
        "--provider",
        choices=("snapshot", "synthetic"),
        default="snapshot",
        help="snapshot: --data holds option chains (default); synthetic: price them",
    )
    synthetic.add_argument("--vol-index", default=None, help="volatility index series (VIX)")
    synthetic.add_argument("--vol", type=float, default=None, help="fixed volatility instead")
    synthetic.add_argument("--vol-scale", type=float, default=None, help="ATM vol / (index/100)")
    synthetic.add_argument("--put-skew", type=float, default=None, help="vol per 10%% OTM put")
    synthetic.add_argument("--risk-free", type=float, default=0.0, help="rate (continuous)")
    synthetic.add_argument("--dividend", type=float, default=0.0, help="dividend yield")
    synthetic.add_argument("--stress-spread", type=float, default=None, help="extra half-spread")
    synthetic.add_argument(
        "--provider-config", default=None, help="TOML with the whole provider configuration"
    )
    synthetic.add_argument(
        "--history-dir",
        default=None,
        help="folder for the synthetic history (default: data/history/<preset>-<hash>)",
    )
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
        provider = None
        if args.provider == "synthetic":
            args.data, provider = _synthetic_history(args, preset)
        elif _provider_flags(args):
            raise ValueError(f"{_provider_flags(args)[0]} needs --provider synthetic")
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
                "provider": provider,
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
        for line in result.warnings:
            print(f"warning: {line}")
        if folder is not None:
            print(f"written: {folder} (pages: {folder / 'event.html'}, {folder / 'report.html'})")
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


_PROVIDER_FLAGS = (
    ("--vol-index", "vol_index"),
    ("--vol", "vol"),
    ("--vol-scale", "vol_scale"),
    ("--put-skew", "put_skew"),
    ("--stress-spread", "stress_spread"),
    ("--provider-config", "provider_config"),
    ("--history-dir", "history_dir"),
)


def _provider_flags(args: argparse.Namespace) -> list[str]:
    given = [flag for flag, name in _PROVIDER_FLAGS if getattr(args, name) is not None]
    given += [f for f, v in (("--risk-free", args.risk_free), ("--dividend", args.dividend)) if v]
    return given


def _synthetic_history(args: argparse.Namespace, preset: Any) -> tuple[str, dict[str, Any]]:
    """Write (or reuse) the preset's synthetic history from --data's closes; its folder and
    the provider's configuration."""
    from workbench.cli.data_synth_history import build_config
    from workbench.research.history import event_history

    options = argparse.Namespace(
        config=args.provider_config,
        underlying=None if args.provider_config else preset.symbol,
        vol=args.vol,
        vol_steps=None,
        vol_index=args.vol_index,
        vol_scale=args.vol_scale,
        put_skew=args.put_skew,
        rate=args.risk_free,
        dividend=args.dividend,
        stress_spread=args.stress_spread,
    )
    try:
        config = build_config(options)
    except ValueError as exc:
        text = (
            str(exc)
            .replace("--rate", "--risk-free")
            .replace("--vol, --vol-steps or", "--vol or")
            .replace("(or give --config)", "")
        )
        raise ValueError(text.replace("--config", "--provider-config").strip()) from None
    if config.underlying != preset.symbol:
        raise ValueError(
            f"--provider-config: underlying {config.underlying} is not the event's {preset.symbol}"
        )
    start, end = materialize(preset)
    folder = event_history(
        args.data, preset.slug, start, end, config, folder=args.history_dir,
        progress=not args.no_progress,
    )  # fmt: skip
    print(f"synthetic history of {preset.symbol} {start} .. {end}: {folder}")
    return str(folder), config.describe()


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
        elif row.get("flag"):
            lines.append(f"        flag: {row['flag']}")
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
        f"{'hedge cost':>12} {'end value h':>14} {'end value u':>14} {'rolls':>5}  flag",
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
            f"  {row.get('flag') or ''}"
        )
        if isinstance(row["error"], str):
            lines.append(f"        error: {row['error']}")
    return "\n".join(lines)
