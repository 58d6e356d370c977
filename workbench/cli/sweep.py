"""``workbench sweep GRID.toml``: every combination of a grid file in this process's pool, saved
as a sweep folder with its page (``sweep.html``) and the best combination's tearsheet.

Unlike ``workbench grid`` (one papermill notebook and run folder per combination), a sweep runs
the combinations through :func:`workbench.research.sweep.sweep` (intraday ones day-major, each
day read once) and keeps only their headline metrics; the best one by ``--objective`` is run
again as a full run folder inside the sweep folder. The grid file is the same as ``grid``'s.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from workbench.cli.out_folder import check_out_folder
from workbench.cli.run import add_constraint_flags, constraints_arg


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "sweep",
        help="run a grid file's combinations in this process's pool and write a sweep page",
    )
    parser.add_argument("grid", help="grid file (TOML, as for `workbench grid`)")
    parser.add_argument(
        "--reports",
        default=None,
        metavar="DIR",
        help="reports folder: the sweep is written into DIR/<today>/sweep-<name>/ (unless "
        "--out), listed in that day's index and recorded in DIR's run repository (default: "
        "$WORKBENCH_REPORTS or the repository's reports/)",
    )
    parser.add_argument("--out", default=None, help="write the sweep folder here instead")
    parser.add_argument(
        "--objective",
        default=None,
        help="metric that ranks the combinations (default: the file's heatmap metric, else sharpe)",
    )
    parser.add_argument(
        "--templates", default=None, metavar="DIR", help="templates folder of one's own"
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="parallel workers (default: cores)"
    )
    parser.add_argument(
        "--vix",
        default=None,
        metavar="DATASET",
        help="VIX-like series for the best run's tearsheet",
    )
    parser.add_argument(
        "--no-best", action="store_true", help="do not run the best combination again"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_constraint_flags(
        parser, over="the file's [constraints] table, itself over the template's own"
    )
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from workbench.engine.spec import RunSpec
    from workbench.research.files import day_report_folder
    from workbench.research.grid import check_run_inputs, load_grid
    from workbench.research.repository import RunRecorder, default_reports
    from workbench.research.sweep import HEADLINE_METRICS, sweep
    from workbench.research.sweep_report import write_sweep

    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    reports = Path(args.reports) if args.reports is not None else default_reports()
    spec = load_grid(args.grid).with_constraints(constraints_arg(args))
    if not spec.grid:
        raise ValueError(f"{spec.label}: [grid] is empty: nothing to sweep")
    objective = args.objective or (spec.heatmap.metric if spec.heatmap else "sharpe")
    if objective not in HEADLINE_METRICS:
        raise ValueError(
            f"--objective {objective!r} is not a sweep metric; use one of {', '.join(HEADLINE_METRICS)}"
        )
    out = (
        Path(args.out)
        if args.out
        else day_report_folder(reports, "sweep", spec.name or Path(args.grid).stem)
    )
    check_out_folder(out, ("sweep.json", "sweep.csv"), "a sweep folder")
    check_run_inputs(spec.label, data=spec.data, fill=spec.fill, fees=spec.fees, margin=spec.margin)
    picked = spec.strategy_spec(templates_dir=args.templates)
    for combination in spec.combinations():
        picked.validate({**spec.overrides, **combination})
    run_spec = RunSpec.build(
        None, data=spec.data, start=spec.start, end=spec.end, fill=spec.fill, fees=spec.fees,
        margin=spec.margin, capital=spec.capital, series=spec.series or None,
        constraints=spec.constraints,
    )  # fmt: skip
    vix = args.vix or spec.vix
    if vix is not None:  # a bad --vix is refused before anything runs or is recorded
        from workbench.research.market_series import vix_from_dataset

        vix_from_dataset(vix)
    strategy = picked.template if picked.template is not None else picked.cls
    template = picked.template.ref if picked.template is not None else None
    with RunRecorder.open(
        reports,
        "sweep",
        origin="cli",
        template=template,
        strategy=None if template else picked.label,
        data=Path(spec.data).resolve(),
        out=out.resolve(),
        request={**spec.model_dump(mode="json"), "objective": objective, "vix": vix},
        progress_total=len(spec.combinations()),
    ) as record:
        frame = sweep(
            strategy,
            spec.grid,
            run_spec,
            params=spec.overrides,
            workers=args.workers or spec.workers,
            progress=not args.no_progress,
        )
        folder = write_sweep(
            frame,
            out,
            strategy=strategy,
            grid=spec.grid,
            spec=run_spec,
            params=spec.overrides,
            objective=objective,
            best_run=not args.no_best,
            vix=vix,
            refs_dir=reports,
        )
        failed = int(frame["error"].notna().sum())
        record.progress(len(frame), len(frame))
        record.completed(
            metrics={
                "combinations": len(frame),
                "failed": failed,
                "objective": objective,
                "best": _best(frame, objective),
            },
            out=folder.resolve(),
        )
    failed = int(frame["error"].notna().sum())
    print(
        f"{len(frame) - failed} of {len(frame)} combinations completed; page: {folder / 'sweep.html'}"
    )
    for row in frame[frame["error"].notna()].to_dict(orient="records"):
        shown = ", ".join(f"{k}={row[k]}" for k in spec.grid)
        print(f"  failed {shown}: {row['error']}", file=sys.stderr)
    return 0 if not failed else 1


def _best(frame: Any, objective: str) -> dict[str, Any] | None:
    """The completed combination with the best objective (lowest for fees), as plain values."""
    import math

    done = frame[frame["error"].isna()] if "error" in frame else frame
    if done.empty or objective not in done:
        return None
    values = done[objective].astype(float)
    if values.isna().all():
        return None
    row = done.loc[values.idxmin() if objective == "fees" else values.idxmax()]
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        elif hasattr(value, "item"):
            value = value.item()
        out[str(key)] = (
            value if isinstance(value, (int, float, str, bool, type(None))) else str(value)
        )
    return out
