"""OpenTelemetry traces of real executions, received by a real OTLP/HTTP receiver.

Flows (tests/core/flows/traced_flows.py) run in their own processes with the
standard OTLP environment pointing at :class:`tests.otlp_receiver.OtlpReceiver`,
which decodes what the official exporter sends with the official
``opentelemetry-proto`` messages. LLM calls go to the OpenAI-protocol
:class:`tests.llm.recording_server.RecordingServer`. Retries and resumes run
through the real ``kitaru`` CLI.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, subprocess_env
from tests.llm.openai_protocol import SDK_ENVIRONMENT, chat_responder, tool_agent_responder
from tests.llm.recording_server import RecordingServer
from tests.otlp_receiver import OtlpReceiver, ReceivedSpan

FLOWS_FILE = Path(__file__).resolve().parent / "flows" / "traced_flows.py"
KITARU = Path(sys.executable).with_name("kitaru")
PROMPT_TOKENS, COMPLETION_TOKENS = 23, 7
CLIENT_KIND = 3  # OTLP's SPAN_KIND_CLIENT


class Project:
    """A user project holding the traced flows, with its own store, state files and environment."""

    def __init__(self, root: Path, receiver: OtlpReceiver, provider: RecordingServer) -> None:
        self.root = root
        self.state = root / "state"
        self.state.mkdir()
        self.config = root / "config"
        self.config.mkdir()
        self.project = root / "project"
        self.project.mkdir()
        shutil.copy(FLOWS_FILE, self.project / "traced_flows.py")
        self.receiver = receiver
        self.provider = provider

    def env(self, *, traced: bool = True, **extra: str) -> dict[str, str]:
        env = subprocess_env(self.config)
        # A developer's own provider and OpenTelemetry settings never leak in.
        for name in [name for name in env if name in SDK_ENVIRONMENT or name.startswith("OTEL_")]:
            del env[name]
        env.update(
            TRACED_STATE=str(self.state),
            OPENAI_BASE_URL=self.provider.url + "/v1",
            OPENAI_API_KEY="sk-test-kitaru",
            KITARU_WAIT_POLL_INTERVAL="0.2",
            NO_COLOR="1",
        )
        if traced:
            env.update(OTEL_EXPORTER_OTLP_ENDPOINT=self.receiver.url, OTEL_BSP_SCHEDULE_DELAY="50")
        env.update(extra)
        return env

    def run(self, argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
        traced = env.pop("traced", "yes") == "yes"
        return subprocess.run(
            argv,
            cwd=self.project,
            env=self.env(traced=traced, **env),
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=300,
        )

    def run_flow(self, *args: str, **env: str) -> tuple[str, str, dict[str, object]]:
        """Run a flow of traced_flows.py; return its execution id, status and tracing state."""
        result = self.run([sys.executable, "traced_flows.py", *args], **env)
        assert result.returncode == 0, result.stdout + result.stderr
        lines = dict(
            line.split(" ", 1) for line in result.stdout.splitlines() if line.startswith(("EXEC ", "STATUS ", "OTEL "))
        )
        return lines["EXEC"], lines["STATUS"], json.loads(lines.get("OTEL", "{}"))

    def kitaru(self, *args: str) -> str:
        result = self.run([str(KITARU), *args])
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as server:
        yield server


@pytest.fixture
def project(tmp_path: Path, receiver: OtlpReceiver) -> Iterator[Project]:
    with RecordingServer(chat_responder(prompt_tokens=PROMPT_TOKENS, completion_tokens=COMPLETION_TOKENS)) as provider:
        yield Project(tmp_path, receiver, provider)


def flow_spans(spans: list[ReceivedSpan], exec_id: str) -> list[ReceivedSpan]:
    """The flow spans of an execution, in arrival order (one per run of its body)."""
    return [
        span
        for span in spans
        if span.name.startswith("flow ") and span.attributes.get("kitaru.execution.id") == exec_id
    ]


def wait_for_runs(receiver: OtlpReceiver, exec_id: str, runs: int) -> list[ReceivedSpan]:
    """Wait until ``runs`` flow spans of ``exec_id`` arrived; return every span received."""
    return receiver.wait_for(
        lambda spans: len(flow_spans(spans, exec_id)) >= runs, what=f"{runs} flow span(s) of execution {exec_id}"
    )


def trace_of(spans: list[ReceivedSpan], root: ReceivedSpan) -> dict[str, ReceivedSpan]:
    """The spans of ``root``'s trace by name (names are unique within these traces)."""
    members = [span for span in spans if span.trace_id == root.trace_id]
    by_name = {span.name: span for span in members}
    assert len(by_name) == len(members), [span.name for span in members]
    return by_name


def test_an_execution_is_one_trace_of_its_checkpoints_attempts_llm_call_and_wait(project: Project) -> None:
    exec_id, status, _ = project.run_flow("traced_agent", "durable agents")
    assert status == "waiting"
    spans = wait_for_runs(project.receiver, exec_id, 1)

    [flow] = flow_spans(spans, exec_id)
    assert flow.name == "flow traced_agent"
    assert flow.parent_id == ""  # the root of its own trace
    assert flow.attributes == {
        "kitaru.execution.id": exec_id,
        "kitaru.flow.name": "traced_agent",
        "kitaru.stack": "default",
        "kitaru.execution.continued": False,
        "kitaru.execution.status": "waiting",
    }
    assert flow.resource["service.name"] == "kitaru"
    assert flow.scope == "kitaru"
    assert flow.links == []

    trace = trace_of(spans, flow)
    assert set(trace) == {
        "flow traced_agent",
        "checkpoint fetch",
        "checkpoint flaky",
        "checkpoint draft",
        "chat gpt-4o-mini",
        "wait approve",
    }
    checkpoints = [trace[f"checkpoint {name}"] for name in ("fetch", "flaky", "draft")]
    for index, (span, name) in enumerate(zip(checkpoints, ("fetch", "flaky", "llm_call"), strict=True)):
        assert span.parent_id == flow.span_id
        assert span.status == "UNSET"
        assert span.attributes["kitaru.execution.id"] == exec_id
        assert span.attributes["kitaru.checkpoint.name"] == name
        assert span.attributes["kitaru.checkpoint.index"] == index
        assert span.attributes["kitaru.checkpoint.source"] == "executed"
        assert span.attributes["kitaru.checkpoint.status"] == "completed"
        # The call id is the id of the attempt that gave the output.
        assert span.attributes["kitaru.checkpoint.call_id"] == span.events[-1].attributes["kitaru.attempt.id"]
    assert trace["checkpoint draft"].attributes["kitaru.checkpoint.type"] == "llm_call"

    # The retried checkpoint: one event per attempt, the first failed.
    flaky = trace["checkpoint flaky"]
    assert flaky.attributes["kitaru.checkpoint.attempts"] == 2
    assert [event.name for event in flaky.events] == ["kitaru.attempt", "kitaru.attempt"]
    failed, succeeded = (event.attributes for event in flaky.events)
    assert failed["kitaru.attempt.number"] == 1 and failed["kitaru.attempt.status"] == "failed"
    assert failed["exception.type"] == "RuntimeError"
    assert failed["exception.message"] == "flaky service hiccup"
    assert succeeded["kitaru.attempt.number"] == 2 and succeeded["kitaru.attempt.status"] == "completed"
    assert failed["kitaru.attempt.id"] != succeeded["kitaru.attempt.id"]
    assert trace["checkpoint fetch"].attributes["kitaru.checkpoint.attempts"] == 1

    # The LLM call, in its checkpoint, with the GenAI semantic conventions.
    chat = trace["chat gpt-4o-mini"]
    assert chat.parent_id == trace["checkpoint draft"].span_id
    assert chat.kind == CLIENT_KIND
    assert chat.status == "UNSET"
    assert {
        key: chat.attributes[key]
        for key in (
            "gen_ai.operation.name",
            "gen_ai.provider.name",
            "gen_ai.system",
            "gen_ai.request.model",
            "gen_ai.response.model",
            "gen_ai.request.max_tokens",
            "gen_ai.usage.input_tokens",
            "gen_ai.usage.output_tokens",
            "kitaru.llm.name",
        )
    } == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.system": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.request.max_tokens": 50,
        "gen_ai.usage.input_tokens": PROMPT_TOKENS,
        "gen_ai.usage.output_tokens": COMPLETION_TOKENS,
        "kitaru.llm.name": "draft",
    }
    assert chat.attributes["kitaru.llm.cost_usd"] > 0
    assert len(project.provider.requests) == 1

    wait = trace["wait approve"]
    assert wait.parent_id == flow.span_id
    assert wait.attributes == {
        "kitaru.execution.id": exec_id,
        "kitaru.wait.name": "approve",
        "kitaru.wait.question": "Publish the draft?",
        "kitaru.wait.timeout_s": 0.0,
        "kitaru.wait.outcome": "paused",
    }

    # Resuming (another process) is a new trace, linked to the first, for the same execution.
    project.kitaru("executions", "input", exec_id, "--value", "true")
    project.kitaru("executions", "resume", exec_id)
    spans = wait_for_runs(project.receiver, exec_id, 2)
    first, resumed = flow_spans(spans, exec_id)
    assert first == flow
    assert resumed.trace_id != flow.trace_id and resumed.parent_id == ""
    assert [(link.trace_id, link.span_id) for link in resumed.links] == [(flow.trace_id, flow.span_id)]
    assert resumed.links[0].attributes == {"kitaru.execution.id": exec_id}
    assert resumed.attributes["kitaru.execution.continued"] is True
    assert resumed.attributes["kitaru.execution.status"] == "completed"
    later = trace_of(spans, resumed)
    assert set(later) == {
        "flow traced_agent",
        "checkpoint fetch",
        "checkpoint flaky",
        "checkpoint draft",
        "wait approve",
        "checkpoint publish",
    }  # no LLM span: the answer came from the journal, nothing was sent
    for name in ("fetch", "flaky", "draft"):
        assert later[f"checkpoint {name}"].attributes["kitaru.checkpoint.source"] == "journal"
        assert later[f"checkpoint {name}"].attributes["kitaru.checkpoint.attempts"] == 0
    assert later["checkpoint publish"].attributes["kitaru.checkpoint.source"] == "executed"
    assert later["wait approve"].attributes["kitaru.wait.outcome"] == "answered"
    assert len(project.provider.requests) == 1


def test_a_retried_execution_is_a_new_trace_linked_to_the_failed_one(project: Project) -> None:
    (project.state / "publisher-down").touch()
    exec_id, status, _ = project.run_flow("traced_publisher", "news")
    assert status == "failed"
    spans = wait_for_runs(project.receiver, exec_id, 1)
    [failed] = flow_spans(spans, exec_id)
    assert failed.status == "ERROR"
    assert failed.status_message == "RuntimeError: the publisher is down"
    assert failed.attributes["kitaru.execution.status"] == "failed"
    assert failed.attributes["kitaru.failure.origin"] == "user_code"
    [exception] = [event for event in failed.events if event.name == "exception"]
    assert exception.attributes["exception.type"] == "RuntimeError"
    assert exception.attributes["exception.message"] == "the publisher is down"
    first = trace_of(spans, failed)
    publish = first["checkpoint publish"]
    assert publish.status == "ERROR" and publish.parent_id == failed.span_id
    assert publish.attributes["kitaru.checkpoint.status"] == "failed"
    assert [event.name for event in publish.events] == ["kitaru.attempt", "exception"]
    assert first["checkpoint fetch"].status == "UNSET"

    (project.state / "publisher-down").unlink()
    project.kitaru("executions", "retry", exec_id)
    spans = wait_for_runs(project.receiver, exec_id, 2)
    _, retried = flow_spans(spans, exec_id)
    assert retried.trace_id != failed.trace_id
    assert [(link.trace_id, link.span_id) for link in retried.links] == [(failed.trace_id, failed.span_id)]
    assert retried.attributes["kitaru.execution.id"] == exec_id
    assert retried.attributes["kitaru.execution.continued"] is True
    assert retried.attributes["kitaru.execution.status"] == "completed"
    assert retried.status == "UNSET"
    again = trace_of(spans, retried)
    assert again["checkpoint fetch"].attributes["kitaru.checkpoint.source"] == "journal"
    assert again["checkpoint publish"].attributes["kitaru.checkpoint.source"] == "executed"
    assert again["checkpoint publish"].attributes["kitaru.checkpoint.status"] == "completed"


def test_submitted_and_mapped_calls_are_spans_of_the_flow(project: Project) -> None:
    exec_id, status, _ = project.run_flow("traced_fan", "go")
    assert status == "completed"
    [flow] = flow_spans(wait_for_runs(project.receiver, exec_id, 1), exec_id)
    calls = [span for span in project.receiver.spans if span.trace_id == flow.trace_id and span is not flow]
    assert [span.name for span in calls] == ["checkpoint shout"] * 3
    for span in calls:
        assert span.parent_id == flow.span_id
        assert span.attributes["kitaru.checkpoint.source"] == "executed"
        assert span.attributes["kitaru.checkpoint.attempts"] == 1
    assert len({span.attributes["kitaru.checkpoint.call_id"] for span in calls}) == 3


def test_a_program_with_its_own_tracer_provider_gets_the_spans_under_its_own_span(project: Project) -> None:
    result = project.run([sys.executable, "traced_flows.py", "user_span", "news"], traced="no")
    assert result.returncode == 0, result.stdout + result.stderr
    exec_id = next(line.split()[1] for line in result.stdout.splitlines() if line.startswith("EXEC "))
    spans = json.loads(next(line[6:] for line in result.stdout.splitlines() if line.startswith("SPANS ")))
    by_name = {span["name"]: span for span in spans}
    assert set(by_name) == {"my request", "flow traced_publisher", "checkpoint fetch", "checkpoint publish"}
    assert len({span["trace_id"] for span in spans}) == 1
    assert by_name["flow traced_publisher"]["parent_id"] == by_name["my request"]["span_id"]
    for name in ("checkpoint fetch", "checkpoint publish"):
        assert by_name[name]["parent_id"] == by_name["flow traced_publisher"]["span_id"]
    assert exec_id
    assert project.receiver.requests == 0  # no OTLP endpoint configured: nothing sent


def test_without_the_otlp_environment_nothing_is_imported_or_sent(project: Project) -> None:
    probe = (
        "import json, sys, kitaru, kitaru.tracing\n"
        "provider = kitaru.tracing.active_provider()\n"
        "print(json.dumps([provider is None, sorted(m for m in sys.modules if m.startswith('opentelemetry'))]))\n"
    )
    light = project.run([sys.executable, "-c", probe], traced="no")
    assert light.returncode == 0, light.stderr
    assert json.loads(light.stdout) == [True, []]

    _, status, state = project.run_flow("traced_publisher", "news", traced="no")
    assert status == "completed"
    assert state == {"modules": [], "provider": "ProxyTracerProvider"}

    # The endpoint is set, but OpenTelemetry is switched off.
    _, status, state = project.run_flow("traced_publisher", "news", OTEL_SDK_DISABLED="true")
    assert status == "completed"
    assert state == {"modules": [], "provider": "ProxyTracerProvider"}
    # Spans are flushed before a traced process exits, so an exited process sent all it ever will.
    assert project.receiver.requests == 0
    _, status, state = project.run_flow("traced_publisher", "news")
    assert status == "completed" and state["provider"] == "TracerProvider"
    assert "opentelemetry.exporter.otlp.proto.http.trace_exporter" in state["modules"]  # type: ignore[operator]
    assert project.receiver.requests > 0


def test_an_agent_frameworks_model_requests_are_genai_spans_in_their_checkpoints(project: Project) -> None:
    tool_log = project.root / "tool-runs.log"
    with RecordingServer(tool_agent_responder(prompt_tokens=31, completion_tokens=5)) as model:
        env = project.env(OPENAI_BASE_URL=model.url + "/v1", TOOL_AGENT_LOG=str(tool_log))
        result = subprocess.run(
            [sys.executable, "-m", "tests.llm.flows.pydantic_agent", "tracing"],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert len(model.requests) == 2  # asks for the tool, then answers from its result
    spans = project.receiver.wait_for(
        lambda spans: any(span.name == "flow research" for span in spans), what="the flow span of `research`"
    )
    [flow] = [span for span in spans if span.name == "flow research"]
    trace = [span for span in spans if span.trace_id == flow.trace_id]
    by_id = {span.span_id: span for span in trace}
    calls = [span.name for span in trace if span.parent_id == flow.span_id]
    assert sorted(calls) == sorted(
        [
            "checkpoint researcher_request",
            "checkpoint researcher_search_web",
            "checkpoint researcher_request_2",
            "checkpoint publish",
        ]
    )
    chats = [span for span in trace if span.name.startswith("chat")]
    assert sorted(by_id[span.parent_id].name for span in chats) == [
        "checkpoint researcher_request",
        "checkpoint researcher_request_2",
    ]
    for chat in chats:
        assert chat.name == "chat gpt-4o-mini" and chat.kind == CLIENT_KIND
        assert chat.attributes["gen_ai.operation.name"] == "chat"
        assert chat.attributes["gen_ai.provider.name"] == "openai"
        assert chat.attributes["gen_ai.request.model"] == "gpt-4o-mini"
        assert chat.attributes["gen_ai.usage.input_tokens"] == 31
        assert chat.attributes["gen_ai.usage.output_tokens"] == 5
        assert chat.attributes["kitaru.llm.name"] == by_id[chat.parent_id].name.removeprefix("checkpoint ")
    tool = next(span for span in trace if span.name == "checkpoint researcher_search_web")
    assert tool.attributes["kitaru.checkpoint.type"] == "tool_call"
