"""kitaru.llm(tools=..., response_format=...) in real flows: each model request and tool run journaled once.

The provider is :class:`RecordingServer` speaking Chat Completions
(:func:`tool_agent_responder`: it asks for ``search_web`` once, then answers
from its result), reached by the official ``openai`` SDK through
``OPENAI_BASE_URL``. The requests the server saw and the lines the tool
appended to its log are the proof that retry, a crash and replay never ask
the model or run the tool a second time.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel

import kitaru
from kitaru import KitaruClient
from kitaru.errors import KitaruExecutionError
from tests.llm.agent_support import (
    asked_for_tools,
    crash_in_the_final_request_then_retry,
    final_requests,
    provider,
    tool_log,
    tool_runs,
)
from tests.llm.anthropic_protocol import anthropic_responder
from tests.llm.flows import tool_agent
from tests.llm.openai_protocol import SDK_ENVIRONMENT, tool_agent_responder
from tests.llm.recording_server import RecordingServer

__all__ = ["provider", "tool_log"]  # fixtures


def test_the_loop_sends_tools_results_and_schema_the_way_the_provider_expects(
    provider: RecordingServer, tool_log: Path
) -> None:
    assert tool_agent.researcher.run("durable agents").wait() == "PUBLISHED: Brief (1 points)"
    first, final = (request.json for request in provider.requests)
    assert first["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "search_web",
                "description": "Search the web and return the top result titles.",
                "parameters": {
                    "additionalProperties": False,
                    "properties": {
                        "query": {"title": "Query", "type": "string", "description": "What to search for."},
                        "limit": {
                            "default": 2,
                            "title": "Limit",
                            "type": "integer",
                            "description": "How many titles to return.",
                        },
                    },
                    "required": ["query"],
                    "type": "object",
                },
            },
        }
    ]
    assert first["response_format"]["type"] == "json_schema"
    assert first["response_format"]["json_schema"]["name"] == "Brief"
    assert first["response_format"]["json_schema"]["schema"]["required"] == ["title", "points"]
    assert first["messages"] == [{"role": "user", "content": "Research durable agents"}]
    assert final["messages"][1:] == [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "search_web", "arguments": '{"query": "Research durable agents"}'},
                }
            ],
        },
        {
            "role": "tool",
            "tool_call_id": "call_1",
            "content": '["Research durable agents result 1", "Research durable agents result 2"]',
        },
    ]
    assert tool_runs(tool_log) == ["Research durable agents"]


def test_a_failed_flow_is_retried_without_asking_the_model_or_running_the_tool_again(
    provider: RecordingServer, tool_log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_flag = tmp_path / "fail"
    fail_flag.touch()
    monkeypatch.setenv("TOOL_AGENT_FAIL", str(fail_flag))
    handle = tool_agent.researcher.run("retries")
    with pytest.raises(KitaruExecutionError, match="publisher is down"):
        handle.wait()
    assert len(provider.requests) == 2 and tool_runs(tool_log) == ["Research retries"]

    fail_flag.unlink()
    retried = KitaruClient().executions.retry(handle.exec_id)
    assert str(retried.status) == "completed"
    assert len(provider.requests) == 2, "no model request was sent again"
    assert tool_runs(tool_log) == ["Research retries"], "the tool did not run again"

    execution = KitaruClient().executions.get(handle.exec_id)
    calls = [(call.name, call.checkpoint_type, str(call.status)) for call in execution.checkpoints]
    assert calls == [
        ("research", "llm_call", "completed"),
        ("research_search_web", "tool_call", "completed"),
        ("research_2", "llm_call", "completed"),
        ("publish", None, "completed"),
    ]
    assert execution.llm_usage["calls"] == 2
    assert execution.llm_usage["tokens_input"] == 2 * 23 and execution.llm_usage["tokens_output"] == 2 * 7
    price = kitaru.plugins.get_plugin_manager().llm_backends()["openai"].prices["gpt-4o-mini"]
    one = (23 * price.input_per_million + 7 * price.output_per_million) / 1e6
    assert execution.llm_usage["cost_usd"] == pytest.approx(2 * one)
    by_name = {call.name: call for call in execution.checkpoints}
    assert by_name["research"].metadata["llm_calls"]["research"]["tool_calls"] == 1
    artifacts = {artifact.name: artifact for artifact in execution.artifacts}
    assert artifacts["research_response"].load() == {
        "text": "",
        "tool_calls": [{"id": "call_1", "name": "search_web", "arguments": '{"query": "Research retries"}'}],
    }
    assert json.loads(artifacts["research_2_response"].load()) == {
        "title": "Brief",
        "points": ['["Research retries result 1", "Research retries result 2"]'],
    }


def test_a_replay_from_the_tool_call_sends_the_edited_result_to_the_model(
    provider: RecordingServer, tool_log: Path
) -> None:
    handle = tool_agent.plain_researcher.run("replays")
    assert handle.wait() == 'Found: ["Research replays result 1", "Research replays result 2"]'
    replayed = tool_agent.plain_researcher.replay(
        handle.exec_id, from_="llm_1_search_web", overrides={"checkpoint.llm_1_search_web": ["an edited result"]}
    )
    assert replayed.wait() == 'Found: ["an edited result"]'

    assert asked_for_tools(provider) == 1, "the model's first answer came from the journal"
    assert provider.requests[-1].json["messages"][-1]["content"] == '["an edited result"]'
    assert tool_runs(tool_log) == ["Research replays"], "an overridden tool does not run again"


def test_a_bad_tool_call_is_told_to_the_model_and_nothing_runs(monkeypatch: pytest.MonkeyPatch, tool_log: Path) -> None:
    for name in SDK_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    responder = tool_agent_responder(arguments=lambda text: {"query": 42, "extra": True})
    with RecordingServer(responder) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-kitaru")
        answer = tool_agent.plain_researcher.run("bad arguments").wait()
    assert tool_runs(tool_log) == []
    told = server.requests[-1].json["messages"][-1]
    assert told["role"] == "tool" and told["content"].startswith("Error: invalid arguments for 'search_web':")
    assert "query" in told["content"] and "extra" in told["content"]
    assert answer.startswith("Found: Error: invalid arguments")


def test_a_crash_in_the_middle_of_the_loop_loses_nothing_already_done(tool_log: Path, fresh_config_dir: Path) -> None:
    server = crash_in_the_final_request_then_retry("tests.llm.flows.tool_agent", "crashes", tool_log, fresh_config_dir)
    assert tool_runs(tool_log) == ["Research crashes"], "the tool did not run again"
    assert asked_for_tools(server) == 1, "the first model request was not sent again"
    finals = final_requests(server)
    assert len(finals) == 2, "only the request the crash cut off was sent again"
    assert finals[0] == finals[1]


def test_bad_tools_and_formats_are_refused_before_any_call() -> None:
    @kitaru.flow(cache=False)
    def misuse(kind: str) -> str:
        if kind == "lambda":
            return kitaru.llm("x", model="openai/gpt-4o-mini", tools=[lambda: 1])
        if kind == "varargs":

            def spread(*words: str) -> str:
                return ""

            return kitaru.llm("x", model="openai/gpt-4o-mini", tools=[spread])
        if kind == "format":
            return kitaru.llm("x", model="openai/gpt-4o-mini", response_format=dict)  # type: ignore[arg-type]
        return kitaru.llm("x", model="openai/gpt-4o-mini", tools=[tool_agent.search_web], max_tool_rounds=0)

    for kind, message in [
        ("lambda", r"Tool '<lambda>' needs a name"),
        ("varargs", r"takes \*words; a tool needs named arguments"),
        ("format", r"response_format=...\) takes a pydantic model class"),
        ("rounds", r"max_tool_rounds=...\) must be an integer >= 1"),
    ]:
        with pytest.raises(KitaruExecutionError, match=message):
            misuse.run(kind).wait()


class Brief(BaseModel):
    title: str
    points: list[str]


@kitaru.flow(cache=False)
def structured_by_prompt(model: str) -> dict[str, object]:
    return kitaru.llm("Brief me", model=model, response_format=Brief, name="brief").model_dump()


def test_a_backend_without_native_structured_output_is_asked_for_the_json_and_validated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in [*SDK_ENVIRONMENT, "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"]:
        monkeypatch.delenv(name, raising=False)
    fenced = '```json\n{"title": "Agents", "points": ["durable"]}\n```'
    with RecordingServer(anthropic_responder(fenced)) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-kitaru-test")
        assert structured_by_prompt.run("anthropic/claude-haiku-4-5").wait() == {
            "title": "Agents",
            "points": ["durable"],
        }
        sent = server.requests[0].json
    assert "response_format" not in sent and "output_format" not in sent
    assert "Answer with one JSON object and nothing else" in str(sent["system"])
    assert '"title"' in str(sent["system"]) and "named Brief" in str(sent["system"])


def test_an_answer_that_does_not_fit_fails_with_the_models_text(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [*SDK_ENVIRONMENT, "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"]:
        monkeypatch.delenv(name, raising=False)
    with RecordingServer(anthropic_responder("Sorry, I cannot write a brief today.")) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-kitaru-test")
        handle = structured_by_prompt.run("anthropic/claude-haiku-4-5")
        with pytest.raises(KitaruExecutionError) as raised:
            handle.wait()
    message = str(raised.value)
    assert "KitaruStructuredOutputError" in message
    assert "LLM call 'brief' answered text that is not a valid Brief" in message
    assert "Sorry, I cannot write a brief today." in message
    execution = KitaruClient().executions.get(handle.exec_id)
    assert [(call.name, str(call.status)) for call in execution.checkpoints] == [("brief", "failed")]


def test_structured_output_error_keeps_the_whole_text() -> None:
    from kitaru._llm.structured import parse_answer

    long_text = "x" * 5000
    with pytest.raises(kitaru.KitaruStructuredOutputError) as raised:
        parse_answer(Brief, long_text, call="brief")
    assert raised.value.text == long_text and "[...]" in str(raised.value)
    import pickle

    again = pickle.loads(pickle.dumps(raised.value))
    assert again.text == long_text and str(again) == str(raised.value)


def test_a_tool_call_is_never_served_from_another_executions_cache(
    provider: RecordingServer, tool_log: Path
) -> None:
    first = tool_agent.plain_researcher.run("caching", cache=True).wait()
    second = tool_agent.plain_researcher.run("caching", cache=True).wait()
    assert first == second
    assert tool_runs(tool_log) == ["Research caching", "Research caching"], "the tool ran in each execution"
    # The second execution's first request was identical: served from the cache. Its second one
    # carries the tool's new result (a new output), so it was sent: 2 + 1 requests.
    assert len(provider.requests) == 3


def test_async_tools_are_refused_with_a_clear_message() -> None:
    async def fetch_page(url: str) -> str:
        return url

    @kitaru.flow(cache=False)
    def with_async_tool() -> str:
        return kitaru.llm("x", model="openai/gpt-4o-mini", tools=[fetch_page])

    with pytest.raises(KitaruExecutionError, match=r"Tool 'fetch_page' is an async function"):
        with_async_tool.run().wait()
