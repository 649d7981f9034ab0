"""Delete executions and prune old ones: what goes, what stays, and when Kitaru refuses.

Deleting an execution (:func:`delete_execution`) removes:

* the execution, every attempt of its checkpoint calls, its waits and its
  log records;
* every artifact only it used, its record and its stored files in the
  artifact store. An artifact another execution still uses stays: a later
  execution whose checkpoint was served from the cache, or a replay that
  reused the checkpoint, links the same artifact;
* its log files in the artifact store (log lines kept by a log-store
  backend such as OTEL or Datadog stay with that backend), and its lock file
  under ``<config dir>/runs``.

It is refused while the execution runs: a running or waiting execution whose
process is alive (on this machine its lock, elsewhere its heartbeat says so;
see :mod:`kitaru.execution.ownership`), or one being cancelled. An execution
whose process died is marked failed when it is loaded, and can then be
deleted, as can a paused one (waiting for input with no process running it).
While it deletes, this process holds the execution's lock, so no retry or
resume on this machine can start it meanwhile.

Pruning (:func:`prune_executions`) selects the executions that *ended* before
now minus an age, optionally of one status and one flow, and deletes each the
same way; a dry run only lists them. Running, waiting and paused executions
never ended, so prune never selects them::

    prune_executions(older_than=timedelta(days=30), status=ExecutionStatus.FAILED, flow=None, dry_run=True)
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from kitaru.client.mapping import artifact_ids, flow_name, utc
from kitaru.client.models import DeletedExecution, PruneFailure, PruneResult
from kitaru.engine import get_engine
from kitaru.engine.errors import RecordNotFound
from kitaru.engine.runs import LogStreamRecord, RunRecord, StepRecord
from kitaru.errors import KitaruBackendError, KitaruError, KitaruStateError, KitaruUsageError
from kitaru.execution import ownership
from kitaru.execution.naming import sanitize_name
from kitaru.execution.owner_record import OwnerInfo, owner_info
from kitaru.execution.runs import load_run, not_found
from kitaru.execution.status import ExecutionStatus, public_status
from kitaru.locks import try_lock

PAUSED = "paused"
"""The engine status of an execution waiting for input with no process running it."""


def delete_execution(exec_id: str) -> DeletedExecution:
    """Delete an execution and the artifacts only it used, with their stored files.

    Args:
        exec_id: The full execution id.

    Returns:
        What was deleted.

    Raises:
        KitaruStateError: If there is no such execution, or it is running (the
            message says how to stop it).
        KitaruBackendError: If the store or the artifact store fails.
    """
    run = load_run(exec_id)
    refuse_while_running(run)
    exec_id = run.id
    lock_file = ownership.lock_path(exec_id)
    lock_existed = lock_file.exists()
    lock = try_lock(lock_file)
    if lock is None:
        raise KitaruStateError(
            f"Execution {exec_id} cannot be deleted: a process on this machine is running or continuing it. "
            f"Wait for it to finish, or cancel it with `kitaru executions cancel {exec_id}`, then delete it."
        )
    deleted = False
    try:
        run = load_run(exec_id)  # again: it may have been retried or resumed before we held the lock
        refuse_while_running(run)
        result = remove_execution(run)
        deleted = True
    finally:
        lock.release()
        if deleted or not lock_existed:
            lock_file.unlink(missing_ok=True)
    return result


def refuse_while_running(run: RunRecord) -> None:
    """Raise if ``run`` may not be deleted now: it runs, waits in a live process, or is being cancelled.

    Raises:
        KitaruStateError: Saying what it is doing and how to stop it.
    """
    if run.finished:
        return
    owner = owner_info(run.metadata)
    if run.status == PAUSED and (owner is None or ownership.owner_is_dead(run.id, dict(run.metadata))[0]):
        return
    raise KitaruStateError(running_message(run, owner))


def running_message(run: RunRecord, owner: OwnerInfo | None) -> str:
    """Why a running execution cannot be deleted, and what to do instead."""
    cancel = f"cancel it with `kitaru executions cancel {run.id}`"
    if run.status == ownership.STOPPING:
        return (
            f"Execution {run.id} is being cancelled; it cannot be deleted until it stops. Delete it once "
            f"`kitaru executions get {run.id}` shows it cancelled."
        )
    process = f" (its process: {owner.describe()})" if owner is not None else ""
    if run.active_wait is not None:
        return (
            f"Execution {run.id} is waiting for input on `{run.active_wait.name}` in a running process{process}; "
            f"it cannot be deleted while it runs. Answer the wait with `kitaru executions input {run.id}`, or "
            f"{cancel}, then delete it."
        )
    return (
        f"Execution {run.id} is running{process}; it cannot be deleted while it runs. Wait for it to finish, "
        f"or {cancel}, then delete it."
    )


def remove_execution(run: RunRecord) -> DeletedExecution:
    """Delete a loaded execution that is not running, then its unused artifacts and log files.

    The execution goes first: only then does the store know which of its
    artifacts nobody else uses.

    Raises:
        KitaruStateError: If it was deleted meanwhile.
        KitaruBackendError: If the store or the artifact store fails; when the
            execution is gone but some files are not, the message says so.
    """
    runs = get_engine().runs
    try:
        steps = runs.list_steps([run.id])
        used = used_artifacts(steps)
        streams = stored_log_files([*run.log_streams, *(stream for step in steps for stream in step.log_streams)])
        runs.delete_run(run.id)
    except RecordNotFound:
        raise not_found(run.id) from None
    except KitaruError:
        raise
    except Exception as exc:
        raise KitaruBackendError(f"Failed to delete execution '{run.id}': {exc}") from exc
    try:
        unused = runs.unused_artifacts(used) if used else []
        if unused:
            runs.delete_artifacts(unused)
        remove_log_files(streams)
    except Exception as exc:
        raise KitaruBackendError(
            f"Execution {run.id} was deleted, but removing its artifacts or log files from the artifact store "
            f"failed: {exc}. Check that this machine can reach the artifact store."
        ) from exc
    return replace(summary(run), artifacts_deleted=len(unused), artifacts_kept=len(used) - len(unused))


def used_artifacts(steps: Sequence[StepRecord]) -> list[str]:
    """Every artifact the attempts produced, saved or consumed, each once."""
    consumed = (artifact_id for step in steps for ids in step.inputs.values() for artifact_id in ids)
    return list(dict.fromkeys([*artifact_ids(steps), *consumed]))


def stored_log_files(streams: Iterable[LogStreamRecord]) -> list[LogStreamRecord]:
    """The log streams kept as files in an artifact store (not by a log-store backend)."""
    return [stream for stream in streams if stream.uri and stream.artifact_store_id]


def remove_log_files(streams: Sequence[LogStreamRecord]) -> None:
    """Delete the files of log streams, opening each artifact store once."""
    logs = get_engine().logs
    for store_id in dict.fromkeys(stream.artifact_store_id for stream in streams):
        assert store_id is not None
        files = logs.open_artifact_store(store_id)
        for stream in streams:
            if stream.artifact_store_id == store_id and stream.uri:
                files.remove(stream.uri)


def summary(run: RunRecord, *, deleted: bool = True) -> DeletedExecution:
    """The :class:`DeletedExecution` of ``run``, without artifact counts."""
    return DeletedExecution(
        exec_id=run.id,
        flow_name=flow_name(run),
        status=public_status(run.status, has_active_wait=run.active_wait is not None),
        ended_at=utc(run.ended),
        deleted=deleted,
    )


def prune_cutoff(older_than: timedelta, *, now: datetime | None = None) -> datetime:
    """Now (UTC) minus ``older_than``.

    Raises:
        KitaruUsageError: If that is before the first year the calendar has.
    """
    try:
        return (now or datetime.now(timezone.utc)) - older_than
    except OverflowError:
        raise KitaruUsageError(
            f"older_than is too long ({older_than.days} days): no execution ended that long ago."
        ) from None


def prune_executions(
    *,
    older_than: timedelta,
    status: ExecutionStatus | None,
    flow: str | None,
    dry_run: bool,
    among: Collection[str] | None = None,
) -> PruneResult:
    """Delete the executions that ended more than ``older_than`` ago (or list them, on a dry run).

    Args:
        older_than: How long ago they must have ended (0 selects every ended one).
        status: Only those with this status (completed, failed or cancelled).
        flow: Only those of this flow (names compared as ``executions list`` does).
        dry_run: List what would be deleted; delete nothing.
        among: Only these execution ids (what a confirmed preview listed), so
            nothing that crossed the cutoff since is deleted unseen.

    Returns:
        The selected executions, oldest first, and those that could not be deleted.

    Raises:
        KitaruBackendError: If the store cannot be read.
    """
    cutoff = prune_cutoff(older_than)
    try:
        ended = get_engine().runs.list_ended_runs(ended_before=cutoff)
    except Exception as exc:
        raise KitaruBackendError(f"Failed to list the executions to prune: {exc}") from exc
    wanted_flow = sanitize_name(flow, fallback="flow") if flow else None
    selected = [run for run in ended if is_selected(run, cutoff=cutoff, status=status, flow=wanted_flow)]
    if among is not None:
        allowed = set(among)
        selected = [run for run in selected if run.id in allowed]
    if dry_run:
        return PruneResult(cutoff=cutoff, dry_run=True, executions=[summary(run, deleted=False) for run in selected])
    deleted: list[DeletedExecution] = []
    failures: list[PruneFailure] = []
    for run in selected:
        try:
            deleted.append(delete_execution(run.id))
        except KitaruError as exc:
            failures.append(PruneFailure(exec_id=run.id, message=str(exc), error_type=type(exc).__name__))
    return PruneResult(cutoff=cutoff, dry_run=False, executions=deleted, failures=failures)


def is_selected(run: RunRecord, *, cutoff: datetime, status: ExecutionStatus | None, flow: str | None) -> bool:
    """Whether prune takes ``run``: it ended before ``cutoff``, with ``status``, of ``flow`` (normalised)."""
    ended = utc(run.ended)
    if not run.finished or ended is None or ended >= cutoff:
        return False
    if status is not None and public_status(run.status) is not status:
        return False
    return flow is None or sanitize_name(flow_name(run) or "", fallback="flow") == flow


__all__ = [
    "delete_execution",
    "is_selected",
    "prune_cutoff",
    "prune_executions",
    "refuse_while_running",
    "remove_execution",
    "running_message",
    "stored_log_files",
    "summary",
    "used_artifacts",
]
