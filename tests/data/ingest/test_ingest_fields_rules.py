"""Field parsers and the quote rules, each reason on a hand-made row."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from workbench.data.ingest.fields import parse_date, parse_float, parse_int
from workbench.data.ingest.parity import parity_spot
from workbench.data.ingest.rules import first_reason, quote_checks


def test_parse_float_separates_missing_from_bad() -> None:
    got = parse_float(pa.array(["1.5", "", " 2 ", "abc", "nan", "-3e2"]))
    assert got.missing.tolist() == [False, True, False, False, False, False]
    assert got.bad.tolist() == [False, False, False, True, True, False]
    np.testing.assert_array_equal(got.values, [1.5, np.nan, 2.0, np.nan, np.nan, -300.0])


@given(st.lists(st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False), max_size=50))
def test_parse_float_round_trips_repr(values: list[float]) -> None:
    got = parse_float(pa.array([repr(v) for v in values], pa.string()))
    assert not got.bad.any()
    np.testing.assert_array_equal(got.values, np.array(values, dtype=float))


def test_parse_int_refuses_fractions() -> None:
    got = parse_int(pa.array(["12", "12.0", "12.5", ""]))
    assert got.bad.tolist() == [False, False, True, False]


def test_mixed_date_formats() -> None:
    got = parse_date(
        pa.array(["04/25/2019", "2019-04-25", "25/04/2019", "2019/04/25", ""]),
        ("%m/%d/%Y", "%Y-%m-%d"),
    )
    assert got.values[0] == got.values[1] == np.datetime64("2019-04-25")
    assert got.bad.tolist() == [False, False, True, True, False]
    assert got.missing.tolist() == [False, False, False, False, True]


def _reasons(**cols: list[float]) -> list[str]:
    n = len(cols["bid"])
    checks = quote_checks(
        bid=np.array(cols["bid"], float),
        ask=np.array(cols["ask"], float),
        last=np.array(cols.get("last", [np.nan] * n), float),
        expiry=np.array(["2019-05-17"] * n, "datetime64[D]")
        if "expired" not in cols
        else np.array(
            ["2019-04-24" if e else "2019-05-17" for e in cols["expired"]], "datetime64[D]"
        ),
        quote_date=np.array(["2019-04-25"] * n, "datetime64[D]"),
        strike=np.array(cols.get("strike", [2900.0] * n), float),
        strike_step=5.0,
    )
    return first_reason(checks, n).tolist()


def test_each_quote_rule() -> None:
    assert _reasons(bid=[1.0], ask=[1.2]) == [""]
    assert _reasons(bid=[0.0], ask=[0.05]) == [""]  # zero bid, positive ask: a valid quote
    assert _reasons(bid=[0.0], ask=[0.0], last=[0.0]) == ["no_price"]
    assert _reasons(bid=[0.0], ask=[0.0], last=[3.0]) == [""]  # a trade price is usable
    assert _reasons(bid=[np.nan], ask=[np.nan]) == ["no_price"]
    assert _reasons(bid=[1.3], ask=[1.2]) == ["bid_gt_ask"]
    assert _reasons(bid=[-0.1], ask=[1.2]) == ["negative_price"]
    assert _reasons(bid=[1.0], ask=[1.2], strike=[2902.5]) == ["strike_off_grid"]
    assert _reasons(bid=[1.0], ask=[1.2], expired=[True]) == ["expiry_before_quote_date"]
    # order: a negative, crossed quote is reported as negative_price
    assert _reasons(bid=[-1.0], ask=[-2.0]) == ["negative_price"]


def test_parity_spot_recovers_the_forward_by_hand() -> None:
    # C - P = e^{-rT}(F - K) with F = 24467.5, r = 5.5%, T = 4 days
    r, t, f = 0.055, 4 / 365, 24467.5
    k = np.arange(24300.0, 24650.0, 50.0)
    disc = np.exp(-r * t)
    put = np.full(len(k), 200.0)
    call = put + disc * (f - k)
    got = parity_spot(k, call, put, t, r)
    assert got is not None
    assert abs(got.spot - f) < 1e-9
    assert got.strikes.tolist() == [24400.0, 24450.0, 24500.0, 24550.0]  # nearest the money


def test_parity_spot_needs_the_money_bracketed() -> None:
    k = np.array([100.0, 105.0, 110.0])
    assert parity_spot(k, np.array([9.0, 6.0, 3.0]), np.array([1.0, 1.5, 2.0]), 0.01, 0.0) is None
    assert (
        parity_spot(k, np.array([9.0, 0.0, 3.0]), np.array([1.0, 1.5, 4.0]), 0.01, 0.0) is not None
    )
