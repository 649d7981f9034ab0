"""``KitaruClient``: read and control executions from any process.

The client is a thin facade: each namespace method validates its arguments
and calls one domain module (:mod:`kitaru.client.reading` for executions and
artifacts, :mod:`kitaru.client.waits` for wait input, :mod:`kitaru.logs` for
runtime logs, :mod:`kitaru.execution.lifecycle` and
:mod:`kitaru.execution.replay` for retry/resume/cancel/replay,
:mod:`kitaru.client.deletion` for delete/prune). Every method returns Kitaru
models. Execution ids are resolved once, at the top of each method, by
:func:`kitaru.client.short_ids.resolve_execution_id` (a unique prefix of at
least 6 characters stands for the whole id); everything below gets full ids.

On import, this module binds :class:`ExecutionsAPI` as the implementation of
the :class:`~kitaru.client.models.Execution` methods
(:func:`kitaru.client.models.bind_operations`), so ``execution.refresh()``
works without the models importing the client.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection
from datetime import timedelta
from typing import Any

from kitaru.budget import Budget, check_budget
from kitaru.client import deletion, reading
from kitaru.client import waits as client_waits
from kitaru.client.bulk_retry import BulkRetryResult, parse_retry_status, parse_since
from kitaru.client.bulk_retry import retry_many as bulk_retry_many
from kitaru.client.cassettes import export_cassette
from kitaru.client.diff import ExecutionDiff, diff_executions
from kitaru.client.models import (
    ArtifactRef,
    DeletedExecution,
    Execution,
    LogEntry,
    PendingWait,
    PruneResult,
    bind_operations,
)
from kitaru.client.short_ids import resolve_execution_id
from kitaru.errors import KitaruFeatureNotAvailableError, KitaruUsageError
from kitaru.execution.events_send import SentEvent, send_event
from kitaru.execution.lifecycle import cancel_execution, resume_execution, retry_execution
from kitaru.execution.replay import replay_execution
from kitaru.execution.status import ExecutionStatus
from kitaru.execution.wakeups import DueResume, resume_due
from kitaru.logs import LOG_SOURCES, RUNNER_SOURCE, get_logs


def _require_id(value: str, what: str = "execution id") -> str:
    if not isinstance(value, str) or not value.strip():
        raise KitaruUsageError(f"An {what} is required (see `kitaru executions list`).")
    return value.strip()


def _execution_id(value: str) -> str:
    """The full id of the execution ``value`` names: its id, or a unique prefix of at least 6 characters."""
    return resolve_execution_id(_require_id(value))


class ExecutionsAPI:
    """``client.executions``: executions of every flow.

    Every method that takes an execution id also takes a unique prefix of
    it, of at least 6 characters (``0b6f3c``), as git does; an ambiguous
    prefix is an error that lists the executions it matches.
    """

    def get(self, exec_id: str) -> Execution:
        """Return an execution with its checkpoints, attempts and artifacts."""
        return reading.get_execution(_execution_id(exec_id))

    def list(
        self, *, flow: str | None = None, status: str | ExecutionStatus | None = None, limit: int | None = None
    ) -> list[Execution]:
        """List executions, newest first, optionally by flow and status.

        Summaries carry ``checkpoint_count``, ``artifact_count`` and
        ``llm_usage`` (LLM calls, tokens and cost, as :meth:`get` reports
        them) but not the checkpoints or artifacts themselves; call
        :meth:`get` for those.
        """
        return reading.list_executions(flow=_parse_flow(flow), status=_parse_status(status), limit=_parse_limit(limit))

    def latest(self, *, flow: str | None = None, status: str | ExecutionStatus | None = None) -> Execution:
        """Return the newest execution matching the filters.

        Raises:
            LookupError: If there is none.
        """
        found = self.list(flow=flow, status=status, limit=1)
        if not found:
            raise LookupError(f"No executions found for flow={flow!r} and status={status!r}.")
        return self.get(found[0].exec_id)

    def logs(
        self, exec_id: str, *, checkpoint: str | None = None, source: str = "step", limit: int | None = None
    ) -> builtins.list[LogEntry]:
        """Return runtime log entries of an execution (works on the local default)."""
        if source not in LOG_SOURCES:
            raise KitaruUsageError(f"Unsupported log source {source!r}. Expected one of: step, runner.")
        if source == RUNNER_SOURCE and checkpoint:
            raise KitaruUsageError("A checkpoint filter cannot be combined with source='runner'.")
        return get_logs(_execution_id(exec_id), checkpoint=checkpoint, source=source, limit=_parse_limit(limit))

    def pending_waits(self, exec_id: str) -> builtins.list[PendingWait]:
        """Return the waits of an execution that are waiting for input."""
        return client_waits.pending_waits(_execution_id(exec_id))

    def input(self, exec_id: str, *, wait: str, value: Any) -> Execution:
        """Answer a pending wait (by name or wait id) with ``value``."""
        exec_id = _execution_id(exec_id)
        client_waits.resolve_wait(exec_id, _require_id(wait, "wait name or id"), value=value, abort=False)
        return self.get(exec_id)

    def abort_wait(self, exec_id: str, *, wait: str) -> Execution:
        """Abort a pending wait: the flow does not continue normally."""
        exec_id = _execution_id(exec_id)
        client_waits.resolve_wait(exec_id, _require_id(wait, "wait name or id"), value=None, abort=True)
        return self.get(exec_id)

    def send(self, exec_id: str, topic: str, value: Any, *, resume: bool = False) -> SentEvent:
        """Send ``value`` (JSON data) on ``topic`` to an execution; its ``kitaru.receive(topic)`` takes it.

        The message is stored on the execution and delivered exactly once. A
        receive waiting on the topic continues in its own process; a paused
        execution becomes resumable, and ``resume=True`` resumes it here.
        A finished execution (completed, failed, cancelled) is refused.
        """
        exec_id = _execution_id(exec_id)
        return send_event(exec_id, topic, value, resume=_parse_flag(resume, "resume"))

    def resume(self, exec_id: str) -> Execution:
        """Continue a paused execution in the same execution id."""
        exec_id = _execution_id(exec_id)
        resume_execution(exec_id)
        return self.get(exec_id)

    def resume_due(self) -> builtins.list[DueResume]:
        """Continue every execution whose ``kitaru.sleep()`` has reached its wake-up time.

        The Python form of ``kitaru executions resume --due``, for a scheduler
        to call: executions paused at a due sleep are resumed; those whose
        process died (or was interrupted) while sleeping in process are
        retried, reusing their finished checkpoints. They run one after
        another in this process, oldest wake-up time first; one that cannot
        continue is reported in its result (``error``) and the others still
        run (see :mod:`kitaru.execution.wakeups`).

        Returns:
            One :class:`~kitaru.execution.wakeups.DueResume` per execution
            (``exec_id``, ``action``, ``status``, ``error`` ...); empty when
            nothing was due.
        """
        return resume_due()

    def retry(self, exec_id: str, *, force_owner_dead: bool = False, budget: Budget | None = None) -> Execution:
        """Re-run a failed execution in place, skipping checkpoints that succeeded.

        Args:
            exec_id: The execution id.
            force_owner_dead: Also retry a *running* execution whose owner (a
                process on another machine) has gone silent but is not yet
                judged dead by its heartbeat timeout. If that process is in
                fact alive, it runs alongside the retry until it notices
                (within its heartbeat interval) and exits, so a checkpoint
                may run twice.
            budget: Raise (or lower) the execution's budget for the
                continuation: each limit this :class:`kitaru.Budget` sets
                replaces the recorded one, the others stay
                (``Budget(tokens=200)`` keeps a ``usd`` limit). Recorded on
                the execution.
        """
        exec_id = _execution_id(exec_id)
        retry_execution(exec_id, force_owner_dead=force_owner_dead, budget=check_budget(budget, where="retry()"))
        return self.get(exec_id)

    def retry_many(
        self,
        *,
        status: str | ExecutionStatus = "failed",
        flow: str | None = None,
        since: timedelta | None = None,
        dry_run: bool = False,
    ) -> BulkRetryResult:
        """Retry every failed execution that matches, one after another, as :meth:`retry` does.

        A failed child flow's execution is not retried on its own: its
        top-level execution is (once), if that one failed too. One retry that
        cannot start is reported in its outcome (``result="not_started"``,
        ``error``) and the others still run (see :mod:`kitaru.client.bulk_retry`).

        Args:
            status: Only ``failed`` (the one status a retry continues).
            flow: Only executions of this flow; None for every flow.
            since: Only executions that failed within this long before now
                (``timedelta(days=1)``); None for any time.
            dry_run: Only list what would be retried (``result="would_retry"``).

        Returns:
            One outcome per selected execution, oldest first: ``exec_id``,
            ``flow``, ``status_before``, ``result`` (the status after the
            retry) and ``error``.

        Raises:
            KitaruUsageError: If an argument is invalid.
        """
        return bulk_retry_many(
            status=parse_retry_status(status),
            flow=_parse_flow(flow),
            since=parse_since(since),
            dry_run=_parse_flag(dry_run, "dry_run"),
        )

    def cancel(self, exec_id: str) -> Execution:
        """Stop an execution (at its next checkpoint boundary or sooner)."""
        exec_id = _execution_id(exec_id)
        cancel_execution(exec_id)
        return self.get(exec_id)

    def replay(
        self, exec_id: str, *, from_: str, overrides: dict[str, Any] | None = None, **flow_inputs: Any
    ) -> Execution:
        """Replay an execution from a checkpoint into a new execution."""
        new_id = replay_execution(_execution_id(exec_id), from_=from_, overrides=overrides, flow_inputs=flow_inputs)
        return self.get(new_id)

    def diff(self, a: str, b: str) -> ExecutionDiff:
        """Compare execution ``a`` (the reference) with ``b``: calls, flow inputs, result, LLM usage.

        Checkpoint calls are matched by invocation id (as the divergence
        check matches a journal) and each is ``same``, ``changed``,
        ``added`` (only in ``b``) or ``removed`` (only in ``a``); see
        :mod:`kitaru.client.diff`. Executions of different flows can be
        compared (``same_flow`` is False and ``warnings`` says so).
        """
        return diff_executions(_execution_id(a), _execution_id(b))

    def export_cassette(self, exec_id: str, path: str, *, tools: bool = False) -> dict[str, Any]:
        """Write an execution's model calls to a cassette file, to run its flow offline.

        Running the flow with ``KITARU_CASSETTE=path`` or inside
        ``kitaru.testing.cassette(path)`` then answers those calls from the
        file (``docs/testing.md``).

        Args:
            exec_id: The execution id, or a unique prefix of it.
            path: The file to write (replaced whole).
            tools: Also write its tool calls (name, arguments, result).

        Returns:
            ``{"exec_id", "path", "version", "calls", "tool_calls"}``: what was written.

        Raises:
            KitaruUsageError: For a blank path or a directory.
        """
        return export_cassette(self.get(exec_id), path, tools=tools)

    def delete(self, exec_id: str) -> DeletedExecution:
        """Delete an execution and the artifacts only it used, their stored files included.

        Artifacts that other executions still use (a cached checkpoint, a
        replay's reused checkpoints) stay; so does everything of a running
        execution: deleting one is refused.

        Args:
            exec_id: The execution id, or a unique prefix of it.

        Returns:
            What was deleted (its flow, status and how many artifacts went and stayed).

        Raises:
            KitaruStateError: If it does not exist, or it is running or waiting
                in a live process (the message says how to stop it).
        """
        return deletion.delete_execution(_execution_id(exec_id))

    def prune(
        self,
        older_than: timedelta,
        *,
        status: str | ExecutionStatus | None = None,
        flow: str | None = None,
        dry_run: bool = False,
        among: Collection[str] | None = None,
    ) -> PruneResult:
        """Delete every execution that ended more than ``older_than`` ago, as :meth:`delete` does.

        Running, waiting and paused executions never ended: they are never
        selected. An execution that cannot be deleted is reported in
        ``failures`` and the others are still deleted.

        Args:
            older_than: How long ago they must have ended (``timedelta(days=30)``;
                ``timedelta(0)`` selects every ended execution).
            status: Only executions with this status: completed, failed or cancelled.
            flow: Only executions of this flow.
            dry_run: Only list what would be deleted.
            among: Only these execution ids: pass the ids a dry run listed to
                delete exactly what was shown, nothing that aged since.

        Returns:
            The cutoff, the executions deleted (or, on a dry run, that would
            be), oldest first, and the failures.

        Raises:
            KitaruUsageError: If an argument is invalid.
        """
        return deletion.prune_executions(
            older_than=_parse_age(older_than),
            status=_parse_ended_status(status),
            flow=_parse_flow(flow),
            dry_run=_parse_flag(dry_run, "dry_run"),
            among=None if among is None else [str(exec_id) for exec_id in among],
        )


class ArtifactsAPI:
    """``client.artifacts``: stored values of executions."""

    def list(
        self,
        exec_id: str,
        *,
        name: str | None = None,
        kind: str | None = None,
        producing_call: str | None = None,
        limit: int | None = None,
    ) -> list[ArtifactRef]:
        """List an execution's artifacts, optionally filtered."""
        return reading.list_artifacts(
            _execution_id(exec_id), name=name, kind=kind, producing_call=producing_call, limit=_parse_limit(limit)
        )

    def get(self, artifact_id: str) -> ArtifactRef:
        """Return one artifact by id."""
        return reading.get_artifact(_require_id(artifact_id, "artifact id"))


class KitaruClient:
    """Read and control executions.

    Args:
        server_url: Not supported yet: the client uses the current connection.
        auth_token: Not supported yet.
        project: Not supported yet.

    Raises:
        KitaruFeatureNotAvailableError: If a per-client override is given.
    """

    def __init__(
        self, *, server_url: str | None = None, auth_token: str | None = None, project: str | None = None
    ) -> None:
        if server_url is not None or auth_token is not None or project is not None:
            raise KitaruFeatureNotAvailableError(
                "Per-client connection overrides are not supported yet. Connect with "
                "`kitaru login` or the KITARU_SERVER_URL/KITARU_AUTH_TOKEN/KITARU_PROJECT "
                "variables, then create KitaruClient() without arguments."
            )
        self.executions = ExecutionsAPI()
        self.artifacts = ArtifactsAPI()


def _parse_status(status: str | ExecutionStatus | None) -> ExecutionStatus | None:
    if status is None:
        return None
    try:
        return ExecutionStatus(str(getattr(status, "value", status)).strip().lower())
    except ValueError:
        raise KitaruUsageError(
            f"Unsupported status filter {status!r}. Expected one of: running, waiting, "
            "completed, failed, cancelled."
        ) from None


def _parse_ended_status(status: str | ExecutionStatus | None) -> ExecutionStatus | None:
    """A status filter for executions that ended: completed, failed or cancelled."""
    parsed = _parse_status(status)
    if parsed is not None and not parsed.is_finished:
        raise KitaruUsageError(
            f"Only executions that ended can be pruned: status must be completed, failed or cancelled; got "
            f"{str(parsed)!r}. A running or waiting execution is never pruned."
        )
    return parsed


def _parse_age(older_than: timedelta) -> timedelta:
    if not isinstance(older_than, timedelta) or older_than < timedelta(0):
        raise KitaruUsageError(
            f"older_than must be a datetime.timedelta of 0 or more, e.g. timedelta(days=30); got {older_than!r}."
        )
    return older_than


def _parse_flag(value: bool, name: str) -> bool:
    if not isinstance(value, bool):
        raise KitaruUsageError(f"{name} must be True or False; got {value!r}.")
    return value


def _parse_flow(flow: str | None) -> str | None:
    """A flow-name filter: None for every flow; a blank name is a mistake, not "every flow"."""
    if flow is None:
        return None
    if not isinstance(flow, str) or not flow.strip():
        raise KitaruUsageError(f"flow must be a flow name; got {flow!r}. Leave it out to list every flow's executions.")
    return flow.strip()


def _parse_limit(limit: int | None) -> int | None:
    if limit is None:
        return None
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise KitaruUsageError(f"limit must be a positive integer; got {limit!r}.")
    return limit


bind_operations(ExecutionsAPI())

__all__ = ["ArtifactsAPI", "ExecutionsAPI", "KitaruClient"]
