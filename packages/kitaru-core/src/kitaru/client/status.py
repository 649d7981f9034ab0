"""Kitaru's public execution status (defined in :mod:`kitaru.execution.status`)."""

from kitaru.execution.status import ExecutionStatus, public_status

__all__ = ["ExecutionStatus", "public_status"]
