"""year_fraction (ACT/365 on exact timestamps) and enrich_chain (IV and Greeks on a chain frame)."""

from __future__ import annotations

from datetime import date, datetime, time

import numpy as np
import pandas as pd
import pytest

from workbench.pricing import (
    black76_price,
    bs_greeks,
    bs_price,
    enrich_chain,
    settlement_clock,
    time_to_settlement,
    year_fraction,
)


def test_year_fraction_by_hand() -> None:
    assert year_fraction(datetime(2024, 1, 1), datetime(2025, 1, 1)) == 366 / 365  # leap year
    assert year_fraction(datetime(2024, 3, 1, 9, 30), datetime(2024, 3, 1, 9, 31)) == 1 / 525_600
    assert year_fraction(
        pd.Timestamp("2024-03-01 15:29:30"), np.datetime64("2024-03-01T15:30")
    ) == 30 / (365 * 86_400)
    # never negative
    assert year_fraction(datetime(2024, 3, 2), datetime(2024, 3, 1)) == 0.0
    assert isinstance(year_fraction(datetime(2024, 3, 1), datetime(2024, 3, 2)), float)


def test_year_fraction_arrays_and_nat() -> None:
    val = pd.to_datetime(["2024-01-01", "2024-01-02", None]).to_numpy()
    got = year_fraction(val, np.datetime64("2024-01-03"))
    np.testing.assert_allclose(got[:2], [2 / 365, 1 / 365], rtol=0, atol=1e-17)
    assert np.isnan(got[2])
    with pytest.raises(ValueError, match="do not broadcast"):
        year_fraction(val, val[:2])


def test_year_fraction_refuses_aware_and_garbage() -> None:
    with pytest.raises(ValueError, match="valuation_ts: time-zone-aware"):
        year_fraction(pd.Timestamp("2024-01-01 10:00", tz="America/New_York"), datetime(2024, 2, 1))
    with pytest.raises(ValueError, match="expiry_ts: cannot read"):
        year_fraction(datetime(2024, 1, 1), "next friday")


def test_settlement_clock_sources() -> None:
    assert settlement_clock(None) == time(16, 0)
    assert settlement_clock(None, time(15, 30)) == time(15, 30)
    assert settlement_clock("SPX", time(12, 0)) == time(12, 0)
    assert settlement_clock("SPX") == time(9, 30)  # AM-settled: special opening quotation
    assert settlement_clock("SPXW") == time(16, 0)
    assert settlement_clock("NIFTY") == time(15, 30)
    with pytest.raises(KeyError, match="NOPE"):
        settlement_clock("NOPE")
    with pytest.raises(ValueError, match=r"settlement_time must be a datetime\.time"):
        settlement_clock(None, "15:30")  # type: ignore[arg-type]


def _chain() -> tuple[pd.DataFrame, dict]:
    """A small SPX-like chain priced at known vols, 3 expiries."""
    spot, r, q = 4790.0, 0.05, 0.013
    ts = datetime(2024, 1, 10, 10, 0)
    rows = []
    for expiry in (date(2024, 1, 10), date(2024, 1, 12), date(2024, 2, 16)):
        T = (datetime.combine(expiry, time(16, 0)) - ts).total_seconds() / (365 * 86400)
        for strike in (4600.0, 4700.0, 4800.0, 4900.0):
            for right in ("C", "P"):
                sigma = 0.12 + 0.5 * (4800.0 - strike) / 4800.0 * 0.5
                px = float(bs_price(spot, strike, T, r, sigma, right == "C", q=q))
                half = min(0.05, 0.5 * px)  # the mid is the model price
                rows.append(
                    {"expiry": expiry, "strike": strike, "right": right, "sigma": sigma, "T": T,
                     "bid": px - half, "ask": px + half, "close": px + 1.0}
                )  # fmt: skip
    frame = pd.DataFrame(rows)
    return frame, {"spot": spot, "r": r, "q": q, "ts": ts}


def test_enrich_chain_recovers_vols_and_greeks() -> None:
    frame, m = _chain()
    out = enrich_chain(frame, spot=m["spot"], r=m["r"], valuation_ts=m["ts"], q=m["q"])
    assert list(out.columns) == [*frame.columns, "iv", "delta", "gamma", "vega", "theta"]
    assert "iv" not in frame.columns  # the input is not modified
    expected = bs_greeks(
        m["spot"], frame["strike"], frame["T"], m["r"], frame["sigma"], frame["right"], q=m["q"]
    )
    # the mid is the model price; deep ITM rows expiring today have no time value left to
    # invert (vega ~ 0), so vols are compared where the price is sensitive to them
    valid = expected["vega"] > 1.0
    assert valid.sum() >= 16
    np.testing.assert_allclose(out["iv"][valid], frame["sigma"][valid], rtol=0, atol=1e-7)
    for name in ("delta", "gamma", "vega", "theta"):
        np.testing.assert_allclose(out[name][valid], expected[name][valid], rtol=1e-5, atol=1e-8)


def test_price_column_and_close_fallback() -> None:
    frame, m = _chain()
    frame.loc[0, ["bid", "ask"]] = [0.0, 5.0]  # no two-sided quote: use close
    out = enrich_chain(frame, spot=m["spot"], r=m["r"], valuation_ts=m["ts"], q=m["q"])
    via_close = enrich_chain(
        frame, spot=m["spot"], r=m["r"], valuation_ts=m["ts"], q=m["q"], price_column="close"
    )
    assert out["iv"].iloc[0] == via_close["iv"].iloc[0]
    assert out["iv"].iloc[1] != via_close["iv"].iloc[1]


def test_settlement_time_moves_time_to_expiry() -> None:
    frame, m = _chain()
    t16 = time_to_settlement(frame, m["ts"])
    t_spx = time_to_settlement(frame, m["ts"], underlying="SPX")
    today = (frame["expiry"] == m["ts"].date()).to_numpy()
    # SPX settles at 09:30: 6.5 hours earlier; today's 09:30 has passed (valuation 10:00)
    np.testing.assert_allclose(t16[~today] - t_spx[~today], 6.5 / (24 * 365), rtol=0, atol=1e-15)
    np.testing.assert_allclose(t16[today], 6 / (24 * 365), rtol=0, atol=1e-15)
    assert (t_spx[today] == 0.0).all()
    t_override = time_to_settlement(frame, m["ts"], underlying="SPX", settlement_time=time(16, 0))
    np.testing.assert_array_equal(t_override, t16)


def test_expired_rows_are_worth_intrinsic_with_payoff_greeks() -> None:
    frame, _ = _chain()
    after = datetime(2024, 1, 10, 16, 5)
    T = time_to_settlement(frame, after)
    expired = frame["expiry"].to_numpy() == date(2024, 1, 10)
    assert (T[expired] == 0.0).all() and (T[~expired] > 0).all()
    out = enrich_chain(frame, spot=4790.0, r=0.05, valuation_ts=after)
    exp_rows = out[expired]
    assert exp_rows["iv"].isna().all()
    calls = exp_rows["right"] == "C"
    np.testing.assert_array_equal(
        exp_rows["delta"][calls], np.where(exp_rows["strike"][calls] < 4790, 1.0, 0.0)
    )
    np.testing.assert_array_equal(
        exp_rows["delta"][~calls], np.where(exp_rows["strike"][~calls] > 4790, -1.0, 0.0)
    )
    assert (exp_rows[["gamma", "vega", "theta"]] == 0.0).all().all()


def test_per_row_ts_and_forward() -> None:
    frame, m = _chain()
    frame["ts"] = m["ts"]
    F = m["spot"] * np.exp((m["r"] - m["q"]) * frame["T"].to_numpy())
    for i, (f, k, t, s, right) in enumerate(
        zip(F, frame["strike"], frame["T"], frame["sigma"], frame["right"])
    ):
        px = float(black76_price(f, k, t, m["r"], s, right == "C"))
        frame.loc[i, ["bid", "ask"]] = [px - min(1e-3, px / 2), px + min(1e-3, px / 2)]
    out = enrich_chain(frame, forward=F, r=m["r"])
    valid = (
        bs_greeks(
            m["spot"], frame["strike"], frame["T"], m["r"], frame["sigma"], frame["right"], q=m["q"]
        )["vega"]
        > 1.0
    )
    assert valid.sum() >= 16
    np.testing.assert_allclose(out["iv"][valid], frame["sigma"][valid], rtol=0, atol=1e-8)
    # delta is with respect to the forward: exp(-rT) N(d1) for calls
    calls = (frame["right"] == "C").to_numpy() & valid
    assert (out["delta"][calls] <= np.exp(-m["r"] * frame["T"][calls]) + 1e-15).all()


def test_bad_input_is_named() -> None:
    frame, m = _chain()
    with pytest.raises(ValueError, match="exactly one of spot= or forward="):
        enrich_chain(frame, r=0.05, valuation_ts=m["ts"])
    with pytest.raises(ValueError, match="exactly one of spot= or forward="):
        enrich_chain(frame, spot=1.0, forward=1.0, valuation_ts=m["ts"])
    with pytest.raises(ValueError, match="no column 'strike'"):
        enrich_chain(frame.drop(columns="strike"), spot=4790.0, valuation_ts=m["ts"])
    with pytest.raises(ValueError, match="no column 'ts'"):
        enrich_chain(frame, spot=4790.0)
    with pytest.raises(ValueError, match="no column 'mark'"):
        enrich_chain(frame, spot=4790.0, valuation_ts=m["ts"], price_column="mark")
    bad_right = frame.assign(right=["C", "X"] * (len(frame) // 2))
    with pytest.raises(ValueError, match=r"column 'right'.*'X'"):
        enrich_chain(bad_right, spot=4790.0, valuation_ts=m["ts"])
    with pytest.raises(ValueError, match=r"spot has shape \(3,\)"):
        enrich_chain(frame, spot=[1.0, 2.0, 3.0], valuation_ts=m["ts"])
    with pytest.raises(ValueError, match="column 'strike' is not numeric"):
        enrich_chain(frame.assign(strike="x"), spot=4790.0, valuation_ts=m["ts"])
    with pytest.raises(ValueError, match="frame must be a pandas DataFrame"):
        enrich_chain(frame.to_dict(), spot=4790.0, valuation_ts=m["ts"])  # type: ignore[arg-type]
    # a missing expiry or price gives NaN on that row only
    holes = frame.copy()
    holes["expiry"] = holes["expiry"].astype(object)
    holes.loc[3, "expiry"] = None
    holes.loc[5, ["bid", "ask", "close"]] = np.nan
    out = enrich_chain(holes, spot=m["spot"], r=m["r"], valuation_ts=m["ts"], q=m["q"])
    assert np.isnan(out.loc[3, "iv"]) and np.isnan(out.loc[3, "delta"])
    assert np.isnan(out.loc[5, "iv"]) and np.isnan(out.loc[5, "delta"])
    assert out["iv"].notna().sum() >= 18


@pytest.mark.parametrize("arrow_dtypes", [False, True])
def test_frames_read_from_the_dataset_schema(arrow_dtypes: bool) -> None:
    """date32 expiry, timestamp[us] ts and string right, as pyarrow hands them to pandas."""
    import pyarrow as pa

    frame, m = _chain()
    frame["ts"] = m["ts"]
    table = pa.Table.from_pandas(frame, preserve_index=False).cast(
        pa.Table.from_pandas(frame, preserve_index=False).schema.set(
            frame.columns.get_loc("expiry"), pa.field("expiry", pa.date32())
        )
    )
    read = table.to_pandas(types_mapper=pd.ArrowDtype) if arrow_dtypes else table.to_pandas()
    got = enrich_chain(read, spot=m["spot"], r=m["r"], q=m["q"])
    expected = enrich_chain(frame, spot=m["spot"], r=m["r"], valuation_ts=m["ts"], q=m["q"])
    for name in ("iv", "delta", "gamma", "vega", "theta"):
        np.testing.assert_array_equal(
            got[name].to_numpy(dtype=float), expected[name].to_numpy(dtype=float)
        )
