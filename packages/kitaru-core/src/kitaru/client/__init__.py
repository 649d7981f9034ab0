"""Inspect and manage executions (``KitaruClient`` and its models).

This build ships the status model; the full client arrives with the
execution-lifecycle work (see the project's issue tracker).
"""

from kitaru.client.status import ExecutionStatus, public_status

__all__ = ["ExecutionStatus", "public_status"]
