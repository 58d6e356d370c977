"""DayCache: full-day fetch once per instrument, (price, lag) semantics, chain, prefetch, memory."""

from __future__ import annotations

import math
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from data_builders import (
    DAY,
    DAY2,
    EXPIRY,
    EXPIRY2,
    UNDERLYING,
    build_dataset,
    minute,
    option_close,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.data.cache import DayCache
from workbench.data.errors import MissingDayError, UnknownUnderlyingError
from workbench.data.store import MarketStore
from workbench.model.contracts import OptionContract
from workbench.model.trades import Quote

# (expiry, strike, right, minutes with a bar); spot has minutes 0..9
INSTRUMENTS = [
    (EXPIRY, 100.0, "C", [0, 1, 5]),
    (EXPIRY, 100.0, "P", list(range(10))),
    (EXPIRY, 150.0, "C", [2, 3]),
    (EXPIRY, 150.0, "P", [9]),
    (EXPIRY2, 150.0, "C", [3]),
    (EXPIRY2, 200.0, "P", [0, 4, 8]),
]
BARS = {(e, k, r): ms for e, k, r, ms in INSTRUMENTS}


def C(expiry: date, strike: float, right: str) -> OptionContract:
    return OptionContract(UNDERLYING, expiry, strike, right)


class SpyStore(MarketStore):
    """Records which instruments' rows each query returned."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.rows_by_instrument: Counter[tuple[date, float, str]] = Counter()
        self.reads = 0

    def _record(self, arrays: dict) -> dict:
        self.reads += 1
        if "strike" in arrays:
            seen = set(
                zip(
                    arrays["expiry"].astype("datetime64[D]").astype(object),
                    arrays["strike"].tolist(),
                    arrays["right"].tolist(),
                )
            )
            self.rows_by_instrument.update(seen)
        return arrays

    def spot_arrays(self, underlying, day):  # type: ignore[no-untyped-def]
        return self._record(super().spot_arrays(underlying, day))

    def instrument_arrays(self, contract, day):  # type: ignore[no-untyped-def]
        return self._record(super().instrument_arrays(contract, day))

    def instruments_arrays(self, underlying, day, expiry, keys):  # type: ignore[no-untyped-def]
        return self._record(super().instruments_arrays(underlying, day, expiry, keys))

    def expiry_arrays(self, underlying, day, expiry, exclude=None):  # type: ignore[no-untyped-def]
        return self._record(super().expiry_arrays(underlying, day, expiry, exclude))

    def expiries(self, underlying, day):  # type: ignore[no-untyped-def]
        before = self.query_count  # from the footer when it can: a query only as a fallback
        listed = super().expiries(underlying, day)
        self.reads += self.query_count - before
        return listed


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cache") / "ds"
    build_dataset(root, days=(DAY, DAY2), instruments=INSTRUMENTS)
    return root


@pytest.fixture(scope="module")
def store(dataset: Path) -> MarketStore:
    s = SpyStore(dataset)
    yield s
    s.close()


def test_lag_semantics_on_series_with_gaps(store: MarketStore) -> None:
    cache = DayCache(store, UNDERLYING, DAY)
    s = cache.series(C(EXPIRY, 100, "C"))  # bars at minutes 0, 1, 5; clock = spot minutes 0..9
    assert s is not None
    want = [
        (option_close(100, "C", 0), 0),
        (option_close(100, "C", 1), 0),
        (option_close(100, "C", 1), 1),
        (option_close(100, "C", 1), 2),
        (option_close(100, "C", 1), 3),
        (option_close(100, "C", 5), 0),
        (option_close(100, "C", 5), 1),
        (option_close(100, "C", 5), 2),
        (option_close(100, "C", 5), 3),
        (option_close(100, "C", 5), 4),
    ]
    assert [s.price_at(i) for i in range(10)] == want
    assert [cache.price_at(s, i) for i in range(10)] == want
    late = cache.series(C(EXPIRY, 150, "P"))  # one bar at minute 9
    assert late is not None
    for i in range(9):
        price, lag = late.price_at(i)
        assert math.isnan(price) and lag is None
    assert late.price_at(9) == (option_close(150, "P", 9), 0)
    assert late.lag_at(3) is None and late.row_at(3) == -1


def test_lag_on_a_coarser_custom_clock(store: MarketStore) -> None:
    # ticks at minutes 0, 2, 4, 6, 8; bars at 0, 1, 5: a bar between ticks becomes visible at
    # the next tick with lag 0 there
    clock = [minute(DAY, m) for m in (0, 2, 4, 6, 8)]
    cache = DayCache(store, UNDERLYING, DAY, clock=clock)
    s = cache.series(C(EXPIRY, 100, "C"))
    assert s is not None
    got = [s.price_at(i) for i in range(5)]
    c0, c1, c5 = (option_close(100, "C", m) for m in (0, 1, 5))
    assert got == [(c0, 0), (c1, 0), (c1, 1), (c5, 0), (c5, 1)]
    # the spot series is aligned to the same clock
    assert cache.spot.price_at(1) == (102.0, 0)
    assert len(cache.clock) == 5


def test_clock_forms_are_equivalent_and_validated(store: MarketStore) -> None:
    ms = (0, 3, 7)
    as_dt = [minute(DAY, m) for m in ms]
    as_np = np.array(as_dt, dtype="datetime64[ns]")
    as_int = as_np.astype(np.int64)
    results = []
    for clock in (as_dt, as_np, as_int, list(as_int)):
        s = DayCache(store, UNDERLYING, DAY, clock=clock).series(C(EXPIRY, 100, "C"))
        assert s is not None
        results.append([s.price_at(i) for i in range(3)])
    assert all(r == results[0] for r in results)
    with pytest.raises(ValueError, match="strictly increasing: tick 1"):
        DayCache(store, UNDERLYING, DAY, clock=[as_dt[1], as_dt[0]])


def test_quote_at(store: MarketStore) -> None:
    cache = DayCache(store, UNDERLYING, DAY)
    s = cache.series(C(EXPIRY, 100, "C"))
    q = cache.quote_at(s, 3)
    close = option_close(100, "C", 1)
    assert isinstance(q, Quote)
    assert q.last == close and q.lag == 2
    assert q.bid == pytest.approx(close - 0.05) and q.ask == pytest.approx(close + 0.05)
    assert q.mid == pytest.approx(close)
    before = cache.quote_at(cache.series(C(EXPIRY, 150, "P")), 0)
    assert before.lag is None and math.isnan(before.last)
    missing = cache.quote_at(None, 0)
    assert missing.lag is None and math.isnan(missing.bid)


def test_series_fetched_once_and_misses_remembered(store: SpyStore) -> None:
    cache = DayCache(store, UNDERLYING, DAY)
    _ = cache.clock
    assert cache.fetch_count == 1  # the spot
    a = cache.series(C(EXPIRY, 100, "P"))
    assert a is cache.series(C(EXPIRY, 100, "P"))
    assert cache.fetch_count == 2
    assert cache.series(C(EXPIRY, 999, "P")) is None
    assert cache.series(C(EXPIRY, 999, "P")) is None
    assert cache.fetch_count == 3
    assert cache.fetched_instruments == {C(EXPIRY, 100, "P"), C(EXPIRY, 999, "P")}


def test_chain_one_query_splits_and_counts_instruments(store: SpyStore) -> None:
    cache = DayCache(store, UNDERLYING, DAY)
    held = cache.series(C(EXPIRY, 100, "P"))
    n = cache.fetch_count
    chain = cache.chain(EXPIRY)
    assert cache.fetch_count == n + 1
    assert [(c.strike, str(c.right)) for c in chain.contracts()] == [
        (100, "C"),
        (100, "P"),
        (150, "C"),
        (150, "P"),
    ]
    assert chain.get(100, "P") is held  # not re-read, the held series is reused
    assert chain.get(100.0, "CE") is cache.series(C(EXPIRY, 100, "C"))
    assert chain.get(125, "C") is None
    assert cache.series(C(EXPIRY, 125, "C")) is None  # known absent without a query
    assert cache.chain(EXPIRY) is chain
    assert cache.fetch_count == n + 1
    s = chain.get(150, "C")
    assert s is not None and list(s.ts) == [
        np.datetime64(minute(DAY, m), "ns").astype(np.int64) for m in (2, 3)
    ]
    snap = chain.snapshot(4)
    assert snap.column("strike").to_pylist() == [100.0, 100.0, 150.0]
    assert snap.column("lag").to_pylist() == [3, 0, 1]
    assert np.allclose(chain.strikes, [100.0, 150.0])


def test_prefetch_is_a_hint(dataset: Path) -> None:
    wanted = [C(EXPIRY, 100, "C"), C(EXPIRY, 150, "P"), C(EXPIRY2, 200, "P"), C(EXPIRY2, 175, "C")]
    with MarketStore(dataset) as s1, MarketStore(dataset) as s2:
        lazy = DayCache(s1, UNDERLYING, DAY)
        eager = DayCache(s2, UNDERLYING, DAY)
        _ = lazy.clock, eager.clock
        eager.prefetch(wanted + wanted)
        assert eager.fetch_count == 1 + 2  # spot + one query per expiry
        for c in wanted:
            a, b = lazy.series(c), eager.series(c)
            assert (a is None) == (b is None)
            if a is not None and b is not None:
                assert [a.price_at(i) for i in range(10)] == [b.price_at(i) for i in range(10)]
        assert eager.fetch_count == 3
        assert lazy.fetch_count == 1 + len(wanted)


def test_contract_of_another_underlying(store: MarketStore) -> None:
    cache = DayCache(store, UNDERLYING, DAY)
    with pytest.raises(ValueError, match="not on TESTIDX"):
        cache.series(OptionContract("OTHER", EXPIRY, 100, "C"))


def test_missing_day_and_unknown_underlying(store: MarketStore, dataset: Path) -> None:
    with pytest.raises(MissingDayError) as info:
        DayCache(store, UNDERLYING, date(2024, 1, 6))
    text = str(info.value)
    assert (
        UNDERLYING in text
        and "2024-01-06" in text
        and str(dataset / "spot" / UNDERLYING / "2024" / "2024-01-06.parquet") in text
    )
    with pytest.raises(UnknownUnderlyingError, match="NOPE"):
        DayCache(store, "NOPE", DAY)


def test_memory_is_what_the_day_touched(store: MarketStore) -> None:
    cache = DayCache(store, UNDERLYING, DAY)
    _ = cache.spot
    base = cache.nbytes
    cache.series(C(EXPIRY, 100, "C"))
    one = cache.nbytes
    assert one > base
    cache.series(C(EXPIRY, 100, "P"))  # 10 bars vs 3: more bytes
    two = cache.nbytes
    assert two - one > one - base
    cache.series(C(EXPIRY, 999, "C"))  # a miss holds nothing
    assert cache.nbytes == two


def test_values_match_the_store(store: MarketStore) -> None:
    cache = DayCache(store, UNDERLYING, DAY2)
    for (e, k, r), ms in BARS.items():
        s = cache.series(C(e, k, r))
        assert s is not None
        assert s.close.tolist() == [option_close(k, r, m) for m in ms]
        assert s.volume.tolist() == [10 + m for m in ms]
        assert [s.bar_time(i) for i in range(len(s))] == [minute(DAY2, m) for m in ms]


UNIVERSE = [
    C(e, k, r) for e in (EXPIRY, EXPIRY2) for k in (100.0, 150.0, 200.0) for r in ("C", "P")
]
op = st.one_of(
    st.tuples(st.just("series"), st.sampled_from(UNIVERSE)),
    st.tuples(st.just("prefetch"), st.lists(st.sampled_from(UNIVERSE), max_size=5)),
    st.tuples(st.just("chain"), st.sampled_from([EXPIRY, EXPIRY2])),
    st.tuples(st.just("expiries"), st.none()),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=st.lists(op, min_size=1, max_size=12))
def test_never_fetches_an_instrument_twice(dataset: Path, ops: list) -> None:
    store = SpyStore(dataset)
    try:
        cache = DayCache(store, UNDERLYING, DAY)
        for name, arg in ops:
            if name == "series":
                got = cache.series(arg)
                key = (arg.expiry, arg.strike, str(arg.right))
                assert (got is None) == (key not in BARS)
                if got is not None:
                    assert got.close.tolist() == [
                        option_close(arg.strike, str(arg.right), m) for m in BARS[key]
                    ]
            elif name == "prefetch":
                cache.prefetch(arg)
            elif name == "chain":
                chain = cache.chain(arg)
                assert {(c.expiry, c.strike, str(c.right)) for c in chain.contracts()} == {
                    k for k in BARS if k[0] == arg
                }
            else:
                assert cache.expiries() == [EXPIRY, EXPIRY2]
            assert all(n == 1 for n in store.rows_by_instrument.values()), store.rows_by_instrument
            assert cache.fetch_count == store.reads
        for c in UNIVERSE:  # everything is then answerable; nothing asked twice
            cache.series(c)
        assert all(n == 1 for n in store.rows_by_instrument.values())
    finally:
        store.close()


def test_spot_of_a_separate_underlying(tmp_path: Path) -> None:
    """SPXW-style: options under one name, spot under the registry's spot underlying."""
    from data_builders import TEST_SPEC, option_table, spot_table, writer

    spec = TEST_SPEC.model_copy(update={"spot": "TESTSPOT"})
    w = writer(tmp_path / "ds", underlying_specs={"TESTW": spec, "TESTSPOT": TEST_SPEC})
    w.write_spot("TESTSPOT", DAY, spot_table(DAY))
    table = option_table(DAY)
    w.write_options("TESTW", DAY, table)
    w.finalize()
    with MarketStore(tmp_path / "ds") as s:
        cache = DayCache(s, "TESTW", DAY)
        assert cache.spot_underlying == "TESTSPOT"
        assert cache.spot.price_at(2) == (102.0, 0)
        got = cache.series(OptionContract("TESTW", EXPIRY, 100, "C"))
        assert got is not None and got.price_at(0) == (option_close(100, "C", 0), 0)


def test_day_accepts_strings_and_datetimes(store: MarketStore) -> None:
    assert DayCache(store, UNDERLYING, "2024-01-02").day == DAY
    assert DayCache(store, UNDERLYING, datetime(2024, 1, 2, 9, 15)).day == DAY
    assert DAY + timedelta(days=1) == DAY2


def test_day_with_options_but_no_spot(tmp_path: Path) -> None:
    from data_builders import option_table, writer

    w = writer(tmp_path / "ds")
    w.write_options(UNDERLYING, DAY, option_table(DAY))
    w.finalize()
    with MarketStore(tmp_path / "ds") as s, pytest.raises(MissingDayError, match="2024-01-02"):
        DayCache(s, UNDERLYING, DAY)
