"""Entry filters (issue 14): a VIX band and IV percentile refuse entry with a recorded reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.engine.engine_builders import D1, D2, D3
from tests.engine.test_engine_series import VIX, write_daily, write_nifty
from workbench import Strategy, run_backtest
from workbench.engine.config import build_config
from workbench.engine.errors import ConfigError
from workbench.strategies.filters import EntryFilterConfig, EntryFilters
from workbench.strategies.put_credit_spread import PutCreditSpread


class FilteredCall(EntryFilters, Strategy):
    """Sells the 21500 call at the first tick the filters allow (intraday: asks every tick)."""

    class Config(EntryFilterConfig):
        underlying: str | None = "NIFTY"

    def on_bar(self, bar: Any) -> None:
        if self.idle and self.entry_allowed(bar):
            self.try_fill([self.add(21500, "C", "SELL")])


@pytest.fixture(scope="module")
def markets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("filters")
    return {"nifty": write_nifty(root / "nifty"), "vix": write_daily(root / "vix", VIX)}


def _run(markets: dict[str, Path], series: bool = True, **params: Any) -> Any:
    return run_backtest(
        FilteredCall, data=markets["nifty"], series=[markets["vix"]] if series else None,
        params=params, executor="serial", progress=False,
    )  # fmt: skip


def test_vix_band_refuses_entry_once_a_day_with_the_reason(markets: dict[str, Path]) -> None:
    # INDIAVIX before D1 = 15.0, before D2 = 16.0, before D3 = 17.0 (previous closes)
    result = _run(markets, vix_min=15.5, vix_max=16.5)
    opened = sorted(set(result.tradebook.loc[result.tradebook["action"] == "open", "day"]))
    assert opened == [D2]
    days = result.days.set_index("date")
    assert (
        days.loc[str(D1), "refusal_messages"]
        == "09:15:00 entry: entry filter: INDIAVIX 15 below vix_min 15.5"
    )
    assert (
        days.loc[str(D3), "refusal_messages"]
        == "09:15:00 entry: entry filter: INDIAVIX 17 above vix_max 16.5"
    )
    # asked at each of the six ticks, recorded once a day
    assert list(days["refused_fills"]) == [1, 0, 1]
    assert days.loc[str(D2), "refused_fills"] == 0


def test_filters_off_by_default_enter_every_day(markets: dict[str, Path]) -> None:
    result = _run(markets, series=False)
    opened = sorted(set(result.tradebook.loc[result.tradebook["action"] == "open", "day"]))
    assert opened == [D1, D2, D3] and int(result.days["refused_fills"].sum()) == 0


def test_vix_band_without_a_vix_series_is_an_error_naming_the_fix(
    markets: dict[str, Path],
) -> None:
    result = _run(markets, series=False, vix_max=20.0)
    failed = result.days[result.days["status"] == "failed"]
    assert len(failed) == 3
    assert "no VIX-like series" in failed["reason"].iloc[0]
    assert "--series DATASET" in failed["reason"].iloc[0]


def test_iv_percentile_unknown_without_history_refuses(markets: dict[str, Path]) -> None:
    result = _run(markets, iv_percentile_min=10, iv_min_days=2, iv_window=5)
    days = result.days.set_index("date")
    assert "IV percentile unknown" in str(days.loc[str(D1), "refusal_messages"])
    assert "IV percentile unknown" in str(days.loc[str(D2), "refusal_messages"])


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"vix_min": 30, "vix_max": 20}, "vix_min: 30.0 is above vix_max 20.0"),
        ({"iv_percentile_min": 150}, "iv_percentile_min"),
        ({"iv_min_days": 300}, "iv_min_days: 300 is more than iv_window 252"),
    ],
)
def test_bad_filter_parameters_are_config_errors(params: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        build_config(PutCreditSpread.Config, params)
