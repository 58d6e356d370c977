"""``workbench validate TEMPLATE [--set k=v ...]``: check a strategy template without running it.

``TEMPLATE`` is a template name (``bear-call-spread``, ``name@version``; ``--templates DIR`` for
templates of one's own) or a template file. Prints ``OK name@version (...)`` or one line per
problem naming the field at fault (:mod:`workbench.research.template_check`); exit status 1 when
there is a problem.
"""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "validate", help="check a strategy template (parses, strategy exists, parameters valid)"
    )
    parser.add_argument("template", help="a template name (name or name@version) or a file")
    parser.add_argument(
        "--templates", default=None, metavar="DIR", help="templates folder of one's own"
    )
    parser.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="check with this parameter overridden (repeatable)",
    )
    parser.add_argument(
        "--reports",
        default=None,
        help="reports folder whose version store holds template versions "
        "(default: $WORKBENCH_REPORTS or the repository's reports/)",
    )
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from workbench.cli.run import parse_sets
    from workbench.research.repository import default_reports
    from workbench.research.template_check import check_template

    reports = args.reports if args.reports is not None else default_reports()
    check = check_template(
        args.template,
        templates_dir=args.templates,
        refs_dir=reports,
        overrides=parse_sets(args.sets),
    )
    for line in check.lines():
        print(line)
    return 0 if check.ok else 1
