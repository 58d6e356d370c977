"""Bit rot does not go unnoticed: per-file checksums, ``workbench data verify``, cheap checks in
the store and the run's manifest.

Before the fix, flipping one bit in six column chunks of a day file changed a close from 119.40
to 127.40 and a bid to 2.6e183, and a run succeeded with the same run id and content version as
on the clean data.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from data_builders import DAY, DAY2, EXPIRY, UNDERLYING, build_dataset, option_table, writer

from workbench.cli.main import main
from workbench.data.catalog import Catalog
from workbench.data.errors import CorruptFileError
from workbench.data.layout import options_path, spot_path
from workbench.data.store import MarketStore
from workbench.data.verify import verify_dataset
from workbench.model.contracts import OptionContract


def flip_bits(path: Path, chunks: int = 6) -> list[str]:
    """Flip one bit in the middle of the data pages of ``chunks`` column chunks; return the
    columns touched. The file keeps its size and its footer (row counts, statistics)."""
    meta = pq.read_metadata(path)
    data = bytearray(path.read_bytes())
    touched: list[str] = []
    for c in range(meta.num_columns):
        if len(touched) == chunks:
            break
        column = meta.row_group(0).column(c)
        start = column.data_page_offset
        size = column.total_compressed_size
        if size < 64:
            continue
        data[start + size // 2] ^= 0x10
        touched.append(column.path_in_schema)
    assert len(touched) == chunks
    path.write_bytes(bytes(data))
    return touched


def flip_silently(path: Path, column: str = "close") -> tuple[float, float]:
    """Flip one bit of ``column``'s data where the file still decodes, to another value (a
    reader that does not check page checksums sees a wrong price, no error); return the value
    before and after."""
    original = path.read_bytes()
    clean = pq.read_table(path).column(column).to_numpy()
    meta = pq.read_metadata(path)
    chunk = meta.row_group(0).column(meta.schema.to_arrow_schema().names.index(column))
    start, size = chunk.data_page_offset, chunk.total_compressed_size
    for offset in range(start + size - 1, start + size // 2, -1):
        data = bytearray(original)
        data[offset] ^= 0x04
        path.write_bytes(bytes(data))
        try:
            got = pq.read_table(path, page_checksum_verification=False).column(column)
        except (OSError, ValueError):
            continue
        values = got.to_numpy()
        changed = values != clean
        if len(values) == len(clean) and changed.any():
            return float(clean[changed][0]), float(values[changed][0])
    path.write_bytes(original)
    raise AssertionError(f"no bit of {path}'s {column} flips silently")


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    rows = [(EXPIRY, 1000.0 + 50 * i, r, range(200)) for i in range(8) for r in ("C", "P")]
    build_dataset(tmp_path / "ds", days=(DAY, DAY2), instruments=rows)
    return tmp_path / "ds"


def test_the_catalog_records_every_file(dataset: Path) -> None:
    catalog = Catalog.load(dataset)
    on_disk = sorted(p.relative_to(dataset).as_posix() for p in dataset.rglob("*.parquet"))
    assert sorted(catalog.files) == on_disk
    entry = catalog.files[f"options/{UNDERLYING}/2024/{DAY.isoformat()}.parquet"]
    path = options_path(dataset, UNDERLYING, DAY)
    import hashlib

    assert entry.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()  # independent hash
    assert entry.bytes == path.stat().st_size and entry.rows == 8 * 2 * 200


def test_verify_names_a_file_with_flipped_bits_and_exits_1(
    dataset: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["data", "verify", str(dataset), "--no-progress"]) == 0
    assert "ok: every file matches the catalog" in capsys.readouterr().out
    bad = options_path(dataset, UNDERLYING, DAY)
    flip_bits(bad)
    assert main(["data", "verify", str(dataset), "--no-progress"]) == 1
    captured = capsys.readouterr()
    assert f"BAD {bad}: sha256" in captured.out and str(bad) in captured.err
    assert captured.out.count("BAD ") == 1  # the other files are fine
    # --quick (sizes and footers) cannot see a flipped bit: same size, same footer
    assert main(["data", "verify", str(dataset), "--quick", "--no-progress"]) == 0


def test_the_store_refuses_pages_whose_checksum_fails(dataset: Path) -> None:
    contract = OptionContract(UNDERLYING, EXPIRY, 1100.0, "C")
    with MarketStore(dataset) as store:
        clean = store.instrument_arrays(contract, DAY)["close"].copy()
    flip_bits(options_path(dataset, UNDERLYING, DAY))
    flip_bits(spot_path(dataset, UNDERLYING, DAY), chunks=1)
    with MarketStore(dataset) as store:
        for read in (
            lambda: store.instrument_arrays(contract, DAY),
            lambda: store.instruments_arrays(UNDERLYING, DAY, EXPIRY, [(1100.0, "C")]),
            lambda: store.expiry_arrays(UNDERLYING, DAY, EXPIRY),
            lambda: store.spot_arrays(UNDERLYING, DAY),
        ):
            with pytest.raises(CorruptFileError, match=r"damaged data page.*data verify"):
                read()
        # the other day is untouched and reads as before
        assert store.instrument_arrays(contract, DAY2)["close"].tolist() == clean.tolist()


def test_a_silent_flip_is_a_wrong_price_without_checksums_and_an_error_with_them(
    dataset: Path,
) -> None:
    path = spot_path(dataset, UNDERLYING, DAY)
    before, after = flip_silently(path)
    assert before != after  # what a reader without page checksums would return
    with (
        MarketStore(dataset) as store,
        pytest.raises(CorruptFileError, match="damaged data page"),
    ):
        store.spot_arrays(UNDERLYING, DAY)
    assert not verify_dataset(dataset, progress=False).ok


def test_a_file_of_another_size_is_refused_by_the_store_and_reported_by_verify(
    dataset: Path,
) -> None:
    path = options_path(dataset, UNDERLYING, DAY)
    # a valid Parquet file, other rows: what an overwrite by hand or a bad copy gives
    pq.write_table(pq.read_table(path).slice(0, 100), path)
    with (
        MarketStore(dataset) as store,
        pytest.raises(CorruptFileError, match=r"bytes, the catalog records .*data verify"),
    ):
        store.read_chain(UNDERLYING, DAY)
    problems = verify_dataset(dataset, progress=False).problems
    assert [p.path for p in problems] == [path]
    assert "bytes, the catalog records" in problems[0].problem


def test_verify_reports_missing_stray_and_edited(dataset: Path) -> None:
    spot_path(dataset, UNDERLYING, DAY2).unlink()
    stray = options_path(dataset, UNDERLYING, DAY2).with_name("2024-01-05.parquet")
    stray.write_bytes(options_path(dataset, UNDERLYING, DAY2).read_bytes())
    raw = json.loads((dataset / "catalog.json").read_text())
    raw["rejected_without_rows"] = {"edited": {"by hand": 1}}
    (dataset / "catalog.json").write_text(json.dumps(raw))
    report = verify_dataset(dataset, progress=False)
    found = {p.path.name: p.problem for p in report.problems}
    assert found[spot_path(dataset, UNDERLYING, DAY2).name].startswith("missing")
    assert found["2024-01-05.parquet"].startswith("not listed in the catalog")
    assert "the catalog was edited" in found["catalog.json"]
    assert not report.ok


def test_a_format_1_catalog_is_not_verifiable_until_repair_rehash(
    dataset: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = json.loads((dataset / "catalog.json").read_text())
    raw.pop("files"), raw.pop("inputs")
    raw["format_version"] = 1
    (dataset / "catalog.json").write_text(json.dumps(raw))
    assert main(["data", "verify", str(dataset), "--no-progress"]) == 1
    assert "repair --rehash" in capsys.readouterr().out
    assert main(["data", "repair", "--rehash", str(dataset)]) == 0
    assert "4 not recorded before" in capsys.readouterr().out
    assert verify_dataset(dataset, progress=False).ok
    # the same files, now recorded: the content version did not change
    assert Catalog.load(dataset).content_version == raw["content_version"]


def test_extending_a_dataset_keeps_recorded_checksums_and_refuses_a_changed_file(
    dataset: Path,
) -> None:
    """Files kept from the previous version are not re-hashed (their damage is not blessed);
    one whose size changed stops the writer."""
    before = Catalog.load(dataset)
    w = writer(dataset)
    w.write_options(UNDERLYING, DAY2, option_table(DAY2))
    after = w.finalize()
    kept = f"options/{UNDERLYING}/2024/{DAY.isoformat()}.parquet"
    assert after.files[kept] == before.files[kept]
    flip_bits(options_path(dataset, UNDERLYING, DAY))  # same size: only verify can tell
    w = writer(dataset)
    w.write_options(UNDERLYING, DAY2, option_table(DAY2))
    assert w.finalize().files[kept] == before.files[kept]
    assert not verify_dataset(dataset, progress=False).ok  # still reported
    path = options_path(dataset, UNDERLYING, DAY)
    path.write_bytes(path.read_bytes() + b"x")
    with (
        pytest.raises(CorruptFileError, match=r"the catalog records .*data verify"),
        writer(dataset) as w,
    ):
        w.write_options(UNDERLYING, DAY2, option_table(DAY2))


def test_a_store_opened_before_a_publish_says_so_and_the_pool_reopens(dataset: Path) -> None:
    from workbench.data.errors import DatasetChangedError
    from workbench.engine.pool import close_stores, open_store

    close_stores()
    contract = OptionContract(UNDERLYING, EXPIRY, 1000.0, "C")
    store = open_store(dataset)
    assert len(store.instrument_arrays(contract, DAY2)["ts"]) == 200
    w = writer(dataset)
    w.write_options(UNDERLYING, DAY, option_table(DAY, [(EXPIRY, 1000.0, "C", range(3))]))
    w.finalize()
    assert store.stale()
    with pytest.raises(DatasetChangedError, match="was rewritten after this store opened it"):
        store.instrument_arrays(contract, DAY)
    again = open_store(dataset)
    assert again is not store and len(again.instrument_arrays(contract, DAY)["ts"]) == 3
    close_stores()
