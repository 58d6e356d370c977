"""``workbench`` command line: parses arguments, calls the library, prints.

Each command group lives in its own module exposing ``register(subparsers)``; this module only
wires them together. No traceback reaches the terminal unless ``--debug`` is given: errors the
library raises for bad input (``ValueError``, ``KeyError``, ``FileNotFoundError`` and the
workbench's own) print as one clear line with exit status 2; anything else (a strategy that
raises, a bug) prints as one line naming the error and where it was raised, with status 1.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
import warnings
from collections.abc import Sequence

#: Command modules, each with ``register(subparsers)``.
COMMAND_MODULES: tuple[str, ...] = (
    "workbench.cli.data",
    "workbench.cli.templates",
    "workbench.cli.grid",
    "workbench.cli.demo",
    "workbench.cli.run",
    "workbench.cli.validate",
    "workbench.cli.export",
    "workbench.cli.walkforward",
    "workbench.cli.sweep",
    "workbench.cli.events",
    "workbench.cli.runs",
    "workbench.cli.serve",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workbench", description="Options research workbench.")
    parser.add_argument("--debug", action="store_true", help="print the full traceback of an error")
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
    except Exception as exc:
        if args.debug:
            from workbench.engine.errors import DayFailedError

            # a failed positional day: the strategy's own traceback, not the engine's wrapper
            text = exc.traceback if isinstance(exc, DayFailedError) else traceback.format_exc()
            print(text.rstrip(), file=sys.stderr)
        print(f"workbench {args.command}: error: {one_line(exc, args.debug)}", file=sys.stderr)
        return 2 if isinstance(exc, BAD_INPUT) else 1
    return int(result or 0)


#: Errors of the input (a file, a flag, a parameter): exit status 2. Anything else (a strategy
#: that raises, a bug) is status 1; either way one line, the traceback only with --debug.
BAD_INPUT = (ValueError, KeyError, FileNotFoundError, NotADirectoryError, OSError)


def one_line(exc: BaseException, debug: bool = False) -> str:
    """The error as one line: the library's own messages as they are, anything else with its
    type (and where it was raised) and a pointer to --debug."""
    if isinstance(exc, KeyError) and exc.args:
        text = str(exc.args[0])
    else:
        text = str(exc)
    text = " ".join(part.strip() for part in text.splitlines() if part.strip())
    if isinstance(exc, BAD_INPUT) and text:
        return text
    from workbench.engine.errors import DayFailedError

    hint = "" if debug else " (--debug for the traceback)"
    if isinstance(exc, DayFailedError):
        return f"positional run failed on {text}{hint}"
    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
    where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}: {text or '(no message)'}{where}{hint}"


if __name__ == "__main__":
    sys.exit(main())
