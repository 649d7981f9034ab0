"""What ``KitaruClient`` returns: executions, checkpoint calls and their inputs, artifacts, waits, log entries.

These are frozen dataclasses in Kitaru's vocabulary, built from the engine's
records by :mod:`kitaru.client.mapping`; the CLI, the MCP server and users
render them through :func:`kitaru.jsonable.to_jsonable`. ``FailureInfo``
(:mod:`kitaru.execution.failures`) and ``LogEntry`` (:mod:`kitaru.logs`)
are defined with the rules that build them and importable from here too.

How the models' methods reach the store, without an import cycle:

* :meth:`ArtifactRef.load` calls :func:`kitaru.execution.artifacts.load_artifact`,
  a lower layer that returns a plain value and knows nothing of the models.
* :class:`Execution`'s methods (``refresh``, ``retry``, ``resume``,
  ``cancel``, ``replay``) return new :class:`Execution` models, which only
  the client's reader builds; that reader imports this module, so this
  module cannot import it back. Instead the dependency is inverted: this
  module declares what it needs (:class:`ExecutionOperations`, the shape of
  ``KitaruClient().executions``) and :mod:`kitaru.client.client` binds its
  implementation once, when it is imported (:func:`bind_operations`).
  Importing any ``kitaru.client`` module imports the package first, whose
  ``__init__`` imports the client, so the methods are always bound.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from kitaru.errors import KitaruRuntimeError
from kitaru.execution.artifacts import load_artifact
from kitaru.execution.failures import FailureInfo
from kitaru.execution.owner_record import OwnerInfo
from kitaru.execution.sleeps import SleepInfo
from kitaru.execution.status import ExecutionStatus
from kitaru.logs.entries import LogEntry


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
class CheckpointInput:
    """One input a checkpoint call received (``CheckpointCall.inputs``).

    An input is recorded one of two ways, and exactly one of ``value`` and
    ``artifact_id`` describes it:

    * a *parameter*: a small JSON-able value (a flow argument, a literal)
      stored with the call itself, shown in ``value``;
    * an *artifact*: a stored value, usually another checkpoint's output,
      shown by ``artifact_id``; load it with
      ``KitaruClient().artifacts.get(artifact_id).load()``.

    Example: ``write_up(research(topic), style="brief")`` records
    ``CheckpointInput("style", value="brief")`` and
    ``CheckpointInput("notes", artifact_id="fa40...", producing_call="research")``.

    Attributes:
        name: The checkpoint function's parameter name.
        value: The plain value of a parameter input (None for an artifact input).
        artifact_id: The artifact version id of an artifact input (None for a parameter).
        producing_call: The invocation id of the call in this execution that
            produced that artifact, or None when it is unknown (a parameter,
            or an artifact made outside this execution's calls).
    """

    name: str
    value: Any = None
    artifact_id: str | None = None
    producing_call: str | None = None


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
        overridden: Whether a replay override replaced its output: its
            consumers received the edited value, which is its output here
            (in ``artifacts``) instead of what it returned in the source.
        inputs: What the latest attempt received, one :class:`CheckpointInput`
            per input: plain-value parameters first, in recorded order, then
            artifact inputs (one entry per artifact when an input holds
            several), each naming the call of this execution that produced it.
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
    overridden: bool = False
    inputs: list[CheckpointInput] = field(default_factory=list)


@dataclass(frozen=True)
class ReplayInfo:
    """How a replay made this execution (``Execution.replay_info``).

    Attributes:
        source_exec_id: The execution it replayed (``original_exec_id`` too).
        from_checkpoint: The checkpoint it was replayed from, as given.
        start: The first checkpoint call that ran again.
        reused: Calls reused from the source without running.
        overrides: Calls whose output was overridden (``checkpoint.<name>`` keys).
        inherited_overrides: Reused calls that keep a value overridden by an
            earlier replay (when the source was itself a replay).
    """

    source_exec_id: str
    from_checkpoint: str
    start: str
    reused: list[str] = field(default_factory=list)
    overrides: list[str] = field(default_factory=list)
    inherited_overrides: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PendingWait:
    """A ``kitaru.wait()`` that is waiting for input."""

    wait_id: str
    name: str
    question: str | None
    schema: dict[str, Any] | None
    metadata: dict[str, Any] = field(default_factory=dict)
    entered_waiting_at: datetime | None = None


class ExecutionOperations(Protocol):
    """What :class:`Execution`'s methods delegate to: ``KitaruClient().executions``."""

    def get(self, exec_id: str) -> Execution:
        """Load an execution with its details."""
        ...

    def retry(self, exec_id: str, *, force_owner_dead: bool = False) -> Execution:
        """Retry a failed execution in place (or a running one whose owner is declared dead)."""
        ...

    def resume(self, exec_id: str) -> Execution:
        """Resume a paused execution."""
        ...

    def cancel(self, exec_id: str) -> Execution:
        """Cancel an execution."""
        ...

    def replay(
        self, exec_id: str, *, from_: str, overrides: dict[str, Any] | None = None, **flow_inputs: Any
    ) -> Execution:
        """Replay an execution from a checkpoint into a new execution."""
        ...


_operations: ExecutionOperations | None = None


def bind_operations(operations: ExecutionOperations) -> None:
    """Give :class:`Execution`'s methods their implementation (done once by :mod:`kitaru.client.client`)."""
    global _operations
    _operations = operations


def bound_operations() -> ExecutionOperations:
    """The implementation bound by :func:`bind_operations`.

    Raises:
        KitaruRuntimeError: If nothing was bound (``kitaru.client`` was not imported).
    """
    if _operations is None:
        raise KitaruRuntimeError(
            "Execution methods need the Kitaru client; import kitaru.client (or use KitaruClient()) first."
        )
    return _operations


@dataclass(frozen=True)
class Execution:
    """An execution of a flow.

    ``checkpoints`` and ``artifacts`` are loaded by ``executions.get``; list
    summaries leave them empty but carry real ``checkpoint_count``,
    ``artifact_count`` and ``llm_usage``. ``replay_info`` says how a replay made it (None otherwise).
    ``owner`` says, for a running execution, which process runs it and when it
    was last heard of (None otherwise). A flow called in another flow's body is
    a child execution: ``parent_exec_id`` names the execution that called it,
    and ``children`` lists the child executions this one started, oldest first
    (loaded by ``executions.get``; empty in list summaries).
    ``sleep`` is the ``kitaru.sleep()`` it is in (sleeping in its process,
    paused until its wake-up time, or interrupted by its process dying), or None.
    ``idempotency_key`` is the key it was started with
    (``flow.run(..., idempotency_key=...)``), or None.
    ``cassette`` is ``{"path", "mode"}`` when model requests were answered
    from a cassette (``KITARU_CASSETTE``, ``kitaru.testing.cassette``), else None.
    ``budget`` is its :class:`kitaru.Budget` against what it spent,
    ``{"limits": {"tokens": 60}, "spent": {"usd", "tokens", "llm_calls",
    "calls_with_unknown_cost"}, "exhausted": bool}`` (loaded by
    ``executions.get``; None without a budget and in list summaries).
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
    replay_info: ReplayInfo | None = None
    owner: OwnerInfo | None = None
    parent_exec_id: str | None = None
    children: list[str] = field(default_factory=list)
    sleep: SleepInfo | None = None
    idempotency_key: str | None = None
    cassette: dict[str, Any] | None = None
    budget: dict[str, Any] | None = None

    def refresh(self) -> Execution:
        """Return a freshly loaded copy of this execution."""
        return bound_operations().get(self.exec_id)

    def retry(self, *, force_owner_dead: bool = False) -> Execution:
        """Retry this failed execution in place (see ``KitaruClient().executions.retry``)."""
        return bound_operations().retry(self.exec_id, force_owner_dead=force_owner_dead)

    def resume(self) -> Execution:
        """Resume this paused execution."""
        return bound_operations().resume(self.exec_id)

    def cancel(self) -> Execution:
        """Cancel this execution."""
        return bound_operations().cancel(self.exec_id)

    def replay(self, *, from_: str, overrides: dict[str, Any] | None = None, **flow_inputs: Any) -> Execution:
        """Replay this execution from a checkpoint into a new execution."""
        return bound_operations().replay(self.exec_id, from_=from_, overrides=overrides, **flow_inputs)

    def list_checkpoints(self) -> list[CheckpointCall]:
        """The checkpoint calls (loads details if this is a summary)."""
        return self.checkpoints if self.checkpoints else self.refresh().checkpoints

    def list_artifacts(self) -> list[ArtifactRef]:
        """The artifacts (loads details if this is a summary)."""
        return self.artifacts if self.artifacts else self.refresh().artifacts


@dataclass(frozen=True)
class DeletedExecution:
    """An execution ``executions.delete`` or ``executions.prune`` removed (or, on a dry run, would remove).

    Attributes:
        exec_id: The execution id.
        flow_name: Its flow.
        status: Its status when it was deleted.
        ended_at: When it ended (None for a paused one, which never ended).
        deleted: Whether it was deleted: False on a dry run.
        artifacts_deleted: Artifacts only it used, deleted with it: their
            records and their stored files (0 on a dry run).
        artifacts_kept: Artifacts it used that other executions still use
            (a cached checkpoint, a replay); they stay (0 on a dry run).
    """

    exec_id: str
    flow_name: str | None
    status: ExecutionStatus
    ended_at: datetime | None
    deleted: bool = True
    artifacts_deleted: int = 0
    artifacts_kept: int = 0


@dataclass(frozen=True)
class PruneFailure:
    """An execution ``executions.prune`` selected but could not delete.

    Attributes:
        exec_id: The execution id.
        message: Why, in Kitaru's words.
        error_type: The error's class name (``KitaruStateError`` ...).
    """

    exec_id: str
    message: str
    error_type: str


@dataclass(frozen=True)
class PruneResult:
    """What ``executions.prune`` did (or, on a dry run, would do).

    Attributes:
        cutoff: Executions that ended before this moment (UTC) were selected.
        dry_run: Whether nothing was deleted.
        executions: The selected executions, oldest first: deleted, or on a
            dry run the ones that would be.
        failures: Selected executions that could not be deleted (they stay).
    """

    cutoff: datetime
    dry_run: bool
    executions: list[DeletedExecution] = field(default_factory=list)
    failures: list[PruneFailure] = field(default_factory=list)


__all__ = [
    "ArtifactRef",
    "CheckpointAttempt",
    "CheckpointCall",
    "CheckpointInput",
    "DeletedExecution",
    "Execution",
    "ExecutionOperations",
    "FailureInfo",
    "LogEntry",
    "OwnerInfo",
    "PendingWait",
    "PruneFailure",
    "PruneResult",
    "ReplayInfo",
    "SleepInfo",
    "bind_operations",
    "bound_operations",
]
