"""The port for stored executions: runs, their step runs, artifacts and waits, as plain records.

An *execution* is an engine run; each attempt of a checkpoint call is a step
run, named by its invocation id (``research``, ``research_2`` or ``id=``);
checkpoint outputs and ``kitaru.save()`` values are artifacts. The engine
adapter reads its store and returns the records below; Kitaru's rules (public
status, failures, grouping attempts into calls, crash detection) work on these
records only and never see an engine type.

Statuses are the engine's own lowercase words (``running``, ``paused``,
``completed`` ...); :func:`kitaru.client.status.public_status` maps them to
Kitaru's. Datetimes are as the engine stored them (naive UTC on ZenML).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class ExceptionRecord:
    """What the engine recorded about an exception.

    Attributes:
        traceback: The formatted traceback (or a reason the engine wrote).
        source: The import path of the exception class (``builtins.ValueError``).
    """

    traceback: str | None
    source: str | None = None


@dataclass(frozen=True)
class WaitRecord:
    """A wait condition (``kitaru.wait()``) of a run.

    Attributes:
        id: The wait's id.
        name: Its name (``approve`` or ``wait_condition:0``).
        status: ``pending``, ``resolved``, ``aborted`` ... (engine words).
        question: The question shown to whoever answers.
        schema: The JSON schema of the expected input, or None for a gate.
        metadata: JSON metadata stored with the wait.
        created: When the body started waiting.
        run_id: The run it belongs to.
    """

    id: str
    name: str
    status: str
    question: str | None
    schema: dict[str, Any] | None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    created: datetime | None = None
    run_id: str | None = None


@dataclass(frozen=True)
class LogStreamRecord:
    """One stored log stream of a run or step run.

    Attributes:
        id: The stream's id.
        source: The engine's tag: ``step``, ``orchestrator``, ``prepare_step``, ``client``.
        uri: Where its lines are, when they live in an artifact store.
        artifact_store_id: That artifact store's component id.
        log_store_id: The log-store component keeping it, when not in an artifact store.
    """

    id: str
    source: str
    uri: str | None = None
    artifact_store_id: str | None = None
    log_store_id: str | None = None


@dataclass(frozen=True)
class ArtifactRecord:
    """A stored value.

    Attributes:
        id: The artifact version id.
        name: The artifact name.
        save_type: ``step_output``, ``manual``, ``external`` ... (engine words).
        uri: Where the value is stored.
        created: When it was stored.
        producer_step_id: The step run that produced it, if any.
        data_type: The import path of the value's type as the engine recorded it.
        metadata: Its metadata (only when read with details, else empty).
    """

    id: str
    name: str
    save_type: str
    uri: str
    created: datetime | None = None
    producer_step_id: str | None = None
    data_type: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StepRecord:
    """One attempt of a checkpoint call (an engine step run).

    Attributes:
        id: The step run id (Kitaru's attempt id and call id).
        run_id: The run it belongs to.
        name: The invocation id.
        checkpoint: The checkpoint's name (the step's configured name).
        status: The engine status word.
        successful: Whether the engine counts it as successful (completed or cached).
        finished: Whether it ended, successfully or not.
        attempt: The engine's attempt number (1 for the first).
        created: When the engine created it.
        started: When it started.
        ended: When it ended.
        metadata: ``kitaru.log()`` metadata.
        parameters: Inputs the engine recorded as plain values.
        inputs: Inputs recorded as artifacts: input name -> artifact ids.
        outputs: Output name -> the artifacts it produced (saves included).
        parent_ids: Step runs whose outputs this one consumed.
        original_id: The step run this one was reused from (cache, replay).
        exception: What the engine recorded when it failed.
        step_type: The engine step type (``llm_call``, ``tool_call``), if any.
        label: The ``@checkpoint(type=...)`` label.
        log_streams: Its stored log streams.
        call_index: The call's position in its flow body (0, 1, ...), shared
            by its attempts and by the items of one map; None for calls
            recorded before Kitaru kept it.
    """

    id: str
    run_id: str
    name: str
    checkpoint: str
    status: str
    successful: bool
    finished: bool
    attempt: int = 1
    created: datetime | None = None
    started: datetime | None = None
    ended: datetime | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    parameters: Mapping[str, Any] = field(default_factory=dict)
    inputs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    outputs: Mapping[str, tuple[ArtifactRecord, ...]] = field(default_factory=dict)
    parent_ids: tuple[str, ...] = ()
    original_id: str | None = None
    exception: ExceptionRecord | None = None
    step_type: str | None = None
    label: str | None = None
    log_streams: tuple[LogStreamRecord, ...] = ()
    call_index: int | None = None


@dataclass(frozen=True)
class FlowSource:
    """Where the flow that ran an execution can be imported from.

    Attributes:
        module: The module recorded by the engine.
        attribute: The entrypoint's attribute in that module.
    """

    module: str
    attribute: str | None = None


@dataclass(frozen=True)
class RunRecord:
    """An execution as the engine stored it.

    Attributes:
        id: The run id (Kitaru's execution id).
        flow_name: The engine pipeline's name.
        flow_id: The engine pipeline's id.
        status: The engine status word.
        finished: Whether the engine counts the run as ended.
        status_reason: Why it is in that status, if recorded.
        exception: The exception recorded on the run.
        metadata: Run metadata (Kitaru's own keys start with ``kitaru_``).
        created: When the run was created.
        started: When it started.
        ended: When it ended.
        stack_name: The stack it ran on (None if deleted).
        original_run_id: The run it was replayed from.
        parent_run_id: The run whose flow body started it as a child
            execution (read with details; None for a top-level run).
        active_wait: The wait it is waiting on, if any.
        flow_source: Where its flow can be imported from (read only when asked:
            ``get_run(..., with_source=True)``).
        can_continue: (Read with ``flow_source``; True when not read.) Whether
            the engine still has what it needs to continue
            the run in place (its snapshot and stack).
        log_streams: The run-level log streams (flow body, submitting process).
        flow_inputs: The arguments its flow was called with, by parameter
            name (read with details; empty otherwise).
    """

    id: str
    flow_name: str | None
    flow_id: str | None
    status: str
    finished: bool
    status_reason: str | None = None
    exception: ExceptionRecord | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    created: datetime | None = None
    started: datetime | None = None
    ended: datetime | None = None
    stack_name: str | None = None
    original_run_id: str | None = None
    parent_run_id: str | None = None
    active_wait: WaitRecord | None = None
    flow_source: FlowSource | None = None
    can_continue: bool = True
    log_streams: tuple[LogStreamRecord, ...] = ()
    flow_inputs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunPage:
    """One page of runs, newest first."""

    items: tuple[RunRecord, ...]
    total_pages: int


class RunStore(Protocol):
    """What Kitaru reads and writes about stored executions.

    Every method raises :class:`kitaru.engine.errors.RecordNotFound` for an id
    the store does not know; other engine failures propagate and the domain
    reports them in Kitaru's words.
    """

    def get_run(self, run_id: str, *, details: bool = True, with_source: bool = False) -> RunRecord:
        """Read one run.

        Args:
            run_id: The run's id.
            details: Read metadata, waits and log streams too (else one cheap read).
            with_source: Also read where its flow lives and whether it can
                continue (``flow_source``, ``can_continue``): several more
                queries, needed only to retry, resume or replay it.
        """
        ...

    def list_runs(self, *, page: int, size: int) -> RunPage:
        """Read one page of runs, newest first, with details (one query per page).

        The snapshot-derived fields are not read: ``flow_source`` is None and
        ``can_continue`` True; read a run with :meth:`get_run` for those.
        """
        ...

    def child_runs(self, run_id: str) -> list[RunRecord]:
        """Read the child executions a run's flow body started, oldest first, with details (one query).

        Like :meth:`list_runs`, the snapshot-derived fields are not read.
        """
        ...

    def list_steps(self, run_ids: Sequence[str]) -> list[StepRecord]:
        """Read every step run (every attempt) of the given runs, oldest first."""
        ...

    def get_artifact(self, artifact_id: str) -> ArtifactRecord:
        """Read one artifact with its metadata."""
        ...

    def artifact_metadata(self, artifact_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Read the metadata of many artifacts at once: artifact id -> metadata."""
        ...

    def load_artifact(self, artifact_id: str) -> Any:
        """Load an artifact's value through the serializer that wrote it."""
        ...

    def step_name(self, step_id: str) -> str:
        """The invocation id of a step run."""
        ...

    def log_run_metadata(self, run_id: str, metadata: Mapping[str, Any]) -> None:
        """Attach metadata to a run (one write)."""
        ...

    def log_step_metadata(self, step_id: str, metadata: Mapping[str, Any]) -> None:
        """Attach metadata to a step run."""
        ...

    def set_status(self, run_id: str, status: str, *, reason: str | None = None) -> None:
        """Set a run's status (engine word) and status reason."""
        ...

    def fail_run(self, run_id: str, reason: str) -> None:
        """Fail a run and every unfinished attempt of it, recording ``reason``."""
        ...

    def list_waits(self, run_id: str, *, status: str | None = None) -> list[WaitRecord]:
        """Every wait of a run (optionally only those in ``status``), oldest first."""
        ...

    def find_runs(self, *, id_prefix: str, limit: int) -> list[RunRecord]:
        """Runs whose id starts with ``id_prefix``, newest first, with details (one query).

        Args:
            id_prefix: Lowercase hex digits the id starts with, without hyphens.
            limit: The most runs to return.
        """
        ...

    def list_ended_runs(self, *, ended_before: datetime) -> list[RunRecord]:
        """Every run that ended before ``ended_before`` (timezone-aware), oldest first, with details.

        The store may compare whole seconds only: a run that ended up to a
        second after ``ended_before`` can be among them (the caller compares
        exactly); none that ended before it is left out.
        """
        ...

    def delete_run(self, run_id: str) -> None:
        """Delete a run with its step runs, waits and log records, and the record of
        its inputs and configuration (the engine's snapshot) when no other run uses it.

        Its artifacts stay, even those only it used (see :meth:`unused_artifacts`),
        and so do the log files its log records point at.
        """
        ...

    def unused_artifacts(self, artifact_ids: Sequence[str]) -> list[str]:
        """Those of ``artifact_ids`` that no step run produced, saved or consumed (any run's)."""
        ...

    def delete_artifacts(self, artifact_ids: Sequence[str]) -> None:
        """Delete artifacts: first their stored data in the artifact store, then their records.

        An artifact name left without any version is deleted too.
        """
        ...


__all__ = [
    "ArtifactRecord",
    "ExceptionRecord",
    "FlowSource",
    "LogStreamRecord",
    "RunPage",
    "RunRecord",
    "RunStore",
    "StepRecord",
    "WaitRecord",
]
