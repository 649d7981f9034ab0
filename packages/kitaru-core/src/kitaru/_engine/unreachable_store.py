"""An artifact store that cannot be reached is not asked again and again in the same minute.

When an object store goes away, every call to it waits out the storage SDK's
own retries (about 15 s against a refused connection). A checkpoint whose
output cannot be written fails after its calls; then the engine's log
exporter, which ships the run's log lines to the same store in batches, met
the outage again for every batch and stream: a failed run took from 30 s to
2 min 26 s to report its failure (issue 12, item 7).

This module keeps, per process, the time until which the store counts as
unreachable (:data:`QUIET_SECONDS` after the last failure that means "cannot
connect"). Meanwhile:

* log exports are skipped at once (their lines could not be stored anyway),
  with one warning per outage instead of a traceback per batch;
* the cleanup of a failed attempt's partial outputs is skipped (it is
  best-effort, see :mod:`kitaru._engine.output_storage`).

Writes of checkpoint outputs are never skipped: they still try, and fail in
Kitaru's words. Once the window has passed, the next export tries again, so a
short outage costs only the lines logged during it.

Engine API touched: ``ArtifactLogExporter.export`` (public) and its private
``_write`` (the one call through which it writes a batch), both wrapped once
per process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from kitaru._engine.patches import replace_once

logger = logging.getLogger("kitaru")

QUIET_SECONDS = 60.0
"""How long after a failed connection the store is not asked again."""

_lock = threading.Lock()
_unreachable_until = 0.0
_warned = False

_CONNECTION_ERROR_NAMES = ("ConnectionError", "ConnectorError", "ConnectTimeoutError", "ConnectionRefusedError")


def means_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` (or an error it was raised from) says the store could not be connected to."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionError | TimeoutError):
            return True
        if any(name in cls.__name__ for cls in type(current).__mro__ for name in _CONNECTION_ERROR_NAMES):
            return True
        current = current.__cause__ or current.__context__
    return False


def note_failure(exc: BaseException) -> None:
    """Start (or extend) the quiet window if ``exc`` means the store cannot be reached."""
    global _unreachable_until, _warned
    if means_unreachable(exc):
        with _lock:
            if not is_unreachable():
                _warned = False  # a new outage gets its own warning
            _unreachable_until = time.monotonic() + QUIET_SECONDS


def is_unreachable() -> bool:
    """Whether a connection to the store failed less than :data:`QUIET_SECONDS` ago."""
    return time.monotonic() < _unreachable_until


def _warn_once(path: str) -> None:
    global _warned
    with _lock:
        if _warned:
            return
        _warned = True
    logger.warning("The artifact store at %s cannot be reached: log lines are not stored until it answers again.", path)


def _skipping_when_unreachable(export: Callable[..., Any]) -> Callable[..., Any]:
    def export_unless_unreachable(self: Any, batch: Any) -> Any:
        if is_unreachable():
            from opentelemetry.sdk._logs.export import LogRecordExportResult

            _warn_once(str(getattr(self.artifact_store, "path", "the artifact store")))
            return LogRecordExportResult.FAILURE
        return export(self, batch)

    return export_unless_unreachable


def _noting_failures(write: Callable[..., Any]) -> Callable[..., Any]:
    def write_noting_failures(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return write(self, *args, **kwargs)
        except Exception as exc:
            note_failure(exc)
            raise

    return write_noting_failures


def install() -> None:
    """Skip log exports while the store is unreachable, and notice when it becomes so (idempotent)."""
    from zenml.log_stores.artifact.artifact_log_exporter import ArtifactLogExporter

    replace_once(ArtifactLogExporter, "export", _skipping_when_unreachable)
    replace_once(ArtifactLogExporter, "_write", _noting_failures)
