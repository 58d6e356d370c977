"""The runs page in headless Chromium (Selenium, Debian's chromium + chromium-driver).

The page lists the repository's runs with their status, refreshes itself while a run is
queued or running (no script: a meta refresh), links each finished backtest to its tearsheet,
and asks nothing of the network but the server itself. A screenshot is written to
``$WORKBENCH_SCREENSHOT_DIR`` when set (to look at it), else to the test's temporary folder.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from service_helpers import Server, wait_for

pytestmark = pytest.mark.slow

SLOW = "service_strategies:SlowStraddle"


@pytest.fixture
def browser(tmp_path: Path) -> Any:
    chromium = os.environ.get("WORKBENCH_CHROMIUM") or shutil.which("chromium")
    driver_path = shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        pytest.skip(
            "Chromium or chromedriver not installed (apt-get install -y chromium chromium-driver)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--window-size=1400,1000", f"--user-data-dir={tmp_path / 'profile'}"):  # fmt: skip
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()


def _rows(driver: Any) -> dict[str, str]:
    # one script reads every row of the document as it is at that moment: element handles
    # read one by one can outlive the document when the page refreshes itself in between
    rows = driver.execute_script(
        "return Array.from(document.querySelectorAll(\"tr[id^='run-']\"))"
        ".map(r => [r.id.slice(4), r.getAttribute('data-status')])"
    )
    return {run: status for run, status in rows}


def test_runs_page_in_chromium(server: Server, browser: Any, tmp_path: Path) -> None:
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    client = server.client()
    done = client.post(
        "/api/backtests", json={"template": "short-straddle", "data": "nifty"}
    ).json()["id"]
    wait_for(client, f"/api/backtests/{done}")
    slow = client.post(
        "/api/backtests", json={"strategy": SLOW, "data": "nifty", "params": {"delay": 3}}
    ).json()["id"]
    wait_for(client, f"/api/backtests/{slow}", ("running",))

    browser.get_log("performance")  # drop what the browser did before the page (start page)
    browser.get(server.url + "/")
    assert browser.title == "workbench runs"
    rows = _rows(browser)
    assert rows[done] == "completed" and rows[slow] == "running"
    refresh = browser.find_elements(By.CSS_SELECTOR, "meta[http-equiv='refresh']")
    assert refresh and refresh[0].get_attribute("content") == "3"
    # the page refreshes itself until the running job shows completed (no script on it)
    assert browser.execute_script("return document.scripts.length") == 0
    # a refresh may be under way while the page is read (the document unloading, the
    # driver answering with an error of the moment): read again until it shows completed
    WebDriverWait(browser, 300, poll_frequency=0.5, ignored_exceptions=(WebDriverException,)).until(
        lambda d: _rows(d).get(slow) == "completed"
    )
    time.sleep(0.5)
    assert not browser.find_elements(By.CSS_SELECTOR, "meta[http-equiv='refresh']")
    png = browser.get_screenshot_as_png()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    out_dir = Path(os.environ.get("WORKBENCH_SCREENSHOT_DIR", tmp_path))
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "runs-page.png").write_bytes(png)
    # every request the page made went to the server itself
    urls = [m["message"] for m in browser.get_log("performance")]
    requested = set(re.findall(r'"url":"(https?://[^"]+)"', "\n".join(urls)))
    assert requested and all(u.startswith(server.url) for u in requested), requested

    # filters narrow the list; the tearsheet link opens the run's tearsheet
    browser.get(server.url + "/?status=running")
    assert _rows(browser) == {}
    browser.get(server.url + "/?kind=single&template=short-straddle")
    assert set(_rows(browser)) == {done}
    link = browser.find_element(By.CSS_SELECTOR, f"#run-{done} a.tearsheet")
    link.click()
    WebDriverWait(browser, 60).until(lambda d: d.current_url.endswith(f"/runs/{done}/tearsheet"))
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth])"
    )
    assert len(images) >= 10 and all(ok and width > 0 for ok, width in images)
