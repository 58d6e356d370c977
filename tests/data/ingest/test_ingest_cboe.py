"""cboe-eod on real excerpts (sets 1 and 2) and on every bad input the adapter handles."""

from __future__ import annotations

import gzip
import os
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import pytest
from ingest_builders import CBOE_HEADER, SET1, SET2, catalog, cboe_row, rejects, run, write_csv

from workbench.data.store import MarketStore


@pytest.fixture(scope="module")
def set1(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("set1") / "spx"
    return out, run("cboe-eod", [SET1], out)


def _raw_rows(path: Path) -> int:
    with gzip.open(path, "rt") as handle:
        return sum(1 for _ in handle) - 1


def test_counts_add_up_and_match_the_catalog(set1: tuple[Path, object]) -> None:
    out, report = set1
    read = sum(_raw_rows(p) for p in SET1.glob("*.csv.gz"))
    assert report.rows_read == read == 968 + 34 + 216  # type: ignore[attr-defined]
    assert report.balanced  # type: ignore[attr-defined]
    cat = catalog(out)
    assert cat.row_counts.options == report.accepted  # type: ignore[attr-defined]
    assert cat.row_counts.rejected == report.rejected  # type: ignore[attr-defined]
    assert cat.rejected_by_reason == dict(report.rejected_by_reason)  # type: ignore[attr-defined]


def test_memorial_day_file_is_quarantined_whole(set1: tuple[Path, object]) -> None:
    out, _ = set1
    by_file = Counter((r["source_file"], r["reason"]) for r in rejects(out))
    assert by_file[("us_spx_eod_chains_2019/SPX_20190527.csv.gz", "exchange_holiday_file")] == 34
    assert date(2019, 5, 27) not in catalog(out).underlying_days("SPX")


def test_spx_and_spxw_stay_apart_with_their_own_spot(set1: tuple[Path, object]) -> None:
    out, _ = set1
    store = MarketStore(out)
    day = date(2019, 4, 25)
    spx = store.read_chain("SPX", day).to_pandas()
    spxw = store.read_chain("SPXW", day).to_pandas()
    # the excerpt's rows by OCC root (hand count of the raw file)
    with gzip.open(SET1 / "SPX_20190425.csv.gz", "rt") as handle:
        roots = Counter(line.split(",")[3][:4] for line in list(handle)[1:])
    assert len(spx) == roots["SPX1"] and len(spxw) == roots["SPXW"]
    assert set(spx["expiry"]) == {date(2019, 5, 17), date(2019, 7, 19)}  # AM monthlies only
    assert date(2019, 4, 26) in set(spxw["expiry"])
    for name in ("SPX", "SPXW"):
        spot = store.read_spot(name, day).to_pylist()
        assert spot == [
            {
                "ts": datetime(2019, 4, 25, 16, 0),
                "open": 2919.04,
                "high": 2919.04,
                "low": 2919.04,
                "close": 2919.04,
                "volume": 0,
            }
        ]
    assert (spx["ts"] == datetime(2019, 4, 25, 16, 0)).all()


def test_row_values_are_stored_faithfully(set1: tuple[Path, object]) -> None:
    out, _ = set1
    # SPXW190426C02900000 of 2019-04-25 as the raw file has it
    with gzip.open(SET1 / "SPX_20190425.csv.gz", "rt") as handle:
        raw = next(line for line in handle if ",SPXW190426C02900000," in line).strip().split(",")
    chain = MarketStore(out).read_chain("SPXW", date(2019, 4, 25), expiry=date(2019, 4, 26))
    row = next(r for r in chain.to_pylist() if r["strike"] == 2900.0 and r["right"] == "C")
    assert row["bid"] == float(raw[10]) and row["ask"] == float(raw[11])
    assert row["volume"] == int(raw[12]) and row["oi"] == int(raw[13])
    assert row["iv"] == float(raw[14]) and row["delta"] == float(raw[15])
    assert row["close"] == (float(raw[8]) if float(raw[8]) > 0 else row["close"])


def test_early_close_day_gets_the_1300_close(set1: tuple[Path, object]) -> None:
    out, _ = set1
    spot = MarketStore(out).read_spot("SPX", date(2019, 7, 3)).to_pylist()
    assert spot[0]["ts"] == datetime(2019, 7, 3, 13, 0)


def test_set2_bom_space_header_theta_vega(tmp_path: Path) -> None:
    out = tmp_path / "spxw18"
    report = run("cboe-eod", [SET2 / "SPX_2018.csv"], out)
    assert report.balanced and report.rows_read == 300 and report.rejected == 0
    chain = MarketStore(out).read_chain("SPXW", date(2018, 1, 2)).to_pandas()
    assert {"theta", "vega", "iv", "delta", "gamma"} <= set(chain.columns)
    first = chain[(chain.strike == 1200.0) & (chain.right == "C")].iloc[0]
    assert first["theta"] == -15.7555 and first["iv"] == 0.0908  # line 2 of the file
    assert first["close"] == 1395.46 and first["bid"] == 1483.6


def test_reingest_gives_the_same_content_version(set1: tuple[Path, object], tmp_path: Path) -> None:
    out, report = set1
    again = run("cboe-eod", [SET1], tmp_path / "again")
    assert again.catalog.content_version == report.catalog.content_version  # type: ignore[attr-defined]
    same_place = run("cboe-eod", [SET1], out)
    assert same_place.catalog.content_version == report.catalog.content_version  # type: ignore[attr-defined]


def test_extending_adds_days_without_rewriting_others(tmp_path: Path) -> None:
    out = tmp_path / "ext"
    first = run("cboe-eod", [SET1 / "SPX_20190425.csv.gz"], out)
    path = out / "options" / "SPXW" / "2019" / "2019-04-25.parquet"
    before = (path.stat().st_mtime_ns, path.read_bytes())
    os.utime(path, ns=(1, 1))
    second = run("cboe-eod", [SET1 / "SPX_20190703.csv.gz"], out)
    assert path.stat().st_mtime_ns == 1 and path.read_bytes() == before[1]
    cat = catalog(out)
    assert cat.underlying_days("SPXW") == [date(2019, 4, 25), date(2019, 7, 3)]
    assert cat.row_counts.options == first.accepted + second.accepted


# -- bad input ------------------------------------------------------------------------------


def _one(
    tmp_path: Path, name: str, rows: list[str], header: str = CBOE_HEADER
) -> tuple[Path, object]:
    src = write_csv(tmp_path / name, header, rows)
    out = tmp_path / "out"
    return out, run("cboe-eod", [src], out)


def test_row_rules_quarantine_with_file_line_and_reason(tmp_path: Path) -> None:
    rows = [
        cboe_row(),  # line 2: fine
        cboe_row(strike="2905.0", bid="0.0", ask="0.05"),  # zero bid, positive ask: kept
        cboe_row(strike="2910.0", bid="2.0", ask="1.0"),  # bid > ask
        cboe_row(strike="2915.0", bid="-1.0"),  # negative
        cboe_row(strike="2920.0", bid="0.0", ask="0.0", last="0.0"),  # no price at all
        cboe_row(strike="2902.5"),  # off the 5-point grid
        cboe_row(expiry="04/24/2019", strike="2925.0"),  # expired
        cboe_row(strike="abc"),  # unparseable
        cboe_row(quote="2019/25/04", strike="2930.0"),  # a third date format
        cboe_row(root="XYZW", strike="2935.0"),  # unknown root
        cboe_row(),  # duplicate of line 2
        "",  # blank line
        "SPX,2926.17,CBOE",  # truncated line
    ]
    out, report = _one(tmp_path, "chain.csv", rows)
    assert report.balanced and report.rows_read == 13
    got = {(r["line"], r["reason"]) for r in rejects(out)}
    assert got == {
        (4, "bid_gt_ask"),
        (5, "negative_price"),
        (6, "no_price"),
        (7, "strike_off_grid"),
        (8, "expiry_before_quote_date"),
        (9, "unparseable_strike"),
        (10, "unparseable_quotedate"),
        (11, "unknown_root"),
        (12, "duplicate_key"),
        (13, "blank_line"),
        (14, "malformed_row"),
    }
    assert all(r["source_file"] == "chain.csv" for r in rejects(out))
    kept = MarketStore(out).read_chain("SPXW", date(2019, 4, 25)).to_pylist()
    assert [(r["strike"], r["bid"]) for r in kept] == [(2900.0, 29.5), (2905.0, 0.0)]


def test_mixed_date_formats_are_both_read(tmp_path: Path) -> None:
    iso = (
        cboe_row(strike="2905.0")
        .replace("04/26/2019", "2019-04-26")
        .replace("04/25/2019", "2019-04-25")
    )
    bad = cboe_row(strike="2910.0").replace("04/25/2019", "25.04.2019")
    out, report = _one(tmp_path, "mixed.csv", [cboe_row(), iso, bad])
    assert report.accepted == 2 and report.rejected_by_reason == {"unparseable_quotedate": 1}
    kept = MarketStore(out).read_chain("SPXW", date(2019, 4, 25)).to_pylist()
    assert [(r["strike"], r["expiry"]) for r in kept] == [
        (2900.0, date(2019, 4, 26)),
        (2905.0, date(2019, 4, 26)),
    ]


def test_quote_date_disagreeing_with_the_name_quarantines_the_file(tmp_path: Path) -> None:
    _, report = _one(tmp_path, "SPX_20190426.csv", [cboe_row(), cboe_row(strike="2905.0")])
    assert report.rejected_by_reason == {"quote_date_mismatch_file": 2}
    assert report.accepted == 0


def test_bad_files_are_refused_and_others_still_ingested(tmp_path: Path) -> None:
    good = write_csv(tmp_path / "good.csv", CBOE_HEADER, [cboe_row()])
    wrong = write_csv(tmp_path / "wrong.csv", CBOE_HEADER.replace("strike", "strik"), [cboe_row()])
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"PAR1\x00\x01\x02" * 100)
    truncated = tmp_path / "trunc.csv.gz"
    blob = gzip.compress(("\n".join([CBOE_HEADER] + [cboe_row()] * 3000)).encode(), mtime=0)
    truncated.write_bytes(blob[: len(blob) // 2])
    out = tmp_path / "out"
    report = run("cboe-eod", [wrong, empty, binary, truncated, good], out)
    errors = {Path(f.display).name: f.error for f in report.failed}
    assert set(errors) == {"wrong.csv", "empty.csv", "binary.csv", "trunc.csv.gz"}
    assert "missing column(s) ['strike']" in errors["wrong.csv"]
    assert "unexpected column(s) ['strik']" in errors["wrong.csv"]
    assert "empty file" in errors["empty.csv"]
    assert "binary" in errors["binary.csv"]
    assert "trunc.csv.gz" in errors["trunc.csv.gz"]
    assert report.accepted == 1 and report.balanced
    assert catalog(out).row_counts.options == 1


def test_truncated_last_line_is_quarantined_not_fatal(tmp_path: Path) -> None:
    src = tmp_path / "t.csv"
    src.write_text("\n".join([CBOE_HEADER, cboe_row(), cboe_row(strike="2905.0")[:40]]))
    report = run("cboe-eod", [src], tmp_path / "out")
    assert report.accepted == 1 and report.rejected_by_reason == {"malformed_row": 1}


def test_duplicates_across_files_keep_the_first_file(tmp_path: Path) -> None:
    a = write_csv(tmp_path / "a.csv", CBOE_HEADER, [cboe_row(bid="29.0")])
    b = write_csv(tmp_path / "b.csv", CBOE_HEADER, [cboe_row(bid="29.9")])
    for order in ([a, b], [b, a]):
        out = tmp_path / f"out{order[0].stem}"
        report = run("cboe-eod", order, out)
        assert report.rejected_by_reason == {"duplicate_key": 1}
        kept = MarketStore(out).read_chain("SPXW", date(2019, 4, 25)).to_pylist()
        assert [r["bid"] for r in kept] == [29.0]  # a.csv, whatever the order given
        dup = rejects(out)[0]
        assert dup["source_file"] == "b.csv" and dup["kept_source_file"] == "a.csv"


def test_rejects_file_is_replaced_on_reingest(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "c.csv", CBOE_HEADER, [cboe_row(), cboe_row(bid="5", ask="1")])
    out = tmp_path / "out"
    run("cboe-eod", [src], out)
    run("cboe-eod", [src], out)
    assert len(rejects(out)) == 1
    write_csv(src, CBOE_HEADER, [cboe_row()])
    report = run("cboe-eod", [src], out)
    assert report.rejected == 0 and rejects(out) == [] and catalog(out).row_counts.rejected == 0
    # the earlier version's rejects file is gone with it (same path, new content)
    assert list((out / "rejects").glob("*.parquet")) == []
    assert [r.rejected for r in catalog(out).inputs.values()] == [0]


def test_spilling_the_day_buffer_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bounded memory: with a tiny spill threshold the dataset is byte for byte the same."""
    from workbench.data.ingest import daybuffer

    normal = run("cboe-eod", [SET1], tmp_path / "normal")
    monkeypatch.setattr(daybuffer, "SPILL_ROWS", 50)
    spilled = run("cboe-eod", [SET1], tmp_path / "spilled")
    assert spilled.catalog.content_version == normal.catalog.content_version  # type: ignore[union-attr]
    assert not list((tmp_path / "spilled").glob(".ingest-*"))  # the spill folder is removed


def test_a_file_failing_half_way_is_withdrawn(tmp_path: Path) -> None:
    """Rows staged from a file that then fails (a gzip stream cut short) never reach the dataset."""
    from workbench.data.ingest import csvchunks

    rows = [cboe_row(strike=f"{500 + 5 * i}.0") for i in range(6000)]
    src = tmp_path / "cut.csv.gz"
    blob = gzip.compress(("\n".join([CBOE_HEADER, *rows]) + "\n").encode(), mtime=0)
    src.write_bytes(blob[: int(len(blob) * 0.8)])
    good = write_csv(
        tmp_path / "good.csv", CBOE_HEADER, [cboe_row(expiry="05/17/2019", root="SPX")]
    )
    old = csvchunks.BLOCK_SIZE
    csvchunks.BLOCK_SIZE = 32 * 1024  # several blocks are staged before the stream ends
    try:
        report = run("cboe-eod", [src, good], tmp_path / "out")
    finally:
        csvchunks.BLOCK_SIZE = old
    assert [Path(f.display).name for f in report.failed] == ["cut.csv.gz"]
    assert report.accepted == 1 and report.balanced
    assert catalog(tmp_path / "out").row_counts.options == 1
    assert catalog(tmp_path / "out").underlying_days("SPXW") == []


def test_every_file_refused_is_an_error_and_creates_no_dataset(tmp_path: Path) -> None:
    """When no input could be read there is nothing to ingest: one error naming the files and
    no empty dataset left behind (an existing dataset is left as it was)."""
    from workbench.data.ingest import IngestError

    wrong = write_csv(tmp_path / "wrong.csv", CBOE_HEADER.replace("strike", "strik"), [cboe_row()])
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    out = tmp_path / "out"
    with pytest.raises(
        IngestError,
        match=r"nothing ingested: all 2 input files were refused.*empty\.csv: empty file",
    ):
        run("cboe-eod", [wrong, empty], out)
    assert not out.exists()
    good = write_csv(tmp_path / "good.csv", CBOE_HEADER, [cboe_row()])
    run("cboe-eod", [good], out)
    before = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    with pytest.raises(IngestError, match=r"wrong\.csv: missing column\(s\) \['strike'\]"):
        run("cboe-eod", [wrong], out)
    assert {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()} == before


def test_out_must_be_new_empty_or_a_dataset(tmp_path: Path) -> None:
    """Ingest extends a dataset; it does not spill dataset files into a run folder or other
    folder, and a file at ``out`` is named as such."""
    from workbench.data.ingest import IngestError

    good = write_csv(tmp_path / "good.csv", CBOE_HEADER, [cboe_row()])
    other = tmp_path / "run"
    other.mkdir()
    (other / "manifest.json").write_text("{}")
    with pytest.raises(IngestError, match=r"run: not a dataset folder \(no catalog\.json\)"):
        run("cboe-eod", [good], other)
    assert sorted(p.name for p in other.iterdir()) == ["manifest.json"]
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    with pytest.raises(IngestError, match=r"notes\.txt: is a file, not a dataset folder"):
        run("cboe-eod", [good], a_file)
    (tmp_path / "empty").mkdir()
    assert run("cboe-eod", [good], tmp_path / "empty").accepted == 1
