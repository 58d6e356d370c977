"""Ingest adapters: real market data files into the canonical dataset, nothing lost, nothing silent.

::

    from workbench.data.ingest import ingest
    report = ingest("cboe-eod", ["../shared/data/real/us_spx_eod_chains_2019"], "data/spx2019")
    assert report.balanced            # accepted + rejected == rows read, per file and in total
    print(report.format_text())

Formats (``--format`` of ``workbench data ingest``), one module each:

- ``cboe-eod`` (:mod:`.cboe`): CBOE-style end-of-day chain CSVs; SPX and SPXW by OCC root.
- ``orats`` (:mod:`.orats`): ORATS daily snapshot CSVs (seed 003, Appendix A).
- ``nse-chain`` (:mod:`.nse`): NSE option-chain snapshots (calls and puts side by side, one
  Parquet file per snapshot); spot derived from put-call parity (:mod:`.parity`).
- ``ohlc`` (:mod:`.ohlc`): spot/index/VIX bars (GDFL minute files, epoch-second bars, Yahoo-style
  daily files, long files with a ``root`` column).

Every input row is written or quarantined in ``rejects/<format>.<file>.<sha>.parquet`` (keyed
by the file's content) with its source file, line and reason (:mod:`.rules`, :mod:`.quarantine`); the catalog's ``row_counts``
and ``rejected_by_reason`` record the totals. Whole files that cannot be trusted (a day the
venue did not trade, a quote date that disagrees with the file name) are quarantined with their
reason; files that cannot be read at all are refused with an error naming them, without
affecting the others (:mod:`.run`).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path

from workbench.data.ingest.base import Adapter
from workbench.data.ingest.errors import (
    HeaderError,
    IngestError,
    UnknownFormatError,
    UnreadableFileError,
)
from workbench.data.ingest.report import FileOutcome, IngestReport

#: ``--format`` name -> ``module:class`` of its adapter.
ADAPTERS: dict[str, str] = {
    "cboe-eod": "workbench.data.ingest.cboe:CboeEodAdapter",
    "orats": "workbench.data.ingest.orats:OratsAdapter",
    "nse-chain": "workbench.data.ingest.nse:NseChainAdapter",
    "ohlc": "workbench.data.ingest.ohlc:OhlcAdapter",
}


def make_adapter(fmt: str, *, underlying: str | None = None) -> Adapter:
    """The adapter for ``fmt``; :class:`UnknownFormatError` lists the known formats."""
    target = ADAPTERS.get(fmt)
    if target is None:
        raise UnknownFormatError(f"unknown ingest format {fmt!r}; known: {sorted(ADAPTERS)}")
    module, cls = target.split(":")
    adapter: Adapter = getattr(importlib.import_module(module), cls)(underlying=underlying)
    return adapter


def ingest(
    fmt: str,
    sources: Sequence[Path | str],
    out: Path | str,
    *,
    underlying: str | None = None,
    name: str | None = None,
    progress: bool = False,
    lock_timeout: float | None = 600.0,
) -> IngestReport:
    """Ingest ``sources`` (files or folders, ``.gz`` read directly) as ``fmt`` into ``out``.

    Creates the dataset or extends it (days in this input replace those days' files), as one
    transaction holding the dataset's lock (``lock_timeout``: seconds to wait for another
    writer; ``0`` fails at once). ``underlying`` overrides the underlying a format would infer
    (``ohlc``, ``orats``); ``name`` is the dataset name (default: the folder name). Returns the
    :class:`IngestReport`.
    """
    from workbench.data.ingest.run import ingest as run_ingest

    adapter = make_adapter(fmt, underlying=underlying)
    return run_ingest(
        adapter, sources, out, name=name, progress=progress, lock_timeout=lock_timeout
    )


__all__ = [
    "ADAPTERS",
    "Adapter",
    "FileOutcome",
    "HeaderError",
    "IngestError",
    "IngestReport",
    "UnknownFormatError",
    "UnreadableFileError",
    "ingest",
    "make_adapter",
]
