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


def _rows_with_put_deltas(transform: str) -> list[str]:
    """The fixture's rows with the put deltas rewritten: ``abs`` (|delta|) or ``call``
    (the call's delta, ORATS' own convention)."""
    with open(ORATS) as handle:
        rows = list(csv.DictReader(handle))
    calls = {
        (r["expirDate"], r["strike"]): float(r["delta"]) for r in rows if r["optionType"] == "C"
    }
    out = []
    for r in rows:
        if r["optionType"] == "P":
            d = float(r["delta"])
            r["delta"] = str(abs(d) if transform == "abs" else calls[(r["expirDate"], r["strike"])])
        out.append(",".join(r[k] for k in HEADER.split(",")))
    return out


def test_unsigned_put_deltas_are_detected_and_stored_signed(tmp_path: Path) -> None:
    """Put deltas given unsigned used to be stored as they were, and every run then failed
    with "deltas must be signed per right"; both vendor conventions are now stored signed."""
    from workbench.engine.selection import ChainSnapshot

    signed = run("orats", [ORATS], tmp_path / "signed")
    reference = MarketStore(tmp_path / "signed").read_chain("SPX", date(2019, 4, 25)).to_pandas()
    for convention, transform in (("absolute", "abs"), ("call delta", "call")):
        src = write_csv(tmp_path / f"{transform}.csv", HEADER, _rows_with_put_deltas(transform))
        out = tmp_path / transform
        report = run("orats", [src], out)
        assert report.accepted == signed.accepted
        assert any(convention in note and "stored signed" in note for note in report.notes)
        # ... and the note stays with the dataset: the catalog's record of that input file
        noted = [n for r in MarketStore(out).catalog.inputs.values() for n in r.notes]
        assert any(convention in n and "stored signed" in n for n in noted), noted
        chain = MarketStore(out).read_chain("SPX", date(2019, 4, 25)).to_pandas()
        # absolute values give the deltas back exactly; the call delta minus one is the put's
        # delta up to the file's own parity error (carry and dividends, under 0.01 here)
        tolerance = 1e-9 if transform == "abs" else 0.01
        assert chain["delta"].to_numpy() == __import__("pytest").approx(
            reference["delta"].to_numpy(), abs=tolerance
        )
        puts = chain[chain["right"] == "P"]
        assert (puts["delta"] <= 0).all()
        ChainSnapshot.from_frame(  # what every run did, and failed on
            chain[chain["expiry"] == chain["expiry"].min()],
            underlying="SPX", expiry=chain["expiry"].min(), tte=0.06, spot=2926.17,
            ts=datetime(2019, 4, 25, 15, 46),
        )  # fmt: skip


def test_put_deltas_of_both_signs_in_one_file_are_refused_by_row(tmp_path: Path) -> None:
    rows = _rows_with_put_deltas("abs")
    with open(ORATS) as handle:
        original = [line.strip() for line in handle][1:]
    mixed = rows[:10] + original[10:]  # the first five puts unsigned, the rest signed
    src = write_csv(tmp_path / "mixed.csv", HEADER, mixed)
    report = run("orats", [src], tmp_path / "m")
    bad = [r for r in rejects(tmp_path / "m") if r["reason"] == "put_delta_sign"]
    assert bad and all(r["line"] <= 11 for r in bad)
    assert report.balanced
