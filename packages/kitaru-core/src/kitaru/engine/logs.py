"""The port for reading runtime logs back: stored log lines as plain records.

The engine captures what an execution prints and logs into *log streams*
(:class:`~kitaru.engine.runs.LogStreamRecord`, listed on every run and step
record). A stream lives in one of two places:

* a file, or a folder of files, of JSON lines in the stack's artifact store
  (the default): :meth:`StoredLogs.open_artifact_store` opens that store and
  :meth:`LogFiles.read_texts` returns the files' text; each line is parsed by
  the engine's own parser, :meth:`StoredLogs.parse_line`;
* a log-store component (Datadog, OTEL, ...): :meth:`StoredLogs.log_store`
  describes it and :meth:`StoredLogs.fetch_from_log_store` reads the stream
  back through it.

Which streams to read, how lines and chunks become Kitaru's log entries, and
every message when something cannot be read are Kitaru's rules, in
:mod:`kitaru.logs`. The adapter raises the engine's own exceptions (or
:class:`NotImplementedError` for a backend that cannot read logs back); the
domain words them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from kitaru.engine.runs import LogStreamRecord


@dataclass(frozen=True)
class LogRecord:
    """One stored log line, as the engine wrote it.

    Attributes:
        message: The text (one chunk of it when the engine split a long message).
        level: The :mod:`logging` level number (20 for INFO), if recorded.
        timestamp: When the line was exported, as stored (may be naive UTC).
        module: The module that logged it.
        filename: The file that logged it.
        lineno: The line number that logged it.
        chunk_id: The id shared by every chunk of one long message.
        chunk_index: This chunk's position (0 for the first).
        total_chunks: How many chunks the message has (1: not split).
    """

    message: str
    level: int | None = None
    timestamp: datetime | None = None
    module: str | None = None
    filename: str | None = None
    lineno: int | None = None
    chunk_id: str | None = None
    chunk_index: int = 0
    total_chunks: int = 1


@dataclass(frozen=True)
class LogStoreComponent:
    """A log-store component that keeps log streams.

    Attributes:
        id: The component's id.
        flavor: The engine flavor (``otel``, ``datadog``, ``artifact`` ...).
        endpoint: Its configured ``endpoint``, if any.
    """

    id: str
    flavor: str
    endpoint: str | None = None


class LogFiles(Protocol):
    """An artifact store opened to read log files."""

    @property
    def path(self) -> str:
        """The store's root path (named in messages)."""
        ...

    def read_texts(self, uri: str) -> list[str]:
        """The text of the log file at ``uri``, or of every file in the folder ``uri`` by name.

        Returns an empty list when nothing exists at ``uri`` yet.
        """
        ...

    def remove(self, uri: str) -> None:
        """Delete the log file or folder at ``uri`` (nothing to do when it does not exist)."""
        ...


class StoredLogs(Protocol):
    """What Kitaru needs from an engine to read runtime logs back."""

    def open_artifact_store(self, artifact_store_id: str) -> LogFiles:
        """Open the artifact store with this component id (raises if it cannot be instantiated here)."""
        ...

    def parse_line(self, line: str) -> LogRecord | None:
        """Parse one stored line with the engine's parser (None for an empty line)."""
        ...

    def log_store(self, log_store_id: str) -> LogStoreComponent:
        """Describe a log-store component (raises if it does not exist)."""
        ...

    def fetch_from_log_store(self, stream: LogStreamRecord) -> list[LogRecord]:
        """Every record of a stream kept by its log-store component, oldest first.

        Raises:
            NotImplementedError: If that backend cannot read logs back.
        """
        ...

    def to_kitaru_vocabulary(self, message: str) -> str:
        """Reword an engine message in Kitaru's terms (flow, checkpoint, execution)."""
        ...


__all__ = ["LogFiles", "LogRecord", "LogStoreComponent", "StoredLogs"]
