"""Records of the ``kitaru_log_stores()`` hook: :class:`LogStoreSpec` and its :class:`ReadLogs` protocol."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypedDict

from kitaru.plugins.records.source import PluginSource
from kitaru.plugins.records.validation import PluginRecordError, check_callable, check_name, check_type, where


class LogRow(TypedDict, total=False):
    """One log line a :class:`ReadLogs` function returns; only ``message`` is required.

    Attributes:
        message: The line's text.
        level: ``INFO``, ``ERROR`` ...
        timestamp: When it was written (ISO 8601 text, or a datetime).
        source: ``step`` (a checkpoint's output), ``runner`` (the flow body's)
            or ``engine`` (the engine's own notices; Kitaru drops those unless
            asked).
        checkpoint_name: The checkpoint call that wrote it (``research_2``).
        module: The logging module, if any.
        filename: The source file, if any.
        lineno: The source line, if any.
    """

    message: str
    level: str | None
    timestamp: str | datetime | None
    source: str | None
    checkpoint_name: str | None
    module: str | None
    filename: str | None
    lineno: int | None


class ReadLogs(Protocol):
    """``read_logs(exec_id, *, checkpoint, source, limit)``: read an execution's logs back.

    Args:
        exec_id: The execution id.
        checkpoint: Only this checkpoint call (``think_2``) or every call of
            this checkpoint (``think``); None for all.
        source: ``step`` (checkpoints' output) or ``runner`` (the flow body's).
        limit: At most this many rows, or None.

    Returns:
        :class:`LogRow` mappings, in any order (Kitaru sorts them by time).
        Rows of the engine's own notices may carry ``source="engine"``.

    A backend whose logs the engine keeps (in the artifact store, or through a
    log-store component the engine can query) returns
    ``kitaru.logs.read_stored_logs(exec_id, checkpoint=..., source=..., limit=...)``,
    as kitaru-local's ``artifact-store`` and ``datadog`` do.
    """

    def __call__(
        self, exec_id: str, *, checkpoint: str | None, source: str, limit: int | None
    ) -> Iterable[LogRow | Mapping[str, Any]]: ...


@dataclass(frozen=True)
class LogStoreSpec:
    """A runtime-log backend.

    The backend's ``name`` is what users choose with ``kitaru log-store set``.
    That choice is only a preference: runs send their logs wherever the
    active stack's log-store component sends them. ``flavor`` ties the two
    together, so Kitaru can tell when they disagree, and finds the backend
    that reads an execution's logs back.

    Attributes:
        name: Backend name (``artifact-store``, ``otel``, ``datadog``).
        description: One line for listings.
        requires_endpoint: Whether ``kitaru log-store set`` needs ``--endpoint``.
        read_logs: Reads stored logs back for ``kitaru executions logs`` (see
            :class:`ReadLogs`); None when the backend cannot be read back, and
            ``executions logs`` then says where to look instead.
        flavor: The engine's log-store flavor that exports logs to this
            backend (``otel``, ``datadog``): a stack whose log-store component
            has this flavor uses this backend. ``None`` when no engine
            component stands for it (``artifact-store`` is the stack *without*
            a log-store component).
        source: Filled in by the plugin manager.
    """

    name: str
    description: str = ""
    requires_endpoint: bool = True
    read_logs: ReadLogs | None = None
    flavor: str | None = None
    source: PluginSource | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        check_name(self, self.name, "log store name")
        check_type(self, self.description, "description", str)
        check_type(self, self.requires_endpoint, "requires_endpoint", bool)
        check_callable(
            self, self.read_logs, "read_logs",
            "a function (exec_id, *, checkpoint, source, limit) -> rows", required=False,
        )
        if self.flavor is not None and (not isinstance(self.flavor, str) or not self.flavor.strip()):
            raise PluginRecordError(
                f"{where(self)}: flavor must name the engine's log-store flavor that exports to this "
                f"backend, or be None; got {self.flavor!r}."
            )


__all__ = ["LogRow", "LogStoreSpec", "ReadLogs"]
