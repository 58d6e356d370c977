"""``entry_features`` against the per-position pandas formulation it replaced.

A study's trade table has thousands of positions; ``entry_features`` reads the opening legs
into arrays once and takes each position's rows by index. The reference below is the previous
implementation (one pandas selection per position and per side), kept as an independent
statement of the rules of :mod:`workbench.analytics.tradelog`'s docstring: both must give the
same frame, dtypes and values exactly, on any opening orders -- spreads, condors, straddles,
calendars (several expiries), an underlying hedge leg, ties in premium, missing spot and delta.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.analytics.tradelog import entry_features, max_loss_at_expiry


def reference_entry_features(legs: pd.DataFrame) -> pd.DataFrame:
    cols = ["max_risk", "main_delta", "moneyness_pct", "short_strike", "long_strike"]
    text = ["short_strikes", "long_strikes"]
    if legs.empty:
        return pd.DataFrame(columns=cols + text, index=pd.Index([], name="position"))
    opening = legs[legs["opening_order"]]
    sign = np.where(opening["side"].to_numpy() == "BUY", 1.0, -1.0)
    frame = opening.assign(
        signed=sign * opening["units"].to_numpy(dtype=float),
        premium_size=np.abs(opening["units"].to_numpy(dtype=float) * opening["entry_price"]),
        is_option=opening["asset"].to_numpy() != "underlying",
    )
    rows: dict[str, tuple[Any, ...]] = {}
    for position, group in frame.groupby("position", sort=False):
        options = group[group["is_option"]]
        if len(options["expiry"].dropna().unique()) > 1:
            risk = float("nan")
        else:
            risk = max_loss_at_expiry(
                group["right"].to_numpy(),
                group["strike"].to_numpy(dtype=float),
                group["signed"].to_numpy(dtype=float),
                group["entry_price"].to_numpy(dtype=float),
                is_option=group["is_option"].to_numpy(),
            )
        if options.empty:
            rows[str(position)] = (risk, *([float("nan")] * 4), "", "")
            continue
        main = options.iloc[int(np.argmax(options["premium_size"].to_numpy(dtype=float)))]
        spot, k = float(main["spot"]), float(main["strike"])
        if np.isfinite(spot) and spot > 0:
            moneyness = 100.0 * ((k / spot - 1.0) if main["right"] == "C" else (1.0 - k / spot))
        else:
            moneyness = float("nan")
        rows[str(position)] = (risk, float(main["delta"]), moneyness, *_strikes(options, main))
    out = pd.DataFrame.from_dict(rows, orient="index", columns=cols + text)
    out.index.name = "position"
    return out


def _strikes(options: pd.DataFrame, main: pd.Series) -> tuple[float, float, str, str]:
    sold = options[options["side"] == "SELL"]
    bought = options[options["side"] == "BUY"]
    short = long = float("nan")
    right = None
    if main["side"] == "SELL":
        short, right = float(main["strike"]), main["right"]
    elif not sold.empty:
        top = sold.iloc[int(np.argmax(sold["premium_size"].to_numpy(dtype=float)))]
        short, right = float(top["strike"]), top["right"]
    if not bought.empty:
        wings = bought[bought["right"] == right] if np.isfinite(short) else bought.iloc[0:0]
        if not wings.empty:
            gap = np.abs(wings["strike"].to_numpy(dtype=float) - short)
            long = float(wings["strike"].to_numpy(dtype=float)[int(np.argmin(gap))])
        else:
            top = bought.iloc[int(np.argmax(bought["premium_size"].to_numpy(dtype=float)))]
            long = float(top["strike"])

    def joined(frame: pd.DataFrame) -> str:
        return "/".join(f"{k:g}" for k in sorted(frame["strike"].astype(float)))

    return short, long, joined(sold), joined(bought)


EXPIRIES = [pd.Timestamp("2024-01-04"), pd.Timestamp("2024-01-11")]


@st.composite
def leg_tables(draw: st.DrawFn) -> pd.DataFrame:
    """Rows as :func:`~workbench.analytics.tradelog.trade_legs` lays them out (the columns
    ``entry_features`` reads), positions interleaved, some legs added by adjustments."""
    rows = []
    for p in range(draw(st.integers(1, 6))):
        for _ in range(draw(st.integers(1, 5))):
            underlying = draw(st.integers(0, 9)) == 0
            rows.append(
                {
                    "position": f"#0/2024-01-0{p + 1}/x" if p % 2 else f"2024-01-03#{p}",
                    "asset": "underlying" if underlying else "option",
                    "side": draw(st.sampled_from(["BUY", "SELL"])),
                    "units": float(draw(st.sampled_from([25, 50, 100]))),
                    "right": None if underlying else draw(st.sampled_from(["C", "P"])),
                    "strike": np.nan if underlying else float(draw(st.integers(95, 105)) * 5),
                    "expiry": pd.NaT if underlying else draw(st.sampled_from(EXPIRIES)),
                    # few prices, so that premiums tie
                    "entry_price": float(draw(st.sampled_from([1.5, 2.0, 4.0, 10.0]))),
                    "spot": draw(st.sampled_from([500.0, 0.0, np.nan])),
                    "delta": draw(st.sampled_from([0.3, -0.25, np.nan])),
                    "opening_order": draw(st.integers(0, 4)) > 0,
                }
            )
    order = draw(st.permutations(range(len(rows))))
    legs = pd.DataFrame([rows[i] for i in order])
    legs["expiry"] = pd.to_datetime(legs["expiry"])
    if draw(st.booleans()):  # a tradebook read back with its exchange's zone
        legs["expiry"] = legs["expiry"].dt.tz_localize("America/New_York")
    return legs


@settings(max_examples=200, deadline=None)
@given(leg_tables())
def test_entry_features_equal_the_reference(legs: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        entry_features(legs), reference_entry_features(legs), check_exact=True
    )


def test_a_put_spread_and_an_iron_condor_by_hand() -> None:
    legs = pd.DataFrame(
        {
            "position": ["s", "s", "c", "c", "c", "c"],
            "asset": ["option"] * 6,
            "side": ["SELL", "BUY", "SELL", "BUY", "SELL", "BUY"],
            "units": [100.0] * 6,
            "right": ["P", "P", "P", "P", "C", "C"],
            "strike": [2900.0, 2850.0, 2800.0, 2750.0, 3100.0, 3150.0],
            "expiry": pd.to_datetime(["2019-02-15"] * 6),
            "entry_price": [12.0, 6.5, 5.0, 2.0, 6.0, 1.0],
            "spot": [3000.0] * 6,
            "delta": [-0.3, -0.15, -0.2, -0.1, 0.2, 0.1],
            "opening_order": [True] * 6,
        }
    )
    got = entry_features(legs)
    spread, condor = got.loc["s"], got.loc["c"]
    # put spread: 50 wide for a 5.5 credit, per 100 units
    assert spread["max_risk"] == (50 - 5.5) * 100
    assert (spread["short_strike"], spread["long_strike"]) == (2900.0, 2850.0)
    assert spread["moneyness_pct"] == 100.0 * (1 - 2900.0 / 3000.0)
    # condor: main leg is the dearer short (the call at 6); its wing is the bought call
    assert condor["main_delta"] == 0.2
    assert (condor["short_strike"], condor["long_strike"]) == (3100.0, 3150.0)
    assert (condor["short_strikes"], condor["long_strikes"]) == ("2800/3100", "2750/3150")
    assert condor["max_risk"] == (50 - (5 + 6 - 2 - 1)) * 100


def reference_max_loss(
    right: np.ndarray, strike: np.ndarray, units: np.ndarray, price: np.ndarray, option: np.ndarray
) -> float:
    """The payoff evaluated point by point (the formulation ``max_loss_at_expiry`` replaced by
    one evaluation of every point at once)."""
    call = option & (right == "C")
    put = option & (right == "P")
    if float(units[call].sum() + units[~option].sum()) < -1e-12:
        return float("inf")

    def payoff(s: float) -> float:
        value = np.where(
            call, np.maximum(s - strike, 0.0), np.where(put, np.maximum(strike - s, 0.0), s)
        )
        return float(np.sum(units * (np.nan_to_num(value) - price)))

    points = np.concatenate([[0.0], strike[option & np.isfinite(strike)]])
    return max(-min(payoff(float(s)) for s in points), 0.0)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["C", "P", "U"]),
            st.floats(50, 150),
            st.floats(-300, 300, allow_nan=False),
            st.floats(0, 40, allow_nan=False) | st.just(float("nan")),
        ),
        min_size=1,
        max_size=20,  # past numpy's 8-wide blocks of pairwise summation
    )
)
def test_max_loss_equals_the_payoff_point_by_point(
    legs: list[tuple[str, float, float, float]],
) -> None:
    right = np.array([r for r, *_ in legs], dtype=object)
    option = right != "U"
    strike = np.array([k if r != "U" else np.nan for r, k, _, _ in legs])
    units = np.array([u for _, _, u, _ in legs])
    price = np.array([p for *_, p in legs])
    got = max_loss_at_expiry(right, strike, units, price, is_option=option)
    want = reference_max_loss(right, strike, units, price, option)
    assert got == want or (np.isnan(got) and np.isnan(want))
