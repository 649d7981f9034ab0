"""Read one stored log stream back, from wherever the engine keeps it, as Kitaru's log entries.

* On the default stack a stream is a JSON-lines file, or a folder of them, in
  the stack's artifact store, read directly (no server needed). A line a
  running execution is still writing is left for the next read
  (:func:`complete_lines`), and long messages the engine split into chunks
  are joined (:func:`join_chunks`).
* A stream kept by a log-store component (Datadog, OTEL, ...) is read through
  that component (:func:`read_log_store`); a backend that cannot be read back
  raises :class:`~kitaru.errors.KitaruLogRetrievalError` naming its
  endpoint.
* Engine lines (:func:`kitaru.logs.engine_lines.is_engine_line`) are left out
  unless asked for, else returned with ``source="engine"`` and worded in
  Kitaru's vocabulary.

Timestamps are the time a line was *exported* (the engine stamps lines when
it writes a batch, about every 200 ms with Kitaru's bootstrap), so they are
accurate to a fraction of a second and monotonic within a process.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import timezone

from kitaru.engine.logs import LogFiles, LogRecord, LogStoreComponent, StoredLogs
from kitaru.engine.runs import LogStreamRecord
from kitaru.errors import KitaruLogRetrievalError
from kitaru.logs.engine_lines import is_engine_line
from kitaru.logs.entries import ENGINE_SOURCE, LogEntry
from kitaru.logs.streams import LogStream


def backend_name(flavor: str) -> str:
    """Kitaru's name of a log-store backend from the engine flavor (``artifact-store``, ``otel`` ...)."""
    return "artifact-store" if flavor in ("artifact", "default") else flavor.lower().replace("_", "-")


def complete_lines(texts: Sequence[str], *, include_partial: bool) -> list[str]:
    """Split log files' text into JSON lines.

    A line still being appended by a running execution has no newline yet; it
    is left for the next read (unless ``include_partial``, for executions that
    ended), so a follower never sees half a line.
    """
    lines: list[str] = []
    for text in texts:
        parts = text.split("\n")
        if not include_partial:
            parts = parts[:-1]  # "" after the last newline, or an unfinished line
        lines.extend(part.rstrip("\r") for part in parts if part.strip())
    return lines


def join_chunks(records: Sequence[LogRecord], *, complete_only: bool) -> list[LogRecord]:
    """Join long messages the engine split into chunks sharing an id.

    The joined message takes the place of its first chunk. A message whose
    chunks are not all written yet is skipped while ``complete_only``.
    """
    groups: dict[str | None, list[LogRecord]] = {}
    for record in records:
        if record.total_chunks > 1:
            groups.setdefault(record.chunk_id, []).append(record)
    joined = []
    emitted: set[str | None] = set()
    for record in records:
        if record.total_chunks <= 1:
            joined.append(record)
            continue
        if record.chunk_id in emitted:
            continue
        emitted.add(record.chunk_id)
        chunks = {chunk.chunk_index: chunk for chunk in groups[record.chunk_id]}
        if complete_only and len(chunks) < record.total_chunks:
            continue
        message = "".join(chunks[index].message for index in sorted(chunks))
        joined.append(replace(record, message=message, chunk_index=0, total_chunks=1))
    return joined


def to_entry(record: LogRecord, message: str, source: str, checkpoint_name: str | None) -> LogEntry:
    """The entry of one stored record (timestamps become ISO 8601 in UTC)."""
    timestamp = record.timestamp
    if timestamp is not None and timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=timezone.utc)
    return LogEntry(
        message=message,
        level=logging.getLevelName(record.level) if record.level is not None else None,
        timestamp=timestamp.isoformat() if timestamp is not None else None,
        source=source,
        checkpoint_name=checkpoint_name,
        module=record.module,
        filename=record.filename,
        lineno=record.lineno,
    )


def log_store_component(logs: StoredLogs, exec_id: str, log_store_id: str) -> LogStoreComponent:
    """The log-store component that keeps some of an execution's streams.

    Raises:
        KitaruLogRetrievalError: If the component no longer exists.
    """
    try:
        return logs.log_store(log_store_id)
    except Exception as exc:
        raise KitaruLogRetrievalError(
            f"The logs of execution '{exec_id}' are kept by a log store that no longer exists "
            f"({log_store_id}): {exc}."
        ) from exc


def cannot_read_back(exec_id: str, backend: str, endpoint: str | None, why: str) -> KitaruLogRetrievalError:
    """The error for logs kept in a backend Kitaru cannot read them back from: it says where to look."""
    where = endpoint or "its configured endpoint"
    return KitaruLogRetrievalError(
        f"Cannot read the logs of execution '{exec_id}' from the '{backend}' log store at "
        f"{where}: {why}. Read them in that backend directly at {where}, or run "
        "`kitaru log-store reset` and use a stack whose logs go to its artifact store."
    )


def read_log_store(logs: StoredLogs, exec_id: str, stream: LogStreamRecord) -> list[LogRecord]:
    """Read a stream kept by a log-store component (Datadog, OTEL, ...).

    Raises:
        KitaruLogRetrievalError: If the component is gone or its backend cannot be read back.
    """
    component = log_store_component(logs, exec_id, str(stream.log_store_id))
    try:
        return logs.fetch_from_log_store(stream)
    except Exception as exc:
        why = "it does not support reading logs back" if isinstance(exc, NotImplementedError) else str(exc)
        raise cannot_read_back(exec_id, backend_name(component.flavor), component.endpoint, why) from exc


class StreamReader:
    """Reads the log streams of one execution, opening each artifact store once.

    Args:
        exec_id: The execution, for messages.
        logs: The engine's stored logs (``get_engine().logs``).
    """

    def __init__(self, exec_id: str, logs: StoredLogs) -> None:
        self.exec_id = exec_id
        self._logs = logs
        self._artifact_stores: dict[str, LogFiles] = {}

    def read(self, stream: LogStream, *, include_engine: bool, finished: bool) -> list[LogEntry]:
        """Return the stream's entries (engine lines only if asked).

        Args:
            stream: The stream.
            include_engine: Also return engine lines, as ``source="engine"``.
            finished: Whether the execution ended (then unfinished lines and
                chunks are read as they are).
        """
        entries = []
        for record in join_chunks(self._records(stream.record, finished=finished), complete_only=not finished):
            message = record.message
            source = stream.source
            if source != ENGINE_SOURCE and is_engine_line(message):
                source = ENGINE_SOURCE
            if source == ENGINE_SOURCE:
                if not include_engine:
                    continue
                message = self._logs.to_kitaru_vocabulary(message)
            entries.append(to_entry(record, message, source, stream.checkpoint_name))
        return entries

    def _records(self, stream: LogStreamRecord, *, finished: bool) -> list[LogRecord]:
        if stream.log_store_id:
            return read_log_store(self._logs, self.exec_id, stream)
        if not stream.uri or not stream.artifact_store_id:
            return []
        files = self._artifact_store(stream.artifact_store_id)
        try:
            lines = complete_lines(files.read_texts(stream.uri), include_partial=finished)
        except Exception as exc:
            raise KitaruLogRetrievalError(
                f"Could not read the logs of execution '{self.exec_id}' from the artifact store "
                f"at {files.path}: {exc}. Check that this machine can reach that artifact store "
                "(`kitaru stack show <stack>`)."
            ) from exc
        return [record for record in map(self._logs.parse_line, lines) if record is not None]

    def _artifact_store(self, artifact_store_id: str) -> LogFiles:
        if artifact_store_id not in self._artifact_stores:
            try:
                self._artifact_stores[artifact_store_id] = self._logs.open_artifact_store(artifact_store_id)
            except Exception as exc:
                raise KitaruLogRetrievalError(
                    f"Could not open the artifact store holding the logs of execution "
                    f"'{self.exec_id}': {exc}. The stack it ran on may have been deleted or "
                    "needs a plugin that is not installed (see `kitaru plugins`)."
                ) from exc
        return self._artifact_stores[artifact_store_id]


__all__ = [
    "StreamReader",
    "backend_name",
    "cannot_read_back",
    "complete_lines",
    "join_chunks",
    "log_store_component",
    "read_log_store",
    "to_entry",
]
