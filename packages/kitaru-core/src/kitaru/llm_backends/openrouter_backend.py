"""The ``openrouter`` LLM backend: OpenRouter's OpenAI-compatible API.

OpenRouter routes one API to many providers' models, named
``<provider>/<model>``. Kitaru takes everything after ``openrouter/`` as the
model, so ``openrouter/anthropic/claude-3.5-haiku`` asks OpenRouter for
``anthropic/claude-3.5-haiku``.

The request goes through the official ``openai`` SDK to
``https://openrouter.ai/api/v1`` (or ``$OPENROUTER_BASE_URL``) with the key in
``OPENROUTER_API_KEY``. Both are passed to the client explicitly, so an
``OPENAI_API_KEY`` or ``OPENAI_BASE_URL`` meant for OpenAI is never sent to
OpenRouter. The output limit is sent as ``max_tokens``, the parameter
OpenRouter documents for every routed model.
"""

from __future__ import annotations

import os

from kitaru.errors import KitaruUsageError
from kitaru.llm_backends.openai_compatible import complete, import_openai, same_price
from kitaru.plugins.records import LlmBackendSpec, LlmRequest, LlmResult, ModelPrice

OPENROUTER_DEFAULT_BASE_URL = "https://openrouter.ai/api/v1"
"""Where OpenRouter's OpenAI-compatible API lives."""

OPENROUTER_BASE_URL_ENV = "OPENROUTER_BASE_URL"
"""Overrides :data:`OPENROUTER_DEFAULT_BASE_URL` (a proxy, a test server)."""

OPENROUTER_API_KEY_ENV = "OPENROUTER_API_KEY"
"""Holds the OpenRouter key (``sk-or-...``)."""

OPENROUTER_PRICES_AS_OF = "2025-10-20"
"""When the prices below were read from https://openrouter.ai/models."""

OPENROUTER_PRICES: dict[str, ModelPrice] = {
    # US dollars per million tokens, by model after ``openrouter/``. OpenRouter
    # passes the upstream provider's list price through; models whose price
    # depends on which host serves them (open-weight Llama, DeepSeek, Qwen ...)
    # are left out: their cost is unknown unless kitaru.yaml names it.
    **same_price(2.50, 10.00, "openai/gpt-4o"),
    **same_price(0.15, 0.60, "openai/gpt-4o-mini"),
    **same_price(2.00, 8.00, "openai/gpt-4.1"),
    **same_price(0.40, 1.60, "openai/gpt-4.1-mini"),
    **same_price(1.25, 10.00, "openai/gpt-5"),
    **same_price(0.25, 2.00, "openai/gpt-5-mini"),
    **same_price(0.80, 4.00, "anthropic/claude-3.5-haiku"),
    **same_price(1.00, 5.00, "anthropic/claude-haiku-4.5"),
    **same_price(3.00, 15.00, "anthropic/claude-3.7-sonnet"),
    **same_price(3.00, 15.00, "anthropic/claude-sonnet-4", "anthropic/claude-sonnet-4.5"),
    **same_price(15.00, 75.00, "anthropic/claude-opus-4", "anthropic/claude-opus-4.1"),
    **same_price(0.10, 0.40, "google/gemini-2.0-flash-001"),
    **same_price(0.30, 2.50, "google/gemini-2.5-flash"),
    # Prompts up to 200k tokens; longer prompts cost more.
    **same_price(1.25, 10.00, "google/gemini-2.5-pro"),
}
"""What popular routed models cost through OpenRouter."""


def openrouter_base_url() -> str:
    """``$OPENROUTER_BASE_URL`` when set, else :data:`OPENROUTER_DEFAULT_BASE_URL`."""
    configured = os.environ.get(OPENROUTER_BASE_URL_ENV, "").strip()
    return configured.rstrip("/") if configured else OPENROUTER_DEFAULT_BASE_URL


def call_openrouter(request: LlmRequest) -> LlmResult:
    """Send ``request`` to OpenRouter.

    Args:
        request: The call; ``request.model`` is the routed model name
            (``anthropic/claude-3.5-haiku``).

    Returns:
        The answer text, token usage and the model OpenRouter says answered.

    Raises:
        KitaruUsageError: When the ``openai`` package is not installed or
            ``OPENROUTER_API_KEY`` is not set.
        KitaruRuntimeError: When the answer holds no text.
        openai.OpenAIError: Provider errors (401, 402 out of credits, 404 ...)
            as the SDK raises them.
    """
    openai = import_openai("openrouter", "openai")
    api_key = os.environ.get(OPENROUTER_API_KEY_ENV, "").strip()
    if not api_key:
        raise KitaruUsageError(
            f"The 'openrouter' LLM backend needs an OpenRouter key in {OPENROUTER_API_KEY_ENV}. "
            f"Export it, or store it in a secret (kitaru secrets set openrouter "
            f"--{OPENROUTER_API_KEY_ENV}=...) and link the secret to the model alias "
            "(kitaru model register ALIAS --model openrouter/... --secret openrouter)."
        )
    with openai.OpenAI(api_key=api_key, base_url=openrouter_base_url()) as client:
        return complete(client, request, backend="openrouter", token_limit="max_tokens")


OPENROUTER_BACKEND = LlmBackendSpec(
    name="openrouter",
    prefixes=("openrouter/",),
    credential_env=(OPENROUTER_API_KEY_ENV,),
    extra="openai",
    call=call_openrouter,
    prices=OPENROUTER_PRICES,
    prices_as_of=OPENROUTER_PRICES_AS_OF,
    supports_tools=True,
    native_structured_output=True,
)
"""The record ``kitaru_llm_backends`` yields for ``openrouter/*`` models."""
