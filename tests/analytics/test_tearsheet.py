"""Tearsheet HTML: self-contained, well-formed, autoescaped, every chart embedded as a PNG,
zero-trade and one-day runs render, atomic write; the chart registry."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from analytics_builders import FakeResult

from workbench.analytics import analyse
from workbench.analytics import charts as ch
from workbench.analytics.tearsheet import render_tearsheet

VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class _Checker(HTMLParser):
    """Balanced tags, and every src/href collected."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.urls: list[str] = []
        self.images: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "action", "poster", "srcset") and value is not None:
                self.urls.append(value)
        if tag == "img":
            self.images.append(dict(attrs).get("src") or "")
        if tag == "script":
            self.scripts += 1
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with open {self.stack[-3:]}")
            return
        self.stack.pop()


def check_self_contained(html: str, allow: tuple[str, ...] = ()) -> _Checker:
    checker = _Checker()
    checker.feed(html)
    checker.close()
    assert not checker.errors, checker.errors[:5]
    assert checker.stack == [], checker.stack
    assert html.lstrip().startswith("<!DOCTYPE html>")
    assert checker.scripts == 0
    for url in checker.urls:
        assert url.startswith("data:") or url.startswith("#") or url in allow, url
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//", html, re.I)
    assert not re.search(r"url\(\s*[\"']?\s*(?:https?:)?//", html, re.I)
    assert not re.search(r"@import", html, re.I)
    for src in checker.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1], validate=True).startswith(PNG_MAGIC)
    return checker


@pytest.fixture(scope="module")
def full_html(full_tearsheet: Path) -> str:
    return full_tearsheet.read_text(encoding="utf-8")


def test_full_tearsheet_is_self_contained_with_every_chart(full_html: str) -> None:
    checker = check_self_contained(full_html, allow=("trades.csv",))
    assert len(checker.images) == len(ch.CHARTS)  # every registered chart drew
    for name in ch.CHARTS:
        assert f'id="chart-{name}"' in full_html
    for table in (
        "Headline metrics",
        "Return on capital and on margin",
        "Against buy-and-hold NIFTY",
        "Daily PnL calendar",
        "PnL by weekday and month",
        "Worst drawdowns",
        "Monthly returns",
        "Yearly",
        "Intraday",
        "Stop-outs by time of day",
        "Trade PnL by entry time",
        "|delta| at entry x DTE at entry",
        "moneyness at entry",
        "Worst 5 and best 5 trades",
        "Trade log",
        "Volatility regimes from INDIAVIX from a test series",
        "Manifest",
        "Monte Carlo",
    ):
        assert table in full_html, table
    assert '<a href="trades.csv">trades.csv</a>' in full_html


def test_manifest_values_are_escaped(full_html: str) -> None:
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;quotes&#34;" in full_html
    assert "<script" not in full_html
    assert "&lt;b&gt;mid&lt;/b&gt;" in full_html
    assert "nested.fill_model" in full_html


@pytest.mark.parametrize("which", ["zero_trade_run", "one_day_run"])
def test_degenerate_runs_render(which: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    run: FakeResult = request.getfixturevalue(which)
    out = render_tearsheet(run, tmp_path / "t.html", capital=100_000, mc_paths=20)
    html = out.read_text(encoding="utf-8")
    check_self_contained(html, allow=("trades.csv",))
    assert "not available" in html
    if which == "zero_trade_run":
        assert "no closed trades in this run" in html


def test_render_tearsheet_writes_atomically(tmp_path: Path, run60: FakeResult) -> None:
    out = tmp_path / "sub" / "tearsheet.html"
    a = analyse(run60, capital=1_000_000, mc_paths=20)
    path = render_tearsheet(None, out, analysis=a, charts=["underwater"])
    assert path == out and out.is_file()
    before = out.read_bytes()
    with pytest.raises(KeyError, match="unknown chart 'nope'"):
        render_tearsheet(None, out, analysis=a, charts=["nope"])
    assert out.read_bytes() == before  # the failed render left the old file intact
    # the trade log beside it, and no temporary file left
    assert sorted(p.name for p in out.parent.iterdir()) == ["tearsheet.html", "trades.csv"]
    with pytest.raises(ValueError, match="capital"):
        render_tearsheet(run60, out)


def test_registry_rejects_duplicates_and_names_unknown_charts(run60: FakeResult) -> None:
    with pytest.raises(ValueError, match="already registered"):
        ch.chart("equity", title="x", section="y")(lambda a: None)  # type: ignore[arg-type,return-value]
    a = analyse(run60, capital=1_000_000, mc_paths=20)
    with pytest.raises(KeyError, match="known: equity"):
        ch.render("pie", a)
    fig = ch.render("underwater", a)
    assert fig.axes[0].get_ylabel().startswith("drawdown")
    assert fig.axes[0].get_title()


def test_greeks_chart_falls_back_to_entry_delta_when_flat_at_every_close(run60: FakeResult) -> None:
    daily = run60.daily.copy()
    daily[["delta", "gamma", "vega", "theta", "margin"]] = 0.0
    a = analyse(FakeResult(run60.tradebook, daily, {}), capital=1_000_000, mc_paths=20)
    fig = ch.render("greeks", a)
    assert "at entry" in fig.axes[0].get_title()
    # the positional short call is the only trade with a non-zero entry delta: -0.5 x 50 units
    assert min(fig.axes[0].collections[0].get_offsets()[:, 1]) == -25.0
    full = ch.render("greeks", analyse(run60, capital=1_000_000, mc_paths=20))
    assert len(full.axes) == 5  # delta, gamma, vega, theta, margin
