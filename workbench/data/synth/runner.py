"""``generate``: build a synthetic dataset through :class:`~workbench.data.writer.DatasetWriter`.

Days are planned serially (spot skeleton, expiries, strike bands), then built in chunks on a
process pool, each task writing its days into its own scratch folder through its own
:class:`~workbench.data.writer.DatasetWriter` (its files then move into the new version, and
one ``finalize`` writes the catalog). Every random draw of a day comes from generators keyed by
``(seed, day)``, so the content (and the catalog's content version) depends only on the
profile, seed, start and length, never on the number of workers or the chunking.

The whole generation is one dataset transaction (:mod:`workbench.data.txn`): it holds ``out``'s
lock (one writer at a time), builds the new version beside ``out`` and replaces ``out`` in one
atomic step at the end; a kill leaves the previous dataset (or none), and the next writer of
``out`` removes the leftovers. The synthetic calendar is the venue's regular sessions
(``trading_days(..., special=False)``): Muhurat hours and weekend test sessions are real-data
events it does not simulate.

The pool's workers are spawned processes that exit when the generating process dies, even by
``SIGKILL`` (:mod:`workbench.data.workers`): a script that calls :func:`generate` with workers
must guard its entry point with ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from tqdm import tqdm

from workbench.data import layout
from workbench.data.catalog import Catalog
from workbench.data.locks import DEFAULT_LOCK_TIMEOUT
from workbench.data.synth.output import check_out, synth_source
from workbench.data.synth.profiles import Profile, get_profile
from workbench.data.synth.seeding import check_seed
from workbench.data.workers import worker_pool
from workbench.data.writer import DatasetWriter
from workbench.model import calendars
from workbench.model.dates import as_date

#: Largest number of days one worker task builds and writes.
MAX_CHUNK_DAYS = 8
#: By default, runs shorter than this build in-process: measured on 2 shared cores, the pool's
#: start-up (fork server, imports, Numba cache loads) ate its gain up to about two months.
MIN_POOL_DAYS = 100
#: Scratch folder (inside the staged dataset) where each task writes before its files move in.
SCRATCH_DIR = ".chunks"


def parse_start(start: object) -> date:
    """``start`` as a date (a ``date``, ``datetime`` or ``YYYY-MM-DD``); ``ValueError`` otherwise."""
    return as_date(start, "start")


def _positive_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return value


def select_days(underlying: str, start: date, days: int | None, years: int | None) -> list[date]:
    """Trading days of ``underlying``: the first ``days`` from ``start``, or ``years`` of them."""
    if (days is None) == (years is None):
        raise ValueError(f"give exactly one of days or years (got days={days!r}, years={years!r})")
    try:
        if days is not None:
            n = _positive_int(days, "days")
            end = start + timedelta(days=2 * n + 30)
            found = _trading_days_upto(underlying, start, end)
            if len(found) < n:
                raise ValueError(
                    f"days: only {len(found)} {underlying} trading days from start {start} "
                    f"within the calendar's coverage, {n} asked"
                )
            return found[:n]
        n_years = _positive_int(years, "years")
        try:
            end = start.replace(year=start.year + n_years) - timedelta(days=1)
        except ValueError:  # 29 February
            end = date(start.year + n_years, 2, 28)
        found = _trading_days_upto(underlying, start, end)
        if not found:
            raise ValueError(f"years: no {underlying} trading days from start {start}")
        return found
    except calendars.CalendarRangeError as exc:
        raise ValueError(f"start {start}: {exc}") from None


def _trading_days_upto(underlying: str, start: date, end: date) -> list[date]:
    """Regular trading days in [start, end], ``end`` clipped to the calendar's last covered
    day (special sessions left out: the synthetic market does not simulate them)."""
    try:
        return calendars.trading_days(underlying, start, end, special=False)
    except calendars.CalendarRangeError:
        lo, hi = start, end
        while (hi - lo).days > 1:  # largest covered end by bisection
            mid = lo + (hi - lo) / 2
            try:
                calendars.trading_days(underlying, start, mid)
                lo = mid
            except calendars.CalendarRangeError:
                hi = mid
        return calendars.trading_days(underlying, start, lo, special=False)


def _writer_kwargs(profile: Profile, seed: int, start: date, n_days: int) -> dict[str, Any]:
    return {
        "name": f"synth-{profile.name}",
        "venue": profile.venue,
        "timezone": profile.timezone,
        "bar_interval": profile.bar_interval,
        "source": synth_source(profile.name, seed, start, n_days),
    }


def _build_chunk(
    profile_name: str, seed: int, folder: str, writer_kwargs: dict[str, Any], plans: Sequence[Any]
) -> int:
    """Build each planned day and write its files into the scratch dataset ``folder``.

    Each task has its own folder (and writer): writers in several processes never touch the
    same directory. Returns the number of days built.
    """
    profile = get_profile(profile_name)
    writer = DatasetWriter(folder, transaction=False, **writer_kwargs)
    for plan in plans:
        day = _plan_day(plan)
        tables = profile.build(plan, seed)
        for underlying, table in tables.get("spot", {}).items():
            writer.write_spot(underlying, day, table)
        for underlying, table in tables.get("options", {}).items():
            if table.num_rows:
                writer.write_options(underlying, day, table)
    return len(plans)


def _merge_chunk(folder: Path, root: Path) -> None:
    """Move a task's data files into the dataset ``root`` and remove its scratch folder."""
    for _kind, _underlying, _day, path in layout.iter_data_files(folder):
        target = root / path.relative_to(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
    shutil.rmtree(folder)


def _plan_day(plan: Any) -> date:
    day = plan.skeleton.day
    assert isinstance(day, date)
    return day


def _worker_init() -> None:
    """One Numba thread per worker process: the pool already uses every core."""
    import numba

    import workbench.data.synth.profiles  # noqa: F401  (load the generators before the first task)

    numba.set_num_threads(1)


def generate(
    profile: str,
    out: Path | str,
    *,
    seed: int,
    start: date | str,
    days: int | None = None,
    years: int | None = None,
    progress: bool = True,
    workers: int | None = None,
    lock_timeout: float | None = DEFAULT_LOCK_TIMEOUT,
) -> Catalog:
    """Write the synthetic dataset ``profile`` to ``out`` and return its catalog.

    Parameters
    ----------
    profile : ``"nifty-intraday"`` (1-minute NIFTY spot and options) or ``"spx-eod"`` (daily
        SPX/SPXW chains); see :mod:`workbench.data.synth`.
    out : dataset folder: absent, empty, or a synthetic dataset written before (replaced).
    seed : non-negative integer; the same arguments give the same content version.
    start : first calendar day (the first trading day on or after it is the first day).
    days, years : length, exactly one of them: ``days`` trading days, or every trading day of
        ``years`` calendar years from ``start``.
    progress : show a tqdm progress bar (on stderr).
    workers : processes to build days on; 1 builds in this process. Default: every core for
        runs of at least :data:`MIN_POOL_DAYS` days, else 1 (for shorter runs the pool's
        start-up, a few seconds, costs more than it saves).
    lock_timeout : seconds to wait for another writer of ``out`` (``0``: fail at once).
    """
    prof = get_profile(profile)
    seed = check_seed(seed)
    start_day = parse_start(start)
    trading = select_days(prof.calendar_underlying, start_day, days, years)
    out_path = Path(out)
    check_out(out_path)
    if workers is not None:
        workers = _positive_int(workers, "workers")
    plans = prof.plan(trading, seed)
    kwargs = _writer_kwargs(prof, seed, start_day, len(trading))
    if workers is None:
        workers = 1 if len(plans) < MIN_POOL_DAYS else os.cpu_count() or 1
    n_workers = min(workers, len(plans))
    size = max(1, min(MAX_CHUNK_DAYS, math.ceil(len(plans) / (4 * n_workers))))
    chunks = [plans[i : i + size] for i in range(0, len(plans), size)]
    bar = tqdm(total=len(plans), unit="day", desc=f"synth {prof.name}", disable=not progress)
    final = DatasetWriter(out_path, replace=True, lock_timeout=lock_timeout, **kwargs)
    try:
        check_out(out_path)  # again, now that no other writer can change it
        root = final.folder
        scratch = [root / SCRATCH_DIR / f"{k:05d}" for k in range(len(chunks))]
        with bar:
            if n_workers == 1:
                for folder, chunk in zip(scratch, chunks):
                    bar.update(_build_chunk(prof.name, seed, str(folder), kwargs, chunk))
                    _merge_chunk(folder, root)
            else:
                with worker_pool(n_workers, initializer=_worker_init) as pool:
                    pending: dict[Future[int], Path] = {
                        pool.submit(_build_chunk, prof.name, seed, str(folder), kwargs, chunk): (
                            folder
                        )
                        for folder, chunk in zip(scratch, chunks)
                    }
                    try:
                        while pending:
                            done, _ = wait(pending, return_when=FIRST_COMPLETED)
                            for future in done:
                                folder = pending.pop(future)
                                bar.update(future.result())
                                _merge_chunk(folder, root)
                    except BaseException:
                        for future in pending:
                            future.cancel()
                        raise
        shutil.rmtree(root / SCRATCH_DIR, ignore_errors=True)
        return final.finalize()
    except BaseException:
        final.abort()
        raise
