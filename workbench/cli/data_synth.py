"""``workbench data synth``: write a synthetic dataset (the embedded default market).

Examples::

    workbench data synth --profile nifty-intraday --days 60 --start 2024-01-01 --seed 42 --out data/nifty
    workbench data synth --profile spx-eod --years 5 --start 2019-01-01 --seed 42 --out data/spx
    workbench data synth --profile us-etf-eod --years 5 --start 2019-01-01 --seed 42 --out data/etf

Prints where it wrote, the content version and row counts. Bad arguments give one line naming
the argument (exit status 2).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from workbench.cli.data_ingest import add_lock_timeout, lock_timeout_arg
from workbench.data.synth import PROFILES, generate, get_profile, parse_start
from workbench.data.synth.output import check_out

DEFAULT_SEED = 42


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "synth",
        help="write a synthetic market dataset",
        description="Write a deterministic synthetic market dataset (same arguments, same "
        "content version). Profiles: "
        + "; ".join(f"{p.name}: {p.description}" for p in PROFILES.values()),
    )
    parser.add_argument(
        "--profile", default="nifty-intraday", help="nifty-intraday, spx-eod or us-etf-eod"
    )
    defaults = "; ".join(
        f"{p.name}: {f'{p.default_days} days' if p.default_days else f'{p.default_years} years'}"
        f" from {p.default_start}"
        for p in PROFILES.values()
    )
    parser.add_argument("--days", default=None, help=f"number of trading days ({defaults})")
    parser.add_argument("--years", default=None, help="number of calendar years of trading days")
    parser.add_argument("--start", default=None, help="first day, YYYY-MM-DD")
    parser.add_argument(
        "--seed", default=str(DEFAULT_SEED), help=f"random seed (default {DEFAULT_SEED})"
    )
    parser.add_argument(
        "--out", default=None, help="dataset folder (default: data/synth-<profile>)"
    )
    parser.add_argument(
        "--workers",
        default=None,
        help="processes to build days on (default: every core from 100 days, else 1)",
    )
    add_lock_timeout(parser)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(handler=_handle)


def _int_arg(text: str | None, flag: str) -> int | None:
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{flag} must be a positive integer, got {text!r}") from None
    if value <= 0:
        raise ValueError(f"{flag} must be a positive integer, got {text!r}")
    return value


def _handle(args: argparse.Namespace) -> int:
    try:
        profile = get_profile(args.profile)
    except ValueError as exc:
        raise ValueError(f"--profile: {exc}") from None
    days = _int_arg(args.days, "--days")
    years = _int_arg(args.years, "--years")
    if days is not None and years is not None:
        raise ValueError("--days and --years: give only one of them")
    if days is None and years is None:
        days, years = profile.default_days, profile.default_years
    try:
        seed = int(args.seed)
        if seed < 0:
            raise ValueError
    except ValueError:
        raise ValueError(f"--seed must be a non-negative integer, got {args.seed!r}") from None
    try:
        start = parse_start(args.start) if args.start is not None else profile.default_start
    except ValueError:
        raise ValueError(f"--start must be a date YYYY-MM-DD, got {args.start!r}") from None
    workers = _int_arg(args.workers, "--workers")
    out = Path(args.out) if args.out is not None else Path("data") / f"synth-{profile.name}"
    try:
        check_out(out)
    except ValueError as exc:
        raise ValueError(f"--out: {exc}") from None
    catalog = generate(
        profile.name,
        out,
        seed=seed,
        start=start,
        days=days,
        years=years,
        progress=not args.no_progress,
        workers=workers,
        lock_timeout=lock_timeout_arg(args.lock_timeout),
    )
    counts = catalog.row_counts
    print(f"wrote {out.absolute()}")
    print(f"  dataset          {catalog.name} ({profile.name}, seed {seed})")
    print(f"  content version  {catalog.content_version}")
    print(f"  days             {catalog.days} ({catalog.start} .. {catalog.end})")
    print(f"  rows             spot {counts.spot:,}  options {counts.options:,}")
    return 0
