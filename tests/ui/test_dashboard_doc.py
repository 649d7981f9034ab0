"""``docs/dashboard.md`` against the code: options, defaults, actions, routes and screenshots.

The doc is what users read before they type ``kitaru ui``; each table in it is
compared with what the code does, so a renamed option, a new route or a
changed action rule fails here until the doc says it too.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

DOC = REPO_ROOT / "docs" / "dashboard.md"
KITARU = Path(sys.executable).with_name("kitaru")


def _table(heading_cell: str) -> list[list[str]]:
    """The rows of the Markdown table whose header starts with ``| heading_cell |``."""
    lines = DOC.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {heading_cell} |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_the_options_table_matches_kitaru_ui_help() -> None:
    from kitaru.ui.server import DEFAULT_HOST, DEFAULT_PORT

    documented = {row[0].strip("`"): row[1].strip("`") for row in _table("Option")}
    help_text = subprocess.run([str(KITARU), "ui", "--help"], capture_output=True, text=True, timeout=120).stdout
    offered = set(re.findall(r"(--[a-z][a-z-]+)", help_text)) - {"--help", "--output"}
    assert set(documented) == offered
    assert documented["--port"] == str(DEFAULT_PORT)
    assert documented["--host"] == DEFAULT_HOST
    assert f"Kitaru dashboard: http://{DEFAULT_HOST}:{DEFAULT_PORT}" in DOC.read_text()


def test_the_actions_table_matches_what_each_status_offers() -> None:
    from kitaru.ui.views import ACTIONS_BY_STATUS

    statuses = {"running", "waiting", "completed", "failed", "cancelled"}
    for row in _table("Action"):
        action, offered_when = row[0], row[1]
        if action in ("answer a wait", "abort a wait"):
            continue  # offered whenever a wait is pending, by the wait's own form
        documented = {status for status in statuses if re.search(rf"\b{status}\b", offered_when)}
        actual = {status for status, actions in ACTIONS_BY_STATUS.items() if action in actions}
        assert documented == actual, action


def test_the_routes_table_lists_every_route_of_the_app() -> None:
    from kitaru.ui.actions import ActionRunner
    from kitaru.ui.app import Dashboard, create_app

    app = create_app(Dashboard(token="t", host="127.0.0.1", port=8384, actions=ActionRunner(log_dir=Path("/tmp"))))
    actual = {
        f"{method} {route.path}"
        for route in app.routes
        for method in getattr(route, "methods", set()) - {"HEAD"}
        if route.path != "/"
    }
    documented = {row[0].strip("`") for row in _table("Route")}
    assert documented == actual


def test_every_screenshot_the_doc_shows_exists_and_is_one_the_browser_test_takes() -> None:
    images = re.findall(r"!\[[^\]]+\]\((images/[^)]+)\)", DOC.read_text())
    assert len(images) == 3
    browser_test = (REPO_ROOT / "tests" / "ui" / "test_dashboard_browser.py").read_text()
    for image in images:
        path = DOC.parent / image
        assert path.stat().st_size > 10_000, image
        assert f'screenshot_top(browser, "{path.name}")' in browser_test, image
