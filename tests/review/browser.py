"""A real headless Chromium (Debian's `chromium` and `chromium-driver`) driven by Selenium for the review app's browser tests.

Without the two packages the browser tests skip with the command that installs them, unless
$SEMIOLOGY_REQUIRE_BROWSER is set (as `.ci/run` does): then they fail. Screenshots go to
`out/test-artifacts/review/` (git-ignored), kept after the run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
REQUIRE_BROWSER = "SEMIOLOGY_REQUIRE_BROWSER"
ARTIFACTS = Path(__file__).resolve().parents[2] / "out" / "test-artifacts" / "review"
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run",
         "--disable-sync", "--disable-quic", "--disable-dev-shm-usage", "--autoplay-policy=no-user-gesture-required", "--window-size=1400,1100",
         "--mute-audio")


def browser_problem() -> str | None:
    """Why no browser test can run here, or None."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        return f"{' and '.join(missing)} missing: install Debian's browser with: apt-get install -y chromium chromium-driver (make test does)"
    return None


def require_browser() -> None:
    """Skip (or, under $SEMIOLOGY_REQUIRE_BROWSER, fail) when the browser is missing."""
    problem = browser_problem()
    if problem is not None:
        if os.environ.get(REQUIRE_BROWSER):
            pytest.fail(f"{problem}; ${REQUIRE_BROWSER} is set, so the browser tests must run")
        pytest.skip(f"{problem}; set ${REQUIRE_BROWSER}=1 to make this a failure")


@contextmanager
def chromium() -> Iterator[webdriver.Chrome]:
    """A headless Chromium with a throw-away profile, closed afterwards."""
    require_browser()
    profile = tempfile.mkdtemp(prefix="semiology-chromium-")
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_for(driver: webdriver.Chrome, condition: Callable[[webdriver.Chrome], Any], what: str, timeout_s: float = 15.0) -> Any:
    """Wait until `condition(driver)` is truthy; a failure says what was awaited and saves a screenshot."""
    try:
        return WebDriverWait(driver, timeout_s, poll_frequency=0.05).until(condition)
    except Exception:
        screenshot(driver, "failure")
        message = driver.execute_script("const m = document.getElementById('message'); return m ? m.textContent : '';")
        raise AssertionError(f"timed out waiting for {what} (page message: {message!r}; screenshot in {ARTIFACTS})") from None


def screenshot(driver: webdriver.Chrome, name: str) -> Path:
    """Save a screenshot as a test artefact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
