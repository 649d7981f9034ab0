"""An execution's LLM usage: calls, tokens and cost, summed from the journal.

Every ``kitaru.llm()`` call leaves an ``llm_calls`` entry in the metadata of
the checkpoint attempt it ran in. Summing over every attempt of every
checkpoint counts what was paid for, failed attempts included. A call whose
cost is unknown (no price, or no token counts) makes the total a lower bound:
``cost_usd`` then covers the known calls and ``calls_with_unknown_cost`` says
how many are missing, so an unknown price is never shown as zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def _entries(metadata: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    calls = metadata.get("llm_calls")
    if not isinstance(calls, Mapping):
        return []
    return [entry for entry in calls.values() if isinstance(entry, Mapping)]


def summarize(checkpoints: Iterable[Any]) -> dict[str, Any] | None:
    """Sum the ``llm_calls`` metadata of every attempt of ``checkpoints``.

    Args:
        checkpoints: ``CheckpointCall`` objects (with ``attempts`` and ``metadata``).

    Returns:
        ``{calls, tokens_input, tokens_output, total_tokens, cost_usd,
        calls_with_unknown_cost, calls_with_usage, currency}``, or None when
        no call was made.
        Token totals cover the calls that reported usage; ``cost_usd`` is None
        when no call has a known cost.
    """
    calls = reported = 0
    tokens_input = tokens_output = 0
    cost = 0.0
    known = unknown = 0
    for call in checkpoints:
        sources = [attempt.metadata for attempt in (call.attempts or [])] or [call.metadata]
        for metadata in sources:
            for entry in _entries(metadata or {}):
                calls += 1
                reported += entry.get("tokens_input") is not None
                tokens_input += int(entry.get("tokens_input") or 0)
                tokens_output += int(entry.get("tokens_output") or 0)
                if entry.get("cost_usd") is None:
                    unknown += 1
                else:
                    known += 1
                    cost += float(entry["cost_usd"])
    if calls == 0:
        return None
    return {
        "calls": calls,
        "tokens_input": tokens_input,
        "tokens_output": tokens_output,
        "total_tokens": tokens_input + tokens_output,
        "cost_usd": round(cost, 10) if known else None,
        "calls_with_unknown_cost": unknown,
        "calls_with_usage": reported,
        "currency": "USD",
    }


def describe_cost(usage: Mapping[str, Any]) -> str:
    """``$0.000123``, ``≥ $0.000123 (1 call with unknown price)`` or ``unknown``."""
    cost = usage.get("cost_usd")
    unknown = int(usage.get("calls_with_unknown_cost") or 0)
    if cost is None:
        return (
            "unknown (no price or no token counts for these calls; prices go under "
            "llm_prices in kitaru.yaml)"
        )
    text = f"${cost:.6f}"
    if unknown:
        plural = "s" if unknown != 1 else ""
        return f"≥ {text} ({unknown} call{plural} with unknown price)"
    return text
