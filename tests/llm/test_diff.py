"""``kitaru executions diff``, ``KitaruClient().executions.diff`` and what they report (issue 17, section 1).

Two executions of ``diff_agent`` (tests/llm/flows/diff_flows.py) run in their
own process against the OpenAI-protocol test server, with different inputs:
A calls ``gpt-4o-mini`` and takes one branch, B calls ``gpt-4o`` for its
draft, retries ``flaky`` once and takes the other branch. The server counts a
prompt's words as its tokens, so the two drafts' token counts differ too. The
real CLI (in its own process) and the client (in this one) read them back
from the session store.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import kitaru
from kitaru import KitaruClient
from kitaru.client.diff import CALL_FIELDS, CHANGE_KINDS
from kitaru.jsonable import to_jsonable
from tests.conftest import _SESSION_CONFIG, subprocess_env
from tests.llm.openai_protocol import SDK_ENVIRONMENT, SNAPSHOTS, completion_body
from tests.llm.recording_server import RecordedRequest, RecordingServer, json_response

FLOWS = Path(__file__).resolve().parent / "flows" / "diff_flows.py"
KITARU = Path(sys.executable).with_name("kitaru")
COMPLETION_TOKENS = 5

PROMPTS = {
    ("a", "draft"): "Draft a post about durable agents in a brief style",
    ("a", "summary"): "Summarise durable agents",
    ("b", "draft"): "Draft a post about agent memory and replay in a long style",
    ("b", "expand"): "Expand the post about agent memory and replay",
    ("c", "draft"): "Draft a post about durable agents in a brief style",
}
"""The prompt of each LLM call of A and B (diff_flows.diff_agent)."""


def respond(request: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
    """Chat Completions: answers ``Answer: <prompt>``, and counts the prompt's words as its tokens."""
    prompt = request.json["messages"][-1]["content"]
    model = str(request.json["model"])
    body = completion_body(
        SNAPSHOTS.get(model, model),
        f"Answer: {prompt}",
        prompt_tokens=len(prompt.split()),
        completion_tokens=COMPLETION_TOKENS,
    )
    return json_response(body)


@dataclass(frozen=True)
class Runs:
    """The executions diff_flows.py made: A, B (same flow, other inputs), C (failed) and one of another flow."""

    a: str
    b: str
    c: str
    other: str
    requests: int


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    root = tmp_path_factory.mktemp("diff")
    with RecordingServer(respond) as server:
        env = subprocess_env(
            _SESSION_CONFIG,
            OPENAI_BASE_URL=server.url + "/v1",
            OPENAI_API_KEY="sk-test-kitaru",
            DIFF_FLAKY_FLAG=str(root / "flaky"),
        )
        for name in SDK_ENVIRONMENT:
            if name not in ("OPENAI_BASE_URL", "OPENAI_API_KEY"):
                env.pop(name, None)
        done = subprocess.run(
            [sys.executable, str(FLOWS), str(root / "ids.json")],
            cwd=FLOWS.parent,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        prompts = [request.json["messages"][-1]["content"] for request in server.requests]
    assert prompts == list(PROMPTS.values())
    ids = json.loads((root / "ids.json").read_text())
    yield Runs(a=ids["a"], b=ids["b"], c=ids["c"], other=ids["other"], requests=len(prompts))


def kitaru_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the real CLI on the session store, 200 columns wide."""
    return subprocess.run(
        [str(KITARU), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=subprocess_env(_SESSION_CONFIG, COLUMNS="200"),
    )


def diff_json(*args: str) -> dict[str, Any]:
    result = kitaru_cli("executions", "diff", *args, "-o", "json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["command"] == "executions.diff"
    return payload["item"]


def usage(*calls: tuple[str, str]) -> dict[str, Any]:
    """The ``llm_usage`` the server's answers to these (side, call) prompts add up to."""
    prices = kitaru.plugins.get_plugin_manager().llm_backends()["openai"].prices
    models = {("a", "draft"): "gpt-4o-mini", ("b", "draft"): "gpt-4o"}
    tokens_in = sum(len(PROMPTS[call].split()) for call in calls)
    cost = 0.0
    for call in calls:
        price = prices[models.get(call, "gpt-4o-mini")]
        cost += (
            len(PROMPTS[call].split()) * price.input_per_million + COMPLETION_TOKENS * price.output_per_million
        ) / 1e6
    return {
        "calls": len(calls),
        "tokens_input": tokens_in,
        "tokens_output": COMPLETION_TOKENS * len(calls),
        "total_tokens": tokens_in + COMPLETION_TOKENS * len(calls),
        "cost_usd": pytest.approx(cost),
        "calls_with_unknown_cost": 0,
        "calls_with_usage": len(calls),
        "currency": "USD",
    }


def test_every_call_is_matched_and_each_says_what_changed(runs: Runs) -> None:
    item = diff_json(runs.a[:8], runs.b)
    assert (item["a"], item["b"]) == (runs.a, runs.b)
    assert item["same_flow"] is True and item["warnings"] == []
    assert item["flows"] == {"a": "diff_agent", "b": "diff_agent"}
    calls = {call["name"]: call for call in item["checkpoints"]}
    # Call order: A's calls, then B's own where B made them.
    assert list(calls) == ["research", "fixed", "draft", "flaky", "summary", "expand"]
    assert {name: (call["change"], call["changed"]) for name, call in calls.items()} == {
        "research": ("changed", ["inputs", "output"]),
        "fixed": ("same", []),
        "draft": ("changed", ["inputs", "output", "model", "tokens"]),
        "flaky": ("changed", ["attempts"]),
        "summary": ("removed", []),
        "expand": ("added", []),
    }
    assert item["counts"] == {"same": 1, "changed": 3, "added": 1, "removed": 1}

    research = calls["research"]
    assert research["a"]["inputs"] == {"topic": "durable agents", "style": "brief"}
    assert research["b"]["inputs"] == {"topic": "agent memory and replay", "style": "long"}
    assert research["a"]["output"] == {"topic": "durable agents", "sources": ["journal", "docs"], "depth": 2}
    assert research["b"]["output"]["followups"] == ["memory", "replay"]

    draft = calls["draft"]
    assert (draft["a"]["model"], draft["b"]["model"]) == (["openai/gpt-4o-mini"], ["openai/gpt-4o"])
    assert draft["a"]["tokens"] == {"input": 10, "output": COMPLETION_TOKENS, "total": 15}
    assert draft["b"]["tokens"] == {"input": 12, "output": COMPLETION_TOKENS, "total": 17}
    assert draft["a"]["output"] == f"Answer: {PROMPTS['a', 'draft']}"
    assert draft["a"]["inputs"]["request"]["messages"] == [{"role": "user", "content": PROMPTS["a", "draft"]}]
    assert draft["a"]["checkpoint_type"] == "llm_call"
    assert (calls["flaky"]["a"]["attempts"], calls["flaky"]["b"]["attempts"]) == (1, 2)
    assert calls["flaky"]["a"]["status"] == calls["flaky"]["b"]["status"] == "completed"
    assert calls["summary"]["b"] is None and calls["summary"]["a"]["output"] == f"Answer: {PROMPTS['a', 'summary']}"
    assert calls["expand"]["a"] is None and calls["expand"]["b"]["model"] == ["openai/gpt-4o-mini"]

    # The flow inputs and results.
    assert item["inputs"] == {
        "a": {"topic": "durable agents", "style": "brief"},
        "b": {"topic": "agent memory and replay", "style": "long"},
        "changed": ["topic", "style"],
    }
    result = item["result"]
    assert result["a"] == {
        "topic": "durable agents",
        "draft": f"Answer: {PROMPTS['a', 'draft']}",
        "tail": f"Answer: {PROMPTS['a', 'summary']}",
        "constant": "the same every time",
    }
    assert result["b"]["tail"] == f"Answer: {PROMPTS['b', 'expand']}"
    assert (result["changed"], result["unknown"], result["unavailable"]) == (True, False, {})

    # Tokens and cost side by side: exactly what the server counted.
    assert item["llm"]["a"] == usage(("a", "draft"), ("a", "summary"))
    assert item["llm"]["b"] == usage(("b", "draft"), ("b", "expand"))
    assert item["llm"]["changed"] == ["tokens_input", "total_tokens", "cost_usd"]


def test_the_text_view_puts_changed_rows_first(runs: Runs) -> None:
    result = kitaru_cli("executions", "diff", runs.a, runs.b[:8])
    assert result.returncode == 0, result.stderr
    text = result.stdout
    rows = re.findall(r"^\s*(research|fixed|draft|flaky|summary|expand)\s+(same|changed|added|removed)\b", text, re.M)
    assert rows == [
        ("research", "changed"),
        ("draft", "changed"),
        ("flaky", "changed"),
        ("expand", "added"),
        ("summary", "removed"),
        ("fixed", "same"),
    ]
    assert "model openai/gpt-4o-mini→openai/gpt-4o" in text and "tokens 15→17" in text and "attempts 1→2" in text
    assert "topic: durable agents → agent memory and replay" in text
    assert "3 changed, 1 added, 1 removed, 1 same" in text
    assert "2 calls, 23 tokens (13 in, 10 out)" in text  # A: 10 + 3 words in, 5 + 5 out
    assert "2 calls, 30 tokens (20 in, 10 out)" in text
    assert "== research: output ==" not in text  # whole values only with --full


def test_full_shows_a_unified_diff_for_text_and_a_key_level_diff_for_objects(runs: Runs) -> None:
    result = kitaru_cli("executions", "diff", runs.a, runs.b, "--full")
    assert result.returncode == 0, result.stderr
    blocks = {block.split(" ==\n", 1)[0]: block.split(" ==\n", 1)[1] for block in result.stdout.split("== ")[1:]}
    draft = blocks["draft: output"].splitlines()
    assert draft[:2] == [f"--- A {runs.a[:8]} draft output", f"+++ B {runs.b[:8]} draft output"]
    assert draft[2].startswith("@@")
    assert f"-Answer: {PROMPTS['a', 'draft']}" in draft and f"+Answer: {PROMPTS['b', 'draft']}" in draft
    research = blocks["research: output"].strip().splitlines()
    assert research == [
        f"--- A {runs.a[:8]} research output",
        f"+++ B {runs.b[:8]} research output",
        '~ topic: "durable agents" → "agent memory and replay"',
        "~ depth: 2 → 4",
        '+ followups: ["memory", "replay"]',
    ]
    assert '~ style: "brief" → "long"' in blocks["flow inputs"]
    # Nested objects are compared key by key: the llm call's request changed its model and messages.
    assert blocks["draft: inputs"].strip().splitlines()[2:] == [
        '~ request.requested_model: "openai/gpt-4o-mini" → "openai/gpt-4o"',
        '~ request.model: "openai/gpt-4o-mini" → "openai/gpt-4o"',
        f'~ request.messages: [{{"role": "user", "content": "{PROMPTS["a", "draft"]}"}}] → '
        f'[{{"role": "user", "content": "{PROMPTS["b", "draft"]}"}}]',
    ]
    assert blocks["expand (added): output"].strip() == f"Answer: {PROMPTS['b', 'expand']}"


def test_the_client_returns_what_the_cli_prints(runs: Runs) -> None:
    cli = diff_json(runs.a, runs.b)
    client = KitaruClient().executions.diff(runs.a[:10], runs.b[:7])
    assert to_jsonable(client) == cli
    assert [call.change for call in client.checkpoints] == [call["change"] for call in cli["checkpoints"]]


def test_an_execution_diffed_with_itself_is_all_same(runs: Runs) -> None:
    item = diff_json(runs.b, runs.b[:6])
    assert {call["change"] for call in item["checkpoints"]} == {"same"}
    assert item["counts"] == {"same": 5, "changed": 0, "added": 0, "removed": 0}
    assert item["inputs"]["changed"] == [] and item["result"]["changed"] is False
    assert item["llm"]["changed"] == []


def test_a_failed_call_changes_status_and_the_failed_execution_has_no_result(runs: Runs) -> None:
    item = diff_json(runs.a, runs.c)
    assert item["status"] == {"a": "completed", "b": "failed"}
    assert [(call["name"], call["change"], call["changed"]) for call in item["checkpoints"]] == [
        ("research", "same", []),
        ("fixed", "same", []),
        ("draft", "same", []),
        ("flaky", "changed", ["output", "status", "attempts"]),
        ("summary", "removed", []),
    ]
    flaky = item["checkpoints"][3]
    assert (flaky["a"]["output"], flaky["b"]["output"]) == ("steady post", None)
    assert item["inputs"]["changed"] == []
    assert item["result"]["a"]["topic"] == "durable agents" and item["result"]["b"] is None
    # A failed execution's result is known: none. So the result changed; it is not "unknown".
    assert (item["result"]["changed"], item["result"]["unknown"]) == (True, False)
    assert item["result"]["unavailable"] == {}
    assert item["llm"]["b"] == usage(("c", "draft"))
    text = kitaru_cli("executions", "diff", runs.a, runs.c)
    assert text.returncode == 0, text.stderr
    assert re.search(r"^\s*flaky\s+changed\s+output, status completed→failed, attempts 1→2", text.stdout, re.M)
    assert re.search(r"Result\s.*→ none \(failed\)", text.stdout), text.stdout


def test_executions_of_different_flows_are_compared_with_a_warning(runs: Runs) -> None:
    item = diff_json(runs.a, runs.other)
    assert item["same_flow"] is False
    assert item["flows"] == {"a": "diff_agent", "b": "diff_other_flow"}
    assert item["warnings"] == [
        "The executions ran different flows (diff_agent and diff_other_flow): their checkpoint calls are "
        "matched by name all the same."
    ]
    assert [(call["name"], call["change"]) for call in item["checkpoints"]] == [
        ("research", "removed"),
        ("fixed", "same"),
        ("draft", "removed"),
        ("flaky", "removed"),
        ("summary", "removed"),
    ]
    text = kitaru_cli("executions", "diff", runs.a, runs.other)
    assert text.returncode == 0
    assert "Warning: The executions ran different flows (diff_agent and diff_other_flow)" in text.stderr


def test_unknown_ids_are_errors_in_the_json_contract(runs: Runs) -> None:
    result = kitaru_cli("executions", "diff", runs.a, "ffffff", "-o", "json")
    assert result.returncode == 1 and result.stdout == ""
    error = json.loads(result.stderr)
    assert error["command"] == "executions.diff"
    assert error["error"]["type"] == "KitaruStateError" and "ffffff" in error["error"]["message"]


def test_a_value_that_cannot_be_loaded_is_reported_not_fatal(runs: Runs) -> None:
    """Deleting the stored file of one of A's outputs: the diff says so and compares the rest."""
    execution = KitaruClient().executions.get(runs.a)
    call = next(call for call in execution.checkpoints if call.name == "fixed")
    artifact = next(ref for ref in call.artifacts if ref.save_type == "step_output")
    from kitaru.engine import get_engine

    uri = Path(get_engine().runs.get_artifact(artifact.artifact_id).uri)
    assert uri.exists()
    shutil.rmtree(uri) if uri.is_dir() else uri.unlink()
    item = diff_json(runs.a, runs.b)
    fixed = next(call for call in item["checkpoints"] if call["name"] == "fixed")
    assert fixed["change"] == "same" and fixed["unknown"] == ["output"]
    assert fixed["a"]["output"] is None and fixed["b"]["output"] == "the same every time"
    assert fixed["a"]["unavailable"]["output"].startswith("could not be loaded")
    # The result is a dict built in the flow body (stored inline), so it still compares.
    assert item["result"]["unknown"] is False
    text = kitaru_cli("executions", "diff", runs.a, runs.b)
    assert text.returncode == 0, text.stderr
    assert re.search(r"^\s*fixed\s+same\s+output unknown \(not loadable\)\s+\(unavailable\)", text.stdout, re.M)


def test_the_change_kinds_and_fields_are_the_documented_ones() -> None:
    assert CHANGE_KINDS == ("same", "changed", "added", "removed")
    assert CALL_FIELDS == ("inputs", "output", "status", "attempts", "model", "tokens")
