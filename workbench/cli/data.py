"""``workbench data ...``: dataset commands (synth, info, ingest, verify, repair, cache).

Each sub-command lives in its own module exposing ``register(subparsers)``.
"""

from __future__ import annotations

import argparse
import importlib
from typing import Any

DATA_COMMAND_MODULES: tuple[str, ...] = (
    "workbench.cli.data_synth",
    "workbench.cli.data_synth_history",
    "workbench.cli.data_info",
    "workbench.cli.data_ingest",
    "workbench.cli.data_verify",
    "workbench.cli.data_repair",
    "workbench.cli.data_cache",
)


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "data", help="create, ingest and inspect datasets"
    )
    sub = parser.add_subparsers(dest="data_command", metavar="DATA_COMMAND")
    sub.required = True
    for name in DATA_COMMAND_MODULES:
        importlib.import_module(name).register(sub)
