"""LLM calls as spans that follow the OpenTelemetry GenAI semantic conventions.

A model request made in a traced flow (``kitaru.llm()``, or an agent
framework's request through :mod:`kitaru.adapters`) is a ``CLIENT`` span
named ``chat <model>`` inside its checkpoint's span, with the attributes a
GenAI-aware backend understands::

    gen_ai.operation.name     chat
    gen_ai.provider.name      openai          (and the older gen_ai.system)
    gen_ai.request.model      gpt-4o-mini
    gen_ai.response.model     gpt-4o-mini-2024-07-18
    gen_ai.usage.input_tokens / gen_ai.usage.output_tokens
    kitaru.llm.cost_usd       (the conventions have no cost attribute)

A request answered from the journal on a retry or replay is not sent, so it
has no LLM span: its checkpoint span says it was reused.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from kitaru.tracing.flow import current_flow_trace
from kitaru.tracing.provider import INSTRUMENTATION_NAME

logger = logging.getLogger("kitaru")

OPERATION = "gen_ai.operation.name"
PROVIDER = "gen_ai.provider.name"
SYSTEM = "gen_ai.system"
REQUEST_MODEL = "gen_ai.request.model"
RESPONSE_MODEL = "gen_ai.response.model"
TEMPERATURE = "gen_ai.request.temperature"
MAX_TOKENS = "gen_ai.request.max_tokens"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
ERROR_TYPE = "error.type"
CALL_NAME = "kitaru.llm.name"
COST = "kitaru.llm.cost_usd"
PRICE_SOURCE = "kitaru.llm.price_source"
CREDENTIAL_SOURCE = "kitaru.llm.credential_source"
LATENCY = "kitaru.llm.latency_ms"
TOOL_CALLS = "kitaru.llm.tool_calls"

PROVIDER_NAMES = {
    "anthropic": "anthropic",
    "azure": "azure.ai.openai",
    "bedrock": "aws.bedrock",
    "gemini": "gcp.gemini",
    "mistral": "mistral_ai",
    "openai": "openai",
    "vertex": "gcp.vertex_ai",
}
"""Kitaru's backend names -> the conventions' well-known ``gen_ai.provider.name`` values (others pass as they are)."""


def split_model(model: str | None) -> tuple[str | None, str | None]:
    """``openai/gpt-4o-mini`` -> ``("openai", "gpt-4o-mini")`` in the conventions' words; no prefix: no provider."""
    if not model:
        return None, None
    provider, _, name = model.partition("/")
    if not name:
        return None, model
    return PROVIDER_NAMES.get(provider, provider), name


class LlmSpan:
    """The span of one model request, or nothing when not traced; :meth:`record` adds what the call reported."""

    def __init__(self, span: Any = None) -> None:
        self.span = span

    def record(self, call: Mapping[str, Any], *, name: str | None = None) -> None:
        """Add the call's ``llm_calls`` record (model, tokens, cost, latency) to the span.

        Args:
            call: The record (:func:`kitaru._llm.call.perform_call`, :func:`kitaru._llm.records.reported_call`).
            name: The call's name, when it was given only after the request.
        """
        if self.span is None:
            return
        try:
            provider, model = split_model(call.get("resolved_model"))
            if model:
                self.span.update_name(f"chat {model}")
            values = {
                CALL_NAME: name,
                PROVIDER: provider,
                SYSTEM: provider,
                REQUEST_MODEL: model,
                RESPONSE_MODEL: call.get("provider_model"),
                INPUT_TOKENS: call.get("tokens_input"),
                OUTPUT_TOKENS: call.get("tokens_output"),
                COST: call.get("cost_usd"),
                PRICE_SOURCE: call.get("price_source"),
                CREDENTIAL_SOURCE: call.get("credential_source"),
                LATENCY: call.get("latency_ms"),
                TOOL_CALLS: call.get("tool_calls"),
            }
            self.span.set_attributes({key: value for key, value in values.items() if value is not None})
        except Exception as exc:  # tracing never fails a call
            logger.debug("Kitaru could not record an LLM call on its span: %s", exc)


@contextmanager
def llm_request(
    name: str,
    *,
    model: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
) -> Iterator[LlmSpan]:
    """Trace one model request as a GenAI ``chat`` span for the duration of the block.

    Args:
        name: The call's name (``research``, ``agent_request_2``).
        model: The model, as Kitaru names it (``openai/gpt-4o-mini``), if known now.
        temperature: The sampling temperature asked for.
        max_tokens: The output token limit asked for.

    Yields:
        The span; call :meth:`LlmSpan.record` with the call's record once it
        is known. An exception leaving the block sets status ERROR,
        ``error.type`` and records the exception.
    """
    flow_trace = current_flow_trace()
    if flow_trace is None:
        yield LlmSpan()
        return
    from opentelemetry.trace import SpanKind, Status, StatusCode

    provider, model_name = split_model(model)
    attributes = {
        key: value
        for key, value in {
            OPERATION: "chat",
            PROVIDER: provider,
            SYSTEM: provider,
            REQUEST_MODEL: model_name,
            TEMPERATURE: temperature,
            MAX_TOKENS: max_tokens,
            CALL_NAME: name,
        }.items()
        if value is not None
    }
    tracer = flow_trace.provider.get_tracer(INSTRUMENTATION_NAME)
    span_name = f"chat {model_name}" if model_name else "chat"
    with tracer.start_as_current_span(
        span_name, kind=SpanKind.CLIENT, attributes=attributes, record_exception=False, set_status_on_exception=False
    ) as span:
        try:
            yield LlmSpan(span)
        except BaseException as exc:
            span.record_exception(exc)
            span.set_attribute(ERROR_TYPE, type(exc).__qualname__)
            span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
            raise


__all__ = ["PROVIDER_NAMES", "LlmSpan", "llm_request", "split_model"]
