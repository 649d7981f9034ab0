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
* :func:`perform_call` calls the model and returns the text with the call's
  record: ``{requested_model, alias, resolved_model, provider_model,
  credential_source, latency_ms, tokens_input, tokens_output, total_tokens,
  cost_usd, price_source}`` with unknown values left out. The caller stores
  ``<name>_prompt`` and ``<name>_response`` artifacts and logs the record as
  ``llm_calls: {<name>: record}`` metadata.

``KITARU_LLM_MOCK_RESPONSE=<text>`` answers every call with that text without
contacting a provider or reading credentials (for demos and tests); the call
is recorded all the same, with latency 0 and no usage.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from kitaru._llm.backends import backend_for
from kitaru._llm.credentials import credentials_for
from kitaru._llm.messages import call_name, check_options, normalise_prompt
from kitaru._llm.pricing import cost_usd, price_for
from kitaru._llm.registry import resolve_model
from kitaru.errors import (
    KitaruBackendError,
    KitaruError,
    KitaruRuntimeError,
    KitaruUsageError,
)
from kitaru.plugins.records import LlmRequest
from kitaru.settings import KitaruSettings, settings

MOCK_ENV = KitaruSettings.variable("llm_mock_response")
"""Answer every call with this text, contacting no provider."""

LLM_CALL_TYPE = "llm_call"
"""The checkpoint type of the synthetic checkpoint (and of ``CheckpointCall.checkpoint_type``)."""


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
) -> dict[str, Any]:
    """Validate a call, give it its name in ``scope`` and resolve its model.

    Returns:
        The request: ``name``, the model (requested, alias, resolved, secret),
        ``messages``, options, and the mock answer if one is configured (part
        of a synthetic checkpoint's inputs, so a mocked answer is never served
        from the cache to a real call, nor the other way round).

    Raises:
        KitaruUsageError: For a bad prompt, option or model, or a name already
            used in ``scope``.
    """
    messages = normalise_prompt(prompt, system)
    check_options(temperature, max_tokens)
    scope.llm_calls += 1
    recorded_name = call_name(name, scope.llm_calls)
    taken = set(scope.llm_names) | set(getattr(scope, "call_counts", {}))
    if recorded_name in taken:
        where = "this checkpoint" if inside_checkpoint else "this flow"
        raise KitaruUsageError(
            f"kitaru.llm(name={recorded_name!r}) is already used in {where}; every call needs "
            "its own name (it identifies the recorded call on retry and replay)."
        )
    scope.llm_names.add(recorded_name)
    resolved = resolve_model(model)
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
    }


def perform_call(request: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Call the model (or the mock) and return its text and the call's record.

    Raises:
        KitaruUsageError: For a model no installed backend serves.
        KitaruRuntimeError: For missing credentials or an empty answer.
        KitaruBackendError: When the provider call fails.
    """
    record: dict[str, Any] = {
        "requested_model": request.get("requested_model"),
        "alias": request.get("alias"),
        "resolved_model": request["model"],
    }
    mock = request.get("mock_response", settings().llm_mock_response)
    if mock is not None:
        text = mock
        record.update(credential_source="mock", latency_ms=0)
    else:
        text = _call_provider(request, record)
    return text, {key: value for key, value in record.items() if value is not None}


def _call_provider(request: dict[str, Any], record: dict[str, Any]) -> str:
    model = request["model"]
    backend, model_name = backend_for(model)
    if backend.call is None:
        raise KitaruRuntimeError(f"The {backend.name} backend ({backend.source}) cannot call models.")
    llm_request = LlmRequest(
        model=model_name,
        messages=tuple(dict(message) for message in request["messages"]),
        temperature=request.get("temperature"),
        max_tokens=request.get("max_tokens"),
    )
    with credentials_for(backend, request.get("secret"), model) as source:
        started = time.perf_counter()
        try:
            result = backend.call(llm_request)
        except KitaruError:
            raise
        except Exception as exc:
            raise KitaruBackendError(
                f"LLM call '{request['name']}' to {model} failed: {type(exc).__name__}: {exc}"
            ) from exc
        latency_ms = round((time.perf_counter() - started) * 1000, 1)
    text = getattr(result, "text", None)
    if not isinstance(text, str) or not text.strip():
        raise KitaruRuntimeError(
            f"LLM call '{request['name']}' to {model} returned no text; kitaru.llm() returns text "
            "only. Call the SDK inside a @checkpoint for tool calls or structured output."
        )
    tokens_in, tokens_out = result.tokens_input, result.tokens_output
    price = price_for(backend, model, model_name, result.model)
    record.update(
        provider_model=result.model,
        credential_source=source,
        latency_ms=latency_ms,
        tokens_input=tokens_in,
        tokens_output=tokens_out,
        total_tokens=(tokens_in + tokens_out) if tokens_in is not None and tokens_out is not None else None,
        cost_usd=cost_usd(price, tokens_in, tokens_out),
        price_source=price.source if price is not None else None,
    )
    return text


__all__ = ["LLM_CALL_TYPE", "MOCK_ENV", "CallScope", "perform_call", "prepare_request"]
