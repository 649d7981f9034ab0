"""``kitaru.llm()``: one model call, journaled so it is never paid for twice.

In the flow body a call runs as a synthetic checkpoint of type ``llm_call``
whose invocation id is the call name (``llm_1``, or ``name=``): it is cached,
retried, resumed and replayed like any checkpoint, so a retry or a replay
reuses the recorded answer instead of contacting the provider again. Inside a
user checkpoint the call runs inline and the enclosing checkpoint is the
replay boundary.

Every call records, in the checkpoint it runs in:

* artifacts ``<name>_prompt`` (the messages, type ``prompt``) and
  ``<name>_response`` (the text, type ``response``);
* metadata ``llm_calls: {<name>: {requested_model, alias, resolved_model,
  provider_model, credential_source, latency_ms, tokens_input, tokens_output,
  total_tokens, cost_usd, price_source}}`` with unknown values left out.

``KITARU_LLM_MOCK_RESPONSE=<text>`` answers every call with that text without
contacting a provider or reading credentials (for demos and tests); the call
is recorded all the same, with latency 0 and no usage.
"""

from __future__ import annotations

import os
import time
from typing import Any

from kitaru import _scope
from kitaru._llm.messages import call_name, check_options, normalise_prompt
from kitaru.checkpoints import checkpoint
from kitaru.errors import (
    KitaruBackendError,
    KitaruContextError,
    KitaruError,
    KitaruRuntimeError,
    KitaruUsageError,
)

MOCK_ENV = "KITARU_LLM_MOCK_RESPONSE"
"""Answer every call with this text, contacting no provider."""

LLM_CALL_TYPE = "llm_call"
"""The checkpoint type of the synthetic checkpoint (and of ``CheckpointCall.checkpoint_type``)."""


def llm(
    prompt: str | list[dict[str, Any]],
    *,
    model: str | None = None,
    system: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    name: str | None = None,
) -> str:
    """Call a model and return its text; see :func:`kitaru.llm`."""
    flow = _scope.current_flow()
    inside = _scope.current_checkpoint()
    if flow is None and inside is None:
        raise KitaruContextError("kitaru.llm() can only be called inside a @flow.")
    messages = normalise_prompt(prompt, system)
    check_options(temperature, max_tokens)
    scope: Any = inside if inside is not None else flow
    scope.llm_calls += 1
    recorded_name = call_name(name, scope.llm_calls)
    taken = set(scope.llm_names) | set(getattr(scope, "call_counts", {}))
    if recorded_name in taken:
        where = "this checkpoint" if inside is not None else "this flow"
        raise KitaruUsageError(
            f"kitaru.llm(name={recorded_name!r}) is already used in {where}; every call needs "
            "its own name (it identifies the recorded call on retry and replay)."
        )
    scope.llm_names.add(recorded_name)

    from kitaru._llm.registry import resolve_model

    resolved = resolve_model(model)
    request = {
        "name": recorded_name,
        "requested_model": resolved.requested_model,
        "alias": resolved.alias,
        "model": resolved.model,
        "secret": resolved.secret,
        "messages": messages,
        "temperature": temperature,
        "max_tokens": max_tokens,
        # Part of the checkpoint's inputs, so a mocked answer is never served
        # from the cache to a real call, nor the other way round.
        "mock_response": os.environ.get(MOCK_ENV),
    }
    if inside is not None:
        return perform_call(request)
    return llm_call(request, id=recorded_name)


@checkpoint(type=LLM_CALL_TYPE)
def llm_call(request: dict[str, Any]) -> str:
    """The synthetic checkpoint a flow-body ``kitaru.llm()`` call runs as."""
    return perform_call(request)


def perform_call(request: dict[str, Any]) -> str:
    """Call the model (or the mock), record artifacts and metadata, return the text.

    Runs inside a checkpoint scope: the synthetic one, or the user's.

    Raises:
        KitaruUsageError: For a model no installed backend serves.
        KitaruRuntimeError: For missing credentials or an empty answer.
        KitaruBackendError: When the provider call fails.
    """
    from kitaru.primitives import log, save

    name = request["name"]
    model = request["model"]
    record: dict[str, Any] = {
        "requested_model": request.get("requested_model"),
        "alias": request.get("alias"),
        "resolved_model": model,
    }
    mock = request.get("mock_response", os.environ.get(MOCK_ENV))
    if mock is not None:
        text = mock
        record.update(credential_source="mock", latency_ms=0)
    else:
        text = _call_provider(request, record)
    save(f"{name}_prompt", list(request["messages"]), type="prompt")
    save(f"{name}_response", text, type="response")
    log(llm_calls={name: {key: value for key, value in record.items() if value is not None}})
    return text


def _call_provider(request: dict[str, Any], record: dict[str, Any]) -> str:
    from kitaru._llm.backends import backend_for
    from kitaru._llm.credentials import credentials_for
    from kitaru._llm.pricing import cost_usd, price_for
    from kitaru.plugins.records import LlmRequest

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
