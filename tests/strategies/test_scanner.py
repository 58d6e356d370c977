"""Credit-spread scanner on a hand-built chain: every candidate, credit, EV and rank by hand."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from workbench.engine.selection import ChainSnapshot, LiquidityFilter
from workbench.model.enums import Right
from workbench.strategies.scanner import ScoreWeights, SpreadScan, scan_credit_spreads

# puts of a 35-DTE SPY-like chain, spot 450: strike, mid, |delta|
PUTS = [(410.0, 0.45, 0.06), (415.0, 0.70, 0.08), (420.0, 1.00, 0.10), (425.0, 1.50, 0.13),
        (430.0, 2.20, 0.16), (435.0, 3.10, 0.21)]  # fmt: skip
# calls: strike, mid, |delta|
CALLS = [(460.0, 3.00, 0.30), (465.0, 1.80, 0.14), (470.0, 1.10, 0.11), (475.0, 0.60, 0.07)]
EXPIRY = date(2024, 4, 5)


def snap(expiry: date = EXPIRY, spread: float = 0.10, **kw: object) -> ChainSnapshot:
    rows = [(k, "P", m, -d) for k, m, d in PUTS] + [(k, "C", m, d) for k, m, d in CALLS]
    mids = np.array([r[2] for r in rows])
    cols: dict[str, object] = {
        "strike": [r[0] for r in rows], "right": [r[1] for r in rows], "bid": mids - spread / 2,
        "ask": mids + spread / 2, "close": mids, "delta": [r[3] for r in rows],
        "volume": [50] * len(rows), "oi": [500] * len(rows),
    }  # fmt: skip
    cols.update(kw)
    return ChainSnapshot.build(
        underlying="SPY", ts=datetime(2024, 3, 1, 15, 46), spot=450.0, expiry=expiry, tte=35 / 365,
        **cols,  # type: ignore[arg-type]
    )  # fmt: skip


def test_bull_put_candidates_credit_ev_and_rank_by_hand() -> None:
    scan = SpreadScan(
        right=Right.PUT, short_delta=(0.10, 0.15), width_min=5, width_max=10, min_credit_pct=0.07
    )
    found = scan_credit_spreads(snap(), scan)
    # shorts with |delta| in [.10, .15]: 420 (.10), 425 (.13)
    # 425/420: credit 1.50 - 1.00 = .50 = 10 % of 5  -> kept
    # 425/415: credit 1.50 - 0.70 = .80 =  8 % of 10 -> kept
    # 420/415: .30 = 6 %; 420/410: .55 = 5.5 %        -> rejected (< 7 %)
    assert [(c.short_strike, c.long_strike) for c in found] == [(425.0, 420.0), (425.0, 415.0)]
    best = found[0]
    assert best.credit == pytest.approx(0.50)
    assert best.max_loss == pytest.approx(4.50)
    # EV = .50 x .87 - 4.50 x .13 = .435 - .585 = -.15 -> per width -.03
    assert best.ev_per_width == pytest.approx(-0.03)
    # score = ev/width + credit ratio + (1 - p) = -.03 + .10 + .87 = .94 ; the other -.05+.08+.87 = .90
    assert best.score == pytest.approx(0.94)
    assert found[1].score == pytest.approx(0.90)
    assert best.short_delta == pytest.approx(-0.13) and best.long_delta == pytest.approx(-0.10)
    assert "425/420" in best.rationale


def test_bear_call_spreads_pair_upward() -> None:
    scan = SpreadScan(
        right=Right.CALL, short_delta=(0.10, 0.15), width_min=5, width_max=5, min_credit_pct=0.10
    )
    found = scan_credit_spreads(snap(), scan)
    # shorts 465 (.14), 470 (.11); 465/470: 1.80 - 1.10 = .70 (14 %); 470/475: .50 (10 %)
    assert [(c.short_strike, c.long_strike) for c in found] == [(465.0, 470.0), (470.0, 475.0)]
    # scores: .14 - .14 + .14 + .86 = 1.00 ; .10 - .11 + .10 + .89 = .98
    assert [c.score for c in found] == pytest.approx([1.00, 0.98])


def test_weights_and_tie_breaks_decide_the_order() -> None:
    # only distance counts: every 425-short spread ties on score; 420 shorts score higher
    scan = SpreadScan(short_delta=(0.10, 0.15), width_min=5, width_max=10, min_credit_pct=0.0,
                      weights=ScoreWeights(ev=0, credit=0, distance=1))  # fmt: skip
    found = scan_credit_spreads(snap(), scan)
    # 420 shorts (1 - .10 = .90) before 425 shorts (.87); within a short, the higher credit ratio
    # 420/415 .30/5 = 6 % before 420/410 .55/10 = 5.5 %; 425/420 10 % before 425/415 8 %
    assert [(c.short_strike, c.long_strike) for c in found] == [
        (420.0, 415.0), (420.0, 410.0), (425.0, 420.0), (425.0, 415.0),
    ]  # fmt: skip


def test_equal_spreads_in_two_expiries_rank_the_earlier_first() -> None:
    scan = SpreadScan(short_delta=(0.13, 0.13), width_min=5, width_max=5, min_credit_pct=0.0)
    later = date(2024, 4, 12)
    found = scan_credit_spreads([snap(expiry=later), snap()], scan)
    assert [c.expiry for c in found] == [EXPIRY, later]


def test_natural_credit_and_liquidity_filters() -> None:
    scan = SpreadScan(
        short_delta=(0.13, 0.13),
        width_min=5,
        width_max=5,
        min_credit_pct=0.0,
        credit_basis="natural",
    )
    (c,) = scan_credit_spreads(snap(spread=0.10), scan)
    # sell 425 at the bid 1.45, buy 420 at the ask 1.05 -> .40
    assert c.credit == pytest.approx(0.40)
    oi = [500] * 10
    oi[2] = 5  # the 420 put
    thin = SpreadScan(short_delta=(0.13, 0.13), width_min=5, width_max=5, min_credit_pct=0.0,
                      filters=LiquidityFilter(min_oi=100))  # fmt: skip
    assert scan_credit_spreads(snap(oi=oi), thin) == []  # the only long leg is filtered out
    wide = SpreadScan(filters=LiquidityFilter(max_spread_pct=0.01))
    assert scan_credit_spreads(snap(), wide) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"short_delta": (0.2, 0.1)}, "short_delta"),
        ({"short_delta": (0.0, 0.1)}, "short_delta"),
        ({"width_min": 10, "width_max": 5}, "width_max"),
        ({"min_credit_pct": 1.5}, "min_credit_pct"),
        ({"right": "X"}, "right"),
        ({"credit_basis": "last"}, "credit_basis"),
    ],
)
def test_bad_scan_parameters_name_the_field(params: dict, field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        SpreadScan(**params)


@settings(max_examples=40, deadline=None)
@given(
    lo=st.floats(0.05, 0.3), span=st.floats(0.0, 0.3), wmin=st.sampled_from([5.0, 10.0]),
    extra=st.sampled_from([0.0, 5.0, 10.0]), pct=st.floats(0.0, 0.3), right=st.sampled_from([Right.PUT, Right.CALL]),
)  # fmt: skip
def test_every_candidate_meets_the_rules_and_the_list_is_ranked(
    lo: float, span: float, wmin: float, extra: float, pct: float, right: Right
) -> None:
    scan = SpreadScan(right=right, short_delta=(lo, min(lo + span, 0.95)), width_min=wmin,
                      width_max=wmin + extra, min_credit_pct=pct)  # fmt: skip
    found = scan_credit_spreads(snap(), scan)
    for c in found:
        assert scan.short_delta[0] - 1e-12 <= c.p_itm <= scan.short_delta[1] + 1e-12
        assert scan.width_min <= c.width <= scan.width_max
        assert c.credit >= pct * c.width - 1e-9
        assert (c.long_strike < c.short_strike) == (c.right is Right.PUT)
        assert c.score == pytest.approx(c.ev_per_width + c.credit_ratio + 1 - c.p_itm)
    scores = [
        round(c.score, 9) for c in found
    ]  # scores equal to 1e-12 are ties, ranked by later keys
    assert scores == sorted(scores, reverse=True)
