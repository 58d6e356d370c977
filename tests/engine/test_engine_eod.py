"""The end-of-day path (issue 13): the columnar day gives exactly what the per-instrument
reference path gives -- prices, lags, marks, quotes, chain snapshots, expiries -- and a study
run through either has the same books, byte for byte."""

from __future__ import annotations

from dataclasses import astuple
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pytest

import workbench.engine.runner as runner
from workbench.data.store import MarketStore
from workbench.data.synth import generate
from workbench.engine.eod import EodDayMarket
from workbench.engine.market import DayMarket
from workbench.engine.pool import SeriesLRU
from workbench.engine.runner import run_backtest
from workbench.engine.study import SEPARATOR, Study
from workbench.engine.ticks import TickSeries, bar_liquidity
from workbench.model.contracts import OptionContract
from workbench.model.enums import Right
from workbench.strategies.every_entry import EveryEntryIronCondor, EveryEntryPutSpread

SNAPSHOT_FIELDS = ("strike", "is_call", "bid", "ask", "close", "volume", "oi", "iv", "delta", "lag")


@pytest.fixture(scope="module")
def eod(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("eod") / "spx"
    generate("spx-eod", path, seed=3, start="2019-03-01", days=30, progress=False, workers=1)
    return path


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind == "f" or b.dtype.kind == "f":
        return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


def test_columnar_day_matches_the_reference(eod: Path) -> None:
    store = MarketStore(eod)
    checked = 0
    for day in store.days("SPXW")[::3]:
        ref = DayMarket(store, "SPXW", day, SeriesLRU(64 << 20), rate=0.01)
        col = EodDayMarket(store, "SPXW", day, SeriesLRU(64 << 20), rate=0.01)
        assert col.columnar
        assert col.expiries == ref.expiries
        for expiry in ref.expiries:
            a, b = ref.snapshot(expiry, 0), col.snapshot(expiry, 0)
            for field in SNAPSHOT_FIELDS:
                assert _same(getattr(a, field), getattr(b, field)), (day, expiry, field)
            assert (a.tte, a.spot, a.ts, a.rate) == (b.tte, b.spot, b.ts, b.rate)
        chain = store.read_chain("SPXW", day)
        contracts = [
            OptionContract("SPXW", e, k, Right.parse(r))
            for e, k, r in zip(
                chain.column("expiry").to_pylist()[::7],
                chain.column("strike").to_pylist()[::7],
                chain.column("right").to_pylist()[::7],
            )
        ]
        absent = OptionContract("SPXW", ref.expiries[0], 1.0, Right.PUT)
        contracts.append(absent)
        many = col.ticks_many(contracts)
        for contract, bound in zip(contracts, many):
            x, y = ref.ticks(contract), col.ticks(contract)
            assert (x is None) == (y is None) == (bound is None), contract
            if x is None:
                continue
            assert (x.close, x.close_lag, x.mark, x.mark_lag) == (
                y.close,
                y.close_lag,
                y.mark,
                y.mark_lag,
            ) or np.allclose(x.mark, y.mark, equal_nan=True)
            assert _same(np.array(x.close), np.array(y.close))
            assert _same(np.array(x.mark), np.array(y.mark))
            assert (x.close_lag, x.mark_lag) == (y.close_lag, y.mark_lag)
            assert _same(np.array(x.quote_at(0)), np.array(y.quote_at(0)))
            # what a sized fill model sees: volume, open interest, quoted sizes
            sized = [astuple(bar_liquidity(t, 0)) for t in (x, y, bound)]  # type: ignore[arg-type]
            assert _same(np.array(sized[0]), np.array(sized[1]))
            assert _same(np.array(sized[0]), np.array(sized[2]))
            assert ref.quote(contract, 0) == col.quote(contract, 0) or _same(
                np.array(ref.quote(contract, 0)[:3]), np.array(col.quote(contract, 0)[:3])
            )
            checked += 1
    assert checked > 200


@pytest.mark.parametrize("strategy", [EveryEntryPutSpread, EveryEntryIronCondor])
def test_a_study_has_the_same_books_on_both_paths(
    eod: Path, strategy: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = {"underlying": "SPXW", "exit_dte": 3}
    results = {}
    for columnar in (True, False):
        monkeypatch.setattr(runner, "COLUMNAR_EOD", columnar)
        results[columnar] = run_backtest(
            strategy, data=eod, params=params, fill="orats", fees="per-contract:0.65",
            progress=False,
        )  # fmt: skip
    fast, slow = results[True], results[False]
    assert len(fast.tradebook) > 100
    # exact, NaN in the same places (Arrow's Table.equals counts NaN != NaN)
    pd.testing.assert_frame_equal(fast.tradebook, slow.tradebook, check_exact=True)
    pd.testing.assert_frame_equal(fast.daily, slow.daily, check_exact=True)
    pd.testing.assert_frame_equal(
        fast.days.drop(columns=["fetches"]), slow.days.drop(columns=["fetches"]), check_exact=True
    )
    assert fast.metrics == slow.metrics
    assert (fast.days["fetches"] <= 2).all()  # one spot read and one option-file read a day


def test_study_positions_follow_the_rules(eod: Path) -> None:
    """Keys are entry day / expiry / leg; every expiry with 7-45 DTE is entered each day; the
    short put is the put whose |delta| in the day's file is nearest 0.30 (sold: ties to the
    lower strike), checked against the raw chain."""
    result = run_backtest(
        EveryEntryPutSpread,
        data=eod,
        params={"underlying": "SPXW"},
        fill="mid",
        fees="none",
        progress=False,
    )
    tb = result.tradebook
    opens = tb[tb["action"] == "open"]
    store = MarketStore(eod)
    first = store.days("SPXW")[0]
    day_opens = opens[opens["day"].astype(str) == str(first)]
    listed = [e for e in store.expiries("SPXW", first) if 7 <= (e - first).days <= 45]
    assert sorted({str(e) for e in day_opens["expiry"]}) == [str(e) for e in listed]
    for _, row in day_opens[day_opens["position_key"].str.endswith("/short")].iterrows():
        expiry = pd.Timestamp(row["expiry"]).date()
        assert row["position_key"] == f"{first}/{expiry}/short"
        chain = store.read_chain("SPXW", first, expiry)
        puts = chain.filter(pc.equal(chain["right"], "P")).to_pandas()
        mid = (puts["bid"] + puts["ask"]) / 2
        puts = puts[(puts["bid"] >= 0) & (puts["ask"] > puts["bid"]) & (mid > 0)]
        gap = (puts["delta"].abs() - 0.30).abs()
        best = puts[gap == gap.min()]["strike"].min()
        assert row["strike"] == best
    # every position settles or exits once, and each has both legs
    keys = tb["position_key"].str.rsplit("/", n=1).str[0]
    legs = tb.assign(p=keys).groupby("p")["position_key"].nunique()
    assert (legs == 2).all()
    assert set(tb.loc[tb["action"] != "open", "reason"]) <= {"expiry"}


def test_study_config_errors() -> None:
    from workbench.engine.config import build_config
    from workbench.engine.errors import ConfigError

    with pytest.raises(ConfigError, match="long_delta"):
        build_config(EveryEntryPutSpread.Config, {"short_delta": 0.1, "long_delta": 0.2})
    with pytest.raises(ConfigError, match="dte_window"):
        build_config(EveryEntryPutSpread.Config, {"dte_window": (30, 7)})


def test_study_exits_per_position(eod: Path) -> None:
    """``exit_dte`` closes a position once its DTE is at most the threshold; a profit target
    closes it when its PnL at the marks reaches the fraction of its credit (mid fills, no fees:
    the exit price is the mark), the other positions staying open."""
    from workbench.analytics.study import study_trades

    result = run_backtest(
        EveryEntryPutSpread,
        data=eod,
        params={"underlying": "SPXW", "exit_dte": 5, "profit_target_pct": 0.5},
        fill="mid",
        fees="none",
        progress=False,
    )
    trades = study_trades(result)
    closed = trades[trades["status"] == "closed"]
    reasons = set(closed["exit_reason"])
    assert {"dte_exit", "profit_target"} <= reasons <= {"dte_exit", "profit_target", "expiry"}
    dte = closed[closed["exit_reason"] == "dte_exit"]
    days_left = [(e - x).days for e, x in zip(dte["expiry"], dte["exit_day"])]
    assert all(d <= 5 for d in days_left)
    target = closed[closed["exit_reason"] == "profit_target"]
    assert (target["pnl"] >= 0.5 * target["entry_credit"].abs() - 1e-6).all()
    # positions overlap: on some day several are open at once
    assert result.daily["open_legs"].max() >= 6


def test_study_positions_are_the_trades(eod: Path) -> None:
    """The one trade model counts a study's positions (one order each), not its cycles: the
    overlapping book is one engine cycle while any position is open."""
    from workbench.analytics.study import study_trades

    result = run_backtest(
        EveryEntryPutSpread,
        data=eod,
        params={"underlying": "SPXW", "exit_dte": 5},
        fill="mid",
        fees="none",
        progress=False,
    )
    trades = study_trades(result)
    closed = trades[trades["status"] == "closed"]
    assert result.metrics["trades"] == len(closed) > 10
    assert result.metrics["open_positions"] == len(trades) - len(closed)


@pytest.mark.parametrize("damage", ["garbage", "missing"])
def test_read_ahead_leaves_errors_where_they_were(
    eod: Path, tmp_path: Path, damage: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next day's chain is read ahead (from the column cache, or in a background thread); a
    day it cannot read (a damaged file, a missing one) is read again on the engine's thread, so the run fails on that day
    with the error the store gives there -- the same with and without the read-ahead -- and the
    read-ahead's thread is gone afterwards."""
    import shutil
    import threading

    from workbench.engine import eod as eod_module
    from workbench.engine.errors import DayFailedError

    data = tmp_path / "spx"
    shutil.copytree(eod, data)
    days = MarketStore(data).days("SPXW")
    bad = days[10]
    path = MarketStore(data).options_path("SPXW", bad)
    if damage == "garbage":
        path.write_bytes(b"PAR1 not a parquet file" * 50)
    else:
        path.unlink()
    read: list = []
    original = eod_module.ReadAhead.take

    def spy(self: object, day: object) -> object:
        read.append(day)
        return original(self, day)  # type: ignore[arg-type]

    monkeypatch.setattr(eod_module.ReadAhead, "take", spy)
    messages = {}
    for ahead in (True, False):
        if not ahead:
            monkeypatch.setattr(runner, "_read_ahead", lambda *a: None)
        with pytest.raises(DayFailedError) as info:
            run_backtest(
                EveryEntryPutSpread, data=data, params={"underlying": "SPXW"}, progress=False
            )
        assert info.value.day == bad
        messages[ahead] = str(info.value.__cause__)
    assert messages[True] == messages[False]
    assert str(path) in messages[True]
    assert not [t for t in threading.enumerate() if t.name.startswith("eod-read-ahead")]
    assert bad in read  # the read-ahead met the bad day first


def test_read_ahead_gives_the_store_arrays(eod: Path) -> None:
    from workbench.engine.eod import COLUMNS, ReadAhead, _spot_arrays

    store = MarketStore(eod)
    days = store.days("SPXW")[:6]
    ahead = ReadAhead(eod, "SPXW", days)
    try:
        for day in days:
            spot, got = ahead.take(day).result()
            want = store.day_columns("SPXW", day, COLUMNS)
            want_spot = _spot_arrays(store, "SPXW", day)
            assert spot.keys() == want_spot.keys()
            for name in want_spot:
                assert _same(spot[name], want_spot[name]), (day, name)
            assert got.keys() == want.keys()
            for name in want:
                assert _same(got[name], want[name]), (day, name)
    finally:
        ahead.close()


def test_quoted_sizes_reach_both_paths(tmp_path: Path) -> None:
    """A 1d dataset with ``bid_size``/``ask_size``: the columnar and the per-instrument path
    give a sized fill model the same volume, open interest and sizes."""
    from datetime import date, datetime

    import pyarrow as pa

    from workbench.data.writer import DatasetWriter
    from workbench.execution.liquidity import Liquidity

    day, expiry = date(2024, 1, 2), date(2024, 1, 19)
    ts = datetime(2024, 1, 2, 16, 0)
    root = tmp_path / "sized-eod"
    with DatasetWriter(
        root, name="sized", venue="CBOE", timezone="America/New_York", bar_interval="1d",
        source="test",
    ) as w:  # fmt: skip
        w.write_spot("SPXW", day, pa.table({
            "ts": pa.array([ts], pa.timestamp("us")), "open": [4700.0], "high": [4710.0],
            "low": [4690.0], "close": [4705.0], "volume": pa.array([0], pa.int64()),
        }))  # fmt: skip
        w.write_options("SPXW", day, pa.table({
            "ts": pa.array([ts, ts], pa.timestamp("us")),
            "expiry": pa.array([expiry, expiry], pa.date32()),
            "strike": [4700.0, 4700.0], "right": ["C", "P"],
            "open": [50.0, 45.0], "high": [50.0, 45.0], "low": [50.0, 45.0],
            "close": [50.0, 45.0], "bid": [49.0, 44.0], "ask": [51.0, 46.0],
            "volume": pa.array([120, 80], pa.int64()), "oi": pa.array([900, 700], pa.int64()),
            "bid_size": [7.0, 2.0], "ask_size": [4.0, 9.0],
        }))  # fmt: skip
    store = MarketStore(root)
    ref = DayMarket(store, "SPXW", day, SeriesLRU(1 << 20))
    col = EodDayMarket(store, "SPXW", day, SeriesLRU(1 << 20))
    assert col.columnar
    call = OptionContract("SPXW", expiry, 4700.0, Right.CALL)
    put = OptionContract("SPXW", expiry, 4700.0, Right.PUT)
    assert bar_liquidity(ref.ticks(call), 0) == Liquidity(120.0, 900.0, 7.0, 4.0)  # type: ignore[arg-type]
    assert bar_liquidity(col.ticks(call), 0) == Liquidity(120.0, 900.0, 7.0, 4.0)  # type: ignore[arg-type]
    many = col.ticks_many([put, call])
    assert bar_liquidity(many[0], 0) == Liquidity(80.0, 700.0, 2.0, 9.0)  # type: ignore[arg-type]
    assert bar_liquidity(ref.ticks(put), 0) == bar_liquidity(many[0], 0)  # type: ignore[arg-type]


def test_a_bad_row_is_named_on_the_columnar_path(eod: Path) -> None:
    """The day's rows are checked once for the day (issue 13); a bad one still fails the
    snapshot with the message of the per-expiry check."""
    store = MarketStore(eod)
    day = store.days("SPXW")[0]
    col = EodDayMarket(store, "SPXW", day, SeriesLRU(64 << 20), rate=0.01)
    expiry = col.expiries[0]
    assert col._eod_day().rows_checked()
    col = EodDayMarket(store, "SPXW", day, SeriesLRU(64 << 20), rate=0.01)
    d = col._eod_day()
    a, b = d.slices[expiry]
    put = next(j for j in range(a, b) if not d.is_call[j] and np.isfinite(d.delta[j]))
    d.delta = d.delta.copy()
    d.delta[put] = 0.3  # a put with a call's delta
    assert not d.rows_checked()
    with pytest.raises(ValueError, match=r"ChainSnapshot.delta\[\d+\]: 0.3 .*signed per right"):
        col.snapshot(expiry, 0)


@pytest.mark.parametrize(
    "close", [2950.25, 0.0, float("nan"), -1.0, float("inf")], ids=lambda x: f"close={x}"
)
def test_one_bar_spot_is_the_general_alignment(close: float) -> None:
    """The one-bar spot day built directly equals what the general alignment gives (issue 13)."""
    from workbench.data.series import series_from_arrays
    from workbench.engine.eod import _one_bar_spot
    from workbench.engine.market import ticks_from_series

    ts = np.array(["2019-05-01T16:00"], dtype="datetime64[us]")
    arrays = {
        "ts": ts,
        "open": np.array([2940.5]),
        "high": np.array([2960.0]),
        "low": np.array([2930.0]),
        "close": np.array([close]),
        "volume": np.array([12345], dtype=np.int64),
    }
    clock = ts.astype("datetime64[ns]").view(np.int64)
    want = ticks_from_series(series_from_arrays("SPX", clock, arrays, clock), clock)
    got = _one_bar_spot(arrays)
    assert got is not None
    for field in want.__slots__:
        a, b = getattr(want, field), getattr(got, field)
        if isinstance(a, np.ndarray):
            assert isinstance(b, np.ndarray) and a.dtype == b.dtype, field
            assert np.array_equal(a, b, equal_nan=True), field
        elif isinstance(a, list):
            assert isinstance(b, list) and np.array_equal(a, b, equal_nan=True), field
            assert [type(x) for x in a] == [type(x) for x in b], field
        elif isinstance(a, float) and a != a:
            assert b != b, field
        else:
            assert a == b, field
    assert _one_bar_spot({**arrays, "ts": np.repeat(ts, 2)}) is None


def test_the_tradebook_frame_is_the_tables_conversion(eod: Path, tmp_path: Path) -> None:
    """The result keeps the frame the metrics were computed on as ``tradebook``: equal to a
    fresh conversion of the Arrow table and to the saved Parquet file read back."""
    import pyarrow.parquet as pq

    result = run_backtest(
        EveryEntryPutSpread, data=eod, params={"underlying": "SPXW", "exit_dte": 3},
        fill="orats", fees="per-contract:0.65", progress=False,
    )  # fmt: skip
    kept = result.tradebook
    assert len(kept) > 100
    assert result.tradebook is kept  # no second conversion
    fresh = result.tradebook_table.to_pandas()
    pd.testing.assert_frame_equal(kept, fresh, check_exact=True)
    result.save(tmp_path / "run")
    saved = pq.read_table(tmp_path / "run" / "tradebook.parquet").to_pandas()
    pd.testing.assert_frame_equal(kept, saved, check_exact=True)
    assert result.metrics["fills"] == len(fresh)
    assert result.metrics["fees"] == round(float(fresh["fees"].sum()), 2)
    with pytest.raises(ValueError, match="not this result's tradebook"):
        result.keep_frame(fresh.iloc[:1])


def test_a_few_contracts_bind_as_many_do(eod: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``ticks_many`` of up to ``_FEW_CONTRACTS`` searches each contract's row on its own;
    the series and the quoted flags are the ones the whole-day keyed search gives, for
    listed contracts, a strike between two listed ones, an unlisted expiry and a right the
    strike is not listed in."""
    import random
    from dataclasses import fields
    from datetime import timedelta

    from workbench.engine import eod as eod_module

    store = MarketStore(eod)
    rng = random.Random(11)
    compared = 0
    limit = eod_module._FEW_CONTRACTS
    for day in store.days("SPXW")[::4]:
        chain = store.read_chain("SPXW", day)
        listed = [
            OptionContract("SPXW", e, k, Right.parse(r))
            for e, k, r in zip(
                chain.column("expiry").to_pylist(),
                chain.column("strike").to_pylist(),
                chain.column("right").to_pylist(),
            )
        ]
        first = listed[0]
        odd = [
            OptionContract("SPXW", first.expiry, first.strike + 0.05, first.right),
            OptionContract("SPXW", first.expiry + timedelta(days=1), first.strike, first.right),
            OptionContract("SPXW", first.expiry, 1.0, Right.CALL),
        ]
        for n in range(1, limit + 1):
            picked = [*rng.sample(listed, n - 1), rng.choice(odd)]
            rng.shuffle(picked)
            results = {}
            for few in (limit, 0):
                monkeypatch.setattr(eod_module, "_FEW_CONTRACTS", few)
                col = EodDayMarket(store, "SPXW", day, SeriesLRU(64 << 20), rate=0.01)
                quoted: list[bool] = []
                results[few] = (col.ticks_many(picked, quoted=quoted), quoted)
            (a, qa), (b, qb) = results.values()
            assert qa == qb and len(qa) == n
            for x, y in zip(a, b, strict=True):
                assert (x is None) == (y is None)
                if x is not None:
                    for f in fields(x):
                        assert _same(np.array(getattr(x, f.name)), np.array(getattr(y, f.name))), (
                            f.name
                        )
            compared += 1
    assert compared >= 8 * 5


def test_a_bound_series_is_the_series_ticks_gives(eod: Path) -> None:
    """``ticks_many`` sets a held leg's close and mark at once and its quote, size and row
    fields when first read: every field equals :meth:`ticks`'s series for the contract, read
    first or after another, and a copy with a new mark (the day-end bound) or a pickled one
    keeps them."""
    import pickle
    from dataclasses import fields, replace

    store = MarketStore(eod)
    compared = 0
    for day in store.days("SPXW")[::5]:
        col = EodDayMarket(store, "SPXW", day, SeriesLRU(64 << 20), rate=0.01)
        chain = store.read_chain("SPXW", day)
        contracts = [
            OptionContract("SPXW", e, k, Right.parse(r))
            for e, k, r in zip(
                chain.column("expiry").to_pylist()[::5],
                chain.column("strike").to_pylist()[::5],
                chain.column("right").to_pylist()[::5],
            )
        ]
        names = [f.name for f in fields(TickSeries)]
        for j, (contract, bound) in enumerate(
            zip(contracts, col.ticks_many(contracts), strict=True)
        ):
            assert bound is not None
            want = EodDayMarket(store, "SPXW", day, SeriesLRU(1 << 20), rate=0.01).ticks(contract)
            assert want is not None
            order = names[j % len(names) :] + names[: j % len(names)]  # any field read first
            for name in order:
                assert _same(np.array(getattr(bound, name)), np.array(getattr(want, name))), name
            moved = replace(bound, mark=[1.25])
            again = pickle.loads(pickle.dumps(bound))
            for name in names:
                if name != "mark":
                    assert _same(np.array(getattr(moved, name)), np.array(getattr(want, name)))
                assert _same(np.array(getattr(again, name)), np.array(getattr(want, name)))
            assert moved.mark == [1.25]
            compared += 1
    assert compared > 100


def test_a_columnar_snapshot_cannot_be_written_into(eod: Path) -> None:
    """The day's columns are made read-only once, so every snapshot's columns (slices of
    them) are too: a strategy writing into one gets an error instead of changing the day
    every other expiry, leg and mark reads."""
    store = MarketStore(eod)
    day = store.days("SPXW")[0]
    col = EodDayMarket(store, "SPXW", day, SeriesLRU(64 << 20), rate=0.01)
    for expiry in col.expiries[:3]:
        snap = col.snapshot(expiry, 0)
        for name in ("strike", "is_call", "bid", "ask", "close", "volume", "oi", "iv", "delta"):
            column = getattr(snap, name)
            assert not column.flags.writeable, name
            with pytest.raises(ValueError, match="read-only"):
                column[:1] = column[:1]
        assert not snap._two_sided.flags.writeable and not snap._mid_price.flags.writeable
    assert not col._eod_day().mark.flags.writeable


def test_select_each_is_select_expiry_by_expiry(eod: Path) -> None:
    """The columnar day's one-pass selection over many expiries (a study's entries) picks what
    the per-instrument path's ``select`` picks expiry by expiry, with the same last reason."""
    from workbench.engine.selection import LiquidityFilter, Selection
    from workbench.model.enums import Side

    store = MarketStore(eod)
    rules = [
        Selection(method="delta", value=0.3, side=Side.SELL),
        Selection(method="delta", value=0.16, bound="at_or_below", side=Side.BUY),
        Selection(method="delta", value=0.9, bound="at_or_above", side=Side.SELL),
        Selection(method="premium", value=5.0, price="close", filters=LiquidityFilter(min_oi=1)),
        Selection(method="strike", value=1.0, side=Side.BUY),
        Selection(method="atm"),  # not batched: select's own way
    ]
    compared = 0
    for day in store.days("SPXW")[::4]:
        ref = DayMarket(store, "SPXW", day, SeriesLRU(64 << 20), rate=0.01)
        col = EodDayMarket(store, "SPXW", day, SeriesLRU(64 << 20), rate=0.01)
        expiries = ref.expiries
        spot = float(ref.spot_ticks.close[0])
        for rule in rules:
            values = None
            if rule.method == "strike":  # a wing per expiry: 3 % below spot, moved by expiry
                values = [spot * 0.97 - 5 * k for k in range(len(expiries))]
            for right in ("C", "P"):
                got = col.select_each(0, right, expiries, rule, values)
                want = [
                    ref.select(
                        0, right, e,
                        rule if values is None else Selection(**{**dict(rule), "value": v}), {},
                    )
                    for e, v in zip(expiries, values or [None] * len(expiries))
                ]  # fmt: skip
                assert got == want, (day, rule, right)
                assert col.last_selection_reason == ref.last_selection_reason
                compared += sum(c is not None for c in got)
        # a wing below zero is refused as the rule itself refuses it
        with pytest.raises(ValueError, match="a strike price > 0"):
            col.select_each(0, "P", expiries, rules[4], [-1.0] * len(expiries))
    assert compared > 300


class _OwnChoice(EveryEntryIronCondor):
    """A study that chooses its own way (here: the base's, expiry by expiry)."""

    calls = 0

    def choose(self, bar, expiry):  # type: ignore[no-untyped-def]
        type(self).calls += 1
        return super().choose(bar, expiry)


def test_a_study_choosing_each_expiry_has_the_same_books(eod: Path) -> None:
    """The study's one-pass choice of every entry equals ``choose`` called expiry by expiry
    (which a subclass that overrides ``choose`` gets), on the columnar path itself."""
    args: dict = dict(
        data=eod, params={"underlying": "SPXW", "exit_dte": 3}, fill="orats",
        fees="per-contract:0.65", progress=False,
    )  # fmt: skip
    batched = run_backtest(EveryEntryIronCondor, **args)
    own = run_backtest(_OwnChoice, **args)
    assert _OwnChoice.calls > 100
    assert len(batched.tradebook) > 100
    pd.testing.assert_frame_equal(
        batched.tradebook.drop(columns=["run_id"]), own.tradebook.drop(columns=["run_id"]),
        check_exact=True,
    )  # fmt: skip
    pd.testing.assert_frame_equal(batched.daily, own.daily, check_exact=True)


#: legs that often find nothing (a cheap, traded short put) and a wing placed from it
_PROBE_PARAMS = {
    "underlying": "SPXW",
    "exit_dte": 2,
    "legs": [
        {
            "name": "short",
            "right": "P",
            "side": "SELL",
            "rule": {
                "method": "premium",
                "value": 4.0,
                "bound": "at_or_below",
                "filters": {"min_volume": 60},
            },
        },
        {"name": "wing", "right": "P", "side": "BUY", "from_leg": "short", "width": -25},
        {
            "name": "call",
            "right": "C",
            "side": "SELL",
            "rule": {"method": "delta", "value": 0.02, "bound": "at_or_below"},
        },
    ],
}


class _Probe(Study):
    """Records the selection reason each day's entries leave."""

    seen: list = []

    def on_bar(self, bar):  # type: ignore[no-untyped-def]
        super().on_bar(bar)
        type(self).seen.append((bar.date, bar.last_selection_reason))


class _ProbeOwn(_Probe):
    seen: list = []

    def choose(self, bar, expiry):  # type: ignore[no-untyped-def]
        return super().choose(bar, expiry)


def test_a_study_leaves_the_reason_choose_leaves(eod: Path) -> None:
    """After a day's entries, ``last_selection_reason`` is what choosing expiry by expiry
    leaves (the last expiry's last leg tried), on days where legs find nothing too."""
    args: dict = dict(data=eod, params=_PROBE_PARAMS, fill="orats", progress=False)
    _Probe.seen, _ProbeOwn.seen = [], []
    batched = run_backtest(_Probe, **args)
    own = run_backtest(_ProbeOwn, **args)
    assert _Probe.seen == _ProbeOwn.seen
    reasons = [reason for _, reason in _Probe.seen]
    assert any("at or below 4" in r for r in reasons)  # a day whose last expiry found no put
    assert any(r.startswith("delta=0.02") for r in reasons)  # a day whose last entered
    assert len(batched.tradebook) > 20
    pd.testing.assert_frame_equal(
        batched.tradebook.drop(columns=["run_id"]), own.tradebook.drop(columns=["run_id"]),
        check_exact=True,
    )  # fmt: skip


class _Capped(EveryEntryPutSpread):
    """A choice that reads the books: at most three positions open."""

    def choose(self, bar, expiry):  # type: ignore[no-untyped-def]
        if len(self._open) >= 3:
            return None
        return super().choose(bar, expiry)


class _CappedByHand(_Capped):
    """The same, entering as the study always did: choose, then fill, expiry by expiry."""

    def on_bar(self, bar):  # type: ignore[no-untyped-def]
        c = self.config
        if self._entered == bar.date or bar.time < c.entry_time or self.done:
            return
        self._entered = bar.date
        for expiry in self.entry_expiries(bar):
            prefix = f"{bar.date.isoformat()}{SEPARATOR}{expiry.isoformat()}"
            if prefix in self._open:
                continue
            self._enter(expiry, prefix, self.choose(bar, expiry))  # choose, then fill


class _Twice(EveryEntryPutSpread):
    """Lists each day's first candidate expiry twice."""

    def entry_expiries(self, bar):  # type: ignore[no-untyped-def]
        found = super().entry_expiries(bar)
        return found + found[:1]


def test_a_choice_that_reads_the_books_sees_each_entry_before_the_next(eod: Path) -> None:
    """A subclass's own ``choose`` runs after the fills of the expiries before it, as it
    always did; an expiry listed twice enters once."""
    args: dict = dict(
        data=eod, params={"underlying": "SPXW", "exit_dte": 3}, fill="orats", progress=False
    )
    capped = run_backtest(_Capped, **args)
    by_hand = run_backtest(_CappedByHand, **args)
    assert len(capped.tradebook) > 20
    opened = capped.tradebook[capped.tradebook["action"] == "open"]
    assert opened.groupby("day")["position_key"].nunique().max() <= 2 * 3  # legs x cap
    pd.testing.assert_frame_equal(
        capped.tradebook.drop(columns=["run_id"]), by_hand.tradebook.drop(columns=["run_id"]),
        check_exact=True,
    )  # fmt: skip
    twice = run_backtest(_Twice, **args)
    assert twice.days["status"].eq("ok").all()
    plain = run_backtest(EveryEntryPutSpread, **args)
    pd.testing.assert_frame_equal(
        twice.tradebook.drop(columns=["run_id"]), plain.tradebook.drop(columns=["run_id"]),
        check_exact=True,
    )  # fmt: skip


def test_select_each_guards_send_expiries_the_one_expiry_way(eod: Path) -> None:
    """What the one-pass selection does not decide goes through ``select``, with its result
    or its error: an unlisted expiry, a day whose rows fail the snapshot checks, rows not
    visible at the tick, a rule value the rule refuses."""
    from workbench.engine.selection import Selection
    from workbench.model.enums import Side

    store = MarketStore(eod)
    day = store.days("SPXW")[5]

    def pair() -> tuple[DayMarket, EodDayMarket]:
        return (
            DayMarket(store, "SPXW", day, SeriesLRU(64 << 20), rate=0.01),
            EodDayMarket(store, "SPXW", day, SeriesLRU(64 << 20), rate=0.01),
        )

    rule = Selection(method="delta", value=0.3, side=Side.SELL)
    ref, col = pair()
    expiries = ref.expiries
    unlisted = expiries[0] - pd.Timedelta(days=1).to_pytimedelta()
    for market in (ref, col):
        with pytest.raises(ValueError, match="is not listed"):
            market.select_each(0, "P", [expiries[0], unlisted], rule)
    with pytest.raises(ValueError, match="an absolute delta in"):
        col.select_each(0, "P", expiries[:2], rule, [0.3, 1.0])
    # an expiry with rows in the file that is not listed today (as an expired one would be)
    ref, col = pair()
    col._expiries = [e for e in col.expiries if e != expiries[1]]
    assert expiries[1] in col._eod_day().slices
    with pytest.raises(ValueError, match="is not listed"):
        col.select_each(0, "P", expiries[:3], rule)
    # rows not visible at the tick: each such expiry keeps its visible rows
    ref, col = pair()
    eday = col._eod_day()
    hidden = eday.visible.copy()
    a, b = eday.slices[expiries[1]]
    hidden[a : a + (b - a) // 2] = False
    eday.visible = hidden
    eday._all_visible = None
    got = col.select_each(0, "P", expiries, rule)
    want = [col.select(0, "P", e, rule, {}) for e in expiries]
    assert got == want
    assert got[1] is not None and got[1].strike >= eday.strike[a + (b - a) // 2]
    # rows that fail the snapshot checks: the expiry's snapshot names the row
    ref, col = pair()
    eday = col._eod_day()
    bad = eday.delta.copy()
    a, b = eday.slices[expiries[2]]
    put = next(r for r in range(a, b) if not eday.is_call[r])
    bad[put] = 0.5  # a put with a positive delta
    eday.delta = bad
    eday._checked = None
    with pytest.raises(ValueError, match=r"delta"):
        col.select_each(0, "P", expiries, rule)


class _SameStrike(Study):
    """Two legs that land on one strike: no position (as choose decides)."""


class _SameStrikeOwn(_SameStrike):
    def choose(self, bar, expiry):  # type: ignore[no-untyped-def]
        return super().choose(bar, expiry)


def test_legs_on_one_strike_open_nothing_either_way(eod: Path) -> None:
    leg = {"right": "P", "rule": {"method": "delta", "value": 0.3}}
    params = {
        "underlying": "SPXW",
        "legs": [{"name": "a", "side": "SELL", **leg}, {"name": "b", "side": "BUY", **leg}],
    }
    args: dict = dict(data=eod, params=params, fill="orats", progress=False)
    batched, own = run_backtest(_SameStrike, **args), run_backtest(_SameStrikeOwn, **args)
    assert len(batched.tradebook) == len(own.tradebook) == 0


def test_inside_bounds_of_a_day_is_the_snapshots(eod: Path) -> None:
    """The day-end bounds of every held unquoted leg, found for the whole day at once, say
    what :func:`marks_inside_bounds` says on each expiry's snapshot: marks inside, outside,
    on a bound, NaN, for calls and puts of every expiry."""
    from workbench.engine.markbounds import marks_inside_bounds

    store = MarketStore(eod)
    rng = np.random.default_rng(5)
    compared = outside = 0
    for day in store.days("SPXW")[::3]:
        col = EodDayMarket(store, "SPXW", day, SeriesLRU(64 << 20), rate=0.01)
        eday = col._eod_day()
        if day.day % 2:  # some rows without a bar at the tick: neither legs nor neighbours
            seen = eday.visible.copy()
            seen[rng.random(seen.size) < 0.15] = False
            eday.visible = seen
            eday._all_visible = None
        rows = np.flatnonzero(eday.visible & ~eday.two_sided)
        if not rows.size:
            continue
        spread = np.where(np.isfinite(eday.close[rows]), eday.close[rows], 1.0)
        marks = spread * rng.choice([0.0, 0.5, 1.0, 1.5, 3.0], rows.size)
        marks[rng.random(rows.size) < 0.1] = np.nan
        got = eday.inside_bounds(rows, marks)
        assert got is not None
        for expiry, (a, b) in eday.slices.items():
            snap = col.snapshot(expiry, 0)
            for is_call in (False, True):
                pick = np.flatnonzero((rows >= a) & (rows < b) & (eday.is_call[rows] == is_call))
                if not pick.size:
                    continue
                want = marks_inside_bounds(snap, eday.strike[rows[pick]], is_call, marks[pick])
                assert got[pick].tolist() == want.tolist(), (day, expiry, is_call)
                compared += pick.size
                outside += int((~want).sum())
    assert compared > 200 and outside > 20


def _stale_lasts(src: Path, dst: Path) -> Path:
    """A copy of ``src`` whose SPXW option rows without a two-sided quote trade (close) at 20x
    their close: held legs marked at such a last trade sit outside their no-arbitrage bounds.
    Row groups kept; the catalog re-hashed."""
    import shutil

    import pyarrow.parquet as pq

    from workbench.data.repair import repair_dataset

    shutil.copytree(src, dst)
    for path in sorted((dst / "options" / "SPXW").rglob("*.parquet")):
        source = pq.ParquetFile(path)
        groups = [source.read_row_group(g) for g in range(source.num_row_groups)]
        schema = source.schema_arrow
        with pq.ParquetWriter(path.with_suffix(".tmp"), schema) as out:
            for table in groups:
                bid, ask = table.column("bid"), table.column("ask")
                quoted = pc.and_(
                    pc.and_(pc.is_valid(bid), pc.is_valid(ask)),
                    pc.and_(pc.greater_equal(bid, 0), pc.greater_equal(ask, bid)),
                )
                quoted = pc.and_(pc.fill_null(quoted, False), pc.greater(ask, 0))
                close = pc.if_else(
                    pc.fill_null(quoted, False), table.column("close"),
                    pc.multiply(table.column("close"), 20.0),
                )  # fmt: skip
                i = table.schema.get_field_index("close")
                table = table.set_column(i, table.schema.field(i), close.cast(schema.field(i).type))
                out.write_table(table)
        path.with_suffix(".tmp").replace(path)
    repair_dataset(dst, rehash=True)
    return dst


def test_day_wide_bounds_bound_the_same_marks_as_leg_by_leg(
    eod: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Held unquoted legs marked at stale last trades: the run that finds the marks inside
    their bounds for the whole day at once bounds exactly the marks the leg-by-leg way
    bounds (same books, same day-end marks, same warnings)."""
    from workbench.engine.eod import _Day

    data = _stale_lasts(eod, tmp_path / "stale")
    args: dict = dict(
        data=data, params={"underlying": "SPXW", "exit_dte": 3}, fill="orats", progress=False
    )
    day_wide = run_backtest(EveryEntryIronCondor, **args)
    monkeypatch.setattr(_Day, "inside_bounds", lambda self, rows, marks: None)
    leg_by_leg = run_backtest(EveryEntryIronCondor, **args)
    text = " | ".join(str(m) for m in day_wide.days["warning_messages"])
    assert text.count("bounded mark") > 20
    pd.testing.assert_frame_equal(day_wide.daily, leg_by_leg.daily, check_exact=True)
    pd.testing.assert_frame_equal(  # (fetches: the column cache built by the first run)
        day_wide.days.drop(columns=["fetches"]), leg_by_leg.days.drop(columns=["fetches"]),
        check_exact=True,
    )  # fmt: skip
    pd.testing.assert_frame_equal(day_wide.tradebook, leg_by_leg.tradebook, check_exact=True)


def test_inside_flags_wait_for_a_spot_a_snapshot_takes(eod: Path) -> None:
    """With a spot a chain snapshot refuses (0, NaN) the flags are not given: the legs are
    bounded the per-expiry way, whose snapshot raises as it always did."""
    from dataclasses import replace

    store = MarketStore(eod)
    day = store.days("SPXW")[4]
    col = EodDayMarket(store, "SPXW", day, SeriesLRU(64 << 20), rate=0.01)
    eday = col._eod_day()
    bare = np.flatnonzero(eday.visible & ~eday.two_sided)[:20]
    expiry_of = {r: e for e, (a, b) in eday.slices.items() for r in range(a, b)}
    contracts = [
        OptionContract(
            "SPXW", expiry_of[int(r)], float(eday.strike[r]),
            Right.CALL if eday.is_call[r] else Right.PUT,
        )
        for r in bare
    ]  # fmt: skip
    inside: list[bool] = []
    col.ticks_many(contracts, inside=inside)
    assert len(inside) == len(contracts) > 5
    for spot in (0.0, float("nan")):
        col.spot_ticks = replace(col.spot_ticks, close=[spot])
        inside = []
        col.ticks_many(contracts, inside=inside)
        assert inside == []
