"""``KitaruClient`` reading real executions from the real store (SPEC §2.10).

The flows in :mod:`tests.core.flows.client_flows` run once per module (the
session store is shared with other test modules, so assertions only rely on
this module's own executions and on their relative order).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

from kitaru import KitaruClient
from kitaru.client import ArtifactRef, Execution, ExecutionStatus
from kitaru.config import FrozenExecutionSpec
from kitaru.errors import FailureOrigin, KitaruStateError, KitaruUsageError
from kitaru.jsonable import to_jsonable
from tests.core.flows import client_flows


@dataclass(frozen=True)
class Runs:
    report: str
    failing: str
    retrying: str
    numbers: tuple[str, str, str]
    gate: str


@pytest.fixture(scope="module")
def runs() -> Runs:
    report = client_flows.client_report.run("kitaru").exec_id
    failing = client_flows.client_failing.run(" bad input ").exec_id
    retrying = client_flows.client_retrying.run(f"tok-{uuid.uuid4().hex[:8]}").exec_id
    numbers = tuple(client_flows.client_numbers.run(value).exec_id for value in (1, 2, 3))
    gate = client_flows.client_gate.run(7).exec_id
    return Runs(report, failing, retrying, numbers, gate)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def client() -> KitaruClient:
    return KitaruClient()


@pytest.fixture(scope="module")
def report(runs: Runs, client: KitaruClient) -> Execution:
    return client.executions.get(runs.report)


# -- get ------------------------------------------------------------------------


def test_get_completed_execution(report: Execution, runs: Runs) -> None:
    from kitaru import current_stack

    assert report.exec_id == runs.report
    assert report.flow_name == "client_report"
    assert report.flow_id and uuid.UUID(report.flow_id)
    assert report.status is ExecutionStatus.COMPLETED
    assert report.stack_name == current_stack().name
    assert report.failure is None and report.status_reason is None
    assert report.pending_wait is None
    assert report.original_exec_id is None
    # Flow-level kitaru.log() values; Kitaru's own bookkeeping stays out.
    assert report.metadata == {"team": "research", "priority": 1}
    assert isinstance(report.frozen_execution_spec, FrozenExecutionSpec)
    assert report.frozen_execution_spec.resolved_execution.cache is False
    assert report.started_at is not None and report.ended_at is not None
    assert report.started_at.tzinfo is timezone.utc
    assert report.started_at <= report.ended_at <= datetime.now(timezone.utc)


def test_checkpoint_calls_types_lineage_metadata(report: Execution) -> None:
    calls = {call.name: call for call in report.checkpoints}
    assert [call.name for call in report.checkpoints] == ["fetch_notes", "summarize", "review"]
    assert [call.checkpoint_type for call in report.checkpoints] == ["tool_call", "llm_call", "review"]
    assert all(call.status is ExecutionStatus.COMPLETED for call in report.checkpoints)
    assert all(len(call.attempts) == 1 and call.attempts[0].attempt_id == call.call_id for call in report.checkpoints)
    assert calls["fetch_notes"].parent_call_ids == []
    assert calls["summarize"].parent_call_ids == [calls["fetch_notes"].call_id]
    assert sorted(calls["review"].parent_call_ids) == sorted(
        [calls["fetch_notes"].call_id, calls["summarize"].call_id]
    )
    assert calls["fetch_notes"].metadata == {"source": "web", "pages": 3}
    assert calls["summarize"].metadata == {}
    assert all(call.original_call_id is None and call.failure is None for call in report.checkpoints)
    starts = [call.started_at for call in report.checkpoints]
    assert starts == sorted(starts)


def test_checkpoint_artifacts_and_execution_union(report: Execution) -> None:
    fetch = report.checkpoints[0]
    by_name = {artifact.name: artifact for artifact in fetch.artifacts}
    assert set(by_name) == {"search_prompt", "raw_context", "client_report::fetch_notes::output"}
    assert (by_name["search_prompt"].kind, by_name["search_prompt"].save_type) == ("prompt", "manual")
    assert (by_name["raw_context"].kind, by_name["raw_context"].save_type) == ("context", "manual")
    output = by_name["client_report::fetch_notes::output"]
    assert (output.kind, output.save_type) == (None, "step_output")
    assert {artifact.producing_call for artifact in fetch.artifacts} == {"fetch_notes"}
    # kitaru_artifact_type is surfaced as ``kind``, not repeated in metadata.
    assert "kitaru_artifact_type" not in by_name["search_prompt"].metadata
    assert [artifact.producing_call for artifact in report.checkpoints[2].artifacts] == ["review"]

    ids = [artifact.artifact_id for artifact in report.artifacts]
    assert len(ids) == len(set(ids)) == 5
    assert set(ids) == {artifact.artifact_id for call in report.checkpoints for artifact in call.artifacts}
    assert (report.checkpoint_count, report.artifact_count) == (3, 5)


def test_get_failed_execution_reports_failure(runs: Runs, client: KitaruClient) -> None:
    execution = client.executions.get(runs.failing)
    assert execution.status is ExecutionStatus.FAILED
    failure = execution.failure
    assert failure is not None
    assert failure.message == "ValueError: cannot handle 'bad input'"
    assert failure.exception_type == "ValueError"
    assert failure.origin is FailureOrigin.USER_CODE
    assert "raise ValueError" in (failure.traceback or "")

    prepare, explode = execution.checkpoints
    assert (prepare.name, prepare.status, prepare.failure) == ("prepare", ExecutionStatus.COMPLETED, None)
    assert (explode.name, explode.status) == ("explode", ExecutionStatus.FAILED)
    assert explode.failure is not None
    assert explode.failure.message == "ValueError: cannot handle 'bad input'"
    assert explode.failure.exception_type == "ValueError"
    assert explode.failure.origin is FailureOrigin.USER_CODE
    assert explode.attempts[-1].failure == explode.failure
    assert explode.artifacts == []
    assert explode.parent_call_ids == [prepare.call_id]
    assert (execution.checkpoint_count, execution.artifact_count) == (2, 1)


def test_retried_checkpoint_lists_every_attempt(runs: Runs, client: KitaruClient) -> None:
    execution = client.executions.get(runs.retrying)
    assert execution.status is ExecutionStatus.COMPLETED
    assert execution.failure is None
    (call,) = execution.checkpoints
    assert call.name == "flaky_step"
    assert call.status is ExecutionStatus.COMPLETED and call.failure is None
    first, second = call.attempts
    assert first.status is ExecutionStatus.FAILED
    assert first.failure is not None
    assert first.failure.exception_type == "ConnectionError"
    assert first.failure.message.startswith("ConnectionError: transient outage for tok-")
    assert second.status is ExecutionStatus.COMPLETED and second.failure is None
    assert call.call_id == second.attempt_id != first.attempt_id
    assert call.started_at == first.started_at and call.ended_at == second.ended_at
    assert first.started_at <= second.started_at
    assert (execution.checkpoint_count, execution.artifact_count) == (1, 1)


def test_pending_wait_is_mapped(runs: Runs, client: KitaruClient) -> None:
    from zenml.client import Client
    from zenml.enums import RunWaitConditionType
    from zenml.models import RunWaitConditionRequest

    engine = Client()
    condition = engine.zen_store.create_run_wait_condition(
        RunWaitConditionRequest(
            run=uuid.UUID(runs.gate),
            name="approval",
            type=RunWaitConditionType.EXTERNAL_INPUT,
            question="Ship it?",
            data_schema={"type": "boolean"},
            metadata={"owner": "ops"},
            project=engine.active_project.id,
        )
    )
    wait = client.executions.get(runs.gate).pending_wait
    assert wait is not None
    assert (wait.wait_id, wait.name, wait.question) == (str(condition.id), "approval", "Ship it?")
    assert wait.schema == {"type": "boolean"}
    assert wait.metadata == {"owner": "ops"}
    assert wait.entered_waiting_at is not None and wait.entered_waiting_at.tzinfo is timezone.utc


# -- ids ------------------------------------------------------------------------


def test_ids_are_full_or_a_unique_prefix_of_six_or_more(runs: Runs, client: KitaruClient) -> None:
    assert client.executions.get(runs.report[:8]).exec_id == runs.report
    prefix = runs.report[:5]
    with pytest.raises(KitaruUsageError, match=f"'{prefix}' is not a valid execution id"):
        client.executions.get(prefix)
    with pytest.raises(KitaruUsageError, match="client_report"):
        client.executions.get("client_report")
    unknown = str(uuid.uuid4())
    with pytest.raises(KitaruStateError) as info:
        client.executions.get(unknown)
    assert str(info.value) == (
        f"Execution '{unknown}' was not found. List executions with `kitaru executions list`."
    )
    with pytest.raises(KitaruUsageError, match="execution id is required"):
        client.executions.get("  ")
    # Another spelling of the same UUID is the same id.
    assert client.executions.get(runs.report.upper()).exec_id == runs.report


# -- list / latest --------------------------------------------------------------


def test_list_is_newest_first(runs: Runs, client: KitaruClient) -> None:
    listed = client.executions.list()
    ids = [execution.exec_id for execution in listed]
    mine = [runs.report, runs.failing, runs.retrying, *runs.numbers, runs.gate]
    positions = [ids.index(exec_id) for exec_id in mine]
    assert positions == sorted(positions, reverse=True)
    starts = [listed[position].started_at for position in positions]
    assert starts == sorted(starts)  # `mine` is oldest first


def test_list_filters_by_flow_and_status(runs: Runs, client: KitaruClient) -> None:
    numbers = client.executions.list(flow="client_numbers")
    assert {execution.flow_name for execution in numbers} == {"client_numbers"}
    assert [execution.exec_id for execution in numbers[:3]] == list(reversed(runs.numbers))
    # Flow names are normalised like @flow names.
    assert [e.exec_id for e in client.executions.list(flow="client-numbers")] == [e.exec_id for e in numbers]

    failed = client.executions.list(status="failed")
    assert runs.failing in {execution.exec_id for execution in failed}
    assert {execution.status for execution in failed} == {ExecutionStatus.FAILED}
    completed = client.executions.list(status=ExecutionStatus.COMPLETED)
    assert runs.failing not in {execution.exec_id for execution in completed}
    assert runs.report in {execution.exec_id for execution in completed}
    assert client.executions.list(flow="client_numbers", status=" FAILED ") == []
    assert client.executions.list(flow="no_such_flow") == []


def test_list_limit(runs: Runs, client: KitaruClient) -> None:
    everything = client.executions.list()
    two = client.executions.list(limit=2)
    assert [e.exec_id for e in two] == [e.exec_id for e in everything[:2]]
    assert [e.exec_id for e in client.executions.list(flow="client_numbers", limit=2)] == [
        runs.numbers[2],
        runs.numbers[1],
    ]
    assert len(client.executions.list(limit=len(everything) + 10)) == len(everything)


@pytest.mark.parametrize("limit", [0, -1, True, 2.5, "3"])
def test_bad_limit_is_rejected(client: KitaruClient, limit: object) -> None:
    with pytest.raises(KitaruUsageError, match="limit must be a positive integer"):
        client.executions.list(limit=limit)  # type: ignore[arg-type]


def test_bad_status_is_rejected(client: KitaruClient) -> None:
    with pytest.raises(KitaruUsageError) as info:
        client.executions.list(status="done")
    assert str(info.value) == (
        "Unsupported status filter 'done'. Expected one of: running, waiting, completed, failed, cancelled."
    )


def test_summaries_carry_real_counts(runs: Runs, client: KitaruClient) -> None:
    summaries = {execution.exec_id: execution for execution in client.executions.list()}
    expected = {runs.report: (3, 5), runs.failing: (2, 1), runs.retrying: (1, 1), runs.numbers[0]: (1, 1)}
    for exec_id, counts in expected.items():
        summary = summaries[exec_id]
        assert (summary.checkpoint_count, summary.artifact_count) == counts, summary.flow_name
        assert summary.checkpoints == [] and summary.artifacts == []
    failing = summaries[runs.failing]
    assert failing.failure is not None and failing.failure.exception_type == "ValueError"
    assert summaries[runs.report].metadata == {"team": "research", "priority": 1}
    # A summary loads its details on demand.
    assert [call.name for call in summaries[runs.report].list_checkpoints()] == ["fetch_notes", "summarize", "review"]
    assert len(summaries[runs.report].list_artifacts()) == 5


def test_latest(runs: Runs, client: KitaruClient) -> None:
    latest = client.executions.latest(flow="client_numbers")
    assert latest.exec_id == runs.numbers[2]
    assert [call.name for call in latest.checkpoints] == ["square"]  # full details
    assert client.executions.latest(flow="client_failing", status="failed").exec_id == runs.failing
    with pytest.raises(LookupError) as info:
        client.executions.latest(flow="client_numbers", status="failed")
    assert str(info.value) == "No executions found for flow='client_numbers' and status='failed'."


# -- artifacts ------------------------------------------------------------------


def test_artifacts_list_and_filters(runs: Runs, client: KitaruClient, report: Execution) -> None:
    artifacts = client.artifacts.list(runs.report)
    assert [a.artifact_id for a in artifacts] == [a.artifact_id for a in report.artifacts]
    assert [a.name for a in client.artifacts.list(runs.report, kind="PROMPT")] == ["search_prompt"]
    assert [a.name for a in client.artifacts.list(runs.report, kind="context")] == ["raw_context"]
    assert client.artifacts.list(runs.report, kind="blob") == []
    assert [a.name for a in client.artifacts.list(runs.report, name="raw_context")] == ["raw_context"]
    # A checkpoint name finds that checkpoint's output (as kitaru.load does).
    assert [a.name for a in client.artifacts.list(runs.report, name="summarize")] == [
        "client_report::summarize::output"
    ]
    fetch = client.artifacts.list(runs.report, producing_call="fetch_notes")
    assert len(fetch) == 3 and {a.producing_call for a in fetch} == {"fetch_notes"}
    assert len(client.artifacts.list(runs.report, producing_call="fetch_notes", limit=2)) == 2
    assert client.artifacts.list(runs.report, producing_call="nope") == []
    with pytest.raises(KitaruStateError, match="was not found"):
        client.artifacts.list(str(uuid.uuid4()))


def test_artifacts_get_and_load(runs: Runs, client: KitaruClient) -> None:
    by_name = {a.name: a for a in client.artifacts.list(runs.report)}
    prompt = client.artifacts.get(by_name["search_prompt"].artifact_id)
    assert prompt == by_name["search_prompt"]
    assert prompt.load() == "find kitaru"
    assert by_name["raw_context"].load() == {"topic": "kitaru", "hits": 2}
    output = client.artifacts.get(by_name["client_report::summarize::output"].artifact_id)
    assert (output.producing_call, output.save_type, output.kind) == ("summarize", "step_output", None)
    assert output.load() == "Summary: notes on kitaru"
    review = by_name["client_report::review::output"].load()
    assert review == {"summary": "Summary: notes on kitaru", "words": 3}


def test_unknown_and_invalid_artifact_ids(client: KitaruClient) -> None:
    unknown = str(uuid.uuid4())
    with pytest.raises(KitaruStateError, match=f"Artifact '{unknown}' was not found"):
        client.artifacts.get(unknown)
    with pytest.raises(KitaruStateError, match=f"Artifact '{unknown}' was not found"):
        ArtifactRef(unknown, "x", None, "manual", None).load()
    with pytest.raises(KitaruUsageError, match="'search_prompt' is not a valid artifact id"):
        client.artifacts.get("search_prompt")


# -- serialization --------------------------------------------------------------


def test_execution_serializes_to_json(report: Execution, runs: Runs, client: KitaruClient) -> None:
    data = json.loads(json.dumps(to_jsonable(report)))
    for key in (
        "exec_id", "flow_name", "status", "started_at", "ended_at", "stack_name", "metadata",
        "status_reason", "failure", "pending_wait", "frozen_execution_spec", "original_exec_id",
        "checkpoints", "artifacts", "checkpoint_count", "artifact_count", "llm_usage",
    ):
        assert key in data, key
    assert data["status"] == "completed"
    assert datetime.fromisoformat(data["started_at"]) == report.started_at
    assert data["frozen_execution_spec"]["resolved_execution"]["cache"] is False
    first = data["checkpoints"][0]
    assert first["checkpoint_type"] == "tool_call"
    assert first["attempts"][0]["status"] == "completed"
    assert {a["kind"] for a in first["artifacts"]} == {"prompt", "context", None}
    assert len(data["artifacts"]) == data["artifact_count"] == 5

    failed = json.loads(json.dumps(to_jsonable(client.executions.get(runs.failing))))
    assert failed["failure"]["origin"] == "user_code"
    assert failed["failure"]["exception_type"] == "ValueError"
    assert failed["checkpoints"][1]["attempts"][0]["failure"]["message"] == "ValueError: cannot handle 'bad input'"


def test_to_jsonable_leaves() -> None:
    import enum
    from pathlib import Path

    class Color(enum.Enum):
        RED = "red"

    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    value = {
        "when": moment,
        "id": uuid.UUID(int=1),
        "path": Path("/tmp/x"),
        "color": Color.RED,
        "status": ExecutionStatus.WAITING,
        "nan": float("nan"),
        "tags": {"b", "a"},
        "pair": (1, "x"),
        3: b"raw",
        "other": object,
    }
    data = to_jsonable(value)
    json.dumps(data)
    assert data["when"] == "2026-01-02T03:04:05+00:00"
    assert data["id"] == "00000000-0000-0000-0000-000000000001"
    assert (data["path"], data["color"], data["status"]) == ("/tmp/x", "red", "waiting")
    assert data["nan"] is None and data["tags"] == ["a", "b"] and data["pair"] == [1, "x"]
    assert data["3"] == "raw" and data["other"] == str(object)


# -- failure parsing --------------------------------------------------------------

_FRAMES = 'Traceback (most recent call last):\n  File "agent.py", line 3, in run\n    raise Boom()\n'


@pytest.mark.parametrize(
    ("traceback", "source", "exception_type", "message"),
    [
        (_FRAMES + "ValueError: bad\n", "builtins.ValueError", "ValueError", "ValueError: bad"),
        (_FRAMES + "ValueError: bad\n", None, "ValueError", "ValueError: bad"),
        # A multi-line message keeps all its lines and does not confuse the type.
        (_FRAMES + "ValueError: first\nsecond line\n", None, "ValueError", "ValueError: first\nsecond line"),
        (_FRAMES + "app.errors.QuotaError: out of tokens\n", "app.errors.QuotaError", "app.errors.QuotaError",
         "app.errors.QuotaError: out of tokens"),
        (_FRAMES + "KeyboardInterrupt\n", None, "KeyboardInterrupt", "KeyboardInterrupt"),
        # Chained exceptions: the last one wins.
        (_FRAMES + "KeyError: 'x'\n\nThe above exception was the direct cause of the following exception:\n\n"
         + _FRAMES + "RuntimeError: wrapped\n", "builtins.RuntimeError", "RuntimeError", "RuntimeError: wrapped"),
        ("lost output\n", "pkg.Boom", "Boom", "lost output"),
        (None, None, None, "Checkpoint 'x' failed."),
    ],
)
def test_failure_parsing(traceback: str | None, source: str | None, exception_type: str | None, message: str) -> None:
    from types import SimpleNamespace

    from kitaru.execution.failures import build_failure

    info = SimpleNamespace(traceback=traceback, source=source) if traceback else None
    failure = build_failure(status_reason=None, exception_info=info, fallback="Checkpoint 'x' failed.")
    assert (failure.exception_type, failure.message) == (exception_type, message)
    assert failure.origin is (FailureOrigin.USER_CODE if traceback else FailureOrigin.UNKNOWN)
    with_reason = build_failure(status_reason="Stopped by the orchestrator.", exception_info=info, fallback="-")
    assert with_reason.message == "Stopped by the orchestrator."
