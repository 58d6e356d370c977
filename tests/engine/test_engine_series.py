"""Market series inside the run (issue 14): ``bar.series`` / ``day.series`` as of now.

Hand-made datasets: the three-day NIFTY market of ``engine_builders`` and a daily INDIAVIX
dataset whose closes are written here, so every expected value below is read off the table
by hand, not produced by the code under test.
"""

from __future__ import annotations

import math
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.engine.engine_builders import D1, D2, D3, minute, nifty_options, nifty_spot, spot_table
from workbench import Strategy, run_backtest
from workbench.data.catalog import UnderlyingSpec
from workbench.data.writer import DatasetWriter
from workbench.engine.config import StrategyConfig
from workbench.engine.errors import ConfigError
from workbench.engine.market_series import UnknownSeriesError

INDIA = UnderlyingSpec(venue="NSE", currency="INR", timezone="Asia/Kolkata", calendar="XBOM")
#: INDIAVIX closes by day (2024-01-01 is a Monday and an NSE trading day)
VIX = {
    date(2023, 12, 28): 14.0,
    date(2023, 12, 29): 14.5,
    date(2024, 1, 1): 15.0,
    D1: 16.0,
    D2: 17.0,
    D3: 18.0,
}


def write_daily(root: Path, closes: dict[date, float], name: str = "INDIAVIX") -> Path:
    """A daily (``1d``) dataset holding one spot series with these closes at 15:30."""
    with DatasetWriter(
        root, name=root.name, venue="NSE", timezone="Asia/Kolkata", bar_interval="1d",
        source="hand-made daily series", underlying_specs={name: INDIA},
    ) as w:  # fmt: skip
        for d, c in closes.items():
            w.write_spot(name, d, spot_table(d, [("15:30", c, c)]))
    return root


def write_nifty(root: Path, minute_vix: dict[date, list[tuple[str, float]]] | None = None) -> Path:
    """The hand-made NIFTY market; with ``minute_vix``, an INDIAVIX minute series beside it."""
    from tests.engine.engine_builders import option_table

    with DatasetWriter(
        root, name=root.name, venue="NSE", timezone="Asia/Kolkata", bar_interval="1min",
        source="hand-made test data",
        underlying_specs={"INDIAVIX": INDIA} if minute_vix else None,
    ) as w:  # fmt: skip
        for d, bars in nifty_spot().items():
            w.write_spot("NIFTY", d, spot_table(d, bars))
        for d, rows in nifty_options().items():
            w.write_options("NIFTY", d, option_table(d, rows))
        for d, vbars in (minute_vix or {}).items():
            w.write_spot("INDIAVIX", d, spot_table(d, [(t, c, c) for t, c in vbars]))
    return root


LOG: list[tuple[Any, ...]] = []


class SeriesProbe(Strategy):
    """Reads INDIAVIX in every hook and sells the 21500 call when the level is above
    ``threshold`` (so a decision depends on the series)."""

    class Config(StrategyConfig):
        threshold: float = 0.0
        underlying: str | None = "NIFTY"

    def on_day_start(self, day: Any) -> bool:
        v = day.series("INDIAVIX")
        LOG.append(("start", day.date, *v, v.asof, v.unit))
        return True

    def on_bar(self, bar: Any) -> None:
        v = bar.series("indiavix")  # any case
        LOG.append(("bar", bar.ts, *v, v.asof, v.unit))
        if self.idle and bar.tick == 1 and v[0] > self.config.threshold:  # NaN: never
            self.try_fill([self.add(21500, "C", "SELL")])

    def exit_check(self, bar: Any) -> str | None:
        v = bar.series("INDIAVIX")
        LOG.append(("exit_check", bar.ts, *v, v.asof, v.unit))
        return None

    def on_day_end(self, day: Any) -> None:
        v = day.series("INDIAVIX")
        LOG.append(("end", day.date, *v, v.asof, v.unit))


def _run(data: Path, series: list[Path] | None, mode: str = "intraday", **params: Any) -> Any:
    LOG.clear()
    return run_backtest(
        SeriesProbe, data=data, series=series, mode=mode, params=params or None,  # type: ignore[arg-type]
        executor="serial", progress=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def markets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("series")
    return {
        "nifty": write_nifty(root / "nifty"),
        "vix": write_daily(root / "vix", VIX),
        # no close on D1: on D2 the level is the close of 2024-01-01, two sessions old
        "vix_gap": write_daily(root / "vix-gap", {k: v for k, v in VIX.items() if k != D1}),
    }


@pytest.mark.parametrize("mode", ["intraday", "positional"])
def test_daily_series_is_the_previous_close_in_every_hook(
    markets: dict[str, Path], mode: str
) -> None:
    _run(markets["nifty"], [markets["vix"]], mode)
    expected = {D1: (15.0, date(2024, 1, 1)), D2: (16.0, D1), D3: (17.0, D2)}
    seen_days = set()
    for kind, when, value, lag, asof, unit in LOG:
        day = when if isinstance(when, date) and not isinstance(when, datetime) else when.date()
        seen_days.add(day)
        assert (value, lag, asof, unit) == (expected[day][0], 1, expected[day][1], "days"), (
            kind,
            when,
        )
    assert seen_days == {D1, D2, D3}
    kinds = {row[0] for row in LOG}
    assert {"start", "bar", "end"} <= kinds
    if mode == "positional":
        assert "exit_check" in kinds  # a position was open across the hooks


def test_lag_counts_sessions_since_the_close(markets: dict[str, Path]) -> None:
    _run(markets["nifty"], [markets["vix_gap"]])
    by_day = {row[1]: row[2:] for row in LOG if row[0] == "start"}
    assert by_day[D1] == (15.0, 1, date(2024, 1, 1), "days")
    assert by_day[D2] == (15.0, 2, date(2024, 1, 1), "days")  # D1's close is missing
    assert by_day[D3] == (17.0, 1, D2, "days")


def test_a_series_before_its_first_close_is_nan_with_no_lag(tmp_path: Path) -> None:
    nifty = write_nifty(tmp_path / "n")
    vix = write_daily(tmp_path / "v", {D2: 20.0, D3: 21.0})
    _run(nifty, [vix])
    starts = {row[1]: row[2:4] for row in LOG if row[0] == "start"}
    assert math.isnan(starts[D1][0]) and starts[D1][1] is None
    assert math.isnan(starts[D2][0]) and starts[D2][1] is None  # D2's close only after D2
    assert starts[D3] == (20.0, 1)


def test_intraday_series_follows_the_bar_visibility_rule(tmp_path: Path) -> None:
    # INDIAVIX minute bars on D1 at 09:15 and 09:18, on D2 from 09:17; the clock is NIFTY's
    # 09:15..09:20 bars
    data = write_nifty(
        tmp_path / "n",
        {D1: [("09:15", 13.0), ("09:18", 13.5)], D2: [("09:17", 14.0), ("09:19", 14.25)]},
    )
    _run(data, None)
    bars = [row for row in LOG if row[0] == "bar"]
    got = {row[1]: row[2:] for row in bars}
    m = minute
    assert got[m(D1, "09:15")] == (13.0, 0, m(D1, "09:15"), "ticks")
    assert got[m(D1, "09:17")] == (13.0, 2, m(D1, "09:15"), "ticks")
    assert got[m(D1, "09:18")] == (13.5, 0, m(D1, "09:18"), "ticks")
    assert got[m(D1, "09:20")] == (13.5, 2, m(D1, "09:18"), "ticks")
    # before the series' first bar of D2: D1's last close, one session old
    assert got[m(D2, "09:15")] == (13.5, 1, D1, "days")
    assert got[m(D2, "09:16")] == (13.5, 1, D1, "days")
    assert got[m(D2, "09:17")] == (14.0, 0, m(D2, "09:17"), "ticks")
    assert got[m(D2, "09:20")] == (14.25, 1, m(D2, "09:19"), "ticks")
    # no minute bars on D3: the previous close all day
    assert got[m(D3, "09:15")] == (14.25, 1, D2, "days")
    starts = {row[1]: row[2:] for row in LOG if row[0] == "start"}
    assert starts[D2] == (13.5, 1, D1, "days")  # never a bar of the new day before it opens


def test_unknown_series_names_the_series_and_the_datasets(markets: dict[str, Path]) -> None:
    class Asks(Strategy):
        class Config(SeriesProbe.Config):
            pass

        def on_day_start(self, day: Any) -> bool:
            day.series("VIX9D")
            return True

    with pytest.raises(Exception) as info:
        run_backtest(
            Asks, data=markets["nifty"], series=[markets["vix"]], mode="positional",
            executor="serial", progress=False,
        )  # fmt: skip
    text = str(info.value)
    assert "VIX9D" in text and str(markets["nifty"]) in text and str(markets["vix"]) in text
    assert isinstance(info.value.__cause__, UnknownSeriesError)


def test_bad_series_dataset_is_a_config_error(markets: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="series") as info:
        run_backtest(SeriesProbe, data=markets["nifty"], series=[tmp_path / "nope"], progress=False)
    assert "nope" in str(info.value)


def test_manifest_records_the_extra_datasets_and_the_run_id_depends_on_them(
    markets: dict[str, Path],
) -> None:
    import json

    a = _run(markets["nifty"], [markets["vix"]])
    b = _run(markets["nifty"], [markets["vix_gap"]])
    catalog = json.loads((markets["vix"] / "catalog.json").read_text())
    (entry,) = a.manifest["series"]
    assert entry["path"] == str(markets["vix"].resolve())
    assert entry["content_version"] == catalog["content_version"]
    assert entry["series"] == ["INDIAVIX"] and entry["bar_interval"] == "1d"
    assert a.run_id != b.run_id
    assert _run(markets["nifty"], [markets["vix"]]).run_id == a.run_id


def test_entries_record_the_vix_the_strategy_saw(markets: dict[str, Path]) -> None:
    result = _run(markets["nifty"], [markets["vix"]])
    entries = result.entries
    assert len(entries) == 3  # one short call a day at the second tick
    assert list(entries["vix_series"]) == ["INDIAVIX"] * 3
    assert list(entries["vix"]) == [15.0, 16.0, 17.0]
    assert list(entries["vix_lag"]) == [1, 1, 1]
    opens = result.tradebook[result.tradebook["action"] == "open"]
    assert list(entries["trade_ids"]) == list(opens["trade_id"])


# -- no look-ahead: perturb the series after day D ---------------------------------------------
def _decisions(nifty: Path, vix: Path, threshold: float) -> tuple[list[Any], Any]:
    result = _run(nifty, [vix], "intraday", threshold=threshold)
    return list(LOG), result


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    cut=st.sampled_from([date(2023, 12, 29), date(2024, 1, 1), D1, D2, D3]),
    factor=st.sampled_from([0.5, 2.0, 10.0]),
)
def test_perturbing_the_series_after_a_day_changes_nothing_on_or_before_it(
    markets: dict[str, Path], cut: date, factor: float
) -> None:
    # threshold between the closes: the decision to sell on a day depends on the level
    threshold = 15.5
    base_log, base = _decisions(markets["nifty"], markets["vix"], threshold)
    with tempfile.TemporaryDirectory() as folder:
        moved = {d: (c * factor if d > cut else c) for d, c in VIX.items()}
        other = write_daily(Path(folder) / "vix", moved)
        log, result = _decisions(markets["nifty"], other, threshold)

    def upto(rows: list[Any]) -> list[Any]:
        out = []
        for row in rows:
            when = row[1]
            day = when if not isinstance(when, datetime) else when.date()
            # a daily close of day D is visible from D + 1 on: everything up to cut + 1 session
            if day <= cut or (day in (D1, D2, D3) and _prev_session(day) <= cut):
                out.append(row)
        return out

    assert upto(log) == upto(base_log)
    tb, tb0 = result.tradebook, base.tradebook
    keep = [d for d in (D1, D2, D3) if _prev_session(d) <= cut]
    cols = ["day", "ts", "strike", "right", "side", "price", "action"]
    assert (
        tb[tb["day"].isin(keep)][cols]
        .reset_index(drop=True)
        .equals(tb0[tb0["day"].isin(keep)][cols].reset_index(drop=True))
    )
    # the test can fail: a perturbation before a day's open reaches that day's values
    later = [row for row in log if row[0] == "start" and _prev_session(row[1]) > cut]
    assert all(row[2] == pytest.approx(VIX[_prev_session(row[1])] * factor) for row in later)


def _prev_session(d: date) -> date:
    days = sorted(VIX)
    return max(x for x in days if x < d)


def test_series_spec_field_validates(tmp_path: Path, markets: dict[str, Path]) -> None:
    from workbench.engine.spec import RunSpec

    spec = RunSpec(data=markets["nifty"], series=str(markets["vix"]))
    assert spec.series == (markets["vix"].resolve(),)
    assert spec.describe()["series"] == [str(markets["vix"].resolve())]
    with pytest.raises(ConfigError, match=r"series.*not a dataset folder"):
        RunSpec(data=markets["nifty"], series=[tmp_path])
    assert pa is not None  # pyarrow used by the builders


MINUTE_VIX = {
    D1: [("09:15", 13.0), ("09:16", 13.2), ("09:18", 13.5), ("09:20", 13.1)],
    D2: [("09:17", 14.0), ("09:19", 14.25)],
    D3: [("09:15", 15.0), ("09:16", 15.5), ("09:17", 15.25), ("09:18", 15.75)],
}


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    day=st.sampled_from([D1, D2, D3]),
    cut=st.sampled_from(["09:15", "09:16", "09:17", "09:18", "09:19", "09:20"]),
)
def test_perturbing_minute_bars_after_a_time_changes_nothing_before_it(day: date, cut: str) -> None:
    """An intraday series: scale every bar at or after ``cut`` on ``day`` (and all later days);
    every value read before ``cut`` that day (and earlier days) is unchanged."""
    at = minute(day, cut)

    def moved() -> dict[date, list[tuple[str, float]]]:
        return {
            d: [(t, c * 3.0 if minute(d, t) >= at else c) for t, c in bars]
            for d, bars in MINUTE_VIX.items()
        }

    with tempfile.TemporaryDirectory() as folder:
        _run(write_nifty(Path(folder) / "a", MINUTE_VIX), None, "positional")
        base = list(LOG)
        _run(write_nifty(Path(folder) / "b", moved()), None, "positional")
        log = list(LOG)

    def before(rows: list[Any]) -> list[Any]:
        out = []
        for row in rows:
            when = row[1]
            stamp = (
                when if isinstance(when, datetime) else datetime.combine(when, datetime.min.time())
            )
            if stamp < at:
                out.append(row)
        return out

    assert before(log) == before(base)
    # and the perturbation is seen from ``cut`` on when a bar is there
    hit = [r for r in log if r[0] == "bar" and r[1] == at and r[5] == "ticks" and r[3] == 0]
    assert all(r[2] == pytest.approx(dict(MINUTE_VIX[day])[cut] * 3.0) for r in hit)


def test_the_first_session_of_a_year_reads_the_close_of_the_year_before(tmp_path: Path) -> None:
    # closes are read a calendar year at a time: no 2024 close before D1 -> 2023's last one
    nifty = write_nifty(tmp_path / "n")
    vix = write_daily(tmp_path / "v", {k: v for k, v in VIX.items() if k != date(2024, 1, 1)})
    _run(nifty, [vix])
    starts = {row[1]: row[2:] for row in LOG if row[0] == "start"}
    # 2024-01-01 and 2024-01-02 are NSE sessions: the close of 2023-12-29 is two sessions old
    assert starts[D1] == (14.5, 2, date(2023, 12, 29), "days")
    assert starts[D2] == (16.0, 1, D1, "days")
