"""Kitaru's dashboard (``kitaru ui``) in a real browser: Debian's Chromium through Selenium.

One config dir for the module: three real flows run in their own processes
(one completes, one fails, one pauses on a wait), then the real CLI serves the
dashboard (``kitaru ui --port 0 --no-open``) and Chromium drives its pages:
the list, an execution's timeline and calls, the wait form (answer and
resume to ``completed``), a replay with an override, and an accessibility
smoke check. Screenshots are kept under ``test-artifacts/``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import chromium, page_text
from tests.conftest import REPO_ROOT, subprocess_env

HERE = Path(__file__).resolve().parent
KITARU = Path(sys.executable).with_name("kitaru")
ARTIFACTS = REPO_ROOT / "test-artifacts"

pytestmark = pytest.mark.slow


class Site:
    """The module's config dir, its executions and the dashboard serving them."""

    def __init__(self, config: Path, url: str, executions: dict[str, str]) -> None:
        self.config = config
        self.url = url
        self.executions = executions

    def kitaru_json(self, *args: str) -> dict[str, Any]:
        """Run the real CLI with ``-o json`` and return its item."""
        result = subprocess.run(
            [str(KITARU), *args, "-o", "json"], env=subprocess_env(self.config), capture_output=True, text=True,
            timeout=240,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return json.loads(result.stdout)["item"]

    def list_ids(self) -> list[str]:
        result = subprocess.run(
            [str(KITARU), "executions", "list", "-o", "json"], env=subprocess_env(self.config),
            capture_output=True, text=True, timeout=240,
        )
        assert result.returncode == 0, result.stderr
        return [item["exec_id"] for item in json.loads(result.stdout)["items"]]


def _run_flows(config: Path) -> dict[str, str]:
    """Run the three flows at once (concurrent runs on the local default are supported)."""
    started = {
        name: subprocess.Popen(
            [sys.executable, "ui_flows.py", name, topic], cwd=HERE, env=subprocess_env(config),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for name, topic in (("ui_pipeline", "agents"), ("ui_failing", "x"), ("ui_review", "durable"))
    }
    ids = {}
    for name, process in started.items():
        output, _ = process.communicate(timeout=300)
        assert process.returncode == 0, output
        ids[name] = next(line.split()[1] for line in output.splitlines() if line.startswith("EXEC "))
    return ids


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    config = tmp_path_factory.mktemp("ui-config")
    executions = _run_flows(config)
    server = subprocess.Popen(
        [str(KITARU), "ui", "--port", "0", "--no-open"], cwd=HERE, env=subprocess_env(config),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        first = server.stdout.readline() if server.stdout else ""
        assert first.startswith("Kitaru dashboard: http://127.0.0.1:"), first + (server.stderr.read() if server.stderr else "")
        url = first.split()[2]
        yield Site(config, url, executions)
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with chromium(tmp_path_factory.mktemp("chromium")) as driver:
        yield driver


def wait_until(driver: Any, condition: Any, what: str, timeout: float = 180) -> Any:
    """Wait for ``condition(driver)`` to be truthy (Selenium's explicit wait), with a screenshot on failure."""
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    # The execution page reloads itself when its execution changes: elements found before go stale.
    waiting = WebDriverWait(driver, timeout, poll_frequency=0.25, ignored_exceptions=(StaleElementReferenceException,))
    try:
        return waiting.until(condition)
    except TimeoutException:
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "ui-failure.png"))
        raise AssertionError(
            f"{what} never happened at {driver.current_url}; screenshot at test-artifacts/ui-failure.png.\n"
            f"Page text:\n{page_text(driver)[:3000]}"
        ) from None


def css(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, selector))


def confirm(driver: Any) -> None:
    """Accept the page's confirmation dialog."""
    wait_until(driver, lambda d: d.execute_script("return document.getElementById('confirm-dialog').open"),
               "the confirmation dialog opening", timeout=20)
    css(driver, "#confirm-ok")[0].click()


def screenshot_top(driver: Any, name: str) -> None:
    """Save a screenshot of the page's top under ``test-artifacts/`` (docs/dashboard.md shows them)."""
    ARTIFACTS.mkdir(exist_ok=True)
    driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(str(ARTIFACTS / name))
    assert (ARTIFACTS / name).stat().st_size > 10_000


def status_of(driver: Any) -> str:
    found = css(driver, "#execution-status")
    return found[0].text if found else ""


def test_the_list_shows_a_completed_a_failed_and_a_waiting_execution(site: Site, browser: Any) -> None:
    browser.get(site.url + "/executions")
    wanted = {site.executions[name]: status for name, status in
              (("ui_pipeline", "completed"), ("ui_failing", "failed"), ("ui_review", "waiting"))}

    def rows(driver: Any) -> dict[str, str]:
        return {row.get_attribute("data-exec-id"): row.get_attribute("data-status")
                for row in css(driver, "#execution-rows tr[data-exec-id]")}

    wait_until(browser, lambda d: all(rows(d).get(i) == s for i, s in wanted.items()), "the three rows")
    text = page_text(browser)
    for name in ("ui_pipeline", "ui_failing", "ui_review"):
        assert name in text
    assert "on review" in text  # the waiting row names its wait
    screenshot_top(browser, "ui-executions.png")

    # Filters narrow the list (status and flow), newest first.
    browser.get(site.url + "/executions?status=failed")
    wait_until(browser, lambda d: set(rows(d)) == {site.executions["ui_failing"]}, "the failed filter")
    browser.get(site.url + "/executions?flow=ui_review")
    wait_until(browser, lambda d: set(rows(d)) == {site.executions["ui_review"]}, "the flow filter")


def test_the_execution_page_shows_its_checkpoints_timeline_and_values(site: Site, browser: Any) -> None:
    exec_id = site.executions["ui_pipeline"]
    browser.get(f"{site.url}/executions/{exec_id}")
    names = [row.text.split()[0] for row in css(browser, ".tl-row:not(.tl-gaps) .tl-name")]
    assert names == ["ui_research", "ui_draft", "ui_publish"]
    bars = css(browser, ".tl-row:not(.tl-gaps) rect.seg-completed")
    assert len(bars) == 3
    # Bars are placed by start time: each starts after the one before.
    starts = [float(bar.get_attribute("x")) for bar in bars]
    assert starts == sorted(starts) and starts[-1] > starts[0]

    # A call's panel shows its input value and loads its output through the serializer.
    css(browser, "#call-ui_draft > summary")[0].click()
    draft = css(browser, "#call-ui_draft")[0]
    wait_until(browser, lambda d: "NOTES ABOUT AGENTS" in draft.text, "the draft's output preview")
    assert "from ui_research" in draft.text  # its input came from the research call
    research = css(browser, "#call-ui_research")[0]
    css(browser, "#call-ui_research > summary")[0].click()
    wait_until(browser, lambda d: '"agents"' in research.text, "the research call's parameter")
    assert "sources" in research.text  # kitaru.log() metadata

    # Logs of one checkpoint.
    from selenium.webdriver.support.ui import Select

    Select(css(browser, "#logs-checkpoint")[0]).select_by_visible_text("ui_research")
    css(browser, "#logs-load")[0].click()
    wait_until(browser, lambda d: "researching agents" in css(d, "#logs-output")[0].text, "the checkpoint's logs")
    assert "drafting from the notes" not in css(browser, "#logs-output")[0].text
    screenshot_top(browser, "ui-execution.png")


def test_a_failed_execution_shows_the_users_frames_and_offers_retry(site: Site, browser: Any) -> None:
    browser.get(f"{site.url}/executions/{site.executions['ui_failing']}")
    failure = css(browser, "section.failure")[0].text
    assert "cannot summarise 'notes about x'" in failure
    assert "ui_flows.py" in failure and "ui_explode" in failure
    assert "step_runner.py" not in failure and "base_step.py" not in failure
    assert "Kitaru/engine frames hidden" in failure
    buttons = [button.text for button in css(browser, "section.actions button")]
    assert "Retry" in buttons and "Replay" in buttons


def test_the_wait_form_answers_the_wait_and_resumes_to_completed(site: Site, browser: Any) -> None:
    exec_id = site.executions["ui_review"]
    browser.get(f"{site.url}/executions/{exec_id}")
    assert "Approve the draft?" in page_text(browser)
    screenshot_top(browser, "ui-wait.png")
    # The form is built from the wait's schema: a checkbox, a required text box, a number with its default.
    assert css(browser, "input[name='field.approved'][type='checkbox']")
    note = css(browser, "input[name='field.note']")[0]
    assert note.get_attribute("required") is not None
    assert css(browser, "input[name='field.score'][type='number']")[0].get_attribute("value") == "0"

    # Validated before sending: an empty required field stops the form in the browser.
    css(browser, "form.wait-form button[type='submit']")[0].click()
    assert not browser.execute_script("return document.getElementById('confirm-dialog').open")
    assert note.get_attribute("validationMessage")

    css(browser, "input[name='field.approved']")[0].click()
    note.send_keys("ship it")
    css(browser, "form.wait-form button[type='submit']")[0].click()
    confirm(browser)
    wait_until(browser, lambda d: status_of(d) == "completed", "the execution completing after the answer")
    css(browser, "#call-ui_publish > summary")[0].click()
    wait_until(browser, lambda d: "NOTES ABOUT DURABLE (ship it)" in css(d, "#call-ui_publish")[0].text,
               "the published value")

    item = site.kitaru_json("executions", "get", exec_id)
    assert item["status"] == "completed"
    assert [call["name"] for call in item["checkpoints"]] == ["ui_research", "ui_draft", "ui_publish"]


def test_a_replay_with_an_override_creates_a_new_execution_the_list_shows(site: Site, browser: Any) -> None:
    from selenium.webdriver.support.ui import Select

    source = site.executions["ui_pipeline"]
    before = set(site.list_ids())
    browser.get(f"{site.url}/executions/{source}")
    Select(css(browser, "#replay-from")[0]).select_by_visible_text("ui_draft")
    Select(css(browser, "#replay-override-call")[0]).select_by_visible_text("ui_research")
    box = css(browser, "#replay-override-value")[0]

    # Not JSON: refused in the browser, nothing is sent.
    box.send_keys("edited notes")
    css(browser, "form.replay-form button[type='submit']")[0].click()
    assert "Not valid JSON" in box.get_attribute("validationMessage")
    assert not browser.execute_script("return document.getElementById('confirm-dialog').open")

    box.clear()
    box.send_keys('"edited notes"')
    css(browser, "form.replay-form button[type='submit']")[0].click()
    confirm(browser)
    link = wait_until(browser, lambda d: [a for a in css(d, "section.action a") if "/executions/" in (a.get_attribute("href") or "")],
                      "the replay's new execution")[0]
    new_id = link.text.strip()
    assert new_id not in before and new_id != source

    browser.get(site.url + "/executions")
    wait_until(browser, lambda d: css(d, f"tr[data-exec-id='{new_id}'][data-status='completed']"),
               "the replayed execution in the list")

    item = site.kitaru_json("executions", "get", new_id)
    assert item["replay_info"]["source_exec_id"] == source
    assert item["replay_info"]["overrides"], item["replay_info"]
    publish = next(call for call in item["checkpoints"] if call["name"] == "ui_publish")
    assert publish["status"] == "completed"
    browser.get(f"{site.url}/executions/{new_id}")
    css(browser, "#call-ui_publish > summary")[0].click()
    wait_until(browser, lambda d: "EDITED NOTES (auto)" in css(d, "#call-ui_publish")[0].text, "the replayed output")
    facts = browser.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('.facts div')].map(d => "
        "[d.querySelector('dt').textContent, d.querySelector('dd').textContent.replace(/\\s+/g, ' ').trim()]))"
    )
    assert facts["Replay of"] == f"{source[:8]} from ui_draft; overrides: ui_research", facts


ACCESSIBLE_NAMES = """
const unnamed = [];
for (const el of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea')) {
  if (el.closest('dialog') && !el.closest('dialog').open) continue;
  let name = (el.getAttribute('aria-label') || '').trim();
  if (!name && el.getAttribute('aria-labelledby')) {
    name = el.getAttribute('aria-labelledby').split(' ').map(id => (document.getElementById(id) || {}).textContent || '').join(' ').trim();
  }
  if (!name && el.id) { const label = document.querySelector('label[for="' + el.id + '"]'); if (label) name = label.textContent.trim(); }
  if (!name && ['A', 'BUTTON'].includes(el.tagName)) name = el.textContent.trim();
  if (!name) name = (el.getAttribute('title') || '').trim();
  if (!name) unnamed.push(el.outerHTML.slice(0, 120));
}
return unnamed;
"""


def test_accessibility_every_control_has_a_label_and_the_keyboard_reaches_the_actions(
    site: Site, browser: Any
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    for path in ("/executions", f"/executions/{site.executions['ui_failing']}", "/flows"):
        browser.get(site.url + path)
        assert browser.execute_script(ACCESSIBLE_NAMES) == [], path
        assert browser.execute_script("return document.documentElement.lang") == "en"

    # Tab from the top: the skip link comes first, then the keyboard reaches the Retry button,
    # and focus is visible on it.
    browser.get(f"{site.url}/executions/{site.executions['ui_failing']}")
    focused = []
    for _ in range(60):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        focused.append(browser.execute_script(
            "const e = document.activeElement; return [e.tagName, e.textContent.trim().slice(0, 40), "
            "getComputedStyle(e).outlineStyle]"))
        if focused[-1][:2] == ["BUTTON", "Retry"]:
            break
    assert focused[0][1] == "Skip to content"
    assert focused[-1][:2] == ["BUTTON", "Retry"], focused
    assert focused[-1][2] != "none"  # a visible focus ring


def _http(site: Site, path: str, *, data: dict[str, str] | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
    """A plain HTTP request to the dashboard (no browser): status, body and headers."""
    import urllib.error
    import urllib.parse
    import urllib.request

    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(site.url + path, data=body, headers=headers or {})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=120) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


def _token(site: Site) -> str:
    status, html, _ = _http(site, "/executions")
    assert status == 200
    marker = '<meta name="kitaru-token" content="'
    return html.split(marker, 1)[1].split('"', 1)[0]


def test_changes_need_the_pages_token_and_requests_must_name_loopback(site: Site) -> None:
    failed = site.executions["ui_failing"]
    for path in (f"/executions/{failed}/retry", f"/executions/{failed}/cancel", f"/executions/{failed}/replay"):
        status, body, _ = _http(site, path, data={"from": "ui_research"})
        assert status == 403 and "token" in body, (path, status, body)
        status, _, _ = _http(site, path, data={"csrf_token": "forged", "from": "ui_research"})
        assert status == 403
    assert site.kitaru_json("executions", "get", failed)["status"] == "failed"  # nothing ran

    # A DNS name other than loopback's (DNS rebinding) gets no answer, GET or POST.
    status, body, _ = _http(site, "/executions", headers={"Host": f"attacker.example:{site.url.rsplit(':', 1)[1]}"})
    assert status == 421 and "only answers requests for 127.0.0.1" in body

    status, _, headers = _http(site, "/executions")
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"


def test_a_bad_override_is_refused_with_a_message_and_starts_nothing(site: Site) -> None:
    source = site.executions["ui_pipeline"]
    before = set(site.list_ids())
    status, body, _ = _http(site, f"/executions/{source}/replay", data={
        "csrf_token": _token(site), "from": "ui_draft", "override_call": "ui_research", "override_value": "edited",
    })
    assert status == 400
    assert "The override value is not valid JSON: Expecting value at line 1, column 1." in body
    assert set(site.list_ids()) == before


def test_secrets_in_metadata_are_never_rendered(site: Site) -> None:
    import html

    from tests.ui.ui_flows import SECRET_LOOKING_KEY

    status, page, _ = _http(site, f"/executions/{site.executions['ui_pipeline']}")
    assert status == 200
    page = html.unescape(page)
    assert '"sources": 3' in page  # the metadata is shown...
    assert '"api_key": "***"' in page  # ...with the secret-named value hidden
    assert SECRET_LOOKING_KEY not in page and SECRET_LOOKING_KEY[:8] not in page
