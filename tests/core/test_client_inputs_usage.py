"""What a checkpoint call received (``CheckpointCall.inputs``) and LLM usage in execution summaries.

Real flows on a brand-new config dir, each run as a user would run it (a
separate Python process), then read back through the real ``kitaru`` console
script with ``-o json``, so the values checked are the ones a script or the
dashboard gets:

* :mod:`tests.core.flows.input_flows`: ``research(topic, depth=2)`` gets plain
  values, ``write_up(research(...), style="brief")`` gets ``research``'s
  output as an artifact; a replay that overrides ``research``'s output shows
  the edited value as ``write_up``'s input, still traced to ``research``;
* :mod:`tests.llm.flows.llm_agent`: three ``kitaru.llm()`` calls (two in the
  flow body, one inside a checkpoint) against the local OpenAI-protocol
  server, reached by the official ``openai`` SDK; ``executions list`` must
  report the same ``llm_usage`` as ``executions get``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT, subprocess_env
from tests.llm.openai_protocol import SDK_ENVIRONMENT, chat_responder
from tests.llm.recording_server import RecordingServer

KITARU = str(Path(sys.executable).with_name("kitaru"))
TIMEOUT = 300
PROMPT_TOKENS, COMPLETION_TOKENS = 23, 7

RUN_INPUTS_FLOW = "from tests.core.flows import input_flows; input_flows.main()"
RUN_LLM_FLOW = (
    "from tests.llm.flows import llm_agent\n"
    "handle = llm_agent.agent_with_summary.run('list usage', cache=False)\n"
    "handle.wait()\n"
    "print(handle.exec_id)\n"
)


@dataclass(frozen=True)
class Store:
    """A brand-new config dir and the processes that use it."""

    config: Path

    def run(self, *command: str, **env: str) -> str:
        """Run ``command`` from the repository root on this store; return its stdout."""
        clean = {key: value for key, value in subprocess_env(self.config, **env).items() if key not in SDK_ENVIRONMENT}
        done = subprocess.run(
            list(command), cwd=REPO_ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=TIMEOUT
        )
        assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def run_flow(self, code: str, **env: str) -> str:
        """Run a flow in its own Python process; return the execution id it prints last."""
        return self.run(sys.executable, "-c", code, **env).strip().splitlines()[-1]

    def kitaru_json(self, *args: str) -> Any:
        return json.loads(self.run(KITARU, *args, "-o", "json"))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return Store(tmp_path_factory.mktemp("inputs-usage") / "config")


@pytest.fixture(scope="module")
def report(store: Store) -> dict[str, Any]:
    """``executions get`` of one run of ``inputs_report("durable")``."""
    exec_id = store.run_flow(RUN_INPUTS_FLOW)
    return store.kitaru_json("executions", "get", exec_id)["item"]


@pytest.fixture(scope="module")
def llm_exec_id(store: Store) -> Iterator[str]:
    """An execution that made three LLM calls through the local OpenAI-protocol server."""
    responder = chat_responder(prompt_tokens=PROMPT_TOKENS, completion_tokens=COMPLETION_TOKENS)
    with RecordingServer(responder) as server:
        exec_id = store.run_flow(RUN_LLM_FLOW, OPENAI_BASE_URL=server.url + "/v1", OPENAI_API_KEY="sk-test-kitaru")
        assert len(server.requests) == 3
    yield exec_id


def _calls(execution: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {call["name"]: call for call in execution["checkpoints"]}


def _output_id(call: dict[str, Any]) -> str:
    outputs = [artifact["artifact_id"] for artifact in call["artifacts"] if artifact["save_type"] == "step_output"]
    assert len(outputs) == 1, call["artifacts"]
    return outputs[0]


# -- checkpoint inputs ----------------------------------------------------------


def test_plain_values_are_inputs_with_their_value(report: dict[str, Any]) -> None:
    research = _calls(report)["research"]
    assert research["inputs"] == [
        {"name": "topic", "value": "durable", "artifact_id": None, "producing_call": None},
        {"name": "depth", "value": 2, "artifact_id": None, "producing_call": None},
    ]


def test_an_output_passed_on_is_an_artifact_input_traced_to_its_call(report: dict[str, Any]) -> None:
    calls = _calls(report)
    assert list(calls) == ["research", "write_up"]
    assert calls["write_up"]["inputs"] == [
        {"name": "style", "value": "brief", "artifact_id": None, "producing_call": None},
        {"name": "notes", "value": None, "artifact_id": _output_id(calls["research"]), "producing_call": "research"},
    ]


def test_an_overridden_output_is_the_consumers_input_traced_to_the_overridden_call(
    store: Store, report: dict[str, Any]
) -> None:
    replayed = store.kitaru_json(
        "executions",
        "replay",
        report["exec_id"],
        "--from",
        "write_up",
        "--overrides",
        json.dumps({"checkpoint.research": "edited notes"}),
    )["item"]
    calls = _calls(store.kitaru_json("executions", "get", replayed["exec_id"])["item"])
    edited = _output_id(calls["research"])
    assert calls["research"]["overridden"] is True
    assert edited != _output_id(_calls(report)["research"])
    assert calls["write_up"]["inputs"] == [
        {"name": "style", "value": "brief", "artifact_id": None, "producing_call": None},
        {"name": "notes", "value": None, "artifact_id": edited, "producing_call": "research"},
    ]


# -- LLM usage in summaries -------------------------------------------------------


def test_list_summaries_carry_the_same_llm_usage_as_get(store: Store, report: dict[str, Any], llm_exec_id: str) -> None:
    detailed = store.kitaru_json("executions", "get", llm_exec_id)["item"]["llm_usage"]
    expected_tokens = (3, 3 * PROMPT_TOKENS, 3 * COMPLETION_TOKENS)
    assert (detailed["calls"], detailed["tokens_input"], detailed["tokens_output"]) == expected_tokens
    assert detailed["cost_usd"] is not None and detailed["calls_with_unknown_cost"] == 0

    summaries = {item["exec_id"]: item for item in store.kitaru_json("executions", "list")["items"]}
    assert summaries[llm_exec_id]["llm_usage"] == detailed
    assert summaries[llm_exec_id]["checkpoints"] == []  # still a summary
    assert summaries[report["exec_id"]]["llm_usage"] is None  # no LLM call made
