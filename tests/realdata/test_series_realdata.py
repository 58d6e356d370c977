"""Market series inside a run on the real SPX 2019 chains beside the real daily VIX (issue 14).

The expected VIX of each session is read straight from the vendor's CSV
(``us_index_vix_daily_1995_2026/ALL_eod.csv``) with the ``csv`` module: the close of the last
VIX row dated before the session.
"""

from __future__ import annotations

import csv
import json
import math
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from workbench import Strategy, run_backtest
from workbench.engine.config import StrategyConfig

pytestmark = pytest.mark.realdata


def vix_closes(real: Path) -> dict[date, float]:
    out = {}
    with open(real / "us_index_vix_daily_1995_2026" / "ALL_eod.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["root"] == "VIX" and "2019-01-01" <= row["Date"] <= "2019-12-31":
                out[date.fromisoformat(row["Date"])] = float(row["Close"])
    return out


def previous(closes: dict[date, float], day: date) -> tuple[float, date]:
    when = max(d for d in closes if d < day)
    return closes[when], when


LOG: list[tuple[Any, ...]] = []


class VixProbe(Strategy):
    mode = "positional"

    class Config(StrategyConfig):
        underlying: str | None = "SPXW"

    def on_day_start(self, day: Any) -> bool:
        LOG.append(("start", day.date, *day.series("VIX"), day.series("VIX").asof))
        return True

    def on_bar(self, bar: Any) -> None:
        v = bar.series("VIX")
        LOG.append(("bar", bar.date, *v, v.asof))
        LOG.append(("iv", bar.date, bar.atm_iv(), bar.iv_percentile(min_days=10)))


def test_vix_inside_the_run_is_the_previous_close_before_the_first_bar(
    set1: Path, set3_2019: Path, real: Path
) -> None:
    LOG.clear()
    result = run_backtest(VixProbe, data=set1, series=[set3_2019], progress=False)
    closes = vix_closes(real)
    days = [r[1] for r in LOG if r[0] == "start"]
    assert len(days) == 56 and days[0] == date(2019, 4, 25)
    for kind, day, value, lag, asof in (r for r in LOG if r[0] in ("start", "bar")):
        want, when = previous(closes, day)
        assert (value, asof) == (pytest.approx(want, abs=1e-9), when), (kind, day)
        assert lag == 1  # every 2019 session of the set follows a VIX session
    # after the gap of 2019-05-10 (no chain file that day): Monday reads Friday's VIX close
    monday = {r[1]: r for r in LOG if r[0] == "start"}[date(2019, 5, 13)]
    assert monday[2:] == (pytest.approx(closes[date(2019, 5, 10)]), 1, date(2019, 5, 10))
    entry = result.manifest["series"][0]
    assert entry["path"] == str(set3_2019) and "VIX" in entry["series"]
    # the chain's 30-day ATM IV tracks the VIX (a model-free 30-day IV): same level, same moves
    iv = pd.Series({r[1]: r[2] for r in LOG if r[0] == "iv"})
    vix_same_day = pd.Series({d: closes[d] / 100.0 for d in iv.index})
    ratio = iv / vix_same_day
    assert ratio.between(0.6, 1.1).all(), ratio.describe()
    assert iv.corr(vix_same_day) > 0.9
    pct = [r[3] for r in LOG if r[0] == "iv"]
    assert all(math.isnan(p) for p in pct[:10]) and all(0 <= p <= 100 for p in pct[10:])


def test_put_spread_vix_band_refuses_entries_with_their_reason(
    set1: Path, set3_2019: Path, real: Path
) -> None:
    from workbench.research.templates import TemplateRepository

    template = TemplateRepository(Path(__file__).parents[2] / "templates" / "strategies").get(
        "put-credit-spread-spx"
    )
    params = template.resolved_params({"vix_max": 14.0})
    result = run_backtest(
        template.strategy_class(), data=set1, series=[set3_2019], params=params, fill="orats",
        fees="per-contract:0.65", progress=False,
    )  # fmt: skip
    closes = vix_closes(real)
    tb = result.tradebook
    opened = sorted(set(tb[tb["action"] == "open"]["day"]))
    assert opened, "the band leaves some entries"
    for d in opened:
        assert previous(closes, d)[0] <= 14.0, d
    days = result.days.set_index("date")
    refused = [d for d in days.index if "above vix_max 14" in str(days.loc[d, "refusal_messages"])]
    assert refused
    for d in refused:
        level, _ = previous(closes, date.fromisoformat(str(d)))
        assert level > 14.0
        assert f"VIX {level:.4g} above vix_max 14" in days.loc[d, "refusal_messages"]
    # the entries record the VIX the strategy saw
    for _, row in result.entries.iterrows():
        assert row["vix"] == pytest.approx(previous(closes, row["day"].date())[0])


def test_cli_run_with_series_has_the_vix_regimes_and_the_entry_columns(
    set1: Path, set3_2019: Path, real: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from workbench.cli.main import main

    out = tmp_path / "run"
    code = main(
        [
            "run", "put-credit-spread-spx", "--data", str(set1), "--series", str(set3_2019),
            "--set", "iv_percentile_min=0.0", "--set", "iv_min_days=5",
            "--fill", "orats", "--fees", "per-contract:0.65", "--executor", "serial",
            "--no-progress", "--reports", str(tmp_path / "reports"), "--out", str(out),
        ]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    page = (out / "tearsheet.html").read_text()
    assert "PnL by volatility regime: not available" not in page
    assert "PnL by volatility regime" in page
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["vix"]["series"] == "VIX" and manifest["series"][0]["path"] == str(set3_2019)
    trades = pd.read_csv(out / "trades.csv")
    closes = vix_closes(real)
    assert len(trades) >= 2
    for _, t in trades.iterrows():
        day = pd.Timestamp(t["entry_ts"]).date()
        assert t["vix_entry"] == pytest.approx(previous(closes, day)[0])
        assert t["short_strike"] - t["long_strike"] in range(25, 51)  # a put spread's wing
        assert t["theta_entry"] > 0  # a short premium position earns time decay
        assert 0.0 <= t["iv_rank_entry"] <= 100.0 and 0.0 <= t["iv_percentile_entry"] <= 100.0
    log = pd.read_parquet(out / "trades.parquet")
    assert list(log["vix_at_entry"]) == pytest.approx(list(trades["vix_entry"]))
    assert list(log["iv_rank_at_entry"]) == pytest.approx(list(trades["iv_rank_entry"]))
    assert list(log["theta_at_entry"]) == pytest.approx(list(trades["theta_entry"]))
    assert list(log["short_strike"]) == list(trades["short_strike"])
