"""Map the engine's records to Kitaru's client models.

:mod:`kitaru._engine.journal` reads hydrated runs, step runs and artifact
versions from the store; the functions here turn one record at a time into
:class:`~kitaru.client.models.Execution`, ``CheckpointAttempt``,
``ArtifactRef`` and ``PendingWait`` values, without reading the store again:

* a failed run or attempt gets a ``FailureInfo`` (see
  :mod:`kitaru._engine.failures`); a failed run that recorded neither a reason
  nor a traceback reports the failure of its last failed checkpoint call;
* metadata shown to users drops Kitaru's own keys (every key starting with
  ``kitaru_``); the frozen execution spec is parsed into
  :class:`kitaru.config.FrozenExecutionSpec` when it validates, else shown as
  recorded;
* datetimes are returned timezone-aware in UTC (the engine stores naive UTC).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import Any
from uuid import UUID

from kitaru._engine.failures import build_failure
from kitaru.client.models import (
    ArtifactRef,
    CheckpointAttempt,
    CheckpointCall,
    Execution,
    FailureInfo,
    PendingWait,
)
from kitaru.client.status import ExecutionStatus, public_status

INTERNAL_PREFIX = "kitaru_"
SPEC_KEY = "kitaru_execution_spec"
FLOW_KEY = "kitaru_flow"
ARTIFACT_TYPE_KEY = "kitaru_artifact_type"


# -- small mappers ------------------------------------------------------------


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _raw_status(value: Any) -> str:
    return str(getattr(value, "value", value))


def _public_metadata(metadata: dict[str, Any] | None) -> dict[str, Any]:
    return {key: value for key, value in (metadata or {}).items() if not str(key).startswith(INTERNAL_PREFIX)}


def _frozen_spec(raw: Any) -> Any:
    if raw is None:
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return raw
    try:
        from kitaru.config import FrozenExecutionSpec

        return FrozenExecutionSpec.model_validate(raw)
    except Exception:  # an older or newer spec: show what was recorded
        return raw


def to_pending_wait(condition: Any) -> PendingWait:
    """Build Kitaru's :class:`PendingWait` from an engine wait condition."""
    return PendingWait(
        wait_id=str(condition.id),
        name=condition.name,
        question=condition.question,
        schema=condition.data_schema,
        metadata=dict(condition.run_metadata or {}),
        entered_waiting_at=_utc(condition.created),
    )


def _pending_wait(run: Any) -> PendingWait | None:
    condition = run.active_wait_condition
    return None if condition is None else to_pending_wait(condition)


def _flow_name(run: Any, metadata: dict[str, Any]) -> str | None:
    name = metadata.get(FLOW_KEY)
    if isinstance(name, str) and name:
        return name
    pipeline = run.pipeline
    return pipeline.name if pipeline is not None else None


def _execution(run: Any, *, fallback_failure: FailureInfo | None = None, **details: Any) -> Execution:
    """Map an engine run (hydrated) to an :class:`Execution`.

    Args:
        run: The engine run.
        fallback_failure: The failure to report for a failed run that
            recorded neither a reason nor a traceback (a failed checkpoint's).
        **details: Checkpoints, artifacts and counts.
    """
    metadata = dict(run.run_metadata or {})
    pending = _pending_wait(run)
    status = public_status(_raw_status(run.status), has_active_wait=pending is not None)
    body = run.get_body()
    status_reason = body.status_reason
    failure = None
    if status is ExecutionStatus.FAILED:
        if status_reason or getattr(run.exception_info, "traceback", None) or fallback_failure is None:
            failure = build_failure(
                status_reason=status_reason,
                exception_info=run.exception_info,
                fallback=f"Execution {run.id} failed.",
            )
        else:
            failure = fallback_failure
    stack = run.stack
    original = run.original_run
    return Execution(
        exec_id=str(run.id),
        flow_id=str(body.pipeline_id) if body.pipeline_id else None,
        flow_name=_flow_name(run, metadata),
        status=status,
        started_at=_utc(run.start_time or body.created),
        ended_at=_utc(run.end_time),
        stack_name=stack.name if stack is not None else None,
        metadata=_public_metadata(metadata),
        status_reason=status_reason,
        failure=failure,
        pending_wait=pending,
        frozen_execution_spec=_frozen_spec(metadata.get(SPEC_KEY)),
        original_exec_id=str(original.id) if original is not None else None,
        **details,
    )


# -- step runs and artifacts --------------------------------------------------


def _group_attempts(steps: Iterable[Any]) -> dict[str, list[Any]]:
    """Group step runs by invocation id, calls and attempts in creation order."""
    groups: dict[str, list[Any]] = {}
    for step in sorted(steps, key=lambda s: (s.created, str(s.id))):
        groups.setdefault(step.name, []).append(step)
    return groups


def _step_outputs(step: Any) -> Iterator[tuple[str, Any]]:
    for output_name, artifacts in (step.outputs or {}).items():
        for artifact in artifacts:
            yield output_name, artifact


def _artifact_ref(artifact: Any, *, producing_call: str | None, metadata: dict[str, Any]) -> ArtifactRef:
    kind = metadata.get(ARTIFACT_TYPE_KEY)
    return ArtifactRef(
        artifact_id=str(artifact.id),
        name=artifact.name,
        kind=str(kind) if kind else None,
        save_type=_raw_status(artifact.save_type),
        producing_call=producing_call,
        metadata=_public_metadata(metadata),
    )


def _call_artifacts(attempts: list[Any], metadata: dict[UUID, dict[str, Any]], name: str) -> list[ArtifactRef]:
    """Outputs and saves of every attempt (a failed attempt's saves included)."""
    seen: dict[str, ArtifactRef] = {}
    for attempt in attempts:
        outputs = sorted(_step_outputs(attempt), key=lambda pair: (pair[1].created, pair[1].name))
        for _, artifact in outputs:
            key = str(artifact.id)
            if key not in seen:
                seen[key] = _artifact_ref(artifact, producing_call=name, metadata=metadata.get(artifact.id, {}))
    return list(seen.values())


def _checkpoint_type(step: Any) -> str | None:
    step_type = _raw_status(step.get_body().type) if step.get_body().type is not None else None
    if step_type in ("llm_call", "tool_call"):
        return step_type
    extra = getattr(step.config, "extra", None) or {}
    label = (extra.get("kitaru") or {}).get("type") if isinstance(extra, dict) else None
    return str(label) if label else None


def _attempt(step: Any, name: str) -> CheckpointAttempt:
    status = public_status(_raw_status(step.status))
    failure = None
    if status is ExecutionStatus.FAILED:
        failure = build_failure(
            status_reason=None,
            exception_info=step.exception_info,
            fallback=f"Checkpoint '{name}' failed.",
        )
    return CheckpointAttempt(
        attempt_id=str(step.id),
        status=status,
        started_at=_utc(step.start_time or step.created),
        ended_at=_utc(step.end_time),
        metadata=dict(step.run_metadata or {}),
        failure=failure,
    )


def _union_artifacts(calls: Iterable[CheckpointCall]) -> list[ArtifactRef]:
    seen: dict[str, ArtifactRef] = {}
    for call in calls:
        for artifact in call.artifacts:
            seen.setdefault(artifact.artifact_id, artifact)
    return list(seen.values())


def _last_call_failure(calls: list[CheckpointCall]) -> FailureInfo | None:
    failed = [call.failure for call in calls if call.failure is not None]
    return failed[-1] if failed else None
