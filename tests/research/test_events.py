from __future__ import annotations

import concurrent.futures as cf
import json
import math
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench import run_backtest
from workbench.research.events import (
    SUMMARY_COLUMNS,
    EventComparison,
    EventPresetError,
    EventRepository,
    compare,
    drawdown_and_worst_day,
    load_event_file,
    materialize,
    rank_summary,
)
from workbench.research.templates import DEFAULT_TEMPLATES_DIR, TemplateRepository

SHIPPED = {
    "covid-crash-2020": ("SPX", date(2020, 2, 19), date(2020, 3, 23)),
    "covid-crash-2020-nifty": ("NIFTY", date(2020, 2, 19), date(2020, 3, 23)),
    "volmageddon-2018": ("SPX", date(2018, 1, 26), date(2018, 2, 9)),
    "gfc-2008": ("SPX", date(2008, 9, 15), date(2009, 3, 9)),
    "nifty-election-2024": ("NIFTY", date(2024, 6, 3), date(2024, 6, 5)),
    "selloff-may-2019": ("SPX", date(2019, 5, 3), date(2019, 6, 3)),
    "rate-shock-2022": ("SPX", date(2022, 1, 3), date(2022, 10, 12)),
    "devaluation-2015-08": ("SPX", date(2015, 8, 10), date(2015, 8, 25)),
    "demonetisation-2016-11": ("NIFTY", date(2016, 11, 8), date(2016, 12, 26)),
}

PRESET = """slug = "synthetic-dip"
display_name = "Synthetic dip"
symbol = "NIFTY"
window_start = 2024-06-01
window_end = 2024-06-05
anchor_date = 2024-06-04
event_type = "stress_test"
tags = ["test"]
description = "A window on the synthetic market."
lookback_days = 1
recovery_days = 1
default_template_slugs = ["short-straddle", "short-straddle-reentry"]
"""


# -- presets ----------------------------------------------------------------------------------
def test_shipped_presets_are_valid_and_dated() -> None:
    presets = {p.slug: p for p in EventRepository().list()}
    assert set(presets) == set(SHIPPED)
    templates = {t.name for t in TemplateRepository(DEFAULT_TEMPLATES_DIR).list()}
    for slug, (symbol, start, end) in SHIPPED.items():
        preset = presets[slug]
        assert (preset.symbol, preset.window_start, preset.window_end) == (symbol, start, end)
        assert preset.normalize_start_value
        assert set(preset.default_template_slugs) <= templates
        lo, hi = materialize(preset)
        assert lo <= preset.window_start and hi >= preset.window_end


def test_materialize_by_hand() -> None:
    repo = EventRepository()
    # SPX: 5 sessions back from 2020-02-19 skip Presidents' Day (2020-02-17):
    # 18, 14, 13, 12, 11 Feb; 10 sessions after 2020-03-23 end on Monday 2020-04-06
    assert materialize(repo.get("covid-crash-2020")) == (date(2020, 2, 11), date(2020, 4, 6))
    # NIFTY: 3 sessions before Mon 2024-06-03 are 31, 30, 29 May; 3 after Wed 5 June: 6, 7, 10
    assert materialize(repo.get("nifty-election-2024")) == (date(2024, 5, 29), date(2024, 6, 10))
    # SPX 2019: 5 sessions before Fri 3 May are 2, 1 May, 30, 29, 26 Apr; 10 after Mon 3 June end on the 17th
    assert materialize(repo.get("selloff-may-2019")) == (date(2019, 4, 26), date(2019, 6, 17))


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda t: t.replace('event_type = "stress_test"', 'event_type = "crash"'), "event_type"),
        (lambda t: t.replace("window_end = 2024-06-05", "window_end = 2024-05-01"), "window_end"),
        (
            lambda t: t.replace("anchor_date = 2024-06-04", "anchor_date = 2024-07-04"),
            "anchor_date",
        ),
        (lambda t: t.replace('symbol = "NIFTY"\n', ""), "symbol: Field required"),
        (lambda t: t.replace("lookback_days = 1", "lookback_days = -1"), "lookback_days"),
        (lambda t: t + "colour = 1\n", "colour: Extra inputs"),
        (
            lambda t: t.replace("window_start = 2024-06-01", "window_start = 2024-06-01x"),
            "not valid TOML",
        ),
    ],
)
def test_preset_errors_name_file_and_field(tmp_path: Path, edit: object, match: str) -> None:
    path = _write(tmp_path, "synthetic-dip", edit(PRESET))  # type: ignore[operator]
    with pytest.raises(EventPresetError, match=match) as info:
        load_event_file(path)
    assert "synthetic-dip.toml" in str(info.value)


def test_preset_slug_must_match_file_and_repository_errors(tmp_path: Path) -> None:
    path = _write(tmp_path, "other-name", PRESET)
    with pytest.raises(EventPresetError, match="slug: file name must be the slug"):
        load_event_file(path)
    with pytest.raises(EventPresetError, match=r"unknown event preset 'nope'.*known: other-name"):
        EventRepository(tmp_path).get("nope")
    with pytest.raises(EventPresetError, match="does not exist"):
        EventRepository(tmp_path / "missing")


def test_window_without_a_session_raises(tmp_path: Path) -> None:
    text = PRESET.replace("window_start = 2024-06-01", "window_start = 2024-06-08")
    text = text.replace("window_end = 2024-06-05", "window_end = 2024-06-09")
    text = text.replace("anchor_date = 2024-06-04\n", "")
    preset = load_event_file(_write(tmp_path, "synthetic-dip", text))
    with pytest.raises(ValueError, match="holds no NIFTY trading session"):
        materialize(preset)


# -- ranking and path statistics, by hand -----------------------------------------------------
def test_drawdown_and_worst_day_by_hand() -> None:
    # equity 0, 100, 50, -30, 170, 160: peak 100 -> trough -30
    assert drawdown_and_worst_day([100, -50, -80, 200, -10]) == (-130.0, -80.0, 2)
    # the start counts as a peak
    assert drawdown_and_worst_day([-5.0, -5.0]) == (-10.0, -5.0, 0)
    assert drawdown_and_worst_day([1.0, 2.0])[0] == 0.0
    dd, worst, i = drawdown_and_worst_day([])
    assert math.isnan(dd) and math.isnan(worst) and i is None


def test_rank_summary_by_hand() -> None:
    nan = float("nan")
    frame = pd.DataFrame(
        {
            "template": ["a", "b", "c", "d", "e", "f", "g"],
            "max_drawdown": [-100.0, -50.0, -50.004, -50.0, -50.0, -10.0, nan],
            "worst_day": [-10.0, -30.0, -30.0, -20.0, -30.0, -5.0, -1.0],
            "fees": [1.0, 5.0, 5.0, 9.0, 4.0, 1.0, 0.0],
            "total_pnl": [500.0, 10.0, 20.0, 0.0, 10.0, 1.0, 99.0],
            "error": [None, None, None, None, None, "boom", None],
        }
    )
    ranked = rank_summary(frame)
    # f failed -> last; g has no drawdown -> after every defined drawdown; b, c, d, e tie on
    # drawdown to the cent (-50.00); d has the best worst day; e the lowest fees of b/c/e;
    # b and c tie on fees, c has the higher PnL; a has the deepest drawdown
    assert ranked["template"].tolist() == ["d", "e", "c", "b", "a", "g", "f"]
    assert ranked["rank"].tolist() == [1, 2, 3, 4, 5, 6, 7]
    # full tie: the template name decides
    tie = frame.iloc[[1, 1]].assign(template=["z", "y"]).reset_index(drop=True)
    assert rank_summary(tie)["template"].tolist() == ["y", "z"]


def test_a_template_that_never_traded_ranks_after_those_that_did() -> None:
    frame = pd.DataFrame(
        {
            "template": ["flat", "hedge"],
            "max_drawdown": [0.0, -500.0],
            "worst_day": [0.0, -300.0],
            "fees": [0.0, 3.0],
            "total_pnl": [0.0, -200.0],
            "error": [None, None],
            "fills": [0, 4],
        }
    )
    assert rank_summary(frame)["template"].tolist() == ["hedge", "flat"]


# -- compare on the synthetic market ----------------------------------------------------------
@pytest.fixture(scope="module")
def nifty_june(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from workbench.data.synth import generate

    out = tmp_path_factory.mktemp("events") / "nifty-june"
    # 2024-05-30 .. 2024-06-07: one session more on each side than the event needs
    generate("nifty-intraday", out, seed=5, start="2024-05-30", days=7, progress=False, workers=1)
    return out


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory) -> tuple[EventRepository, TemplateRepository]:
    root = tmp_path_factory.mktemp("event-repos")
    _write(root / "events", "synthetic-dip", PRESET)
    templates = root / "strategies"
    templates.mkdir()
    for name in ("short-straddle", "short-straddle-reentry"):
        shutil.copy(DEFAULT_TEMPLATES_DIR / f"{name}.toml", templates)
    broken = (DEFAULT_TEMPLATES_DIR / "short-straddle.toml").read_text()
    broken = broken.replace('name = "short-straddle"', 'name = "broken"').replace(
        "qty = 1", "qty = 0"
    )
    (templates / "broken.toml").write_text(broken)
    return EventRepository(root / "events"), TemplateRepository(templates)


@pytest.fixture(scope="module")
def pool() -> Iterator[cf.ThreadPoolExecutor]:
    with cf.ThreadPoolExecutor(max_workers=2) as executor:
        yield executor


@pytest.fixture(scope="module")
def comparison(
    nifty_june: Path, repos: tuple[EventRepository, TemplateRepository], pool: cf.Executor
) -> EventComparison:
    events, templates = repos
    return compare(
        "synthetic-dip",
        ["short-straddle", "short-straddle-reentry", "broken"],
        data=nifty_june,
        capital=500_000.0,
        executor=pool,
        progress=False,
        events=events,
        repository=templates,
    )


def test_compare_paths_start_at_one_and_follow_the_runs(
    comparison: EventComparison, nifty_june: Path, repos: tuple[EventRepository, TemplateRepository]
) -> None:
    _, templates = repos
    # window 2024-06-01 (Saturday) .. 06-05: first session 06-03, one back = 05-31; one after = 06-06
    assert (comparison.start, comparison.end) == (date(2024, 5, 31), date(2024, 6, 6))
    paths = comparison.paths
    assert list(paths.columns) == ["short-straddle", "short-straddle-reentry"]
    assert paths.index[0] == date(2024, 5, 30)  # the baseline: the session before the start
    assert paths.index[-1] == date(2024, 6, 6)  # nothing after the run's end, though data exists
    assert (paths.iloc[0] == 1.0).all()
    for name in paths.columns:
        template = templates.get(name)
        direct = run_backtest(
            template.strategy,
            data=nifty_june,
            start=comparison.start,
            end=comparison.end,
            params={**template.params, "underlying": "NIFTY"},
            capital=500_000.0,
            executor="serial",
            progress=False,
        )
        row = comparison.summary.set_index("template").loc[name]
        # same run id: the engine was given exactly the materialised start and end
        assert row["run_id"] == direct.run_id
        expected = 1.0 + np.cumsum(direct.daily["pnl"].to_numpy()) / 500_000.0
        np.testing.assert_allclose(paths[name].to_numpy()[1:], expected, rtol=0, atol=1e-12)
        assert row["total_pnl"] == pytest.approx(direct.metrics["total_pnl"], abs=0.01)
        assert row["end_value"] == pytest.approx(expected[-1])
        assert row["worst_day"] == pytest.approx(direct.daily["pnl"].min())
        assert row["max_drawdown_pct"] == pytest.approx(row["max_drawdown"] / 500_000.0)


def test_compare_summary_ranked_and_failure_last(comparison: EventComparison) -> None:
    summary = comparison.summary
    assert list(summary.columns) == list(SUMMARY_COLUMNS)
    assert summary["template"].iloc[-1] == "broken"
    assert "qty" in summary["error"].iloc[-1]
    pd.testing.assert_frame_equal(
        rank_summary(summary.drop(columns="rank"))[list(SUMMARY_COLUMNS)], summary
    )
    ok = summary.iloc[:2]
    assert ok["error"].isna().all()
    assert (ok["days"] == 5).all()


def test_compare_money_paths_without_normalising(
    nifty_june: Path,
    repos: tuple[EventRepository, TemplateRepository],
    pool: cf.Executor,
    comparison: EventComparison,
) -> None:
    events, templates = repos
    preset = events.get("synthetic-dip").model_copy(update={"normalize_start_value": False})
    result = compare(
        preset,
        ["short-straddle"],
        data=nifty_june,
        executor=pool,
        progress=False,
        repository=templates,
    )
    assert result.paths["short-straddle"].iloc[0] == 0.0
    expected = (comparison.paths["short-straddle"] - 1.0) * 500_000.0
    np.testing.assert_allclose(result.paths["short-straddle"], expected, atol=1e-6)


def test_compare_bad_input(
    nifty_june: Path, repos: tuple[EventRepository, TemplateRepository], pool: cf.Executor
) -> None:
    events, templates = repos
    kwargs = {
        "data": nifty_june,
        "executor": pool,
        "progress": False,
        "events": events,
        "repository": templates,
    }
    with pytest.raises(ValueError, match="capital"):
        compare("synthetic-dip", ["short-straddle"], **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="overrides name templates not compared"):
        compare("synthetic-dip", ["short-straddle"], capital=1e5, overrides={"x": {}}, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="distinct"):
        compare("synthetic-dip", ["short-straddle", "short-straddle"], capital=1e5, **kwargs)  # type: ignore[arg-type]
    spx = EventRepository().get("selloff-may-2019")
    with pytest.raises(ValueError, match=r"on SPX but the dataset has underlyings \['NIFTY'\]"):
        compare(
            spx,
            ["short-straddle"],
            data=nifty_june,
            capital=1e5,
            executor=pool,
            progress=False,
            repository=templates,
        )


def test_cli_lists_and_shows_presets(capsys: pytest.CaptureFixture[str]) -> None:
    from workbench.cli.main import main

    assert main(["events"]) == 0
    out = capsys.readouterr().out
    for slug in SHIPPED:
        assert slug in out
    assert "runs 2024-05-29 .. 2024-06-10" in out
    assert main(["events", "gfc-2008"]) == 0
    assert "Lehman" in capsys.readouterr().out
    assert main(["events", "nope"]) == 2
    assert main(["events", "gfc-2008", "--compare"]) == 2


def test_cli_compare_ranks_and_saves(
    tmp_path: Path,
    nifty_june: Path,
    repos: tuple[EventRepository, TemplateRepository],
    comparison: EventComparison,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from workbench.cli.main import main

    events, _ = repos
    out = tmp_path / "cmp"
    code = main(
        [
            "events",
            "synthetic-dip",
            "--dir",
            str(events.root),
            "--compare",
            "--data",
            str(nifty_june),
            "--capital",
            "500000",
            "--workers",
            "1",
            "--no-progress",
            "--out",
            str(out),
        ]
    )
    text = capsys.readouterr().out
    assert code == 0
    assert "2024-05-31 .. 2024-06-06" in text
    ranked = [line.split()[1] for line in text.splitlines() if line.strip()[:1].isdigit()]
    expected = comparison.summary["template"].tolist()
    assert ranked == [t for t in expected if t != "broken"]
    saved = pd.read_csv(out / "summary.csv")
    assert saved["template"].tolist() == ranked
    paths = pd.read_csv(out / "paths.csv", index_col="date")
    assert paths.iloc[0].tolist() == [1.0, 1.0]
    doc = json.loads((out / "event.json").read_text())
    assert doc["start"] == "2024-05-31" and doc["preset"]["slug"] == "synthetic-dip"


# -- the collateral view (seed 002): a loan against the holding the hedges protect -------------
@pytest.fixture(scope="module")
def hedge_repo(tmp_path_factory: pytest.TempPathFactory) -> TemplateRepository:
    root = tmp_path_factory.mktemp("hedge-templates")
    for name in ("protective-put", "collar"):
        text = (DEFAULT_TEMPLATES_DIR / f"{name}.toml").read_text()
        text = text.replace("target_expiry_days = 90", "target_expiry_days = 3")
        text = text.replace("roll_days_before_expiry = 5", "roll_days_before_expiry = 1")
        (root / f"{name}.toml").write_text(text)
    return TemplateRepository(root)


LOAN = {"underlying_units": 25, "loan_amount": 400_000, "margin_call_ltv": 0.72}


def test_compare_with_a_portfolio_ranks_by_margin_calls_and_ltv(
    nifty_june: Path,
    repos: tuple[EventRepository, TemplateRepository],
    hedge_repo: TemplateRepository,
    pool: cf.Executor,
) -> None:
    from workbench.analytics.collateral import (
        Portfolio,
        collateral_path,
        collateral_summary,
        rank_hedges,
    )
    from workbench.research.events import COLLATERAL_SUMMARY_COLUMNS

    events, _ = repos
    result = compare(
        "synthetic-dip",
        ["protective-put", "collar"],
        data=nifty_june,
        capital=500_000.0,
        executor=pool,
        progress=False,
        events=events,
        repository=hedge_repo,
        portfolio=LOAN,
    )
    summary = result.summary
    assert list(summary.columns) == ["rank", *COLLATERAL_SUMMARY_COLUMNS]
    assert summary["error"].isna().all()
    pd.testing.assert_frame_equal(rank_hedges(summary.drop(columns="rank")), summary)
    portfolio = Portfolio(**LOAN)
    unhedged = None
    for name in ("protective-put", "collar"):
        template = hedge_repo.get(name)
        direct = run_backtest(
            template.strategy,
            data=nifty_june,
            start=result.start,
            end=result.end,
            params={**template.params, "underlying": "NIFTY"},
            executor="serial",
            progress=False,
        )
        assert len(direct.tradebook) > 0  # the hedge traded: the view is not of an empty book
        # the comparison sells what is open at the scenario end at that day's marks
        expected = collateral_path(direct.daily, direct.tradebook, portfolio, liquidate_at_end=True)
        pd.testing.assert_frame_equal(result.collateral[name], expected)
        row = summary.set_index("template").loc[name]
        for key, value in collateral_summary(expected, direct.tradebook, portfolio).items():
            assert row[key] == pytest.approx(value, nan_ok=True), key
        assert row["hedge_coverage"] == 1.0  # one NIFTY lot (25 in June 2024) per 25 units
        # the unhedged leg of the comparison is the same holding for every template
        values = result.collateral[name]["underlying_value"].to_numpy()
        if unhedged is not None:
            np.testing.assert_array_equal(values, unhedged)
        unhedged = values


def test_compare_with_a_bad_portfolio(
    nifty_june: Path, repos: tuple[EventRepository, TemplateRepository], pool: cf.Executor
) -> None:
    events, templates = repos
    kwargs = {
        "data": nifty_june,
        "capital": 5e5,
        "executor": pool,
        "progress": False,
        "events": events,
        "repository": templates,
    }
    with pytest.raises(ValueError, match="portfolio: margin_call_ltv: Field required"):
        compare(
            "synthetic-dip",
            ["short-straddle"],
            portfolio={"underlying_units": 1, "loan_amount": 1},
            **kwargs,
        )  # type: ignore[arg-type]
    # a loan above the holding's value: the run is reported failed, naming the field
    result = compare(
        "synthetic-dip",
        ["short-straddle"],
        portfolio={**LOAN, "loan_amount": 10_000_000},
        **kwargs,  # type: ignore[arg-type]
    )
    assert "loan_amount 10,000,000.00 must be below" in result.summary["error"].iloc[0]


def test_cli_compare_with_a_loan_saves_the_collateral_path(
    tmp_path: Path,
    nifty_june: Path,
    repos: tuple[EventRepository, TemplateRepository],
    capsys: pytest.CaptureFixture[str],
) -> None:
    from workbench.cli.main import main

    events, _ = repos
    base = ["events", "synthetic-dip", "--dir", str(events.root), "--compare", "--data"]
    base += [str(nifty_june), "--capital", "500000", "--workers", "1", "--no-progress"]
    assert main([*base, "--units", "25"]) == 2
    assert "missing: --loan, --margin-call-ltv" in capsys.readouterr().err
    assert main([*base, "--cash", "5"]) == 2
    assert "--cash needs --units" in capsys.readouterr().err
    out = tmp_path / "loan"
    loan = ["--units", "25", "--loan", "400000", "--margin-call-ltv", "0.72"]
    assert main([*base, *loan, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "holding 25 units, loan 400,000.00, margin call at LTV 0.72" in text
    saved = pd.read_csv(out / "collateral.csv")
    assert set(saved["template"]) == {"short-straddle", "short-straddle-reentry"}
    assert (out / "collateral.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    doc = json.loads((out / "event.json").read_text())
    assert doc["portfolio"]["loan_amount"] == 400_000
    assert doc["ranking"][0] == "margin_call_days_hedged"


def test_hedges_are_sized_to_the_holding_unless_overridden(
    nifty_june: Path,
    repos: tuple[EventRepository, TemplateRepository],
    hedge_repo: TemplateRepository,
    pool: cf.Executor,
) -> None:
    events, _ = repos
    kwargs = {
        "data": nifty_june,
        "capital": 5e5,
        "executor": pool,
        "progress": False,
        "events": events,
        "repository": hedge_repo,
    }
    loan = {**LOAN, "underlying_units": 50}  # two NIFTY lots of 25
    sized = compare("synthetic-dip", ["protective-put"], portfolio=loan, **kwargs)  # type: ignore[arg-type]
    assert sized.summary["hedge_coverage"].iloc[0] == 1.0  # 2 contracts, not the template's 1
    fixed = compare(
        "synthetic-dip",
        ["protective-put"],
        portfolio=loan,
        overrides={"protective-put": {"qty": 1}},
        **kwargs,  # type: ignore[arg-type]
    )
    assert fixed.summary["hedge_coverage"].iloc[0] == 0.5
    resized = compare(
        "synthetic-dip",
        ["protective-put"],
        portfolio=loan,
        overrides={"protective-put": {"cover_units": 100}},  # over-hedge on purpose
        **kwargs,  # type: ignore[arg-type]
    )
    assert resized.summary["hedge_coverage"].iloc[0] == 2.0
