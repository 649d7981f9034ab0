"""A real browser for page tests: Debian's headless Chromium, driven by Selenium.

Chromium and ChromeDriver come from Debian (``apt-get install chromium
chromium-driver``); nothing is downloaded. Without them a test skips, except
in CI (``CI`` set), where it fails.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,900",
)


def browser_binaries() -> tuple[str, str]:
    """The Chromium and ChromeDriver binaries (skips, or fails in CI, when missing)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium and driver:
        return chromium, driver
    reason = (
        "page tests need Debian's Chromium and ChromeDriver "
        "(apt-get install chromium chromium-driver); not found on PATH"
    )
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@contextmanager
def chromium(profile_dir: Path) -> Iterator[Any]:
    """A headless Chromium session with its own profile under ``profile_dir``."""
    binary, driver_path = browser_binaries()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile_dir / 'chromium-profile'}")
    driver = webdriver.Chrome(
        service=Service(driver_path, log_output=str(profile_dir / "chromedriver.log")), options=options
    )
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def page_text(driver: Any) -> str:
    """The visible text of the page."""
    return str(driver.execute_script("return document.body ? document.body.innerText : ''"))
