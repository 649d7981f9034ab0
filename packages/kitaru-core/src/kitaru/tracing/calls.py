"""Spans inside a flow trace: checkpoint calls with an event per attempt, and waits.

.. code-block:: text

    flow <name>                      (:mod:`kitaru.tracing.flow`)
    |-- checkpoint <invocation id>   kitaru.checkpoint.*, an event per attempt
    |   `-- chat <model>             GenAI attributes (:mod:`kitaru.tracing.genai`)
    `-- wait <name>                  kitaru.wait.*

Each function is a no-op (a context-variable lookup, no OpenTelemetry
import) when no flow trace is current. Tracing never changes how a call
ends: its own errors are logged at debug level and swallowed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from kitaru.tracing.flow import EXECUTION_ID, FlowTrace, current_flow_trace, running_flow_trace, within
from kitaru.tracing.provider import INSTRUMENTATION_NAME

logger = logging.getLogger("kitaru")

CHECKPOINT_NAME = "kitaru.checkpoint.name"
CHECKPOINT_TYPE = "kitaru.checkpoint.type"
INVOCATION_ID = "kitaru.checkpoint.invocation_id"
CALL_ID = "kitaru.checkpoint.call_id"
CALL_INDEX = "kitaru.checkpoint.index"
ATTEMPTS = "kitaru.checkpoint.attempts"
SOURCE = "kitaru.checkpoint.source"
CALL_STATUS = "kitaru.checkpoint.status"
REUSED_FROM = "kitaru.checkpoint.reused_from"
ATTEMPT_EVENT = "kitaru.attempt"
ATTEMPT_NUMBER = "kitaru.attempt.number"
ATTEMPT_ID = "kitaru.attempt.id"
ATTEMPT_STATUS = "kitaru.attempt.status"
ATTEMPT_DURATION = "kitaru.attempt.duration_ms"
WAIT_NAME = "kitaru.wait.name"
WAIT_QUESTION = "kitaru.wait.question"
WAIT_TIMEOUT = "kitaru.wait.timeout_s"
WAIT_OUTCOME = "kitaru.wait.outcome"


class CallSpan:
    """The span of one checkpoint call, or nothing (:data:`NO_CALL`); the call's code reports how it went.

    Attributes:
        attempts: How many attempts ran in this process.
        closed: Whether its span ended.
    """

    def __init__(self, span: Any = None) -> None:
        self.span = span
        self.attempts = 0
        self.status: str | None = None
        self.closed = False

    def annotate(self, key: str, value: Any) -> None:
        """Set an attribute on the span (None values are left out)."""
        if self.span is not None and value is not None:
            self.span.set_attribute(key, value)

    def finished(self, source: str, *, reused_from: str | None = None) -> None:
        """The call gave its output: ``executed``, or served by the ``journal`` or the ``cache``."""
        self.status = "completed"
        self.annotate(SOURCE, source)
        self.annotate(REUSED_FROM, reused_from)

    def stopped(self, status: str) -> None:
        """The call ended without an output and without failing: ``paused``, ``cancelled``."""
        self.status = status

    def attempt_ended(self, attempt_id: str, started: float, error: BaseException | None) -> None:
        """Record one attempt of the call as an event (its number, id, status, duration, error)."""
        if self.span is None:
            return
        self.attempts += 1
        attributes: dict[str, Any] = {
            ATTEMPT_NUMBER: self.attempts,
            ATTEMPT_ID: attempt_id,
            ATTEMPT_STATUS: "completed" if error is None else "failed",
            ATTEMPT_DURATION: round((time.perf_counter() - started) * 1000, 1),
        }
        if error is not None:
            attributes["exception.type"] = type(error).__qualname__
            attributes["exception.message"] = str(error)
        self.span.add_event(ATTEMPT_EVENT, attributes)
        self.annotate(CALL_ID, attempt_id)

    def close(self, error: BaseException | None) -> None:
        """End the span: ERROR with the exception when the call failed."""
        if self.span is None or self.closed:
            return
        from opentelemetry.trace import Status, StatusCode

        self.closed = True
        status = self.status or ("failed" if error is not None else "completed")
        self.annotate(CALL_STATUS, status)
        self.annotate(ATTEMPTS, self.attempts)
        if status == "failed" and error is not None:
            self.span.record_exception(error)
            self.span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        self.span.end()


NO_CALL = CallSpan()
"""The call span when nothing is traced."""

_call: ContextVar[CallSpan | None] = ContextVar("kitaru_call_span", default=None)


@contextmanager
def checkpoint_span(
    invocation_id: str, *, checkpoint: str | None = None, type: str | None = None, index: int | None = None
) -> Iterator[CallSpan]:
    """Trace one checkpoint call, as a child of the current span, for the duration of the block.

    The block reports how the call went (:meth:`CallSpan.finished`,
    :meth:`CallSpan.stopped`); an exception leaving the block fails the span
    unless it was reported as stopped. Attempts that run in this context
    add their events to it (:func:`checkpoint_attempt`).

    Args:
        invocation_id: The call's invocation id (the span is ``checkpoint <invocation_id>``).
        checkpoint: The checkpoint's name.
        type: The ``@checkpoint(type=...)`` label.
        index: The call's position in the flow body.
    """
    flow_trace = current_flow_trace()
    if flow_trace is None:
        yield NO_CALL
        return
    call = _open_call(flow_trace, invocation_id, checkpoint=checkpoint, type=type, index=index)
    if call is NO_CALL:
        yield call
        return
    from opentelemetry import context, trace

    otel_token = context.attach(trace.set_span_in_context(call.span))
    call_token = _call.set(call)
    error: BaseException | None = None
    try:
        yield call
    except BaseException as exc:
        error = exc
        raise
    finally:
        _call.reset(call_token)
        context.detach(otel_token)
        _quietly(call.close, error)


def _open_call(
    flow_trace: FlowTrace, invocation_id: str, *, checkpoint: str | None, type: str | None, index: int | None
) -> CallSpan:
    try:
        attributes: dict[str, Any] = {EXECUTION_ID: flow_trace.exec_id, INVOCATION_ID: invocation_id}
        for key, value in ((CHECKPOINT_NAME, checkpoint), (CHECKPOINT_TYPE, type), (CALL_INDEX, index)):
            if value is not None:
                attributes[key] = value
        tracer = flow_trace.provider.get_tracer(INSTRUMENTATION_NAME)
        return CallSpan(tracer.start_span(f"checkpoint {invocation_id}", attributes=attributes))
    except Exception as exc:
        logger.debug("Kitaru could not start the span of checkpoint call %s: %s", invocation_id, exc)
        return NO_CALL


def _quietly(function: Callable[..., Any], *args: Any) -> None:
    try:
        function(*args)
    except Exception as exc:  # tracing never changes how a call ends
        logger.debug("Kitaru could not record a span: %s", exc)


@contextmanager
def checkpoint_attempt(checkpoint: str, type: str | None, attempt_id: str, *, exec_id: str) -> Iterator[None]:
    """Trace one attempt of a checkpoint: an event on its call's span.

    A call launched where no call span is current (``.submit()``, ``.map()``,
    which the engine runs in threads of its own) gets a span of its own per
    attempt, named after the checkpoint, in the trace of its execution's
    body when that body runs in this process.

    Args:
        checkpoint: The checkpoint's name.
        type: The ``@checkpoint(type=...)`` label.
        attempt_id: The attempt's id (the engine's step run id).
        exec_id: The execution it belongs to.
    """
    call = _call.get()
    if call is not None and not call.closed:
        with _attempt_of(call, checkpoint, type, attempt_id):
            yield
        return
    flow_trace = current_flow_trace() or running_flow_trace(exec_id)
    if flow_trace is None:
        yield
        return
    with (
        within(flow_trace),
        checkpoint_span(checkpoint, checkpoint=checkpoint, type=type) as own,
        _attempt_of(own, checkpoint, type, attempt_id),
    ):
        yield


@contextmanager
def _attempt_of(call: CallSpan, checkpoint: str, type: str | None, attempt_id: str) -> Iterator[None]:
    call.annotate(SOURCE, "executed")
    call.annotate(CHECKPOINT_NAME, checkpoint)
    call.annotate(CHECKPOINT_TYPE, type)
    started = time.perf_counter()
    try:
        yield
    except BaseException as exc:
        _quietly(call.attempt_ended, attempt_id, started, exc)
        raise
    _quietly(call.attempt_ended, attempt_id, started, None)


@contextmanager
def wait_span(
    name: str, *, question: str | None, timeout: float, outcome_of: Callable[[BaseException], str | None]
) -> Iterator[None]:
    """Trace one ``kitaru.wait()`` as a span ``wait <name>`` for the duration of the block.

    Args:
        name: The wait's name.
        question: Its question, if any.
        timeout: Seconds it polls before pausing the execution.
        outcome_of: The engine's reading of an exception leaving the block
            (``paused``, ``aborted`` ... or None for a failure).
    """
    flow_trace = current_flow_trace()
    if flow_trace is None:
        yield
        return
    from opentelemetry.trace import Status, StatusCode

    attributes: dict[str, Any] = {EXECUTION_ID: flow_trace.exec_id, WAIT_NAME: name, WAIT_TIMEOUT: timeout}
    if question is not None:
        attributes[WAIT_QUESTION] = question
    tracer = flow_trace.provider.get_tracer(INSTRUMENTATION_NAME)
    with tracer.start_as_current_span(
        f"wait {name}", attributes=attributes, record_exception=False, set_status_on_exception=False
    ) as span:
        try:
            yield
        except BaseException as exc:
            outcome = outcome_of(exc)
            if outcome == "aborted":
                flow_trace.aborted = True
            if outcome is None:
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
            span.set_attribute(WAIT_OUTCOME, outcome or "failed")
            raise
        span.set_attribute(WAIT_OUTCOME, "answered")


__all__ = ["NO_CALL", "CallSpan", "checkpoint_attempt", "checkpoint_span", "wait_span"]
