"""IV rank and IV percentile from the chain's ATM IV over past days only (issue 14).

A hand-made end-of-day SPX chain whose ``iv`` column is written here: the ATM IV of each day is
known, so rank and percentile are computed by hand (plain Python below, and literal values for
two days), independently of :mod:`workbench.engine.iv_rank`.
"""

from __future__ import annotations

import math
import tempfile
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from workbench import Strategy, run_backtest
from workbench.data.writer import DatasetWriter
from workbench.engine import iv_rank as ivr
from workbench.engine.config import StrategyConfig
from workbench.engine.pool import series_lru
from workbench.engine.selection import ChainSnapshot
from workbench.model.calendars import trading_days
from workbench.pricing import bs_price

DAYS = trading_days("SPX", date(2024, 1, 2), date(2024, 1, 12))  # 9 sessions (MLK is the 15th)
ATM = [0.20, 0.25, 0.15, 0.30, 0.22, 0.18, 0.26, 0.24, 0.21]
EXPIRY = date(2024, 6, 21)  # more than 30 days away all along: its ATM IV is the 30-day IV


def _spot(d: date) -> pa.Table:
    ts = datetime.combine(d, time(16, 0))
    return pa.table(
        {
            "ts": pa.array([ts], pa.timestamp("us")),
            "open": [100.0], "high": [100.0], "low": [100.0], "close": [100.0],
            "volume": pa.array([0], pa.int64()),
        }
    )  # fmt: skip


def _chain(d: date, atm: float) -> pa.Table:
    ts = datetime.combine(d, time(16, 0))
    rows = [(k, r) for k in (95.0, 100.0, 105.0) for r in ("C", "P")]
    # the wings' IV differs, so picking the wrong strike would show
    ivs = [atm if k == 100.0 else atm + 0.05 for k, _ in rows]
    n = len(rows)
    return pa.table(
        {
            "ts": pa.array([ts] * n, pa.timestamp("us")),
            "expiry": pa.array([EXPIRY] * n, pa.date32()),
            "strike": [k for k, _ in rows],
            "right": [r for _, r in rows],
            "open": [5.0] * n, "high": [5.0] * n, "low": [5.0] * n, "close": [5.0] * n,
            "bid": [4.9] * n, "ask": [5.1] * n,
            "volume": pa.array([10] * n, pa.int64()),
            "oi": pa.array([100] * n, pa.int64()),
            "iv": ivs,
        }
    )  # fmt: skip


def write_chains(root: Path, atm: list[float]) -> Path:
    with DatasetWriter(
        root, name=root.name, venue="CBOE", timezone="America/New_York", bar_interval="1d",
        source="hand-made EOD chain",
    ) as w:  # fmt: skip
        for d, v in zip(DAYS, atm, strict=True):
            w.write_spot("SPX", d, _spot(d))
            w.write_options("SPX", d, _chain(d, v))
    return root


LOG: list[tuple[Any, ...]] = []


class IvProbe(Strategy):
    mode = "positional"

    class Config(StrategyConfig):
        window: int = 4
        min_days: int = 2
        reads: int = 1

    def on_bar(self, bar: Any) -> None:
        c = self.config
        for _ in range(c.reads):
            rank = bar.iv_rank(c.window, min_days=c.min_days)
            pct = bar.iv_percentile(c.window, min_days=c.min_days)
        LOG.append((bar.date, bar.atm_iv(), rank, pct))


def _run(data: Path, **params: Any) -> list[tuple[Any, ...]]:
    LOG.clear()
    series_lru().clear()
    ivr.forget_closing_ivs()
    run_backtest(IvProbe, data=data, params=params or None, progress=False)
    return list(LOG)


def by_hand(atm: list[float], window: int, min_days: int) -> list[tuple[float, float, float]]:
    out = []
    for k, iv in enumerate(atm):
        past = atm[max(0, k - window) : k]
        if len(past) < min_days:
            out.append((iv, math.nan, math.nan))
            continue
        lo, hi = min(past), max(past)
        rank = 50.0 if hi == lo else 100 * min(1.0, max(0.0, (iv - lo) / (hi - lo)))
        out.append((iv, rank, 100 * sum(1 for p in past if p < iv) / len(past)))
    return out


@pytest.fixture(scope="module")
def chains(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_chains(tmp_path_factory.mktemp("iv") / "spx", ATM)


def test_rank_and_percentile_against_a_hand_computation(chains: Path) -> None:
    log = _run(chains)
    assert [row[0] for row in log] == DAYS
    expected = by_hand(ATM, 4, 2)
    for (day, iv, rank, pct), (iv0, rank0, pct0) in zip(log, expected, strict=True):
        assert iv == pytest.approx(iv0, abs=1e-12), day
        for got, want in ((rank, rank0), (pct, pct0)):
            assert (math.isnan(got) and math.isnan(want)) or got == pytest.approx(want), day
    # literal values, by hand, in percent: day 5 (0.22) against 0.20, 0.25, 0.15, 0.30
    assert log[4][2] == pytest.approx(100 * (0.22 - 0.15) / (0.30 - 0.15))  # 46.67
    assert log[4][3] == pytest.approx(50.0)  # 0.20 and 0.15 of four below
    # day 2 (0.25) against 0.20 only: fewer than min_days=2 sessions -> NaN
    assert math.isnan(log[1][2]) and math.isnan(log[1][3])
    # day 3 (0.15) against 0.20, 0.25: the window's new low
    assert log[2][2] == 0.0 and log[2][3] == 0.0


def test_a_later_days_chain_changes_no_earlier_value(chains: Path) -> None:
    base = _run(chains)
    moved = list(ATM)
    moved[5] = 0.90  # perturb the sixth day's chain
    with tempfile.TemporaryDirectory() as folder:
        log = _run(write_chains(Path(folder) / "spx", moved))
    for k in range(5):
        assert log[k][1:] == pytest.approx(base[k][1:], nan_ok=True), DAYS[k]
    assert log[5][1] == pytest.approx(0.90) and log[5][2] == 100.0 and log[5][3] == 100.0
    assert log[6][3] != base[6][3]  # the next day's history holds it


def test_history_is_computed_once_per_day_not_per_call(
    chains: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[date] = []
    real = ivr.market_atm_iv

    def counting(market: Any, i: int) -> float:
        calls.append(market.day)
        return real(market, i)

    monkeypatch.setattr(ivr, "market_atm_iv", counting)
    _run(chains, reads=5, window=252, min_days=1)
    n = len(DAYS)
    # each day once, whatever the reads per tick: as "now" at its one (closing) tick, which a
    # later day's window then reads as that day's close instead of opening the day again
    assert len(calls) == n
    assert sorted(set(calls)) == DAYS


def test_a_close_remembered_from_the_run_equals_the_day_opened_again(chains: Path) -> None:
    """The closing IV a run keeps from its own market is the figure opening the day afresh
    gives (the hand computation above checks the values; this checks the two paths agree)."""
    _run(chains, window=252, min_days=1)
    kept = {k: dict(v) for k, v in ivr._CLOSING_IVS.items()}
    assert kept and all(len(v) == len(DAYS) for v in kept.values())
    for (version, underlying, rate), closes in kept.items():
        fresh = ivr.ClosingIvs(version, underlying, DAYS, rate, _opener(chains, underlying, rate))
        ivr.forget_closing_ivs()
        for day, value in closes.items():
            assert fresh.closing_iv(day) == value, day


def _opener(data: Path, underlying: str, rate: float) -> Any:
    from workbench.data.store import MarketStore
    from workbench.engine.market import DayMarket
    from workbench.engine.pool import series_lru

    store = MarketStore(data)
    return lambda day: DayMarket(store, underlying, day, series_lru(), rate=rate)


def test_bad_window_is_refused(chains: Path) -> None:
    with pytest.raises(Exception, match=r"min_days .* must not exceed window"):
        _run(chains, window=3, min_days=5)


# -- the definitions, on snapshots -------------------------------------------------------------
def _snapshot(strikes: list[float], iv: list[float], spot: float, **kw: Any) -> ChainSnapshot:
    rights = [True, False] * (len(strikes) // 2)
    return ChainSnapshot.build(
        underlying="SPX", ts=datetime(2024, 1, 2, 16), spot=spot, expiry=EXPIRY, tte=0.25,
        strike=strikes, right=rights, iv=iv, **kw,
    )  # fmt: skip


def test_expiry_atm_iv_takes_the_strike_nearest_spot_and_averages_call_and_put() -> None:
    snap = _snapshot([95, 95, 100, 100, 105, 105], [0.3, 0.32, 0.2, 0.22, 0.1, 0.12], 101.0)
    assert ivr.expiry_atm_iv(snap) == pytest.approx(0.21)
    # half-way between two strikes: the lower one (engine.ivstats.atm_iv, shared with the scanner)
    snap = _snapshot([95, 95, 100, 100, 105, 105], [0.3, 0.32, 0.2, 0.22, 0.1, 0.12], 102.5)
    assert ivr.expiry_atm_iv(snap) == pytest.approx(0.21)


def test_expiry_atm_iv_implies_the_volatility_from_the_mid_without_an_iv_column() -> None:
    strikes = [100.0, 100.0]
    calls = np.array([True, False])
    prices = bs_price(
        np.full(2, 100.0), np.array(strikes), np.full(2, 0.25), np.zeros(2), np.full(2, 0.3), calls
    )
    snap = _snapshot(
        strikes, [math.nan, math.nan], 100.0, bid=prices - 0.01, ask=prices + 0.01, close=prices
    )
    assert ivr.expiry_atm_iv(snap) == pytest.approx(0.3, abs=1e-6)


def test_constant_maturity_interpolates_total_variance_to_30_days() -> None:
    # by hand: w = (30 - 20) / (40 - 20) = 0.5, T = 30/365;
    # var*T = 0.2^2 * 20/365 + 0.5 * (0.3^2 * 40/365 - 0.2^2 * 20/365) = 2.2/365
    points = [(20, 20 / 365, 0.20), (40, 40 / 365, 0.30), (3, 3 / 365, 0.9), (60, 60 / 365, 0.5)]
    assert ivr.constant_maturity_iv(points) == pytest.approx(math.sqrt(2.2 / 30))
    # one side only: the nearest expiry's ATM IV; expiries under MIN_DTE are left out
    assert ivr.constant_maturity_iv([(45, 45 / 365, 0.25), (60, 60 / 365, 0.5)]) == 0.25
    assert math.isnan(ivr.constant_maturity_iv([(3, 3 / 365, 0.9)]))


def test_rank_and_percentile_functions() -> None:
    history = np.array([0.2, 0.25, 0.15, 0.30])
    assert ivr.iv_rank(0.30, history) == 100.0
    assert ivr.iv_rank(0.40, history) == 100.0  # a new high of the window
    assert ivr.iv_rank(0.10, history) == 0.0  # a new low
    assert ivr.iv_percentile(0.25, history) == 50.0  # strictly below: 0.2, 0.15
    assert ivr.iv_rank(0.3, np.array([0.2])) == 50.0  # flat history
    assert math.isnan(ivr.iv_percentile(math.nan, history))
    assert math.isnan(ivr.iv_rank(0.2, history, min_days=5))  # too little history
