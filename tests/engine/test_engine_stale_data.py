"""Data that would mislead: a stale spot (NaN spot bars) and a leg quoted 0/0 held overnight.

Expected numbers are worked out by hand from the bars written here (NIFTY, lot 50, mid fills,
no fees).
"""

from __future__ import annotations

import math
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pytest
from engine_builders import D1, D2, E, _quoted, nifty_options, nifty_spot, write_market
from engine_strategies import PositionalScripted

from workbench import Strategy
from workbench.engine.errors import StaleSpotError
from workbench.engine.markbounds import bound_mark
from workbench.engine.runner import run_backtest
from workbench.engine.selection import ChainSnapshot

LOT = 50


@pytest.fixture(scope="module")
def stale_spot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # D1's spot closes at 09:17 and 09:18 are NaN: at 09:18 the last spot bar is 09:16's
    bars = list(nifty_spot()[D1])
    for j in (2, 3):
        bars[j] = (bars[j][0], bars[j][1], math.nan)
    root = tmp_path_factory.mktemp("stale") / "spot"
    return write_market(root, "NIFTY", {D1: bars}, {D1: nifty_options()[D1]})


class Picker(Strategy):
    seen: list[tuple] = []

    def on_bar(self, bar):
        contract = bar.select("C", method="atm")
        try:
            atm: float | str = bar.atm()
        except StaleSpotError as exc:
            atm = str(exc)
        Picker.seen.append((bar.time, bar.spot_lag, contract, bar.last_selection_reason, atm))


def test_a_stale_spot_refuses_selection_and_warns(stale_spot: Path) -> None:
    Picker.seen = []
    result = run_backtest(Picker, data=stale_spot, executor="serial", progress=False)
    by_time = {t.strftime("%H:%M"): rest for t, *rest in Picker.seen}
    assert by_time["09:17"][0] == 1 and by_time["09:17"][1] is not None  # one tick old: allowed
    lag, contract, reason, atm = by_time["09:18"]
    assert lag == 2 and contract is None
    assert reason == (
        "refused: the spot at 09:18:00 is 2 ticks old (last bar 09:16:00; max_spot_lag=1)"
    )
    assert isinstance(atm, str) and "bar.atm(): the spot at 09:18:00 is 2 ticks old" in atm
    assert by_time["09:19"][1] is not None and by_time["09:19"][3] == 21550.0
    day = result.days.iloc[0]
    assert day["warnings"] == 1
    assert "stale spot beyond max_spot_lag=1 at 1 of 6 ticks" in day["warning_messages"]
    # a laxer configured lag accepts it, and says nothing
    Picker.seen = []
    lax = run_backtest(
        Picker, data=stale_spot, params={"max_spot_lag": 2}, executor="serial", progress=False
    )
    assert all(c is not None for _, _, c, _, _ in Picker.seen)
    assert lax.days.iloc[0]["warnings"] == 0


def _zero_quoted_market(root: Path) -> Path:
    # D1: the 21500 P (expiry E) is quoted normally (mid 90 at 09:15, 72 at 09:20). D2: it
    # trades once at 30 and is quoted 0/0 all day, while its neighbours 21450 P and 21550 P are
    # quoted with mids 60 and 90.
    spot = {d: nifty_spot()[d] for d in (D1, D2)}
    minutes = ("09:15", "09:16", "09:17", "09:18", "09:19", "09:20")
    d2 = [(m, E, 21500.0, "P", 30.0, 0.0, 0.0) for m in minutes]
    d2 += _quoted(minutes, E, 21450, "P", (60,) * 6)
    d2 += _quoted(minutes, E, 21550, "P", (90,) * 6)
    return write_market(root, "NIFTY", spot, {D1: nifty_options()[D1], D2: d2})


def _hold_put(data: Path, **params) -> object:
    order = {
        "at": time(9, 15),
        "day": D1,
        "legs": [{"strike": 21500, "right": "P", "side": "BUY"}],
        "keys": ["p"],
    }
    return run_backtest(
        PositionalScripted,
        data=data,
        params={"orders": [order], **params},
        fill="mid",
        fees="none",
        progress=False,
        executor="serial",
    )


def test_a_zero_quoted_leg_is_marked_within_its_no_arbitrage_bounds(tmp_path: Path) -> None:
    data = _zero_quoted_market(tmp_path / "zero")
    # bounds at D2's close: a put is worth at least the 21450 P (60) and at least the 21550 P
    # less the strike distance (90 - 50 = 40); at most the 21550 P (90) and the 21450 P plus
    # the distance (110): [60, 90]. The stale 30 is moved to 60.
    result = _hold_put(data)
    daily = result.daily.set_index("date")
    assert daily.loc[str(D1), "equity"] == (72 - 90) * LOT
    assert daily.loc[str(D2), "equity"] == (60 - 90) * LOT
    messages = result.days.set_index("date").loc[str(D2), "warning_messages"]
    assert "p (NIFTY2410421500PE) bounded mark 60 instead of 30" in messages
    assert "no-arbitrage bound [60, 90]" in messages
    # the bound can be switched off: the mark is the stale last trade again, still flagged
    raw = _hold_put(data, mark_bounds=False)
    assert raw.daily.set_index("date").loc[str(D2), "equity"] == (30 - 90) * LOT
    assert (
        "marked at 30, a last trade" in raw.days.set_index("date").loc[str(D2), "warning_messages"]
    )


def _snap(strikes, calls, bids, asks) -> ChainSnapshot:
    return ChainSnapshot.build(
        underlying="X",
        ts=datetime(2024, 1, 2, 15, 30),
        spot=100.0,
        expiry=date(2024, 1, 4),
        tte=0.05,
        strike=strikes,
        right=np.asarray(calls, dtype=bool),
        bid=bids,
        ask=asks,
    )


def test_bounds_by_hand() -> None:
    # calls 90 (mid 12), 100 (0/0), 110 (mid 4): C(100) in [max(4, 12 - 10), min(12, 4 + 10)]
    snap = _snap([90, 100, 110], [True] * 3, [11.0, 0.0, 3.5], [13.0, 0.0, 4.5])
    assert bound_mark(snap, 100, True, 1.0).value == 4.0
    assert bound_mark(snap, 100, True, 20.0).value == 12.0
    assert bound_mark(snap, 100, True, 7.0) is None  # inside: kept
    # only a put below (95, mid 3): P(100) >= 3, <= 3 + 5
    puts = _snap([95, 100, 105], [False, False, True], [2.5, 0.0, 1.0], [3.5, 0.0, 2.0])
    found = bound_mark(puts, 100, False, 10.0)
    assert (found.low, found.high, found.value) == (3.0, 8.0, 8.0)
    # no quoted neighbour of the same right: nothing to bound by
    assert (
        bound_mark(_snap([100, 105], [False, True], [0.0, 1.0], [0.0, 2.0]), 100, False, 1) is None
    )
