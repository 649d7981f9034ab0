"""Where an execution stands, for ``kitaru executions logs --follow``.

A follower reads the logs again and again (:func:`kitaru.logs.get_logs`)
until the execution ends. :func:`execution_progress` tells it when that is
and what to say meanwhile: the public status, why a failed execution failed,
and which waits a waiting execution waits on. Runs are loaded with the one
run loader, so an execution whose process died is marked failed first and a
follower does not wait forever.

Once an execution has ended, its last log lines may not be stored yet: the
engine exports log lines in batches from a background thread (about every
200 ms with Kitaru's bootstrap), so a checkpoint's or the flow body's final
batch can land after the status has flipped. The process that ran the
execution exports everything left before it lets go of the execution's lock
(:mod:`kitaru.execution.ownership`), so :func:`wait_for_log_export` waits for
that before the follower's last read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from kitaru.engine.runs import RunRecord
from kitaru.errors import KitaruBackendError
from kitaru.execution import ownership
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


LOG_EXPORT_TIMEOUT = 10.0
"""Longest :func:`wait_for_log_export` waits for an ended execution's process to store its last lines."""
OWNER_POLL_SECONDS = 0.05
"""How often :func:`wait_for_log_export` checks whether that process has let go of the execution."""


def wait_for_log_export(
    exec_id: str,
    *,
    timeout: float = LOG_EXPORT_TIMEOUT,
    poll: float = OWNER_POLL_SECONDS,
) -> bool | None:
    """Wait until the process that ran an ended execution has stored all of its log lines.

    That process publishes the outcome first and exports its pending log
    batches afterwards, on the way out; only then does it release the
    execution's lock. So once no process on this machine holds the lock,
    every line it printed is stored (or it died, and what it stored is all
    there is).

    Args:
        exec_id: The execution id (one that has ended).
        timeout: Give up after this many seconds.
        poll: Seconds between checks of the lock.

    Returns:
        True once the lines are stored; None when no process on this machine
        ever ran the execution (it ran elsewhere, so there is no lock to
        watch: read until its logs stop growing instead); False when its
        process still held it after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        alive = ownership.local_owner_alive(exec_id)
        if alive is None:
            return None
        if not alive:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll)


__all__ = [
    "LOG_EXPORT_TIMEOUT",
    "ExecutionProgress",
    "execution_progress",
    "failure_message",
    "load_polled_run",
    "wait_for_log_export",
]
