"""Runtime logs of executions (SPEC §7): what checkpoints and flow bodies printed and logged.

Kitaru's rules for reading logs back, with no engine code:

* :mod:`~kitaru.logs.entries`: :class:`LogEntry`, its sources (``step``,
  ``runner``, ``engine``) and their order;
* :mod:`~kitaru.logs.streams`: which stored streams of an execution to read;
* :mod:`~kitaru.logs.stores`: reading a stream from the artifact store or a
  log-store component, joining chunks, every retrieval message;
* :mod:`~kitaru.logs.engine_lines`: telling the engine's lines from the user's;
* :mod:`~kitaru.logs.plugins`: log-store plugins' ``read_logs``;
* :mod:`~kitaru.logs.execution_logs`: :func:`get_logs`, the one read;
* :mod:`~kitaru.logs.progress`: where an execution stands, for ``--follow``.

The engine is reached through :mod:`kitaru.engine.logs` and
:mod:`kitaru.engine.runs`::

    from kitaru.logs import get_logs

    for entry in get_logs(exec_id, source="runner"):
        print(entry.timestamp, entry.level, entry.message)
"""

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
from kitaru.logs.execution_logs import get_logs
from kitaru.logs.progress import ExecutionProgress, execution_progress

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
    "sort_entries",
]
