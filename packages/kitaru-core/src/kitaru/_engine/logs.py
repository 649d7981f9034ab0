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
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from kitaru.client.models import LogEntry
from kitaru.client.status import ExecutionStatus, public_status
from kitaru.errors import KitaruBackendError, KitaruLogRetrievalError

STEP_SOURCE = "step"
RUNNER_SOURCE = "runner"
ENGINE_SOURCE = "engine"
LOG_SOURCES = (STEP_SOURCE, RUNNER_SOURCE)
"""The ``source`` values callers may ask for."""

_ENGINE_STREAMS = {"prepare_step", "client"}
_STEP_PAGE_SIZE = 200

# Lines written by the engine or by Kitaru's terminal reporter rather than by
# user code. Matched against the start of a message. A user line that happens
# to match is hidden too (it is still shown with -vv).
_ENGINE_LINE_PATTERNS = (
    # Engine: checkpoint attempts.
    r"Step `[^`]*` (has started|has finished|finished successfully|failed|stopped|launched|infra status|was approved)",
    r"Failed to run step `",
    r"Sleeping for .* before retrying step `",
    r"Using cached version of step `",
    r"Skipping step `",
    r"Restarting the monitoring of existing step `",
    r"Waiting for upstream dependencies `",
    r"Initiating heartbeat for step",
    # Engine: runs.
    r"Initiating a new run for the pipeline",
    r"Registered new pipeline",
    r"Using user: `",
    r"Using stack: `",
    r"Using a build:",
    r"  [a-z_]+: `[^`]*`$",
    r"You can visualize your pipeline runs",
    r"Dashboard URL for Pipeline Run",
    r"Caching is disabled by default",
    r"(Resuming|Continuing existing) run `",
    r"Run `[^`]*` is already finished",
    r"Pipeline `[^`]*` completed successfully",
    r"Pipeline run has finished",
    r"(Pausing|Stopping) pipeline run `",
    r"Waiting on wait condition `",
    r"Initial pipeline failure detected",
    r"Launching child pipeline `",
    r"Child pipeline `[^`]*` completed",
    r"All steps were skipped",
    r"Executing the pipeline's (init|cleanup) hook",
    # Kitaru's terminal reporter (kitaru._console.say).
    r"Starting flow `",
    r"Checkpoint `[^`]*` (started|finished in|failed after|cached|reused from the journal)",
    r"Execution [0-9a-f-]{36} (running|waiting|completed|failed|cancelled) in ",
    r"(Resuming|Retrying|Continuing) execution `",
    r"Pausing execution `",
    r"Waiting on `[^`]*` \(",
    r"Wait `[^`]*` was aborted",
)
_ENGINE_LINE = re.compile("|".join(f"(?:{pattern})" for pattern in _ENGINE_LINE_PATTERNS))


def is_engine_line(message: str) -> bool:
    """Whether ``message`` was written by the engine or Kitaru's reporter, not user code."""
    return _ENGINE_LINE.match(message) is not None


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


@dataclass(frozen=True)
class _Stream:
    """One engine log stream and what its lines are."""

    logs: Any  # the engine's LogsResponse
    source: str  # runner, step or engine
    checkpoint_name: str | None


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


def sort_entries(entries: Iterable[LogEntry]) -> list[LogEntry]:
    """Sort entries by timestamp, stable, entries without a timestamp last."""
    return sorted(entries, key=lambda entry: (_parse_time(entry.timestamp) is None, _sort_time(entry.timestamp)))


def _sort_time(timestamp: str | None) -> datetime:
    parsed = _parse_time(timestamp)
    return parsed if parsed is not None else datetime.min.replace(tzinfo=timezone.utc)


def _parse_time(timestamp: str | None) -> datetime | None:
    if not timestamp:
        return None
    try:
        parsed = datetime.fromisoformat(timestamp)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


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


# -- reading streams --------------------------------------------------------------


class _Reader:
    """Reads log streams of one execution, sharing artifact stores between them."""

    def __init__(self, exec_id: str) -> None:
        self.exec_id = exec_id
        self._artifact_stores: dict[Any, Any] = {}

    def read(self, stream: _Stream, *, include_engine: bool, finished: bool) -> list[LogEntry]:
        """Return the stream's entries as Kitaru entries (engine lines only if asked)."""
        entries = []
        for record in _join_chunks(self._records(stream.logs, finished=finished), complete_only=not finished):
            message = record.message
            source = stream.source
            if source != ENGINE_SOURCE and is_engine_line(message):
                source = ENGINE_SOURCE
            if source == ENGINE_SOURCE:
                if not include_engine:
                    continue
                from kitaru._engine.terminal import to_kitaru_vocabulary

                message = to_kitaru_vocabulary(message)
            entries.append(_to_entry(record, message, source, stream.checkpoint_name))
        return entries

    def _records(self, logs: Any, *, finished: bool) -> list[Any]:
        if logs.log_store_id:
            return _read_log_store(self.exec_id, logs)
        if not logs.uri or not logs.artifact_store_id:
            return []
        store = self._artifact_store(logs.artifact_store_id)
        from zenml.log_stores.artifact.artifact_log_store import parse_log_entry

        try:
            lines = _complete_lines(store, logs.uri, include_partial=finished)
        except Exception as exc:
            raise KitaruLogRetrievalError(
                f"Could not read the logs of execution '{self.exec_id}' from the artifact store "
                f"at {store.path}: {exc}. Check that this machine can reach that artifact store "
                "(`kitaru stack show <stack>`)."
            ) from exc
        return [record for record in map(parse_log_entry, lines) if record is not None]

    def _artifact_store(self, artifact_store_id: Any) -> Any:
        if artifact_store_id not in self._artifact_stores:
            from zenml.artifacts.utils import instantiate_artifact_store
            from zenml.client import Client

            try:
                model = Client().zen_store.get_stack_component(artifact_store_id)
                self._artifact_stores[artifact_store_id] = instantiate_artifact_store(model)
            except Exception as exc:
                raise KitaruLogRetrievalError(
                    f"Could not open the artifact store holding the logs of execution "
                    f"'{self.exec_id}': {exc}. The stack it ran on may have been deleted or "
                    "needs a plugin that is not installed (see `kitaru plugins`)."
                ) from exc
        return self._artifact_stores[artifact_store_id]


def _complete_lines(store: Any, uri: str, *, include_partial: bool) -> list[str]:
    """Read the JSON lines of a log file or folder.

    A line still being appended by a running execution has no newline yet; it
    is left for the next read (unless ``include_partial``, for executions that
    ended), so a follower never sees half a line.
    """
    if not store.exists(uri):
        return []
    if store.isdir(uri):
        paths = [f"{uri.rstrip('/')}/{name}" for name in sorted(str(name) for name in store.listdir(uri))]
    else:
        paths = [uri]
    lines: list[str] = []
    for path in paths:
        with store.open(path, "r") as handle:
            text = handle.read()
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        parts = text.split("\n")
        if not include_partial:
            parts = parts[:-1]  # "" after the last newline, or an unfinished line
        lines.extend(part.rstrip("\r") for part in parts if part.strip())
    return lines


def _join_chunks(records: Sequence[Any], *, complete_only: bool) -> list[Any]:
    """Join long messages the engine split into chunks sharing an id.

    The joined message takes the place of its first chunk. A message whose
    chunks are not all written yet is skipped while ``complete_only``.
    """
    groups: dict[Any, list[Any]] = {}
    for record in records:
        if record.total_chunks > 1:
            groups.setdefault(record.id, []).append(record)
    joined = []
    emitted: set[Any] = set()
    for record in records:
        if record.total_chunks <= 1:
            joined.append(record)
            continue
        if record.id in emitted:
            continue
        emitted.add(record.id)
        chunks = {chunk.chunk_index: chunk for chunk in groups[record.id]}
        if complete_only and len(chunks) < record.total_chunks:
            continue
        message = "".join(chunks[index].message for index in sorted(chunks))
        joined.append(record.model_copy(update={"message": message, "chunk_index": 0, "total_chunks": 1}))
    return joined


def _to_entry(record: Any, message: str, source: str, checkpoint_name: str | None) -> LogEntry:
    level = record.level
    timestamp = record.timestamp
    if timestamp is not None and timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=timezone.utc)
    return LogEntry(
        message=message,
        level=logging.getLevelName(level.value) if level is not None else None,
        timestamp=timestamp.isoformat() if timestamp is not None else None,
        source=source,
        checkpoint_name=checkpoint_name,
        module=record.module,
        filename=record.filename,
        lineno=record.lineno,
    )


# -- log-store components -----------------------------------------------------------


def _read_log_store(exec_id: str, logs: Any) -> list[Any]:
    """Read a stream kept by a log-store component (Datadog, OTEL, ...).

    Raises:
        KitaruLogRetrievalError: If the backend cannot be read back.
    """
    from zenml.client import Client

    try:
        model = Client().zen_store.get_stack_component(logs.log_store_id)
    except Exception as exc:
        raise KitaruLogRetrievalError(
            f"The logs of execution '{exec_id}' are kept by a log store that no longer exists "
            f"({logs.log_store_id}): {exc}."
        ) from exc
    backend = _backend_name(model.flavor_name)
    endpoint = (model.configuration or {}).get("endpoint") or "its configured endpoint"
    try:
        from zenml.stack import StackComponent

        component = StackComponent.from_model(model)
        records: list[Any] = []
        after = None
        while True:
            page = component.fetch(logs_model=logs, after=after)
            records.extend(page.items)
            if not page.after or not page.items:
                return records
            after = page.after
    except Exception as exc:
        why = "it does not support reading logs back" if isinstance(exc, NotImplementedError) else str(exc)
        raise KitaruLogRetrievalError(
            f"Cannot read the logs of execution '{exec_id}' from the '{backend}' log store at "
            f"{endpoint}: {why}. Read them in that backend directly at {endpoint}, or run "
            "`kitaru log-store reset` and use a stack whose logs go to its artifact store."
        ) from exc


def _backend_name(flavor: str) -> str:
    return "artifact-store" if flavor in ("artifact", "default") else flavor.replace("_", "-")


def _plugin_reader(streams: Sequence[_Stream]) -> Any:
    """The ``read_logs`` of a plugin serving the log store these streams live in, if any."""
    log_store_ids = {stream.logs.log_store_id for stream in streams if stream.logs.log_store_id}
    if not log_store_ids:
        return None
    from zenml.client import Client

    from kitaru.plugins import get_plugin_manager

    specs = get_plugin_manager().log_stores()
    for log_store_id in log_store_ids:
        try:
            flavor = Client().zen_store.get_stack_component(log_store_id).flavor_name
        except Exception:
            continue  # reported by _read_log_store with the endpoint
        spec = specs.get(_backend_name(flavor))
        if spec is not None and spec.read_logs is not None:
            return spec.read_logs
    return None


def _read_with_plugin(
    read_logs: Any, exec_id: str, checkpoint: str | None, source: str, limit: int | None, include_engine: bool
) -> list[LogEntry]:
    """Read through a plugin's ``read_logs(exec_id, checkpoint=, source=, limit=)``."""
    try:
        rows = read_logs(exec_id, checkpoint=checkpoint, source=source, limit=limit)
    except Exception as exc:
        raise KitaruLogRetrievalError(
            f"The log store plugin failed to read the logs of execution '{exec_id}': {exc}"
        ) from exc
    entries = []
    for entry in plugin_entries(rows):
        if entry.source == ENGINE_SOURCE or is_engine_line(entry.message):
            if not include_engine:
                continue
            entry = LogEntry(**{**entry.__dict__, "source": ENGINE_SOURCE})
        entries.append(entry)
    entries = sort_entries(entries)
    return entries if limit is None else entries[:limit]


def plugin_entries(rows: Iterable[Mapping[str, Any]]) -> list[LogEntry]:
    """Build entries from a log-store plugin's ``read_logs`` rows (unknown keys are ignored)."""
    fields = ("message", "level", "timestamp", "source", "checkpoint_name", "module", "filename", "lineno")
    entries = []
    for row in rows:
        values = {name: row.get(name) for name in fields}
        if isinstance(values["timestamp"], datetime):
            values["timestamp"] = values["timestamp"].isoformat()
        values["message"] = str(values["message"] or "")
        entries.append(LogEntry(**values))
    return entries
