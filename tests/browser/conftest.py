"""Headless Chromium (Debian's /usr/bin/chromium and /usr/bin/chromedriver) driven by Selenium 4.

Skipped with the reason when the browser, its driver or selenium is missing, unless
INCIDENTBOT_REQUIRE_BROWSER=1 (CI), where a missing browser fails the run instead."""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("INCIDENTBOT_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("INCIDENTBOT_CHROMEDRIVER", "/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _missing() -> str | None:
    if importlib.util.find_spec("selenium") is None:
        return "the selenium package is not installed (pip install -e .[dev])"
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not (Path(path).is_file() and os.access(path, os.X_OK)) and shutil.which(path) is None:
            return f"{path} is missing (apt-get install {package})"
    return None


@pytest.fixture(scope="session")
def driver() -> Iterator[Any]:
    missing = _missing()
    if missing is not None:
        if os.environ.get("INCIDENTBOT_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests required (INCIDENTBOT_REQUIRE_BROWSER=1) but {missing}")
        pytest.skip(f"browser tests skipped: {missing}")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-extensions",
        "--window-size=1400,1000",
        "--force-device-scale-factor=1",
    ):
        options.add_argument(flag)
    browser = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    browser.set_page_load_timeout(30)
    try:
        yield browser
    finally:
        browser.quit()


def screenshot(driver: Any, name: str) -> Path:
    """A full-page PNG in test-artifacts/ (the window grows to the page's height)."""
    ARTIFACTS.mkdir(exist_ok=True)
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.set_window_size(1400, min(max(height, 800), 12000))
    path = ARTIFACTS / f"{name}.png"
    assert driver.save_screenshot(str(path)), f"could not save {path}"
    driver.set_window_size(1400, 1000)
    return path
