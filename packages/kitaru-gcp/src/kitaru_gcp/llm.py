"""The ``vertex`` LLM backend: Gemini on Vertex AI through Google's Gen AI SDK.

``kitaru.llm("vertex/gemini-2.5-flash", ...)`` lands here with
``request.model == "gemini-2.5-flash"``. The call is
``google.genai.Client(vertexai=True).models.generate_content(...)``; the SDK
resolves the rest the standard Google Cloud way:

* **Credentials**: Application Default Credentials (``GOOGLE_APPLICATION_CREDENTIALS``
  pointing at a key or login file, ``gcloud auth application-default login``,
  or the attached service account on GCE, GKE, Cloud Run and Vertex), sent as
  ``Authorization: Bearer <token>``. With no project configured, a Vertex
  express-mode ``GOOGLE_API_KEY`` works too.
* **Project and location**: ``GOOGLE_CLOUD_PROJECT`` (else the ADC's project)
  and ``GOOGLE_CLOUD_LOCATION`` (default ``global``).
* **Endpoint**: ``GOOGLE_VERTEX_BASE_URL``, the SDK's own override for a proxy,
  a Private Service Connect endpoint or a test server. Kitaru keeps the
  standard Vertex path below it (``/v1beta1/projects/P/locations/L/publishers/
  google/models/M:generateContent``) and still sends the ADC token, because
  it hands the project and location from the environment to the client
  explicitly. (Given only through the environment, the SDK would treat a
  custom base URL as an auth-less API gateway and post to the bare URL; that
  is still what happens when ``GOOGLE_CLOUD_PROJECT`` is unset, so set it
  together with a base URL.)

``credential_env`` is ``GOOGLE_APPLICATION_CREDENTIALS``: when it is set Kitaru
leaves the environment alone, otherwise it overlays the model alias's secret
(which may carry ``GOOGLE_APPLICATION_CREDENTIALS``, ``GOOGLE_CLOUD_PROJECT``,
``GOOGLE_CLOUD_LOCATION`` or ``GOOGLE_API_KEY``) for the call. gcloud logins
and attached service accounts need no secret.

How a Kitaru request maps onto ``generateContent``: system messages become
``systemInstruction``; user messages become ``user`` contents and assistant
messages ``model`` contents; ``temperature`` and ``max_tokens`` go into
``generationConfig`` as ``temperature`` and ``maxOutputTokens`` when given.
Usage comes from ``usageMetadata``: ``promptTokenCount`` in, and
``candidatesTokenCount`` plus ``thoughtsTokenCount`` out (Gemini 2.5 bills its
thinking tokens as output).

Tools (``kitaru.llm(tools=[...])``):

* ``request.tools`` go out as one ``tools`` entry of ``functionDeclarations``
  (``name``, ``description`` when there is one, and the arguments' JSON
  schema as ``parametersJsonSchema``, which takes JSON Schema as it is, where
  the older ``parameters`` field takes only Google's OpenAPI subset; the SDK
  writes it by its proto name, ``parameters_json_schema``, which Vertex reads
  alike).
* An assistant message with ``tool_calls`` becomes a ``model`` content with
  its text (if any) and one ``functionCall`` part per call, the JSON
  arguments parsed back into ``args``.
* A run of ``tool`` messages becomes one ``user`` content with a
  ``functionResponse`` part per result, in order (Gemini wants the answers to
  one turn's calls together). ``response`` must be an object: a result that
  is a JSON object goes as it is, anything else (a list, a number, plain
  text such as an error message) as ``{"result": value}``.
* The answer's ``functionCall`` parts become ``LlmResult.tool_calls``, their
  ``args`` dumped to JSON text; the text may then be empty. Vertex gives
  calls no id as a rule, so Kitaru names them ``call_0``, ``call_1`` ... in
  the answer's order, and leaves those made-up ids out of what it sends back:
  only an id Gemini gave travels on ``functionCall`` and ``functionResponse``.

Structured output (``kitaru.llm(response_format=Model)``): the request sets
``responseMimeType`` to ``application/json`` and ``responseJsonSchema`` to the
model's JSON schema in ``generationConfig``; Gemini's decoder then writes
JSON of that shape, and Kitaru validates it all the same.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

from kitaru.errors import KitaruRuntimeError, KitaruUsageError
from kitaru.llm_backends.anthropic_backend import split_system
from kitaru.plugins.records import (
    LlmBackendSpec,
    LlmRequest,
    LlmResult,
    LlmTool,
    LlmToolCall,
    ModelPrice,
)

PRICES_AS_OF = "2026-11-26"
"""When :data:`VERTEX_PRICES` was written.

The figures are Vertex AI's published standard (pay-as-you-go, text, prompts
up to 200K tokens) list prices as known when the table was written; the build
machine had no internet access to re-read
https://cloud.google.com/vertex-ai/generative-ai/pricing that day. Longer
prompts to the Pro models cost more; override or extend the table in
``kitaru.yaml``.
"""


def _price(input_per_million: float, output_per_million: float) -> ModelPrice:
    return ModelPrice(input_per_million=input_per_million, output_per_million=output_per_million)


_GEMINI_PRICES: dict[tuple[str, ...], ModelPrice] = {
    ("gemini-3-pro-preview",): _price(2.0, 12.0),
    ("gemini-2.5-pro",): _price(1.25, 10.0),
    ("gemini-2.5-flash",): _price(0.30, 2.50),
    ("gemini-2.5-flash-lite",): _price(0.10, 0.40),
    ("gemini-2.0-flash", "gemini-2.0-flash-001"): _price(0.15, 0.60),
    ("gemini-2.0-flash-lite", "gemini-2.0-flash-lite-001"): _price(0.075, 0.30),
}

VERTEX_PRICES: dict[str, ModelPrice] = {
    name: price for names, price in _GEMINI_PRICES.items() for name in names
}
"""US dollars per million tokens, by model name after ``vertex/``."""

_ROLES = {"user": "user", "assistant": "model"}
"""Kitaru's roles and Gemini's names for them (``tool`` results go in ``user`` contents)."""

MADE_UP_CALL_ID = re.compile(r"^call_\d+$")
"""The ids Kitaru gives calls Gemini left without one (``call_0``); never sent to Gemini."""


def _import_genai() -> tuple[Any, Any]:
    """``google.genai`` and its ``types`` module."""
    try:
        import google.genai as genai
        from google.genai import types
    except ImportError as error:
        raise KitaruUsageError(
            "The 'vertex' LLM backend requires the google-genai package. "
            "Install with: pip install kitaru[gcp]"
        ) from error
    return genai, types


def _client(genai: Any) -> Any:
    """A Vertex client configured from the environment (see the module docs)."""
    project = os.environ.get("GOOGLE_CLOUD_PROJECT") or None
    location = os.environ.get("GOOGLE_CLOUD_LOCATION") or ("global" if project else None)
    return genai.Client(vertexai=True, project=project, location=location)


def _contents(conversation: Sequence[Mapping[str, Any]], types: Any) -> list[Any]:
    """The non-system messages as Gemini contents, a run of tool results in one content."""
    contents: list[Any] = []
    previous_role = None
    for message in conversation:
        if message["role"] == "tool" and previous_role == "tool":
            contents[-1].parts.append(_function_response_part(message, types))
        else:
            contents.append(_content(message, types))
        previous_role = message["role"]
    return contents


def _content(message: Mapping[str, Any], types: Any) -> Any:
    """One message as a Gemini content: text, function calls, or a tool's result."""
    role = message["role"]
    if role == "tool":
        return types.Content(role="user", parts=[_function_response_part(message, types)])
    calls = message.get("tool_calls") or ()
    parts = [types.Part(text=message["content"])] if message["content"] or not calls else []
    parts.extend(_function_call_part(call, types) for call in calls)
    return types.Content(role=_ROLES.get(role, role), parts=parts)


def _provider_id(call_id: str) -> str | None:
    """The call id to send back to Gemini: its own, or None for one Kitaru made up."""
    return None if MADE_UP_CALL_ID.match(call_id) else call_id


def _function_call_part(call: Mapping[str, Any], types: Any) -> Any:
    """An assistant's tool call ``{"id", "name", "arguments"}`` as a ``functionCall`` part.

    Raises:
        KitaruUsageError: The arguments are not a JSON object.
    """
    try:
        arguments = json.loads(call["arguments"] or "{}")
    except json.JSONDecodeError:
        arguments = None
    if not isinstance(arguments, dict):
        raise KitaruUsageError(
            f"The assistant message's call of tool {call['name']!r} has arguments that are not a "
            f"JSON object ({call['arguments']!r}); Gemini takes only objects. Pass the arguments "
            "as JSON object text."
        )
    function_call = types.FunctionCall(id=_provider_id(call["id"]), name=call["name"], args=arguments)
    return types.Part(function_call=function_call)


def _function_response_part(message: Mapping[str, Any], types: Any) -> Any:
    """A ``tool`` message as a ``functionResponse`` part (see :func:`_response_object`)."""
    function_response = types.FunctionResponse(
        id=_provider_id(message["tool_call_id"]),
        name=message["name"],
        response=_response_object(message["content"]),
    )
    return types.Part(function_response=function_response)


def _response_object(content: str) -> dict[str, Any]:
    """A tool's result as the object Gemini requires.

    A JSON object goes as it is; other JSON (``[1, 2]``, ``42``) and text that
    is not JSON (``Error: ...``) are wrapped as ``{"result": value}``.
    """
    try:
        value: Any = json.loads(content)
    except json.JSONDecodeError:
        value = content
    return value if isinstance(value, dict) else {"result": value}


def _tool_declarations(tools: Sequence[LlmTool], types: Any) -> list[Any] | None:
    """``request.tools`` as one Gemini tool of function declarations, or None without tools."""
    if not tools:
        return None
    declarations = [
        types.FunctionDeclaration(
            name=tool.name,
            description=tool.description or None,
            parameters_json_schema=dict(tool.parameters),
        )
        for tool in tools
    ]
    return [types.Tool(function_declarations=declarations)]


def _generation_config(request: LlmRequest, system: str | None, types: Any) -> Any:
    """The ``GenerateContentConfig`` for ``request``, or None when nothing is set."""
    response_format = request.response_format
    options = {
        "system_instruction": system,
        "temperature": request.temperature,
        "max_output_tokens": request.max_tokens,
        "tools": _tool_declarations(request.tools, types),
        "response_mime_type": "application/json" if response_format is not None else None,
        "response_json_schema": dict(response_format.schema) if response_format is not None else None,
    }
    chosen = {key: value for key, value in options.items() if value is not None}
    return types.GenerateContentConfig(**chosen) if chosen else None


def _answer_parts(response: Any) -> list[Any]:
    """The first candidate's parts (none when there is no candidate or content)."""
    candidates = response.candidates or []
    if not candidates or candidates[0].content is None:
        return []
    return list(candidates[0].content.parts or [])


def _answer_text(parts: Sequence[Any]) -> str:
    """The text parts, without thought summaries."""
    return "".join(part.text for part in parts if isinstance(part.text, str) and not part.thought)


def _tool_calls(parts: Sequence[Any]) -> tuple[LlmToolCall, ...]:
    """The ``functionCall`` parts, in order, with ``call_<index>`` for a call without id."""
    calls = [part.function_call for part in parts if part.function_call is not None]
    return tuple(
        LlmToolCall(
            id=call.id or f"call_{index}",
            name=call.name or "",
            arguments=json.dumps(call.args or {}, ensure_ascii=False),
        )
        for index, call in enumerate(calls)
    )


def _why_empty(response: Any) -> str:
    """Why a response has no text, in Gemini's words (``finish_reason=MAX_TOKENS``)."""
    feedback = getattr(response, "prompt_feedback", None)
    if feedback is not None and feedback.block_reason is not None:
        reason = feedback.block_reason
        return f"the prompt was blocked: {getattr(reason, 'value', reason)}"
    candidates = response.candidates or []
    if candidates and candidates[0].finish_reason is not None:
        reason = candidates[0].finish_reason
        return f"finish_reason={getattr(reason, 'value', reason)}"
    return "no candidates"


def call_vertex(request: LlmRequest) -> LlmResult:
    """Send one request through ``google.genai`` ``models.generate_content`` on Vertex AI.

    Args:
        request: The Gemini model (after ``vertex/``), messages (tool calls
            and results included), temperature, output limit, tools and
            response format.

    Returns:
        The first candidate's text and function calls, prompt and output
        (answer plus thinking) token counts, and the ``modelVersion`` that
        answered.

    Raises:
        KitaruUsageError: google-genai is missing, a system message is not
            at the start, or an assistant's tool call has arguments that are
            not a JSON object.
        KitaruRuntimeError: The answer holds no text and no function call
            (blocked by safety filters, or stopped before writing anything).
        google.genai.errors.APIError: Whatever Vertex answered with; Kitaru
            reports it as a backend error. Missing credentials surface as
            google-auth's ``DefaultCredentialsError``.
    """
    genai, types = _import_genai()

    system, conversation = split_system(request.messages, provider="Gemini")
    contents = _contents(conversation, types)
    config = _generation_config(request, system, types)

    with _client(genai) as client:
        response = client.models.generate_content(
            model=request.model, contents=contents, config=config
        )

    parts = _answer_parts(response)
    text = _answer_text(parts)
    tool_calls = _tool_calls(parts)
    if not text and not tool_calls:
        raise KitaruRuntimeError(
            f"Gemini model {request.model!r} returned no text ({_why_empty(response)}). "
            "Raise max_tokens or rephrase the prompt."
        )
    usage = response.usage_metadata
    tokens_input = usage.prompt_token_count if usage is not None else None
    tokens_output = None
    answered = usage is not None and usage.candidates_token_count is not None
    if usage is not None and (answered or usage.thoughts_token_count):
        tokens_output = (usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)
    return LlmResult(
        text=text,
        tokens_input=tokens_input,
        tokens_output=tokens_output,
        model=response.model_version or None,
        tool_calls=tool_calls,
    )


VERTEX_BACKEND = LlmBackendSpec(
    name="vertex",
    prefixes=("vertex/",),
    credential_env=("GOOGLE_APPLICATION_CREDENTIALS",),
    # Roles, profiles and default credentials need no secret: the SDK finds them.
    ambient_credentials=True,
    supports_tools=True,
    native_structured_output=True,
    extra="gcp",
    call=call_vertex,
    prices=VERTEX_PRICES,
    prices_as_of=PRICES_AS_OF,
)
"""The ``vertex`` backend record; yield it from the GCP plugin's ``kitaru_llm_backends``."""
