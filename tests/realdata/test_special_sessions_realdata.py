"""NSE's special sessions in the real data are kept with their actual hours, and the engine
runs them (marked ``realdata``; reads ``$WORKBENCH_REAL_DATA``).

Before the registry's calendar overrides, the bars of 2024-01-20, 2024-03-02 and 2024-05-18 in
set 5's NIFTY_2024.csv (and the 2020-02-01 budget session of the BANKNIFTY 15-minute file) were
quarantined as ``exchange_holiday``, and a run could not include those days.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time
from pathlib import Path

import pytest

from workbench import run_backtest
from workbench.data.ingest import ingest
from workbench.data.store import MarketStore
from workbench.engine.config import StrategyConfig
from workbench.engine.strategy import Strategy

pytestmark = pytest.mark.realdata


class Watch(Strategy):
    """Trades nothing: the run only walks the days and their ticks."""

    class Config(StrategyConfig):
        pass

    def on_bar(self, bar):  # type: ignore[no-untyped-def]
        return None


@pytest.fixture(scope="module")
def nifty_2024(real_data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("special") / "nifty"
    report = ingest("ohlc", [real_data_root / "in_index_spot_intraday" / "NIFTY_2024.csv"], out)
    assert report.balanced and report.rows_read == 58_127
    # nothing refused as a holiday; only 2024-01-20's flat after-hours prints (15:31-18:16)
    assert dict(report.rejected_by_reason) == {"outside_session": 166}
    return out


def _times(store: MarketStore, day: date) -> list[time]:
    return [ts.time() for ts in store.read_spot("NIFTY", day).column("ts").to_pylist()]


def test_weekend_sessions_are_kept_with_their_hours(nifty_2024: Path) -> None:
    with MarketStore(nifty_2024) as store:
        assert {date(2024, 1, 20), date(2024, 3, 2), date(2024, 5, 18)} <= set(store.days("NIFTY"))
        full = _times(store, date(2024, 1, 20))
        assert len(full) == 376 and (full[0], full[-1]) == (time(9, 15), time(15, 30))
        for day in (date(2024, 3, 2), date(2024, 5, 18)):
            bars = _times(store, day)
            assert len(bars) == 105
            first = [t for t in bars if t < time(10, 0)]
            second = [t for t in bars if t >= time(11, 30)]
            assert (first[0], first[-1], len(first)) == (time(9, 15), time(9, 59), 45)
            assert (second[0], second[-1], len(second)) == (time(11, 30), time(12, 29), 60)
            assert len(first) + len(second) == len(bars)  # nothing in the break
        assert store.read_spot("NIFTY", date(2024, 1, 20)).column("close")[0].as_py() == 21715.90


def test_the_engine_runs_the_special_sessions(nifty_2024: Path) -> None:
    result = run_backtest(
        Watch, data=nifty_2024, start="2024-01-18", end="2024-03-04", executor="serial",
        progress=False,
    )  # fmt: skip
    days = {str(r["date"])[:10]: r for r in result.days.to_dict("records")}
    assert days["2024-01-20"]["status"] == "ok" and days["2024-01-20"]["ticks"] == 376
    assert days["2024-03-02"]["status"] == "ok" and days["2024-03-02"]["ticks"] == 105
    assert "2024-01-22" not in days  # the holiday declared for the Ayodhya ceremony
    assert not result.failed_days


def test_the_budget_session_of_2020_and_muhurat_days_in_daily_files(
    real_data_root: Path, tmp_path: Path
) -> None:
    folder = real_data_root / "in_index_spot_intraday"
    bnf = tmp_path / "bnf"
    report = ingest("ohlc", [folder / "BankNifty_2018_to_2023.csv"], bnf)
    assert "exchange_holiday" not in report.rejected_by_reason
    with MarketStore(bnf) as store:
        budget = store.read_spot("BANKNIFTY", date(2020, 2, 1)).column("ts").to_pylist()
    assert len(budget) == 25 and budget[0] == datetime(2020, 2, 1, 9, 15)

    daily = tmp_path / "daily"
    report = ingest(
        "ohlc", [real_data_root / "in_index_vix_daily" / "nifty50_daily_2007_2026.csv"], daily
    )
    reasons = Counter(report.rejected_by_reason)
    assert reasons["exchange_holiday"] == 0
    with MarketStore(daily) as store:
        # a daily bar is stamped at its session's close: the Muhurat hour's
        for day, close in ((date(2021, 11, 4), time(19, 15)), (date(2024, 11, 1), time(19, 0))):
            (bar,) = store.read_spot("NIFTY", day).to_pylist()
            assert bar["ts"] == datetime.combine(day, close)


def test_a_missing_special_session_is_no_gap(tmp_path: Path) -> None:
    """Vendors and the synthetic market often omit special sessions: a run over a dataset
    without 2024-01-20 does not report it as a trading day without data."""
    from workbench.data.synth import generate

    synth = tmp_path / "synth"
    generate("nifty-intraday", synth, seed=2, start="2024-01-18", days=3, progress=False, workers=1)
    result = run_backtest(
        Watch, data=synth, start="2024-01-18", end="2024-01-23", executor="serial", progress=False
    )
    days = {str(r["date"])[:10]: r["status"] for r in result.days.to_dict("records")}
    assert days == {"2024-01-18": "ok", "2024-01-19": "ok", "2024-01-23": "ok"}
