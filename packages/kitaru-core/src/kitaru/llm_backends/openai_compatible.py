"""What every backend speaking OpenAI's Chat Completions protocol shares.

OpenAI, OpenRouter, Ollama and Azure OpenAI all answer the same request
(``POST .../chat/completions`` with ``model`` and ``messages``, and optionally
``tools`` and a JSON-schema ``response_format``) with the same response
(``choices[0].message.content`` or ``.tool_calls``, plus ``usage``). They differ only in
how the official ``openai`` SDK client is built: which base URL, which key,
which header. So each backend module builds its client and hands it to
:func:`complete`, which sends the request and turns the answer into an
:class:`~kitaru.plugins.records.LlmResult`.

Nothing here imports the SDK at module level: :func:`import_openai` does it
inside a call, so ``import kitaru`` stays fast and a missing SDK becomes an
error that names the pip extra to install.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any, Literal

from kitaru.errors import KitaruRuntimeError, KitaruUsageError
from kitaru.plugins.records import LlmRequest, LlmResult, LlmToolCall, ModelPrice

TokenLimitParameter = Literal["max_tokens", "max_completion_tokens"]
"""How a provider spells the output token limit.

OpenAI deprecated ``max_tokens`` in favour of ``max_completion_tokens``, and
its reasoning models (o-series, gpt-5) reject ``max_tokens`` outright. Servers
that copy the protocol (Ollama, OpenRouter) document ``max_tokens``.
"""


def import_openai(backend: str, extra: str) -> ModuleType:
    """Import the ``openai`` SDK, or explain how to install it.

    Args:
        backend: The backend asking (``openrouter``), named in the error.
        extra: The pip extra that installs the SDK (``openai`` or ``azure``).

    Returns:
        The ``openai`` module.

    Raises:
        KitaruUsageError: When the SDK is not installed.
    """
    try:
        import openai
    except ImportError as error:
        raise KitaruUsageError(
            f"The '{backend}' LLM backend requires the openai package. "
            f"Install with: pip install kitaru[{extra}]"
        ) from error
    return openai


def chat_arguments(
    request: LlmRequest, *, token_limit: TokenLimitParameter = "max_completion_tokens"
) -> dict[str, Any]:
    """The keyword arguments for ``client.chat.completions.create``.

    ``temperature`` and the token limit are sent only when the request sets
    them, so the provider's defaults apply otherwise (and models that accept
    no ``temperature`` at all keep working).

    Args:
        request: The call Kitaru asked for.
        token_limit: How this provider spells the output token limit.

    Returns:
        ``model``, ``messages`` and, when set, ``temperature``, the limit,
        ``tools`` (function tools) and ``response_format`` (a JSON schema,
        not strict: strict mode would refuse optional fields).
    """
    arguments: dict[str, Any] = {
        "model": request.model,
        "messages": [chat_message(message) for message in request.messages],
    }
    if request.temperature is not None:
        arguments["temperature"] = request.temperature
    if request.max_tokens is not None:
        arguments[token_limit] = request.max_tokens
    if request.tools:
        arguments["tools"] = [
            {
                "type": "function",
                "function": {"name": tool.name, "description": tool.description, "parameters": dict(tool.parameters)},
            }
            for tool in request.tools
        ]
    if request.response_format is not None:
        arguments["response_format"] = {
            "type": "json_schema",
            "json_schema": {
                "name": request.response_format.name,
                "schema": dict(request.response_format.schema),
                "strict": False,
            },
        }
    return arguments


def chat_message(message: Mapping[str, Any]) -> dict[str, Any]:
    """One of Kitaru's messages (see :class:`~kitaru.plugins.records.LlmRequest`) as Chat Completions spells it.

    An assistant turn that asked for tools carries ``tool_calls`` of type
    ``function`` (its ``content`` null when empty); a tool result is a
    ``tool`` message answering its ``tool_call_id``.
    """
    role = message["role"]
    if role == "tool":
        return {"role": "tool", "tool_call_id": message["tool_call_id"], "content": message["content"]}
    if role == "assistant" and message.get("tool_calls"):
        return {
            "role": "assistant",
            "content": message.get("content") or None,
            "tool_calls": [
                {"id": call["id"], "type": "function", "function": {"name": call["name"], "arguments": call["arguments"]}}
                for call in message["tool_calls"]
            ],
        }
    return {"role": role, "content": message["content"]}


def complete(
    client: Any,
    request: LlmRequest,
    *,
    backend: str,
    token_limit: TokenLimitParameter = "max_completion_tokens",
) -> LlmResult:
    """Send ``request`` with an SDK client and return the parsed answer.

    Provider errors (``openai.AuthenticationError``, ``openai.NotFoundError``
    ...) propagate unchanged; Kitaru wraps them in ``KitaruBackendError``.

    Args:
        client: An ``openai.OpenAI`` or ``openai.AzureOpenAI`` client.
        request: The call Kitaru asked for.
        backend: The backend name, for error messages.
        token_limit: How this provider spells the output token limit.

    Returns:
        The text, token counts and the model the provider says answered.

    Raises:
        KitaruRuntimeError: When the answer holds no text.
    """
    completion = client.chat.completions.create(
        **chat_arguments(request, token_limit=token_limit)
    )
    return parse_completion(completion, backend=backend, model=request.model)


def parse_completion(completion: Any, *, backend: str, model: str) -> LlmResult:
    """Turn a ``ChatCompletion`` into an :class:`LlmResult`.

    Args:
        completion: What ``chat.completions.create`` returned.
        backend: The backend name, for error messages.
        model: The requested model, for error messages.

    Returns:
        The first choice's text, the usage counts (None when the provider
        sent none) and the reported model (None when absent).

    Raises:
        KitaruRuntimeError: When there is no choice or its text is empty,
            saying why when the provider told (token limit, content filter,
            refusal).
    """
    choices = getattr(completion, "choices", None) or []
    if not choices:
        raise KitaruRuntimeError(
            f"The '{backend}' backend got a response without choices for model "
            f"'{model}'; kitaru.llm() needs a text answer."
        )
    choice = choices[0]
    message = getattr(choice, "message", None)
    text = getattr(message, "content", None)
    tool_calls = tuple(
        LlmToolCall(id=call.id, name=call.function.name, arguments=call.function.arguments or "{}")
        for call in getattr(message, "tool_calls", None) or []
        if getattr(call, "type", "function") == "function"
    )
    if not tool_calls and (not isinstance(text, str) or not text.strip()):
        raise KitaruRuntimeError(_empty_answer_message(backend, model, choice, message))
    usage = getattr(completion, "usage", None)
    return LlmResult(
        text=text if isinstance(text, str) else "",
        tokens_input=_count(usage, "prompt_tokens"),
        tokens_output=_count(usage, "completion_tokens"),
        model=getattr(completion, "model", None) or None,
        tool_calls=tool_calls,
    )


def _count(usage: Any, name: str) -> int | None:
    value = getattr(usage, name, None) if usage is not None else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _empty_answer_message(backend: str, model: str, choice: Any, message: Any) -> str:
    reason = getattr(choice, "finish_reason", None)
    why = f" (finish_reason: {reason})" if reason else ""
    text = f"The '{backend}' backend returned no text for model '{model}'{why}."
    refusal = getattr(message, "refusal", None)
    if refusal:
        return f"{text} The model refused: {refusal}"
    if reason == "length":
        return (
            f"{text} The output token limit ran out before any text; raise max_tokens "
            "(reasoning models spend tokens thinking before they answer)."
        )
    if reason == "content_filter":
        return f"{text} The provider's content filter withheld the answer."
    return f"{text} kitaru.llm() needs a text answer; check the model and the prompt."


def same_price(
    input_per_million: float, output_per_million: float, *models: str
) -> dict[str, ModelPrice]:
    """Price table entries giving several model names one price.

    Handy for an alias and its dated snapshot (``gpt-4o`` and
    ``gpt-4o-2024-08-06``)::

        prices = {**same_price(2.50, 10.00, "gpt-4o", "gpt-4o-2024-08-06")}

    Args:
        input_per_million: US dollars per million prompt tokens.
        output_per_million: US dollars per million completion tokens.
        *models: The model names sharing this price.

    Returns:
        ``{model: ModelPrice}`` for each name.
    """
    price = ModelPrice(input_per_million=input_per_million, output_per_million=output_per_million)
    return dict.fromkeys(models, price)
