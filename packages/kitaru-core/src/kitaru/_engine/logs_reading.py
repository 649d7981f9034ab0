"""Read stored log lines back and turn them into Kitaru's log entries.

:mod:`kitaru._engine.logs` picks the streams of an execution to read (a
:class:`_Stream` is one engine log stream and what its lines are); this module
reads them:

* On the default stack a stream is a JSON-lines file, or a folder of them, in
  the stack's artifact store, read directly by :class:`_Reader`. A line a
  running execution is still writing is left for the next read, and long
  messages the engine split into chunks are joined.
* A stream kept by a log-store component (Datadog, OTEL, ...) is read through
  the engine's component (:func:`_read_log_store`); a backend that cannot be
  read back raises :class:`~kitaru.errors.KitaruLogRetrievalError` naming its
  endpoint. A plugin's ``read_logs`` for that backend is used instead when one
  is registered (:func:`_plugin_reader`, :func:`_read_with_plugin`).
* Lines the engine or Kitaru's terminal reporter wrote are *engine lines*
  (:func:`is_engine_line`): left out unless asked for, else returned with
  ``source="engine"`` and worded in Kitaru's vocabulary.
* :func:`sort_entries` orders entries by timestamp, entries without one last.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from kitaru.client.models import LogEntry
from kitaru.errors import KitaruLogRetrievalError

STEP_SOURCE = "step"
RUNNER_SOURCE = "runner"
ENGINE_SOURCE = "engine"
LOG_SOURCES = (STEP_SOURCE, RUNNER_SOURCE)
"""The ``source`` values callers may ask for."""

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
class _Stream:
    """One engine log stream and what its lines are."""

    logs: Any  # the engine's LogsResponse
    source: str  # runner, step or engine
    checkpoint_name: str | None


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
