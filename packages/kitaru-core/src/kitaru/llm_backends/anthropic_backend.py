"""The ``anthropic`` LLM backend: Claude through Anthropic's Messages API.

``kitaru.llm("anthropic/claude-haiku-4-5", ...)`` lands here with
``request.model == "claude-haiku-4-5"``. The call goes through the official
``anthropic`` SDK, created with no arguments so that it reads its own
environment:

* ``ANTHROPIC_API_KEY`` (sent as ``x-api-key``), or ``ANTHROPIC_AUTH_TOKEN``
  (sent as ``Authorization: Bearer``) for gateways that want a bearer token;
* ``ANTHROPIC_BASE_URL`` to talk to a proxy, a gateway or a test server
  instead of ``https://api.anthropic.com``.

How a Kitaru request maps onto the Messages API:

* System messages become the top-level ``system`` string (several are joined
  with a blank line). The API has no ``system`` role inside ``messages``, so
  a system message after a user or assistant turn is rejected.
* ``max_tokens`` is required by the API; Kitaru sends 4096 when the caller
  gave none (SPEC §6).
* ``temperature`` is sent only when given, so the model's default applies
  otherwise. anthropic 2.x's ``messages.create`` has no parameter for it any
  more, so it travels as an extra body field; a model that no longer accepts
  it answers with an error (reported by Kitaru) rather than being silently
  ignored.

Tools (``kitaru.llm(tools=[...])``) map onto Claude's tool use:

* Each :class:`~kitaru.plugins.records.LlmTool` is sent in ``tools`` as
  ``{"name", "description", "input_schema"}`` (the description only when the
  function has one).
* An assistant message that asked for tools becomes an assistant turn whose
  content is its text (when any) followed by one ``tool_use`` block per call,
  ``{"type": "tool_use", "id", "name", "input"}``, the arguments parsed back
  into the object Claude wrote.
* Tool messages become ``tool_result`` blocks ``{"type": "tool_result",
  "tool_use_id", "content"}`` in a ``user`` turn; the results of one round
  (consecutive tool messages) share that turn, as the API wants every result
  of an assistant turn in the very next user turn.
* In the answer, ``tool_use`` blocks become
  :class:`~kitaru.plugins.records.LlmToolCall` records (``input`` dumped back
  to JSON text). Such an answer (``stop_reason="tool_use"``) may hold no
  text, which is not an error.

Structured output (``response_format``) is not sent: the spec leaves
``native_structured_output`` off, so Kitaru asks for the JSON in a system
message and validates the text answer itself.

The module is cheap to import: the SDK is imported inside :func:`call_anthropic`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from kitaru.errors import KitaruRuntimeError, KitaruUsageError
from kitaru.plugins.records import (
    LlmBackendSpec,
    LlmRequest,
    LlmResult,
    LlmTool,
    LlmToolCall,
    ModelPrice,
)

DEFAULT_MAX_TOKENS = 4096
"""What Kitaru sends as ``max_tokens`` when the caller did not choose one."""

PRICES_AS_OF = "2026-11-26"
"""When :data:`ANTHROPIC_PRICES` was written.

The figures are Anthropic's published list prices for standard (non-batch,
uncached, up to 200K-token prompts) usage as known when the table was
written; the build machine had no internet access to re-read
https://www.anthropic.com/pricing that day. Users can override or extend them
in ``kitaru.yaml``.
"""


def _price(input_per_million: float, output_per_million: float) -> ModelPrice:
    return ModelPrice(input_per_million=input_per_million, output_per_million=output_per_million)


_CLAUDE_PRICES: dict[tuple[str, ...], ModelPrice] = {
    # Each group lists the alias and the dated snapshot the API answers with.
    ("claude-opus-4-5", "claude-opus-4-5-20251101"): _price(5.0, 25.0),
    ("claude-opus-4-1", "claude-opus-4-1-20250805"): _price(15.0, 75.0),
    ("claude-opus-4-0", "claude-opus-4-20250514"): _price(15.0, 75.0),
    ("claude-sonnet-4-5", "claude-sonnet-4-5-20250929"): _price(3.0, 15.0),
    ("claude-sonnet-4-0", "claude-sonnet-4-20250514"): _price(3.0, 15.0),
    ("claude-3-7-sonnet-latest", "claude-3-7-sonnet-20250219"): _price(3.0, 15.0),
    ("claude-haiku-4-5", "claude-haiku-4-5-20251001"): _price(1.0, 5.0),
    ("claude-3-5-haiku-latest", "claude-3-5-haiku-20241022"): _price(0.8, 4.0),
    ("claude-3-haiku-20240307",): _price(0.25, 1.25),
}

ANTHROPIC_PRICES: dict[str, ModelPrice] = {
    name: price for names, price in _CLAUDE_PRICES.items() for name in names
}
"""US dollars per million tokens, by model name after ``anthropic/``."""


def split_system(
    messages: Sequence[Mapping[str, Any]], *, provider: str
) -> tuple[str | None, list[Mapping[str, Any]]]:
    """Separate the leading system messages from the conversation.

    Args:
        messages: Kitaru's messages, in the forms
            :class:`~kitaru.plugins.records.LlmRequest` lists.
        provider: The API's name, for the error message.

    Returns:
        The system messages' contents joined by a blank line (None when there
        are none) and the remaining user, assistant and tool messages, in order.

    Raises:
        KitaruUsageError: A system message follows a user or assistant
            message (the API only takes instructions up front).
    """
    system_parts: list[str] = []
    conversation: list[Mapping[str, Any]] = []
    for message in messages:
        if message["role"] == "system":
            if conversation:
                raise KitaruUsageError(
                    f"{provider} takes system instructions only at the start of the "
                    "conversation, but a system message follows a "
                    f"{conversation[-1]['role']} message. Move every system message to the "
                    "front (or pass it with system=...)."
                )
            system_parts.append(message["content"])
        else:
            conversation.append(message)
    return ("\n\n".join(system_parts) if system_parts else None), conversation


def tool_call_arguments(call: Mapping[str, Any], *, provider: str) -> dict[str, Any]:
    """The arguments of a tool call in the conversation, as the object they spell.

    Kitaru keeps a call's arguments as JSON text (``LlmToolCall.arguments``);
    APIs that parse them (Anthropic's ``input``, Converse's ``input``) want
    the object back when the conversation is sent again.

    Args:
        call: One of an assistant message's ``tool_calls``: ``{"id", "name",
            "arguments"}``.
        provider: The API's name, for the error message.

    Returns:
        The parsed arguments.

    Raises:
        KitaruUsageError: The arguments are not the JSON text of an object.
    """
    try:
        arguments = json.loads(call["arguments"])
    except (TypeError, ValueError):
        arguments = None
    if not isinstance(arguments, dict):
        raise KitaruUsageError(
            f"{provider} needs each tool call's arguments as a JSON object, but the call of "
            f"{call['name']!r} (id {call['id']!r}) in the conversation has {call['arguments']!r}. "
            'Pass the arguments as JSON text such as \'{"query": "durable"}\'.'
        )
    return arguments


def anthropic_tools(tools: Sequence[LlmTool]) -> list[dict[str, Any]]:
    """The Messages API's ``tools``: ``{"name", "description", "input_schema"}`` each.

    The description is left out when the function has none (the API treats
    it as optional, and an empty one tells the model nothing).
    """
    described = []
    for tool in tools:
        entry: dict[str, Any] = {"name": tool.name}
        if tool.description:
            entry["description"] = tool.description
        entry["input_schema"] = dict(tool.parameters)
        described.append(entry)
    return described


def anthropic_messages(conversation: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Kitaru's user, assistant and tool messages as Messages API turns.

    Plain messages keep their string ``content``. An assistant message with
    ``tool_calls`` becomes text and ``tool_use`` blocks; each tool message
    becomes a ``tool_result`` block, and consecutive ones share one ``user``
    turn (the API expects all results of a round right after the assistant
    turn that asked for them).

    Args:
        conversation: The messages after :func:`split_system`.

    Returns:
        The ``messages`` argument of ``messages.create``.

    Raises:
        KitaruUsageError: A tool call's arguments are not a JSON object.
    """
    turns: list[dict[str, Any]] = []
    previous_role = None
    for message in conversation:
        role = message["role"]
        if role == "tool":
            block = {
                "type": "tool_result",
                "tool_use_id": message["tool_call_id"],
                "content": message["content"],
            }
            if previous_role == "tool":
                turns[-1]["content"].append(block)
            else:
                turns.append({"role": "user", "content": [block]})
        elif role == "assistant" and message.get("tool_calls"):
            turns.append({"role": "assistant", "content": _assistant_blocks(message)})
        else:
            turns.append({"role": role, "content": message["content"]})
        previous_role = role
    return turns


def _assistant_blocks(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    """An assistant turn that asked for tools: its text (if any), then a ``tool_use`` per call."""
    blocks: list[dict[str, Any]] = []
    if message.get("content"):  # the API refuses empty text blocks
        blocks.append({"type": "text", "text": message["content"]})
    for call in message["tool_calls"]:
        arguments = tool_call_arguments(call, provider="Anthropic's Messages API")
        blocks.append({"type": "tool_use", "id": call["id"], "name": call["name"], "input": arguments})
    return blocks


def _answer_tool_calls(message: Any) -> tuple[LlmToolCall, ...]:
    """The ``tool_use`` blocks of an answer, with their input as JSON text."""
    return tuple(
        LlmToolCall(id=block.id, name=block.name, arguments=json.dumps(block.input))
        for block in message.content
        if getattr(block, "type", None) == "tool_use"
    )


def _import_anthropic() -> Any:
    try:
        import anthropic
    except ImportError as error:
        raise KitaruUsageError(
            "The 'anthropic' LLM backend requires the anthropic package. "
            "Install with: pip install kitaru[anthropic]"
        ) from error
    return anthropic


def call_anthropic(request: LlmRequest) -> LlmResult:
    """Send one request through ``anthropic.Anthropic().messages.create``.

    Args:
        request: The model (after ``anthropic/``), messages, temperature,
            output limit and tools.

    Returns:
        The answer's text blocks joined together, its ``tool_use`` blocks as
        tool calls, the input and output token counts from ``usage``, and the
        model snapshot that answered.

    Raises:
        KitaruUsageError: The ``anthropic`` package is not installed, a
            system message is not at the start, or a tool call's arguments
            in the conversation are not a JSON object.
        KitaruRuntimeError: The answer holds neither text nor tool calls (for
            example it stopped at ``max_tokens`` before writing anything).
        anthropic.APIError: Whatever the API answered with; Kitaru reports it
            as a backend error.
    """
    anthropic = _import_anthropic()
    system, conversation = split_system(request.messages, provider="Anthropic's Messages API")
    arguments: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_tokens if request.max_tokens is not None else DEFAULT_MAX_TOKENS,
        "messages": anthropic_messages(conversation),
    }
    if system is not None:
        arguments["system"] = system
    if request.tools:
        arguments["tools"] = anthropic_tools(request.tools)
    if request.temperature is not None:
        # The SDK's create() no longer has a temperature parameter (anthropic 2.x
        # dropped sampling parameters), so an explicit request travels in the
        # body as before: models and gateways that take it apply it, and one
        # that does not answers with an error instead of Kitaru ignoring it.
        arguments["extra_body"] = {"temperature": request.temperature}

    with anthropic.Anthropic() as client:
        message = client.messages.create(**arguments)

    text = "".join(
        block.text for block in message.content if getattr(block, "type", None) == "text"
    )
    tool_calls = _answer_tool_calls(message)
    if not text and not tool_calls:
        raise KitaruRuntimeError(
            f"Anthropic model {request.model!r} returned no text "
            f"(stop_reason={message.stop_reason!r}). Raise max_tokens or rephrase the prompt."
        )
    usage = message.usage
    return LlmResult(
        text=text,
        tokens_input=usage.input_tokens if usage is not None else None,
        tokens_output=usage.output_tokens if usage is not None else None,
        model=message.model or None,
        tool_calls=tool_calls,
    )


ANTHROPIC_BACKEND = LlmBackendSpec(
    name="anthropic",
    prefixes=("anthropic/",),
    credential_env=("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"),
    extra="anthropic",
    call=call_anthropic,
    prices=ANTHROPIC_PRICES,
    prices_as_of=PRICES_AS_OF,
    supports_tools=True,
)
"""The ``anthropic`` backend record; yield it from ``kitaru_llm_backends``."""
