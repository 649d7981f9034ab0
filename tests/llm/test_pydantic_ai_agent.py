"""KitaruAgent: a Pydantic AI agent with a tool, durable inside a Kitaru flow.

The agent's model is OpenAI's Chat Completions (``openai-chat:gpt-4o-mini``),
reached through ``OPENAI_BASE_URL`` at :class:`RecordingServer`; the server's
request counts and the tool's run log prove that a retry, a crash and a
replay ask the model and run the tool once.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

import kitaru
from kitaru import KitaruClient
from kitaru.errors import KitaruExecutionError
from tests.conftest import _SESSION_CONFIG, REPO_ROOT, subprocess_env
from tests.llm.agent_support import (
    KITARU,
    asked_for_tools,
    crash_in_the_final_request_then_retry,
    final_requests,
    provider,
    tool_log,
    tool_runs,
)
from tests.llm.flows import pydantic_agent
from tests.llm.recording_server import RecordingServer

__all__ = ["provider", "tool_log"]  # fixtures

RESULTS = '["Research {topic} result 1","Research {topic} result 2"]'
"""How Pydantic AI sends ``search_web``'s result to the model (compact JSON)."""


def test_a_failed_flow_is_retried_without_asking_the_model_or_running_the_tool_again(
    provider: RecordingServer, tool_log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_flag = tmp_path / "fail"
    fail_flag.touch()
    monkeypatch.setenv("TOOL_AGENT_FAIL", str(fail_flag))
    handle = pydantic_agent.research.run("retries")
    with pytest.raises(KitaruExecutionError, match="publisher is down"):
        handle.wait()
    assert len(provider.requests) == 2 and tool_runs(tool_log) == ["Research retries"]
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
    assert record["provider_model"] == "gpt-4o-mini-2024-07-18"
    assert record["credential_source"] == "framework"


def test_a_crash_in_the_middle_of_the_agent_run_loses_nothing_already_done(
    tool_log: Path, fresh_config_dir: Path
) -> None:
    server = crash_in_the_final_request_then_retry(
        "tests.llm.flows.pydantic_agent", "crashes", tool_log, fresh_config_dir
    )
    assert tool_runs(tool_log) == ["Research crashes"], "the tool did not run again"
    assert asked_for_tools(server) == 1, "the first model request was not sent again"
    assert len(final_requests(server)) == 2, "only the request the crash cut off was sent again"


def test_a_replay_from_the_tool_call_sends_the_edited_result_to_the_model(
    provider: RecordingServer, tool_log: Path
) -> None:
    handle = pydantic_agent.research.run("replays")
    assert handle.wait() == "PUBLISHED: Found: " + RESULTS.format(topic="replays")
    replayed = pydantic_agent.research.replay(
        handle.exec_id,
        from_="researcher_search_web",
        overrides={"checkpoint.researcher_search_web": ["an edited result"]},
    )
    assert replayed.wait() == 'PUBLISHED: Found: ["an edited result"]'
    assert asked_for_tools(provider) == 1, "the model's first answer came from the journal"
    assert final_requests(provider)[-1]["messages"][-1]["content"] == '["an edited result"]'
    assert tool_runs(tool_log) == ["Research replays"], "an overridden tool does not run again"


def test_outside_a_flow_the_agent_runs_as_its_own_durable_execution(
    provider: RecordingServer, tool_log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = pydantic_agent.researcher.run_sync("Research alone")
    assert output == 'Found: ["Research alone result 1","Research alone result 2"]'
    [latest] = KitaruClient().executions.list(flow="pydantic_ai_agent", limit=1)
    execution = KitaruClient().executions.get(latest.exec_id)
    assert str(execution.status) == "completed"
    assert [call.name for call in execution.checkpoints] == [
        "researcher_request",
        "researcher_search_web",
        "researcher_request_2",
    ]


def test_a_standalone_agent_run_is_retried_from_the_cli_in_another_process(
    provider: RecordingServer, tool_log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "search-down"
    broken.touch()
    monkeypatch.setenv("TOOL_AGENT_TOOL_FAIL", str(broken))
    with pytest.raises(KitaruExecutionError, match="search service is down"):
        pydantic_agent.researcher.run_sync("Research later")
    [failed] = KitaruClient().executions.list(flow="pydantic_ai_agent", limit=1)
    assert len(provider.requests) == 1 and tool_runs(tool_log) == []

    broken.unlink()
    env = subprocess_env(
        _SESSION_CONFIG,
        OPENAI_BASE_URL=os.environ["OPENAI_BASE_URL"],
        OPENAI_API_KEY="sk-test-kitaru",
        TOOL_AGENT_LOG=str(tool_log),
    )
    retried = subprocess.run(
        [str(KITARU), "executions", "retry", failed.exec_id, "-o", "json"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert json.loads(retried.stdout)["item"]["status"] == "completed"
    assert asked_for_tools(provider) == 1, "the first model request came from the journal"
    assert tool_runs(tool_log) == ["Research later"]


def test_await_run_in_an_async_flow_is_journaled_the_same_way(provider: RecordingServer, tool_log: Path) -> None:
    handle = pydantic_agent.research_async.run("asyncio")
    assert handle.wait() == 'Found: ["Research asyncio result 1","Research asyncio result 2"]'
    execution = KitaruClient().executions.get(handle.exec_id)
    assert [(call.name, call.checkpoint_type) for call in execution.checkpoints] == [
        ("researcher_request", "llm_call"),
        ("researcher_search_web", "tool_call"),
        ("researcher_request_2", "llm_call"),
    ]
    assert len(provider.requests) == 2 and tool_runs(tool_log) == ["Research asyncio"]
    replayed = pydantic_agent.research_async.replay(handle.exec_id, from_="researcher_request_2")
    assert replayed.wait() == 'Found: ["Research asyncio result 1","Research asyncio result 2"]'
    assert asked_for_tools(provider) == 1 and tool_runs(tool_log) == ["Research asyncio"]


def test_tools_from_an_mcp_server_are_journaled_too(
    provider: RecordingServer, tool_log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_flag = tmp_path / "fail"
    fail_flag.touch()
    monkeypatch.setenv("TOOL_AGENT_FAIL", str(fail_flag))
    handle = pydantic_agent.research_with_mcp.run("mcp")
    with pytest.raises(KitaruExecutionError, match="publisher is down"):
        handle.wait()
    assert tool_runs(tool_log) == ["Research mcp"], "the MCP server ran the tool"
    fail_flag.unlink()
    assert str(KitaruClient().executions.retry(handle.exec_id).status) == "completed"
    assert len(provider.requests) == 2 and tool_runs(tool_log) == ["Research mcp"]
    execution = KitaruClient().executions.get(handle.exec_id)
    assert [(call.name, call.checkpoint_type) for call in execution.checkpoints] == [
        ("mcp_researcher_request", "llm_call"),
        ("mcp_researcher_search_web", "tool_call"),
        ("mcp_researcher_request_2", "llm_call"),
        ("publish", None),
    ]


def test_two_agents_of_different_modules_cannot_share_a_name() -> None:
    from pydantic_ai import Agent

    from kitaru.adapters.pydantic_ai import KitaruAgent
    from kitaru.errors import KitaruUsageError

    with pytest.raises(KitaruUsageError, match=r"Two agents are named 'researcher'.*tests.llm.flows.pydantic_agent"):
        KitaruAgent(Agent("openai-chat:gpt-4o-mini", name="researcher", defer_model_check=True))
    assert KitaruAgent(Agent("test", name="another"), name="researcher_two").name == "researcher_two"
