"""The ``llm_calls`` record of a model request Kitaru did not send itself (an agent framework's).

``kitaru.llm()`` builds its record as it calls the backend
(:mod:`kitaru._llm.call`). An adapter (:mod:`kitaru.adapters`) only sees what
the framework reports: the provider, the model and the token counts.
:func:`reported_call` turns those into the same record, priced from the same
tables (``kitaru.yaml``, then the installed backend of that provider), so
``kitaru executions get`` sums framework calls and ``kitaru.llm()`` calls alike.
"""

from __future__ import annotations

from typing import Any

from kitaru._llm.backends import backend_for
from kitaru._llm.pricing import cost_usd, price_for
from kitaru.errors import KitaruUsageError


def reported_call(
    *,
    provider: str | None,
    model: str | None,
    reported_model: str | None,
    tokens_input: int | None,
    tokens_output: int | None,
    latency_ms: float | None,
    credential_source: str,
) -> dict[str, Any]:
    """The ``llm_calls`` record of one model request, unknown values left out.

    Args:
        provider: The provider's name as Kitaru's backends name it (``openai``),
            if known.
        model: The model requested (``gpt-4o-mini``), if known.
        reported_model: The model the provider says answered.
        tokens_input: Prompt tokens the provider counted.
        tokens_output: Output tokens the provider counted.
        latency_ms: How long the request took.
        credential_source: Where the credentials came from (an adapter: the
            framework's own, ``framework``).

    Returns:
        The record, priced when a backend of that provider is installed and
        has the model in its table.
    """
    full_model = f"{provider}/{model}" if provider and model else model
    price = None
    if provider and model:
        try:
            backend, name = backend_for(f"{provider}/{model}")
        except KitaruUsageError:
            backend = None
        if backend is not None:
            price = price_for(backend, f"{provider}/{model}", name, reported_model)
    record: dict[str, Any] = {
        "resolved_model": full_model,
        "provider_model": reported_model,
        "credential_source": credential_source,
        "latency_ms": latency_ms,
        "tokens_input": tokens_input,
        "tokens_output": tokens_output,
        "total_tokens": (
            tokens_input + tokens_output if tokens_input is not None and tokens_output is not None else None
        ),
        "cost_usd": cost_usd(price, tokens_input, tokens_output),
        "price_source": price.source if price is not None else None,
    }
    return {key: value for key, value in record.items() if value is not None}
