"""One runtime log line of an execution (:class:`LogEntry`), its sources, and their order.

Every entry says where its line came from (``source``):

* :data:`STEP_SOURCE` (``step``): a checkpoint's output: stdout (INFO),
  stderr (ERROR), ``logging`` records and tracebacks;
* :data:`RUNNER_SOURCE` (``runner``): the flow body's output, shared by every
  retry and resume of the execution;
* :data:`ENGINE_SOURCE` (``engine``): lines the engine or Kitaru's terminal
  reporter wrote (launch and finish notices, the submitting process's
  summary), only returned on request.

``LogEntry`` is also importable from :mod:`kitaru.client.models`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from kitaru.plugins.records.logs import LogRow

STEP_SOURCE = "step"
RUNNER_SOURCE = "runner"
ENGINE_SOURCE = "engine"
LOG_SOURCES = (STEP_SOURCE, RUNNER_SOURCE)
"""The ``source`` values callers may ask for."""


@dataclass(frozen=True)
class LogEntry:
    """One runtime log line of an execution."""

    message: str
    level: str | None = None
    timestamp: str | None = None
    source: str | None = None
    checkpoint_name: str | None = None
    module: str | None = None
    filename: str | None = None
    lineno: int | None = None


def _parse_time(timestamp: str | None) -> datetime | None:
    if not timestamp:
        return None
    try:
        parsed = datetime.fromisoformat(timestamp)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _sort_time(timestamp: str | None) -> datetime:
    parsed = _parse_time(timestamp)
    return parsed if parsed is not None else datetime.min.replace(tzinfo=timezone.utc)


def sort_entries(entries: Iterable[LogEntry]) -> list[LogEntry]:
    """Sort entries by timestamp, stable, entries without a timestamp last."""
    return sorted(entries, key=lambda entry: (_parse_time(entry.timestamp) is None, _sort_time(entry.timestamp)))


ENTRY_FIELDS = ("message", "level", "timestamp", "source", "checkpoint_name", "module", "filename", "lineno")
"""The keys of a log entry (and of a log-store plugin's ``read_logs`` rows)."""


def plugin_entries(rows: Iterable[Mapping[str, Any]]) -> list[LogEntry]:
    """Build entries from a log-store plugin's ``read_logs`` rows (unknown keys are ignored).

    A ``datetime`` timestamp becomes ISO 8601 text; a missing message becomes ``""``.
    """
    entries = []
    for row in rows:
        values: dict[str, Any] = {name: row.get(name) for name in ENTRY_FIELDS}
        if isinstance(values["timestamp"], datetime):
            values["timestamp"] = values["timestamp"].isoformat()
        values["message"] = str(values["message"] or "")
        entries.append(LogEntry(**values))
    return entries


def entry_row(entry: LogEntry) -> LogRow:
    """The ``read_logs`` row of an entry: the inverse of :func:`plugin_entries`."""
    return LogRow(
        message=entry.message,
        level=entry.level,
        timestamp=entry.timestamp,
        source=entry.source,
        checkpoint_name=entry.checkpoint_name,
        module=entry.module,
        filename=entry.filename,
        lineno=entry.lineno,
    )


__all__ = [
    "ENGINE_SOURCE",
    "ENTRY_FIELDS",
    "LOG_SOURCES",
    "RUNNER_SOURCE",
    "STEP_SOURCE",
    "LogEntry",
    "entry_row",
    "plugin_entries",
    "sort_entries",
]
