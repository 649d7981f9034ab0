"""Read an execution's runtime logs back from where the engine stored them.

The engine captures what runs print and log into *log streams*: each
execution (engine run) and each checkpoint attempt (step run) has a
``log_collection`` of streams, each tagged with an engine source:

* ``step``: a checkpoint's stdout (INFO), stderr (ERROR), ``logging`` records
  and traceback; Kitaru source ``step``.
* ``orchestrator``: the flow body's output, shared by every retry and resume
  of the execution; Kitaru source ``runner`` (the process running the body).
* ``prepare_step``: the engine launching a checkpoint attempt; ``engine``.
* ``client``: the submitting process (stack summary, run duration); ``engine``.

On the default stack the streams are JSON-lines files in the stack's artifact
store, read here directly, so logs work on the local default with no server.
A stack with a real log-store component (Datadog, OTEL, ...) is read through a
plugin's ``read_logs`` if one is registered for that backend, else through the
engine's component; a backend that cannot be read back raises
:class:`~kitaru.errors.KitaruLogRetrievalError` naming its endpoint.

What users see is their own output. Lines the engine or Kitaru's own terminal
reporter wrote ("Step `x` has started.", "Checkpoint `x` finished in 0.10s.",
"Pipeline run has finished ...") are *engine lines*: left out by default and
returned with ``include_engine=True`` (``kitaru executions logs -vv``), with
``source="engine"`` and their wording translated into Kitaru's vocabulary.

Timestamps are the time a line was *exported* (the engine stamps lines when
it writes a batch, about every 200 ms with Kitaru's bootstrap), so they are
accurate to a fraction of a second and monotonic within a process.

This module picks which streams to read. Reading and parsing them lives in
:mod:`kitaru._engine.logs_reading`, and the status a follower (``--follow``)
polls in :mod:`kitaru._engine.logs_follow`; their public names stay
importable from here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kitaru._engine.logs_follow import ExecutionProgress, _load_run, execution_progress
from kitaru._engine.logs_reading import (
    ENGINE_SOURCE,
    LOG_SOURCES,
    RUNNER_SOURCE,
    STEP_SOURCE,
    _Reader,
    _Stream,
    _plugin_reader,
    _read_with_plugin,
    is_engine_line,
    plugin_entries,
    sort_entries,
)
from kitaru.client.models import LogEntry
from kitaru.client.status import public_status
from kitaru.errors import KitaruBackendError

__all__ = [
    "ENGINE_SOURCE",
    "LOG_SOURCES",
    "RUNNER_SOURCE",
    "STEP_SOURCE",
    "ExecutionProgress",
    "execution_progress",
    "get_logs",
    "is_engine_line",
    "plugin_entries",
    "sort_entries",
]

_ENGINE_STREAMS = {"prepare_step", "client"}
_STEP_PAGE_SIZE = 200


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
    from kitaru.errors import KitaruUsageError

    if source not in LOG_SOURCES:
        raise KitaruUsageError(f"Unsupported log source {source!r}. Expected one of: step, runner.")
    run = _load_run(exec_id)
    finished = public_status(run.status.value).is_finished
    if source == RUNNER_SOURCE:
        streams = _run_streams(run, include_engine=include_engine)
    else:
        streams = _step_streams(run, checkpoint=checkpoint, include_engine=include_engine)
    plugin_reader = _plugin_reader(streams)
    if plugin_reader is not None:
        return _read_with_plugin(plugin_reader, exec_id, checkpoint, source, limit, include_engine)
    reader = _Reader(exec_id)
    entries: list[LogEntry] = []
    for stream in streams:
        entries.extend(reader.read(stream, include_engine=include_engine, finished=finished))
        if limit is not None and len(entries) >= limit:
            break
    entries = sort_entries(entries)
    return entries if limit is None else entries[:limit]


# -- which streams ----------------------------------------------------------------


def _run_streams(run: Any, *, include_engine: bool) -> list[_Stream]:
    streams = []
    for logs in run.log_collection or []:
        if logs.source == "orchestrator":
            streams.append(_Stream(logs, RUNNER_SOURCE, None))
        elif include_engine and logs.source in _ENGINE_STREAMS:
            streams.append(_Stream(logs, ENGINE_SOURCE, None))
    return streams


def _step_streams(run: Any, *, checkpoint: str | None, include_engine: bool) -> list[_Stream]:
    streams = []
    for step in _step_runs(run.id):
        if checkpoint and checkpoint not in (step.name, step.config.name):
            continue
        for logs in step.log_collection or []:
            if logs.source == "step":
                streams.append(_Stream(logs, STEP_SOURCE, step.name))
            elif include_engine and logs.source in _ENGINE_STREAMS:
                streams.append(_Stream(logs, ENGINE_SOURCE, step.name))
    return streams


def _step_runs(run_id: Any) -> list[Any]:
    """Every checkpoint attempt of a run (retried ones too), in start order."""
    from zenml.client import Client

    client = Client()
    steps: list[Any] = []
    page = 1
    try:
        while True:
            result = client.list_run_steps(
                pipeline_run_id=run_id, hydrate=True, size=_STEP_PAGE_SIZE, page=page, sort_by="asc:created"
            )
            steps.extend(result.items)
            if page >= result.total_pages:
                break
            page += 1
    except Exception as exc:
        raise KitaruBackendError(f"Failed to load the checkpoints of execution '{run_id}': {exc}") from exc
    never = datetime.max
    return sorted(steps, key=lambda step: (step.start_time is None, step.start_time or never))
