"""Bad values that used to pass ingest, rejects counted once, refused files recorded.

Each test reproduces a case of the reliability review: two-digit years read as the years 0019
and 0007 and accepted (datasets gained ``options/SPXW/0019/``), a NIFTY-named snapshot holding
BANKNIFTY stored without a note, a bid of 2.6e183 accepted as a price, the same file ingested
through another path spelling counted twice, and files refused whole only printed.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ingest_builders import CBOE_HEADER, SET4, catalog, cboe_row, rejects, run, write_csv

from workbench.cli.main import main

SNAPSHOT = SET4 / "20250829" / "NIFTY_20250829_092416.parquet"


def _two_digit_row(quote: str, expiry: str, occ_date: str) -> str:
    return (
        f"SPX,2926.17,CBOE,SPXW{occ_date}C02900000,call,{expiry},{quote},2900.0,30.0,0.0,29.5,"
        "30.5,10,100,0.12,0.5,0.001"
    )


def test_two_digit_years_are_out_of_range_and_named_by_line(tmp_path: Path) -> None:
    src = write_csv(
        tmp_path / "chain.csv",
        CBOE_HEADER,
        [
            cboe_row(),  # line 2: fine
            _two_digit_row("04/25/19", "04/26/2019", "190426"),  # line 3: quote 0019-04-25
            _two_digit_row("04/25/2019", "09/24/07", "070924"),  # line 4: expiry 0007-09-24
        ],
    )
    out = tmp_path / "ds"
    report = run("cboe-eod", [src], out)
    assert report.balanced and report.accepted == 1
    got = sorted((r["line"], r["reason"]) for r in rejects(out))
    assert got == [(3, "date_out_of_range"), (4, "date_out_of_range")]
    notes = " ".join(report.notes)
    assert "quotedate outside the XNYS calendar" in notes and "line 3: '04/25/19'" in notes
    assert "expiration outside the expiry calendar" in notes and "line 4: '09/24/07'" in notes
    assert "two-digit year" in notes
    assert sorted(p.name for p in (out / "options" / "SPXW").iterdir()) == ["2019"]
    assert catalog(out).start.isoformat() == "2019-04-25"  # type: ignore[union-attr]
    # the notes stay with the input in the catalog
    (record,) = catalog(out).inputs.values()
    assert any("line 3" in n for n in record.notes)


def test_a_dated_file_names_the_lines_that_disagree_with_its_name(tmp_path: Path) -> None:
    src = write_csv(
        tmp_path / "SPX_20190425.csv",
        CBOE_HEADER,
        [cboe_row(), cboe_row(quote="04/24/2019", strike="2905.0"), cboe_row(strike="2910.0")],
    )
    report = run("cboe-eod", [src], tmp_path / "ds")
    assert report.rejected_by_reason == {"quote_date_mismatch_file": 3}
    assert any(
        "SPX_20190425.csv: 1 row(s) with a quotedate other than the file name's 2019-04-25 "
        "(line(s) 3)" in n
        for n in report.notes
    )


def test_ohlc_two_digit_years_are_out_of_range(tmp_path: Path) -> None:
    src = write_csv(
        tmp_path / "nifty_daily.csv",
        "Date,Open,High,Low,Close",
        ["2024-01-02,100,110,90,105", "01/03/24,100,110,90,105"],
    )
    report = run("ohlc", [src], tmp_path / "ds")
    assert [(r["line"], r["reason"]) for r in rejects(tmp_path / "ds")] == [
        (3, "date_out_of_range")
    ]
    assert report.accepted == 1


def test_absurd_prices_are_quarantined(tmp_path: Path) -> None:
    src = write_csv(
        tmp_path / "chain.csv",
        CBOE_HEADER,
        [
            cboe_row(),
            cboe_row(strike="2905.0", bid="2.6e183", ask="2.7e183"),  # line 3
            cboe_row(strike="2910.0", last="127.40", bid="119.0", ask="120.0"),  # a real price
            cboe_row(strike="2915.0", bid="29", ask="9000.0"),  # line 5: ask > 1.5 x spot
        ],
    )
    report = run("cboe-eod", [src], tmp_path / "ds")
    got = sorted((r["line"], r["reason"]) for r in rejects(tmp_path / "ds"))
    assert got == [(3, "absurd_price"), (5, "absurd_price")]
    assert report.accepted == 2


def test_a_snapshot_named_nifty_holding_banknifty_is_noted(tmp_path: Path) -> None:
    table = pq.read_table(SNAPSHOT)
    for column in ("Symbol", "index_name"):
        i = table.column_names.index(column)
        table = table.set_column(i, column, pa.array(["BANKNIFTY"] * table.num_rows))
    src = tmp_path / "NIFTY_20250829_092416.parquet"
    pq.write_table(table, src)
    out = tmp_path / "ds"
    report = run("nse-chain", [src], out)
    assert set(catalog(out).underlyings) == {"BANKNIFTY"}
    expected = (
        "NIFTY_20250829_092416.parquet: the file name says NIFTY but column 'Symbol' says "
        "BANKNIFTY; stored as BANKNIFTY"
    )
    assert any(n.startswith(expected) for n in report.notes)
    (record,) = catalog(out).inputs.values()
    assert any(n.startswith(expected) for n in record.notes)


def test_the_same_file_through_another_path_spelling_is_counted_once(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    rows = [cboe_row(strike=str(2900 + 5 * i)) for i in range(10)]
    rows += [cboe_row(strike=str(3000 + 5 * i), bid="5", ask="1") for i in range(6)]  # crossed
    src = write_csv(folder / "SPX_1.csv", CBOE_HEADER, rows)
    out = tmp_path / "ds"
    first = run("cboe-eod", [src], out)
    second = run("cboe-eod", [folder], out)  # displayed as in/SPX_1.csv
    third = run("cboe-eod", [tmp_path / "in" / ".." / "in" / "SPX_1.csv"], out)
    assert first.rejected == second.rejected == third.rejected == 6
    cat = catalog(out)
    assert cat.row_counts.rejected == 6 and cat.rejected_by_reason == {"bid_gt_ask": 6}
    assert len(list((out / "rejects").glob("*.parquet"))) == 1 and len(cat.inputs) == 1
    assert third.catalog is not None
    assert third.catalog.content_version == first.catalog.content_version  # type: ignore[union-attr]


def test_files_refused_whole_are_recorded_with_reason_and_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write_csv(tmp_path / "good.csv", CBOE_HEADER, [cboe_row()])
    broken = tmp_path / "broken.csv.gz"
    whole = gzip.compress(("\n".join([CBOE_HEADER, *[cboe_row()] * 50]) + "\n").encode())
    broken.write_bytes(whole[: len(whole) // 2])  # a truncated download
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    latin = tmp_path / "latin.csv"
    latin.write_bytes(("caf\xe9," + CBOE_HEADER + "\n" + cboe_row() + "\n").encode("latin-1"))
    wrong = write_csv(tmp_path / "wrong.csv", "a,b", ["1,2", "3,4", "5,6"])
    out = tmp_path / "ds"
    report = run("cboe-eod", [good, broken, binary, latin, wrong], out)
    assert len(report.failed) == 4 and report.accepted == 1
    refused = {r.file: r for r in catalog(out).inputs.values() if r.status == "refused"}
    assert sorted(refused) == ["binary.csv", "broken.csv.gz", "latin.csv", "wrong.csv"]
    assert refused["binary.csv"].rows_read is None and "binary content" in str(
        refused["binary.csv"].reason
    )
    assert refused["broken.csv.gz"].rows_read is None
    assert refused["latin.csv"].rows_read == 1 and "not UTF-8" in str(refused["latin.csv"].reason)
    assert refused["wrong.csv"].rows_read == 3 and "missing column" in str(
        refused["wrong.csv"].reason
    )
    assert main(["data", "info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "input files refused whole" in text
    assert (
        "wrong.csv (cboe-eod, 3 rows): " in text and "binary.csv (cboe-eod, rows unknown)" in text
    )
