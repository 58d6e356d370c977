"""DatasetWriter: round trip, determinism, extension, schema checks, atomic writes, rejects."""

from __future__ import annotations

import itertools
import json
import os
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from data_builders import (
    DAY,
    DAY2,
    EXPIRY,
    TEST_SPEC,
    UNDERLYING,
    build_dataset,
    option_table,
    spot_table,
    writer,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.data import atomic, schema
from workbench.data.catalog import Catalog
from workbench.data.errors import DatasetError, SchemaError, UnknownUnderlyingError
from workbench.data.layout import options_path, spot_path
from workbench.data.schema import OPTIONS_SCHEMA, ROW_GROUP_ROWS, SPOT_SCHEMA
from workbench.data.writer import DatasetWriter


def test_round_trip_files_are_canonical_and_sorted(tmp_path: Path) -> None:
    cat = build_dataset(tmp_path / "ds")
    opt = pq.read_table(options_path(tmp_path / "ds", UNDERLYING, DAY))
    assert opt.schema.equals(OPTIONS_SCHEMA)
    # the builder writes instruments in reverse order: the writer sorts (expiry, strike, right, ts)
    rights = opt.column("right").to_pylist()
    assert rights == ["C"] * 10 + ["P"] * 10
    ts = opt.column("ts").to_pylist()
    assert ts[:10] == sorted(ts[:10])
    spot = pq.read_table(spot_path(tmp_path / "ds", UNDERLYING, DAY))
    assert spot.schema.equals(SPOT_SCHEMA)
    assert cat.row_counts.spot == 10 and cat.row_counts.options == 20
    assert cat.start == cat.end == DAY and cat.days == 1
    assert cat.day_index[UNDERLYING].spot == [DAY]
    assert cat.underlyings[UNDERLYING] == TEST_SPEC
    assert Catalog.load(tmp_path / "ds") == cat


def test_same_input_same_bytes_and_content_version(tmp_path: Path) -> None:
    a = build_dataset(tmp_path / "a", days=(DAY, DAY2))
    b = build_dataset(tmp_path / "b", days=(DAY, DAY2))
    assert a.content_version == b.content_version
    pa_bytes = options_path(tmp_path / "a", UNDERLYING, DAY).read_bytes()
    assert pa_bytes == options_path(tmp_path / "b", UNDERLYING, DAY).read_bytes()
    # a different value changes the version
    w = writer(tmp_path / "b")
    w.write_spot(UNDERLYING, DAY, spot_table(DAY, range(9)))
    assert w.finalize().content_version != a.content_version


def test_content_version_is_sha_over_relative_paths_and_file_hashes(tmp_path: Path) -> None:
    import hashlib

    root = tmp_path / "ds"
    cat = build_dataset(root)
    lines = []
    for path in sorted(p for p in root.rglob("*.parquet")):
        rel = path.relative_to(root).as_posix()
        lines.append((rel, hashlib.sha256(path.read_bytes()).hexdigest()))
    digest = hashlib.sha256()
    for rel, sha in sorted(lines):
        digest.update(f"{rel}\t{sha}\n".encode())
    digest.update(b"{}")
    assert cat.content_version == f"sha256:{digest.hexdigest()}"


def test_extend_adds_days_replaces_rewritten_day_keeps_the_rest(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    build_dataset(root, days=(DAY,))
    spot1 = spot_path(root, UNDERLYING, DAY)
    before = spot1.read_bytes()
    mtime = spot1.stat().st_mtime_ns
    w = writer(root)
    w.write_spot(UNDERLYING, DAY2, spot_table(DAY2, range(5)))
    w.write_options(UNDERLYING, DAY, option_table(DAY, [(EXPIRY, 200.0, "C", range(3))]))
    cat = w.finalize()
    assert cat.day_index[UNDERLYING].spot == [DAY, DAY2]
    assert cat.day_index[UNDERLYING].options == [DAY]
    assert cat.days == 2 and cat.end == DAY2
    assert spot1.read_bytes() == before and spot1.stat().st_mtime_ns == mtime
    assert pq.read_table(options_path(root, UNDERLYING, DAY)).num_rows == 3
    assert cat.row_counts.spot == 15 and cat.row_counts.options == 3


def test_extending_with_another_timezone_or_interval_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    build_dataset(root)
    with pytest.raises(DatasetError, match="timezone"):
        writer(root, timezone="America/New_York")
    with pytest.raises(DatasetError, match="bar_interval"):
        writer(root, bar_interval="1d")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"bar_interval": "5min"}, "bar_interval"),
        ({"name": " "}, "name"),
    ],
)
def test_bad_writer_arguments(tmp_path: Path, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        writer(tmp_path / "ds", **kwargs)


def test_compatible_types_are_cast(tmp_path: Path) -> None:
    t = option_table(DAY)
    t = t.set_column(2, "strike", pc.cast(t.column("strike"), pa.int32()))
    t = t.set_column(0, "ts", pc.cast(t.column("ts"), pa.timestamp("ns")))
    t = t.set_column(
        3, "right", pa.array(["CE" if r == "C" else "pe" for r in t.column("right").to_pylist()])
    )
    t = t.set_column(10, "volume", pc.cast(t.column("volume"), pa.float64()))
    t = t.set_column(6, "low", pa.array([None] * t.num_rows, pa.float64()))
    w = writer(tmp_path / "ds")
    w.write_spot(UNDERLYING, DAY, spot_table(DAY))
    path = w.write_options(UNDERLYING, DAY, t)
    out = pq.read_table(path)
    assert out.schema.equals(OPTIONS_SCHEMA)
    assert set(out.column("right").to_pylist()) == {"C", "P"}
    assert all(x != x for x in out.column("low").to_pylist())  # nulls became NaN


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda t: t.drop_columns(["bid"]), r"missing column\(s\) \['bid'\]"),
        (
            lambda t: t.append_column("colour", pa.array(["x"] * t.num_rows)),
            "unexpected column.*colour",
        ),
        (
            lambda t: t.set_column(1, "expiry", pa.array(["2024-01-04"] * t.num_rows)),
            "column 'expiry' has type string",
        ),
        (
            lambda t: t.set_column(3, "right", pa.array(["X"] * t.num_rows)),
            "column 'right' row 0 has 'X'",
        ),
        (
            lambda t: t.set_column(2, "strike", pa.array([0.0] * t.num_rows)),
            "column 'strike' row 0",
        ),
        (lambda t: t.set_column(10, "volume", pa.array([1.5] * t.num_rows)), "column 'volume'"),
        (
            lambda t: t.set_column(
                0, "ts", pa.array([datetime(2024, 1, 5, 10)] * t.num_rows, pa.timestamp("us"))
            ),
            "column 'ts' row 0 is 2024-01-05 10:00:00, not on 2024-01-02",
        ),
        (
            lambda t: t.set_column(0, "ts", pc.assume_timezone(t.column("ts"), "Asia/Kolkata")),
            "timezone-aware",
        ),
        (lambda t: pa.concat_tables([t, t.slice(0, 1)]), "duplicate row"),
        (lambda t: t.slice(0, 0), "no rows"),
    ],
)
def test_bad_option_tables_name_underlying_day_and_column(
    tmp_path: Path, mutate, match: str
) -> None:
    w = writer(tmp_path / "ds")
    with pytest.raises(SchemaError, match=match) as info:
        w.write_options(UNDERLYING, DAY, mutate(option_table(DAY)))
    assert f"options table for {UNDERLYING} {DAY.isoformat()}" in str(info.value)
    assert not options_path(tmp_path / "ds", UNDERLYING, DAY).exists()


def test_null_key_is_refused(tmp_path: Path) -> None:
    t = option_table(DAY)
    strikes = t.column("strike").to_pylist()
    strikes[4] = None
    t = t.set_column(2, "strike", pa.array(strikes, pa.float64()))
    with pytest.raises(SchemaError, match="column 'strike' row 4 is null"):
        writer(tmp_path / "ds").write_options(UNDERLYING, DAY, t)


def test_underlying_unknown_to_registry_needs_a_spec(tmp_path: Path) -> None:
    w = writer(tmp_path / "ds", underlying_specs=None)
    w.write_spot(UNDERLYING, DAY, spot_table(DAY))
    with pytest.raises(UnknownUnderlyingError, match=f"'{UNDERLYING}' .*underlying_specs"):
        w.finalize()
    assert not (tmp_path / "ds" / "catalog.json").exists()


def test_registered_underlying_gets_registry_summary(tmp_path: Path) -> None:
    w = writer(tmp_path / "ds", underlying_specs=None)
    w.write_spot("NIFTY", DAY, spot_table(DAY))
    spec = w.finalize().underlyings["NIFTY"]
    assert spec.registered and spec.venue == "NSE" and spec.currency == "INR"
    assert spec.lot_size is not None and spec.lot_size > 0


def test_bad_underlying_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a valid name"):
        writer(tmp_path / "ds").write_spot("../etc", DAY, spot_table(DAY))


def test_killed_write_leaves_old_file_and_no_visible_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ds"
    build_dataset(root)
    path = spot_path(root, UNDERLYING, DAY)
    before = path.read_bytes()
    real_replace = os.replace

    def killed(src: str, dst: str) -> None:  # the process dies after the temp file is complete
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(atomic.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        writer(root).write_spot(UNDERLYING, DAY, spot_table(DAY, range(3)))
    monkeypatch.setattr(atomic.os, "replace", real_replace)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_temp_file_left_by_a_hard_kill_is_ignored_and_swept(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    cat = build_dataset(root)
    folder = spot_path(root, UNDERLYING, DAY).parent
    stray = folder / f".{DAY.isoformat()}.parquet.abc123.tmp"
    stray.write_bytes(b"half a parquet file")
    (folder / "2024-01-09.parquet.partial").write_bytes(b"junk")  # not a data file name either
    w = writer(root)
    w.write_spot(UNDERLYING, DAY, spot_table(DAY))  # same bytes as before
    assert stray.exists()  # another process may be mid-write in this folder: left alone
    again = w.finalize()
    assert again.content_version == cat.content_version  # the stray file never counted
    assert not stray.exists()


def test_catalog_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "ds"
    build_dataset(root)
    before = (root / "catalog.json").read_text()
    w = writer(root)
    w.write_spot(UNDERLYING, DAY2, spot_table(DAY2))

    def killed(src: str, dst: str) -> None:
        raise OSError("disk vanished")

    monkeypatch.setattr(atomic.os, "replace", killed)
    with pytest.raises(OSError, match="disk vanished"):
        w.finalize()
    assert (root / "catalog.json").read_text() == before
    assert sorted(p.name for p in root.iterdir()) == ["catalog.json", "options", "spot"]


def _rejects(n: int, reason: str) -> pa.Table:
    return pa.table(
        {
            "source_file": ["in.csv"] * n,
            "line": list(range(2, 2 + n)),
            "reason": [reason] * n,
            "strike": ["abc"] * n,
        }
    )


def test_rejects_are_counted_by_reason_and_reingest_is_idempotent(tmp_path: Path) -> None:
    root = tmp_path / "ds"

    def ingest() -> Catalog:
        w = writer(root)
        w.write_spot(UNDERLYING, DAY, spot_table(DAY))
        w.write_rejects("cboe-eod", _rejects(3, "bad strike"))
        w.write_rejects("cboe-eod", _rejects(2, "crossed quote"))
        w.add_rejected("blank line", 4)
        return w.finalize()

    first = ingest()
    assert first.rejected_by_reason == {"bad strike": 3, "blank line": 4, "crossed quote": 2}
    assert first.row_counts.rejected == 9
    assert pq.read_table(root / "rejects" / "cboe-eod.parquet").num_rows == 5
    second = ingest()
    assert second.rejected_by_reason == first.rejected_by_reason
    assert second.content_version == first.content_version
    # extending with another source keeps the first source's counts
    w = writer(root, source="other")
    w.add_rejected("blank line", 1)
    third = w.finalize()
    assert third.rejected_by_reason["blank line"] == 5
    assert third.source == "hand-made test data; other"


def test_rejects_table_needs_reason(tmp_path: Path) -> None:
    with (
        pytest.raises(SchemaError, match=r"rejects table for source 'x'.*\['reason'\]"),
        writer(tmp_path / "ds") as w,
    ):
        w.write_rejects("x", _rejects(1, "r").drop_columns(["reason"]))
    with pytest.raises(ValueError, match="not a valid file name"), writer(tmp_path / "ds") as w:
        w.write_rejects("../x", _rejects(1, "r"))
    assert not (tmp_path / "ds").exists()  # both writers aborted: nothing was published


def test_option_files_use_small_row_groups(tmp_path: Path) -> None:
    rows = [(EXPIRY, 1000.0 + 5 * i, r, range(375)) for i in range(30) for r in ("C", "P")]
    w = writer(tmp_path / "ds")
    path = w.write_options(UNDERLYING, DAY, option_table(DAY, rows))
    meta = pq.read_metadata(path)
    assert meta.num_rows == 30 * 2 * 375
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    per_group = ROW_GROUP_ROWS // 375  # whole instruments of 375 bars per group
    assert sizes == [per_group * 375] * (60 // per_group) + (
        [60 % per_group * 375] if 60 % per_group else []
    )
    assert len(sizes) >= 2 and max(sizes) <= ROW_GROUP_ROWS


instrument_sizes = st.lists(
    st.tuples(st.integers(0, 2), st.integers(1, 60)), min_size=1, max_size=25
)


@settings(max_examples=150, deadline=None)
@given(spec=instrument_sizes, limit=st.integers(5, 50))
def test_row_groups_hold_whole_instruments_of_one_expiry(spec: list, limit: int) -> None:
    """Property of the grouping: covers every row in order, whole instruments, one expiry per
    group, at most ROW_GROUP_ROWS rows (an instrument longer than that alone, in slices)."""
    expiry, strike, right = [], [], []
    for i, (e, n) in enumerate(sorted(spec, key=lambda x: x[0])):
        expiry += [e] * n
        strike += [100.0 + i] * n
        right += ["C"] * n
    table = pa.table(
        {
            "expiry": pa.array([date(2024, 1, 4 + 7 * e) for e in expiry], pa.date32()),
            "strike": strike,
            "right": right,
        }
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(schema, "ROW_GROUP_ROWS", limit)
        bounds = schema.row_group_bounds(table, "options")
    assert bounds[0][0] == 0 and bounds[-1][1] == len(strike)
    assert all(b0[1] == b1[0] for b0, b1 in itertools.pairwise(bounds))
    for a, b in bounds:
        assert 0 < b - a <= limit
        assert len(set(expiry[a:b])) == 1
        keys = set(strike[a:b])
        for k in keys:  # whole instruments, unless the instrument alone exceeds the limit
            count = strike.count(k)
            inside = strike[a:b].count(k)
            assert inside == count or (count > limit and len(keys) == 1)


def test_context_manager_finalizes_only_on_success(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), writer(tmp_path / "ds") as w:
        w.write_spot(UNDERLYING, DAY, spot_table(DAY))
        raise RuntimeError("adapter failed")
    assert not (tmp_path / "ds" / "catalog.json").exists()
    with writer(tmp_path / "ds") as w:
        w.write_spot(UNDERLYING, DAY, spot_table(DAY))
    assert (
        w.catalog is not None
        and json.loads((tmp_path / "ds" / "catalog.json").read_text())["days"] == 1
    )


def test_finalize_rejects_a_foreign_file_with_wrong_columns(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    build_dataset(root)
    bad = spot_path(root, UNDERLYING, date(2024, 1, 4))
    pq.write_table(pa.table({"ts": [1], "price": [1.0]}), bad)
    with pytest.raises(SchemaError, match=f"{bad}.*columns"):
        DatasetWriter(
            root,
            name="tiny",
            venue="TEST",
            timezone="Asia/Kolkata",
            bar_interval="1min",
            source="s",
            underlying_specs={UNDERLYING: TEST_SPEC},
        ).finalize()


def test_a_write_does_not_list_its_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Per-write cost must not grow with the files already in the folder (an ingest of ~21k daily
    files): writing a day touches only its own temporary file and destination."""
    root = tmp_path / "ds"
    build_dataset(root)
    w = writer(root)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a write listed a folder")

    monkeypatch.setattr(Path, "iterdir", refuse)
    monkeypatch.setattr(Path, "glob", refuse)
    monkeypatch.setattr(os, "scandir", refuse)
    monkeypatch.setattr(os, "listdir", refuse)
    w.write_spot(UNDERLYING, DAY2, spot_table(DAY2))
    w.write_options(UNDERLYING, DAY2, option_table(DAY2))
    w.write_rejects("test-source", _rejects(2, "bad price"))
    monkeypatch.undo()
    assert w.finalize().days == 2
