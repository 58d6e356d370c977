"""``python -m workbench.bench NAME [--json]``: benchmarks as ratios against a same-run baseline.

Each benchmark is a module ``workbench.bench.<name>`` exposing ``run(quick: bool) -> dict`` that
returns ``{"benchmark", "ratio", "baseline", "figures"}``; this runner adds ``python`` and
``cores`` and prints a table, or one JSON object per benchmark with ``--json``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys

BENCHMARKS: tuple[str, ...] = (
    "store",
    "payoff_grid",
    "greeks",
    "iv",
    "numba_start",
    "synth",
    "synth_calibration",
    "synth_history",
    "engine",
    "analytics",
    "tearsheet",
    "ingest",
    "sweep",
    "eod",
    "series",
    "service",
    "portfolio",
    "universe",
)


def _print_table(result: dict) -> None:
    ratio = result["ratio"]
    shown_ratio = "n/a" if ratio is None else f"{ratio:.2f}x"
    print(f"== {result['benchmark']}: ratio {shown_ratio} vs {result['baseline']}")
    for key, value in result["figures"].items():
        shown = f"{value:,.6g}" if isinstance(value, float) else str(value)
        print(f"   {key:<40} {shown}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workbench.bench")
    parser.add_argument("name", help=f"one of: {', '.join(BENCHMARKS) or '(none yet)'}, or all")
    parser.add_argument("--json", action="store_true", help="print one JSON object per benchmark")
    parser.add_argument("--quick", action="store_true", help="smaller sizes (smoke test)")
    args = parser.parse_args(argv)
    names = list(BENCHMARKS) if args.name == "all" else [args.name]
    for name in names:
        if name not in BENCHMARKS:
            parser.error(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")
    for name in names:
        module = importlib.import_module(f"workbench.bench.{name}")
        result = dict(module.run(quick=args.quick))
        result["python"] = platform.python_version()
        result["cores"] = os.cpu_count()
        if args.json:
            print(json.dumps(result, default=str))
        else:
            _print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
