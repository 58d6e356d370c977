"""The tearsheet in headless Chromium with the network off: every image decodes, no request
leaves the machine, and a full-page screenshot is taken.

Chromium runs behind a proxy that refuses every connection (``--proxy-server=127.0.0.1:9``, loopback
included) and is driven over the DevTools pipe (see ``analytics_cdp.py``). A control page with one remote
image shows the checks can fail. Skips, with the reason, only when no Chromium is installed
(Debian: ``apt-get install -y chromium``). The screenshot is written to
``$WORKBENCH_SCREENSHOT_DIR`` when set (to look at it), else to the test's temporary folder.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest
from analytics_cdp import Browser, find_chromium

pytestmark = pytest.mark.slow

IMAGES_JS = "Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight, i.src.slice(0, 22)])"
ALLOWED_SCHEMES = ("file:", "data:", "about:")


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


def test_tearsheet_loads_offline_with_every_image(
    browser: Browser, full_tearsheet: Path, tmp_path: Path
) -> None:
    requests = browser.load(full_tearsheet.resolve().as_uri())
    external = [u for u in requests if not u.startswith(ALLOWED_SCHEMES)]
    assert external == [], external
    images = browser.evaluate(IMAGES_JS)
    assert len(images) >= 13
    for complete, width, height, src in images:
        assert complete and width > 0 and height > 0, src
        assert src.startswith("data:image/png;base64")
    assert browser.evaluate("document.querySelectorAll('script').length") == 0
    assert "&lt;script&gt;" not in browser.evaluate("document.title")
    png = browser.screenshot()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width == 1200 and height > 3000
    out_dir = Path(os.environ.get("WORKBENCH_SCREENSHOT_DIR", tmp_path))
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "tearsheet.png").write_bytes(png)


def test_control_page_with_a_remote_image_is_caught(browser: Browser, tmp_path: Path) -> None:
    page = tmp_path / "control.html"
    page.write_text('<!DOCTYPE html><html><body><img src="http://example.com/x.png"></body></html>')
    requests = browser.load(page.as_uri())
    assert [u for u in requests if u.startswith("http")] == ["http://example.com/x.png"]
    ((_complete, width, _h, _src),) = browser.evaluate(IMAGES_JS)
    assert width == 0  # the refusing proxy kept it from loading
