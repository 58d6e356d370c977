"""The sections a trader reads first, each against an independent figure: buy-and-hold beta,
alpha, correlation and capture (scipy's regression, hand-computed captures), the PnL calendar,
optopsy-style buckets, time-of-day and re-entry statistics, intraday paths; the layout of short
runs; and every chart free of clipped or colliding text."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from analytics_builders import FakeResult, fake_closes, fake_paths, make_run
from chart_checks import text_problems
from scipy import stats

from workbench.analytics import analyse, metrics_dict
from workbench.analytics import charts as ch
from workbench.analytics.benchmark import BENCHMARK_KEYS, benchmark_returns, buy_and_hold
from workbench.analytics.buckets import bucket_grid
from workbench.analytics.intraday import (
    by_cycle,
    by_entry_time,
    extreme_days,
    path_matrix,
    stop_outs_by_time,
)
from workbench.analytics.pnl_calendar import month_grids, weekday_by_month
from workbench.analytics.tearsheet import render_html


# -- benchmark -----------------------------------------------------------------------------------
def test_benchmark_regression_matches_scipy_and_captures_by_hand() -> None:
    rng = np.random.default_rng(3)
    days = pd.bdate_range("2024-01-02", periods=80)
    closes = pd.Series(
        100 * np.exp(np.cumsum(rng.normal(0, 0.01, 81))),
        index=[days[0] - pd.offsets.BDay(1), *days],
    )
    bench = closes.pct_change().dropna()
    strat = pd.Series(0.4 * bench.to_numpy() + rng.normal(0.0005, 0.004, 80), index=days)
    b = buy_and_hold("X", closes, strat)
    fit = stats.linregress(bench.to_numpy(), strat.to_numpy())
    assert b.metrics["beta"] == pytest.approx(fit.slope)
    assert b.metrics["alpha"] == pytest.approx(fit.intercept * 252)
    assert b.metrics["correlation"] == pytest.approx(fit.rvalue)
    up = bench > 0
    g = lambda x: float(np.prod(1 + x) ** (1 / len(x)) - 1)  # noqa: E731
    assert b.metrics["up_capture"] == pytest.approx(g(strat[up]) / g(bench[up]))
    assert b.metrics["down_capture"] == pytest.approx(g(strat[~up]) / g(bench[~up]))
    assert b.metrics["benchmark_total_return"] == pytest.approx(
        closes.iloc[-1] / closes.iloc[0] - 1
    )
    assert b.metrics["benchmark_days"] == 80


def test_first_day_is_measured_from_the_close_before_the_run() -> None:
    closes = pd.Series(
        [100.0, 110.0, 99.0], index=pd.to_datetime(["2024-01-05", "2024-01-08", "2024-01-09"])
    )
    r = benchmark_returns(closes, pd.DatetimeIndex(["2024-01-08", "2024-01-09"]))
    assert r.tolist() == pytest.approx([0.10, -0.10])
    # a run day without a close is left out, never filled with a later one
    r = benchmark_returns(closes, pd.DatetimeIndex(["2024-01-08", "2024-01-10"]))
    assert list(r.index) == [pd.Timestamp("2024-01-08")]


def test_metrics_json_has_beta_alpha_correlation(full_analysis) -> None:  # type: ignore[no-untyped-def]
    doc = json.loads(json.dumps(metrics_dict(full_analysis)))
    for key in ("beta", "alpha", "correlation", "up_capture", "down_capture"):
        assert isinstance(doc["metrics"][key], float), key
    assert set(BENCHMARK_KEYS) <= set(doc["metrics"])
    assert doc["metrics"]["benchmark_days"] == len(full_analysis.daily)


def test_without_closes_the_benchmark_comes_from_the_daily_path_and_says_so() -> None:
    a = analyse(make_run(30), capital=1e6, mc_paths=5)
    assert a.benchmark is not None and a.metrics["benchmark_days"] == 29
    assert any("first day has no earlier close" in n for n in a.notes)
    none = analyse(make_run(30), capital=1e6, mc_paths=5, benchmark=None)
    assert none.benchmark is None and math.isnan(none.metrics["beta"])


def test_return_on_capital_and_on_margin_each_on_its_base(full_analysis) -> None:  # type: ignore[no-untyped-def]
    m = full_analysis.metrics
    net = full_analysis.daily["pnl"].sum()
    assert m["return_on_capital"] == pytest.approx(net / 1_000_000)
    margin = full_analysis.daily["margin"]
    held = margin[margin > 0]
    assert m["peak_margin"] == pytest.approx(held.max())
    assert m["avg_margin"] == pytest.approx(held.mean())
    assert m["return_on_avg_margin"] == pytest.approx(net / held.mean())
    html = render_html(full_analysis, charts=[])
    assert f"Return on peak margin ({held.max():,.2f} INR)" in html
    assert "Return on declared capital (1,000,000.00 INR)" in html


# -- calendars -----------------------------------------------------------------------------------
def test_month_grid_places_each_day_under_its_weekday() -> None:
    days = pd.bdate_range("2024-02-01", "2024-03-04")
    pnl = pd.Series(np.arange(len(days), dtype=float), index=days)
    grids = month_grids(pnl)
    assert [g.label for g in grids] == ["Feb 2024", "Mar 2024"]
    feb = grids[0]
    assert feb.weekdays == ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
    first_week = feb.weeks[0]
    assert first_week[:3] == (None, None, None)  # 1 Feb 2024 was a Thursday
    assert first_week[3].date == pd.Timestamp("2024-02-01") and first_week[3].pnl == 0.0
    assert feb.total == pytest.approx(pnl["2024-02"].sum()) and feb.days == 21
    # March: the 1st and the 4th are in the run, later dates shown but not days of the run
    march = [c for w in grids[1].weeks for c in w if c is not None]
    assert [c.in_run for c in march[:3]] == [True, True, False]


def test_weekday_by_month_adds_up() -> None:
    days = pd.bdate_range("2023-01-02", "2024-12-31")
    pnl = pd.Series(np.random.default_rng(1).normal(0, 100, len(days)), index=days)
    total, count = weekday_by_month(pnl)
    assert total.to_numpy().sum() == pytest.approx(pnl.sum())
    assert count.to_numpy().sum() == len(days)
    mondays_in_jan = pnl[(pnl.index.day_of_week == 0) & (pnl.index.month == 1)]
    assert total.loc["Monday", "Jan"] == pytest.approx(mondays_in_jan.sum())


# -- buckets -------------------------------------------------------------------------------------
def test_buckets_by_hand() -> None:
    trades = pd.DataFrame(
        {
            "status": ["closed"] * 5 + ["open"],
            "pnl": [100.0, -40.0, 30.0, 10.0, -5.0, np.nan],
            "main_delta": [0.16, -0.18, 0.5, 0.52, np.nan, 0.3],
            "moneyness_pct": [3.0, 2.5, 0.1, -0.2, np.nan, 1.0],
            "dte_at_entry": [30, 30, 0, 0, 5, 3],
        }
    )
    g = bucket_grid(trades, "delta")
    assert g.pnl.loc["0.10-0.20", "15-30"] == pytest.approx(60.0)
    assert g.win_rate.loc["0.10-0.20", "15-30"] == pytest.approx(0.5)
    assert g.count.loc["0.45-0.55", "0"] == 2 and g.unbucketed == 1
    m = bucket_grid(trades, "moneyness")
    assert m.count.loc["OTM 2-5%", "15-30"] == 2 and m.pnl.loc["ATM ±0.5%", "0"] == 40.0
    with pytest.raises(ValueError, match="rows must be"):
        bucket_grid(trades, "gamma")


# -- time of day, cycles, paths --------------------------------------------------------------------
def test_time_of_day_and_cycles_by_hand() -> None:
    trades = pd.DataFrame(
        {
            "status": ["closed"] * 4,
            "pnl": [50.0, -20.0, 10.0, -70.0],
            "entry_ts": pd.to_datetime(
                ["2024-01-02 09:20", "2024-01-02 09:44", "2024-01-02 13:05", "2024-01-03 09:31"]
            ),
            "cycle": [0, 1, 2, 0],
        }
    )
    t = by_entry_time(trades)
    assert list(t.index) == ["09:00", "09:30", "13:00"]
    assert t.loc["09:30", "count"] == 2 and t.loc["09:30", "pnl"] == -90.0
    c = by_cycle(trades)
    assert list(c.index) == ["first entry", "re-entry 1", "re-entry 2"]
    assert c.loc["first entry", "pnl"] == -20.0
    legs = pd.DataFrame(
        {
            "position": ["a", "a", "b", "b"],
            "status": ["closed"] * 4,
            "exit_ts": pd.to_datetime(
                ["2024-01-02 10:05", "2024-01-02 10:05", "2024-01-02 10:40", "2024-01-02 15:15"]
            ),
            "exit_reason": ["stop_loss", "stop_loss", "leg_stop", "eod"],
        }
    )
    s = stop_outs_by_time(legs)
    assert s.loc["10:00", "stop_orders"] == 1 and s.loc["10:00", "legs_stopped"] == 2
    assert s.loc["10:30", "stop_orders"] == 1 and s.loc["15:00", "stop_orders"] == 0
    assert s.loc["15:00", "share_of_exits"] == 0.0


def test_path_matrix_and_extreme_days() -> None:
    paths = pd.DataFrame(
        {
            "day": pd.to_datetime(["2024-01-02"] * 3 + ["2024-01-03"] * 2 + ["2024-01-04"] * 2),
            "ts": pd.to_datetime(
                [
                    "2024-01-02 09:20",
                    "2024-01-02 09:21",
                    "2024-01-02 09:23",
                    "2024-01-03 09:21",
                    "2024-01-03 09:22",
                    "2024-01-04 09:20",
                    "2024-01-04 09:23",
                ]
            ),
            "pnl": [-5.0, 10.0, 40.0, -2.0, -60.0, 1.0, 5.0],
        }
    )
    pm = path_matrix(paths)
    assert list(pm.minutes) == [560.0, 561.0, 562.0, 563.0]
    assert np.isnan(pm.values[1, 0])  # 3 Jan had no position yet at 09:20
    assert pm.values[0, 2] == 10.0  # held between ticks
    assert list(pm.final) == [40.0, -60.0, 5.0]
    worst, best = extreme_days(paths, 4)
    assert worst == [pd.Timestamp("2024-01-03")] and best == [pd.Timestamp("2024-01-02")]


def test_intraday_charts_are_left_off_a_positional_run() -> None:
    run = make_run(40)
    run.manifest["strategy"]["mode"] = "positional"
    a = analyse(run, capital=1e6, mc_paths=5)
    html = render_html(a, charts=["intraday_paths", "time_of_day", "equity"])
    assert 'id="chart-intraday_paths"' not in html and 'id="section-intraday"' not in html
    assert 'id="chart-equity"' in html


# -- short runs ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("days", "yearly", "heatmap"),
    [(15, False, False), (60, False, True), (300, True, True)],
)
def test_layout_of_short_runs(days: int, yearly: bool, heatmap: bool) -> None:
    # 15 business days from 1 Jan are one month; 60 are three; 300 are over a year
    a = analyse(make_run(days), capital=1e6, mc_paths=5)
    html = render_html(a, charts=["yearly", "monthly_heatmap"])
    assert ('id="chart-yearly"' in html) is yearly
    assert ("<h3>Yearly</h3>" in html) is yearly
    assert ('id="chart-monthly_heatmap"' in html) is heatmap


# -- every chart draws without clipped or colliding text ----------------------------------------
@pytest.fixture(scope="module")
def analyses(full_analysis) -> dict[str, object]:  # type: ignore[no-untyped-def]
    from analytics_builders import empty_run

    one = make_run(1)
    short = make_run(60)
    return {
        "full": full_analysis,
        "one-day": analyse(one, capital=1e5, mc_paths=5),
        "no-trades": analyse(empty_run(), capital=1e5, mc_paths=5),
        "short": analyse(
            short,
            capital=1e5,
            mc_paths=20,
            intraday=fake_paths(short),
            benchmark=fake_closes(short),
        ),
    }


@pytest.mark.parametrize("name", list(ch.CHARTS))
@pytest.mark.parametrize("which", ["full", "one-day", "no-trades", "short"])
def test_no_chart_text_is_cut_or_collides(name: str, which: str, analyses: dict) -> None:
    try:
        fig = ch.render(name, analyses[which])
    except ch.ChartUnavailable:
        return
    assert text_problems(fig) == []


def test_the_text_check_catches_a_cut_title_and_colliding_labels() -> None:
    from workbench.analytics.charts import new_figure

    fig, axes = new_figure(1, 3, height=2.5)
    axes[0, 2].set_title("P(ruin: a loss of 1,000,000) = 0.00% " * 2)
    problems = text_problems(fig)
    assert any("leaves the figure" in p for p in problems)
    fig, axes = new_figure(height=2.5)
    axes[0, 0].set_xticks(range(10), [f"label number {i}" for i in range(10)])
    assert any("overlap" in p for p in text_problems(fig))


def test_the_full_tearsheet_draws_every_chart(full_analysis) -> None:  # type: ignore[no-untyped-def]
    stats_: dict = {}
    render_html(full_analysis, stats=stats_)
    assert set(stats_["charts"]) == set(ch.CHARTS)
    assert isinstance(FakeResult, type)


def test_the_collateral_chart_keeps_its_labels_inside() -> None:
    from workbench.analytics.collateral import Portfolio, collateral_chart

    days = pd.bdate_range("2020-02-14", periods=30)
    value = np.linspace(2_400_000.0, 1_650_000.0, len(days))
    paths = {
        name: pd.DataFrame(
            {
                "date": days,
                "ltv_unhedged": 1_500_000.0 / value,
                "ltv_hedged": 1_500_000.0 / (value + bump),
                "underlying_value": value,
                "net_portfolio_value": value + bump,
            }
        )
        for name, bump in (("protective-put", 150_000.0), ("collar-with-a-long-name", 90_000.0))
    }
    fig = collateral_chart(
        paths, Portfolio(underlying_units=100, loan_amount=1.5e6, margin_call_ltv=0.8)
    )
    assert text_problems(fig) == []
