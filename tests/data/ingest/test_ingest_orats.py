"""orats on the hand-built fixture (real 2019-04-25 SPX quotes in the ORATS layout)."""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

from ingest_builders import ORATS, catalog, rejects, run, write_csv

from workbench.data.store import MarketStore

HEADER = (
    "ticker,tradeDate,expirDate,strike,optionType,bid,ask,mid,last,volume,openInterest,"
    "stockPrice,delta,gamma,theta,vega,rho,impliedVolatility,underlyingBid,underlyingAsk"
)


def test_fixture_is_stored_as_given(tmp_path: Path) -> None:
    out = tmp_path / "orats"
    report = run("orats", [ORATS], out)
    with open(ORATS) as handle:
        rows = list(csv.DictReader(handle))
    assert report.balanced and report.accepted == len(rows) == 28
    store = MarketStore(out)
    chain = store.read_chain("SPX", date(2019, 4, 25)).to_pylist()
    first = rows[0]
    got = next(
        r
        for r in chain
        if r["strike"] == float(first["strike"])
        and r["right"] == first["optionType"]
        and r["expiry"] == date.fromisoformat(first["expirDate"])
    )
    assert got["ts"] == datetime(2019, 4, 25, 15, 46)  # 14 minutes before the close
    assert got["bid"] == float(first["bid"]) and got["oi"] == int(first["openInterest"])
    assert got["iv"] == float(first["impliedVolatility"]) and got["theta"] == float(first["theta"])
    spot = store.read_spot("SPX", date(2019, 4, 25)).to_pylist()
    assert [s["close"] for s in spot] == [2926.17]
    assert "rho" not in catalog(out).columns["options"]


def test_unknown_ticker_and_override(tmp_path: Path) -> None:
    src = write_csv(
        tmp_path / "o.csv",
        HEADER,
        [
            "SPX,2019-04-25,2019-05-17,2900,C,40,41,40.5,40.2,1,2,2926.17,0.6,0.003,-1,2,1,0.12,2926,2926.3",
            "ZZZ,2019-04-25,2019-05-17,2900,P,10,11,10.5,10.2,1,2,2926.17,-0.4,0.003,-1,2,1,0.12,2926,2926.3",
            "SPX,2019-04-25,2019-05-17,2900,X,10,11,10.5,10.2,1,2,2926.17,-0.4,0.003,-1,2,1,0.12,2926,2926.3",
        ],
    )
    report = run("orats", [src], tmp_path / "a")
    assert {(r["line"], r["reason"]) for r in rejects(tmp_path / "a")} == {
        (3, "unknown_ticker"),
        (4, "unparseable_optionType"),
    }
    assert report.accepted == 1
    report2 = run("orats", [src], tmp_path / "b", underlying="SPY")  # every row is SPY now
    assert report2.accepted == 2 and report2.rejected_by_reason == {"unparseable_optionType": 1}
    assert catalog(tmp_path / "b").underlying_days("SPY") == [date(2019, 4, 25)]
