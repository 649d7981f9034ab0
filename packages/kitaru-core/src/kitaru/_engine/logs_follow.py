"""Where an execution stands, for ``kitaru executions logs --follow``.

A follower reads the logs again and again (:func:`kitaru._engine.logs.get_logs`)
until the execution ends. :func:`execution_progress` tells it when that is and
what to say meanwhile: the public status, why a failed execution failed, and
which waits a waiting execution waits on. Runs are loaded the way the client
loads them, so an execution whose process died is marked failed first and a
follower does not wait forever.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kitaru.client.status import ExecutionStatus, public_status


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


def execution_progress(exec_id: str) -> ExecutionProgress:
    """Return an execution's status, failure message and pending waits.

    An execution whose process died is marked failed first, so a follower
    does not wait forever.

    Raises:
        KitaruUsageError: If ``exec_id`` is not a UUID.
        KitaruStateError: If there is no such execution.
        KitaruBackendError: If the store cannot be read.
    """
    run = _load_run(exec_id)
    active = run.active_wait_condition
    status = public_status(run.status.value, has_active_wait=active is not None)
    if status is ExecutionStatus.FAILED:
        return ExecutionProgress(status, failure_message=_failure_message(run))
    if status is ExecutionStatus.WAITING:
        names = (active.name,) if active is not None else _pending_wait_names(exec_id)
        return ExecutionProgress(status, waiting_on=names)
    return ExecutionProgress(status)


def _load_run(exec_id: str) -> Any:
    """Load the run the way the client does (same errors, dead owners detected).

    An execution that finishes while it is being checked for a dead owner makes
    that check fail with the engine's "finished run" error; followers poll
    exactly around the end of executions, so read it once more then.
    """
    from kitaru._engine.lifecycle import load_run

    try:
        return load_run(exec_id)
    except Exception as exc:
        from zenml.exceptions import IllegalOperationError

        if not isinstance(exc, IllegalOperationError):
            raise
        return load_run(exec_id)


def _failure_message(run: Any) -> str:
    reason = run.get_body().status_reason
    if reason:
        return str(reason)
    info = getattr(run, "exception_info", None)
    lines = [line for line in (info.traceback if info else "").splitlines() if line.strip()]
    return lines[-1].strip() if lines else f"Execution {run.id} failed."


def _pending_wait_names(exec_id: str) -> tuple[str, ...]:
    from kitaru._engine.waits import pending_waits

    return tuple(wait.name for wait in pending_waits(exec_id))
