"""Turn the engine's records into Kitaru's client models, one record at a time, without reading the store.

:mod:`kitaru.client.reading` reads :class:`~kitaru.engine.runs.RunRecord`,
:class:`~kitaru.engine.runs.StepRecord` and
:class:`~kitaru.engine.runs.ArtifactRecord` values; the functions here map
them to :class:`~kitaru.client.models.Execution`, ``CheckpointCall``,
``CheckpointAttempt``, ``ArtifactRef`` and ``PendingWait``:

* a checkpoint *call* is every attempt (step run) of one invocation id
  (``research``, ``research_2``, or an explicit ``id=``); automatic retries
  add attempts under the same name and the latest attempt represents the call;
* a call's inputs are its latest attempt's: plain-value parameters, then
  artifact inputs, each artifact traced to the call of the same execution
  whose attempt produced it (:func:`checkpoint_inputs`);
* a failed run or attempt gets a :class:`~kitaru.execution.failures.FailureInfo`;
  a failed run that recorded neither a reason nor a traceback reports the
  failure of its last failed checkpoint call;
* metadata shown to users drops Kitaru's own keys (every key starting with
  ``kitaru_``); the frozen execution spec is parsed into
  :class:`kitaru.config.FrozenExecutionSpec` when it validates, else shown as
  recorded;
* datetimes are returned timezone-aware in UTC (the engine stores naive UTC);
* a running execution carries its owner (:func:`kitaru.execution.owner_record.owner_info`):
  host, pid, seconds since its last heartbeat and the timeout it declared;
* an execution a replay made carries its :class:`~kitaru.client.models.ReplayInfo`,
  and each call whose output the replay overrode shows the edited value as
  its output (the engine still links the source's original output to it;
  :mod:`kitaru.execution.replay_record` says which value replaced it), and
  the consumers' inputs holding that edited value name it as their producer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from kitaru._llm.cassettes import CASSETTE_KEY
from kitaru.client.models import (
    ArtifactRef,
    CheckpointAttempt,
    CheckpointCall,
    CheckpointInput,
    Execution,
    PendingWait,
    ReplayInfo,
)
from kitaru.config import FrozenExecutionSpec
from kitaru.engine.runs import ArtifactRecord, RunRecord, StepRecord, WaitRecord
from kitaru.execution.call_order import attempts_by_call
from kitaru.execution.failures import FailureInfo, build_failure
from kitaru.execution.idempotency import IDEMPOTENCY_KEY
from kitaru.execution.keys import ARTIFACT_TYPE_KEY, FLOW_KEY, SPEC_KEY
from kitaru.execution.owner_record import owner_info
from kitaru.execution.replay_record import ReplayRecord, replay_record
from kitaru.execution.sleeps import sleep_info
from kitaru.execution.status import ExecutionStatus, public_status

INTERNAL_PREFIX = "kitaru_"
"""Metadata keys Kitaru records for itself; hidden from users."""

CHECKPOINT_STEP_TYPES = ("llm_call", "tool_call")
"""Engine step types that are Kitaru checkpoint types."""

STEP_OUTPUT_SAVE_TYPES = ("step_output", "None", "")
"""Save types of a checkpoint's return value (not its ``kitaru.save()`` values); unset counts."""


# -- small mappers ------------------------------------------------------------


def utc(value: datetime | None) -> datetime | None:
    """A datetime in UTC, timezone-aware (a naive one is taken as UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def public_metadata(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    """Metadata without Kitaru's own keys."""
    return {key: value for key, value in (metadata or {}).items() if not str(key).startswith(INTERNAL_PREFIX)}


def frozen_spec(raw: Any) -> Any:
    """The recorded execution spec as a :class:`FrozenExecutionSpec`, or as recorded if it does not validate."""
    if raw is None:
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return raw
    try:
        return FrozenExecutionSpec.model_validate(raw)
    except Exception:  # an older or newer spec: show what was recorded
        return raw


def pending_wait(wait: WaitRecord) -> PendingWait:
    """Kitaru's :class:`PendingWait` of a wait record."""
    return PendingWait(
        wait_id=wait.id,
        name=wait.name,
        question=wait.question,
        schema=wait.schema,
        metadata=dict(wait.metadata),
        entered_waiting_at=utc(wait.created),
    )


def flow_name(run: RunRecord) -> str | None:
    """The flow's name: as Kitaru recorded it, else the engine's pipeline name."""
    name = run.metadata.get(FLOW_KEY)
    if isinstance(name, str) and name:
        return name
    return run.flow_name


def replay_info(record: ReplayRecord) -> ReplayInfo:
    """The :class:`ReplayInfo` of a replay's record."""
    return ReplayInfo(
        source_exec_id=record.source_exec_id,
        from_checkpoint=record.from_checkpoint,
        start=record.start,
        reused=list(record.reused),
        overrides=list(record.overrides),
        inherited_overrides=list(record.inherited),
    )


def with_overrides(
    record: ReplayRecord, calls: list[CheckpointCall], artifacts: list[ArtifactRef]
) -> tuple[list[CheckpointCall], list[ArtifactRef]]:
    """Show each overridden call's edited value as its output, in the calls and in the artifact union.

    The edited value replaces the call's one output (its name and save type
    kept, since it stands for that output); ``kitaru.save()`` values stay.
    Only explicit overrides mark the call ``overridden``.

    Returns:
        The calls and the artifacts, with the replaced outputs swapped.
    """
    edited = record.output_overrides()
    edited_by = {artifact_id: name for name, artifact_id in edited.items()}
    swapped: dict[str, ArtifactRef] = {}
    mapped = []
    for recorded in calls:
        call = replace(recorded, inputs=traced_inputs(recorded.inputs, edited_by))
        artifact_id = edited.get(call.name)
        outputs = [ref for ref in call.artifacts if ref.save_type in STEP_OUTPUT_SAVE_TYPES]
        if artifact_id is None or len(outputs) != 1:
            mapped.append(call)
            continue
        original = outputs[0]
        swapped[original.artifact_id] = replace(original, artifact_id=artifact_id, metadata={})
        refs = [swapped.get(ref.artifact_id, ref) for ref in call.artifacts]
        mapped.append(replace(call, artifacts=refs, overridden=call.name in record.overrides))
    return mapped, [swapped.get(ref.artifact_id, ref) for ref in artifacts]


def traced_inputs(inputs: list[CheckpointInput], producers: Mapping[str, str]) -> list[CheckpointInput]:
    """``inputs`` with ``producing_call`` filled from ``producers`` (artifact id -> invocation id) where unknown."""
    traced = []
    for item in inputs:
        producer = producers.get(item.artifact_id) if item.artifact_id is not None else None
        traced.append(replace(item, producing_call=producer) if item.producing_call is None and producer else item)
    return traced


def execution(run: RunRecord, *, fallback_failure: FailureInfo | None = None, **details: Any) -> Execution:
    """Map a run (read with details) to an :class:`Execution`.

    Args:
        run: The run.
        fallback_failure: The failure to report for a failed run that
            recorded neither a reason nor a traceback (a failed checkpoint's).
        **details: Checkpoints, artifacts and counts; overridden outputs of a
            replay are swapped for the edited values (:func:`with_overrides`).
    """
    metadata = dict(run.metadata)
    record = replay_record(metadata)
    if record is not None and "checkpoints" in details:
        details["checkpoints"], details["artifacts"] = with_overrides(
            record, details["checkpoints"], details.get("artifacts", [])
        )
    pending = pending_wait(run.active_wait) if run.active_wait is not None else None
    status = public_status(run.status, has_active_wait=pending is not None)
    failure = None
    if status is ExecutionStatus.FAILED:
        traceback = run.exception.traceback if run.exception is not None else None
        if run.status_reason or traceback or fallback_failure is None:
            failure = build_failure(
                status_reason=run.status_reason, exception_info=run.exception, fallback=f"Execution {run.id} failed."
            )
        else:
            failure = fallback_failure
    return Execution(
        exec_id=run.id,
        flow_id=run.flow_id,
        flow_name=flow_name(run),
        status=status,
        started_at=utc(run.started or run.created),
        ended_at=utc(run.ended),
        stack_name=run.stack_name,
        metadata=public_metadata(metadata),
        status_reason=run.status_reason,
        failure=failure,
        pending_wait=pending,
        frozen_execution_spec=frozen_spec(metadata.get(SPEC_KEY)),
        original_exec_id=run.original_run_id,
        parent_exec_id=run.parent_run_id,
        sleep=sleep_info(run),
        idempotency_key=metadata.get(IDEMPOTENCY_KEY),
        cassette=metadata.get(CASSETTE_KEY),
        replay_info=replay_info(record) if record is not None else None,
        owner=owner_info(metadata) if status is ExecutionStatus.RUNNING else None,
        **details,
    )


# -- step runs and artifacts --------------------------------------------------


def step_outputs(step: StepRecord) -> Iterator[tuple[str, ArtifactRecord]]:
    """Every ``(output name, artifact)`` an attempt produced or saved."""
    for output_name, artifacts in step.outputs.items():
        for artifact in artifacts:
            yield output_name, artifact


def artifact_ref(artifact: ArtifactRecord, *, producing_call: str | None, metadata: Mapping[str, Any]) -> ArtifactRef:
    """Map an artifact record (and its metadata) to an :class:`ArtifactRef`."""
    kind = metadata.get(ARTIFACT_TYPE_KEY)
    return ArtifactRef(
        artifact_id=artifact.id,
        name=artifact.name,
        kind=str(kind) if kind else None,
        save_type=artifact.save_type,
        producing_call=producing_call,
        metadata=public_metadata(metadata),
    )


def call_artifacts(
    attempts: list[StepRecord], metadata: Mapping[str, Mapping[str, Any]], name: str
) -> list[ArtifactRef]:
    """Outputs and saves of every attempt of a call (a failed attempt's saves included)."""
    seen: dict[str, ArtifactRef] = {}
    for attempt in attempts:
        outputs = sorted(step_outputs(attempt), key=lambda pair: (pair[1].created, pair[1].name))
        for _, artifact in outputs:
            if artifact.id not in seen:
                seen[artifact.id] = artifact_ref(artifact, producing_call=name, metadata=metadata.get(artifact.id, {}))
    return list(seen.values())


def checkpoint_type(step: StepRecord) -> str | None:
    """``llm_call`` or ``tool_call`` from the engine step type, else the ``@checkpoint(type=...)`` label."""
    if step.step_type in CHECKPOINT_STEP_TYPES:
        return step.step_type
    return step.label or None


def attempt(step: StepRecord, name: str) -> CheckpointAttempt:
    """Map one attempt (step run) of the call ``name``."""
    status = public_status(step.status)
    failure = None
    if status is ExecutionStatus.FAILED:
        failure = build_failure(
            status_reason=None, exception_info=step.exception, fallback=f"Checkpoint '{name}' failed."
        )
    return CheckpointAttempt(
        attempt_id=step.id,
        status=status,
        started_at=utc(step.started or step.created),
        ended_at=utc(step.ended),
        metadata=dict(step.metadata),
        failure=failure,
    )


def producing_calls(steps: Iterable[StepRecord]) -> dict[str, str]:
    """Artifact id -> invocation id of the call whose attempt (any attempt) produced or saved it.

    Give the attempts in call order: an artifact linked to several calls (a
    reused output) is attributed to the first.
    """
    producers: dict[str, str] = {}
    for step in steps:
        for _, artifact in step_outputs(step):
            producers.setdefault(artifact.id, step.name)
    return producers


def checkpoint_inputs(step: StepRecord, producers: Mapping[str, str]) -> list[CheckpointInput]:
    """The inputs of one attempt: parameters in recorded order, then one entry per input artifact.

    Args:
        step: The attempt (a call's latest attempt stands for the call).
        producers: Artifact id -> invocation id of the call that produced it
            (:func:`producing_calls`); an artifact not in it gets
            ``producing_call=None``.
    """
    parameters = [CheckpointInput(name=name, value=value) for name, value in step.parameters.items()]
    artifacts = [
        CheckpointInput(name=name, artifact_id=artifact_id, producing_call=producers.get(artifact_id))
        for name, artifact_ids in step.inputs.items()
        for artifact_id in artifact_ids
    ]
    return parameters + artifacts


def artifact_ids(steps: Iterable[StepRecord]) -> list[str]:
    """Ids of every artifact the attempts produced or saved, each once, in order."""
    return list(dict.fromkeys(artifact.id for step in steps for _, artifact in step_outputs(step)))


def checkpoint_calls(steps: list[StepRecord], metadata: Mapping[str, Mapping[str, Any]]) -> list[CheckpointCall]:
    """Map every attempt of one execution to its checkpoint calls.

    Args:
        steps: Every attempt of the execution.
        metadata: The metadata of their artifacts, by artifact id.
    """
    groups = attempts_by_call(steps)
    call_of_step = {step.id: attempts[-1].id for attempts in groups.values() for step in attempts}
    producers = producing_calls(step for attempts in groups.values() for step in attempts)
    calls = []
    for name, attempts in groups.items():
        latest = attempts[-1]
        mapped = [attempt(step, name) for step in attempts]
        parents = [call_of_step.get(parent, parent) for parent in latest.parent_ids]
        calls.append(
            CheckpointCall(
                call_id=latest.id,
                name=name,
                status=mapped[-1].status,
                started_at=mapped[0].started_at,
                ended_at=mapped[-1].ended_at,
                metadata=mapped[-1].metadata,
                original_call_id=latest.original_id,
                parent_call_ids=list(dict.fromkeys(parents)),
                failure=mapped[-1].failure,
                attempts=mapped,
                artifacts=call_artifacts(attempts, metadata, name),
                checkpoint_type=checkpoint_type(latest),
                inputs=checkpoint_inputs(latest, producers),
            )
        )
    return calls


def union_artifacts(calls: Iterable[CheckpointCall]) -> list[ArtifactRef]:
    """Every artifact of the calls, each once, in call order."""
    seen: dict[str, ArtifactRef] = {}
    for call in calls:
        for artifact in call.artifacts:
            seen.setdefault(artifact.artifact_id, artifact)
    return list(seen.values())


def last_call_failure(calls: list[CheckpointCall]) -> FailureInfo | None:
    """The failure of the last failed call, if any."""
    failed = [call.failure for call in calls if call.failure is not None]
    return failed[-1] if failed else None


__all__ = [
    "INTERNAL_PREFIX",
    "artifact_ids",
    "artifact_ref",
    "attempt",
    "call_artifacts",
    "checkpoint_calls",
    "checkpoint_inputs",
    "checkpoint_type",
    "execution",
    "flow_name",
    "frozen_spec",
    "last_call_failure",
    "pending_wait",
    "producing_calls",
    "public_metadata",
    "replay_info",
    "step_outputs",
    "traced_inputs",
    "union_artifacts",
    "utc",
    "with_overrides",
]
