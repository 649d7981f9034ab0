"""kitaru.llm() in real flows against a local OpenAI-protocol server: journaled, never paid twice.

The provider is :class:`RecordingServer` speaking Chat Completions, reached by
the official ``openai`` SDK through ``OPENAI_BASE_URL``, exactly as a user
points Kitaru at a gateway. Flows run in this process on the session store;
the counts of requests the server saw are the proof that retry and replay
served recorded calls from the journal.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import kitaru
from kitaru import KitaruClient
from kitaru.errors import KitaruExecutionError
from tests.conftest import _SESSION_CONFIG, subprocess_env
from tests.llm.flows import llm_agent
from tests.llm.openai_protocol import SDK_ENVIRONMENT, chat_responder
from tests.llm.recording_server import RecordingServer

PROMPT_TOKENS, COMPLETION_TOKENS = 23, 7


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[RecordingServer]:
    for name in SDK_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("KITARU_LLM_MOCK_RESPONSE", raising=False)
    with RecordingServer(
        chat_responder(prompt_tokens=PROMPT_TOKENS, completion_tokens=COMPLETION_TOKENS)
    ) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-kitaru")
        yield server


def _prompts(server: RecordingServer) -> list[str]:
    return [request.json["messages"][-1]["content"] for request in server.requests]


def _expected_cost(calls: int) -> float:
    price = kitaru.plugins.get_plugin_manager().llm_backends()["openai"].prices["gpt-4o-mini"]
    one = (PROMPT_TOKENS * price.input_per_million + COMPLETION_TOKENS * price.output_per_million) / 1e6
    return calls * one


def test_a_failed_flow_is_retried_without_paying_for_its_llm_calls_again(
    provider: RecordingServer, tmp_path: Path
) -> None:
    fail_flag = tmp_path / "fail"
    fail_flag.touch()
    os.environ["LLM_AGENT_FAIL"] = str(fail_flag)
    handle = llm_agent.agent.run("durable agents", cache=False)
    with pytest.raises(KitaruExecutionError, match="publisher is down"):
        handle.wait()
    # research and the draft: two paid requests before publish failed.
    assert _prompts(provider) == [
        "Research durable agents",
        "Draft a post from: Durable agents never pay twice.",
    ]
    draft_request = provider.requests[1]
    assert draft_request.path == "/v1/chat/completions"
    assert draft_request.header("Authorization") == "Bearer sk-test-kitaru"
    assert draft_request.json["model"] == "gpt-4o-mini"
    assert draft_request.json["messages"][0] == {"role": "system", "content": "Be brief."}
    assert draft_request.json["temperature"] == 0.2

    # Tokens and cost as the CLI reports them (JSON).
    result = subprocess.run(
        [str(Path(sys.executable).with_name("kitaru")), "executions", "get", handle.exec_id, "-o", "json"],
        capture_output=True, text=True, env=subprocess_env(_SESSION_CONFIG, OPENAI_API_KEY="unused"), timeout=120,
    )
    assert result.returncode == 0, result.stderr
    usage = json.loads(result.stdout)["item"]["llm_usage"]
    assert usage["calls"] == 2
    assert usage["tokens_input"] == 2 * PROMPT_TOKENS
    assert usage["tokens_output"] == 2 * COMPLETION_TOKENS
    assert usage["total_tokens"] == 2 * (PROMPT_TOKENS + COMPLETION_TOKENS)
    assert usage["cost_usd"] == pytest.approx(_expected_cost(2))
    assert usage["calls_with_unknown_cost"] == 0

    # The publisher is back: retry in place. Not one more request reaches the provider.
    fail_flag.unlink()
    retried = KitaruClient().executions.retry(handle.exec_id)
    assert str(retried.status) == "completed"
    assert len(provider.requests) == 2
    assert kitaru.KitaruClient().executions.get(handle.exec_id).status == "completed"

    # What was journaled: a synthetic llm_call checkpoint per flow-body call.
    execution = KitaruClient().executions.get(handle.exec_id)
    by_name = {call.name: call for call in execution.checkpoints}
    research = next(c for c in execution.checkpoints if "research" in (c.metadata.get("llm_calls") or {}))
    assert research.checkpoint_type == "llm_call"
    record = research.metadata["llm_calls"]["research"]
    assert record["resolved_model"] == llm_agent.MODEL
    assert record["provider_model"] == "gpt-4o-mini-2024-07-18"
    assert record["credential_source"] == "environment"
    assert record["tokens_input"] == PROMPT_TOKENS and record["total_tokens"] == 30
    assert record["cost_usd"] == pytest.approx(_expected_cost(1))
    artifacts = {a.name: a for a in execution.artifacts}
    assert artifacts["research_prompt"].kind == "prompt"
    assert artifacts["research_prompt"].load() == [{"role": "user", "content": "Research durable agents"}]
    assert artifacts["research_response"].load() == "Durable agents never pay twice."
    assert by_name["publish"].status == "completed"
    assert execution.llm_usage["calls"] == 2
    os.environ.pop("LLM_AGENT_FAIL", None)


def test_replay_pays_only_for_calls_from_the_replay_point(provider: RecordingServer) -> None:
    # Caching is on by default, and an identical call (same model, prompt and
    # options) would be served from an earlier execution: switch it off here.
    handle = llm_agent.agent_with_summary.run("replays", cache=False)
    handle.wait()
    assert len(provider.requests) == 3
    # Replay from the draft call (llm_2): research is served from the journal.
    replayed = KitaruClient().executions.replay(handle.exec_id, from_="llm_2")
    assert str(replayed.status) == "completed"
    assert _prompts(provider)[3:] == [
        "Draft a post from: Durable agents never pay twice.",
        "Summarise: Durable agents never pay twice.",
    ]
    # Replaying from the last checkpoint pays for nothing but its inline call,
    # which is recorded on that checkpoint.
    before = len(provider.requests)
    again = KitaruClient().executions.replay(handle.exec_id, from_="summarise")
    assert _prompts(provider)[before:] == ["Summarise: Durable agents never pay twice."]
    summary = next(call for call in again.checkpoints if call.name == "summarise")
    assert set(summary.metadata["llm_calls"]) == {"llm_1st_summary"}
    assert summary.metadata["llm_calls"]["llm_1st_summary"]["tokens_output"] == COMPLETION_TOKENS


def test_the_mock_response_contacts_no_provider(
    provider: RecordingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KITARU_LLM_MOCK_RESPONSE", "mocked answer")
    monkeypatch.delenv("OPENAI_API_KEY")

    @kitaru.flow
    def mocked() -> str:
        return kitaru.llm("anything", model="someprovider/any-model")

    handle = mocked.run()
    assert handle.wait() == "mocked answer"
    assert provider.requests == []
    execution = KitaruClient().executions.get(handle.exec_id)
    record = execution.checkpoints[0].metadata["llm_calls"]["llm_1"]
    assert record == {
        "requested_model": "someprovider/any-model",
        "resolved_model": "someprovider/any-model",
        "credential_source": "mock",
        "latency_ms": 0,
    }
    assert execution.llm_usage["cost_usd"] is None


def test_aliases_resolve_and_travel_with_the_execution(
    provider: RecordingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = {"aliases": {"fast": {"model": "openai/gpt-4o-mini"}}, "default": "fast"}
    monkeypatch.setenv("KITARU_MODEL_REGISTRY", json.dumps(registry))

    @kitaru.flow(cache=False)
    def aliased() -> str:
        return kitaru.llm("Which model?") + " | " + kitaru.llm("Again", model="FAST", name="again")

    handle = aliased.run(image={"environment": {"TEAM": "agents"}})
    assert handle.wait() == "Durable agents never pay twice. | Durable agents never pay twice."
    assert [request.json["model"] for request in provider.requests] == ["gpt-4o-mini", "gpt-4o-mini"]
    execution = KitaruClient().executions.get(handle.exec_id)
    records = {
        name: record
        for call in execution.checkpoints
        for name, record in (call.metadata.get("llm_calls") or {}).items()
    }
    assert records["llm_1"]["alias"] == "fast" and records["llm_1"]["requested_model"] == "fast"
    assert records["again"]["alias"] == "fast" and records["again"]["requested_model"] == "FAST"
    spec = execution.frozen_execution_spec
    assert spec.model_registry == registry
    environment = spec.resolved_execution.image.environment
    assert json.loads(environment["KITARU_MODEL_REGISTRY"]) == registry
    assert environment["TEAM"] == "agents"


def test_an_identical_call_is_served_from_the_cache(provider: RecordingServer) -> None:
    @kitaru.flow
    def cached_twice(topic: str) -> str:
        return kitaru.llm(f"Cache {topic}", model=llm_agent.MODEL)

    first = cached_twice.run("this exact prompt").wait()
    second = cached_twice.run("this exact prompt").wait()
    assert first == second
    assert len(provider.requests) == 1  # same model, prompt and options: not paid twice


def test_a_mocked_answer_is_never_served_to_a_real_call(
    provider: RecordingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    @kitaru.flow
    def once(topic: str) -> str:
        return kitaru.llm(f"Mock or real {topic}", model=llm_agent.MODEL)

    monkeypatch.setenv("KITARU_LLM_MOCK_RESPONSE", "mocked")
    assert once.run("x").wait() == "mocked"
    monkeypatch.delenv("KITARU_LLM_MOCK_RESPONSE")
    assert once.run("x").wait() == "Durable agents never pay twice."
    assert len(provider.requests) == 1


def test_a_call_name_is_used_once_per_scope(provider: RecordingServer) -> None:
    @kitaru.flow(cache=False)
    def twice() -> str:
        kitaru.llm("first", model=llm_agent.MODEL, name="same")
        return kitaru.llm("second", model=llm_agent.MODEL, name="same")

    with pytest.raises(KitaruExecutionError, match=r"name='same'\) is already used in this flow"):
        twice.run().wait()
    assert len(provider.requests) == 1

