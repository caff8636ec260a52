"""Headless Chromium (Debian's `chromium` and `chromium-driver`, installed by
.ci/install-tools) driven by Selenium, for tests/test_site_browser.py: a fresh profile per
session, no network beyond what the page asks for, the browser console readable."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

CHROMIUM = os.environ.get("HEALTHCOOP_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("HEALTHCOOP_CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--disable-quic")


def chromium_present() -> bool:
    return (Path(CHROMIUM).is_file() or bool(shutil.which("chromium"))) and (
        Path(CHROMEDRIVER).is_file() or bool(shutil.which("chromedriver")))


def selenium_present() -> bool:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return False
    return True


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """A Selenium WebDriver for a headless Chromium with a fresh --user-data-dir, the
    browser log ("goog:loggingPrefs") recording everything."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager never downloads
    profile = tempfile.mkdtemp(prefix="healthcoop-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium")
    for flag in (*FLAGS, f"--user-data-dir={profile}", "--window-size=1024,900"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver_path = CHROMEDRIVER if Path(CHROMEDRIVER).is_file() else shutil.which("chromedriver")
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        driver.set_page_load_timeout(30)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def set_width(driver, width: int, height: int = 800) -> None:
    """Emulate a viewport `width` CSS pixels wide (a phone at 375), as a mobile device."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


def reset_width(driver) -> None:
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def console_errors(driver) -> list[str]:
    """The SEVERE entries of the browser log since the last call (reading empties it)."""
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
