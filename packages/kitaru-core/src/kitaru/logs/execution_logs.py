"""Read an execution's runtime logs: :func:`get_logs`.

Picks the streams (:func:`kitaru.logs.stored.select_streams`) and reads them
through the installed log stores that keep them
(:func:`kitaru.logs.backends.read_through_log_stores`): Kitaru has no other
way to read logs, so a log store that is not installed cannot be read.
"""

from __future__ import annotations

from kitaru.logs.backends import read_through_log_stores
from kitaru.logs.entries import STEP_SOURCE, LogEntry
from kitaru.logs.stored import select_streams


def get_logs(
    exec_id: str,
    *,
    checkpoint: str | None = None,
    source: str = STEP_SOURCE,
    limit: int | None = None,
    include_engine: bool = False,
) -> list[LogEntry]:
    """Return an execution's runtime log entries.

    Args:
        exec_id: The execution id.
        checkpoint: Only these checkpoint calls (``source="step"``): an
            invocation id (``think_2``) matches that call, a checkpoint name
            (``think``) matches every call of it (``think``, ``think_2``, ...).
        source: ``step`` for checkpoint output, in checkpoint start order;
            ``runner`` for the flow body's output.
        limit: Stop after this many entries (checkpoints are read in start
            order, so the first entries are returned).
        include_engine: Also return the engine's own lines (launch and finish
            notices, the submitting process's summary), as ``source="engine"``.

    Returns:
        Entries sorted by timestamp; entries without one come last, in the
        order they were stored. Chunked long messages are joined.

    Raises:
        KitaruUsageError: If ``exec_id`` is not a UUID or ``source`` is unknown.
        KitaruStateError: If there is no such execution.
        KitaruBackendError: If the store cannot be read.
        KitaruLogRetrievalError: If the logs live in a log store that is not
            installed, cannot be read back, or cannot be reached.
    """
    selection = select_streams(exec_id, checkpoint=checkpoint, source=source, include_engine=include_engine)
    return read_through_log_stores(selection, limit=limit)


__all__ = ["get_logs"]
