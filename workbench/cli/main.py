"""``workbench`` command line: parses arguments, calls the library, prints.

Each command group lives in its own module exposing ``register(subparsers)``; this module only
wires them together. Errors the library raises for bad input (``ValueError``, ``KeyError``,
``FileNotFoundError`` and the workbench's own errors) are printed as one clear line with exit
status 2 instead of a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Sequence

#: Command modules, each with ``register(subparsers)``.
COMMAND_MODULES: tuple[str, ...] = (
    "workbench.cli.data",
    "workbench.cli.templates",
    "workbench.cli.grid",
    "workbench.cli.demo",
    "workbench.cli.run",
    "workbench.cli.walkforward",
    "workbench.cli.events",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workbench", description="Options research workbench.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            # a user-facing warning reads as one line naming the command, not a source
            # location (showwarning is restored when the block ends)
            warnings.showwarning = lambda message, category, *_, **__: print(
                f"workbench {args.command}: warning: {message}"
                if issubclass(category, UserWarning)
                else f"{category.__name__}: {message}",
                file=sys.stderr,
            )
            result = args.handler(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (ValueError, KeyError, FileNotFoundError, NotADirectoryError, OSError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"workbench {args.command}: error: {message}", file=sys.stderr)
        return 2
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
