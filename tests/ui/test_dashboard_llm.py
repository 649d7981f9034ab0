"""Kitaru's dashboard shows LLM calls as the journal recorded them: plain HTTP, no browser.

A real flow (``llm_ui_flows.py``) makes three ``kitaru.llm()`` calls, two in
its body and one inside a checkpoint, in its own process with its own config
dir. The provider is :class:`RecordingServer` speaking OpenAI's Chat
Completions, reached by the official ``openai`` SDK through
``OPENAI_BASE_URL``; each call gets its own answer and token counts, and the
model's price is set in that config dir's ``kitaru.yaml``, so every cost is
known. Then the real CLI serves the dashboard (``kitaru ui --port 0
--no-open``) and the tests read its pages with :mod:`urllib`:

* the executions list (and the ``/executions/rows`` fragment it refreshes)
  shows the execution's total tokens and cost;
* the execution page shows one LLM-table row per call (name, model, tokens,
  latency, cost) under the checkpoint it ran in, and the ``N LLM calls · ...``
  summary among the facts;
* the artifact endpoint previews each call's prompt and answer, and
  ``?download=true`` sends the whole value as an attachment.

Every expected string is computed from what ``kitaru executions get -o json``
reports, so the page and the CLI must agree.
"""

from __future__ import annotations

import html
import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from kitaru.ui.previews import PREVIEW_CHARS
from tests.conftest import subprocess_env
from tests.llm.openai_protocol import SDK_ENVIRONMENT, chat_responder
from tests.llm.recording_server import RecordedRequest, RecordingServer
from tests.ui import llm_ui_flows

HERE = Path(__file__).resolve().parent
KITARU = Path(sys.executable).with_name("kitaru")
TOPIC = "durable agents"

pytestmark = pytest.mark.slow

PRICE = {"input_per_million": 3.0, "output_per_million": 12.0}
"""The price ``kitaru.yaml`` sets for the flow's model (dollars per million tokens)."""


@dataclass(frozen=True)
class Answer:
    """What the local provider answers to one of the flow's prompts."""

    text: str
    prompt_tokens: int
    completion_tokens: int


OUTLINE = Answer("OUTLINE-7Q: why retries must not pay twice", 1234, 567)
DRAFT = Answer("DRAFT-4K: durable agents replay from the journal", 2048, 999)
CRITIQUE = Answer("CRITIQUE-9Z: " + "tighten the intro and cite the journal. " * 120, 321, 45)
"""The last answer is longer than a preview, so the preview is cut and the download is not."""

ANSWERS = {"Outline": OUTLINE, "Write": DRAFT, "Critique": CRITIQUE}
"""Answers by the first word of the prompt (see the prompt builders in ``llm_ui_flows``)."""

PROMPTS = {
    "ui_outline": llm_ui_flows.outline_prompt(TOPIC),
    "ui_draft": llm_ui_flows.draft_prompt(OUTLINE.text),
    "ui_critique": llm_ui_flows.critique_prompt(DRAFT.text),
}
"""The prompt each call sends, by call name."""

RESPONSES = {"ui_outline": OUTLINE, "ui_draft": DRAFT, "ui_critique": CRITIQUE}
"""The answer each call gets, by call name."""


def answer_by_prompt(request: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
    """Answer each prompt with its own text and token counts (Chat Completions, auth checked)."""
    messages = (request.json or {}).get("messages") or [{"content": ""}]
    first_word = str(messages[-1].get("content", "")).split(" ", 1)[0]
    answer = ANSWERS.get(first_word)
    if answer is None:
        return 400, {"Content-Type": "text/plain"}, f"no answer for a prompt starting {first_word!r}".encode()
    respond = chat_responder(
        text=answer.text, prompt_tokens=answer.prompt_tokens, completion_tokens=answer.completion_tokens
    )
    return respond(request)


def dollars(answer: Answer) -> float:
    """What one answer costs at :data:`PRICE`."""
    paid = answer.prompt_tokens * PRICE["input_per_million"] + answer.completion_tokens * PRICE["output_per_million"]
    return paid / 1e6


# -- the site: one flow, one dashboard ------------------------------------------------------


@dataclass
class Site:
    """The dashboard's URL and what the CLI reports about the flow's execution."""

    url: str
    exec_id: str
    item: dict[str, Any]
    requests: list[RecordedRequest] = field(default_factory=list)

    @property
    def usage(self) -> dict[str, Any]:
        """The execution's ``llm_usage`` as ``kitaru executions get -o json`` reports it."""
        usage = self.item["llm_usage"]
        assert isinstance(usage, dict), self.item
        return usage

    def artifact_id(self, name: str, kind: str) -> str:
        """The id of the artifact ``name`` of ``kind`` (``prompt`` or ``response``)."""
        found = [a["artifact_id"] for a in self.item["artifacts"] if a["name"] == name and a["kind"] == kind]
        assert len(found) == 1, (name, kind, [(a["name"], a["kind"]) for a in self.item["artifacts"]])
        return str(found[0])

    def llm_records(self) -> list[tuple[str, str, dict[str, Any]]]:
        """``(checkpoint name, call name, record)`` for every recorded model call, in order."""
        return [
            (checkpoint["name"], call_name, record)
            for checkpoint in self.item["checkpoints"]
            for call_name, record in (checkpoint["metadata"].get("llm_calls") or {}).items()
        ]


def provider_environment(config: Path, provider_url: str) -> dict[str, str]:
    """The flow process's environment: its config dir, and the local provider as OpenAI's endpoint."""
    env = subprocess_env(config)
    for name in (*SDK_ENVIRONMENT, "KITARU_LLM_MOCK_RESPONSE"):
        env.pop(name, None)
    env.update(OPENAI_BASE_URL=provider_url + "/v1", OPENAI_API_KEY="sk-test-dashboard")
    return env


def run_llm_flow(config: Path, provider: RecordingServer) -> str:
    """Run ``ui_llm_writer`` in its own process; return its execution id."""
    result = subprocess.run(
        [sys.executable, "llm_ui_flows.py", TOPIC],
        cwd=HERE,
        env=provider_environment(config, provider.url),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "STATUS completed" in result.stdout, result.stdout
    return next(line.split()[1] for line in result.stdout.splitlines() if line.startswith("EXEC "))


def executions_get(config: Path, exec_id: str) -> dict[str, Any]:
    """``kitaru executions get ID -o json``'s item."""
    result = subprocess.run(
        [str(KITARU), "executions", "get", exec_id, "-o", "json"],
        env=subprocess_env(config),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    item = json.loads(result.stdout)["item"]
    assert isinstance(item, dict)
    return item


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    config = tmp_path_factory.mktemp("ui-llm-config")
    prices = {"version": 1, "llm_prices": {llm_ui_flows.MODEL: PRICE}}
    (config / "kitaru.yaml").write_text(json.dumps(prices))  # JSON is YAML
    with RecordingServer(answer_by_prompt) as provider:
        exec_id = run_llm_flow(config, provider)
    item = executions_get(config, exec_id)
    server = subprocess.Popen(
        [str(KITARU), "ui", "--port", "0", "--no-open"],
        cwd=HERE,
        env=subprocess_env(config),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = server.stdout.readline() if server.stdout else ""
        assert first.startswith("Kitaru dashboard: http://127.0.0.1:"), first + (
            server.stderr.read() if server.stderr else ""
        )
        yield Site(url=first.split()[2], exec_id=exec_id, item=item, requests=provider.requests)
    finally:
        server.terminate()
        server.wait(timeout=30)


def http_get(site: Site, path: str) -> tuple[int, str, dict[str, str]]:
    """A plain GET to the dashboard: status, body and headers (header names lower-cased)."""
    try:
        with urllib.request.urlopen(site.url + path, timeout=120) as response:
            return response.status, response.read().decode(), {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), {k.lower(): v for k, v in error.headers.items()}


def get_page(site: Site, path: str) -> str:
    """A page's HTML (status 200 asserted)."""
    status, body, _ = http_get(site, path)
    assert status == 200, (path, status, body[:2000])
    return body


# -- reading the pages ----------------------------------------------------------------------


@dataclass
class Row:
    """A table row: its attributes, cell texts, the table's label, the checkpoint panel it is in."""

    attrs: dict[str, str]
    cells: list[str]
    table: str
    checkpoint_panel: str
    preview_urls: list[str]


class PageReader(HTMLParser):
    """Collect table rows, header cells and the facts (``<dt>``/``<dd>`` pairs) of a dashboard page.

    Character references are unescaped in the text (``convert_charrefs``), and
    whitespace runs are folded to one space.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[Row] = []
        self.headers: list[str] = []
        self.facts: dict[str, str] = {}
        self._details: list[str] = []
        self._table = ""
        self._row: Row | None = None
        self._text: list[str] | None = None
        self._fact_name = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "details":
            self._details.append(values.get("id", ""))
            if self._row is not None and "data-preview-url" in values:
                self._row.preview_urls.append(values["data-preview-url"])
        elif tag == "table":
            self._table = values.get("aria-label", "")
        elif tag == "tr":
            panel = next((name for name in reversed(self._details) if name.startswith("call-")), "")
            self._row = Row(values, [], self._table, panel, [])
        elif tag in ("td", "th", "dt", "dd"):
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "details" and self._details:
            self._details.pop()
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        elif tag in ("td", "th", "dt", "dd") and self._text is not None:
            text = " ".join("".join(self._text).split())
            self._text = None
            if tag == "th":
                self.headers.append(text)
            elif tag == "td" and self._row is not None:
                self._row.cells.append(text)
            elif tag == "dt":
                self._fact_name = text
            elif tag == "dd":
                self.facts[self._fact_name] = text


def read_page(page: str) -> PageReader:
    reader = PageReader()
    reader.feed(page)
    reader.close()
    return reader


def execution_rows(page: str, exec_id: str) -> list[Row]:
    return [row for row in read_page(page).rows if row.attrs.get("data-exec-id") == exec_id]


def as_int(cell: str) -> int:
    """A token count cell as a number (``1,234`` or ``1234``)."""
    return int(cell.replace(",", ""))


# -- the tests ------------------------------------------------------------------------------


def test_the_cli_reports_the_calls_the_provider_answered(site: Site) -> None:
    """The premise of the page checks: the journal holds what the provider reported, priced."""
    assert [request.json["messages"][-1]["content"] for request in site.requests] == list(PROMPTS.values())
    assert [(checkpoint, name) for checkpoint, name, _ in site.llm_records()] == [
        ("ui_outline", "ui_outline"),
        ("ui_draft", "ui_draft"),
        ("ui_review_draft", "ui_critique"),
    ]
    answers = RESPONSES.values()
    assert site.usage["calls"] == 3
    assert site.usage["tokens_input"] == sum(answer.prompt_tokens for answer in answers)
    assert site.usage["tokens_output"] == sum(answer.completion_tokens for answer in answers)
    assert site.usage["cost_usd"] == pytest.approx(sum(dollars(answer) for answer in answers))
    assert site.usage["calls_with_unknown_cost"] == 0


def test_the_list_shows_the_executions_tokens_and_cost_as_the_cli_reports_them(site: Site) -> None:
    expected_tokens = f"{site.usage['total_tokens']:,}"
    expected_cost = f"${site.usage['cost_usd']:.6f}"
    assert "," in expected_tokens  # more than a thousand tokens: the separator is checked too

    page = get_page(site, "/executions")
    headers = read_page(page).headers
    tokens_column, cost_column = headers.index("Tokens"), headers.index("Cost")
    # The full page and the fragment the page refreshes itself with show the same row.
    for path, body in (("/executions", page), ("/executions/rows", get_page(site, "/executions/rows"))):
        rows = execution_rows(body, site.exec_id)
        assert len(rows) == 1, (path, [row.attrs for row in read_page(body).rows])
        cells = rows[0].cells
        assert cells[headers.index("Flow")] == "ui_llm_writer", (path, cells)
        assert cells[tokens_column] == expected_tokens, (path, cells)
        assert cells[cost_column] == expected_cost, (path, cells)


def test_the_execution_page_shows_each_llm_call_under_its_checkpoint(site: Site) -> None:
    page = get_page(site, f"/executions/{site.exec_id}")
    rows = [row for row in read_page(page).rows if row.table.startswith("LLM calls of ") and row.cells]
    records = site.llm_records()
    # Each LLM row is followed by the row holding its prompt and response previews.
    call_rows, preview_rows = rows[0::2], rows[1::2]
    assert len(call_rows) == len(preview_rows) == len(records), [row.cells for row in rows]
    for (checkpoint, name, record), row, previews in zip(records, call_rows, preview_rows, strict=True):
        assert row.checkpoint_panel == f"call-{checkpoint}", (name, row.checkpoint_panel)
        assert row.table == f"LLM calls of {checkpoint}"
        call, model, tokens_in, tokens_out, latency, cost = row.cells
        assert (call, model) == (name, record["resolved_model"])
        assert model == llm_ui_flows.MODEL
        assert as_int(tokens_in) == record["tokens_input"] == RESPONSES[name].prompt_tokens
        assert as_int(tokens_out) == record["tokens_output"] == RESPONSES[name].completion_tokens
        assert latency.endswith(" ms"), latency
        assert abs(float(latency.removesuffix(" ms")) - record["latency_ms"]) <= 0.5, (latency, record)
        assert cost == f"${record['cost_usd']:.6f}", (cost, record)
        base = f"/executions/{site.exec_id}/artifacts/"
        assert previews.preview_urls == [
            base + site.artifact_id(f"{name}_prompt", "prompt"),
            base + site.artifact_id(f"{name}_response", "response"),
        ], name

    usage = site.usage
    summary = (
        f"{usage['calls']} LLM calls · {usage['total_tokens']:,} tokens "
        f"({usage['tokens_input']:,} in, {usage['tokens_output']:,} out) · ${usage['cost_usd']:.6f}"
    )
    assert read_page(page).facts.get("LLM") == summary, read_page(page).facts
    assert summary in " ".join(html.unescape(page).split())


def preview(site: Site, artifact_id: str) -> dict[str, Any]:
    status, body, headers = http_get(site, f"/executions/{site.exec_id}/artifacts/{artifact_id}")
    assert status == 200, body
    assert headers["content-type"].startswith("application/json")
    shown = json.loads(body)
    assert isinstance(shown, dict) and set(shown) == {"type", "preview"}, shown
    return shown


@pytest.mark.parametrize("name", list(PROMPTS))
def test_the_artifact_endpoint_previews_each_calls_prompt_and_response(site: Site, name: str) -> None:
    prompt = preview(site, site.artifact_id(f"{name}_prompt", "prompt"))
    assert prompt["type"] == "list"  # the prompt is stored as chat messages, shown as JSON
    assert json.dumps(PROMPTS[name]) in prompt["preview"], prompt
    assert json.loads(prompt["preview"]) == [{"role": "user", "content": PROMPTS[name]}]

    response = preview(site, site.artifact_id(f"{name}_response", "response"))
    text = RESPONSES[name].text
    assert response["type"] == "str"
    if len(text) <= PREVIEW_CHARS:
        assert response["preview"] == text
    else:  # cut, and says how much is left for the download
        left_out = len(text) - PREVIEW_CHARS
        assert response["preview"] == (
            f"{text[:PREVIEW_CHARS]}\n… ({left_out:,} more characters: download the value to see them all)"
        )


@pytest.mark.parametrize(("name", "kind"), [("ui_critique", "response"), ("ui_draft", "prompt")])
def test_a_download_is_an_attachment_with_the_whole_value(site: Site, name: str, kind: str) -> None:
    artifact_id = site.artifact_id(f"{name}_{kind}", kind)
    status, body, headers = http_get(site, f"/executions/{site.exec_id}/artifacts/{artifact_id}?download=true")
    assert status == 200, body
    producing_call = next(a["producing_call"] for a in site.item["artifacts"] if a["artifact_id"] == artifact_id)
    if kind == "response":
        extension, media_type = "txt", "text/plain"
        assert body == RESPONSES[name].text  # the whole answer, longer than a preview
        assert len(body) > PREVIEW_CHARS
    else:
        extension, media_type = "json", "application/json"
        assert json.loads(body) == [{"role": "user", "content": PROMPTS[name]}]
    assert headers["content-type"] == f"{media_type}; charset=utf-8"
    filename = f"{producing_call}-{artifact_id[:8]}.{extension}"
    assert headers["content-disposition"] == f'attachment; filename="{filename}"'
