"""One rule on many expiries of a day's chain in one pass (issue 13): every span it decides is
decided exactly as :func:`resolve_strike` decides it on the span's own snapshot -- strike, row,
price, delta, candidates and reason -- and the spans it leaves to the caller are the ones the
module doc lists."""

from __future__ import annotations

from dataclasses import astuple
from datetime import date, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.engine.selection import (
    ChainSnapshot,
    LiquidityFilter,
    Selection,
    StrikeChoice,
    resolve_strike,
)
from workbench.engine.selection_batch import resolve_strikes
from workbench.model.enums import Side

DAY = date(2024, 3, 1)
TS = datetime(2024, 3, 1, 16, 0)
SPOT = 5000.0
COLUMNS = ("strike", "is_call", "bid", "ask", "close", "volume", "oi", "iv", "delta")


def _expiry_rows(rng: np.random.Generator, n_strikes: int, holes: float) -> dict[str, np.ndarray]:
    """One expiry's rows as the files order them: strike ascending, call then put. Prices
    and deltas fall with distance out of the money, some repeat (ties), some are missing."""
    step = float(rng.choice([5.0, 10.0, 25.0]))
    first = SPOT - step * rng.integers(0, n_strikes + 1)
    strikes = np.repeat(first + step * np.arange(n_strikes), 2)
    is_call = np.tile([True, False], n_strikes)
    money = np.where(is_call, SPOT - strikes, strikes - SPOT)
    # coarse values so that different strikes often tie on price or delta
    mid = np.round(np.maximum(money, 0) + 40 * np.exp(-np.abs(money) / 200), 0) / 4 + 0.05
    absd = np.round(1 / (1 + np.exp(-money / 150)), 2)
    absd = np.clip(absd, 0.01, 0.99)
    # near-ties: values a hair apart (inside the selection's tie tolerance)
    mid = mid + rng.choice([0.0, 3e-10], strikes.size)
    absd = absd + rng.choice([0.0, 3e-10], strikes.size)
    half = np.round(rng.uniform(0.05, 2.0, strikes.size), 1)
    bid, ask = mid - half, mid + half
    close = np.round(mid * rng.uniform(0.9, 1.1, strikes.size), 2)
    gone = rng.random(strikes.size) < holes
    bid[gone & (rng.random(strikes.size) < 0.5)] = np.nan
    ask[gone & (rng.random(strikes.size) < 0.3)] = np.nan
    close[rng.random(strikes.size) < holes] = np.nan
    delta = np.where(is_call, absd, -absd)
    delta[rng.random(strikes.size) < holes / 3] = np.nan
    return {
        "strike": strikes,
        "is_call": is_call,
        "bid": bid,
        "ask": ask,
        "close": close,
        "volume": rng.integers(0, 50, strikes.size).astype(float),
        "oi": rng.integers(0, 500, strikes.size).astype(float),
        "iv": np.full(strikes.size, 0.2),
        "delta": delta,
    }


def _snapshot(rows: dict[str, np.ndarray], expiry: date, checked: bool = False) -> ChainSnapshot:
    build = ChainSnapshot.from_checked_rows if checked else ChainSnapshot
    n = rows["strike"].size
    snap = build(
        underlying="SPX", ts=TS, spot=SPOT, expiry=expiry, tte=(expiry - DAY).days / 365.0,
        lag=np.zeros(n, dtype=np.int64), rate=0.01, div_yield=0.0, strike_step=None,
        **{name: rows[name] for name in COLUMNS},
    )  # fmt: skip
    return snap


def _day(
    rng: np.random.Generator, n_expiries: int, holes: float
) -> tuple[ChainSnapshot, list[ChainSnapshot], list[tuple[int, int]]]:
    parts = [_expiry_rows(rng, int(rng.integers(1, 25)), holes) for _ in range(n_expiries)]
    expiries = [DAY + timedelta(days=7 * (k + 1)) for k in range(n_expiries)]
    spans, a = [], 0
    for part in parts:
        spans.append((a, a + part["strike"].size))
        a += part["strike"].size
    whole = {name: np.concatenate([p[name] for p in parts]) for name in COLUMNS}
    day = _snapshot(whole, expiries[0], checked=True)
    return day, [_snapshot(p, e) for p, e in zip(parts, expiries)], spans


def _same(a: StrikeChoice, b: StrikeChoice) -> bool:
    """Field for field, exactly (two NaN are the same missing value)."""
    return all(
        x == y or (isinstance(x, float) and isinstance(y, float) and x != x and y != y)
        for x, y in zip(astuple(a), astuple(b), strict=True)
    )


FILTERS = [
    LiquidityFilter(),
    LiquidityFilter(require_quote=True),
    LiquidityFilter(max_spread=1.5, min_volume=10),
    LiquidityFilter(max_spread_pct=0.2, min_oi=100),
]


@settings(max_examples=300, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_expiries=st.integers(1, 6),
    holes=st.sampled_from([0.0, 0.1, 0.4]),
    method=st.sampled_from(["delta", "premium", "strike"]),
    bound=st.sampled_from(["nearest", "at_or_above", "at_or_below"]),
    side=st.sampled_from([Side.SELL, Side.BUY, None]),
    right=st.sampled_from(["C", "P"]),
    basis=st.sampled_from(["mid", "close", "bid", "ask"]),
    filters=st.sampled_from(FILTERS),
    per_span=st.booleans(),
)
def test_each_decided_span_is_the_one_expiry_choice(
    seed: int, n_expiries: int, holes: float, method: str, bound: str, side: Side | None,
    right: str, basis: str, filters: LiquidityFilter, per_span: bool,
) -> None:  # fmt: skip
    rng = np.random.default_rng(seed)
    day, snaps, spans = _day(rng, n_expiries, holes)
    if method == "strike":
        bound = "nearest"
        values = [float(np.round(rng.uniform(4700, 5300), 1)) for _ in spans]
    elif method == "premium":
        values = [float(np.round(rng.uniform(0.5, 80), 1)) for _ in spans]
    else:
        values = [float(rng.choice([0.05, 0.16, 0.3, 0.5, 0.62, 0.85])) for _ in spans]
    fields = dict(method=method, bound=bound, side=side, price=basis, filters=filters)
    rule = Selection(value=values[0], **fields)
    batch = resolve_strikes(day, right, rule, spans, values if per_span else None)
    assert len(batch) == len(spans)
    for k, (snap, choice) in enumerate(zip(snaps, batch)):
        one = Selection(value=values[k], **fields) if per_span else rule
        expected = resolve_strike(snap, right, one)
        if choice is None:
            continue  # left to the caller: checked below for the plain case
        assert expected.strike is not None, (k, expected.reason)
        assert _same(choice, expected), (k, choice, expected)


def test_a_plain_chain_is_decided_in_one_pass() -> None:
    """No holes: every span of every batch method is decided here, none left to the caller."""
    rng = np.random.default_rng(7)
    day, snaps, spans = _day(rng, 5, 0.0)
    rules = [
        Selection(method="delta", value=0.3, side=Side.SELL),
        Selection(method="delta", value=0.16, bound="at_or_below", side=Side.BUY),
        Selection(method="premium", value=4.0, bound="at_or_above"),
        Selection(method="strike", value=4990.0, side=Side.BUY),
    ]
    decided = 0
    for rule in rules:
        for right in ("C", "P"):
            for k, choice in enumerate(resolve_strikes(day, right, rule, spans)):
                expected = resolve_strike(snaps[k], right, rule)
                if expected.strike is None:
                    assert choice is None
                    continue
                assert choice is not None and choice.strike == expected.strike
                assert choice.reason == expected.reason
                decided += 1
    assert decided >= 30


def test_spans_left_to_the_caller() -> None:
    rng = np.random.default_rng(11)
    day, _, spans = _day(rng, 3, 0.0)
    # no eligible row in a span: (0, 0), or the rows of one right filtered out
    rule = Selection(method="delta", value=0.3, side=Side.SELL)
    out = resolve_strikes(day, "P", rule, [spans[0], (0, 0), spans[2]])
    assert out[1] is None and out[0] is not None and out[2] is not None
    # a span whose eligible row has no chain delta: computed from its own tte by the caller
    delta = day.delta.copy()
    a = spans[1][0]
    delta[a + 1] = np.nan  # a put row
    holed = ChainSnapshot.from_checked_rows(
        **{f.name: getattr(day, f.name) for f in day.__dataclass_fields__.values()}
        | {"delta": delta}
    )
    out = resolve_strikes(holed, "P", rule, spans)
    assert out[1] is None and out[0] is not None and out[2] is not None
    # nothing at or above the target in a span
    high = Selection(method="premium", value=10_000.0, bound="at_or_above")
    assert resolve_strikes(day, "C", high, spans) == [None, None, None]
    # methods it does not batch
    atm = Selection(method="atm")
    assert resolve_strikes(day, "C", atm, spans) == [None, None, None]
    with pytest.raises(ValueError, match="2 values for 3 spans"):
        resolve_strikes(day, "C", rule, spans, [0.2, 0.3])


def test_near_ties_go_to_the_conservative_strike() -> None:
    """Two rows whose |delta| are a hair apart (inside the tie tolerance) around the target:
    the conservative strike wins, not the nearer number, in every span."""
    rng = np.random.default_rng(3)
    day, snaps, spans = _day(rng, 3, 0.0)
    delta = day.delta.copy()
    targets = []
    for a, b in spans:
        puts = [r for r in range(a, b) if not day.is_call[r]]
        if len(puts) < 2:
            targets.append(0.5)
            continue
        lo, hi = puts[0], puts[1]  # two strikes, ascending
        delta[lo], delta[hi] = -0.4, -(0.4 + 4e-10)  # the higher strike is nearer 0.4000000002
        targets.append(0.4 + 2.5e-10)
    tied = ChainSnapshot.from_checked_rows(
        **{f: getattr(day, f) for f in day.__dataclass_fields__} | {"delta": delta}
    )
    own = [
        _snapshot({c: getattr(tied, c)[a:b] for c in COLUMNS}, s.expiry) for (a, b), s in
        zip(spans, snaps)
    ]  # fmt: skip
    for side in (Side.SELL, Side.BUY):
        rule = Selection(method="delta", value=0.4, side=side)
        batch = resolve_strikes(tied, "P", rule, spans, targets)
        for k, choice in enumerate(batch):
            expected = resolve_strike(
                own[k], "P", Selection(method="delta", value=targets[k], side=side)
            )
            assert choice is not None and _same(choice, expected)
        # a writer of puts takes the lower strike, a buyer the higher (the nearer number)
        first = own[0].strike[[r - spans[0][0] for r in range(*spans[0]) if not tied.is_call[r]]]
        assert batch[0] is not None
        assert batch[0].strike == (first[0] if side is Side.SELL else first[1])
