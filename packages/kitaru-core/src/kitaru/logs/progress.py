"""Where an execution stands, for ``kitaru executions logs --follow``.

A follower reads the logs again and again (:func:`kitaru.logs.get_logs`)
until the execution ends. :func:`execution_progress` tells it when that is
and what to say meanwhile: the public status, why a failed execution failed,
and which waits a waiting execution waits on. Runs are loaded with the one
run loader, so an execution whose process died is marked failed first and a
follower does not wait forever.
"""

from __future__ import annotations

from dataclasses import dataclass

from kitaru.engine.runs import RunRecord
from kitaru.errors import KitaruBackendError
from kitaru.execution.runs import load_run
from kitaru.execution.status import ExecutionStatus, public_status
from kitaru.execution.waits import pending_wait_records


@dataclass(frozen=True)
class ExecutionProgress:
    """Where an execution stands, for ``executions logs --follow``.

    Attributes:
        status: The public status.
        failure_message: Why it failed (only when failed).
        waiting_on: Names of the waits it is waiting on (only when waiting).
    """

    status: ExecutionStatus
    failure_message: str | None = None
    waiting_on: tuple[str, ...] = ()


def load_polled_run(exec_id: str) -> RunRecord:
    """Load an execution that is being polled (:func:`kitaru.execution.runs.load_run`).

    Followers poll exactly around the end of executions, when checking for a
    dead owner can race with the execution finishing; a read that fails then
    is tried once more before the error is reported.

    Raises:
        KitaruUsageError: If ``exec_id`` is not a UUID.
        KitaruStateError: If there is no such execution.
        KitaruBackendError: If the store cannot be read, twice.
    """
    try:
        return load_run(exec_id)
    except KitaruBackendError:
        return load_run(exec_id)


def failure_message(run: RunRecord) -> str:
    """Why a failed execution failed: its status reason, else its traceback's last line."""
    if run.status_reason:
        return str(run.status_reason)
    traceback = run.exception.traceback if run.exception is not None else None
    lines = [line for line in (traceback or "").splitlines() if line.strip()]
    return lines[-1].strip() if lines else f"Execution {run.id} failed."


def execution_progress(exec_id: str) -> ExecutionProgress:
    """Return an execution's status, failure message and pending waits.

    Raises:
        KitaruUsageError: If ``exec_id`` is not a UUID.
        KitaruStateError: If there is no such execution.
        KitaruBackendError: If the store cannot be read.
    """
    run = load_polled_run(exec_id)
    active = run.active_wait
    status = public_status(run.status, has_active_wait=active is not None)
    if status is ExecutionStatus.FAILED:
        return ExecutionProgress(status, failure_message=failure_message(run))
    if status is ExecutionStatus.WAITING:
        if active is not None:
            return ExecutionProgress(status, waiting_on=(active.name,))
        return ExecutionProgress(status, waiting_on=tuple(wait.name for wait in pending_wait_records(exec_id)))
    return ExecutionProgress(status)


__all__ = ["ExecutionProgress", "execution_progress", "failure_message", "load_polled_run"]
