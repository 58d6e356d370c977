"""Strike selection on hand-built chains: every method, every tie-break, missing quotes, filters.

The chain below (spot 21530, grid 50) is small enough that every expected strike is read off it
by hand; the comments next to each assertion give the arithmetic.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from workbench.engine.selection import (
    ChainSnapshot,
    LiquidityFilter,
    Selection,
    atm_target,
    eligible_mask,
    resolve_strike,
    select_contract,
    years_to_expiry,
)
from workbench.model.enums import Side

STRIKES = [21400.0, 21450.0, 21500.0, 21550.0, 21600.0, 21650.0, 21700.0]
CALL_MID = [150.0, 115.0, 85.0, 60.0, 40.0, 25.0, 15.0]
PUT_MID = [20.0, 32.0, 50.0, 75.0, 110.0, 150.0, 190.0]
CALL_DELTA = [0.75, 0.66, 0.56, 0.45, 0.35, 0.25, 0.17]
PUT_DELTA = [-0.25, -0.34, -0.44, -0.55, -0.65, -0.75, -0.83]


def chain(spot: float = 21530.0, step: float | None = 50.0, **overrides: object) -> ChainSnapshot:
    """Calls then puts; quotes are mid -/+ 1 (a 2-point spread); volume 100, oi 1000."""
    n = len(STRIKES)
    mids = np.array(CALL_MID + PUT_MID)
    cols: dict[str, object] = {
        "strike": STRIKES * 2,
        "right": ["C"] * n + ["P"] * n,
        "bid": mids - 1.0,
        "ask": mids + 1.0,
        "close": mids,
        "volume": [100] * 2 * n,
        "oi": [1000] * 2 * n,
        "delta": CALL_DELTA + PUT_DELTA,
        "lag": [0] * 2 * n,
    }
    cols.update(overrides)
    return ChainSnapshot.build(
        underlying="NIFTY",
        ts=datetime(2024, 1, 18, 10, 0),
        spot=spot,
        expiry=date(2024, 1, 25),
        tte=7 / 365,
        strike_step=step,
        **cols,  # type: ignore[arg-type]
    )


def row_of(strike: float, right: str) -> int:
    return STRIKES.index(strike) + (0 if right == "C" else len(STRIKES))


# ------------------------------------------------------------------------------------- atm


@pytest.mark.parametrize(
    ("spot", "expected"),
    [
        (21530.0, 21550.0),  # 21530/50 = 430.6 -> 431 x 50
        (21524.99, 21500.0),  # 430.4998 -> 430
        (21525.0, 21550.0),  # exactly half-way: rounds up
        (21474.0, 21450.0),
    ],
)
def test_atm_rounds_spot_to_the_grid_half_up(spot: float, expected: float) -> None:
    snap = chain(spot=spot)
    assert select_contract(snap, right="C") == expected
    assert select_contract(snap, right="P") == expected  # same strike for both legs


def test_atm_without_grid_is_the_listed_strike_nearest_spot() -> None:
    assert select_contract(chain(spot=21530.0, step=None), right="P") == 21550.0  # 20 < 30
    # 21525 sits half-way between 21500 and 21550: the higher strike, for both rights
    snap = chain(spot=21525.0, step=None)
    assert select_contract(snap, right="P") == 21550.0
    assert select_contract(snap, right="C") == 21550.0


def test_atm_target_missing_goes_to_nearest_eligible_and_ties_go_up() -> None:
    # the 21550 call has no price at all: 21500 and 21600 are both 50 from the target 21550
    bid = np.array(CALL_MID + PUT_MID) - 1.0
    ask = bid + 2.0
    close = np.array(CALL_MID + PUT_MID)
    i = row_of(21550.0, "C")
    bid[i] = ask[i] = close[i] = np.nan
    snap = chain(bid=bid, ask=ask, close=close)
    choice = resolve_strike(snap, "C", Selection())
    assert choice.strike == 21600.0
    assert choice.candidates == 6
    assert select_contract(snap, right="P") == 21550.0  # the put is still listed and priced


def test_atm_target_function() -> None:
    assert atm_target(21530.0, 50.0) == 21550.0
    assert atm_target(4712.4, 5.0) == 4710.0
    assert atm_target(4712.5, 5.0) == 4715.0
    assert atm_target(4712.4, None) == 4712.4


# ------------------------------------------------------------------------------- otm steps


def test_otm_steps_count_out_of_the_money_from_the_atm_strike() -> None:
    snap = chain()  # ATM 21550
    assert select_contract(snap, right="C", method="otm_steps", value=2) == 21650.0  # 21550 + 2x50
    assert select_contract(snap, right="P", method="otm_steps", value=2) == 21450.0  # 21550 - 2x50
    assert select_contract(snap, right="P", method="otm_steps", value=-1) == 21600.0  # ITM put
    assert select_contract(snap, right="C", method="otm_steps", value=0) == 21550.0
    # a rule grid overrides the snapshot's: 21530 -> ATM 21500 on a 100 grid; +1 step = 21600
    assert (
        select_contract(snap, right="C", method="otm_steps", value=1, strike_step=100.0) == 21600.0
    )


def test_otm_steps_tie_when_target_missing_is_conservative_by_side() -> None:
    close = np.array(CALL_MID + PUT_MID)
    i = row_of(21650.0, "C")
    close[i] = np.nan
    bid = np.array(CALL_MID + PUT_MID) - 1.0
    ask = bid + 2.0
    bid[i] = ask[i] = np.nan
    snap = chain(bid=bid, ask=ask, close=close)
    # target 21650 is gone; 21600 and 21700 are each 50 away
    assert select_contract(snap, right="C", method="otm_steps", value=2, side="SELL") == 21700.0
    assert select_contract(snap, right="C", method="otm_steps", value=2, side="BUY") == 21600.0
    assert select_contract(snap, right="C", method="otm_steps", value=2) == 21600.0  # None = BUY


def test_otm_steps_without_a_grid_names_the_parameter() -> None:
    with pytest.raises(ValueError, match="strike_step"):
        select_contract(chain(step=None), right="C", method="otm_steps", value=1)


# ------------------------------------------------------------------------------- pct spot


def test_pct_spot_nearest_and_put_tie_breaks() -> None:
    snap = chain(spot=22000.0)
    # 0.98 x 22000 = 21560 -> 21550 (10 away)
    assert select_contract(snap, right="P", method="pct_spot", value=0.98) == 21550.0
    # 0.97625 x 22000 = 21477.5... pick a clean half-way target instead: 21475 = 22000 x 0.976136..
    snap2 = chain(spot=20000.0)
    # 1.07375 x 20000 = 21475: half-way between 21450 and 21500
    assert math.isclose(1.07375 * 20000.0, 21475.0)
    assert (
        select_contract(snap2, right="P", method="pct_spot", value=1.07375, side="BUY") == 21500.0
    )
    assert (
        select_contract(snap2, right="P", method="pct_spot", value=1.07375) == 21500.0
    )  # seed 002
    assert (
        select_contract(snap2, right="P", method="pct_spot", value=1.07375, side="SELL") == 21450.0
    )
    assert (
        select_contract(snap2, right="C", method="pct_spot", value=1.07375, side="SELL") == 21500.0
    )
    assert (
        select_contract(snap2, right="C", method="pct_spot", value=1.07375, side="BUY") == 21450.0
    )


def test_strike_method_targets_a_price_with_side_ties() -> None:
    snap = chain()
    assert select_contract(snap, right="C", method="strike", value=21600.0) == 21600.0
    assert select_contract(snap, right="C", method="strike", value=21610.0) == 21600.0
    # 21625 is half-way: a bought call wing takes the lower strike, a sold call the higher
    assert select_contract(snap, right="C", method="strike", value=21625.0, side="BUY") == 21600.0
    assert select_contract(snap, right="C", method="strike", value=21625.0, side="SELL") == 21650.0
    assert select_contract(snap, right="P", method="strike", value=21425.0, side="BUY") == 21450.0
    assert select_contract(snap, right="P", method="strike", value=21425.0, side="SELL") == 21400.0


def test_pct_spot_beyond_the_chain_takes_the_edge_strike() -> None:
    assert select_contract(chain(), right="P", method="pct_spot", value=0.5) == 21400.0


# -------------------------------------------------------------------------------- premium


def test_premium_nearest_above_below() -> None:
    snap = chain()
    # call mids 150 115 85 60 40 25 15
    assert select_contract(snap, right="C", method="premium", value=30.0) == 21650.0  # 25 (5 away)
    assert (
        select_contract(snap, right="C", method="premium", value=30.0, bound="at_or_above")
        == 21600.0
    )
    assert (
        select_contract(snap, right="C", method="premium", value=30.0, bound="at_or_below")
        == 21650.0
    )
    assert (
        select_contract(snap, right="C", method="premium", value=40.0, bound="at_or_above")
        == 21600.0
    )
    assert (
        select_contract(snap, right="C", method="premium", value=40.0, bound="at_or_below")
        == 21600.0
    )
    choice = resolve_strike(
        snap, "P", Selection(method="premium", value=100.0, bound="at_or_above")
    )
    assert (choice.strike, choice.price) == (21600.0, 110.0)


def test_premium_ties_are_conservative_by_side() -> None:
    snap = chain()
    # calls: 50 is 10 from 60 (21550) and from 40 (21600)
    assert select_contract(snap, right="C", method="premium", value=50.0, side="SELL") == 21600.0
    assert select_contract(snap, right="C", method="premium", value=50.0, side="BUY") == 21550.0
    # puts: 41 is 9 from 32 (21450) and from 50 (21500)
    assert select_contract(snap, right="P", method="premium", value=41.0, side="SELL") == 21450.0
    assert select_contract(snap, right="P", method="premium", value=41.0, side="BUY") == 21500.0
    # equal prices at two strikes under a bound
    close = np.array(CALL_MID + PUT_MID)
    close[row_of(21650.0, "C")] = 40.0
    bid = close - 1.0
    ask = close + 1.0
    tied = chain(bid=bid, ask=ask, close=close)
    rule: dict[str, Any] = {"method": "premium", "value": 35.0, "bound": "at_or_above"}
    assert select_contract(tied, right="C", side="SELL", **rule) == 21650.0
    assert select_contract(tied, right="C", side="BUY", **rule) == 21600.0


def test_premium_out_of_reach_returns_none_with_reason() -> None:
    choice = resolve_strike(
        chain(), "C", Selection(method="premium", value=500.0, bound="at_or_above")
    )
    assert choice.strike is None and not choice.found
    assert "at or above 500" in choice.reason and "highest 150" in choice.reason
    choice = resolve_strike(
        chain(), "P", Selection(method="premium", value=5.0, bound="at_or_below")
    )
    assert choice.strike is None and "lowest 20" in choice.reason


def test_premium_on_other_price_bases() -> None:
    snap = chain()
    # bids: calls 149 114 84 59 39 24 14; at or above 24 on bid -> 24 (21650)
    assert (
        select_contract(
            snap, right="C", method="premium", value=24.0, bound="at_or_above", price="bid"
        )
        == 21650.0
    )
    # asks: 151 116 86 61 41 26 16; at or above 24 on ask -> 26 (21650); at or below 25 -> 16
    assert (
        select_contract(
            snap, right="C", method="premium", value=25.0, bound="at_or_below", price="ask"
        )
        == 21700.0
    )


# ---------------------------------------------------------------------------------- delta


def test_delta_from_the_chain_column() -> None:
    snap = chain()
    # put |delta| .25 .34 .44 ...: 0.30 is .05 from .25 and .04 from .34
    choice = resolve_strike(snap, "P", Selection(method="delta", value=0.30))
    assert choice.strike == 21450.0 and choice.delta == pytest.approx(-0.34)
    assert (
        select_contract(snap, right="C", method="delta", value=0.30, bound="at_or_below") == 21650.0
    )
    assert (
        select_contract(snap, right="C", method="delta", value=0.30, bound="at_or_above") == 21600.0
    )
    assert (
        select_contract(snap, right="P", method="delta", value=0.5, bound="at_or_below") == 21500.0
    )
    assert select_contract(snap, right="C", method="delta", value=0.9, bound="at_or_above") is None


def test_delta_ties_are_conservative_by_side() -> None:
    snap = chain()
    # calls .35 (21600) and .25 (21650) are both .05 from .30
    assert select_contract(snap, right="C", method="delta", value=0.30, side="SELL") == 21650.0
    assert select_contract(snap, right="C", method="delta", value=0.30, side="BUY") == 21600.0
    # puts .34 (21450) and .44 (21500) are both .05 from .39
    assert select_contract(snap, right="P", method="delta", value=0.39, side="SELL") == 21450.0
    assert select_contract(snap, right="P", method="delta", value=0.39, side="BUY") == 21500.0


# --------------------------------------------------------------------------- min straddle


def test_min_straddle_picks_lowest_call_plus_put_and_ties_nearest_spot() -> None:
    # sums: 21400 170, 21450 147, 21500 135, 21550 135, 21600 150, 21650 175, 21700 205
    snap = chain(spot=21530.0)
    choice = resolve_strike(snap, "C", Selection(method="min_straddle"))
    assert choice.strike == 21550.0  # 135 tie; 21550 is 20 from spot, 21500 is 30
    assert choice.price == 60.0
    assert select_contract(snap, right="P", method="min_straddle") == 21550.0
    assert select_contract(chain(spot=21510.0), right="P", method="min_straddle") == 21500.0
    # equal distance too (spot 21525): the higher strike
    assert select_contract(chain(spot=21525.0), right="P", method="min_straddle") == 21550.0


def test_min_straddle_needs_both_rights_at_a_strike() -> None:
    close = np.array(CALL_MID + PUT_MID)
    bid = close - 1.0
    ask = close + 1.0
    for k in (21500.0, 21550.0):
        i = row_of(k, "P")
        bid[i] = ask[i] = close[i] = np.nan
    snap = chain(bid=bid, ask=ask, close=close)
    # without the 21500/21550 puts the next lowest complete straddle is 21450 (147)
    assert select_contract(snap, right="C", method="min_straddle") == 21450.0


# ----------------------------------------------------------------- missing data, filters


def test_missing_quote_falls_back_to_close_unless_a_quote_is_required() -> None:
    bid = np.array(CALL_MID + PUT_MID) - 1.0
    ask = bid + 2.0
    i = row_of(21550.0, "C")
    bid[i] = ask[i] = np.nan
    snap = chain(bid=bid, ask=ask)
    choice = resolve_strike(snap, "C", Selection())
    assert (choice.strike, choice.price) == (21550.0, 60.0)  # the bar close
    strict = Selection(filters=LiquidityFilter(require_quote=True))
    assert resolve_strike(snap, "C", strict).strike == 21600.0  # 21500/21600 tie -> higher


def test_rows_without_a_bar_today_or_too_stale_are_skipped() -> None:
    lag: list[int | None] = [0] * 14
    lag[row_of(21550.0, "C")] = None
    lag[row_of(21600.0, "C")] = 3
    snap = chain(lag=lag)
    assert select_contract(snap, right="C") == 21600.0  # 21550 has no bar; 21500/21600 tie -> up
    fresh = LiquidityFilter(max_lag=2)
    assert select_contract(snap, right="C", filters=fresh) == 21500.0


def test_spread_volume_and_oi_filters() -> None:
    snap = chain()
    # spread 2 everywhere; as % of mid: 2/25 = 8 %, 2/15 = 13 %, 2/40 = 5 % (kept: <= is inclusive)
    wide_out = LiquidityFilter(max_spread_pct=0.05)
    assert (
        select_contract(snap, right="C", method="premium", value=20.0, filters=wide_out) == 21600.0
    )
    assert select_contract(snap, right="C", filters=LiquidityFilter(max_spread=2.0)) == 21550.0
    volume = [100] * 14
    volume[row_of(21550.0, "C")] = 5
    oi = [1000] * 14
    oi[row_of(21600.0, "C")] = 10
    thin = chain(volume=volume, oi=oi)
    liquid = LiquidityFilter(min_volume=10, min_oi=100)
    assert select_contract(thin, right="C", filters=liquid) == 21500.0  # 21550, 21600 removed


def test_filters_removing_everything_return_none_with_the_reason() -> None:
    snap = chain()
    choice = resolve_strike(snap, "P", Selection(filters=LiquidityFilter(min_oi=1e9)))
    assert choice.strike is None
    assert "min_oi" in choice.reason and "7 P rows" in choice.reason
    choice = resolve_strike(snap, "C", Selection(filters=LiquidityFilter(max_spread=1.0)))
    assert choice.strike is None and "max_spread=1" in choice.reason
    only_calls = ChainSnapshot.build(
        underlying="NIFTY", ts=datetime(2024, 1, 18, 10), spot=21530.0, expiry=date(2024, 1, 25),
        tte=0.02, strike=[21500.0], right=["C"], close=[80.0],
    )  # fmt: skip
    choice = resolve_strike(only_calls, "P", Selection())
    assert choice.strike is None and "no P rows" in choice.reason
    assert resolve_strike(only_calls, "C", Selection(method="min_straddle")).strike is None


# ------------------------------------------------------------------------- bad parameters


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"method": "delta", "value": 1.5}, "value"),
        ({"method": "delta"}, "value"),
        ({"method": "premium", "value": -1.0}, "value"),
        ({"method": "strike", "value": 0.0}, "value"),
        ({"method": "otm_steps", "value": 1.5}, "value"),
        ({"method": "atm", "value": 3.0}, "value"),
        ({"method": "pct_spot", "value": float("nan")}, "value"),
        ({"method": "atm", "bound": "at_or_above"}, "bound"),
        ({"method": "banana"}, "method"),
        ({"strike_step": 0.0}, "strike_step"),
        ({"side": "HOLD"}, "side"),
        ({"price": "last"}, "price"),
        ({"mehtod": "atm"}, "mehtod"),
    ],
)
def test_bad_rule_parameters_name_the_parameter(params: dict, field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        Selection(**params)


def test_bad_filter_parameters_name_the_parameter() -> None:
    with pytest.raises(ValidationError, match="max_spread_pct"):
        LiquidityFilter(max_spread_pct=-0.1)
    with pytest.raises(ValidationError, match="max_lag"):
        LiquidityFilter(max_lag=-1)


def test_rule_and_fields_together_are_refused() -> None:
    with pytest.raises(ValueError, match="not both"):
        select_contract(chain(), right="C", rule=Selection(), method="atm")
    with pytest.raises(ValueError, match="right"):
        select_contract(chain(), right="X")


def test_selection_is_frozen_and_hashable() -> None:
    a = Selection(method="delta", value=0.16, side=Side.SELL, filters=LiquidityFilter(min_oi=10))
    b = Selection(method="delta", value=0.16, side=Side.SELL, filters=LiquidityFilter(min_oi=10))
    assert a == b and hash(a) == hash(b)
    with pytest.raises(ValidationError):
        a.value = 0.2  # type: ignore[misc]


# ---------------------------------------------------------------------- snapshot validation


def _build(**kw: object) -> ChainSnapshot:
    base: dict[str, object] = {
        "underlying": "NIFTY", "ts": datetime(2024, 1, 18, 10), "spot": 21530.0,
        "expiry": date(2024, 1, 25), "tte": 0.02, "strike": [21500.0, 21500.0], "right": ["C", "P"],
    }  # fmt: skip
    base.update(kw)
    return ChainSnapshot.build(**base)  # type: ignore[arg-type]


def test_snapshot_rejects_bad_input_naming_the_field() -> None:
    with pytest.raises(ValueError, match="duplicate row for strike 21500 C"):
        _build(strike=[21500.0, 21500.0], right=["C", "C"])
    with pytest.raises(ValueError, match=r"delta\[1\]"):
        _build(delta=[0.5, 0.5])  # a put with a call's delta (ORATS-style unsigned)
    with pytest.raises(ValueError, match=r"right\[1\]"):
        _build(right=["C", "X"])
    with pytest.raises(ValueError, match=r"bid: length 1 != 2"):
        _build(bid=[1.0])
    with pytest.raises(ValueError, match=r"strike\[0\]"):
        _build(strike=[-5.0, 21500.0])
    with pytest.raises(ValueError, match="spot"):
        _build(spot=0.0)
    with pytest.raises(ValueError, match="tte"):
        _build(tte=-0.1)
    with pytest.raises(ValueError, match="lag"):
        _build(lag=[0.5, 0])


def test_snapshot_accessors() -> None:
    snap = _build(bid=[10.0, np.nan], ask=[12.0, 8.0], close=[11.5, 7.0], right=[True, False])
    assert list(snap.right) == ["C", "P"]
    assert snap.mid[0] == 11.0 and math.isnan(snap.mid[1])
    assert list(snap.price("mid")) == [11.0, 7.0]
    assert snap.row(21500.0, "P") == 1 and snap.row(21550.0, "P") is None
    frame = {"strike": [21500.0], "right": ["PE"], "close": [7.0]}
    built = ChainSnapshot.from_frame(
        frame, underlying="NIFTY", ts=datetime(2024, 1, 18, 10), spot=21530.0,
        expiry=date(2024, 1, 25), tte=0.02,
    )  # fmt: skip
    assert len(built) == 1 and not built.is_call[0]
    with pytest.raises(ValueError, match="missing column 'right'"):
        ChainSnapshot.from_frame({"strike": [1.0]}, underlying="X", ts=datetime(2024, 1, 1), spot=1.0,
                                 expiry=date(2024, 1, 2), tte=0.0)  # fmt: skip


def test_years_to_expiry() -> None:
    # 2024-01-18 10:00 to 2024-01-25 15:30 = 7 days 5.5 hours
    t = years_to_expiry(datetime(2024, 1, 18, 10, 0), date(2024, 1, 25), time(15, 30))
    assert t == pytest.approx((7 + 5.5 / 24) / 365)
    assert years_to_expiry(datetime(2024, 1, 25, 15, 31), date(2024, 1, 25), time(15, 30)) == 0.0


# ------------------------------------------------------------------------------- properties


@settings(max_examples=60, deadline=None)
@given(
    strikes=st.lists(
        st.integers(min_value=80, max_value=120), min_size=1, max_size=12, unique=True
    ),
    spot=st.floats(min_value=75.0, max_value=125.0, allow_nan=False),
    seed=st.integers(min_value=0, max_value=2**16),
    method=st.sampled_from(["atm", "otm_steps", "pct_spot", "premium", "min_straddle"]),
    side=st.sampled_from([None, "BUY", "SELL"]),
    right=st.sampled_from(["C", "P"]),
)
def test_selection_ignores_row_order_and_picks_a_nearest_row(
    strikes: list[int], spot: float, seed: int, method: str, side: str | None, right: str
) -> None:
    rng = np.random.default_rng(seed)
    ks = np.array(strikes * 2, dtype=float)
    rights = np.array(["C"] * len(strikes) + ["P"] * len(strikes))
    close = np.round(rng.uniform(0.5, 20.0, ks.size), 1)  # one decimal: ties happen
    value = {"atm": None, "otm_steps": 1.0, "pct_spot": 1.02, "premium": 5.0, "min_straddle": None}[
        method
    ]
    rule = Selection(method=method, value=value, side=side, strike_step=1.0)  # type: ignore[arg-type]
    kw = {
        "underlying": "X",
        "ts": datetime(2024, 1, 1),
        "spot": spot,
        "expiry": date(2024, 1, 5),
        "tte": 0.01,
    }
    snap = ChainSnapshot.build(strike=ks, right=rights, close=close, **kw)  # type: ignore[arg-type]
    perm = rng.permutation(ks.size)
    shuffled = ChainSnapshot.build(strike=ks[perm], right=rights[perm], close=close[perm], **kw)  # type: ignore[arg-type]
    a = resolve_strike(snap, right, rule)
    b = resolve_strike(shuffled, right, rule)
    assert a.strike == b.strike and a.price == b.price
    assert a.strike is not None
    if method in ("atm", "otm_steps", "pct_spot"):
        target = {"atm": atm_target(spot, 1.0), "otm_steps": atm_target(spot, 1.0) + (1 if right == "C" else -1),
                  "pct_spot": 1.02 * spot}[method]  # fmt: skip
        best = min(abs(k - target) for k in strikes)
        assert abs(a.strike - target) <= best + 1e-9
    elif method == "premium":
        mine = close[rights == right]
        assert abs(a.price - 5.0) <= np.abs(mine - 5.0).min() + 1e-9


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.sampled_from([95.0, 100.0, 105.0, 110.0]), st.booleans()),
        min_size=0,
        max_size=9,
    ),
    ordered=st.booleans(),
)
def test_snapshot_duplicate_check_agrees_with_a_sort(
    rows: list[tuple[float, bool]], ordered: bool
) -> None:
    """A chain in file order (strike ascending) skips the sort, unordered ones do not: either
    way a repeated (strike, right) is refused, naming the smallest repeated (strike, right)
    as the sorted check does (independent reference: a Counter), and no other chain is."""
    from collections import Counter

    if ordered:
        rows = sorted(rows, key=lambda r: r[0])
    strikes = [k for k, _ in rows]
    calls = [c for _, c in rows]
    repeated = sorted((k, int(c)) for (k, c), n in Counter(rows).items() if n > 1)
    build = dict(
        underlying="NIFTY",
        ts=datetime(2024, 1, 18, 10, 0),
        spot=100.0,
        expiry=date(2024, 1, 25),
        tte=0.02,
        strike=strikes,
        right=np.array(calls, dtype=bool),
    )
    if repeated:
        k, c = repeated[0]
        with pytest.raises(ValueError, match=f"duplicate row for strike {k:g} {'C' if c else 'P'}"):
            ChainSnapshot.build(**build)
    else:
        assert len(ChainSnapshot.build(**build)) == len(rows)


def test_selection_results_are_kept_per_snapshot_and_not_shared_out() -> None:
    """Two rules on one snapshot give what each gives on a fresh snapshot; changing what a
    helper returned does not change the next answer."""
    snap = _build(
        strike=[90.0, 95.0, 100.0, 105.0],
        right=["P", "P", "P", "P"],
        bid=[0.5, 1.0, 2.0, 4.0],
        ask=[0.6, 1.2, 2.2, 4.4],
        delta=[-0.1, -0.2, -0.35, -0.55],
    )
    fresh = lambda: _build(  # noqa: E731
        strike=[90.0, 95.0, 100.0, 105.0],
        right=["P", "P", "P", "P"],
        bid=[0.5, 1.0, 2.0, 4.0],
        ask=[0.6, 1.2, 2.2, 4.4],
        delta=[-0.1, -0.2, -0.35, -0.55],
    )
    for value, side in ((0.3, "SELL"), (0.15, "BUY"), (0.2, "SELL")):
        rule = Selection(method="delta", value=value, side=side)
        assert resolve_strike(snap, "P", rule) == resolve_strike(fresh(), "P", rule)
    mask, _ = eligible_mask(snap, False, LiquidityFilter(), "mid")
    mask[:] = False
    snap.two_sided[:] = False
    snap.price("mid")[:] = 0.0
    assert eligible_mask(snap, False, LiquidityFilter(), "mid")[0].all()
    assert (
        resolve_strike(snap, "P", Selection(method="delta", value=0.3, side="SELL")).strike == 100.0
    )


@settings(max_examples=200, deadline=None)
@given(
    chain=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=30),  # strike index
            st.booleans(),  # call
            st.integers(min_value=1, max_value=19),  # |delta| in 0.05 steps: ties happen
            st.sampled_from([0.0, 0.4, 1.0, 2.5]),  # bid (0 with ask 0: not quoted)
        ),
        min_size=1,
        max_size=24,
        unique_by=lambda r: (r[0], r[1]),
    ),
    value=st.sampled_from([0.05, 0.12, 0.25, 0.3, 0.5, 0.72, 0.95]),
    bound=st.sampled_from(["nearest", "at_or_above", "at_or_below"]),
    side=st.sampled_from([None, "BUY", "SELL"]),
    right=st.sampled_from(["C", "P"]),
    twice=st.booleans(),
)
def test_delta_selection_equals_a_plain_scan(chain, value, bound, side, right, twice) -> None:
    """By delta, each bound and side, against a scan of the eligible rows written from the
    module docstring's rules (nearest within the tie tolerance, at or above / below the target
    then the closest, the conservative strike among ties); the same answer the second time a
    snapshot is asked (its kept rows and deltas)."""
    strikes = [21000.0 + 50 * k for k, *_ in chain]
    calls = [c for _, c, _, _ in chain]
    deltas = [(0.05 * d if c else -0.05 * d) for _, c, d, _ in chain]
    bids = [b for *_, b in chain]
    asks = [0.0 if b == 0.0 else b + 0.5 for b in bids]
    snap = _build(strike=strikes, right=["C" if c else "P" for c in calls], bid=bids, ask=asks,
                  delta=deltas, close=[b + 0.25 for b in bids])  # fmt: skip
    rule = Selection(method="delta", value=value, bound=bound, side=side)  # type: ignore[arg-type]
    if twice:
        resolve_strike(snap, right, rule)
    got = resolve_strike(snap, right, rule)
    is_call = right == "C"
    mask, why = eligible_mask(snap, is_call, rule.filters, rule.price)
    rows = [i for i in range(len(chain)) if mask[i]]
    if why or not rows:
        assert got.strike is None
        return
    metric = {i: abs(float(snap.delta[i])) for i in rows}
    atol = 1e-9
    if bound == "nearest":
        near = min(abs(m - value) for m in metric.values())
        tied = [i for i in rows if abs(metric[i] - value) <= near + atol]
    else:
        ok = [
            i for i in rows
            if (metric[i] >= value - atol if bound == "at_or_above" else metric[i] <= value + atol)
        ]  # fmt: skip
        if not ok:
            assert got.strike is None and bound.replace("_", " ") in got.reason
            return
        best = (min if bound == "at_or_above" else max)(metric[i] for i in ok)
        tied = [i for i in ok if abs(metric[i] - best) <= atol]
    higher = (is_call and side == "SELL") or (not is_call and side != "SELL")
    pick = (max if higher else min)(tied, key=lambda i: float(snap.strike[i]))
    assert got.strike == float(snap.strike[pick])
    assert got.delta == (1.0 if is_call else -1.0) * metric[pick]
