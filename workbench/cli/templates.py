"""``workbench templates``: list the strategy templates (validated)."""

from __future__ import annotations

import argparse
from typing import Any

from workbench.research.templates import TemplateRepository


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "templates", help="list and validate the strategy templates"
    )
    parser.add_argument(
        "--templates",
        "--dir",
        dest="dir",
        default=None,
        metavar="DIR",
        help="templates folder (default: templates/strategies)",
    )
    parser.add_argument(
        "--reports", default="reports", help="reports folder holding template references"
    )
    parser.add_argument("--check", action="store_true", help="also validate each template's params")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    repo = TemplateRepository(args.dir, refs_dir=args.reports)
    templates = repo.list()
    if not templates:
        print(f"no templates in {repo.root}")
        return 0
    width = max(len(t.ref) for t in templates)
    for template in templates:
        if args.check:
            template.validate_params()
        tags = ", ".join(template.tags)
        print(f"{template.ref:<{width}}  {template.strategy}")
        if template.description:
            print(f"{'':<{width}}  {template.description}")
        if tags:
            print(f"{'':<{width}}  tags: {tags}")
    return 0
