"""Cassettes: record an execution's model calls once, run its flow offline (issue 17, section 2).

``writer`` and ``researcher`` (tests/llm/flows/cassette_flows.py) run in their
own processes against the OpenAI-protocol test server, which counts the
requests it gets. The real CLI exports an execution as a cassette; then the
server is shut down and the flows run again, in new processes, with
``KITARU_CASSETTE`` set and no credential in their environment.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import _SESSION_CONFIG, REPO_ROOT, subprocess_env
from tests.llm.openai_protocol import SDK_ENVIRONMENT, SNAPSHOTS, completion_body, tool_agent_responder
from tests.llm.recording_server import RecordedRequest, RecordingServer, json_response

KITARU = Path(sys.executable).with_name("kitaru")
TOPIC = "durable agents"
COMPLETION_TOKENS = 5
TOOLS = tool_agent_responder()


def respond(request: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
    """Answers ``Answer: <prompt>`` (the prompt's words are its tokens); a request with tools goes to the tool agent."""
    if request.json.get("tools"):
        return TOOLS(request)
    prompt = request.json["messages"][-1]["content"]
    model = str(request.json["model"])
    body = completion_body(
        SNAPSHOTS.get(model, model),
        f"Answer: {prompt}",
        prompt_tokens=len(prompt.split()),
        completion_tokens=COMPLETION_TOKENS,
    )
    return json_response(body)


def run_flow(
    flow: str, topic: str, out: Path, *, server: RecordingServer | None = None, **extra: str
) -> dict[str, Any]:
    """Run a flow of cassette_flows.py in its own process; without ``server``, with no provider credentials."""
    env = subprocess_env(_SESSION_CONFIG, TOOL_AGENT_LOG=str(out.with_suffix(".tools.log")), **extra)
    for name in SDK_ENVIRONMENT:
        env.pop(name, None)
    if server is not None:
        env.update(OPENAI_BASE_URL=server.url + "/v1", OPENAI_API_KEY="sk-test-kitaru")
    else:
        env["OPENAI_BASE_URL"] = "http://127.0.0.1:9/v1"  # nothing listens there: a request would fail
    done = subprocess.run(
        [sys.executable, "-m", "tests.llm.flows.cassette_flows", flow, topic, str(out)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    outcome: dict[str, Any] = json.loads(out.read_text())
    return outcome


def kitaru_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI on the session store."""
    return subprocess.run(
        [str(KITARU), *args], capture_output=True, text=True, timeout=300, env=subprocess_env(_SESSION_CONFIG)
    )


def cli_json(*args: str) -> dict[str, Any]:
    done = kitaru_cli(*args, "-o", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    payload: dict[str, Any] = json.loads(done.stdout)
    return payload


def get(exec_id: str) -> dict[str, Any]:
    item: dict[str, Any] = cli_json("executions", "get", exec_id)["item"]
    return item


def llm_records(execution: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every ``llm_calls`` record of an execution, by call name."""
    records: dict[str, dict[str, Any]] = {}
    for call in execution["checkpoints"]:
        records.update(call["metadata"].get("llm_calls") or {})
    return records


@dataclass(frozen=True)
class Recorded:
    """The recorded executions, their cassettes, and how many requests the server got."""

    writer: dict[str, Any]
    researcher: dict[str, Any]
    cassette: Path
    tools_cassette: Path
    plain_cassette: Path
    requests: int
    root: Path
    agent: dict[str, Any]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    root = tmp_path_factory.mktemp("cassettes")
    with RecordingServer(respond) as server:
        writer = run_flow("writer", TOPIC, root / "writer.json", server=server)
        researcher = run_flow("researcher", TOPIC, root / "researcher.json", server=server)
        agent = run_flow("agent", TOPIC, root / "agent.json", server=server)
        requests = len(server.requests)
    assert "result" in writer and "result" in researcher and "result" in agent, (writer, researcher, agent)
    cassette, tools_cassette, plain = root / "writer.cassette.json", root / "tools.json", root / "plain.json"
    cli_json("executions", "export", writer["exec_id"][:8], "--cassette", str(cassette))
    cli_json("executions", "export", researcher["exec_id"], "--cassette", str(tools_cassette), "--tools")
    cli_json("executions", "export", researcher["exec_id"], "--cassette", str(plain))
    cli_json("executions", "export", agent["exec_id"], "--cassette", str(root / "agent.cassette.json"), "--tools")
    yield Recorded(writer, researcher, cassette, tools_cassette, plain, requests, root, agent)


def test_an_offline_run_gives_the_same_result_without_a_request_or_a_credential(recorded: Recorded) -> None:
    # writer: style, draft, summary; researcher and the Pydantic AI agent: the tool call, then the answer.
    assert recorded.requests == 7
    with RecordingServer(respond) as server:  # listening, but not where the flows are pointed: must stay unused
        offline = run_flow("writer", TOPIC, recorded.root / "offline.json", KITARU_CASSETTE=str(recorded.cassette))
        research = run_flow(
            "researcher", TOPIC, recorded.root / "offline-research.json", KITARU_CASSETTE=str(recorded.tools_cassette)
        )
        assert server.requests == []
    assert offline["result"] == recorded.writer["result"]
    assert offline["exec_id"] != recorded.writer["exec_id"]
    assert research["result"] == recorded.researcher["result"] == "PUBLISHED: Brief (1 points)"


def test_a_new_input_fails_at_once_with_a_miss_that_names_the_call(recorded: Recorded) -> None:
    missed = run_flow("writer", "agent memory", recorded.root / "miss.json", KITARU_CASSETTE=str(recorded.cassette))
    assert "Cassette miss (KitaruCassetteMiss): LLM call 'draft' is not in the cassette" in missed["error"], missed
    execution = get(missed["exec_id"])
    assert execution["status"] == "failed"
    failure = execution["failure"]
    assert failure["exception_type"].rsplit(".", 1)[-1] == "KitaruCassetteMiss"
    assert f"LLM call 'draft' is not in cassette {recorded.cassette} (mode offline)." in failure["message"]
    # The difference from the closest recorded call: its messages, recorded (-) against requested (+).
    assert "Closest recorded call: 'draft'" in failure["message"]
    assert '-      "content": "Draft a post about durable agents covering 2 points",' in failure["message"]
    assert '+      "content": "Draft a post about agent memory covering 2 points",' in failure["message"]
    names = [call["name"] for call in execution["checkpoints"]]
    assert names[:2] == ["style", "outline"]  # style was answered from the cassette; draft failed at once
    draft = next(call for call in execution["checkpoints"] if call["name"] == "draft")
    assert (draft["status"], len(draft["attempts"])) == ("failed", 1)


def test_the_cassette_is_readable_json_with_a_version_and_each_call(recorded: Recorded) -> None:
    text = recorded.cassette.read_text()
    data = json.loads(text)
    assert text == json.dumps(data, indent=2, sort_keys=True) + "\n"  # indented, stable key order
    assert data["version"] == 1
    assert data["source"] == {"exec_id": recorded.writer["exec_id"], "flow": "writer"}
    assert [(call["kind"], call["name"]) for call in data["calls"]] == [
        ("llm", "style"),
        ("llm", "draft"),
        ("llm", "summary"),
    ]
    draft = data["calls"][1]
    prompt = "Draft a post about durable agents covering 2 points"
    assert draft["request"] == {
        "model": "openai/gpt-4o-mini",
        "messages": [{"role": "user", "content": prompt}],
        "tools": None,
        "response_format": None,
    }
    assert draft["response"] == {"text": f"Answer: {prompt}", "tool_calls": []}
    assert draft["usage"]["provider_model"] == "gpt-4o-mini-2024-07-18"
    assert (draft["usage"]["tokens_input"], draft["usage"]["tokens_output"]) == (len(prompt.split()), 5)
    assert draft["usage"]["cost_usd"] > 0
    assert data["tool_calls"] == []


def test_tools_adds_the_tool_calls_and_a_tool_conversation_is_exported_whole(recorded: Recorded) -> None:
    data = json.loads(recorded.tools_cassette.read_text())
    assert data["tool_calls"] == [
        {
            "name": "research_search_web",
            "tool": "search_web",
            "arguments": {"query": f"Research {TOPIC}"},
            "result": [f"Research {TOPIC} result 1", f"Research {TOPIC} result 2"],
        }
    ]
    first, final = data["calls"]
    assert (first["name"], final["name"]) == ("research", "research_2")
    assert first["request"]["tools"][0]["name"] == "search_web"
    assert first["request"]["response_format"]["name"] == "Brief"
    assert first["response"]["tool_calls"][0]["name"] == "search_web"
    assert final["request"]["messages"][-1]["role"] == "tool"  # the tool's result, as it was sent
    assert json.loads(recorded.plain_cassette.read_text())["tool_calls"] == []  # only with --tools


def test_usage_and_cost_are_recorded_as_in_the_original_and_the_execution_is_marked(recorded: Recorded) -> None:
    offline = run_flow("writer", TOPIC, recorded.root / "usage.json", KITARU_CASSETTE=str(recorded.cassette))
    original, replayed = get(recorded.writer["exec_id"]), get(offline["exec_id"])
    assert replayed["llm_usage"] == original["llm_usage"]
    assert original["llm_usage"]["calls"] == 3 and original["llm_usage"]["cost_usd"] > 0
    kept = ("tokens_input", "tokens_output", "total_tokens", "cost_usd", "price_source", "provider_model")
    for name, record in llm_records(replayed).items():
        first = llm_records(original)[name]
        assert {key: record.get(key) for key in kept} == {key: first.get(key) for key in kept}
        assert (first["credential_source"], record["credential_source"]) == ("environment", "cassette")
    assert replayed["cassette"] == {"path": str(recorded.cassette.resolve()), "mode": "offline"}
    assert original["cassette"] is None
    text = kitaru_cli("executions", "get", offline["exec_id"])
    assert text.returncode == 0 and "Cassette" in text.stdout and "(offline)" in text.stdout


def test_record_mode_sends_only_the_misses_and_appends_them(recorded: Recorded) -> None:
    cassette = recorded.root / "recording.json"
    shutil.copyfile(recorded.cassette, cassette)
    with RecordingServer(respond) as server:
        first = run_flow(
            "writer",
            "agent memory",
            recorded.root / "record.json",
            server=server,
            KITARU_CASSETTE=str(cassette),
            KITARU_CASSETTE_MODE="record",
        )
        sent = [request.json["messages"][-1]["content"] for request in server.requests]
    assert "result" in first, first
    # style is in the cassette (the same prompt for every topic); draft and summary are not.
    assert sent == ["Draft a post about agent memory covering 2 points", "Summarise the post about agent memory"]
    calls = json.loads(cassette.read_text())["calls"]
    assert [call["name"] for call in calls] == ["style", "draft", "summary", "draft", "summary"]
    assert calls[3]["request"]["messages"][0]["content"] == sent[0]
    assert get(first["exec_id"])["cassette"] == {"path": str(cassette.resolve()), "mode": "record"}
    # The appended calls now serve the new input offline.
    again = run_flow("writer", "agent memory", recorded.root / "again.json", KITARU_CASSETTE=str(cassette))
    assert again["result"] == first["result"]


def test_a_missing_cassette_or_an_unknown_mode_is_refused_before_the_flow_runs(tmp_path: Path) -> None:
    from kitaru.errors import KitaruUsageError
    from kitaru.testing import cassette

    with pytest.raises(KitaruUsageError, match="does not exist. Record one with: kitaru executions export"):
        with cassette(tmp_path / "none.json"):
            pass
    with pytest.raises(KitaruUsageError, match="Use one of: offline, record"):
        with cassette(tmp_path / "none.json", mode="replay"):
            pass
    with cassette(tmp_path / "new.json", mode="record") as path:
        assert os.environ["KITARU_CASSETTE"] == str(path) and os.environ["KITARU_CASSETTE_MODE"] == "record"
    assert "KITARU_CASSETTE" not in os.environ


def test_an_agents_model_requests_are_exported_and_served_offline(recorded: Recorded) -> None:
    cassette = recorded.root / "agent.cassette.json"
    data = json.loads(cassette.read_text())
    assert [(call["kind"], call["name"]) for call in data["calls"]] == [
        ("agent", "researcher_request"),
        ("agent", "researcher_request_2"),
    ]
    first = data["calls"][0]
    assert set(first["request"]) == {"agent", "model", "conversation"} and first["request"]["agent"] == "researcher"
    assert first["usage"]["tokens_input"] == 23 and first["prompt"]  # the messages, for reading
    assert [call["tool"] for call in data["tool_calls"]] == ["search_web"]
    with RecordingServer(respond) as server:
        offline = run_flow("agent", TOPIC, recorded.root / "agent-offline.json", KITARU_CASSETTE=str(cassette))
        assert server.requests == []
    assert offline["result"] == recorded.agent["result"]
    assert get(offline["exec_id"])["llm_usage"] == get(recorded.agent["exec_id"])["llm_usage"]
    missed = run_flow("agent", "agent memory", recorded.root / "agent-miss.json", KITARU_CASSETTE=str(cassette))
    assert "Agent model request 'researcher_request' is not in the cassette" in missed["error"], missed


INSIDE_A_CHECKPOINT = """
import sys
import kitaru
from kitaru.testing import cassette
from tests.llm.flows.pydantic_agent import researcher


@kitaru.checkpoint
def research_inside(topic: str) -> str:
    return str(researcher.run_sync(topic).output)


@kitaru.flow(cache=False)
def checkpointed_agent(topic: str) -> str:
    return research_inside(topic)


if __name__ == "__main__":
    with cassette(sys.argv[1]):
        try:
            checkpointed_agent.run("durable agents").wait()
        except kitaru.KitaruExecutionError as error:
            print("FAILED", error)
        else:
            print("SENT")
"""


def test_an_offline_cassette_refuses_an_agent_request_it_cannot_serve(recorded: Recorded, tmp_path: Path) -> None:
    """An agent run inside a checkpoint is not served from a cassette; offline, it must not reach the provider either."""
    script = tmp_path / "checkpointed_agent.py"
    script.write_text(INSIDE_A_CHECKPOINT)
    env = subprocess_env(_SESSION_CONFIG, PYTHONPATH=str(REPO_ROOT))
    with RecordingServer(respond) as server:
        env.update(OPENAI_BASE_URL=server.url + "/v1", OPENAI_API_KEY="sk-test-kitaru")
        done = subprocess.run(
            [sys.executable, str(script), str(recorded.root / "agent.cassette.json")],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
        )
        assert server.requests == []
    assert done.returncode == 0, done.stdout + done.stderr
    assert "FAILED" in done.stdout and "KitaruCassetteMiss" in done.stdout, done.stdout + done.stderr
    assert "not served from cassette" in done.stdout + done.stderr
