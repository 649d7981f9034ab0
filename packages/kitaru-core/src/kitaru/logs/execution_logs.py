"""Read an execution's runtime logs: :func:`get_logs`.

Picks the streams (:mod:`kitaru.logs.streams`), reads each from where the
engine stored it (:mod:`kitaru.logs.stores`), or through a log-store
plugin's ``read_logs`` (:mod:`kitaru.logs.plugins`), and returns entries in
time order.
"""

from __future__ import annotations

from kitaru.engine import get_engine
from kitaru.engine.runs import StepRecord
from kitaru.errors import KitaruBackendError, KitaruUsageError
from kitaru.execution.status import public_status
from kitaru.logs.entries import LOG_SOURCES, RUNNER_SOURCE, STEP_SOURCE, LogEntry, sort_entries
from kitaru.logs.plugins import plugin_reader, read_with_plugin
from kitaru.logs.progress import load_polled_run
from kitaru.logs.stores import StreamReader
from kitaru.logs.streams import run_streams, step_streams


def _attempts(run_id: str) -> list[StepRecord]:
    try:
        return get_engine().runs.list_steps([run_id])
    except Exception as exc:
        raise KitaruBackendError(f"Failed to load the checkpoints of execution '{run_id}': {exc}") from exc


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
        KitaruLogRetrievalError: If the logs live in a backend that cannot be read back.
    """
    if source not in LOG_SOURCES:
        raise KitaruUsageError(f"Unsupported log source {source!r}. Expected one of: step, runner.")
    run = load_polled_run(exec_id)
    finished = public_status(run.status).is_finished
    if source == RUNNER_SOURCE:
        streams = run_streams(run, include_engine=include_engine)
    else:
        streams = step_streams(_attempts(run.id), checkpoint=checkpoint, include_engine=include_engine)
    logs = get_engine().logs
    read_logs = plugin_reader(streams, logs)
    if read_logs is not None:
        return read_with_plugin(read_logs, exec_id, checkpoint, source, limit, include_engine)
    reader = StreamReader(exec_id, logs)
    entries: list[LogEntry] = []
    for stream in streams:
        entries.extend(reader.read(stream, include_engine=include_engine, finished=finished))
        if limit is not None and len(entries) >= limit:
            break
    entries = sort_entries(entries)
    return entries if limit is None else entries[:limit]


__all__ = ["get_logs"]
