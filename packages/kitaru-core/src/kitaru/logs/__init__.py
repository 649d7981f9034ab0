"""Runtime logs of executions (SPEC §7): what checkpoints and flow bodies printed and logged.

Kitaru's rules for reading logs back, with no engine code:

* :mod:`~kitaru.logs.entries`: :class:`LogEntry`, its sources (``step``,
  ``runner``, ``engine``) and their order;
* :mod:`~kitaru.logs.streams`: which stored streams of an execution to read;
* :mod:`~kitaru.logs.stored`: loading an execution and selecting its streams,
  and :func:`read_stored_logs`, the ``read_logs`` of log stores whose logs
  the engine keeps;
* :mod:`~kitaru.logs.stores`: reading a stream from the artifact store or a
  log-store component, joining chunks, every retrieval message;
* :mod:`~kitaru.logs.engine_lines`: telling the engine's lines from the user's;
* :mod:`~kitaru.logs.backends`: which installed log store reads which
  streams, and calling its ``read_logs``: the only way logs are read;
* :mod:`~kitaru.logs.execution_logs`: :func:`get_logs`, the one read;
* :mod:`~kitaru.logs.progress`: where an execution stands, for ``--follow``,
  and :func:`wait_for_log_export`, for its last read.

The engine is reached through :mod:`kitaru.engine.logs` and
:mod:`kitaru.engine.runs`; log stores through the plugin manager.
``import kitaru.logs`` loads the entries, the engine-line rules and the log
record types (with the plugin manager, not the engine); the functions below
load the rest on first use, through a module ``__getattr__`` as
``kitaru/__init__`` does, so a plugin can import ``kitaru.logs`` cheaply::

    from kitaru.logs import get_logs

    for entry in get_logs(exec_id, source="runner"):
        print(entry.timestamp, entry.level, entry.message)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kitaru.lazy_exports import load_export
from kitaru.logs.engine_lines import is_engine_line
from kitaru.logs.entries import (
    ENGINE_SOURCE,
    LOG_SOURCES,
    RUNNER_SOURCE,
    STEP_SOURCE,
    LogEntry,
    plugin_entries,
    sort_entries,
)

if TYPE_CHECKING:  # what editors and type checkers see; at run time these load on first use
    from kitaru.logs.execution_logs import get_logs
    from kitaru.logs.progress import ExecutionProgress, execution_progress, wait_for_log_export
    from kitaru.logs.stored import read_stored_logs

# Names whose modules reach the engine port and the execution domain, imported
# on first attribute access: a plugin module can ``import kitaru.logs`` at its
# top and call ``kitaru.logs.read_stored_logs`` later, and importing the
# plugin stays as cheap as importing its records.
_LAZY: dict[str, str] = {
    "get_logs": "kitaru.logs.execution_logs",
    "ExecutionProgress": "kitaru.logs.progress",
    "execution_progress": "kitaru.logs.progress",
    "read_stored_logs": "kitaru.logs.stored",
    "wait_for_log_export": "kitaru.logs.progress",
}

__all__ = [
    "ENGINE_SOURCE",
    "LOG_SOURCES",
    "RUNNER_SOURCE",
    "STEP_SOURCE",
    "ExecutionProgress",
    "LogEntry",
    "execution_progress",
    "get_logs",
    "is_engine_line",
    "plugin_entries",
    "read_stored_logs",
    "sort_entries",
    "wait_for_log_export",
]


def __getattr__(name: str) -> Any:
    return load_export(__name__, _LAZY, name, globals())


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
