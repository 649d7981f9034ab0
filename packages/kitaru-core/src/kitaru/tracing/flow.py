"""The trace of one run of a flow body: its root span, how the run ended, and the link to the first run.

:func:`start_flow` starts the span ``flow <name>`` (a root span, or a child
of the span that was current, such as the user's own span or a parent
flow's checkpoint) and makes it current; :meth:`FlowTrace.end` ends it with
the execution's status and failure origin, then exports the spans. The
execution code calls both around the body (:mod:`kitaru.execution.flow_body`);
when the process does not trace (:mod:`kitaru.tracing.provider`) they cost a
few environment lookups and import nothing. Tracing never changes how a run
ends: its own errors are logged at debug level and swallowed.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any, Protocol

from kitaru.errors import FailureOrigin, KitaruCancelledError, KitaruExecutionError, classify_failure_origin
from kitaru.tracing.links import TRACE_KEY, context_record, recorded_ids
from kitaru.tracing.provider import INSTRUMENTATION_NAME, active_provider, flush

logger = logging.getLogger("kitaru")

EXECUTION_ID = "kitaru.execution.id"
FLOW_NAME = "kitaru.flow.name"
STACK = "kitaru.stack"
CONTINUED = "kitaru.execution.continued"
STATUS = "kitaru.execution.status"
FAILURE_ORIGIN = "kitaru.failure.origin"


class RunFacts(Protocol):
    """What a flow trace reads about its execution (an engine run record has it)."""

    @property
    def stack_name(self) -> str | None:
        """The stack the execution runs on."""
        ...

    @property
    def metadata(self) -> Mapping[str, Any]:
        """The execution's run metadata."""
        ...


class FlowTrace:
    """The trace of one run of a flow body, or nothing (:data:`NO_TRACE`) when the process does not trace.

    Attributes:
        metadata: Run metadata to record as the body starts: the trace's
            context (:data:`~kitaru.tracing.links.TRACE_KEY`) on the
            execution's first run, else nothing.
        aborted: Whether a wait of the body was aborted (the body then ends cancelled).
    """

    def __init__(self, span: Any = None, provider: Any = None, exec_id: str = "") -> None:
        self.span = span
        self.provider = provider
        self.exec_id = exec_id
        self.metadata: dict[str, Any] = {}
        self.aborted = False
        self._tokens: tuple[Any, Token[FlowTrace | None]] | None = None
        self._outer: BaseException | None = None

    def enter(self) -> None:
        """Make the flow span current in this context (spans started after it are its children)."""
        from opentelemetry import context, trace

        # An exception the caller was handling when the body started: at the
        # end, ``sys.exc_info()`` still shows it even when the body returned.
        self._outer = sys.exc_info()[1]
        self._tokens = (context.attach(trace.set_span_in_context(self.span)), _flow.set(self))
        _running[self.exec_id] = self

    def end(self, error: BaseException | None, *, paused: Callable[[], bool]) -> None:
        """End the flow span with how the body ended, then export the spans.

        Args:
            error: What ended the body, or None when it returned: ``sys.exc_info()[1]``
                in the body's ``finally`` (the exception the caller was
                handling when the body started counts as None).
            paused: Tells whether the body paused at a wait (called only when tracing).
        """
        if self.span is None:
            return
        if error is self._outer:
            error = None
        try:
            self._close(error, paused)
        except Exception as exc:  # tracing never changes how a run ends
            logger.debug("Kitaru could not end the span of execution %s: %s", self.exec_id, exc)
        finally:
            self._leave()
            flush(self.provider)

    def _close(self, error: BaseException | None, paused: Callable[[], bool]) -> None:
        from opentelemetry.trace import Status, StatusCode

        if _safely(paused):
            status = "waiting"
        elif error is None:
            status = "completed"
        elif self.aborted or isinstance(error, KitaruCancelledError):
            status = "cancelled"
        else:
            status = "failed"
        self.span.set_attribute(STATUS, status)
        if error is not None and status != "waiting":
            self.span.set_attribute(FAILURE_ORIGIN, str(origin_of(error)))
        if status == "failed" and error is not None:
            self.span.record_exception(error)
            self.span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        self.span.end()

    def _leave(self) -> None:
        if self._tokens is None:
            return
        from opentelemetry import context

        otel_token, flow_token = self._tokens
        self._tokens = None
        if _running.get(self.exec_id) is self:
            del _running[self.exec_id]
        try:
            context.detach(otel_token)
            _flow.reset(flow_token)
        except ValueError:  # ended in another context than it started in
            _flow.set(None)


NO_TRACE = FlowTrace()
"""The flow trace of a process that does not trace: records nothing, costs nothing."""

_flow: ContextVar[FlowTrace | None] = ContextVar("kitaru_flow_trace", default=None)
_running: dict[str, FlowTrace] = {}
"""The flow traces of the bodies running in this process, by execution id: the engine runs
submitted checkpoints in threads that do not inherit the body's context."""


def origin_of(error: BaseException) -> FailureOrigin:
    """The failure origin of what ended a flow body, as ``kitaru executions get`` would classify it."""
    if isinstance(error, KitaruExecutionError) and error.failure_origin is not None:
        return error.failure_origin
    kind = type(error)
    text = "".join(traceback.format_exception(error))
    return classify_failure_origin(str(error), text, f"{kind.__module__}.{kind.__qualname__}")


def start_flow(name: str, exec_id: str, *, run: Callable[[], RunFacts]) -> FlowTrace:
    """Start the trace of one run of a flow body and make its span current.

    Args:
        name: The flow's name.
        exec_id: The execution id.
        run: Reads the execution (its stack, and the first trace's context
            when an earlier run recorded one: this run then links to it).
            Called only when the process traces.

    Returns:
        The flow trace; :data:`NO_TRACE` when the process does not trace
        (or tracing failed to start, which is logged and never raised).
        Record its ``metadata`` with the run's and call :meth:`FlowTrace.end`
        when the body ends.
    """
    provider = active_provider()
    if provider is None:
        return NO_TRACE
    try:
        from opentelemetry.trace import Link, SpanContext, TraceFlags

        facts = run()
        earlier = recorded_ids(facts.metadata)
        links = []
        if earlier is not None:
            first = SpanContext(*earlier, is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED))
            links.append(Link(first, {EXECUTION_ID: exec_id}))
        attributes = {EXECUTION_ID: exec_id, FLOW_NAME: name, CONTINUED: earlier is not None}
        if facts.stack_name:
            attributes[STACK] = facts.stack_name
        span = provider.get_tracer(INSTRUMENTATION_NAME).start_span(f"flow {name}", attributes=attributes, links=links)
        flow_trace = FlowTrace(span, provider, exec_id)
        if earlier is None:
            flow_trace.metadata = {TRACE_KEY: context_record(span.get_span_context())}
        flow_trace.enter()
        return flow_trace
    except Exception as exc:  # tracing never stops a run
        logger.debug("Kitaru could not start the trace of execution %s: %s", exec_id, exc)
        return NO_TRACE


def _safely(check: Callable[[], bool]) -> bool:
    try:
        return check()
    except Exception as exc:
        logger.debug("Kitaru could not tell how a flow body ended: %s", exc)
        return False


def current_flow_trace() -> FlowTrace | None:
    """The flow trace current in this context, or None."""
    return _flow.get()


def running_flow_trace(exec_id: str) -> FlowTrace | None:
    """The flow trace of execution ``exec_id`` when its body runs in this process, or None."""
    return _running.get(exec_id)


@contextmanager
def within(flow_trace: FlowTrace) -> Iterator[None]:
    """Make ``flow_trace`` current in a thread that did not inherit the body's context."""
    if _flow.get() is flow_trace:
        yield
        return
    from opentelemetry import context, trace

    otel_token, flow_token = context.attach(trace.set_span_in_context(flow_trace.span)), _flow.set(flow_trace)
    try:
        yield
    finally:
        _flow.reset(flow_token)
        context.detach(otel_token)


__all__ = [
    "NO_TRACE",
    "FlowTrace",
    "RunFacts",
    "current_flow_trace",
    "origin_of",
    "running_flow_trace",
    "start_flow",
    "within",
]
