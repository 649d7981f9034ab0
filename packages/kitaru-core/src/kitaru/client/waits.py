"""Waits as the client shows them: :class:`~kitaru.client.models.PendingWait` models.

The rules for finding, validating and answering waits live in
:mod:`kitaru.execution.waits`; this module maps its records to models and
reads what the CLI shows next to a wait.
"""

from __future__ import annotations

from typing import Any

from kitaru.client.mapping import flow_name, pending_wait
from kitaru.client.models import PendingWait
from kitaru.errors import KitaruRuntimeError
from kitaru.execution import waits
from kitaru.execution.runs import load_run
from kitaru.execution.status import public_status


def pending_waits(exec_id: str) -> list[PendingWait]:
    """Return the waits of an execution that are waiting for input, oldest first.

    Raises:
        KitaruUsageError: If ``exec_id`` is not a UUID.
        KitaruStateError: If the execution does not exist.
        KitaruBackendError: If the store cannot be read.
    """
    return [pending_wait(record) for record in waits.pending_wait_records(exec_id)]


def all_pending_waits() -> list[tuple[str, list[PendingWait]]]:
    """Every execution that waits for input, with its pending waits (oldest first).

    Raises:
        KitaruBackendError: If the store cannot be read.
    """
    return [
        (exec_id, [pending_wait(record) for record in records])
        for exec_id, records in waits.all_pending_wait_records()
    ]


def resolve_wait(exec_id: str, selector: str, *, value: Any = None, abort: bool = False) -> PendingWait:
    """Answer (or abort) a pending wait; see :func:`kitaru.execution.waits.resolve_wait`.

    Returns:
        The wait that was resolved (as it was while pending).
    """
    return pending_wait(waits.resolve_wait(exec_id, selector, value=value, abort=abort))


def describe_execution(exec_id: str) -> tuple[str | None, str | None]:
    """The flow name and public status of an execution (None where unreadable)."""
    try:
        run = load_run(exec_id)
    except Exception:
        return None, None
    try:
        status = str(public_status(run.status, has_active_wait=run.active_wait is not None))
    except KitaruRuntimeError:
        status = run.status
    return flow_name(run), status


__all__ = ["all_pending_waits", "describe_execution", "pending_waits", "resolve_wait"]
