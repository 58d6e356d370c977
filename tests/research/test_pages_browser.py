"""Every report page in headless Chromium at 1400 and 800 px wide: nothing overflows its
container or the window, no text is cut, no request leaves the machine, no script except the
index's sorting one.

Pages: a tearsheet (full trade log, intraday section), a basket and its combined tearsheet, the
day's index, a walk-forward, a sweep (in grid order and sorted by two of its columns) and an
event comparison, built by hand (``report_builders``) so that names, parameters and errors are
long. A control page with a table wider than its card shows the check can fail. Skips, with
the reason, only when no Chromium is installed. Screenshots go to
``$WORKBENCH_SCREENSHOT_DIR`` when set.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "analytics"))

from analytics_cdp import Browser, find_chromium
from report_builders import reports_day

pytestmark = pytest.mark.slow

#: Every rendered element: its own content wider than its box (it would be cut or need a
#: scroll bar), reaching past the window's right edge, or cut in height by overflow: hidden.
OVERFLOW_JS = r"""
(() => {
  const bad = [];
  const width = document.documentElement.clientWidth;
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\s+/).join('.') : '');
  for (const el of document.querySelectorAll('body, body *')) {
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;  // not rendered (display: none inside)
    const text = (el.textContent || '').trim().slice(0, 50);
    if (style.display !== 'inline' && el.scrollWidth > el.clientWidth + 1) {
      bad.push(`${name(el)} overflows: ${el.scrollWidth} > ${el.clientWidth} px (${text})`);
    }
    if (box.right > width + 1) {
      bad.push(`${name(el)} reaches past the window: right ${Math.round(box.right)} > ${width} (${text})`);
    }
    const clips = ['hidden', 'clip'].includes(style.overflowY) || ['hidden', 'clip'].includes(style.overflow);
    if (clips && el.scrollHeight > el.clientHeight + 1) {
      bad.push(`${name(el)} cuts its text in height (${text})`);
    }
    if (style.textOverflow === 'ellipsis' && el.scrollWidth > el.clientWidth) {
      bad.push(`${name(el)} ends its text with an ellipsis (${text})`);
    }
  }
  return bad;
})()
"""
ALLOWED = ("file:", "data:", "about:")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    binary = find_chromium()
    if binary is None:
        pytest.skip(
            "Chromium not installed (apt-get install -y chromium, or set WORKBENCH_CHROMIUM)"
        )
    b = Browser(binary, tmp_path_factory.mktemp("chromium-profile"))
    try:
        b.open_page()
        yield b
    finally:
        b.close()


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return reports_day(tmp_path_factory.mktemp("reports"))


def _pages(day: Path) -> dict[str, str]:
    run = next(p for p in day.iterdir() if p.name.endswith("8b7c5d3e21"))
    return {
        "tearsheet": (run / "tearsheet.html").as_uri(),
        "basket": (day / "basket-of-two" / "basket.html").as_uri(),
        "basket-tearsheet": (day / "basket-of-two" / "tearsheet.html").as_uri(),
        "index": (day / "index.html").as_uri(),
        "walk-forward": (day / "walkforward-straddle" / "walk_forward.html").as_uri(),
        "sweep": (day / "sweep-straddle" / "sweep.html").as_uri(),
        "sweep-by-sharpe": (day / "sweep-straddle" / "sweep.html").as_uri() + "#sort-sharpe",
        "sweep-by-entry": (day / "sweep-straddle" / "sweep.html").as_uri() + "#sort-entry",
        "event": (day / "event-synthetic-dip" / "event.html").as_uri(),
    }


PAGES = (
    "tearsheet",
    "basket",
    "basket-tearsheet",
    "index",
    "walk-forward",
    "sweep",
    "sweep-by-sharpe",
    "sweep-by-entry",
    "event",
)


@pytest.mark.parametrize("width", [1400, 800])
@pytest.mark.parametrize("page", PAGES)
def test_no_page_overflows_or_cuts_text(
    browser: Browser, day: Path, page: str, width: int, tmp_path: Path
) -> None:
    browser.open_page(width=width)
    browser.load("about:blank")  # a fragment of the page loaded before is no new load
    requests = browser.load(_pages(day)[page])
    assert [u for u in requests if not u.startswith(ALLOWED)] == []
    problems = browser.evaluate(OVERFLOW_JS)
    assert problems == [], f"{page} at {width} px: " + "; ".join(problems[:8])
    images = browser.evaluate(
        "Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.src.slice(0, 22)])"
    )
    assert all(ok and w > 0 and src.startswith("data:image/png") for ok, w, src in images)
    scripts = browser.evaluate("document.querySelectorAll('script').length")
    assert scripts == (1 if page == "index" else 0)
    if page.startswith("sweep-by"):
        # the sorted copy is the one shown, the grid-order table is hidden
        shown = browser.evaluate(
            "Array.from(document.querySelectorAll('table.combos')).filter(t => t.getBoundingClientRect().height > 0).length"
        )
        assert shown == 1
    out = Path(os.environ.get("WORKBENCH_SCREENSHOT_DIR", tmp_path))
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{page}-{width}.png").write_bytes(browser.screenshot())


def test_the_check_catches_a_table_wider_than_its_card(browser: Browser, tmp_path: Path) -> None:
    page = tmp_path / "control.html"
    cells = "".join(f"<td>column number {i} with a long heading</td>" for i in range(30))
    page.write_text(
        "<!DOCTYPE html><html><body><main style='max-width: 700px'><section style='overflow-x: auto'>"
        f"<table><tr>{cells}</tr></table></section></main></body></html>"
    )
    browser.open_page(width=800)
    browser.load(page.as_uri())
    problems = browser.evaluate(OVERFLOW_JS)
    assert any("section overflows" in p for p in problems), problems
