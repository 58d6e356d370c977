"""No look-ahead in every hook and in positional mode (issue 11).

The market is the hand-made three-day NIFTY set (engine_builders). A cut time ``t`` is drawn
(a day and a minute, from before the day's first bar to its last bar); every spot and option
price of every bar strictly after ``t`` -- the rest of that day and every later day, the day's
first bar included when ``t`` is before it -- is multiplied by a factor. Whatever the strategy
records in any hook (``on_day_start``, ``adjust``, ``exit_check``, ``on_bar``, ``on_exit``,
``on_day_end``) at or before ``t``, and every tradebook row at or before ``t``, must be the same
in both markets, in intraday and in positional mode. ``on_day_start`` happens before the day's
first tick (recorded at 00:00), ``on_day_end`` after its last (23:59).

Before the first tick, "now" is the previous session's close: ``Strategy.pnl()`` in
``on_day_start`` values the open legs at their previous closing marks, and the
``DayStartContext`` spot is the previous session's last close (hand-computed below).
"""

from __future__ import annotations

import math
from datetime import date, datetime, time
from pathlib import Path

import pandas as pd
import pytest
from engine_builders import D1, D2, D3, nifty_options, nifty_spot, tiny_nifty, write_market
from engine_strategies import DayStartPnl, HookRecorder
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.engine.runner import run_backtest

DAYS = (D1, D2, D3)
#: 09:14 is before every day's first bar (09:15); 09:20 is the last bar.
CUT_MINUTES = ("09:14", "09:15", "09:16", "09:17", "09:18", "09:19", "09:20")


def _at(d: date, hhmm: str) -> datetime:
    h, m = hhmm.split(":")
    return datetime.combine(d, time(int(h), int(m)))


def scaled_market(root: Path, cut: datetime, k: float) -> Path:
    """The tiny NIFTY market with every price of every bar after ``cut`` multiplied by ``k``."""
    spot = {
        d: [(t, o * k, c * k) if _at(d, t) > cut else (t, o, c) for t, o, c in bars]
        for d, bars in nifty_spot().items()
    }
    options = {
        d: [
            (t, e, s, r, *(None if x is None else x * k for x in (c, b, a)))
            if _at(d, t) > cut
            else (t, e, s, r, c, b, a)
            for t, e, s, r, c, b, a in rows
        ]
        for d, rows in nifty_options().items()
    }
    return write_market(root, "NIFTY", spot, options)


def _run(root: Path, mode: str):
    HookRecorder.seen.clear()
    result = run_backtest(
        HookRecorder,
        data=root,
        fill="mid",
        fees="none",
        mode=mode,
        executor="serial",
        progress=False,
    )
    return result, list(HookRecorder.seen)


def _same(a: object, b: object) -> bool:
    """Equality that treats NaN as equal to NaN (recorded tuples hold NaN prices)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _rows_before(result, cut: datetime) -> pd.DataFrame:
    tb = result.tradebook
    keep = pd.to_datetime(tb["ts"]) <= pd.Timestamp(cut)
    return tb[keep].drop(columns=["run_id"]).reset_index(drop=True)


_BASE: dict[str, Path] = {}


def _base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if "base" not in _BASE:
        _BASE["base"] = tiny_nifty(tmp_path_factory.mktemp("lookahead") / "base")
    return _BASE["base"]


def check_cut(base: Path, scaled: Path, cut: datetime, mode: str) -> tuple[list, list]:
    a, seen_a = _run(base, mode)
    b, seen_b = _run(scaled, mode)
    before_a = [s for s in seen_a if s[1] <= cut]
    before_b = [s for s in seen_b if s[1] <= cut]
    assert len(before_a) == len(before_b), (cut, mode)
    for x, y in zip(before_a, before_b):
        assert _same(x, y), f"{mode}, cut {cut}: {x} != {y}"
    ra, rb = _rows_before(a, cut), _rows_before(b, cut)
    pd.testing.assert_frame_equal(ra, rb)
    # the books of every day that ended before the cut are the same
    da = a.daily[a.daily["date"] < cut.date().isoformat()].reset_index(drop=True)
    db = b.daily[b.daily["date"] < cut.date().isoformat()].reset_index(drop=True)
    if len(da) or len(db):
        pd.testing.assert_frame_equal(da, db)
    return seen_a, seen_b


@settings(max_examples=30)
@given(
    day=st.sampled_from(DAYS),
    minute=st.sampled_from(CUT_MINUTES),
    factor=st.sampled_from([0.5, 1.5, 3.0]),
    mode=st.sampled_from(["intraday", "positional"]),
)
def test_every_hook_sees_nothing_after_the_cut(
    tmp_path_factory: pytest.TempPathFactory, day: date, minute: str, factor: float, mode: str
) -> None:
    cut = _at(day, minute)
    base = _base(tmp_path_factory)
    scaled = scaled_market(tmp_path_factory.mktemp("scaled") / "m", cut, factor)
    check_cut(base, scaled, cut, mode)


@pytest.mark.parametrize("mode", ["intraday", "positional"])
def test_the_cut_check_can_fail(tmp_path: Path, mode: str) -> None:
    """The same comparison sees the change after the cut (so the property can fail), and the
    recorder exercises every hook, positions held overnight in positional mode included."""
    cut = _at(D2, "09:16")
    base = tiny_nifty(tmp_path / "base")
    scaled = scaled_market(tmp_path / "scaled", cut, 1.5)
    seen_a, seen_b = check_cut(base, scaled, cut, mode)
    after_a = [s for s in seen_a if s[1] > cut]
    after_b = [s for s in seen_b if s[1] > cut]
    assert not all(_same(x, y) for x, y in zip(after_a, after_b))
    hooks = {s[0] for s in seen_a}
    assert {"day_start", "on_bar", "adjust", "exit_check", "on_exit", "day_end"} <= hooks
    if mode == "positional":
        held = [s for s in seen_a if s[0] == "day_start" and s[-7]]  # open keys at day start
        assert held, "no position was held overnight: the positional case is not exercised"


def test_pnl_in_on_day_start_is_the_previous_close(tmp_path: Path) -> None:
    """Buy the 21500 C (nearest expiry, lot 50) at D1 09:15 at its mid 100, no fees. D1's last
    mark is the 09:20 mid 130 (+1500); D2 opens at 70 (-1500) and closes at 110 (+500). In
    D2's on_day_start the PnL is D1's close, +1500 -- not D2's last tick (+500) nor its first
    (-1500). The day-start spot is the previous session's last spot close: D1 21550,
    D2 21610; D1 is the dataset's first day, so there is none (NaN)."""
    data = tiny_nifty(tmp_path / "tiny")
    DayStartPnl.seen.clear()
    result = run_backtest(
        DayStartPnl,
        data=data,
        params={"buy_on": D1},
        fill="mid",
        fees="none",
        progress=False,
    )
    seen = {d: (pnl, spot) for d, pnl, spot in DayStartPnl.seen}
    assert seen[D1][0] == 0.0 and math.isnan(seen[D1][1])
    assert seen[D2] == (1500.0, 21550.0)
    assert seen[D3] == ((110 - 100) * 50.0, 21610.0)
    # the daily path agrees: D1's equity is the PnL seen at D2's start
    assert result.daily.set_index("date").loc[str(D1), "equity"] == 1500.0


def test_day_start_spot_of_a_run_starting_mid_dataset(tmp_path: Path) -> None:
    """A run that starts on D3 still sees D2's close (21610) before its first tick -- the
    dataset's previous session, outside the run -- not D3's opening bar (open 21620)."""
    data = tiny_nifty(tmp_path / "tiny")
    DayStartPnl.seen.clear()
    run_backtest(
        DayStartPnl,
        data=data,
        start=D3,
        params={"buy_on": D3},
        fill="mid",
        fees="none",
        progress=False,
    )
    assert DayStartPnl.seen[0] == (D3, 0.0, 21610.0)


def test_a_context_kept_past_its_day_refuses(tmp_path: Path) -> None:
    """A BarContext kept from D1 and used in D2's on_day_start would value the books on D2's
    arrays (its pnl and greeks go through the engine's current positions): every accessor
    refuses instead, naming why."""
    from engine_strategies import StaleContext

    data = tiny_nifty(tmp_path / "tiny")
    StaleContext.seen.clear()
    run_backtest(StaleContext, data=data, end=D2, fill="mid", fees="none", progress=False)
    probes = [s for s in StaleContext.seen if s[0] == D2]
    assert len(probes) == 8
    for _, name, kind, message in probes:
        assert kind == "StrategyStateError", (name, kind, message)
        assert "valid only inside its own day's hooks" in message
