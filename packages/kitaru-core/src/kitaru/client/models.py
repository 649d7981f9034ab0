"""What ``KitaruClient`` returns: executions, checkpoint calls, artifacts, waits.

These are frozen dataclasses in Kitaru's vocabulary. The engine adapter
builds them from the store; the CLI, the MCP server and users render them
through :func:`kitaru.client.serialize.to_jsonable`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kitaru.client.status import ExecutionStatus
from kitaru.errors import FailureOrigin

if TYPE_CHECKING:
    from kitaru.client.client import KitaruClient


@dataclass(frozen=True)
class FailureInfo:
    """Why an execution or checkpoint failed.

    Attributes:
        message: The status reason, else the last traceback line.
        exception_type: The exception class name parsed from the traceback.
        traceback: The recorded traceback, if any.
        origin: Where the failure came from.
    """

    message: str
    exception_type: str | None = None
    traceback: str | None = None
    origin: FailureOrigin = FailureOrigin.UNKNOWN


@dataclass(frozen=True)
class ArtifactRef:
    """A stored value: a checkpoint output or a ``kitaru.save()`` artifact.

    Attributes:
        artifact_id: The artifact version id.
        name: The artifact name.
        kind: The ``kitaru.save(type=...)`` kind, if saved manually.
        save_type: ``step_output``, ``manual``, ...
        producing_call: The name of the checkpoint call that produced it.
        metadata: Artifact metadata.
    """

    artifact_id: str
    name: str
    kind: str | None
    save_type: str
    producing_call: str | None
    metadata: dict[str, Any] = field(default_factory=dict)

    def load(self) -> Any:
        """Load the stored value (through the serializer that wrote it)."""
        from kitaru._engine.journal import load_artifact

        return load_artifact(self.artifact_id, producing_call=self.producing_call)


@dataclass(frozen=True)
class CheckpointAttempt:
    """One attempt of a checkpoint call (automatic retries add attempts)."""

    attempt_id: str
    status: ExecutionStatus
    started_at: datetime | None
    ended_at: datetime | None
    metadata: dict[str, Any] = field(default_factory=dict)
    failure: FailureInfo | None = None


@dataclass(frozen=True)
class CheckpointCall:
    """One invocation of a checkpoint in an execution.

    Attributes:
        call_id: The id of the latest attempt (the engine step run).
        name: The invocation id (``research``, ``research_2``, or ``id=``).
        status: The latest attempt's status.
        started_at: When the first attempt started.
        ended_at: When the latest attempt ended.
        metadata: ``kitaru.log()`` metadata of the latest attempt.
        original_call_id: The call this one was reused from (cache, retry, replay).
        parent_call_ids: Calls whose outputs this call consumed.
        failure: The latest attempt's failure.
        attempts: Every attempt, oldest first.
        artifacts: Its outputs and saved artifacts.
        checkpoint_type: ``llm_call``, ``tool_call`` or None.
    """

    call_id: str
    name: str
    status: ExecutionStatus
    started_at: datetime | None
    ended_at: datetime | None
    metadata: dict[str, Any] = field(default_factory=dict)
    original_call_id: str | None = None
    parent_call_ids: list[str] = field(default_factory=list)
    failure: FailureInfo | None = None
    attempts: list[CheckpointAttempt] = field(default_factory=list)
    artifacts: list[ArtifactRef] = field(default_factory=list)
    checkpoint_type: str | None = None


@dataclass(frozen=True)
class PendingWait:
    """A ``kitaru.wait()`` that is waiting for input."""

    wait_id: str
    name: str
    question: str | None
    schema: dict[str, Any] | None
    metadata: dict[str, Any] = field(default_factory=dict)
    entered_waiting_at: datetime | None = None


@dataclass(frozen=True)
class LogEntry:
    """One runtime log line of an execution."""

    message: str
    level: str | None = None
    timestamp: str | None = None
    source: str | None = None
    checkpoint_name: str | None = None
    module: str | None = None
    filename: str | None = None
    lineno: int | None = None


@dataclass(frozen=True)
class Execution:
    """An execution of a flow.

    ``checkpoints`` and ``artifacts`` are loaded by ``executions.get``; list
    summaries leave them empty but carry real ``checkpoint_count`` and
    ``artifact_count``.
    """

    exec_id: str
    flow_id: str | None
    flow_name: str | None
    status: ExecutionStatus
    started_at: datetime | None
    ended_at: datetime | None
    stack_name: str | None
    metadata: dict[str, Any] = field(default_factory=dict)
    status_reason: str | None = None
    failure: FailureInfo | None = None
    pending_wait: PendingWait | None = None
    frozen_execution_spec: Any = None
    original_exec_id: str | None = None
    checkpoints: list[CheckpointCall] = field(default_factory=list)
    artifacts: list[ArtifactRef] = field(default_factory=list)
    checkpoint_count: int = 0
    artifact_count: int = 0
    llm_usage: dict[str, Any] | None = None

    def _client(self) -> KitaruClient:
        from kitaru.client.client import KitaruClient

        return KitaruClient()

    def refresh(self) -> Execution:
        """Return a freshly loaded copy of this execution."""
        return self._client().executions.get(self.exec_id)

    def retry(self) -> Execution:
        """Retry this failed execution in place."""
        return self._client().executions.retry(self.exec_id)

    def resume(self) -> Execution:
        """Resume this paused execution."""
        return self._client().executions.resume(self.exec_id)

    def cancel(self) -> Execution:
        """Cancel this execution."""
        return self._client().executions.cancel(self.exec_id)

    def replay(self, *, from_: str, overrides: dict[str, Any] | None = None, **flow_inputs: Any) -> Execution:
        """Replay this execution from a checkpoint into a new execution."""
        return self._client().executions.replay(self.exec_id, from_=from_, overrides=overrides, **flow_inputs)

    def list_checkpoints(self) -> list[CheckpointCall]:
        """The checkpoint calls (loads details if this is a summary)."""
        return self.checkpoints if self.checkpoints else self.refresh().checkpoints

    def list_artifacts(self) -> list[ArtifactRef]:
        """The artifacts (loads details if this is a summary)."""
        return self.artifacts if self.artifacts else self.refresh().artifacts
