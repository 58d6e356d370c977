"""``workbench serve``: the REST service (FastAPI on uvicorn) over the run repository.

Binds to 127.0.0.1:8000 by default. Jobs run on a local process pool of ``--workers N``
processes, or on a Dask cluster (``--dask tcp://host:8786``; its workers must see the reports
and data folders at the same paths). ``--token`` (or ``$WORKBENCH_SERVICE_TOKEN``, which keeps
it out of the process list) makes every ``/api`` request need ``Authorization: Bearer <token>``.
SIGTERM (or Ctrl-C) shuts down cleanly: running jobs stop and go back to the queue.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve", help="run the REST service (backtests, grids, walk-forward, events, runs page)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--reports",
        default=None,
        help="reports folder: run repository, run folders (default: $WORKBENCH_REPORTS or "
        "the repository's reports/)",
    )
    parser.add_argument(
        "--data-root",
        dest="data_roots",
        action="append",
        default=None,
        metavar="DIR",
        help="folder whose datasets clients may name (repeatable; default: the repository's data/)",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--workers", type=int, default=None, help="local worker processes (default 2)"
    )
    where.add_argument("--dask", default=None, metavar="ADDRESS", help="Dask scheduler address")
    parser.add_argument(
        "--token",
        default=None,
        help="bearer token every /api request must carry (default: $WORKBENCH_SERVICE_TOKEN; "
        "none: no authentication)",
    )
    parser.add_argument(
        "--strategies",
        nargs="+",
        default=[],
        metavar="MODULE",
        help="modules whose Strategy classes clients may run by module:Class (templates are "
        "always allowed)",
    )
    parser.add_argument(
        "--templates", default=None, help="templates folder (default: templates/strategies)"
    )
    parser.add_argument(
        "--events", default=None, help="event presets folder (default: templates/events)"
    )
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=120,
        help="submissions per client per minute (default 120)",
    )
    parser.add_argument("--max-days", type=int, default=12_000, help="longest date range (days)")
    parser.add_argument("--max-grid", type=int, default=256, help="most combinations in a grid")
    parser.add_argument("--max-paths", type=int, default=100_000, help="most Monte Carlo paths")
    parser.add_argument(
        "--log-level", default="info", choices=("debug", "info", "warning", "error")
    )
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    import logging

    import uvicorn

    from workbench.research.repository import default_reports
    from workbench.service.app import create_app
    from workbench.service.config import ServiceConfig
    from workbench.service.logs import configure

    roots = args.data_roots or [str(Path(__file__).resolve().parents[2] / "data")]
    token = (
        args.token if args.token is not None else os.environ.get("WORKBENCH_SERVICE_TOKEN") or None
    )
    from pydantic import ValidationError

    from workbench.research.files import validation_problems
    from workbench.service.jobs import ServerBusyError

    try:
        config = _config(args, roots, token, default_reports(), ServiceConfig)
    except ValidationError as exc:
        raise ValueError(validation_problems(exc, "(settings)")) from None
    configure(getattr(logging, args.log_level.upper()))
    app = create_app(config)
    manager = app.state.manager
    try:
        manager.start()
    except ServerBusyError as exc:
        raise ValueError(str(exc)) from None
    try:
        uvicorn.run(
            app,
            host=config.host,
            port=config.port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=int(config.shutdown_grace_s) + 5,
        )
    finally:
        manager.shutdown()
    return 0


def _config(
    args: argparse.Namespace, roots: list[str], token: str | None, reports: Path, cls: Any
) -> Any:
    return cls(
        host=args.host,
        port=args.port,
        reports=Path(args.reports) if args.reports else reports,
        data_roots=tuple(Path(r) for r in roots),
        workers=args.workers if args.workers is not None else 2,
        dask=args.dask,
        token=token,
        strategies=tuple(args.strategies),
        templates_dir=Path(args.templates) if args.templates else None,
        events_dir=Path(args.events) if args.events else None,
        rate_limit=args.rate_limit,
        max_days=args.max_days,
        max_grid=args.max_grid,
        max_paths=args.max_paths,
    )
