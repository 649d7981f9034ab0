"""KitaruRunner: an OpenAI Agents SDK agent with a tool, durable inside a Kitaru flow.

The agent's model is OpenAI's Chat Completions (``OpenAIChatCompletionsModel``
over ``AsyncOpenAI``), reached through ``OPENAI_BASE_URL`` at
:class:`RecordingServer`; the server's request counts and the tool's run log
prove that a retry, a crash and a replay ask the model and run the tool once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

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
from tests.llm.flows import openai_agent
from tests.llm.openai_protocol import SDK_ENVIRONMENT, tool_agent_responder
from tests.llm.recording_server import RecordingServer

__all__ = ["provider", "tool_log"]  # fixtures

RESULTS = "['Research {topic} result 1', 'Research {topic} result 2']"
"""How the Agents SDK sends ``search_web``'s result (a list) to the model: ``str()`` of it."""


def test_a_failed_flow_is_retried_without_asking_the_model_or_running_the_tool_again(
    provider: RecordingServer, tool_log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_flag = tmp_path / "fail"
    fail_flag.touch()
    monkeypatch.setenv("TOOL_AGENT_FAIL", str(fail_flag))
    handle = openai_agent.research.run("retries")
    with pytest.raises(KitaruExecutionError, match="publisher is down"):
        handle.wait()
    assert len(provider.requests) == 2 and tool_runs(tool_log) == ["Research retries"]
    first = provider.requests[0].json
    assert first["model"] == "gpt-4o-mini" and first["tools"][0]["function"]["name"] == "search_web"
    tool_message = final_requests(provider)[0]["messages"][-1]
    assert tool_message["role"] == "tool" and tool_message["content"] == RESULTS.format(topic="retries")

    fail_flag.unlink()
    retried = KitaruClient().executions.retry(handle.exec_id)
    assert str(retried.status) == "completed"
    assert len(provider.requests) == 2, "no model request was sent again"
    assert tool_runs(tool_log) == ["Research retries"], "the tool did not run again"

    execution = KitaruClient().executions.get(handle.exec_id)
    calls = [(call.name, call.checkpoint_type, str(call.status)) for call in execution.checkpoints]
    assert calls == [
        ("researcher_request", "llm_call", "completed"),
        ("researcher_search_web", "tool_call", "completed"),
        ("researcher_request_2", "llm_call", "completed"),
        ("publish", None, "completed"),
    ]
    usage = execution.llm_usage
    assert (usage["calls"], usage["tokens_input"], usage["tokens_output"]) == (2, 2 * 23, 2 * 7)
    price = kitaru.plugins.get_plugin_manager().llm_backends()["openai"].prices["gpt-4o-mini"]
    assert usage["cost_usd"] == pytest.approx(2 * (23 * price.input_per_million + 7 * price.output_per_million) / 1e6)
    record = execution.checkpoints[0].metadata["llm_calls"]["researcher_request"]
    assert record["resolved_model"] == "openai/gpt-4o-mini"
    assert record["credential_source"] == "framework"


def test_a_retry_whose_conversation_changed_stops_at_the_request_instead_of_mixing_two_runs(
    provider: RecordingServer, tool_log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_flag = tmp_path / "fail"
    fail_flag.touch()
    monkeypatch.setenv("TOOL_AGENT_FAIL", str(fail_flag))
    handle = openai_agent.research.run("changes")
    with pytest.raises(KitaruExecutionError, match="publisher is down"):
        handle.wait()

    fail_flag.unlink()
    monkeypatch.setenv("RESEARCH_INSTRUCTIONS", "Research with the tool, in French.")
    retried = KitaruClient().executions.retry(handle.exec_id)
    assert str(retried.status) == "failed" and retried.failure is not None
    assert retried.failure.exception_type == "kitaru.errors.KitaruDivergenceError"
    assert "diverged from its journal at checkpoint `researcher_request`" in retried.failure.message
    assert len(provider.requests) == 2, "nothing was sent for the changed conversation"


def test_a_crash_in_the_middle_of_the_agent_run_loses_nothing_already_done(
    tool_log: Path, fresh_config_dir: Path
) -> None:
    server = crash_in_the_final_request_then_retry(
        "tests.llm.flows.openai_agent", "crashes", tool_log, fresh_config_dir
    )
    assert tool_runs(tool_log) == ["Research crashes"], "the tool did not run again"
    assert asked_for_tools(server) == 1, "the first model request was not sent again"
    assert len(final_requests(server)) == 2, "only the request the crash cut off was sent again"


def test_a_replay_from_the_tool_call_sends_the_edited_result_to_the_model(
    provider: RecordingServer, tool_log: Path
) -> None:
    handle = openai_agent.research.run("replays")
    assert handle.wait() == "PUBLISHED: Found: " + RESULTS.format(topic="replays")
    replayed = openai_agent.research.replay(
        handle.exec_id,
        from_="researcher_search_web",
        overrides={"checkpoint.researcher_search_web": ["an edited result"]},
    )
    assert replayed.wait() == "PUBLISHED: Found: ['an edited result']"
    assert asked_for_tools(provider) == 1, "the model's first answer came from the journal"
    assert final_requests(provider)[-1]["messages"][-1]["content"] == "['an edited result']"
    assert tool_runs(tool_log) == ["Research replays"], "an overridden tool does not run again"


def test_an_agent_with_a_model_name_in_an_async_flow_is_journaled_under_its_own_name(
    provider: RecordingServer, tool_log: Path
) -> None:
    handle = openai_agent.research_async.run("names")
    assert handle.wait() == "Found: " + RESULTS.format(topic="names")
    execution = KitaruClient().executions.get(handle.exec_id)
    assert [(call.name, call.checkpoint_type) for call in execution.checkpoints] == [
        ("Named_researcher_request", "llm_call"),
        ("Named_researcher_search_web", "tool_call"),
        ("Named_researcher_request_2", "llm_call"),
    ]
    assert execution.llm_usage["calls"] == 2

    retried = openai_agent.research_async.replay(handle.exec_id, from_="Named_researcher_request_2")
    assert retried.wait() == "Found: " + RESULTS.format(topic="names")
    assert asked_for_tools(provider) == 1 and tool_runs(tool_log) == ["Research names"]
    assert len(final_requests(provider)) == 2, "the replay sent the request it started from again"


def test_inside_a_checkpoint_the_agent_runs_inline_and_its_usage_is_recorded_there(
    provider: RecordingServer, tool_log: Path
) -> None:
    handle = openai_agent.research_in_a_checkpoint.run("inline")
    assert handle.wait() == "Found: " + RESULTS.format(topic="inline")
    [step] = KitaruClient().executions.get(handle.exec_id).checkpoints
    assert step.name == "research_step"
    assert sorted(step.metadata["llm_calls"]) == ["researcher_request", "researcher_request_2"]


def test_outside_a_flow_it_is_the_sdks_runner_and_streaming_in_a_flow_is_refused(
    provider: RecordingServer, tool_log: Path
) -> None:
    result = openai_agent.KitaruRunner.run_sync(openai_agent.researcher(), "Research alone")
    assert result.final_output == "Found: " + RESULTS.format(topic="alone")

    with pytest.raises(KitaruExecutionError, match="not journaled"):
        openai_agent.streamed.run("streams").wait()


def test_a_handed_off_agent_is_journaled_under_its_own_name(tool_log: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SDK_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    responder = tool_agent_responder(tool="transfer_to_researcher", arguments=lambda text: {})
    with RecordingServer(responder) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-kitaru")
        handle = openai_agent.triage.run("handoffs")
        assert handle.wait() == 'researcher: Found: {"assistant": "researcher"}'
        execution = KitaruClient().executions.get(handle.exec_id)
        assert [(call.name, call.checkpoint_type) for call in execution.checkpoints] == [
            ("triage_request", "llm_call"),
            ("researcher_request", "llm_call"),
        ]
        offered = [tool["function"]["name"] for tool in server.requests[1].json["tools"]]
        assert offered == ["search_web", "transfer_to_triage"], "the researcher's copy keeps its tool and handoff"

        replayed = openai_agent.triage.replay(handle.exec_id, from_="researcher_request")
        assert replayed.wait() == 'researcher: Found: {"assistant": "researcher"}'
        assert len(server.requests) == 3, "the replay asked the triage model nothing"
    assert tool_runs(tool_log) == []


def test_with_a_run_wide_model_name_every_request_is_named_after_the_starting_agent(
    tool_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in SDK_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    responder = tool_agent_responder(tool="transfer_to_researcher", arguments=lambda text: {})
    with RecordingServer(responder) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-kitaru")
        handle = openai_agent.research_with_a_run_model.run("overrides")
        assert handle.wait() == 'Found: {"assistant": "researcher"}'
        execution = KitaruClient().executions.get(handle.exec_id)
        assert [call.name for call in execution.checkpoints] == ["triage_request", "triage_request_2"]
        record = execution.checkpoints[0].metadata["llm_calls"]["triage_request"]
        assert record["resolved_model"] == "openai/gpt-4o-mini" and record["tokens_input"] == 23
        assert len(server.requests) == 2
