"""OpenTelemetry traces of executions: a trace per run of a flow body, a span per checkpoint call.

With ``pip install 'kitaru[otel]'`` and the standard OTLP environment, every
execution is traced; without them nothing is imported and nothing is sent::

    export OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318
    python my_flow.py          # flow my_flow -> checkpoint fetch, checkpoint llm_1 -> chat gpt-4o-mini ...

The execution code calls a small interface, a no-op when the process does
not trace:

* :func:`start_flow` / :meth:`FlowTrace.end` around a flow body
  (:mod:`kitaru.tracing.flow`, called by :mod:`kitaru.execution.flow_body`);
  a retry or resume links to the execution's first trace (:mod:`kitaru.tracing.links`);
* :func:`checkpoint_span` around a checkpoint call, :func:`checkpoint_attempt` around
  each attempt, :func:`wait_span` around ``kitaru.wait()`` (:mod:`kitaru.tracing.calls`);
* :func:`llm_request` around a model request (GenAI conventions,
  :mod:`kitaru.tracing.genai`).

Whether a process traces, and the provider it uses (the user's global one
first), is decided by :mod:`kitaru.tracing.provider`.
"""

from kitaru.tracing.calls import CallSpan, checkpoint_attempt, checkpoint_span, wait_span
from kitaru.tracing.flow import NO_TRACE, FlowTrace, start_flow
from kitaru.tracing.genai import LlmSpan, llm_request
from kitaru.tracing.links import TRACE_KEY
from kitaru.tracing.provider import active_provider

__all__ = [
    "NO_TRACE",
    "TRACE_KEY",
    "CallSpan",
    "FlowTrace",
    "LlmSpan",
    "active_provider",
    "checkpoint_attempt",
    "checkpoint_span",
    "llm_request",
    "start_flow",
    "wait_span",
]
