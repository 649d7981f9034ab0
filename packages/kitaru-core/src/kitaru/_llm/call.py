"""One model call for ``kitaru.llm()``: name it, resolve the model, call it, describe the call.

``kitaru.llm()`` (:mod:`kitaru.primitives`) runs a call in the flow body as a
synthetic checkpoint of type ``llm_call`` whose invocation id is the call name
(``llm_1``, or ``name=``): it is cached, retried, resumed and replayed like any
checkpoint, so a retry or a replay reuses the recorded answer instead of
contacting the provider again. Inside a user checkpoint the call runs inline
and the enclosing checkpoint is the replay boundary. This module holds the
parts that do not depend on where the call runs:

* :func:`prepare_request` validates the prompt and options, names the call
  (unique in its flow body or checkpoint) and resolves the model;
* :func:`perform_call` calls the model and returns its answer (text and tool
  calls) with the call's record: ``{requested_model, alias, resolved_model,
  provider_model, credential_source, latency_ms, tokens_input, tokens_output,
  total_tokens, cost_usd, price_source, tool_calls}`` with unknown values
  left out. The caller stores
  ``<name>_prompt`` and ``<name>_response`` artifacts and logs the record as
  ``llm_calls: {<name>: record}`` metadata.

A call with tools is a conversation of such calls and of tool runs
(:mod:`kitaru._llm.conversation`).

``KITARU_LLM_MOCK_RESPONSE=<text>`` answers every call with that text without
contacting a provider or reading credentials (for demos and tests); the call
is recorded all the same, with latency 0 and no usage.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from kitaru._llm.backends import backend_for
from kitaru._llm.cassettes import answer, credentials_or_cassette
from kitaru._llm.credentials import credentials_for
from kitaru._llm.messages import call_name, check_options, normalise_prompt
from kitaru._llm.pricing import configured_prices, cost_usd, price_for
from kitaru._llm.registry import resolve_model
from kitaru._llm.structured import describe_format, instruction
from kitaru._llm.tools import as_records, describe_tools
from kitaru.errors import (
    KitaruBackendError,
    KitaruError,
    KitaruRuntimeError,
    KitaruUsageError,
)
from kitaru.plugins.records import LlmRequest, LlmResponseFormat, LlmToolCall
from kitaru.settings import KitaruSettings, settings
from kitaru.tracing import llm_request

MOCK_ENV = KitaruSettings.variable("llm_mock_response")
"""Answer every call with this text, contacting no provider."""

LLM_CALL_TYPE = "llm_call"
"""The checkpoint type of the synthetic checkpoint (and of ``CheckpointCall.checkpoint_type``)."""

TOOL_CALL_TYPE = "tool_call"
"""The checkpoint type of a tool the model asked for, run by ``kitaru.llm(tools=...)``."""


class CallScope(Protocol):
    """The flow body or checkpoint a call is made in (its call counter and the names taken)."""

    llm_calls: int
    llm_names: set[str]


def prepare_request(
    scope: CallScope,
    prompt: str | list[dict[str, Any]],
    *,
    model: str | None,
    system: str | None,
    temperature: float | None,
    max_tokens: int | None,
    name: str | None,
    inside_checkpoint: bool,
    tools: Sequence[Callable[..., Any]] | None = None,
    response_format: Any = None,
) -> dict[str, Any]:
    """Validate a call, give it its name in ``scope`` and resolve its model.

    Returns:
        The request: ``name``, the model (requested, alias, resolved, secret),
        ``messages``, options, the described ``tools`` and ``response_format``
        (present only when given), and the mock answer if one is configured
        (part of a synthetic checkpoint's inputs, so a mocked answer is never
        served from the cache to a real call, nor the other way round).

    Raises:
        KitaruUsageError: For a bad prompt, option, tool, response format or
            model, or a name already used in ``scope``.
    """
    messages = normalise_prompt(prompt, system)
    check_options(temperature, max_tokens)
    described_tools = describe_tools(tools) if tools is not None else []
    described_format = describe_format(response_format) if response_format is not None else None
    scope.llm_calls += 1
    recorded_name = claim_name(scope, call_name(name, scope.llm_calls), inside_checkpoint=inside_checkpoint)
    resolved = resolve_model(model)
    extras: dict[str, Any] = {}
    if described_tools:
        extras["tools"] = described_tools
    if described_format is not None:
        extras["response_format"] = described_format
    return {
        "name": recorded_name,
        "requested_model": resolved.requested_model,
        "alias": resolved.alias,
        "model": resolved.model,
        "secret": resolved.secret,
        "messages": messages,
        "temperature": temperature,
        "max_tokens": max_tokens,
        "mock_response": settings().llm_mock_response,
        **extras,
    }


def claim_next(scope: CallScope, base: str) -> str:
    """Take the first free name of ``base``, ``base_2``, ``base_3`` ... in ``scope``.

    Calls are named in the order they are made, so the same flow body gives
    the same names on every retry and replay.
    """
    taken = set(scope.llm_names) | set(getattr(scope, "call_counts", {}))
    name, number = base, 1
    while name in taken:
        number += 1
        name = f"{base}_{number}"
    scope.llm_names.add(name)
    return name


def claim_name(scope: CallScope, name: str, *, inside_checkpoint: bool) -> str:
    """Take ``name`` in ``scope`` for a recorded call, or say it is already taken.

    Raises:
        KitaruUsageError: When a call or a checkpoint of this scope has it.
    """
    taken = set(scope.llm_names) | set(getattr(scope, "call_counts", {}))
    if name in taken:
        where = "this checkpoint" if inside_checkpoint else "this flow"
        raise KitaruUsageError(
            f"kitaru.llm(name={name!r}) is already used in {where}; every call needs "
            "its own name (it identifies the recorded call on retry and replay)."
        )
    scope.llm_names.add(name)
    return name


def perform_call(request: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Call the model (or the mock) and return its answer and the call's record.

    In a traced flow the call is a GenAI ``chat`` span (:mod:`kitaru.tracing.genai`).

    Returns:
        The answer ``{"text", "tool_calls"}`` (each tool call ``{"id",
        "name", "arguments"}``, arguments as JSON text) and the record.

    Raises:
        KitaruUsageError: For a model no installed backend serves.
        KitaruRuntimeError: For missing credentials or an empty answer.
        KitaruBackendError: When the provider call fails.
    """
    with llm_request(
        request["name"],
        model=request["model"],
        temperature=request.get("temperature"),
        max_tokens=request.get("max_tokens"),
    ) as traced:
        answer, record = _perform(request)
        traced.record(record)
    return answer, record


def _perform(request: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    record: dict[str, Any] = {
        "requested_model": request.get("requested_model"),
        "alias": request.get("alias"),
        "resolved_model": request["model"],
    }
    mock = request.get("mock_response", settings().llm_mock_response)
    if mock is not None:
        answer: dict[str, Any] = {"text": mock, "tool_calls": []}
        record.update(credential_source="mock", latency_ms=0)
    else:
        answer = _call_provider(request, record)
    return answer, {key: value for key, value in record.items() if value is not None}


def _call_provider(request: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    model = request["model"]
    backend, model_name = backend_for(model)
    if backend.call is None:
        raise KitaruRuntimeError(f"The {backend.name} backend ({backend.source}) cannot call models.")
    tools = request.get("tools") or []
    if tools and not backend.supports_tools:
        raise KitaruUsageError(
            f"The {backend.name} LLM backend ({backend.source}) cannot call tools, so "
            f"kitaru.llm(tools=...) cannot use {model!r}. Use a model whose backend can "
            "(openai, anthropic, openrouter, ollama, bedrock, vertex, azure), or call the tools "
            "yourself in checkpoints."
        )
    messages = [dict(message) for message in request["messages"]]
    response_format = request.get("response_format")
    native_format: LlmResponseFormat | None = None
    if response_format is not None and backend.native_structured_output:
        native_format = LlmResponseFormat(name=response_format["name"], schema=response_format["schema"])
    elif response_format is not None:
        messages = ask_for_json(messages, response_format)
    llm_request = LlmRequest(
        model=model_name,
        messages=tuple(messages),
        temperature=request.get("temperature"),
        max_tokens=request.get("max_tokens"),
        tools=as_records(tools),
        response_format=native_format,
    )
    prices = configured_prices()  # read first: a malformed llm_prices entry fails before the provider is paid
    with credentials_or_cassette(request, lambda: credentials_for(backend, request.get("secret"), model)) as source:
        started = time.perf_counter()
        try:
            result = answer(request, source, backend.call, llm_request)  # the cassette, if one is active
        except KitaruError:
            raise
        except Exception as exc:
            raise KitaruBackendError(
                f"LLM call '{request['name']}' to {model} failed: {type(exc).__name__}: {exc}"
            ) from exc
        latency_ms = round((time.perf_counter() - started) * 1000, 1)
    text = getattr(result, "text", None)
    calls = getattr(result, "tool_calls", ())
    if not all(isinstance(call, LlmToolCall) for call in calls):
        raise KitaruRuntimeError(
            f"The {backend.name} LLM backend ({backend.source}) returned tool calls that are not "
            "LlmToolCall records; a backend returns LlmResult(tool_calls=(LlmToolCall(...), ...))."
        )
    tool_calls = [{"id": call.id, "name": call.name, "arguments": call.arguments} for call in calls]
    if tool_calls and not tools:
        raise KitaruRuntimeError(
            f"LLM call '{request['name']}' to {model} asked for tools, but the call offered none."
        )
    if not isinstance(text, str) or (not text.strip() and not tool_calls):
        raise KitaruRuntimeError(
            f"LLM call '{request['name']}' to {model} returned no text and no tool call; check the "
            "model and the prompt."
        )
    tokens_in, tokens_out = result.tokens_input, result.tokens_output
    price = price_for(backend, model, model_name, result.model, configured=prices)
    record.update(
        provider_model=result.model,
        credential_source=source,
        latency_ms=latency_ms,
        tokens_input=tokens_in,
        tokens_output=tokens_out,
        total_tokens=(tokens_in + tokens_out) if tokens_in is not None and tokens_out is not None else None,
        cost_usd=cost_usd(price, tokens_in, tokens_out),
        price_source=price.source if price is not None else None,
        tool_calls=len(tool_calls) or None,
    )
    return {"text": text, "tool_calls": tool_calls}


def ask_for_json(messages: list[dict[str, Any]], response_format: dict[str, Any]) -> list[dict[str, Any]]:
    """``messages`` with the JSON instruction as one more system message, after the others."""
    systems = [message for message in messages if message["role"] == "system"]
    others = [message for message in messages if message["role"] != "system"]
    return [*systems, {"role": "system", "content": instruction(response_format)}, *others]


__all__ = ["LLM_CALL_TYPE", "MOCK_ENV", "TOOL_CALL_TYPE", "CallScope", "claim_name", "claim_next", "perform_call", "prepare_request"]
