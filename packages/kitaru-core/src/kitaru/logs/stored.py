"""Read the log streams the engine keeps for an execution: the reader behind the first-party log stores.

The engine records what an execution prints as *log streams*
(:mod:`kitaru.logs.streams`): JSON-lines files in the stack's artifact store,
or records in the stack's log-store component (Datadog ...). A log store
whose logs the engine keeps this way implements its
:class:`~kitaru.plugins.records.ReadLogs` with :func:`read_stored_logs`;
``kitaru-local``'s ``artifact-store`` and ``datadog`` log stores do exactly
this::

    from kitaru.logs.stored import read_stored_logs

    def read_logs(exec_id, *, checkpoint, source, limit):
        return read_stored_logs(exec_id, checkpoint=checkpoint, source=source, limit=limit)

Reading a stream (joining chunked messages, leaving the line a running
execution is still writing for the next read, telling engine lines from the
user's) is :class:`~kitaru.logs.stores.StreamReader`'s job.

**One selection per read.** :func:`kitaru.logs.get_logs` loads the execution
once, picks its streams (:func:`select_streams`), and calls each log store
holding some of them inside :func:`reading`. A :func:`read_stored_logs` call
made there, for the same execution and filters, reads exactly that log
store's streams with the caller's ``include_engine``: no second load of the
execution, no reading of engine streams nobody asked for, and the same
snapshot of whether the execution has finished. Called anywhere else (a
test, a plugin's own tool), it loads the execution itself and returns the
engine's lines too, marked ``source="engine"``, as ``read_logs`` rows may.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace

from kitaru.engine import get_engine
from kitaru.engine.runs import StepRecord
from kitaru.errors import KitaruBackendError, KitaruUsageError
from kitaru.execution.status import public_status
from kitaru.logs.entries import LOG_SOURCES, RUNNER_SOURCE, STEP_SOURCE, LogEntry, entry_row, sort_entries
from kitaru.logs.progress import load_polled_run
from kitaru.logs.stores import StreamReader
from kitaru.logs.streams import LogStream, in_start_order, run_streams, step_streams
from kitaru.plugins.records.logs import LogRow


@dataclass(frozen=True)
class StreamSelection:
    """The stored streams one read of an execution's logs covers.

    Attributes:
        exec_id: The execution id, as the caller gave it.
        checkpoint: The checkpoint filter (``source="step"`` only).
        source: ``step`` or ``runner``.
        include_engine: Whether the engine's streams and lines are wanted.
        finished: Whether the execution had ended when it was loaded (then a
            line or chunk still being written is read as it is).
        streams: The streams, checkpoints in start order.
    """

    exec_id: str
    checkpoint: str | None
    source: str
    include_engine: bool
    finished: bool
    streams: tuple[LogStream, ...]

    def covers(self, exec_id: str, checkpoint: str | None, source: str) -> bool:
        """Whether a ``read_logs`` call with these arguments asks for this selection."""
        return (self.exec_id, self.checkpoint, self.source) == (exec_id, checkpoint, source)

    def only(self, streams: Sequence[LogStream]) -> StreamSelection:
        """The same read, narrowed to ``streams`` (the ones one log store keeps)."""
        return replace(self, streams=tuple(streams))


def _attempts(run_id: str) -> list[StepRecord]:
    try:
        return get_engine().runs.list_steps([run_id])
    except Exception as exc:
        raise KitaruBackendError(f"Failed to load the checkpoints of execution '{run_id}': {exc}") from exc


def select_streams(
    exec_id: str, *, checkpoint: str | None = None, source: str = STEP_SOURCE, include_engine: bool = False
) -> StreamSelection:
    """Load an execution and pick the streams a read of its logs covers.

    Args:
        exec_id: The execution id.
        checkpoint: Only these checkpoint calls: an invocation id (``think_2``)
            or a checkpoint name (``think``, every call of it).
        source: ``step`` (checkpoints' streams) or ``runner`` (the flow body's).
        include_engine: Also the engine's own streams.

    Raises:
        KitaruUsageError: If ``exec_id`` is not a UUID or ``source`` is unknown.
        KitaruStateError: If there is no such execution.
        KitaruBackendError: If the store cannot be read.
    """
    if source not in LOG_SOURCES:
        raise KitaruUsageError(f"Unsupported log source {source!r}. Expected one of: step, runner.")
    run = load_polled_run(exec_id)
    if source == RUNNER_SOURCE:
        streams = run_streams(run, include_engine=include_engine)
    else:
        streams = step_streams(_attempts(run.id), checkpoint=checkpoint, include_engine=include_engine)
    return StreamSelection(
        exec_id=exec_id,
        checkpoint=checkpoint,
        source=source,
        include_engine=include_engine,
        finished=public_status(run.status).is_finished,
        streams=tuple(streams),
    )


@dataclass(frozen=True)
class CheckpointCalls:
    """The checkpoint calls of an execution, for checking a ``--checkpoint`` filter.

    Attributes:
        exec_id: The execution id.
        finished: Whether the execution had ended (a running one may still call more checkpoints).
        calls: ``(invocation id, checkpoint name)`` of each call, in start order, once per call.
    """

    exec_id: str
    finished: bool
    calls: tuple[tuple[str, str], ...]

    def matches(self, checkpoint: str) -> bool:
        """Whether ``checkpoint`` (an invocation id or a checkpoint name) names one of the calls."""
        return any(checkpoint in call for call in self.calls)

    def describe(self, most: int = 3) -> str:
        """The calls, grouped by checkpoint: ``prepare, square (square, square_2, square_3, +3 more)``."""
        groups: dict[str, list[str]] = {}
        for invocation_id, name in self.calls:
            groups.setdefault(name, []).append(invocation_id)
        parts = []
        for name, ids in groups.items():
            if ids == [name]:
                parts.append(name)
                continue
            shown = ", ".join(ids[:most]) + (f", +{len(ids) - most} more" if len(ids) > most else "")
            parts.append(f"{name} ({shown})")
        return ", ".join(parts)


def checkpoint_calls(exec_id: str) -> CheckpointCalls:
    """Load an execution's checkpoint calls (each call once, however many attempts it had).

    Raises:
        KitaruUsageError: If ``exec_id`` is not a UUID.
        KitaruStateError: If there is no such execution.
        KitaruBackendError: If the store cannot be read.
    """
    run = load_polled_run(exec_id)
    calls: dict[str, str] = {}
    for step in in_start_order(_attempts(run.id)):
        calls.setdefault(step.name, step.checkpoint or step.name)
    return CheckpointCalls(run.id, public_status(run.status).is_finished, tuple(calls.items()))


_current: ContextVar[StreamSelection | None] = ContextVar("kitaru_logs_selection", default=None)


@contextmanager
def reading(selection: StreamSelection) -> Iterator[StreamSelection]:
    """Make ``selection`` what :func:`read_stored_logs` reads while the block runs.

    :func:`kitaru.logs.get_logs` wraps each log store's ``read_logs`` call in
    this, with the streams that log store keeps.
    """
    token = _current.set(selection)
    try:
        yield selection
    finally:
        _current.reset(token)


def read_selection(selection: StreamSelection, *, limit: int | None = None) -> list[LogEntry]:
    """Read the selected streams' entries.

    Args:
        selection: What to read.
        limit: Stop reading streams once this many entries were read, and
            return the first this many by time.

    Returns:
        Entries sorted by timestamp (entries without one last, in stored
        order), engine lines only if the selection includes them, as
        ``source="engine"``.

    Raises:
        KitaruLogRetrievalError: If a stream's store cannot be opened or read.
    """
    reader = StreamReader(selection.exec_id, get_engine().logs)
    entries: list[LogEntry] = []
    for stream in selection.streams:
        entries.extend(reader.read(stream, include_engine=selection.include_engine, finished=selection.finished))
        if limit is not None and len(entries) >= limit:
            break
    entries = sort_entries(entries)
    return entries if limit is None else entries[:limit]


def read_stored_logs(
    exec_id: str, *, checkpoint: str | None = None, source: str = STEP_SOURCE, limit: int | None = None
) -> list[LogRow]:
    """Read the logs the engine keeps for an execution: a ready-made ``read_logs`` body.

    Takes the :class:`~kitaru.plugins.records.ReadLogs` arguments. Inside
    :func:`kitaru.logs.get_logs` it reads the streams of the log store being
    called, leaving out the engine's lines unless they were asked for;
    anywhere else it reads every stream of the execution and includes the
    engine's lines (see the module docs).

    Args:
        exec_id: The execution id.
        checkpoint: Only this checkpoint call (``think_2``) or every call of
            this checkpoint (``think``); None for all.
        source: ``step`` (checkpoints' output) or ``runner`` (the flow body's).
        limit: At most this many rows, the first ones by time, or None.

    Returns:
        :class:`~kitaru.plugins.records.LogRow` rows sorted by time; the
        engine's lines carry ``source="engine"``.

    Raises:
        KitaruUsageError: If ``exec_id`` is not a UUID or ``source`` is unknown.
        KitaruStateError: If there is no such execution.
        KitaruBackendError: If the store cannot be read.
        KitaruLogRetrievalError: If a stream cannot be read back (its
            artifact store is unreachable, or its log store cannot be read).
    """
    selection = _current.get()
    if selection is None or not selection.covers(exec_id, checkpoint, source):
        selection = select_streams(exec_id, checkpoint=checkpoint, source=source, include_engine=True)
    return [entry_row(entry) for entry in read_selection(selection, limit=limit)]


__all__ = [
    "CheckpointCalls",
    "StreamSelection",
    "checkpoint_calls",
    "read_selection",
    "read_stored_logs",
    "reading",
    "select_streams",
]
