"""Kitaru's public execution status and its mapping from the engine's status words."""

from __future__ import annotations

from enum import StrEnum

from kitaru.errors import KitaruRuntimeError


class ExecutionStatus(StrEnum):
    """The public status of an execution."""

    RUNNING = "running"
    WAITING = "waiting"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_finished(self) -> bool:
        """Whether the execution has ended (successfully or not)."""
        return self in (ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED)


_ENGINE_TO_PUBLIC: dict[str, ExecutionStatus] = {
    "initializing": ExecutionStatus.RUNNING,
    "provisioning": ExecutionStatus.RUNNING,
    "running": ExecutionStatus.RUNNING,
    "retrying": ExecutionStatus.RUNNING,
    "resuming": ExecutionStatus.RUNNING,
    "paused": ExecutionStatus.WAITING,
    "completed": ExecutionStatus.COMPLETED,
    "cached": ExecutionStatus.COMPLETED,
    "skipped": ExecutionStatus.COMPLETED,
    "failed": ExecutionStatus.FAILED,
    "retried": ExecutionStatus.FAILED,
    "stopped": ExecutionStatus.CANCELLED,
    "stopping": ExecutionStatus.CANCELLED,
    "cancelled": ExecutionStatus.CANCELLED,
}


def public_status(engine_status: str, *, has_active_wait: bool = False) -> ExecutionStatus:
    """Map an engine status to :class:`ExecutionStatus`.

    A running execution with an active wait condition is ``waiting``.

    Raises:
        KitaruRuntimeError: If the engine reports a status Kitaru does not know.
    """
    raw = str(getattr(engine_status, "value", engine_status)).lower()
    status = _ENGINE_TO_PUBLIC.get(raw)
    if status is None:
        raise KitaruRuntimeError(
            f"Unknown engine execution status '{raw}'. Upgrade Kitaru, or report this "
            "status if you are on the latest version."
        )
    if status is ExecutionStatus.RUNNING and has_active_wait:
        return ExecutionStatus.WAITING
    return status
