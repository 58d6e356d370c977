"""A run on damaged data says so: its manifest records the dataset's file check, and a day whose
file fails its page checksums fails naming the file instead of trading on a wrong price."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from test_verify import flip_silently

from workbench import run_backtest
from workbench.data.layout import options_path, spot_path
from workbench.engine.pool import close_stores, series_lru

STRATEGY = "workbench.strategies.short_straddle:IntradayShortStraddle"


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from workbench.data.synth import generate

    out = tmp_path_factory.mktemp("verify-runs") / "clean"
    generate("nifty-intraday", out, seed=4, start="2024-01-02", days=2, progress=False, workers=1)
    return out


def _copy(clean: Path, tmp_path: Path) -> Path:
    # a fresh process's view: stores are pooled per path, aligned series per content version
    # (a damaged copy has the clean one's version), so both pools are emptied
    close_stores()
    series_lru().clear()
    data = tmp_path / "data"
    shutil.copytree(clean, data)
    return data


def _run(data: Path):  # type: ignore[no-untyped-def]
    return run_backtest(STRATEGY, data=data, executor="serial", progress=False)


def test_a_clean_run_records_its_check(clean: Path, tmp_path: Path) -> None:
    result = _run(_copy(clean, tmp_path))
    check = result.manifest["dataset"]["verification"]
    assert check == {"checked": 4, "status": "ok", "problems": []}
    assert not result.failed_days


def test_a_changed_file_is_recorded_in_the_manifest(clean: Path, tmp_path: Path) -> None:
    data = _copy(clean, tmp_path)
    day = date(2024, 1, 3)
    path = options_path(data, "NIFTY", day)
    pq.write_table(pq.read_table(path).slice(0, 1000), path)
    result = _run(data)
    check = result.manifest["dataset"]["verification"]
    assert check["status"] == "failed" and len(check["problems"]) == 1
    assert str(path) in check["problems"][0]
    assert any("fails verification" in w for w in result.manifest["run_warnings"])
    # the day that reads the file fails, naming it; the clean day runs
    [(failed_day, error)] = result.failed_days
    assert failed_day.startswith(day.isoformat()) and "CorruptFileError" in error
    assert str(path) in error


def test_flipped_bits_fail_the_day_instead_of_trading_on_them(clean: Path, tmp_path: Path) -> None:
    data = _copy(clean, tmp_path)
    day = date(2024, 1, 2)
    # a spot close that still decodes, to another number (before the fix the run succeeded
    # with the same run id and content version as on the clean data)
    flip_silently(spot_path(data, "NIFTY", day))
    result = _run(data)
    # same size and footer: the up-front check passes, the page checksums do not
    assert result.manifest["dataset"]["verification"]["status"] == "ok"
    days = {str(r["date"])[:10]: r for r in result.days.to_dict("records")}
    assert days[day.isoformat()]["status"] == "failed"
    error = days[day.isoformat()]["error"]
    assert "damaged data page" in error and str(spot_path(data, "NIFTY", day)) in error
    assert days["2024-01-03"]["status"] == "ok"


def test_a_removed_file_is_named_in_the_manifest(clean: Path, tmp_path: Path) -> None:
    """The up-front check stats every listed file by its path string: a removed one is named
    exactly as the layout names it."""
    data = _copy(clean, tmp_path)
    path = options_path(data, "NIFTY", date(2024, 1, 3))
    path.unlink()
    check = _run(data).manifest["dataset"]["verification"]
    assert check["status"] == "failed"
    assert check["problems"] == [f"{path}: missing (the catalog lists it)"]
