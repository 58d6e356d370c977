"""``analyse`` end to end on hand-built runs: consistency with the fills, JSON output, zero-trade
and one-day runs, saved run folders, VIX breakdowns, bad parameters."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from analytics_builders import FakeResult, make_run

from workbench.analytics import analyse, load_run, metrics_dict
from workbench.analytics.inputs import AnalyticsInputError


def test_numbers_agree_with_the_fills(run60: FakeResult) -> None:
    a = analyse(run60, capital=1_000_000, mc_paths=200)
    tb = run60.tradebook
    assert a.metrics["net_pnl"] == pytest.approx(tb["cash"].sum())
    assert a.costs["fees"] == pytest.approx(tb["fees"].sum())
    # the builder sells 0.5 below the mid and buys 0.5 above it: 0.5 x units of every fill
    straddle_fills = tb[tb["trade_id"] != "pos-1"]
    assert a.costs["slippage_vs_mid"] == pytest.approx(0.5 * straddle_fills["units"].sum())
    assert a.costs["gross_pnl_at_mid"] == pytest.approx(
        a.metrics["net_pnl"] + a.costs["total_costs"]
    )
    assert a.trade_metrics["trades"] == 61  # 60 straddles and one positional trade
    assert a.trades["pnl"].sum() == pytest.approx(tb["cash"].sum())
    assert a.metrics["trading_days"] == 60
    assert a.metrics["total_return"] == pytest.approx(a.metrics["net_pnl"] / 1_000_000)
    sens = a.cost_sensitivity.set_index("multiplier")
    assert sens.loc[1.0, "net_pnl"] == pytest.approx(a.metrics["net_pnl"])
    assert sens.loc[0.0, "net_pnl"] == pytest.approx(a.costs["gross_pnl_at_mid"])
    exits = a.breakdowns["exit_reason"]
    assert exits["count"].sum() == 61 and exits["pnl"].sum() == pytest.approx(tb["cash"].sum())
    assert set(a.monte_carlo) == {
        "daily_bootstrap",
        "daily_shuffle",
        "daily_parametric",
        "trades_bootstrap",
        "trades_shuffle",
    }
    assert a.worst_drawdowns["drawdown_pct"].iloc[0] == pytest.approx(a.metrics["max_drawdown_pct"])
    assert a.capital_base == "fixed"  # margin is zero on days with intraday PnL


def test_returns_match_capital_base_and_sharpe_matches_hand_formula(run60: FakeResult) -> None:
    a = analyse(run60, capital=500_000, mc_paths=50, periods_per_year=252)
    eq = run60.daily["equity"].to_numpy()
    before = 500_000 + np.concatenate([[0.0], eq[:-1]])
    r = run60.daily["pnl"].to_numpy() / before
    assert np.allclose(a.returns.to_numpy(), r)
    # one Sharpe everywhere (workbench.engine.metrics): of the daily PnL, so the tearsheet,
    # metrics.json and the index agree whatever the base (it used to be of the compounded
    # returns here and of the PnL in metrics.json: 3.71 beside 3.657)
    pnl = run60.daily["pnl"].to_numpy()
    assert a.metrics["sharpe"] == pytest.approx(pnl.mean() / pnl.std(ddof=1) * math.sqrt(252))
    assert a.metrics["cagr"] == pytest.approx((eq[-1] / 500_000 + 1) ** (252 / 60) - 1)


def test_metrics_json_is_strict_json(run60: FakeResult) -> None:
    a = analyse(run60, capital=1_000_000, mc_paths=50)
    data = metrics_dict(a)
    text = json.dumps(data, allow_nan=False)
    back = json.loads(text)
    assert back["metrics"]["start"] == "2024-01-01"
    assert back["metrics"]["avg_down_month"] is None or isinstance(
        back["metrics"]["avg_down_month"], float
    )
    assert back["capital_base"] == "fixed"
    assert back["monte_carlo"]["daily_shuffle"]["n_paths"] == 50
    assert isinstance(back["worst_drawdowns"], list)


def test_zero_trade_run_is_valid(zero_trade_run: FakeResult) -> None:
    a = analyse(zero_trade_run, capital=100_000, mc_paths=20)
    assert a.trades.empty and a.trade_metrics["trades"] == 0
    assert a.metrics["net_pnl"] == 0 and a.metrics["max_drawdown_pct"] == 0.0
    assert math.isnan(a.metrics["sharpe"])
    assert "no trades in this run" in a.notes
    json.dumps(metrics_dict(a), allow_nan=False)


def test_one_day_run_is_valid(one_day_run: FakeResult) -> None:
    a = analyse(one_day_run, capital=100_000, mc_paths=20)
    assert a.metrics["trading_days"] == 1
    assert a.monte_carlo == {}
    assert any("Monte Carlo skipped" in n for n in a.notes)
    assert math.isnan(a.metrics["sharpe"])
    json.dumps(metrics_dict(a), allow_nan=False)


def test_empty_daily_path_is_valid() -> None:
    empty = FakeResult(pd.DataFrame(), pd.DataFrame(), {})
    a = analyse(empty, capital=1.0)
    assert a.metrics["trading_days"] == 0
    json.dumps(metrics_dict(a), allow_nan=False)


def test_vix_breakdowns(run60: FakeResult) -> None:
    days = pd.to_datetime(run60.daily["date"])
    vix = pd.Series(np.where(np.arange(len(days)) < 30, 12.0, 30.0), index=days)
    a = analyse(run60, capital=1_000_000, vix=vix, mc_paths=20)
    regimes = a.breakdowns["vix_regime_days"]
    assert list(regimes.index) == ["<15", "25-35"]
    # a day is labelled by the previous close: the first day has none and is left out
    assert regimes.loc["<15", "count"] == 30
    assert regimes["pnl"].sum() == pytest.approx(run60.daily["pnl"].iloc[1:].sum())
    assert a.breakdowns["vix_regime_trades"]["count"].sum() == 60


def test_saved_run_folder_round_trip(tmp_path, run60: FakeResult) -> None:  # type: ignore[no-untyped-def]
    run60.tradebook.to_parquet(tmp_path / "tradebook.parquet")
    run60.daily.to_csv(tmp_path / "daily.csv", index=False)
    (tmp_path / "manifest.json").write_text(json.dumps(run60.manifest))
    (tmp_path / "metrics.json").write_text(json.dumps({"sharpe": 1.0}))
    run = load_run(tmp_path)
    assert run.saved_metrics == {"sharpe": 1.0}
    from_folder = analyse(tmp_path, capital=1_000_000, mc_paths=20)
    direct = analyse(run60, capital=1_000_000, mc_paths=20)
    assert from_folder.metrics["sharpe"] == pytest.approx(direct.metrics["sharpe"])
    assert from_folder.trade_metrics == direct.trade_metrics
    (tmp_path / "daily.csv").unlink()
    with pytest.raises(FileNotFoundError, match=r"daily\.csv is missing"):
        load_run(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_run(tmp_path / "nope")


def test_bad_arguments_are_named(run60: FakeResult) -> None:
    with pytest.raises(ValueError, match="capital"):
        analyse(run60, capital=0)
    with pytest.raises(ValueError, match="periods_per_year"):
        analyse(run60, capital=1.0, periods_per_year=0)
    with pytest.raises(AnalyticsInputError, match="no attribute 'tradebook'"):
        analyse(object(), capital=1.0)
    with pytest.raises(ValueError, match="capital_base"):
        analyse(run60, capital=1.0, capital_base="equity")  # type: ignore[arg-type]


def test_margin_base_when_the_margin_covers_every_pnl_day() -> None:
    run = make_run(20, positional=False)
    daily = run.daily.copy()
    daily["margin"] = 200_000.0
    a = analyse(FakeResult(run.tradebook, daily, {}), capital=1_000_000, mc_paths=20)
    assert a.capital_base == "margin" and a.base_amount == 200_000.0
    before = 200_000.0 + np.concatenate([[0.0], daily["equity"].to_numpy()[:-1]])
    assert np.allclose(a.returns.to_numpy(), daily["pnl"].to_numpy() / before)
    assert a.metrics["total_return"] == pytest.approx(daily["pnl"].sum() / 200_000.0)


def test_currency_and_title_come_from_manifest_or_instrument(run60: FakeResult) -> None:
    from workbench.analytics.tearsheet import run_title

    a = analyse(run60, capital=1_000_000, mc_paths=20)
    assert a.currency == "INR"  # NIFTY's instrument spec
    b = analyse(
        FakeResult(run60.tradebook, run60.daily, {"currency": "USD"}), capital=1.0, mc_paths=20
    )
    assert b.currency == "USD"
    assert (
        run_title({"strategy": {"name": "straddle", "version": "2"}, "run_id": "abc"})
        == "straddle v2 · abc"
    )
    assert run_title({"template": {"name": "t", "version": 1}, "strategy": {"name": "s"}}) == "t v1"
    assert run_title({}) == "Backtest"


def test_a_ruined_account_is_reported_not_raised(run60: FakeResult) -> None:
    losing = run60.daily.copy()
    losing[["pnl", "equity"]] = -losing[["pnl", "equity"]]  # the mirror image loses ~60k
    a = analyse(FakeResult(pd.DataFrame(), losing, {}), capital=10_000.0, mc_paths=50)
    assert any("account value reached zero" in n for n in a.notes)
    assert a.returns.isna().any()
    assert a.metrics["max_drawdown_pct"] <= -1.0
    assert a.monte_carlo["daily_bootstrap"].prob_ruin > 0
    json.dumps(metrics_dict(a), allow_nan=False)


def test_frames_can_be_passed_separately(run60: FakeResult) -> None:
    a = analyse(run60.tradebook, run60.daily, run60.manifest, capital=1_000_000, mc_paths=20)
    b = analyse(run60, capital=1_000_000, mc_paths=20)
    assert a.metrics == b.metrics or json.dumps(metrics_dict(a)["metrics"]) == json.dumps(
        metrics_dict(b)["metrics"]
    )
    with pytest.raises(ValueError, match="without daily"):
        analyse(run60.tradebook, manifest={}, capital=1.0)


def test_skipped_days_are_summarised_by_reason(zero_trade_run: FakeResult) -> None:
    a = analyse(zero_trade_run, capital=1.0, mc_paths=20)
    assert "5 of 5 days skipped: no entry (5)" in a.notes


def test_vix_as_an_ohlc_frame_and_bad_vix(run60: FakeResult) -> None:
    days = pd.to_datetime(run60.daily["date"])
    frame = pd.DataFrame({"ts": days + pd.Timedelta(hours=16), "close": 30.0})
    a = analyse(run60, capital=1_000_000, vix=frame, mc_paths=20)
    assert list(a.breakdowns["vix_regime_days"].index) == ["25-35"]
    with pytest.raises(ValueError, match="'close' column"):
        analyse(run60, capital=1_000_000, vix=frame.rename(columns={"close": "last"}), mc_paths=20)
    with pytest.raises(ValueError, match="numbers indexed by date"):
        analyse(run60, capital=1_000_000, vix=pd.Series(["x"], index=[days.iloc[0]]), mc_paths=20)
