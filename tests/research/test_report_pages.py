"""The walk-forward, sweep and event pages and the day's index, on results built by hand: what
each page says against the result it came from, sorting by link, heat maps of every pair of
parameters, links between pages, and the index listing every kind of report of the day."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from report_builders import GRID, event_comparison, reports_day, sweep_frame, walkforward_result

from workbench.research.sweep_report import render_sweep


class _Tables(HTMLParser):
    """Rows of the tables inside each element with an ``id`` (cell texts)."""

    def __init__(self) -> None:
        super().__init__()
        self.by_id: dict[str, list[list[str]]] = {}
        self.stack: list[str] = []
        self.row: list[str] | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        ident = dict(attrs).get("id")
        if tag in ("div", "section", "table") and ident:
            self.stack.append(ident)
        elif tag in ("div", "section", "table"):
            self.stack.append("")
        if tag == "tr":
            self.row = []
        if tag in ("td", "th") and self.row is not None:
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        if tag == "tr" and self.row is not None:
            for ident in self.stack:
                if ident:
                    self.by_id.setdefault(ident, []).append(self.row)
            self.row = None
        if tag in ("div", "section", "table") and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def _tables(html: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.by_id


def _assert_self_contained(html: str, links_ok: tuple[str, ...] = ()) -> None:
    assert html.lstrip().startswith("<!DOCTYPE html>")
    assert "<script" not in html
    for url in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert url.startswith(("data:", "#")) or url.endswith(links_ok), url


# -- sweep ---------------------------------------------------------------------------------------
def test_sweep_page_sorts_by_link_and_maps_every_pair() -> None:
    frame = sweep_frame()
    html = render_sweep(
        frame, params=list(GRID), grid=GRID, links={"0000000000000002": "r2/tearsheet.html"}
    )
    _assert_self_contained(html, ("tearsheet.html",))
    tables = _tables(html)
    rows = [r for r in tables["sort-sharpe"] if len(r) > 3 and r[0] != "stop_loss_pct"]
    assert len(rows) == len(frame)
    ok = frame[frame["error"].isna()]
    shown = [float(r[4]) for r in rows[: len(ok)]]
    assert shown == sorted(shown, reverse=True)  # best first
    assert shown[0] == pytest.approx(float(f"{ok['sharpe'].max():.3g}"))
    # the failed combination comes last, its error beneath it
    failed = frame[frame["error"].notna()].iloc[0]
    assert rows[-1][:2] == [f"{failed['stop_loss_pct']:g}", failed["entry"]]
    assert tables["sort-sharpe"][-1][0].startswith("DayFailedError")
    # parameters sort ascending; every column has its sorted copy, the grid order the default
    # (failed combinations last whatever the column)
    view = [r for r in tables["sort-entry"] if len(r) > 3 and r[0] != "stop_loss_pct"]
    entries = [r[1] for r in view[: len(ok)]]
    assert entries == sorted(entries)
    for column in (*GRID, "total_pnl", "sharpe", "max_drawdown", "win_rate", "trades", "fees"):
        assert f'href="#sort-{column}"' in html and f'id="sort-{column}"' in html
    # three parameters with two values or more: three heat maps, each a mean over the third
    assert html.count("<h3>") == 3 and html.count("mean over") == 3
    assert 'href="r2/tearsheet.html"' in html


def test_sweep_page_best_is_the_best_completed_combination() -> None:
    frame = sweep_frame()
    frame.loc[5, "sharpe"] = 99.0  # the failed one: never the best
    html = render_sweep(frame, params=list(GRID), grid=GRID)
    ok = frame[frame["error"].isna()]
    best = ok.loc[ok["sharpe"].idxmax()]
    assert f"stop_loss_pct={best['stop_loss_pct']:g}, entry={best['entry']}" in html


# -- walk-forward --------------------------------------------------------------------------------
def test_walkforward_page_shows_each_window(tmp_path: Path) -> None:
    result = walkforward_result()
    folder = result.save(tmp_path / "wf")
    html = (folder / "walk_forward.html").read_text()
    _assert_self_contained(html)
    body = _tables(html)["windows"]
    windows = result.windows
    assert len([r for r in body if r and re.fullmatch(r"w\d+", r[0])]) == len(windows)
    for rec in windows.to_dict(orient="records"):
        if rec["params"]:
            assert f"stop_loss_pct = {rec['stop_loss_pct']:g}" in html
            assert f"{rec['test_pnl']:,.2f}" in html
        else:
            assert "no usable combination on train" in html
    for text in (
        "Alpha decay",
        "Parameter stability",
        "Out-of-sample PnL",
        'id="chart-oos-equity"',
    ):
        assert text in html
    assert f"{result.decay.slope:.4f}" in html
    assert sorted(p.name for p in folder.iterdir()) == [
        "oos_daily.csv",
        "walk_forward.html",
        "walk_forward.json",
        "windows.csv",
    ]


def test_walkforward_page_with_a_vix_series(tmp_path: Path) -> None:
    from workbench.research.market_series import DailySeries

    days = pd.bdate_range("2023-12-01", "2024-04-30")
    series = DailySeries(
        "INDIAVIX", pd.Series(np.linspace(10, 40, len(days)), index=days), "/data/indiavix"
    )
    html = (walkforward_result(vix=series).save(tmp_path / "wf") / "walk_forward.html").read_text()
    rows = _tables(html)["vix"]
    counted = sum(int(r[1]) for r in rows[1:])
    assert counted == len(walkforward_result().oos_daily)
    assert "INDIAVIX from /data/indiavix" in html


# -- event ---------------------------------------------------------------------------------------
def test_event_page_ranks_as_the_summary(tmp_path: Path) -> None:
    comparison = event_comparison()
    folder = comparison.save(tmp_path / "event")
    html = (folder / "event.html").read_text()
    _assert_self_contained(html)
    rows = [r for r in _tables(html)["summary"] if r and r[0].isdigit()]
    names = comparison.summary["template"].tolist()
    assert [r[0] for r in rows] == ["1", "2", "3"]
    assert all(row[1].startswith(name) for row, name in zip(rows, names, strict=True))
    assert names[-1] == "broken"  # the failed run ranks last
    assert "parameter 'qty': must be &gt;= 1" in html or "parameter &#39;qty&#39;" in html
    assert 'id="chart-paths"' in html and comparison.preset.display_name in html


# -- the day's index -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return reports_day(tmp_path_factory.mktemp("reports"))


def test_index_lists_every_report_of_the_day(day: Path) -> None:
    html = (day / "index.html").read_text()
    for link in (
        "walkforward-straddle/walk_forward.html",
        "sweep-straddle/sweep.html",
        "event-synthetic-dip/event.html",
        "basket-of-two/basket.html",
        "basket-of-two/trades.csv",
    ):
        assert f'href="{link}"' in html, link
    runs = _tables(html)["runs"]
    # header, two runs, a failed one, the basket, a queued grid member; the walk-forward and
    # the event comparison the repository holds are in their own sections, not runs
    assert len(runs) == 1 + 5
    assert [r[1] for r in runs[1:]].count("completed") == 3
    assert not [r for r in runs if r[0].startswith(("walkforward-", "event-"))]
    queued = next(
        r for r in runs if r[0].startswith("short-straddle-with-a-long-template-name-v1-5eed")
    )
    assert queued[1] == "queued" and "stop_loss_pct=0.75" in queued[2]
    failed = next(
        r for r in runs if r[0].startswith("short-straddle-with-a-long-template-name-v1-dead")
    )
    assert failed[1] == "failed"
    assert "ZeroDivisionError" in html
    # the grid's heat map: a coloured table of its metric over its two parameters
    assert "entry \\ stop_loss_pct" in html and "background:#" in html


def test_saving_into_a_day_folder_refreshes_its_index(day: Path) -> None:
    from workbench.research.index import refresh_day_index

    event_comparison().save(day / "event-again")
    assert 'href="event-again/event.html"' in (day / "index.html").read_text()
    assert refresh_day_index(day.parent / "not-a-day" / "x") is None


def test_basket_correlation_figure_has_no_colliding_text(day: Path) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "analytics"))
    from chart_checks import text_problems

    from workbench.research.basket import combine
    from workbench.research.basket_report import correlation_figure

    runs = sorted(
        p for p in day.iterdir() if p.name.startswith("short-") and (p / "manifest.json").exists()
    )
    assert text_problems(correlation_figure(combine(runs, None))) == []


def test_page_figures_keep_their_text_inside() -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "analytics"))
    from chart_checks import text_problems

    from workbench.research import event_page, walkforward_report

    wf = walkforward_result()
    for build in (
        walkforward_report._equity_figure,
        walkforward_report._decay_figure,
        walkforward_report._params_figure,
    ):
        assert text_problems(build(wf)) == [], build.__name__
    assert text_problems(event_page._paths_figure(event_comparison())) == []
