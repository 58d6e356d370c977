"""Several underlyings in one book (issue 14, slice "universe").

A hand-made two-underlying end-of-day dataset with a hand-computed tradebook and equity path
(one underlying missing a day, physical assignment); a strategy run on each underlying alone
and on both in one book (same fills, equity = the sum); the look-ahead property across
underlyings; reruns byte-identical; intraday universe days; the bad configurations.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from engine_builders import option_table, spot_table

from workbench.data.writer import DatasetWriter
from workbench.engine.config import StrategyConfig
from workbench.engine.errors import ConfigError, DayFailedError
from workbench.engine.runner import run_backtest
from workbench.engine.strategy import Strategy

D1, D2, D3, D4, D5 = (date(2024, 1, d) for d in (2, 3, 4, 5, 8))
E = D4  # Friday expiry, PM, physical (SPY/QQQ registry terms)

SPY_SPOT = {D1: 470.0, D2: 471.0, D3: 472.0, D4: 473.0, D5: 474.0}
QQQ_SPOT = {D1: 400.0, D2: 401.0, D4: 398.0, D5: 399.0}  # no QQQ data on D3
SPY_PUT = {D1: 3.0, D2: 2.5, D3: 2.0, D4: 0.05}
QQQ_PUT = {D1: 3.0, D2: 2.5, D4: 2.1}


def _write_two(root: Path) -> Path:
    with DatasetWriter(
        root, name="two", venue="CBOE", timezone="America/New_York", bar_interval="1d",
        source="hand-made test data",
    ) as w:  # fmt: skip
        for name, spots, puts, strike in (
            ("SPY", SPY_SPOT, SPY_PUT, 470.0),
            ("QQQ", QQQ_SPOT, QQQ_PUT, 400.0),
        ):
            for d, s in spots.items():
                w.write_spot(name, d, spot_table(d, [("16:00", s, s)]))
                if d in puts:
                    p = puts[d]
                    rows = [("16:00", E, strike, "P", p, round(p - 0.05, 2), round(p + 0.05, 2))]
                    w.write_options(name, d, option_table(d, rows))
    return root


class OnePutEach(Strategy):
    """Sells one ATM put per underlying of the run, once (keys prefixed by the underlying)."""

    mode = "positional"

    def on_bar(self, bar):  # type: ignore[no-untyped-def]
        traded = {t.underlying for t in self.closed_trades} | {
            t.underlying for t in self.positions.values()
        }
        for u in bar.underlyings:
            if u not in traded:
                strike = bar.atm(underlying=u)
                self.try_fill({f"{u}.put": self.add(strike, "P", "SELL", underlying=u)})


def _run(
    data: Path, strategy: type[Strategy] = OnePutEach, margin: str | None = None, **params: object
):  # type: ignore[no-untyped-def]
    return run_backtest(
        strategy, data=str(data), params=params, fill="mid", fees="per-contract:0.65,min=0",
        progress=False, executor="serial", margin=margin,
    )  # fmt: skip


def test_two_underlyings_one_book_hand_computed(tmp_path: Path) -> None:
    data = _write_two(tmp_path / "two")
    r = _run(data, underlyings=["SPY", "QQQ"])
    tb = r.tradebook
    got = [
        (row.day, row.underlying, row.symbol.split()[-1], row.side, row.action,
         row.signed_units, round(row.price, 2), round(row.fees, 2), round(row.cash, 2), row.reason)
        for row in tb.itertuples()
    ]  # fmt: skip
    assert got == [
        (D1, "SPY", "240105P00470000", "SELL", "open", -100, 3.0, 0.65, 299.35, "entry"),
        (D1, "QQQ", "240105P00400000", "SELL", "open", -100, 3.0, 0.65, 299.35, "entry"),
        # D4: SPY expires out of the money (473 > 470); QQQ in it (398 < 400): the put closes
        # at its intrinsic 2.00 and 100 shares are assigned at the settlement price 398
        (D4, "SPY", "240105P00470000", "BUY", "settle", 100, 0.0, 0.0, 0.0, "expiry"),
        (D4, "QQQ", "240105P00400000", "BUY", "settle", 100, 2.0, 0.0, -200.0, "expiry"),
        (D4, "QQQ", "QQQ", "BUY", "open", 100, 398.0, 0.0, -39800.0, "assignment"),
    ]
    daily = r.daily
    assert list(daily["date"]) == [d.isoformat() for d in (D1, D2, D3, D4, D5)]
    # equity = cash + mark-to-market, by hand:
    # D1 598.70 - 300 - 300; D2 marks 2.5/2.5; D3 SPY 2.0, QQQ held at 2.5 (no QQQ data);
    # D4 cash 598.70 - 200 - 39800 + 100 x 398; D5 stock at 399
    assert [round(x, 2) for x in daily["equity"]] == [-1.30, 98.70, 148.70, 398.70, 498.70]
    assert [round(x, 2) for x in daily["pnl"]] == [-1.30, 100.0, 50.0, 250.0, 100.0]
    assert r.manifest["underlyings"] == ["SPY", "QQQ"]
    assert r.manifest["currency"] == "USD"
    # D3 is a gap day for QQQ only: the day ran (SPY traded) and says QQQ's leg was held
    d3 = r.days[r.days["date"] == D3.isoformat()].iloc[0]
    assert d3["status"] == "ok"
    assert "QQQ.put" in d3["warning_messages"] and "QQQ has no data today" in d3["warning_messages"]
    # the held QQQ put stays in the book's Greeks that day (valued at QQQ's last close, 401):
    # short puts, so the book's delta is above and its vega below SPY's alone
    spy = _run(data, underlying="SPY").daily.set_index("date")
    both = daily.set_index("date")
    day3 = D3.isoformat()
    assert both.loc[day3, "delta"] > spy.loc[day3, "delta"] + 1.0
    assert both.loc[day3, "vega"] < spy.loc[day3, "vega"] - 1.0


class SeenOnBar(Strategy):
    mode = "positional"
    seen: list = []
    starts: list = []

    def on_day_start(self, day):  # type: ignore[no-untyped-def]
        if day.date == D2:  # before D2's first tick: D1's closes
            day.prefetch(0, [470.0], ["P"], underlying="SPY")
            type(self).starts.append(
                (day.underlyings, float(day.spot), day.spot("SPY"), day.spot_of("QQQ"),
                 day.expiries("QQQ"), day.atm(underlying="SPY"),
                 day.atm_window(1, underlying="QQQ"))
            )  # fmt: skip
        return True

    def on_bar(self, bar):  # type: ignore[no-untyped-def]
        if bar.date == D5:  # spot only that day (no option file)
            return
        row = {"date": bar.date, "underlyings": bar.underlyings, "spot": float(bar.spot)}
        for u in bar.underlyings:
            row[u] = (bar.spot(u), bar.spot_of(u), bar.expiries(u), bar.atm(underlying=u))
            chain = bar.chain(0, underlying=u)
            row[u + ".chain"] = (chain.underlying, list(chain.strike))
            picked = bar.select("P", underlying=u, method="atm")
            row[u + ".select"] = None if picked is None else picked.symbol
        type(self).seen.append(row)


def test_contexts_answer_per_underlying(tmp_path: Path) -> None:
    data = _write_two(tmp_path / "two")
    SeenOnBar.seen = []
    SeenOnBar.starts = []
    _run(data, SeenOnBar, underlyings=["QQQ", "SPY"])
    assert SeenOnBar.starts == [
        (("QQQ", "SPY"), 400.0, 470.0, 400.0, [E], 470.0, [399.0, 400.0, 401.0])
    ]
    seen = {row["date"]: row for row in SeenOnBar.seen}
    assert seen[D1]["underlyings"] == ("QQQ", "SPY")
    assert seen[D1]["spot"] == 400.0  # unqualified: the run's first underlying
    assert seen[D1]["SPY"] == (470.0, 470.0, [E], 470.0)
    assert seen[D1]["QQQ"] == (400.0, 400.0, [E], 400.0)
    assert seen[D1]["SPY.chain"] == ("SPY", [470.0])  # its one listed put
    assert seen[D1]["QQQ.select"].startswith("QQQ")
    # D3: QQQ has no data: absent from the day's underlyings; unqualified calls answer for SPY
    assert seen[D3]["underlyings"] == ("SPY",)
    assert seen[D3]["spot"] == 472.0


def test_no_data_today_is_a_clear_error(tmp_path: Path) -> None:
    data = _write_two(tmp_path / "two")

    class AsksQQQ(Strategy):
        mode = "positional"

        def on_bar(self, bar):  # type: ignore[no-untyped-def]
            bar.spot("QQQ")

    with pytest.raises(DayFailedError, match="QQQ has no data on 2024-01-04"):
        _run(data, AsksQQQ, underlyings=["SPY", "QQQ"])

    class AsksIWM(Strategy):
        mode = "positional"

        def on_bar(self, bar):  # type: ignore[no-untyped-def]
            bar.atm(underlying="IWM")

    with pytest.raises(DayFailedError, match="'IWM' is not in this run"):
        _run(data, AsksIWM, underlyings=["SPY", "QQQ"])


def test_bad_universe_configurations(tmp_path: Path) -> None:
    data = _write_two(tmp_path / "two")
    with pytest.raises(ConfigError, match=r"give 'underlying'.*or 'underlyings'.*not both"):
        _run(data, underlying="SPY", underlyings=["SPY", "QQQ"])
    with pytest.raises(ConfigError, match="named twice: SPY"):
        _run(data, underlyings=["SPY", "spy"])
    with pytest.raises(ConfigError, match="at least one"):
        _run(data, underlyings=[])
    with pytest.raises(ConfigError, match="at least one"):
        _run(data, underlyings="SPY,,QQQ")
    # a command line's --set underlyings=spy,QQQ
    assert OnePutEach.Config(underlyings="spy, QQQ").underlyings == ["SPY", "QQQ"]
    with pytest.raises(ValueError, match="'IWM' not in dataset 'two'"):
        _run(data, underlyings=["SPY", "IWM"])


def test_mixed_currencies_refused(tmp_path: Path) -> None:
    root = tmp_path / "mixed"
    with DatasetWriter(
        root, name="mixed", venue="CBOE", timezone="America/New_York", bar_interval="1d",
        source="hand-made test data",
    ) as w:  # fmt: skip
        for name, s in (("SPY", 470.0), ("NIFTY", 21500.0)):
            w.write_spot(name, D1, spot_table(D1, [("16:00", s, s)]))
    with pytest.raises(ValueError, match=r"different currencies: SPY \(USD\), NIFTY \(INR\)"):
        _run(root, underlyings=["SPY", "NIFTY"])


# -- a per-underlying rule on a synthetic universe -------------------------------------------------
class SpreadPerUnderlying(Strategy):
    """A put credit spread per underlying: sell the ~25-delta put, buy the one $5 lower, on the
    first expiry 20+ days out; close at 50 % of the credit or at 7 DTE (keys ``<U>.short``)."""

    mode = "positional"

    class Config(StrategyConfig):
        width: float = 5.0

    def on_bar(self, bar):  # type: ignore[no-untyped-def]
        open_by = {t.underlying for t in self.positions.values()}
        for u in bar.underlyings:
            if u in open_by:
                self._exit(bar, u)
                continue
            expiry = next((e for e in bar.expiries(u) if (e - bar.date).days >= 20), None)
            if expiry is None:
                continue
            short = bar.select("P", underlying=u, expiry=expiry, method="delta", value=0.25)
            if short is None:
                continue
            long_k = short.strike - self.config.width
            if long_k not in set(bar.chain(expiry, underlying=u).strike):
                continue
            self.try_fill(
                {
                    f"{u}.short": self.add(short, "SELL"),
                    f"{u}.long": self.add(long_k, "P", "BUY", 1, expiry, underlying=u),
                }
            )

    def _exit(self, bar, u):  # type: ignore[no-untyped-def]
        short, long_ = self.positions.get(f"{u}.short"), self.positions.get(f"{u}.long")
        if short is None or long_ is None:
            return
        credit = short.entry_price - long_.entry_price
        cost = bar.mark(short)[0] - bar.mark(long_)[0]
        dte = (short.contract.expiry - bar.date).days
        if cost <= 0.5 * credit or dte <= 7:
            for key in (f"{u}.short", f"{u}.long"):
                self.close(key, reason="target" if cost <= 0.5 * credit else "dte")


@pytest.fixture(scope="module")
def etf_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from workbench.data.synth import generate

    out = tmp_path_factory.mktemp("etf") / "etf"
    generate("us-etf-eod", out, seed=3, start="2019-01-01", days=45, progress=False, workers=1)
    return out


_SAME = ["day", "underlying", "position_key", "symbol", "side", "action", "signed_units", "price",
         "fees", "cash", "reason"]  # fmt: skip


def test_alone_and_together_same_fills_and_equity_adds_up(etf_data: Path) -> None:
    together = _run(
        etf_data, SpreadPerUnderlying, margin="reg-t", underlyings=["SPY", "QQQ", "IWM"]
    )
    assert len(together.tradebook) > 0
    assert set(together.tradebook["underlying"]) == {"SPY", "QQQ", "IWM"}
    parts = []
    equity = None
    summed = ["equity", "delta", "gamma", "vega", "theta", "margin", "open_legs"]
    for u in ("SPY", "QQQ", "IWM"):
        alone = _run(etf_data, SpreadPerUnderlying, margin="reg-t", underlying=u)
        parts.append(alone.tradebook[_SAME])
        e = alone.daily.set_index("date")[summed]
        equity = e if equity is None else equity.add(e, fill_value=0.0)
    key = ["day", "underlying", "position_key", "action"]
    mine = together.tradebook[_SAME].sort_values(key).reset_index(drop=True)
    theirs = pd.concat(parts).sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, theirs)
    assert equity is not None
    got = together.daily.set_index("date")[summed]
    assert (got["equity"] - equity["equity"]).abs().max() < 0.005
    # Greeks and margin of the book: each underlying's against its own spot, added up
    assert got["margin"].gt(0).any()
    pd.testing.assert_frame_equal(got, equity, check_exact=False, atol=1e-6, rtol=1e-9)


def test_rerun_is_byte_identical(etf_data: Path, tmp_path: Path) -> None:
    a = _run(etf_data, SpreadPerUnderlying, underlyings=["SPY", "QQQ", "IWM"])
    b = _run(etf_data, SpreadPerUnderlying, underlyings=["SPY", "QQQ", "IWM"])
    pq.write_table(a.tradebook_table, tmp_path / "a.parquet")
    pq.write_table(b.tradebook_table, tmp_path / "b.parquet")
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    assert a.daily.to_csv() == b.daily.to_csv()
    assert a.manifest["run_id"] == b.manifest["run_id"]


def _perturbed(src: Path, out: Path, after: date, factor: float) -> Path:
    """A copy of ``src`` with every price of every underlying after ``after`` times ``factor``."""
    from workbench.data.catalog import Catalog
    from workbench.data.store import MarketStore

    catalog = Catalog.load(src)
    store = MarketStore(src)
    with DatasetWriter(
        out, name=catalog.name, venue=catalog.venue, timezone=catalog.timezone,
        bar_interval=catalog.bar_interval, source="perturbed copy",
    ) as w:  # fmt: skip
        for u in store.underlyings():
            for d in store.days(u):
                for kind, write in (("spot", w.write_spot), ("options", w.write_options)):
                    path = src / kind / u / str(d.year) / f"{d}.parquet"
                    if not path.exists():
                        continue
                    table = pq.read_table(path)
                    if d > after:
                        cols = {}
                        for name in table.column_names:
                            col = table[name]
                            if name in ("open", "high", "low", "close", "bid", "ask"):
                                col = pa.compute.multiply(col, factor)
                            cols[name] = col
                        table = pa.table(cols)
                    write(u, d, table)
    store.close()
    return out


@pytest.mark.parametrize("cut", [3, 25, 40])
def test_no_look_ahead_across_underlyings(etf_data: Path, tmp_path: Path, cut: int) -> None:
    from workbench.data.store import MarketStore

    days = MarketStore(etf_data).days("SPY")
    t = days[cut]
    base = _run(etf_data, SpreadPerUnderlying, underlyings=["SPY", "QQQ", "IWM"])
    moved = _run(
        _perturbed(etf_data, tmp_path / "moved", t, 1.37),
        SpreadPerUnderlying, underlyings=["SPY", "QQQ", "IWM"],
    )  # fmt: skip
    before = base.tradebook[base.tradebook["day"] <= t][_SAME].reset_index(drop=True)
    after = moved.tradebook[moved.tradebook["day"] <= t][_SAME].reset_index(drop=True)
    pd.testing.assert_frame_equal(before, after)
    cols = ["date", "equity", "cash", "mtm", "delta", "vega"]
    a = base.daily[base.daily["date"] <= t.isoformat()][cols].reset_index(drop=True)
    b = moved.daily[moved.daily["date"] <= t.isoformat()][cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    # and the perturbation did reach the run after t
    assert not base.daily["equity"].equals(moved.daily["equity"])


class IntradayBoth(Strategy):
    mode = "intraday"

    def on_bar(self, bar):  # type: ignore[no-untyped-def]
        if self.idle and bar.date != D5:  # D5 has spot only
            legs = {}
            for u in bar.underlyings:
                strike = float(bar.chain(0, underlying=u).strike[0])
                legs[f"{u}.put"] = self.add(strike, "P", "SELL", underlying=u)
            self.try_fill(legs)


def test_intraday_universe_days_are_independent(tmp_path: Path) -> None:
    data = _write_two(tmp_path / "two")
    with pytest.warns(UserWarning, match="intraday mode on end-of-day data"):
        r = _run(data, IntradayBoth, underlyings=["SPY", "QQQ"])
    tb = r.tradebook
    # each day opens both (one on D3: QQQ has no data) and force-closes at the same tick
    opens = tb[tb["action"] == "open"].groupby("day")["underlying"].apply(tuple).to_dict()
    assert opens == {D1: ("SPY", "QQQ"), D2: ("SPY", "QQQ"), D3: ("SPY",), D4: ("SPY", "QQQ")}
    assert set(tb[tb["action"] == "close"]["reason"]) == {"eod"}
    # day-parallel: the same tradebook from the process pool
    with pytest.warns(UserWarning, match="intraday mode on end-of-day data"):
        pooled = run_backtest(
            IntradayBoth, data=str(data), params={"underlyings": ["SPY", "QQQ"]}, fill="mid",
            fees="per-contract:0.65,min=0", progress=False, executor="process",
        )  # fmt: skip
    pd.testing.assert_frame_equal(pooled.tradebook, tb)
    # opened and closed at the same one tick at the mid: the day's PnL is the fees, 4 x 0.65
    assert all(math.isclose(x, -2.60, abs_tol=1e-9) for x in r.daily["pnl"][:2])


def test_single_underlying_runs_keep_their_run_id(tmp_path: Path) -> None:
    """``underlyings`` left unset does not enter the config hash (old run ids stay valid)."""
    cfg = OnePutEach.Config(underlying="SPY")
    assert "underlyings" not in cfg.canonical_json()


def _write_two_clocks(root: Path) -> Path:
    """NIFTY bars at 09:15, 09:16, 09:17; BANKNIFTY at 09:15, 09:17, 09:18 (one day)."""
    d = date(2024, 1, 2)
    e = date(2024, 1, 4)
    with DatasetWriter(
        root, name="clocks", venue="NSE", timezone="Asia/Kolkata", bar_interval="1min",
        source="hand-made test data",
    ) as w:  # fmt: skip
        nifty = [("09:15", 21500, 21500), ("09:16", 21510, 21510), ("09:17", 21520, 21520)]
        bank = [("09:15", 47000, 47000), ("09:17", 47100, 47100), ("09:18", 47200, 47200)]
        w.write_spot("NIFTY", d, spot_table(d, nifty))
        w.write_spot("BANKNIFTY", d, spot_table(d, bank))
        w.write_options("NIFTY", d, option_table(d, [
            (m, e, 21500.0, "C", c, c - 1, c + 1)
            for m, c in (("09:15", 100.0), ("09:16", 105.0), ("09:17", 110.0))
        ]))  # fmt: skip
        w.write_options("BANKNIFTY", d, option_table(d, [
            (m, e, 47000.0, "C", c, c - 1, c + 1)
            for m, c in (("09:15", 300.0), ("09:17", 320.0), ("09:18", 340.0))
        ]))  # fmt: skip
    return root


class Clocks(Strategy):
    log: list = []

    def on_bar(self, bar):  # type: ignore[no-untyped-def]
        type(self).log.append(
            (bar.time.strftime("%H:%M"), bar.spot("NIFTY"), bar.spot_lag_of("NIFTY"),
             bar.spot("BANKNIFTY"), bar.spot_lag_of("BANKNIFTY"))
        )  # fmt: skip
        if bar.time.strftime("%H:%M") == "09:16" and self.idle:
            # BANKNIFTY has no bar at 09:16: the order needs both legs live, so it is refused
            legs = {
                "n": self.add(21500, "C", "BUY", underlying="NIFTY"),
                "b": self.add(47000, "C", "BUY", underlying="BANKNIFTY"),
            }
            assert self.try_fill(legs) is None
        if bar.time.strftime("%H:%M") == "09:17" and self.idle:
            self.try_fill({
                "n": self.add(21500, "C", "BUY", underlying="NIFTY"),
                "b": self.add(47000, "C", "BUY", underlying="BANKNIFTY"),
            })  # fmt: skip


def test_one_clock_is_the_union_of_the_underlyings_bars(tmp_path: Path) -> None:
    data = _write_two_clocks(tmp_path / "clocks")
    Clocks.log = []
    r = run_backtest(
        Clocks, data=str(data), params={"underlyings": ["NIFTY", "BANKNIFTY"]}, fill="mid",
        fees="zero", progress=False, executor="serial",
    )  # fmt: skip
    assert Clocks.log == [
        ("09:15", 21500.0, 0, 47000.0, 0),
        ("09:16", 21510.0, 0, 47000.0, 1),  # BANKNIFTY's 09:15 bar, one tick old
        ("09:17", 21520.0, 0, 47100.0, 0),
        ("09:18", 21520.0, 1, 47200.0, 0),  # NIFTY's 09:17 bar at the union's last tick
    ]
    tb = r.tradebook
    assert [(a, u, p) for a, u, p in zip(tb["action"], tb["underlying"], tb["price"])] == [
        ("open", "NIFTY", 110.0),
        ("open", "BANKNIFTY", 320.0),
        # force-closed at the last tick, 09:18: NIFTY's last bar is 09:17 (lag 1 > max_fill_lag
        # 0), so it closes at its mark with a warning; BANKNIFTY at its 09:18 bar
        ("close", "NIFTY", 110.0),
        ("close", "BANKNIFTY", 340.0),
    ]
    assert r.days.iloc[0]["refused_fills"] == 1


def test_expiry_on_a_day_its_underlying_lacks_settles_at_the_last_spot(tmp_path: Path) -> None:
    """QQQ has no data on its expiry day: the put settles at QQQ's last close (flagged) while
    SPY trades that day."""
    root = tmp_path / "gap"
    e = D3  # both expire on D3; QQQ has no data on D3
    with DatasetWriter(
        root, name="gap", venue="CBOE", timezone="America/New_York", bar_interval="1d",
        source="hand-made test data",
    ) as w:  # fmt: skip
        for name, spots, strike in (("SPY", SPY_SPOT, 470.0), ("QQQ", QQQ_SPOT, 402.0)):
            for d, s in spots.items():
                w.write_spot(name, d, spot_table(d, [("16:00", s, s)]))
                if d <= e:  # QQQ has no D3 at all
                    row = ("16:00", e, strike, "P", 3.0, 2.95, 3.05)
                    w.write_options(name, d, option_table(d, [row]))

    class Sell(Strategy):
        mode = "positional"

        def on_bar(self, bar):  # type: ignore[no-untyped-def]
            if bar.date == D1:
                for u in bar.underlyings:
                    k = float(bar.chain(0, underlying=u).strike[0])
                    self.try_fill({f"{u}.put": self.add(k, "P", "SELL", underlying=u)})

    r = _run(root, Sell, underlyings=["SPY", "QQQ"])
    tb = r.tradebook
    settle = tb[tb["action"] == "settle"]
    by = {row.underlying: row for row in settle.itertuples()}
    assert by["SPY"].day == D3 and by["SPY"].price == 0.0  # 472 > 470, at D3's own close
    # QQQ: no D3 data; its last close before the settlement is D2's 401: 402 - 401 = 1.00
    assert by["QQQ"].day == D3 and by["QQQ"].price == 1.0 and by["QQQ"].spot == 401.0
    assert by["QQQ"].fill_model == "settle/last-spot"
    assert by["SPY"].fill_model == "settle/intrinsic"
    d3 = r.days[r.days["date"] == D3.isoformat()].iloc[0]
    assert "last spot close" in d3["warning_messages"]


# -- no look-ahead on the union clock, intraday ----------------------------------------------------
BANK_MINUTES = ("09:15", "09:17", "09:18", "09:21")  # 09:21: a tick NIFTY has no bar at


def _write_nifty_bank(root: Path, cut: str, k: float) -> Path:
    from engine_builders import D1 as N1
    from engine_builders import nifty_options, nifty_spot

    def scale(t: str, x: float | None) -> float | None:
        return None if x is None else (x * k if t > cut else x)

    e = date(2024, 1, 4)
    bank_spot = [(t, 47000 + 20 * j, 47010 + 20 * j) for j, t in enumerate(BANK_MINUTES)]
    bank_opts = [
        (t, e, 47000.0, r, 300.0 + 10 * j * s, 299.0 + 10 * j * s, 301.0 + 10 * j * s)
        for j, t in enumerate(BANK_MINUTES)
        for r, s in (("C", 1), ("P", -1))
    ]
    with DatasetWriter(
        root, name="nb", venue="NSE", timezone="Asia/Kolkata", bar_interval="1min",
        source="hand-made test data",
    ) as w:  # fmt: skip
        for name, spot, opts in (
            ("NIFTY", nifty_spot()[N1], nifty_options()[N1]),
            ("BANKNIFTY", bank_spot, bank_opts),
        ):
            spot = [(t, scale(t, o), scale(t, c)) for t, o, c in spot]
            opts = [(t, ex, s, r, scale(t, c), scale(t, b), scale(t, a))
                    for t, ex, s, r, c, b, a in opts]  # fmt: skip
            w.write_spot(name, N1, spot_table(N1, spot))  # type: ignore[arg-type]
            w.write_options(name, N1, option_table(N1, opts))  # type: ignore[arg-type]
    return root


class SeesBoth(Strategy):
    seen: list = []

    def on_bar(self, bar):  # type: ignore[no-untyped-def]
        row: list = [bar.ts, bar.underlyings, round(bar.pnl, 6)]
        for u in bar.underlyings:
            chain = bar.chain(0, underlying=u)
            row += [bar.spot(u), bar.spot_lag_of(u), list(chain.strike), list(chain.close)]
        type(self).seen.append(tuple(row))
        hhmm = bar.time.strftime("%H:%M")
        if self.idle and hhmm >= "09:16":
            self.try_fill({
                "n": self.add(21500, "C", "BUY", underlying="NIFTY"),
                "b": self.add(47000, "P", "SELL", underlying="BANKNIFTY"),
            })  # fmt: skip
        elif self.active and hhmm >= "09:20":
            self.close_all(reason="time")


@pytest.mark.parametrize("cut", ["09:15", "09:16", "09:17", "09:18", "09:20"])
def test_no_look_ahead_on_the_union_clock(tmp_path: Path, cut: str) -> None:
    out = []
    for k in (1.0, 1.5):
        SeesBoth.seen = []
        data = _write_nifty_bank(tmp_path / f"k{k}", cut, k)
        r = run_backtest(
            SeesBoth, data=str(data), params={"underlyings": ["NIFTY", "BANKNIFTY"]},
            fill="mid", fees="zero", progress=False, executor="serial",
        )  # fmt: skip
        out.append((r, list(SeesBoth.seen)))
    (a, seen_a), (b, seen_b) = out
    stamp = f"2024-01-02 {cut}:00"
    assert len(seen_a) == 7  # 09:15 .. 09:21, the union of both clocks
    assert [s for s in seen_a if str(s[0]) <= stamp] == [s for s in seen_b if str(s[0]) <= stamp]
    assert [s for s in seen_a if str(s[0]) > stamp] != [s for s in seen_b if str(s[0]) > stamp]
    ta, tb = a.tradebook, b.tradebook
    ra = ta[ta["ts"].astype(str) <= stamp].drop(columns=["run_id"]).reset_index(drop=True)
    rb = tb[tb["ts"].astype(str) <= stamp].drop(columns=["run_id"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(ra, rb)


class StopOnQQQ(Strategy):
    """Sells both puts on D1 and a stop on the QQQ put watching QQQ's spot."""

    mode = "positional"

    def on_bar(self, bar):  # type: ignore[no-untyped-def]
        if bar.date == D1:
            for u in bar.underlyings:
                strike = bar.atm(underlying=u)
                self.try_fill({f"{u}.put": self.add(strike, "P", "SELL", underlying=u)})
            self.place_stop("QQQ.put", on="spot", below=398.5)


def test_a_stop_on_spot_watches_its_own_underlying(tmp_path: Path) -> None:
    """QQQ spot 400, 401, (no data), 398: the stop triggers on D4 (SPY's spot, 470-473, never
    goes below 398.5) and closes the QQQ put at D4's mid, 2.10, before the PM settlement."""
    data = _write_two(tmp_path / "two")
    r = _run(data, StopOnQQQ, underlyings=["SPY", "QQQ"])
    tb = r.tradebook
    qqq = tb[tb["underlying"] == "QQQ"]
    assert list(zip(qqq["day"], qqq["action"], qqq["price"].round(2), qqq["reason"])) == [
        (D1, "open", 3.0, "entry"),
        (D4, "close", 2.1, "stop"),
    ]
    spy = tb[tb["underlying"] == "SPY"]
    assert list(spy["action"]) == ["open", "settle"]


class OpenOnQQQDip(Strategy):
    mode = "positional"

    def on_bar(self, bar):  # type: ignore[no-untyped-def]
        if bar.date == D1:
            leg = self.add(400.0, "P", "SELL", underlying="QQQ")
            self.place_stop({"QQQ.put": leg}, on="spot", below=398.5)


def test_an_opening_stop_on_spot_watches_its_legs_underlying(tmp_path: Path) -> None:
    data = _write_two(tmp_path / "two")
    tb = _run(data, OpenOnQQQDip, underlyings=["SPY", "QQQ"]).tradebook
    opened = tb[(tb["action"] == "open") & (tb["reason"] == "entry")]
    assert list(zip(opened["day"], opened["underlying"], opened["price"].round(2))) == [
        (D4, "QQQ", 2.1)
    ]


def test_spot_and_expiries_kept_past_the_tick_are_plain_values(tmp_path: Path) -> None:
    """``bar.spot`` and ``bar.expiries`` can be called for another underlying, but a strategy
    that keeps them (and pickles or copies them) keeps plain numbers and lists."""
    import copy
    import pickle

    data = _write_two(tmp_path / "two")

    class Keeps(Strategy):
        mode = "positional"
        kept: list = []

        def on_bar(self, bar):  # type: ignore[no-untyped-def]
            if bar.date == D1:
                type(self).kept.append((bar.spot, bar.expiries))

    Keeps.kept = []
    _run(data, Keeps, underlyings=["SPY", "QQQ"])
    spot, expiries = pickle.loads(pickle.dumps(Keeps.kept[0]))
    assert type(spot) is float and spot == 470.0
    assert type(expiries) is list and expiries == [E]
    assert type(copy.deepcopy(Keeps.kept[0][0])) is float
