"""The first trace of an execution, recorded with it, so later runs of its body link to it.

An execution can run its flow body several times: a retry after a failure,
a resume after a wait, each possibly in another process. Each run is a trace
of its own; the first one's context (trace id and span id of its flow span)
is recorded in the execution's metadata under :data:`TRACE_KEY`, and every
later run starts its trace with a span *link* to it, so a tracing backend
shows them as one story::

    {"kitaru_trace": {"trace_id": "5b8e...", "span_id": "a3f1..."}}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

TRACE_KEY = "kitaru_trace"
"""Run metadata key: the context of the execution's first trace."""


def context_record(span_context: Any) -> dict[str, str]:
    """The JSON record of a span context (ids as lowercase hex, as OTLP/JSON and W3C write them)."""
    return {
        "trace_id": format(span_context.trace_id, "032x"),
        "span_id": format(span_context.span_id, "016x"),
    }


def recorded_ids(metadata: Mapping[str, Any]) -> tuple[int, int] | None:
    """The ``(trace_id, span_id)`` recorded in an execution's metadata, or None.

    A malformed record counts as none: the run then starts a trace without a link.
    """
    record = metadata.get(TRACE_KEY)
    if not isinstance(record, Mapping):
        return None
    try:
        trace_id, span_id = int(str(record["trace_id"]), 16), int(str(record["span_id"]), 16)
    except (KeyError, ValueError):
        return None
    if not trace_id or not span_id:
        return None
    return trace_id, span_id


__all__ = ["TRACE_KEY", "context_record", "recorded_ids"]
