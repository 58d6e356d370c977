"""ohlc on real excerpts (sets 3, 5, 6): GDFL minutes, epoch bars, Yahoo daily, long files."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from pathlib import Path

import pytest
from ingest_builders import SET3, SET5, SET6, catalog, rejects, run, write_csv

from workbench.data.ingest.errors import HeaderError
from workbench.data.store import MarketStore


def test_gdfl_minutes_and_special_session(tmp_path: Path) -> None:
    out = tmp_path / "nifty"
    report = run("ohlc", [SET5 / "NIFTY_2024.csv", SET5 / "NIFTY_2009.csv"], out)
    assert report.balanced and report.rows_read == 1292 + 338
    bars = MarketStore(out).read_spot("NIFTY", date(2024, 1, 1)).to_pylist()
    assert bars[0] == {
        "ts": datetime(2024, 1, 1, 9, 15),
        "open": 21727.75,
        "high": 21737.35,
        "low": 21701.80,
        "close": 21712.00,
        "volume": 0,
    }
    # 2024-01-20 (a Saturday) was a full NSE session the XBOM calendar lacks: the registry's
    # override keeps its bars 09:15 .. 15:30 (the closing print); the flat after-hours prints
    # from 15:31 to 18:16 are outside the session
    reasons = Counter((r["Date"], r["reason"]) for r in rejects(out))
    assert reasons == {("20240120", "outside_session"): 542 - 376}
    special = MarketStore(out).read_spot("NIFTY", date(2024, 1, 20)).column("ts").to_pylist()
    assert len(special) == 376
    assert (special[0], special[-1]) == (
        datetime(2024, 1, 20, 9, 15),
        datetime(2024, 1, 20, 15, 30),
    )
    assert catalog(out).bar_interval == "1min" and catalog(out).venue == "NSE"
    # 2009-05-18: the upper-circuit day with two bars
    assert len(MarketStore(out).read_spot("NIFTY", date(2009, 5, 18))) == 2


def test_instrument_override_is_reported(tmp_path: Path) -> None:
    out = tmp_path / "bnf"
    report = run("ohlc", [SET5 / "BNF_2024.csv"], out, underlying="BANKNIFTY")
    assert report.accepted == 375
    assert any("Instrument column says ['NIFTY']" in n for n in report.notes)
    assert catalog(out).underlying_days("BANKNIFTY") == [date(2024, 1, 2)]
    assert (
        MarketStore(out).read_spot("BANKNIFTY", date(2024, 1, 2)).column("close")[0].as_py() > 40000
    )


def test_epoch_bars_become_exchange_local(tmp_path: Path) -> None:
    out = tmp_path / "bnf15"
    report = run("ohlc", [SET5 / "BankNifty_2018_to_2023.csv"], out)
    assert report.balanced and report.accepted + report.rejected == 75
    bars = MarketStore(out).read_spot("BANKNIFTY", date(2018, 1, 1)).to_pylist()
    # 1514778300 = 2018-01-01 03:45:00Z = 09:15 IST (hand conversion, +05:30)
    assert bars[0]["ts"] == datetime(2018, 1, 1, 9, 15) and bars[0]["open"] == 25565.8
    assert any("15 minutes apart" in n for n in report.notes)


def test_long_file_with_roots(tmp_path: Path) -> None:
    out = tmp_path / "us"
    report = run("ohlc", [SET3 / "ALL_eod.csv"], out)
    assert report.balanced and report.rows_read == 87
    cat = catalog(out)
    assert set(cat.underlyings) == {"SPX", "VIX", "SPY"}  # QQQ starts in 2021
    assert cat.underlyings["VIX"].registered is False and cat.venue == "CBOE"
    store = MarketStore(out)
    vix = store.read_spot("VIX", date(2020, 3, 16)).to_pylist()[0]
    assert vix["close"] == pytest.approx(82.69) and vix["ts"] == datetime(2020, 3, 16, 16, 0)
    spx = store.read_spot("SPX", date(2020, 3, 23)).to_pylist()[0]
    assert spx["close"] == pytest.approx(2237.40)


def test_yahoo_daily_column_orders_and_prefixes(tmp_path: Path) -> None:
    out = tmp_path / "india"
    report = run(
        "ohlc",
        [SET6 / "nifty50_daily_2007_2026.csv", SET6 / "indiavix_daily_2008_2026.csv"],
        out,
    )
    assert report.balanced and report.rows_read == 52
    store = MarketStore(out)
    # line 17 of indiavix_daily: Date,Close,High,Low,Open,Volume (Yahoo's column order)
    vix = store.read_spot("INDIAVIX", date(2020, 3, 24)).to_pylist()[0]
    assert vix == {
        "ts": datetime(2020, 3, 24, 15, 30),
        "open": 71.98999786376953,
        "high": 86.63999938964844,
        "low": 71.98999786376953,
        "close": 83.61000061035156,
        "volume": 0,
    }
    nifty = store.read_spot("NIFTY", date(2020, 3, 24)).to_pylist()[0]
    assert nifty["close"] == 7801.0498046875 and nifty["volume"] == 738400
    other = tmp_path / "mit"
    rep2 = run("ohlc", [SET6 / "india_vix_ohlc_2010_2026_mit.csv"], other)
    assert rep2.balanced and rep2.accepted == 26
    # DATE,VIX_OPEN,VIX_HIGH,VIX_LOW,VIX_CLOSE
    mit = MarketStore(other).read_spot("INDIAVIX", date(2020, 3, 24)).to_pylist()[0]
    assert (mit["open"], mit["high"], mit["low"], mit["close"]) == (71.985, 86.635, 71.985, 83.6075)


def test_bar_rules(tmp_path: Path) -> None:
    src = write_csv(
        tmp_path / "nifty_bad.csv",
        "Date,Open,High,Low,Close,Volume",
        [
            "2024-01-02,100,110,90,105,5",
            "2024-01-03,100,90,110,105,0",  # high < low
            "2024-01-04,100,110,90,0,0",  # zero close
            "2024-01-05,null,110,90,100,0",  # Yahoo's null
            "2024-01-06,100,110,90,100,0",  # a Saturday
            "2024-01-02,101,111,91,106,0",  # duplicate date
            "2024-01-08,100,110.04,90,110.05,0",  # close one tick above the high: kept
        ],
    )
    out = tmp_path / "out"
    report = run("ohlc", [src], out)
    got = sorted((r["line"], r["reason"]) for r in rejects(out))
    assert got == [
        (3, "inconsistent_bar"),
        (4, "non_positive_price"),
        (5, "unparseable_open"),
        (6, "exchange_holiday"),
        (7, "duplicate_key"),
    ]
    assert report.accepted == 2 and report.balanced
    assert MarketStore(out).read_spot("NIFTY", date(2024, 1, 2)).to_pylist()[0]["volume"] == 5


def test_unknown_layout_and_underlying(tmp_path: Path) -> None:
    odd = write_csv(tmp_path / "nifty_odd.csv", "When,Price", ["2024-01-02,1"])
    report = run("ohlc", [odd, SET5 / "NIFTY_2009.csv"], tmp_path / "o")
    assert len(report.failed) == 1 and "missing column(s)" in (report.failed[0].error or "")
    assert "nifty_odd.csv" in (report.failed[0].error or "")
    nameless = write_csv(
        tmp_path / "prices.csv", "Date,Open,High,Low,Close", ["2024-01-02,1,1,1,1"]
    )
    report = run("ohlc", [nameless, SET5 / "NIFTY_2009.csv"], tmp_path / "p")
    assert [f.display for f in report.failed] == ["prices.csv"]
    assert "give --underlying" in (report.failed[0].error or "")
    assert report.accepted == 338  # the other file is ingested
    with pytest.raises(HeaderError, match="unknown underlying 'FOO'"):
        run("ohlc", [nameless], tmp_path / "q", underlying="FOO")
