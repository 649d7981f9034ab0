"""The ``openai`` LLM backend: OpenAI's Chat Completions API through the official SDK.

``kitaru.llm("openai/gpt-4o-mini", ...)`` sends one ``POST /v1/chat/completions``
with ``openai.OpenAI()``. The client is built without arguments, so the SDK
reads its own environment: ``OPENAI_API_KEY``, ``OPENAI_BASE_URL`` (point it at
a proxy, a gateway or any OpenAI-compatible server), ``OPENAI_ORG_ID``,
``OPENAI_PROJECT_ID`` and so on.

The output limit is sent as ``max_completion_tokens``: OpenAI deprecated
``max_tokens`` for Chat Completions, and its reasoning models (o-series,
gpt-5) reject it, while ``max_completion_tokens`` works for every current
model. ``temperature`` and the limit are sent only when the call sets them.
"""

from __future__ import annotations

from kitaru.llm_backends.openai_compatible import complete, import_openai, same_price
from kitaru.plugins.records import LlmBackendSpec, LlmRequest, LlmResult, ModelPrice

OPENAI_PRICES_AS_OF = "2025-10-20"
"""When the prices below were read from https://openai.com/api/pricing/."""


OPENAI_PRICES: dict[str, ModelPrice] = {
    # Standard tier, US dollars per million tokens; uncached input. Each alias
    # is listed with the dated snapshot it pointed to, which is the name the
    # API reports back.
    **same_price(2.50, 10.00, "gpt-4o", "gpt-4o-2024-11-20", "gpt-4o-2024-08-06"),
    **same_price(5.00, 15.00, "gpt-4o-2024-05-13"),
    **same_price(0.15, 0.60, "gpt-4o-mini", "gpt-4o-mini-2024-07-18"),
    **same_price(2.00, 8.00, "gpt-4.1", "gpt-4.1-2025-04-14"),
    **same_price(0.40, 1.60, "gpt-4.1-mini", "gpt-4.1-mini-2025-04-14"),
    **same_price(0.10, 0.40, "gpt-4.1-nano", "gpt-4.1-nano-2025-04-14"),
    **same_price(15.00, 60.00, "o1", "o1-2024-12-17"),
    **same_price(2.00, 8.00, "o3", "o3-2025-04-16"),
    **same_price(1.10, 4.40, "o3-mini", "o3-mini-2025-01-31"),
    **same_price(1.10, 4.40, "o4-mini", "o4-mini-2025-04-16"),
    **same_price(1.25, 10.00, "gpt-5", "gpt-5-2025-08-07", "gpt-5-chat-latest"),
    **same_price(0.25, 2.00, "gpt-5-mini", "gpt-5-mini-2025-08-07"),
    **same_price(0.05, 0.40, "gpt-5-nano", "gpt-5-nano-2025-08-07"),
}
"""What OpenAI's common models cost, by model name after ``openai/``."""


def call_openai(request: LlmRequest) -> LlmResult:
    """Send ``request`` to OpenAI's Chat Completions API.

    Args:
        request: The call; ``request.model`` is the name after ``openai/``.

    Returns:
        The answer text, token usage and the model snapshot that answered.

    Raises:
        KitaruUsageError: When the ``openai`` package is not installed.
        KitaruRuntimeError: When the answer holds no text.
        openai.OpenAIError: Provider errors (missing key, 401, 404 ...) as
            the SDK raises them.
    """
    openai = import_openai("openai", "openai")
    with openai.OpenAI() as client:
        return complete(client, request, backend="openai", token_limit="max_completion_tokens")


OPENAI_BACKEND = LlmBackendSpec(
    name="openai",
    prefixes=("openai/",),
    credential_env=("OPENAI_API_KEY",),
    extra="openai",
    call=call_openai,
    prices=OPENAI_PRICES,
    prices_as_of=OPENAI_PRICES_AS_OF,
    supports_tools=True,
    native_structured_output=True,
)
"""The record ``kitaru_llm_backends`` yields for ``openai/*`` models."""
