"""Read logs through a log-store plugin's ``read_logs``, when one serves the backend.

A plugin's :class:`~kitaru.plugins.records.LogStoreSpec` may carry
``read_logs(exec_id, checkpoint=, source=, limit=)``, returning rows with the
keys of :class:`~kitaru.logs.entries.LogEntry`. When the streams of an
execution live in a log-store component whose backend such a plugin serves,
the plugin reads them instead of the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from kitaru.engine.logs import StoredLogs
from kitaru.errors import KitaruLogRetrievalError
from kitaru.logs.engine_lines import is_engine_line
from kitaru.logs.entries import ENGINE_SOURCE, LogEntry, plugin_entries, sort_entries
from kitaru.logs.stores import backend_name
from kitaru.logs.streams import LogStream
from kitaru.plugins import get_plugin_manager

ReadLogs = Callable[..., list[Mapping[str, Any]]]
"""A plugin's ``read_logs(exec_id, checkpoint=, source=, limit=)``."""


def plugin_reader(streams: Sequence[LogStream], logs: StoredLogs) -> ReadLogs | None:
    """The ``read_logs`` of a plugin serving the log store these streams live in, if any."""
    log_store_ids = {stream.record.log_store_id for stream in streams if stream.record.log_store_id}
    if not log_store_ids:
        return None
    specs = get_plugin_manager().log_stores()
    for log_store_id in log_store_ids:
        try:
            flavor = logs.log_store(log_store_id).flavor
        except Exception:
            continue  # reported when the stream is read, with the endpoint
        spec = specs.get(backend_name(flavor))
        if spec is not None and spec.read_logs is not None:
            return spec.read_logs
    return None


def read_with_plugin(
    read_logs: ReadLogs, exec_id: str, checkpoint: str | None, source: str, limit: int | None, include_engine: bool
) -> list[LogEntry]:
    """Read through a plugin's ``read_logs``; engine lines only if asked, sorted, at most ``limit``.

    Raises:
        KitaruLogRetrievalError: If the plugin fails.
    """
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
            entry = replace(entry, source=ENGINE_SOURCE)
        entries.append(entry)
    entries = sort_entries(entries)
    return entries if limit is None else entries[:limit]


__all__ = ["ReadLogs", "plugin_reader", "read_with_plugin"]
