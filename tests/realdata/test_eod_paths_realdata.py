"""The every-entry template on the real SPX 2019 set (issue 13): the end-of-day columnar path
and the per-instrument reference path give exactly the same trades, daily path and metrics."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import workbench.engine.runner as runner
from workbench import run_backtest
from workbench.analytics.study import study_trades
from workbench.research.templates import TemplateRepository

pytestmark = pytest.mark.realdata


def test_every_entry_template_equals_the_slow_path(
    set1: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from workbench.data.eod_cache import ENV
    from workbench.engine.eod import ReadAhead

    template = TemplateRepository().get("every-entry-put-spread")
    # the columnar path twice with a fresh column cache (built, then read from it)
    monkeypatch.setenv(ENV, str(tmp_path / "eod-cache"))
    served: list[int] = []
    close = ReadAhead.close

    def spy(self: ReadAhead) -> None:
        served.append(self.cached_days)
        close(self)

    monkeypatch.setattr(ReadAhead, "close", spy)
    results = {}
    for name, columnar in (("building", True), ("cached", True), ("slow", False)):
        monkeypatch.setattr(runner, "COLUMNAR_EOD", columnar)
        results[name] = run_backtest(
            template.strategy, data=set1, params=template.params, fill="orats",
            fees="per-contract:0.65", progress=False,
        )  # fmt: skip
    # every day of the set from the cache: 58 files less the two holiday files (MANIFEST.md)
    assert served[1] == 56
    fast, slow = results["building"], results["slow"]
    cached = results["cached"]
    pd.testing.assert_frame_equal(cached.tradebook, slow.tradebook, check_exact=True)
    pd.testing.assert_frame_equal(cached.daily, slow.daily, check_exact=True)
    trades = study_trades(fast)
    assert len(trades) > 150  # every day x every 7-45 DTE SPXW expiry
    pd.testing.assert_frame_equal(trades, study_trades(slow), check_exact=True)
    pd.testing.assert_frame_equal(fast.tradebook, slow.tradebook, check_exact=True)
    pd.testing.assert_frame_equal(fast.daily, slow.daily, check_exact=True)
    assert fast.metrics == slow.metrics
    # expiries on the set's missing days (05-10, 05-17, 06-14 Fridays, 06-17 Monday) settle on
    # their own date at the previous close, on both paths
    settled = fast.tradebook[fast.tradebook["fill_model"] == "settle/last-spot"]
    missing = {"2019-05-10", "2019-05-17", "2019-06-14", "2019-06-17", "2019-06-18"}
    assert settled.shape[0] > 0 and {str(d) for d in settled["day"]} <= missing
