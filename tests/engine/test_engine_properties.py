"""Property tests: random strategies keep the books consistent.

Hypothesis draws random orders (times, strikes including one that never trades, rights, sides,
quantities, expiries, keys), rolls, exits (time, stop loss), cycle counts, fill and fee models
and the mode. Whatever it draws, every day must reconcile (the engine raises otherwise), and the outputs
must satisfy, independently recomputed here: positions rebuilt from the tradebook are flat at
every intraday day end and match the open legs in positional mode; every row's cash is
``-signed_units x price - fees``; the daily cash is the running sum of the tradebook's cash; and
equity = cash + mark-to-market to the cent.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import time
from pathlib import Path

import pytest
from engine_builders import D1, D3, tiny_nifty
from engine_strategies import Scripted
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.engine.book import Book, FillInfo
from workbench.engine.errors import ReconciliationError
from workbench.engine.runner import run_backtest
from workbench.engine.trade import Asset
from workbench.model.contracts import OptionContract
from workbench.model.enums import Side

_MARKET: dict[str, Path] = {}


def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if "m" not in _MARKET:
        _MARKET["m"] = tiny_nifty(tmp_path_factory.mktemp("props") / "tiny")
    return _MARKET["m"]


times = st.sampled_from([time(9, m) for m in range(15, 21)])
legs = st.fixed_dictionaries(
    {
        "strike": st.sampled_from([21450, 21500, 21500, 21550]),
        "right": st.sampled_from(["C", "P"]),
        "side": st.sampled_from(["BUY", "SELL"]),
        "qty": st.integers(1, 3),
        "expiry": st.sampled_from([0, 0, 1]),
    }
)


@st.composite
def orders(draw: st.DrawFn) -> dict:
    chosen = draw(
        st.lists(
            legs, min_size=1, max_size=3, unique_by=lambda d: (d["strike"], d["right"], d["expiry"])
        )
    )
    keyed = draw(st.booleans())
    return {
        "at": draw(times),
        "legs": chosen,
        "keys": ["c", *(f"k{i}" for i in range(1, len(chosen)))] if keyed else None,
        "day": draw(st.sampled_from([None, D1])),
    }


configs = st.fixed_dictionaries(
    {
        "orders": st.lists(orders(), min_size=1, max_size=3),
        "exit_at": st.sampled_from([None, None, time(9, 17), time(9, 19)]),
        "stop_loss": st.sampled_from([None, None, 100.0, 1000.0]),
        "max_cycles": st.integers(1, 3),
        "max_fill_lag": st.sampled_from([0, 0, 2]),
        "roll_at": st.sampled_from([None, time(9, 16), time(9, 18)]),
    }
)


def check_books(result, mode: str) -> None:
    assert result.metrics["days_failed"] == 0, result.days["error"].tolist()
    tb = result.tradebook
    daily = result.daily.set_index("date")
    for row in tb.itertuples():
        assert row.cash == pytest.approx(-row.signed_units * row.price - row.fees, abs=1e-6)
        assert (row.signed_units > 0) == (row.side == "BUY")
    positions: dict[str, float] = defaultdict(float)
    cash = 0.0
    for day, rows in tb.groupby(tb["day"].astype(str), sort=True) if len(tb) else []:
        for r in rows.itertuples():
            positions[r.position_key] += r.signed_units
        cash += rows["cash"].sum()
        open_keys = [k for k, v in positions.items() if abs(v) > 1e-9]
        if mode == "intraday":
            assert open_keys == [], (day, open_keys)
        else:
            assert len(open_keys) == daily.loc[day, "open_legs"]
        assert daily.loc[day, "cash"] == pytest.approx(cash, abs=0.01)
    if mode == "positional" and len(tb):
        # an option position never outlives its expiry day (it settles at intrinsic)
        last_day = max(daily.index)
        held = tb.groupby(["position_key", "symbol", "asset", "expiry"], dropna=False)[
            "signed_units"
        ].sum()
        for (key, symbol, asset, expiry), units in held.items():
            if asset == "option" and abs(units) > 1e-9:
                assert str(expiry)[:10] > last_day, (key, symbol, expiry)
    assert ((daily["equity"] - daily["cash"] - daily["mtm"]).abs() <= 0.01).all()
    if mode == "intraday":
        assert (daily["mtm"] == 0).all()
    assert daily["pnl"].sum() == pytest.approx(daily["equity"].iloc[-1], abs=0.01)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    params=configs,
    mode=st.sampled_from(["intraday", "positional"]),
    fill=st.sampled_from(["mid", "cross", "orats", "close"]),
    fees=st.sampled_from(["none", "india", "per-contract:0.65,min=1"]),
    hold=st.booleans(),
)
def test_random_strategies_reconcile(
    tmp_path_factory: pytest.TempPathFactory,
    params: dict,
    mode: str,
    fill: str,
    fees: str,
    hold: bool,
) -> None:
    if hold:  # no exit rules: positions run into settlement (positional) or the EOD close
        params = dict(params, exit_at=None, stop_loss=None)
    result = run_backtest(
        Scripted,
        data=market(tmp_path_factory),
        start=D1,
        end=D3,
        params=params,
        mode=mode,
        fill=fill,
        fees=fees,
        executor="serial",
        progress=False,
    )
    check_books(result, mode)


def _info() -> FillInfo:
    return FillInfo(None, 0, "test", 1.0, 100.0, 0.2, 0.5)


def test_reconciliation_catches_a_tampered_position() -> None:
    from datetime import date, datetime

    book = Book("t")
    c = OptionContract("NIFTY", date(2024, 1, 4), 21500, "C")
    kw = dict(asset=Asset.OPTION, underlying="NIFTY", contract=c, cycle=0, day=date(2024, 1, 2))
    t = book.open_position(
        "a",
        side=Side.SELL,
        qty=2,
        lot_size=50,
        ts=datetime(2024, 1, 2, 9, 15),
        price=100.0,
        fees=1.0,
        reason="entry",
        info=_info(),
        **kw,
    )
    book.reconcile("ok", {"a": 110.0})
    t.qty = 3  # a strategy editing an engine trade
    with pytest.raises(ReconciliationError, match="positions rebuilt from the tradebook"):
        book.reconcile("tampered", {"a": 110.0})
    t.qty = 2
    book.cash += 1.0  # cash drift
    with pytest.raises(ReconciliationError, match="tradebook cash"):
        book.reconcile("drift", {"a": 110.0})


def test_reconciliation_catches_each_kind_of_position_mismatch() -> None:
    """A position the rows do not hold, one under another key, one on another contract: each
    raises with both sides named; a clean book returns its (mtm, unrealized)."""
    from dataclasses import replace as copy_of
    from datetime import date, datetime

    book = Book("t")
    c = OptionContract("NIFTY", date(2024, 1, 4), 21500, "C")
    kw = dict(asset=Asset.OPTION, underlying="NIFTY", contract=c, cycle=0, day=date(2024, 1, 2))
    t = book.open_position(
        "a", side=Side.SELL, qty=2, lot_size=50, ts=datetime(2024, 1, 2, 9, 15), price=100.0,
        fees=1.0, reason="entry", info=_info(), **kw,
    )  # fmt: skip
    marks = {"a": 110.0, "b": 110.0}
    assert book.reconcile("ok", marks) == (book.mtm(marks), book.unrealized(marks))
    assert book.reconcile("ok", marks) == (-11000.0, -1000.0)
    book.open["b"] = copy_of(t, key="b")  # held by the engine, never filled
    with pytest.raises(ReconciliationError, match=r"tradebook \{'a': .*engine positions .*'b'"):
        book.reconcile("extra", marks)
    book.open["b"] = book.open.pop("a")  # the same size, under another key
    with pytest.raises(ReconciliationError, match="positions rebuilt from the tradebook"):
        book.reconcile("renamed", marks)
    book.open["a"] = book.open.pop("b")
    t.contract = OptionContract("NIFTY", date(2024, 1, 4), 21600, "C")  # another contract
    with pytest.raises(ReconciliationError, match="21600"):
        book.reconcile("moved", marks)
    t.contract = c
    assert book.reconcile("ok again", marks) == (-11000.0, -1000.0)


def test_reused_key_after_close_and_collision() -> None:
    from datetime import date, datetime

    book = Book("t")
    c = OptionContract("NIFTY", date(2024, 1, 4), 21500, "C")
    kw = dict(
        asset=Asset.OPTION,
        underlying="NIFTY",
        contract=c,
        side=Side.BUY,
        qty=1,
        lot_size=50,
        cycle=0,
        day=date(2024, 1, 2),
        fees=0.0,
        reason="x",
        info=_info(),
    )
    ts = datetime(2024, 1, 2, 9, 15)
    book.open_position("a", ts=ts, price=10.0, **kw)
    with pytest.raises(ValueError, match="position key 'a' is already open"):
        book.open_position("a", ts=ts, price=10.0, **kw)
    book.close_position(
        "a", day=date(2024, 1, 2), ts=ts, price=12.0, fees=0.0, reason="x", info=_info()
    )
    book.open_position("a", ts=ts, price=11.0, **kw)  # the key was freed on close
    book.reconcile("reuse", {"a": 11.0})
    assert book.realized == pytest.approx(100.0)
