"""The dashboard in a real browser: Debian's headless Chromium, driven by Selenium.

A flow runs while connected to the session's local server; the dashboard's
runs page must list its execution under the flow's name. The screenshot is
kept at ``test-artifacts/dashboard.png`` in the repository root.

The browser comes from :mod:`tests.browser` (Debian's Chromium; the test
skips without it, except in CI, where it fails).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import chromium, page_text
from tests.conftest import REPO_ROOT
from tests.server.conftest import FLOW_NAME, ServerSession

ARTIFACT = REPO_ROOT / "test-artifacts" / "dashboard.png"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    with chromium(tmp_path) as driver:
        yield driver


def _page_text(driver: Any) -> str:
    return page_text(driver)


def _log_in_if_asked(driver: Any) -> None:
    """The local server lets its default user in without a password; if a
    login form shows anyway, sign in as that user (empty password)."""
    from selenium.webdriver.common.by import By

    if "/login" not in driver.current_url:
        return
    driver.find_element(By.CSS_SELECTOR, "input[name='username']").send_keys("default")
    driver.find_element(By.CSS_SELECTOR, "button[type='submit']").click()


def _wait_for(driver: Any, wanted: list[str], timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        _log_in_if_asked(driver)
        text = _page_text(driver)
        if all(item in text for item in wanted):
            return text
        time.sleep(0.5)
    ARTIFACT.parent.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACT))
    raise AssertionError(
        f"the dashboard at {driver.current_url} never showed {wanted}; screenshot at {ARTIFACT}.\n"
        f"Page text:\n{text[:2000]}"
    )


def test_dashboard_lists_the_execution_under_the_flow_name(
    server: ServerSession, recorded_execution: dict[str, Any], browser: Any
) -> None:
    exec_id = recorded_execution["exec_id"]
    browser.get(f"{server.url}/projects/default/runs")
    text = _wait_for(browser, [FLOW_NAME, exec_id[:8]])
    ARTIFACT.parent.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACT))
    assert "/survey" not in browser.current_url  # Kitaru skips the engine's sign-up survey
    assert "/projects/default/runs" in browser.current_url
    # The run's row: its generated name starts with the flow's name.
    row = next(line for line in text.splitlines() if FLOW_NAME in line and line.startswith("#"))
    assert row.split("-", 1)[1].startswith(FLOW_NAME)
    assert ARTIFACT.stat().st_size > 10_000

    # The execution's own page opens too.
    browser.get(f"{server.url}/projects/default/runs/{exec_id}")
    _wait_for(browser, [FLOW_NAME, "greet", "shout"])


def test_kitaru_ui_shows_the_servers_executions(server: ServerSession, recorded_execution: dict[str, Any]) -> None:
    """Kitaru's own dashboard reads through the client, so it shows what the server has."""
    import html
    import subprocess
    import urllib.request

    from tests.conftest import subprocess_env
    from tests.server.conftest import KITARU

    ui = subprocess.Popen(
        [str(KITARU), "ui", "--port", "0", "--no-open"], cwd=server.root, env=subprocess_env(server.config),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        first = ui.stdout.readline() if ui.stdout else ""
        assert first.startswith("Kitaru dashboard: http://127.0.0.1:"), first
        url = first.split()[2]
        exec_id = recorded_execution["exec_id"]
        with urllib.request.urlopen(f"{url}/executions", timeout=120) as response:
            listing = html.unescape(response.read().decode())
        assert f'data-exec-id="{exec_id}" data-status="completed"' in listing
        assert FLOW_NAME in listing
        with urllib.request.urlopen(f"{url}/executions/{exec_id}", timeout=120) as response:
            page = html.unescape(response.read().decode())
        assert 'class="tl-name" href="#call-greet"' in page and 'href="#call-shout"' in page
    finally:
        ui.terminate()
        ui.wait(timeout=30)
