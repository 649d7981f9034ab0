"""ZenML's stored run logs as Kitaru's :class:`~kitaru.engine.logs.StoredLogs`.

Translation only: ZenML writes log streams as JSON-lines files in the stack's
artifact store, or exports them to a log-store component; this module opens
those places, reads raw text or records back, and turns ZenML's
``LogEntry`` into a plain :class:`~kitaru.engine.logs.LogRecord`. Which
streams to read and every message live in :mod:`kitaru.logs`.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from kitaru._engine.bootstrap import client
from kitaru._engine.terminal import to_kitaru_vocabulary
from kitaru.engine.logs import LogRecord, LogStoreComponent
from kitaru.engine.runs import LogStreamRecord


def log_record(entry: Any) -> LogRecord:
    """The plain record of a ZenML ``LogEntry``."""
    level = entry.level
    return LogRecord(
        message=entry.message,
        level=int(level.value) if level is not None else None,
        timestamp=entry.timestamp,
        module=entry.module,
        filename=entry.filename,
        lineno=entry.lineno,
        chunk_id=str(entry.id) if entry.id is not None else None,
        chunk_index=entry.chunk_index,
        total_chunks=entry.total_chunks,
    )


class ZenMLLogFiles:
    """An instantiated ZenML artifact store, read as log files."""

    def __init__(self, store: Any) -> None:
        self._store = store

    @property
    def path(self) -> str:
        return str(self._store.path)

    def read_texts(self, uri: str) -> list[str]:
        store = self._store
        if not store.exists(uri):
            return []
        if store.isdir(uri):
            paths = [f"{uri.rstrip('/')}/{name}" for name in sorted(str(name) for name in store.listdir(uri))]
        else:
            paths = [uri]
        texts = []
        for path in paths:
            with store.open(path, "r") as handle:
                text = handle.read()
            texts.append(text.decode("utf-8", errors="replace") if isinstance(text, bytes) else text)
        return texts

    def remove(self, uri: str) -> None:
        remove_stored(self._store, uri)


def remove_stored(store: Any, uri: str) -> None:
    """Delete the file or folder at ``uri`` in an instantiated artifact store, if it exists."""
    if not store.exists(uri):
        return
    if store.isdir(uri):
        store.rmtree(uri)
    else:
        store.remove(uri)


class ZenMLLogs:
    """Run and step log streams stored by ZenML."""

    def open_artifact_store(self, artifact_store_id: str) -> ZenMLLogFiles:
        from zenml.artifacts.utils import instantiate_artifact_store

        model = client().zen_store.get_stack_component(UUID(artifact_store_id))
        return ZenMLLogFiles(instantiate_artifact_store(model))

    def parse_line(self, line: str) -> LogRecord | None:
        from zenml.log_stores.artifact.artifact_log_store import parse_log_entry

        entry = parse_log_entry(line)
        return None if entry is None else log_record(entry)

    def log_store(self, log_store_id: str) -> LogStoreComponent:
        model = client().zen_store.get_stack_component(UUID(log_store_id))
        endpoint = (model.configuration or {}).get("endpoint")
        return LogStoreComponent(
            id=str(model.id), flavor=str(model.flavor_name), endpoint=str(endpoint) if endpoint else None
        )

    def fetch_from_log_store(self, stream: LogStreamRecord) -> list[LogRecord]:
        from zenml.stack import StackComponent

        if stream.log_store_id is None:
            return []
        engine = client()
        model = engine.zen_store.get_stack_component(UUID(stream.log_store_id))
        component = StackComponent.from_model(model)
        logs = engine.zen_store.get_logs(UUID(stream.id))
        records: list[LogRecord] = []
        after = None
        while True:
            page = component.fetch(logs_model=logs, after=after)  # type: ignore[attr-defined]
            records.extend(log_record(entry) for entry in page.items)
            if not page.after or not page.items:
                return records
            after = page.after

    def to_kitaru_vocabulary(self, message: str) -> str:
        return to_kitaru_vocabulary(message)


__all__ = ["ZenMLLogFiles", "ZenMLLogs", "log_record", "remove_stored"]
