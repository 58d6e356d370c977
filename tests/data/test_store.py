"""MarketStore: reads, direct paths, bound parameters, row-group pruning, clear errors."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from data_builders import (
    DAY,
    DAY2,
    EXPIRY,
    EXPIRY2,
    UNDERLYING,
    build_dataset,
    option_close,
    option_table,
    rerecord,
    writer,
)

from workbench.data.errors import (
    CorruptFileError,
    DatasetNotFoundError,
    MissingDayError,
    SchemaError,
    UnknownUnderlyingError,
)
from workbench.data.layout import options_path
from workbench.data.schema import OPTIONS_SCHEMA, ROW_GROUP_ROWS, SPOT_SCHEMA
from workbench.data.store import MarketStore
from workbench.model.contracts import OptionContract

INSTRUMENTS = [
    (EXPIRY, 100.0, "C", [0, 1, 5]),
    (EXPIRY, 100.0, "P", range(10)),
    (EXPIRY, 150.0, "C", [2, 3]),
    (EXPIRY2, 150.0, "C", [3]),
]


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    build_dataset(tmp_path / "ds", days=(DAY, DAY2), instruments=INSTRUMENTS)
    return tmp_path / "ds"


def test_contents_and_paths(dataset: Path) -> None:
    with MarketStore(dataset) as store:
        assert store.underlyings() == [UNDERLYING]
        assert store.days(UNDERLYING) == [DAY, DAY2]
        assert store.has_day(UNDERLYING, DAY) and not store.has_day(UNDERLYING, date(2024, 1, 5))
        assert store.has_day(UNDERLYING, "2024-01-03")
        assert (
            store.options_path(UNDERLYING, DAY)
            == dataset / "options" / UNDERLYING / "2024" / "2024-01-02.parquet"
        )
        assert (
            store.spot_path(UNDERLYING, DAY2)
            == dataset / "spot" / UNDERLYING / "2024" / "2024-01-03.parquet"
        )
        assert store.expiries(UNDERLYING, DAY) == [EXPIRY, EXPIRY2]


def test_reads(dataset: Path) -> None:
    with MarketStore(dataset) as store:
        spot = store.read_spot(UNDERLYING, DAY)
        assert spot.schema.equals(SPOT_SCHEMA)
        assert spot.column("close").to_pylist() == [100.0 + m for m in range(10)]
        one = store.read_instrument(OptionContract(UNDERLYING, EXPIRY, 100, "C"), DAY)
        assert one.schema.equals(OPTIONS_SCHEMA)
        assert one.column("close").to_pylist() == [option_close(100, "C", m) for m in (0, 1, 5)]
        none = store.read_instrument(OptionContract(UNDERLYING, EXPIRY, 999, "C"), DAY)
        assert none.num_rows == 0 and none.schema.equals(OPTIONS_SCHEMA)
        chain = store.read_chain(UNDERLYING, DAY)
        assert chain.num_rows == 3 + 10 + 2 + 1
        keys = list(
            zip(
                chain.column("expiry").to_pylist(),
                chain.column("strike").to_pylist(),
                chain.column("right").to_pylist(),
            )
        )
        assert keys == sorted(keys)
        assert store.read_chain(UNDERLYING, DAY, EXPIRY2).num_rows == 1
        arrays = store.instruments_arrays(UNDERLYING, DAY, EXPIRY, [(100.0, "P"), (150.0, "C")])
        assert len(arrays["ts"]) == 12
        rest = store.expiry_arrays(UNDERLYING, DAY, EXPIRY, [(100.0, "P")])
        assert sorted(set(zip(rest["strike"].tolist(), rest["right"].tolist()))) == [
            (100.0, "C"),
            (150.0, "C"),
        ]


def test_path_with_quote_is_bound_not_formatted(tmp_path: Path) -> None:
    # a path that would break (or inject into) SQL built by string formatting
    root = tmp_path / 'it\'s a "dataset"; DROP'
    build_dataset(root)
    with MarketStore(root) as store:
        assert store.read_spot(UNDERLYING, DAY).num_rows == 10
        assert (
            store.read_instrument(OptionContract(UNDERLYING, EXPIRY, 100, "P"), DAY).num_rows == 10
        )


def test_one_persistent_connection(dataset: Path) -> None:
    store = MarketStore(dataset)
    con = store._con
    store.read_spot(UNDERLYING, DAY)
    store.read_instrument(OptionContract(UNDERLYING, EXPIRY, 100, "C"), DAY2)
    assert store._con is con and store.query_count == 2
    store.close()


def test_the_connection_opens_on_the_first_query(dataset: Path) -> None:
    # an in-process DuckDB costs ~25 MB resident once opened; end-of-day runs that read
    # every day directly (or from the column cache) never query, so they never pay it
    store = MarketStore(dataset)
    arrays = store.day_columns(UNDERLYING, DAY, ["strike", "close"])
    assert len(arrays["strike"]) and store.query_count == 0
    assert store._connection is None
    assert store.read_spot(UNDERLYING, DAY).num_rows == 10
    assert store._connection is not None and store.query_count == 1
    store.close()
    assert store._connection is None
    with pytest.raises(ValueError, match="is closed"):  # not reported as a bad file
        store.read_spot(UNDERLYING, DAY)
    with pytest.raises(ValueError, match="is closed"):
        store.read_instrument(OptionContract(UNDERLYING, EXPIRY, 100, "C"), DAY2)
    unused = MarketStore(dataset)
    unused.close()  # never connected: nothing to close, and closed all the same
    assert unused._connection is None
    with pytest.raises(ValueError, match="is closed"):
        unused.read_spot(UNDERLYING, DAY)


def test_missing_dataset_and_folder_without_catalog(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match="does not exist"):
        MarketStore(tmp_path / "nothing")
    (tmp_path / "plain").mkdir()
    with pytest.raises(DatasetNotFoundError, match=r"has no catalog\.json"):
        MarketStore(tmp_path / "plain")
    (tmp_path / "file").write_text("x")
    with pytest.raises(DatasetNotFoundError, match="is not a folder"):
        MarketStore(tmp_path / "file")


def test_missing_day_names_underlying_day_and_path(dataset: Path) -> None:
    with MarketStore(dataset) as store:
        path = store.options_path(UNDERLYING, date(2024, 1, 5))
        with pytest.raises(MissingDayError) as info:
            store.read_instrument(OptionContract(UNDERLYING, EXPIRY, 100, "C"), date(2024, 1, 5))
        message = str(info.value)
        assert UNDERLYING in message and "2024-01-05" in message and str(path) in message


def test_unknown_underlying(dataset: Path) -> None:
    with MarketStore(dataset) as store:
        with pytest.raises(
            UnknownUnderlyingError, match=rf"'NOPE' is not in dataset 'tiny'.*holds: {UNDERLYING}"
        ):
            store.read_spot("NOPE", DAY)
        with pytest.raises(UnknownUnderlyingError, match="NOPE"):
            store.days("NOPE")


def test_truncated_parquet_is_corrupt_and_named(dataset: Path) -> None:
    with MarketStore(dataset) as store:
        path = store.options_path(UNDERLYING, DAY)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        with pytest.raises(CorruptFileError, match=re.escape(str(path))):
            store.read_instrument(OptionContract(UNDERLYING, EXPIRY, 100, "C"), DAY)
        with pytest.raises(CorruptFileError, match=re.escape(str(path))):
            store.read_chain(UNDERLYING, DAY)
        spath = store.spot_path(UNDERLYING, DAY)
        spath.write_bytes(b"not parquet at all")
        with pytest.raises(CorruptFileError, match=re.escape(str(spath))):
            store.read_spot(UNDERLYING, DAY)


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda t: t.drop_columns(["bid"]), "has no column 'bid'"),
        (
            lambda t: t.set_column(4, "open", t.column("open").cast(pa.float32())),
            "column 'open' has type float",
        ),
        (
            lambda t: t.append_column("colour", pa.array(["x"] * t.num_rows)),
            r"unexpected column\(s\) \['colour'\]",
        ),
        (lambda t: t.rename_columns([*t.column_names[:-1], "open_interest"]), "has no column 'oi'"),
    ],
)
def test_day_file_with_wrong_columns_names_path_and_column(
    dataset: Path, mutate, match: str
) -> None:
    with MarketStore(dataset) as store:
        path = store.options_path(UNDERLYING, DAY)
        pq.write_table(mutate(pq.read_table(path)), path)
        for read in (
            lambda: store.read_instrument(OptionContract(UNDERLYING, EXPIRY, 100, "C"), DAY),
            lambda: store.read_chain(UNDERLYING, DAY),
            lambda: store.instrument_arrays(OptionContract(UNDERLYING, EXPIRY, 100, "C"), DAY),
            lambda: store.expiry_arrays(UNDERLYING, DAY, EXPIRY),
        ):
            with pytest.raises(SchemaError, match=match) as info:
                read()
            assert str(path) in str(info.value)


def test_spot_file_with_wrong_columns(dataset: Path) -> None:
    with MarketStore(dataset) as store:
        path = store.spot_path(UNDERLYING, DAY)
        pq.write_table(pq.read_table(path).drop_columns(["volume"]), path)
        with pytest.raises(
            SchemaError, match=f"{re.escape(str(path))}: spot file has no column 'volume'"
        ):
            store.read_spot(UNDERLYING, DAY)


def test_file_deleted_after_catalog(dataset: Path) -> None:
    with MarketStore(dataset) as store:
        shutil.rmtree(dataset / "options")
        with pytest.raises(MissingDayError, match="does not exist"):
            store.read_chain(UNDERLYING, DAY)


def test_one_instrument_reads_few_row_groups(tmp_path: Path) -> None:
    """Layout + DuckDB: one instrument-day skips most of the day's row groups."""
    rows = [
        (e, 1000.0 + 5 * i, r, range(375))
        for e in (EXPIRY, EXPIRY2)
        for i in range(40)
        for r in ("C", "P")
    ]
    w = writer(tmp_path / "ds")
    from data_builders import spot_table

    w.write_spot(UNDERLYING, DAY, spot_table(DAY))
    w.write_options(UNDERLYING, DAY, option_table(DAY, rows))
    w.finalize()
    path = options_path(tmp_path / "ds", UNDERLYING, DAY)
    meta = pq.read_metadata(path)
    n_groups = meta.num_row_groups
    assert n_groups >= 7
    assert all(meta.row_group(g).num_rows <= ROW_GROUP_ROWS for g in range(n_groups))
    # statistics: instruments are contiguous, so one instrument overlaps at most 2 groups
    names = meta.schema.to_arrow_schema().names
    i_exp, i_k, i_r = (names.index(n) for n in ("expiry", "strike", "right"))
    target = (EXPIRY2, 1100.0, "P")
    overlapping = 0
    for g in range(n_groups):
        rg = meta.row_group(g)
        lo = tuple(rg.column(i).statistics.min for i in (i_exp, i_k, i_r))
        hi = tuple(rg.column(i).statistics.max for i in (i_exp, i_k, i_r))
        if all(a <= t <= b for a, t, b in zip(lo, target, hi)):
            overlapping += 1
    assert overlapping == 1  # groups hold whole instruments of one expiry
    # DuckDB's own account of what it scanned
    con = duckdb.connect()
    plan = con.execute(
        'EXPLAIN ANALYZE SELECT * FROM read_parquet($path) WHERE expiry = $e AND strike = $k AND "right" = $r',
        {"path": str(path), "e": target[0], "k": target[1], "r": target[2]},
    ).fetchall()[0][1]
    scanned = re.search(r"Row Groups Scanned: (\d+) / (\d+)", plan)
    assert scanned is not None, plan
    assert int(scanned.group(2)) == n_groups
    assert int(scanned.group(1)) == 1
    with MarketStore(tmp_path / "ds") as store:
        got = store.read_instrument(OptionContract(UNDERLYING, *target), DAY)
        assert got.num_rows == 375


def test_expiries_come_from_the_footer_without_a_query(dataset: Path) -> None:
    with MarketStore(dataset) as store:
        before = store.query_count
        assert store.expiries(UNDERLYING, DAY) == [EXPIRY, EXPIRY2]
        assert store.expiries(UNDERLYING, DAY2) == [EXPIRY, EXPIRY2]
        assert store.query_count == before


@pytest.mark.parametrize(
    "rewrite",
    [
        # one row group holding both expiries: min != max, the footer cannot list them
        lambda t, path: pq.write_table(t, path, row_group_size=t.num_rows),
        # no statistics at all
        lambda t, path: pq.write_table(t, path, write_statistics=False, row_group_size=2),
    ],
    ids=["mixed-group", "no-statistics"],
)
def test_expiries_of_a_file_the_footer_cannot_answer_are_queried(dataset: Path, rewrite) -> None:
    with MarketStore(dataset) as store:
        path = store.options_path(UNDERLYING, DAY)
        rewrite(pq.read_table(path), path)
        rerecord(dataset, store)
        before = store.query_count
        assert store.expiries(UNDERLYING, DAY) == [EXPIRY, EXPIRY2]
        assert store.query_count == before + 1


def test_expiries_of_a_truncated_or_missing_file_are_named(dataset: Path) -> None:
    with MarketStore(dataset) as store:
        path = store.options_path(UNDERLYING, DAY)
        path.write_bytes(path.read_bytes()[:100])
        with pytest.raises(CorruptFileError, match=re.escape(str(path))):
            store.expiries(UNDERLYING, DAY)
        store.options_path(UNDERLYING, DAY2).unlink()
        with pytest.raises(MissingDayError, match="2024-01-03"):
            store.expiries(UNDERLYING, DAY2)


def test_several_instruments_are_exactly_the_pairs_asked_for(tmp_path: Path) -> None:
    """Half-point strikes (22.5) next to whole ones: only the asked (strike, right) pairs come back,
    never the other right of an asked strike nor a strike in between."""
    rows = [(EXPIRY, k, r, range(3)) for k in (22.0, 22.5, 23.0) for r in ("C", "P")]
    root = tmp_path / "ds"
    w = writer(root)
    from data_builders import spot_table

    w.write_spot(UNDERLYING, DAY, spot_table(DAY))
    w.write_options(UNDERLYING, DAY, option_table(DAY, rows))
    w.finalize()
    with MarketStore(root) as store:
        got = store.instruments_arrays(UNDERLYING, DAY, EXPIRY, [(22.0, "C"), (23.0, "P")])
        pairs = set(zip(got["strike"].tolist(), got["right"].tolist()))
        assert pairs == {(22.0, "C"), (23.0, "P")}
        assert len(got["ts"]) == 6
        got = store.instruments_arrays(UNDERLYING, DAY, EXPIRY, [(22.5, "P")])
        assert set(zip(got["strike"].tolist(), got["right"].tolist())) == {(22.5, "P")}


def _same_arrays(a: dict, b: dict) -> bool:
    return list(a) == list(b) and all(
        a[k].dtype == b[k].dtype and a[k].tolist() == b[k].tolist() for k in a
    )


def test_direct_reads_equal_the_duckdb_query_and_fall_back_when_they_cannot(
    dataset: Path,
) -> None:
    from workbench.data import store as store_module

    with MarketStore(dataset) as store:
        keys = [(100.0, "C"), (150.0, "C")]
        queried = store._query_numpy(
            store.options_path(UNDERLYING, DAY),
            "options",
            UNDERLYING,
            DAY,
            store_module._INSTRUMENTS_SQL,
            {"expiry": EXPIRY, "lo": 100.0, "hi": 150.0},
        )
        queried = {k: v[queried["right"] == "C"] for k, v in queried.items()}
        before = store.query_count
        direct = store.instruments_arrays(UNDERLYING, DAY, EXPIRY, keys)
        spot = store.spot_arrays(UNDERLYING, DAY)
        assert store.query_count == before and store.direct_reads == 2
        assert _same_arrays(direct, queried)
        spot_query = store._query_numpy(
            store.spot_path(UNDERLYING, DAY), "spot", UNDERLYING, DAY, store_module._SPOT_SQL, {}
        )
        assert _same_arrays(spot, spot_query)
        # a file without statistics: the query answers, with the same rows
        path = store.options_path(UNDERLYING, DAY)
        pq.write_table(pq.read_table(path), path, write_statistics=False)
        rerecord(store.path, store)
        before = store.query_count
        again = store.instruments_arrays(UNDERLYING, DAY, EXPIRY, keys)
        assert store.query_count == before + 1
        assert _same_arrays(again, queried)


def _multi_group_dataset(root: Path) -> Path:
    """Two expiries x 40 strikes x 2 rights x 375 minutes: several row groups per expiry, with
    instruments of one strike split across a group boundary somewhere."""
    rows = [
        (e, 1000.0 + 5 * i, r, range(375))
        for e in (EXPIRY, EXPIRY2)
        for i in range(40)
        for r in ("C", "P")
    ]
    w = writer(root)
    from data_builders import spot_table

    w.write_spot(UNDERLYING, DAY, spot_table(DAY))
    w.write_options(UNDERLYING, DAY, option_table(DAY, rows))
    w.finalize()
    return root


def test_one_instrument_is_read_from_its_row_groups_and_equals_the_query(tmp_path: Path) -> None:
    from workbench.data import store as store_module

    root = _multi_group_dataset(tmp_path / "ds")
    path = root / "options" / UNDERLYING / "2024" / f"{DAY.isoformat()}.parquet"
    meta = pq.read_metadata(path)
    names = meta.schema.to_arrow_schema().names
    # a strike whose call and put sit in different row groups, to exercise the right filter
    i_k = names.index("strike")
    edges = [meta.row_group(g).column(i_k).statistics.max for g in range(meta.num_row_groups)]
    with MarketStore(root) as store:
        for expiry, strike in [(EXPIRY, 1000.0), (EXPIRY2, 1195.0), (EXPIRY, edges[0])]:
            for right in ("C", "P"):
                contract = OptionContract(UNDERLYING, expiry, strike, right)
                before = store.query_count, store.direct_reads
                direct = store.instrument_arrays(contract, DAY)
                assert (store.query_count, store.direct_reads) == (before[0], before[1] + 1)
                queried = store._query_numpy(
                    path,
                    "options",
                    UNDERLYING,
                    DAY,
                    store_module._INSTRUMENT_SQL,
                    {"expiry": expiry, "strike": strike, "right": right},
                )
                assert len(direct["ts"]) == 375
                assert _same_arrays(direct, queried), (expiry, strike, right)
        # an instrument that is not listed: empty arrays with the query's dtypes, no query
        before = store.query_count
        none = store.instrument_arrays(OptionContract(UNDERLYING, EXPIRY, 1002.5, "C"), DAY)
        assert store.query_count == before
        assert all(len(v) == 0 for v in none.values()) and none["ts"].dtype.kind == "M"


def test_files_of_an_older_codec_read_the_same(tmp_path: Path) -> None:
    """The writer's codec (LZ4_RAW) and files written with snappy give identical arrays."""
    root = _multi_group_dataset(tmp_path / "ds")
    path = root / "options" / UNDERLYING / "2024" / f"{DAY.isoformat()}.parquet"
    con = duckdb.connect()
    codecs = con.execute(
        "SELECT DISTINCT compression FROM parquet_metadata($p)", {"p": str(path)}
    ).fetchall()
    assert codecs == [("LZ4_RAW",)]
    contract = OptionContract(UNDERLYING, EXPIRY2, 1100.0, "P")
    keys = [(1090.0, "C"), (1100.0, "P"), (1105.0, "C")]
    with MarketStore(root) as store:
        one = store.instrument_arrays(contract, DAY)
        several = store.instruments_arrays(UNDERLYING, DAY, EXPIRY2, keys)
        table = pq.read_table(path)
        meta = pq.read_metadata(path)
        with pq.ParquetWriter(path, table.schema, compression="snappy") as out:
            start = 0
            for g in range(meta.num_row_groups):  # the same row groups, another codec
                rows = meta.row_group(g).num_rows
                out.write_table(table.slice(start, rows), row_group_size=rows)
                start += rows
        assert pq.read_metadata(path).row_group(0).column(0).compression == "SNAPPY"
        rerecord(root, store)
        assert _same_arrays(store.instrument_arrays(contract, DAY), one)
        assert _same_arrays(store.instruments_arrays(UNDERLYING, DAY, EXPIRY2, keys), several)
