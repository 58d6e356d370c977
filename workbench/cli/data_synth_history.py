"""``workbench data synth-history``: listed options priced on a real close series (seed 002 BT-001).

Examples::

    workbench data ingest --format ohlc $REAL/us_index_vix_daily_1995_2026/ALL_eod.csv --out data/set3
    workbench data synth-history --source data/set3 --underlying SPX --vol-index VIX \
        --start 2019-12-02 --end 2020-05-29 --rate 0.015 --dividend 0.019 --out data/spx-2020
    workbench data synth-history --source data/set3 --underlying SPX --vol 0.16 --out data/spx-16
    workbench data synth-history --source data/set3 --config my-provider.toml --out data/spx-x

``--config`` is a TOML file holding the whole :class:`~workbench.data.historical.HistoryConfig`
(``underlying``, ``[vol]``, ``[smile]``, ``[rate]``, ``[dividend]``, ``[quotes]``,
``[listing]``); the flags build one otherwise. With ``--vol-index`` the smile, term and scale
default to the ones measured on the real 2019 SPX chains (``INDEX_SMILE``). Bad arguments give
one line naming the flag or the config field (exit status 2); nothing is written then.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from workbench.cli.data_ingest import add_lock_timeout, lock_timeout_arg


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "synth-history",
        help="price listed options on a dataset's real closes (synthetic historical provider)",
        description="Write an end-of-day options dataset: the source's daily closes of "
        "--underlying, options listed by the registry's rules and priced with Black-Scholes "
        "under a declared volatility regime (--vol, --vol-steps or --vol-index), smile, rates "
        "and quotes. Day T uses only data as of T. The whole configuration is recorded in the "
        "dataset's catalog source (and so in every run's manifest).",
    )
    parser.add_argument("--source", required=True, help="dataset holding the daily closes")
    parser.add_argument("--out", required=True, help="dataset folder to write (replaced)")
    parser.add_argument("--config", default=None, help="TOML file with the whole configuration")
    parser.add_argument("--underlying", default=None, help="spot series (SPX, NIFTY, SPY)")
    vol = parser.add_mutually_exclusive_group()
    vol.add_argument("--vol", type=float, default=None, help="fixed volatility, e.g. 0.16")
    vol.add_argument(
        "--vol-steps",
        default=None,
        help="dated steps DATE:VOL,DATE:VOL (each in force from its date)",
    )
    vol.add_argument("--vol-index", default=None, help="volatility index series (VIX, INDIAVIX)")
    parser.add_argument("--vol-scale", type=float, default=None, help="ATM vol / (index / 100)")
    parser.add_argument("--put-skew", type=float, default=None, help="vol per 10%% OTM put")
    parser.add_argument("--rate", type=float, default=0.0, help="risk-free rate (continuous)")
    parser.add_argument("--dividend", type=float, default=0.0, help="dividend yield (continuous)")
    parser.add_argument("--stress-spread", type=float, default=None, help="extra half-spread")
    parser.add_argument("--start", default=None, help="first day YYYY-MM-DD (default: source's)")
    parser.add_argument("--end", default=None, help="last day YYYY-MM-DD (default: source's)")
    parser.add_argument("--name", default=None, help="dataset name (default: the folder name)")
    add_lock_timeout(parser)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(handler=_handle)


def _steps(text: str) -> list[list[str]]:
    steps = []
    for part in text.split(","):
        day, sep, value = part.strip().partition(":")
        if not sep:
            raise ValueError(f"--vol-steps: {part!r} is not DATE:VOL")
        steps.append([day.strip(), value.strip()])
    return steps


def build_config(args: argparse.Namespace) -> Any:
    """The :class:`HistoryConfig` the arguments declare (``ValueError`` naming the problem)."""
    from workbench.data.historical.config import INDEX_SCALE, INDEX_SMILE, HistoryConfig
    from workbench.research.files import load_toml_model, validation_problems

    if args.config is not None:
        flags = [
            f for f, v in (("--underlying", args.underlying), ("--vol", args.vol),
                           ("--vol-steps", args.vol_steps), ("--vol-index", args.vol_index))
            if v is not None
        ]  # fmt: skip
        if flags:
            raise ValueError(f"--config: give the configuration in the file, not {flags[0]}")
        config, _ = load_toml_model(Path(args.config), HistoryConfig, ValueError, "provider config")
        return config
    if args.underlying is None:
        raise ValueError("--underlying is required (or give --config)")
    doc: dict[str, Any] = {"underlying": args.underlying}
    if args.vol is not None:
        doc["vol"] = {"kind": "fixed", "value": args.vol}
    elif args.vol_steps is not None:
        doc["vol"] = {"kind": "steps", "steps": _steps(args.vol_steps)}
    elif args.vol_index is not None:
        doc["vol"] = {
            "kind": "index",
            "series": args.vol_index,
            "scale": INDEX_SCALE if args.vol_scale is None else args.vol_scale,
        }
        doc["smile"] = dict(INDEX_SMILE)
    else:
        raise ValueError("give one of --vol, --vol-steps or --vol-index (or --config)")
    if args.vol_scale is not None and args.vol_index is None:
        raise ValueError("--vol-scale applies to --vol-index only")
    if args.put_skew is not None:
        doc.setdefault("smile", {})["put_skew"] = args.put_skew
    doc["rate"] = {"kind": "fixed", "value": args.rate}
    doc["dividend"] = {"kind": "fixed", "value": args.dividend}
    if args.stress_spread is not None:
        doc["quotes"] = {"stress_spread": args.stress_spread}
    try:
        return HistoryConfig.model_validate(doc)
    except ValidationError as exc:
        raise ValueError(validation_problems(exc, "arguments")) from None


def _handle(args: argparse.Namespace) -> int:
    from workbench.data.historical import synth_history

    config = build_config(args)
    catalog = synth_history(
        args.source,
        args.out,
        config,
        start=args.start,
        end=args.end,
        name=args.name,
        progress=not args.no_progress,
        lock_timeout=lock_timeout_arg(args.lock_timeout),
    )
    counts = catalog.row_counts
    print(f"wrote {Path(args.out).absolute()}")
    print(f"  dataset          {catalog.name} (synthetic history of {config.underlying})")
    print(f"  content version  {catalog.content_version}")
    print(f"  days             {catalog.days} ({catalog.start} .. {catalog.end})")
    print(f"  rows             spot {counts.spot:,}  options {counts.options:,}")
    print(f"  volatility       {config.vol.model_dump_json()}")
    return 0
