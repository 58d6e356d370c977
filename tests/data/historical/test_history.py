"""The synthetic historical provider (seed 002 BT-001) on a small hand-made close series.

Independent references: Black-Scholes-Merton written out here with ``math.erf`` (not the
data layer's pricer nor the pricing layer), the registry's expiry calendar read directly, and
byte-level comparison of day files for the look-ahead check.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from workbench.data.catalog import Catalog, UnderlyingSpec
from workbench.data.historical import HistoryConfig, provider_snapshot, synth_history, vol_levels
from workbench.data.historical.listing import kept_expiries
from workbench.data.writer import DatasetWriter
from workbench.model import calendars
from workbench.pricing import bs_price

VIX_SPEC = UnderlyingSpec(
    venue="CBOE", currency="USD", timezone="America/New_York", calendar="XNYS"
)
START, END = date(2020, 1, 2), date(2020, 2, 14)


def _bar(day: date, close: float) -> pa.Table:
    return pa.table(
        {
            "ts": pa.array([datetime.combine(day, datetime.min.time()) + timedelta(hours=16)],
                           pa.timestamp("us")),
            "open": [close], "high": [close], "low": [close], "close": [close],
            "volume": pa.array([0], pa.int64()),
        }
    )  # fmt: skip


def make_source(
    root: Path, vix: dict[date, float] | None = None, skip_vix: tuple[date, ...] = ()
) -> tuple[list[date], dict[date, float], dict[date, float]]:
    days = calendars.trading_days("SPX", START, END)
    spx = {d: 3200.0 * math.exp(0.004 * math.sin(i) - 0.002 * i) for i, d in enumerate(days)}
    vix = vix or {d: 14.0 + 0.5 * i for i, d in enumerate(days)}
    writer = DatasetWriter(
        root, name="src", venue="CBOE", timezone="America/New_York", bar_interval="1d",
        source="test", underlying_specs={"VIX": VIX_SPEC},
    )  # fmt: skip
    for d in days:
        writer.write_spot("SPX", d, _bar(d, round(spx[d], 2)))
        if d not in skip_vix:
            writer.write_spot("VIX", d, _bar(d, vix[d]))
    writer.finalize()
    return days, {d: round(v, 2) for d, v in spx.items()}, vix


CONFIG = {
    "underlying": "SPX",
    "vol": {"kind": "index", "series": "VIX", "scale": 0.9},
    "smile": {"put_skew": 0.08, "call_skew": -0.02, "term_exponent": 0.05},
    "rate": {"kind": "steps", "steps": [["2020-01-01", 0.015], ["2020-01-30", 0.01]]},
    "dividend": {"kind": "fixed", "value": 0.018},
    "quotes": {"rel_spread": 0.02, "min_ticks": 2, "stress_spread": 0.01},
}


def _ncdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _bs_put(s: float, k: float, t: float, r: float, q: float, v: float) -> float:
    d1 = (math.log(s / k) + (r - q + 0.5 * v * v) * t) / (v * math.sqrt(t))
    d2 = d1 - v * math.sqrt(t)
    return k * math.exp(-r * t) * _ncdf(-d2) - s * math.exp(-q * t) * _ncdf(-d1)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[date], dict, dict]:
    base = tmp_path_factory.mktemp("hist")
    days, spx, vix = make_source(base / "src")
    synth_history(base / "src", base / "out", HistoryConfig.model_validate(CONFIG), progress=False)
    return base / "src", base / "out", days, spx, vix


def test_one_contract_by_hand(built: tuple) -> None:
    """The 2020-04-17 SPX 3000 put on 2020-01-30: the smile written out by hand, priced with an
    erf Black-Scholes and with the pricing layer; close on the tick, quotes as declared."""
    _, out, _days, spx, vix = built
    day, expiry, strike = date(2020, 1, 30), date(2020, 4, 17), 3000.0
    table = pq.read_table(out / "options" / "SPX" / "2020" / f"{day}.parquet").to_pandas()
    row = table[(table.expiry == expiry) & (table.strike == strike) & (table.right == "P")]
    assert len(row) == 1
    row = row.iloc[0]
    s, r, q = spx[day], 0.01, 0.018  # the rate step of 2020-01-30 is in force that day
    t = (datetime(2020, 4, 17, 9, 30) - datetime(2020, 1, 30, 16, 0)).total_seconds() / (
        365 * 86400
    )
    level = 0.9 * vix[day] / 100
    x = math.log(strike / (s * math.exp((r - q) * t)))
    tr = t / (30 / 365)
    vol = level * tr**0.05 + 0.08 * max(-x / tr**0.5, 0) / 0.10
    assert row.iv == pytest.approx(vol, rel=1e-12)
    price = _bs_put(s, strike, t, r, q, vol)
    layer = float(bs_price(np.array([s]), np.array([strike]), np.array([t]), np.array([r]),
                           np.array([vol]), np.array([False]), np.array([q]))[0])  # fmt: skip
    assert layer == pytest.approx(price, rel=1e-10)
    assert row.close == pytest.approx(round(price / 0.05) * 0.05, abs=1e-9)
    half = max(0.01 * price, 0.05) + 0.01 * price
    assert row.bid == pytest.approx(math.floor((price - half) / 0.05 + 1e-9) * 0.05, abs=1e-9)
    assert row.ask == pytest.approx(math.ceil((price + half) / 0.05 - 1e-9) * 0.05, abs=1e-9)
    assert row.bid < row.close < row.ask


def test_listing_follows_the_registry(built: tuple) -> None:
    """Every day lists SPX monthlies to beyond 12 months (a 365-day template always finds an
    expiry at or beyond its target), a 90-day expiry, and SPXW Friday weeklies; SPXW never
    repeats an SPX monthly date; each listed expiry is one the registry lists that day."""
    _, out, days, _, _ = built
    for day in days:
        spx = pq.read_table(out / "options" / "SPX" / str(day.year) / f"{day}.parquet")
        spxw = pq.read_table(out / "options" / "SPXW" / str(day.year) / f"{day}.parquet")
        monthly = sorted(set(spx.column("expiry").to_pylist()))
        weekly = sorted(set(spxw.column("expiry").to_pylist()))
        assert max(monthly) >= day + timedelta(days=365)
        assert any(e >= day + timedelta(days=90) for e in monthly if e <= day + timedelta(days=130))
        assert set(monthly) <= set(calendars.listed_expiries("SPX", day))
        assert set(weekly) <= set(calendars.listed_expiries("SPXW", day))
        assert not set(weekly) & set(monthly)
        assert sum(e.weekday() == 4 for e in weekly) >= 3  # 5 Fridays in 35 days less monthlies
        assert all(e > day for e in monthly + weekly)


def test_only_data_as_of_each_day(built: tuple, tmp_path: Path) -> None:
    """Perturb the VIX (and the SPX close) after T: every file up to T is the same bytes."""
    _src, out, days, _spx, vix = built
    cut = days[15]
    changed = {d: (v * 3.0 if d > cut else v) for d, v in vix.items()}
    make_source(tmp_path / "src", vix=changed)
    synth_history(tmp_path / "src", tmp_path / "out", HistoryConfig.model_validate(CONFIG),
                  progress=False)  # fmt: skip
    before = Catalog.load(out).files
    after = Catalog.load(tmp_path / "out").files
    early = [k for k in before if k.rsplit("/", 1)[-1][:10] <= cut.isoformat()]
    late = [k for k in before if k.rsplit("/", 1)[-1][:10] > cut.isoformat() and "/VIX/" not in k]
    assert len(early) > 40
    for key in early:
        assert before[key].sha256 == after[key].sha256, key
    assert any(before[k].sha256 != after[k].sha256 for k in late if k.startswith("options/"))


def test_vol_index_carry_and_gap(tmp_path: Path) -> None:
    days = calendars.trading_days("SPX", START, END)
    closes = {d: 20.0 for d in days if d not in (days[3], days[4])}
    config = HistoryConfig.model_validate(CONFIG)
    levels, carried = vol_levels(config, days, closes)
    assert carried == [days[3], days[4]]
    assert levels[days[4]] == pytest.approx(0.9 * 0.20)
    strict = HistoryConfig.model_validate(
        {**CONFIG, "vol": {"kind": "index", "series": "VIX", "max_carry_days": 1}}
    )
    with pytest.raises(ValueError, match=f"no close on {days[4]}.*max_carry_days = 1"):
        vol_levels(strict, days, closes)
    with pytest.raises(ValueError, match=r"no close on 2020-01-02.*no earlier close"):
        vol_levels(config, days, {d: 20.0 for d in days[1:]})


def test_catalog_source_records_the_whole_config(built: tuple) -> None:
    src, out, days, _, _ = built
    snapshot = provider_snapshot(Catalog.load(out).source)
    assert snapshot is not None
    assert snapshot["provider_id"] == "synthetic_bs_v1"
    assert snapshot["vol"] == {"kind": "index", "series": "VIX", "scale": 0.9, "max_carry_days": 5}
    assert snapshot["smile"]["put_skew"] == 0.08
    assert snapshot["rate"]["steps"] == [["2020-01-01", 0.015], ["2020-01-30", 0.01]]
    assert snapshot["source_dataset"]["content_version"] == Catalog.load(src).content_version
    assert (snapshot["start"], snapshot["end"]) == (str(days[0]), str(days[-1]))
    assert provider_snapshot("ingest ohlc") is None


def test_a_run_on_it_carries_the_config_in_its_manifest(built: tuple) -> None:
    from workbench.engine.runner import run_backtest
    from workbench.strategies.protective_put import ProtectivePut

    _, out, days, _, _ = built
    params = {"underlying": "SPX", "target_expiry_days": 365, "put_strike_pct": 0.9}
    result = run_backtest(ProtectivePut, data=out, start=days[0], end=days[10], params=params)
    assert len(result.tradebook) >= 1
    snap = provider_snapshot(result.manifest["dataset"]["source"])
    assert snap is not None and snap["vol"]["series"] == "VIX"
    expiry = result.tradebook["expiry"].iloc[0]
    assert (expiry - days[0]).days >= 365


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--vol-index", "NOPE"], "has no 'NOPE' series"),
        ([], "give one of --vol, --vol-steps or --vol-index"),
        (["--vol", "0"], "vol.fixed.value: Input should be greater than 0"),
        (["--vol-steps", "2020-02-01:0.2"], "no step in force on 2020-01-02"),
        (["--vol-steps", "2020-01-01"], "is not DATE:VOL"),
        (["--vol", "0.2", "--start", "2020-02-01", "--end", "2020-01-10"], "is before start"),
    ],
)
def test_bad_arguments_one_line_and_nothing_written(
    built: tuple, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    from workbench.cli.main import main

    src = built[0]
    out = tmp_path / "never"
    argv = ["data", "synth-history", "--source", str(src), "--underlying", "SPX",
            "--out", str(out), "--no-progress", *args]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()


def test_refuses_to_replace_another_dataset(built: tuple) -> None:
    src = built[0]
    with pytest.raises(ValueError, match="not a synthetic history; refusing to replace it"):
        synth_history(src, src, HistoryConfig.model_validate(CONFIG), progress=False)


def test_kept_expiries_nifty_has_one_root() -> None:
    from workbench.data.historical.config import Listing

    kept = kept_expiries(("NIFTY",), date(2016, 11, 1), Listing())["NIFTY"]
    assert max(kept) >= date(2017, 11, 1)
    # NIFTY weeklies began in February 2019: none before, though the registry lists them
    assert any(calendars.expiry_kind("NIFTY", e).value == "weekly"
               for e in calendars.listed_expiries("NIFTY", date(2016, 11, 1)))  # fmt: skip
    assert all(calendars.expiry_kind("NIFTY", e).value == "monthly" for e in kept)
    later = kept_expiries(("NIFTY",), date(2019, 3, 1), Listing())["NIFTY"]
    weekly = [e for e in later if calendars.expiry_kind("NIFTY", e).value == "weekly"]
    assert weekly and all(e.weekday() == 3 for e in weekly)
    assert json.dumps([str(d) for d in kept])
