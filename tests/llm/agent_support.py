"""What the tool-calling tests share: the tool's run log, a provider that asks for the tool, counts.

The fixtures are imported by the test modules that use them (``from
tests.llm.agent_support import provider, tool_log``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, subprocess_env
from tests.llm.openai_protocol import SDK_ENVIRONMENT, tool_agent_responder
from tests.llm.recording_server import RecordingServer

KITARU = Path(sys.executable).with_name("kitaru")


@pytest.fixture
def tool_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The file the test flows' ``search_web`` appends a line to on every run."""
    path = tmp_path / "tool-runs.log"
    path.touch()
    monkeypatch.setenv("TOOL_AGENT_LOG", str(path))
    return path


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch, tool_log: Path) -> Iterator[RecordingServer]:
    """An OpenAI-protocol server that asks for ``search_web`` once, then answers from its result."""
    for name in SDK_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("KITARU_LLM_MOCK_RESPONSE", raising=False)
    with RecordingServer(tool_agent_responder()) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-kitaru")
        yield server


def tool_runs(log: Path) -> list[str]:
    """The queries the tool ran with, in order."""
    return log.read_text().splitlines()


def asked_for_tools(server: RecordingServer) -> int:
    """Requests answered with a tool call (no tool result in them yet)."""
    return sum(1 for request in server.requests if not any(m["role"] == "tool" for m in request.json["messages"]))


def final_requests(server: RecordingServer) -> list[dict[str, object]]:
    """The requests that carried a tool result (answered with the final text)."""
    return [request.json for request in server.requests if any(m["role"] == "tool" for m in request.json["messages"])]


def crash_in_the_final_request_then_retry(module: str, topic: str, tool_log: Path, config: Path) -> RecordingServer:
    """Run ``python -m module topic``, SIGKILL it while its final model request is in flight, then retry it.

    The tool has run and its checkpoint is journaled by then; the request
    the kill cut off never got its answer. Returns the server, for counts,
    after ``kitaru executions retry`` completed the execution.
    """
    final_arrived, release = threading.Event(), threading.Event()
    with RecordingServer(tool_agent_responder(final_arrived=final_arrived, hold_final=release)) as server:
        env = subprocess_env(
            config, OPENAI_BASE_URL=server.url + "/v1", OPENAI_API_KEY="sk-test-kitaru", TOOL_AGENT_LOG=str(tool_log)
        )
        for name in SDK_ENVIRONMENT:
            if name not in ("OPENAI_BASE_URL", "OPENAI_API_KEY"):
                env.pop(name, None)
        child = subprocess.Popen(
            [sys.executable, "-m", module, topic],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            assert final_arrived.wait(300), "the flow never sent its final request"
            os.killpg(child.pid, signal.SIGKILL)
            child.wait(60)
        finally:
            release.set()
        listed = subprocess.run(
            [str(KITARU), "executions", "list", "-o", "json"],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        exec_id = json.loads(listed.stdout)["items"][0]["exec_id"]
        retried = subprocess.run(
            [str(KITARU), "executions", "retry", exec_id, "-o", "json"],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert retried.returncode == 0, retried.stdout + retried.stderr
        assert json.loads(retried.stdout)["item"]["status"] == "completed", retried.stdout
    return server
