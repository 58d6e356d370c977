"""``MarketStore``: read a canonical dataset through one persistent DuckDB connection.

- One in-memory ``duckdb.connect()`` for the store's lifetime, Parquet footer cache on, opened
  by the first query (reads answered from Parquet footers or row groups directly, as
  end-of-day runs make, never open it); a closed store raises ``ValueError`` on a query.
- Every query is a constant SQL text with bound parameters (``$path``, ``$expiry``, ...): DuckDB
  accepts a bound parameter as the ``read_parquet`` path, so no value, path included, is ever
  formatted into SQL.
- File paths are computed from (underlying, day) (``options/<U>/<YYYY>/<YYYY-MM-DD>.parquet``),
  never globbed.
- Results are Arrow tables (no pandas on the hot path).

Files are checked as they are opened, cheaply, against the catalog (format 2 records every
file's size and row count): a file whose size or footer row count differs from the catalog's,
or whose page checksums fail on a direct read (files written with page checksums: a flipped
bit in a price), raises :class:`CorruptFileError` naming it and pointing to ``workbench data
verify``, instead of serving a wrong price. :meth:`MarketStore.check_files` runs the size
check (a ``stat`` per file) over a run's days up front (the engine records the outcome in the
run's manifest). DuckDB queries (whole-day chains, files without statistics) do not verify
page checksums; ``workbench data verify`` (sha256 of every file) is the full check.

Errors name what is at fault: :class:`DatasetNotFoundError` (no folder or no ``catalog.json``),
:class:`UnknownUnderlyingError` (underlying not in the dataset, with the known ones),
:class:`MissingDayError` (underlying, day and the path looked at), :class:`CorruptFileError`
(truncated or unreadable file, with its path), :class:`SchemaError` (a file whose columns are
not canonical, with the path and the column).

A DuckDB connection must not be used from two threads at once: use one store per process or
thread (the engine runs days in processes, each opening its own store).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from workbench.data import layout
from workbench.data.arrow_memory import use_system_pool
from workbench.data.catalog import Catalog
from workbench.data.errors import (
    CorruptFileError,
    DatasetChangedError,
    DatasetError,
    DatasetNotFoundError,
    MissingDayError,
    SchemaError,
    UnknownUnderlyingError,
)
from workbench.data.schema import OPTIONAL_OPTION_FIELDS, schema_for
from workbench.model.contracts import OptionContract
from workbench.model.dates import as_date
from workbench.model.names import inside

use_system_pool()  # Arrow's buffers from malloc, as NumPy's (workbench.data.arrow_memory)

_SPOT_SQL = "SELECT ts, open, high, low, close, volume FROM read_parquet($path)"
_CHAIN_SQL = "SELECT * FROM read_parquet($path)"
_EXPIRY_SQL = "SELECT * FROM read_parquet($path) WHERE expiry = $expiry"
_INSTRUMENT_SQL = 'SELECT * FROM read_parquet($path) WHERE expiry = $expiry AND strike = $strike AND "right" = $right'
# Several instruments of one expiry: plain comparisons that DuckDB pushes into the scan (row
# groups pruned by their statistics, rows filtered before the other columns are read); the exact
# (strike, right) pairs are then picked in NumPy. A list_contains over the pairs in SQL cannot be
# pushed down and cost about 1.5 ms more per query (every column of the groups materialised).
_INSTRUMENTS_SQL = (
    "SELECT * FROM read_parquet($path) WHERE expiry = $expiry AND strike BETWEEN $lo AND $hi"
)
# One expiry except instruments already held (so none is read twice).
_EXPIRY_EXCEPT_SQL = (
    "SELECT * FROM read_parquet($path) WHERE expiry = $expiry "
    "AND NOT list_contains($keys, {'strike': strike, 'right': \"right\"})"
)
_OPTIONAL_NAMES = frozenset(f.name for f in OPTIONAL_OPTION_FIELDS)
_FLOAT = np.dtype(np.float64)
_INT = np.dtype(np.int64)
_TS = np.dtype("datetime64[us]")
_NUMPY_DTYPES: dict[str, dict[str, np.dtype]] = {
    "spot": {
        "ts": _TS,
        "open": _FLOAT,
        "high": _FLOAT,
        "low": _FLOAT,
        "close": _FLOAT,
        "volume": _INT,
    },
    "options": {
        "ts": _TS,
        "expiry": _TS,
        "strike": _FLOAT,
        "right": np.dtype(object),
        **{n: _FLOAT for n in ("open", "high", "low", "close", "bid", "ask")},
        "volume": _INT,
        "oi": _INT,
    },
}
_EXPIRIES_SQL = "SELECT DISTINCT expiry FROM read_parquet($path) ORDER BY expiry"


class _OpenFile(NamedTuple):
    """A parsed Parquet footer and, for option files, :func:`_group_index` of its row groups."""

    file: pq.ParquetFile
    groups: list[tuple[int, date, float, float]] | None


def _group_index(meta: pq.FileMetaData) -> list[tuple[int, date, float, float]] | None:
    """``[(group, expiry, strike_min, strike_max)]`` of an option file's non-empty row groups,
    from the footer statistics; ``None`` when a group lacks them, holds nulls or mixes expiries
    (files :class:`~workbench.data.writer.DatasetWriter` did not write), so callers query."""
    names = meta.schema.names
    i_exp, i_k = names.index("expiry"), names.index("strike")
    index: list[tuple[int, date, float, float]] = []
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        if group.num_rows == 0:
            continue
        e_stats = group.column(i_exp).statistics
        k_stats = group.column(i_k).statistics
        if e_stats is None or k_stats is None:
            return None
        if not (e_stats.has_min_max and k_stats.has_min_max) or e_stats.null_count:
            return None
        lo, hi = e_stats.min, e_stats.max
        if lo != hi or not isinstance(lo, date):
            return None
        index.append((g, lo, float(k_stats.min), float(k_stats.max)))
    return index


@functools.lru_cache(maxsize=64)
def _schema(kind: layout.Kind, names: tuple[str, ...]) -> pa.Schema:
    """:func:`schema_for`, memoised on the column names (the direct reads check every table)."""
    return schema_for(kind, list(names))


def _rights(column: pa.ChunkedArray) -> np.ndarray | None:
    """A ``right`` column as the object array of "C"/"P" a DuckDB ``fetchnumpy`` gives, built
    from two comparisons instead of one Python string per row; ``None`` for any other value."""
    is_call = pc.equal(column, "C").to_numpy(zero_copy_only=False)
    is_put = pc.equal(column, "P").to_numpy(zero_copy_only=False)
    if not bool((is_call | is_put).all()):
        return None
    out = np.full(len(is_call), "P", dtype=object)
    out[is_call] = "C"
    return out


class MarketStore:
    """An open canonical dataset (see the module docstring).

    ``MarketStore(path, threads=1)`` validates ``catalog.json`` and opens the connection (DuckDB
    with ``threads`` worker threads); use it as a context manager or call :meth:`close`.
    Timestamps in results are exchange-local, naive (``catalog.timezone`` names the zone). The
    catalog is read once at open: reopen the store to see days a writer added since.
    """

    def __init__(self, path: Path | str, *, threads: int = 1) -> None:
        self.path = Path(path)
        self._root_str = str(self.path)
        if not self.path.exists():
            raise DatasetNotFoundError(f"dataset folder {self.path} does not exist")
        if not self.path.is_dir():
            raise DatasetNotFoundError(f"dataset path {self.path} is not a folder")
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise ValueError(f"threads must be a positive integer, got {threads!r}")
        self.catalog: Catalog = Catalog.load(self.path)
        self._catalog_file = str(layout.catalog_path(self.path))
        self._catalog_stamp = self._stamp_catalog()
        for name in self.catalog.day_index:  # a crafted catalog cannot point outside the dataset
            for kind in layout.KINDS:
                folder = self.path / kind / name
                if folder.exists():
                    inside(folder, self.path, f"{kind} folder of {name!r}")
        self._threads = int(threads)
        #: the DuckDB connection, opened by the first query (:attr:`_con`); ``None`` until then
        self._connection: duckdb.DuckDBPyConnection | None = None
        self._closed = False
        #: Number of DuckDB queries this store has run (reads only).
        self.query_count = 0
        #: Reads answered from Parquet row groups directly (footer statistics, no query).
        self.direct_reads = 0
        self._footers: dict[Path, tuple[tuple[int, int], _OpenFile]] = {}
        # files whose size and row count were checked against the catalog, by (mtime, size)
        self._checked: dict[Path, tuple[int, int]] = {}

    # -- lifecycle -------------------------------------------------------------------------
    def _stamp_catalog(self) -> tuple[int, int, int] | None:
        # asked once a day by a positional run (pool.open_store): one os.stat of a path
        # string built once (the pathlib join and stat were ~25 us a call)
        try:
            st = os.stat(self._catalog_file)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def stale(self) -> bool:
        """True when a writer has published a new version since this store was opened (its
        catalog is not the one on disk): reopen the store to read the new version."""
        return self._stamp_catalog() != self._catalog_stamp

    @property
    def _con(self) -> duckdb.DuckDBPyConnection:
        """The store's DuckDB connection, opened by the first query: an in-process DuckDB
        holds ~25 MB resident once open, and an end-of-day run that reads each day's file
        directly or from the column cache never queries (nor does a pool worker that only
        runs such days)."""
        con = self._connection
        if con is None:
            if self._closed:
                raise ValueError(f"the store of {self.path} is closed")
            con = duckdb.connect(":memory:")
            con.execute("SET parquet_metadata_cache = true")
            # one-instrument reads are latency-bound: one thread is fastest and leaves the
            # other cores to the day-parallel workers; pass threads=2+ for whole-chain scans
            con.execute("SET threads = $n", {"n": self._threads})
            self._connection = con
        return con

    def close(self) -> None:
        self._closed = True
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self) -> MarketStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"MarketStore({str(self.path)!r}, version={self.catalog.content_version[:19]})"

    # -- contents --------------------------------------------------------------------------
    def underlyings(self) -> list[str]:
        """Underlyings with data in this dataset, sorted."""
        return sorted(self.catalog.day_index)

    def check_underlying(self, underlying: str) -> str:
        """The canonical name of ``underlying``; :class:`UnknownUnderlyingError` if not held."""
        name = underlying.strip().upper() if isinstance(underlying, str) else underlying
        if name not in self.catalog.day_index:
            known = ", ".join(self.underlyings()) or "none"
            raise UnknownUnderlyingError(
                f"underlying {underlying!r} is not in dataset {self.catalog.name!r} at "
                f"{self.path} (it holds: {known})"
            )
        return str(name)

    def days(self, underlying: str) -> list[date]:
        """Days with a spot or option file for ``underlying``, ascending (from the catalog)."""
        return self.catalog.underlying_days(self.check_underlying(underlying))

    def has_day(self, underlying: str, day: date | str) -> bool:
        """True if the catalog lists spot or option data for (underlying, day)."""
        name = self.check_underlying(underlying)
        entry = self.catalog.day_index[name]
        the_day = as_date(day)
        return the_day in entry.spot or the_day in entry.options

    def spot_path(self, underlying: str, day: date | str) -> Path:
        return layout.spot_path(self.path, self.check_underlying(underlying), as_date(day))

    def options_path(self, underlying: str, day: date | str) -> Path:
        return layout.options_path(self.path, self.check_underlying(underlying), as_date(day))

    def day_file(self, kind: layout.Kind, underlying: str, day: date) -> str:
        """:meth:`spot_path` / :meth:`options_path` as a string, for loops that only stat
        every day file of a run (a ``Path`` costs more to build than the stat)."""
        return layout.data_path_str(self._root_str, kind, self.check_underlying(underlying), day)

    # -- reads -----------------------------------------------------------------------------
    def read_spot(self, underlying: str, day: date | str) -> pa.Table:
        """Spot bars ``ts, open, high, low, close, volume`` of the day, sorted by ``ts``."""
        path = self.spot_path(underlying, day)
        return self._query(path, "spot", underlying, day, _SPOT_SQL, {})

    def daily_closes(
        self, underlying: str, start: date | None = None, end: date | None = None
    ) -> dict[date, float]:
        """The last spot close of each day with a spot file (a daily series: a daily dataset's
        one bar, an intraday day's final bar), ``start``..``end`` inclusive, by date; one
        DuckDB query over the day files' direct paths (bound as a parameter)."""
        name = self.check_underlying(underlying)
        days = [
            d
            for d in self.catalog.day_index[name].spot
            if (start is None or d >= start) and (end is None or d <= end)
        ]
        if not days:
            return {}
        paths = [str(layout.spot_path(self.path, name, d)) for d in days]
        con = self._con  # outside the try: a closed store is not a bad file
        self.query_count += 1
        try:
            rows = con.execute(
                "SELECT CAST(ts AS DATE) AS day, arg_max(close, ts) AS close "
                "FROM read_parquet($paths) WHERE isfinite(close) GROUP BY 1 ORDER BY 1",
                {"paths": paths},
            ).fetchall()
        except duckdb.Error as exc:
            raise DatasetError(
                f"dataset {self.path}: reading {name}'s daily closes: {exc}"
            ) from None
        return {day: float(close) for day, close in rows}

    def read_instrument(self, contract: OptionContract, day: date | str) -> pa.Table:
        """Every bar of one option on ``day`` (all option columns), sorted by ``ts``.

        An instrument that did not trade that day gives an empty table.
        """
        path = self.options_path(contract.underlying, day)
        params = {
            "expiry": contract.expiry,
            "strike": float(contract.strike),
            "right": str(contract.right),
        }
        return self._query(path, "options", contract.underlying, day, _INSTRUMENT_SQL, params)

    def read_chain(self, underlying: str, day: date | str, expiry: date | None = None) -> pa.Table:
        """All option bars of the day (or of one ``expiry``), sorted by (expiry, strike, right, ts)."""
        path = self.options_path(underlying, day)
        if expiry is None:
            return self._query(path, "options", underlying, day, _CHAIN_SQL, {})
        return self._query(path, "options", underlying, day, _EXPIRY_SQL, {"expiry": expiry})

    def expiries(self, underlying: str, day: date | str) -> list[date]:
        """Expiries with at least one bar on ``day``, ascending.

        Answered from the Parquet footer when it can be (no query, about 0.3 ms instead of a
        scan of the file's expiry column): the writer keeps one expiry per row group, so each
        group's ``expiry`` min == max statistics list the expiries. A file whose groups lack
        statistics or mix expiries (not written by :class:`~workbench.data.writer.DatasetWriter`)
        is answered by a DuckDB query instead (counted in :attr:`query_count`).
        """
        path = self.options_path(underlying, day)
        self._check_exists(path, "options", underlying, day)
        listed = self._footer_expiries(path)
        if listed is not None:
            return listed
        table = self._query(path, "options", underlying, day, _EXPIRIES_SQL, {}, check=False)
        return [d for d in table.column("expiry").to_pylist() if d is not None]

    def _footer_expiries(self, path: Path) -> list[date] | None:
        """Expiries from row-group statistics, or ``None`` when the footer cannot tell."""
        index = self._open(path, "options").groups
        if index is None:
            return None
        return sorted({expiry for _, expiry, _, _ in index})

    # -- NumPy readers for the day cache ---------------------------------------------------
    # Same queries, results as ``{column: ndarray}`` (``fetchnumpy``): the cache needs NumPy
    # arrays anyway and this skips the Arrow conversion (~0.3 ms of a ~2 ms fetch). ``ts`` is
    # ``datetime64[us]``, ``right`` an object array of "C"/"P".

    def spot_arrays(self, underlying: str, day: date | str) -> dict[str, np.ndarray]:
        """:meth:`read_spot` as NumPy arrays (read directly from the file, see
        :meth:`_direct_arrays`; a DuckDB query only when that cannot answer)."""
        path = self.spot_path(underlying, day)
        self._check_exists(path, "spot", underlying, day)
        arrays = self._direct_arrays(path, "spot", None)
        if arrays is not None:
            return arrays
        return self._query_numpy(path, "spot", underlying, day, _SPOT_SQL, {})

    def instrument_arrays(self, contract: OptionContract, day: date | str) -> dict[str, np.ndarray]:
        """:meth:`read_instrument` as NumPy arrays (zero-length if it did not trade); read from
        the row groups that can hold it when the footer allows (see :meth:`_direct_arrays`)."""
        path = self.options_path(contract.underlying, day)
        strike, right = float(contract.strike), str(contract.right)
        self._check_exists(path, "options", contract.underlying, day)
        direct = self._direct_arrays(path, "options", (contract.expiry, strike, strike))
        if direct is not None:
            keep = direct["right"] == right
            return direct if keep.all() else {name: col[keep] for name, col in direct.items()}
        params = {"expiry": contract.expiry, "strike": strike, "right": right}
        return self._query_numpy(path, "options", contract.underlying, day, _INSTRUMENT_SQL, params)

    def instruments_arrays(
        self, underlying: str, day: date | str, expiry: date, keys: list[tuple[float, str]]
    ) -> dict[str, np.ndarray]:
        """Bars of several instruments of one expiry, ``keys`` = [(strike, right)], one query."""
        if not keys:
            raise ValueError("instruments_arrays needs at least one (strike, right) key")
        path = self.options_path(underlying, day)
        strikes = [float(k) for k, _ in keys]
        lo, hi = min(strikes), max(strikes)
        params = {"expiry": expiry, "lo": lo, "hi": hi}
        self._check_exists(path, "options", underlying, day)
        direct = self._direct_arrays(path, "options", (expiry, lo, hi))
        if direct is not None:
            arrays = direct
        else:
            arrays = self._query_numpy(path, "options", underlying, day, _INSTRUMENTS_SQL, params)
        calls = [k for k, (_, r) in zip(strikes, keys) if str(r) == "C"]
        puts = [k for k, (_, r) in zip(strikes, keys) if str(r) != "C"]
        is_call = arrays["right"] == "C"
        strike = arrays["strike"]
        keep = np.where(is_call, np.isin(strike, calls), np.isin(strike, puts))
        if keep.all():
            return arrays
        return {name: column[keep] for name, column in arrays.items()}

    def day_columns(
        self, underlying: str, day: date | str, columns: Sequence[str]
    ) -> dict[str, np.ndarray]:
        """The whole option file of ``day`` as NumPy arrays of ``columns`` only (file order:
        (expiry, strike, right, ts)), for end-of-day runs that need every instrument of the
        day: one direct PyArrow read of just these columns. ``ts``/``expiry`` are
        ``datetime64[us]``, ``right`` a boolean ``is_call`` array under the key ``"is_call"``,
        ``volume``/``oi`` ``float64``; optional columns the file lacks (``iv``, ``delta``...)
        come back all-NaN. A file the direct read cannot answer (nulls, unexpected types) goes
        through the DuckDB query, which also gives the errors."""
        path = self.options_path(underlying, day)
        self._check_exists(path, "options", underlying, day)
        opened = self._open(path, "options")
        present = set(opened.file.metadata.schema.names)
        wanted = [c for c in columns if c in present]
        table: pa.Table | None
        try:
            table = opened.file.read(columns=wanted, use_threads=False)
            if any(col.null_count for col in table.columns):
                table = None
        except (pa.ArrowInvalid, OSError):
            table = None
        if table is None:
            table = self.read_chain(underlying, day).select(wanted)
            table = table.combine_chunks()
        else:
            self.direct_reads += 1
        out: dict[str, np.ndarray] = {}
        n = table.num_rows
        for name in columns:
            if name not in present:
                out[name] = np.full(n, np.nan)
                continue
            column = table.column(name)
            if name in ("ts", "expiry"):
                out[name] = column.to_numpy().astype(_TS)
            elif name == "right":
                rights = pc.equal(column, "C").to_numpy(zero_copy_only=False)
                if not bool((rights | pc.equal(column, "P").to_numpy(zero_copy_only=False)).all()):
                    raise SchemaError(f"{path}: column 'right' holds a value other than C/P")
                out["is_call"] = np.asarray(rights, dtype=bool)
            else:
                out[name] = np.asarray(column.to_numpy(), dtype=np.float64)
        return out

    def expiry_arrays(
        self,
        underlying: str,
        day: date | str,
        expiry: date,
        exclude: list[tuple[float, str]] | None = None,
    ) -> dict[str, np.ndarray]:
        """One expiry's bars, without the instruments in ``exclude`` = [(strike, right)].

        Read from the expiry's row groups directly when the footer allows (page checksums
        verified, like every direct read), else by a DuckDB query.
        """
        path = self.options_path(underlying, day)
        self._check_exists(path, "options", underlying, day)
        direct = self._direct_arrays(path, "options", (expiry, -np.inf, np.inf))
        if direct is not None:
            if not exclude:
                return direct
            drop = np.zeros(len(direct["strike"]), dtype=bool)
            strike, right = direct["strike"], direct["right"]
            for k, r in exclude:
                drop |= (strike == float(k)) & (right == str(r))
            return direct if not drop.any() else {n: c[~drop] for n, c in direct.items()}
        if not exclude:
            return self._query_numpy(
                path, "options", underlying, day, _EXPIRY_SQL, {"expiry": expiry}
            )
        params = {
            "expiry": expiry,
            "keys": [{"strike": float(k), "right": str(r)} for k, r in exclude],
        }
        return self._query_numpy(path, "options", underlying, day, _EXPIRY_EXCEPT_SQL, params)

    # -- direct row-group reads -----------------------------------------------------------
    # The engine's per-day reads (a day's spot, a few instruments of one expiry) are small and
    # latency-bound: a DuckDB query on a file not seen before parses its footer and plans the
    # scan, about 1-3 ms. Reading the needed row groups with PyArrow, choosing them from the
    # footer's statistics (which the expiries already needed), gives the same rows in the same
    # order for about half that. Anything unusual (missing statistics, nulls, a non-canonical
    # schema) goes back to the DuckDB query, which also produces the precise errors.

    def _open(self, path: Path, kind: layout.Kind) -> _OpenFile:
        """The parsed footer of ``path`` and, for option files, its row-group index (parsed
        once; a file replaced since, by size or mtime, is reopened). A few recent files are kept.
        """
        try:
            st = path.stat()
            stamp = (st.st_mtime_ns, st.st_size)
            cached = self._footers.get(path)
            if cached is not None and cached[0] == stamp:
                return cached[1]
            pf = pq.ParquetFile(path, page_checksum_verification=True)
        except (pa.ArrowInvalid, OSError):
            raise self._diagnose(path, kind, None, "an unreadable footer") from None
        names = pf.metadata.schema.names
        if kind == "options" and ("expiry" not in names or "strike" not in names):
            raise self._diagnose(path, kind, None, str(names))
        self._check_recorded(path, kind, stamp, pf.metadata.num_rows)
        opened = _OpenFile(pf, _group_index(pf.metadata) if kind == "options" else None)
        if len(self._footers) >= 4:
            self._footers.pop(next(iter(self._footers)))
        self._footers[path] = (stamp, opened)
        return opened

    def _direct_arrays(
        self, path: Path, kind: layout.Kind, window: tuple[date, float, float] | None
    ) -> dict[str, np.ndarray] | None:
        """The file's rows (options: of one expiry with ``lo <= strike <= hi``) as the NumPy
        arrays :meth:`_query_numpy` would return, or ``None`` to fall back to the query."""
        opened = self._open(path, kind)
        pf = opened.file
        if window is None:
            groups = list(range(pf.metadata.num_row_groups))
        else:
            if opened.groups is None:
                return None
            expiry, lo, hi = window
            groups = [
                g
                for g, g_expiry, k_min, k_max in opened.groups
                if g_expiry == expiry and k_min <= hi and k_max >= lo
            ]
        try:
            # one thread: these reads are small, and the other cores belong to other days
            table = (
                pf.read_row_groups(groups, use_threads=False)
                if groups
                else pf.schema_arrow.empty_table()
            )
        except (pa.ArrowInvalid, OSError) as exc:
            # the footer was readable and matches the catalog: a failing page (its checksum,
            # its compression) is damage, never a reason to read the same bytes another way
            raise CorruptFileError(
                f"{path}: damaged data page ({str(exc).splitlines()[0]}); run `workbench data "
                f"verify {self.path}`"
            ) from None
        if not table.schema.equals(_schema(kind, tuple(table.column_names))):
            return None
        if any(column.null_count for column in table.columns):
            return None
        if window is not None and table.num_rows:
            # every group read is of this expiry (the index says so); the writer sorts a group
            # by (strike, right, ts), so the strike window is one slice when strikes ascend
            _, lo, hi = window
            strike = table.column("strike").to_numpy()
            if strike.size > 1 and bool((strike[1:] >= strike[:-1]).all()):
                a = int(np.searchsorted(strike, lo, side="left"))
                b = int(np.searchsorted(strike, hi, side="right"))
                if a or b < table.num_rows:
                    table = table.slice(a, b - a)
            else:
                keep = (strike >= lo) & (strike <= hi)
                if not keep.all():
                    table = table.filter(pa.array(keep))
        arrays: dict[str, np.ndarray] = {}
        for name in table.column_names:
            column = table.column(name)
            if name == "expiry":
                arrays[name] = column.to_numpy().astype(_TS)
            elif name == "right":
                right = _rights(column)
                if right is None:
                    return None
                arrays[name] = right
            else:
                arrays[name] = column.to_numpy()
        if kind == "spot":
            arrays = {name: arrays[name] for name in _NUMPY_DTYPES["spot"]}
        for name, dtype in _NUMPY_DTYPES[kind].items():
            if name not in arrays or arrays[name].dtype != dtype:
                return None
        self.direct_reads += 1
        return arrays

    # -- plumbing --------------------------------------------------------------------------
    def _query(
        self,
        path: Path,
        kind: layout.Kind,
        underlying: str,
        day: date | str,
        sql: str,
        params: dict[str, Any],
        *,
        check: bool = True,
    ) -> pa.Table:
        self._check_exists(path, kind, underlying, day)
        bound = {"path": str(path), **params}
        con = self._con
        self.query_count += 1
        try:
            table: pa.Table = con.sql(sql, params=bound).to_arrow_table()
        except duckdb.Error as exc:
            raise self._diagnose(path, kind, exc) from None
        if check and not table.schema.equals(schema_for(kind, table.column_names)):
            raise self._diagnose(path, kind, None, str(table.schema))
        return table

    def _query_numpy(
        self,
        path: Path,
        kind: layout.Kind,
        underlying: str,
        day: date | str,
        sql: str,
        params: dict[str, Any],
    ) -> dict[str, np.ndarray]:
        self._check_exists(path, kind, underlying, day)
        bound = {"path": str(path), **params}
        con = self._con
        self.query_count += 1
        try:
            arrays: dict[str, np.ndarray] = con.execute(sql, bound).fetchnumpy()  # type: ignore[assignment]
        except duckdb.Error as exc:
            raise self._diagnose(path, kind, exc) from None
        expected = _NUMPY_DTYPES[kind]
        for name, dtype in expected.items():
            arr = arrays.get(name)
            if arr is None or arr.dtype != dtype:
                got = {k: str(v.dtype) for k, v in arrays.items()}
                raise self._diagnose(path, kind, None, str(got))
        if kind == "options" and len(arrays) > len(expected):
            for name in arrays:
                if name not in expected and name not in _OPTIONAL_NAMES:
                    raise self._diagnose(path, kind, None, str(list(arrays)))
        return arrays

    def _check_exists(self, path: Path, kind: str, underlying: str, day: date | str) -> None:
        try:
            st = path.stat()
        except OSError:
            st = None
        if st is None or not path.is_file():
            raise MissingDayError(
                f"no {kind} data for {underlying} on {as_date(day).isoformat()} in dataset "
                f"{self.catalog.name!r}: {path} does not exist"
            )
        if self._checked.get(path) != (st.st_mtime_ns, st.st_size):
            self._open(path, kind)  # type: ignore[arg-type]  # parses the footer, checks it

    def _check_recorded(self, path: Path, kind: str, stamp: tuple[int, int], rows: int) -> None:
        """Size and footer row count of ``path`` against the catalog (format 2 catalogs)."""
        if self._checked.get(path) == stamp:
            return
        problem = self._recorded_problem(path, stamp[1], rows)
        if problem is not None:
            if self.stale():
                raise DatasetChangedError(
                    f"{path}: dataset {self.catalog.name!r} at {self.path} was rewritten after "
                    "this store opened it (a new version was published); open it again to read "
                    "the new version"
                )
            schema_error = self._diagnose(path, kind, None)  # type: ignore[arg-type]
            if isinstance(schema_error, SchemaError):
                raise schema_error
            raise CorruptFileError(
                f"{path}: {problem}: the file changed after the dataset was written; run "
                f"`workbench data verify {self.path}`"
            )
        self._checked[path] = stamp

    def _recorded_problem(self, path: Path, size: int, rows: int | None) -> str | None:
        """What differs between ``path`` (``size`` bytes, ``rows`` rows) and its catalog entry."""
        try:
            rel = path.relative_to(self.path).as_posix()
        except ValueError:
            return None
        return self._recorded_problem_of(rel, size, rows)

    def _recorded_problem_of(self, rel: str, size: int, rows: int | None) -> str | None:
        """:meth:`_recorded_problem` of the file at ``rel`` (its catalog key) under the root."""
        entry = self.catalog.files.get(rel)
        if entry is None:
            if self.catalog.files:
                return "the catalog does not list this file"
            return None  # a format-1 catalog records no files
        if size != entry.bytes:
            return f"{size:,} bytes, the catalog records {entry.bytes:,}"
        if rows is not None and rows != entry.rows:
            return f"{rows:,} rows in its footer, the catalog records {entry.rows:,}"
        return None

    def check_files(
        self, underlying: str, days: list[date], *, footers: bool = False
    ) -> dict[str, Any]:
        """Check the files a run over ``days`` reads: present and of the size the catalog
        records (``footers=True``: also the footer's row count, about 1 ms a file; the store
        checks it anyway when it opens a file). Returns ``{"checked": n, "status": "ok" |
        "failed" | "unrecorded", "problems": [...]}`` (``unrecorded``: a format-1 catalog
        without per-file records, nothing can be checked)."""
        name = self.check_underlying(underlying)
        entry = self.catalog.day_index.get(name)
        problems: list[str] = []
        checked = 0
        if entry is not None:
            root = self._root_str
            for kind, listed in (("spot", entry.spot), ("options", entry.options)):
                wanted = set(days).intersection(listed)
                for day in sorted(wanted):
                    # strings, not Paths: a run checks every day file this way (~2,500 for
                    # five years), and the Path joins cost more than the stats
                    rel = layout.data_relpath(kind, name, day)  # type: ignore[arg-type]
                    path = f"{root}/{rel}"
                    checked += 1
                    try:
                        size = os.stat(path).st_size
                    except OSError:
                        problems.append(f"{path}: missing (the catalog lists it)")
                        continue
                    rows: int | None = None
                    if footers:
                        try:
                            rows = pq.read_metadata(path).num_rows
                        except (pa.ArrowInvalid, OSError) as exc:
                            problems.append(f"{path}: unreadable footer ({exc})")
                            continue
                    problem = self._recorded_problem_of(rel, size, rows)
                    if problem is not None:
                        problems.append(f"{path}: {problem}")
        status = "failed" if problems else ("ok" if self.catalog.files else "unrecorded")
        return {"checked": checked, "status": status, "problems": problems}

    def _diagnose(
        self,
        path: Path,
        kind: layout.Kind,
        exc: BaseException | None,
        got: str | None = None,
    ) -> Exception:
        """Turn a failed read into CorruptFileError or SchemaError naming the path and column."""
        try:
            schema = pq.read_schema(path)
        except (pa.ArrowInvalid, OSError) as read_exc:
            return CorruptFileError(f"{path}: not a readable Parquet file ({read_exc})")
        expected = schema_for(kind, schema.names)
        for field in expected:
            if field.name not in schema.names:
                return SchemaError(f"{path}: {kind} file has no column {field.name!r}")
            actual = schema.field(field.name).type
            if actual != field.type:
                return SchemaError(
                    f"{path}: {kind} column {field.name!r} has type {actual}, expected {field.type}"
                )
        extra = [n for n in schema.names if n not in expected.names]
        if extra:
            return SchemaError(f"{path}: {kind} file has unexpected column(s) {extra}")
        detail = str(exc).splitlines()[0] if exc is not None else f"read columns {got}"
        return CorruptFileError(f"{path}: cannot read {kind} file ({detail})")
