"""Inspect and manage executions: ``KitaruClient`` and the models it returns.

Example::

    from kitaru import KitaruClient

    client = KitaruClient()
    latest = client.executions.latest(flow="research_agent")
    print(latest.status, [c.name for c in latest.checkpoints])
    if latest.status == "failed":
        client.executions.retry(latest.exec_id)

Modules: :mod:`~kitaru.client.client` (the facade), :mod:`~kitaru.client.models`
(what it returns), :mod:`~kitaru.client.reading` (executions and artifacts from
the engine's records), :mod:`~kitaru.client.mapping` (records to models),
:mod:`~kitaru.client.waits` (pending waits as models). Kitaru's rules live
below, in :mod:`kitaru.execution` and :mod:`kitaru.logs`.
"""

from kitaru.client.client import ArtifactsAPI, ExecutionsAPI, KitaruClient
from kitaru.client.models import (
    ArtifactRef,
    CheckpointAttempt,
    CheckpointCall,
    CheckpointInput,
    Execution,
    FailureInfo,
    LogEntry,
    PendingWait,
    ReplayInfo,
)
from kitaru.client.status import ExecutionStatus, public_status

__all__ = [
    "ArtifactRef",
    "ArtifactsAPI",
    "CheckpointAttempt",
    "CheckpointCall",
    "CheckpointInput",
    "Execution",
    "ExecutionStatus",
    "ExecutionsAPI",
    "FailureInfo",
    "KitaruClient",
    "LogEntry",
    "PendingWait",
    "ReplayInfo",
    "public_status",
]
