"""Records of the ``kitaru_llm_backends()`` hook: :class:`LlmBackendSpec`, its request and result, and tools."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from kitaru.plugins.records.source import PluginSource
from kitaru.plugins.records.validation import (
    ENV_PATTERN,
    PREFIX_PATTERN,
    PluginRecordError,
    as_tuple,
    check_callable,
    check_name,
    check_pattern,
    check_type,
    set_frozen,
    where,
)


@dataclass(frozen=True)
class LlmTool:
    """A function the model may ask Kitaru to call (``kitaru.llm(tools=[...])``).

    Attributes:
        name: The function's name, as the model calls it (``search_web``).
        description: What it does, from its docstring (may be empty).
        parameters: A JSON schema of type ``object`` for its arguments, from
            its signature (pydantic), with each argument's description from
            the docstring's ``Args:`` section.
    """

    name: str
    description: str
    parameters: Mapping[str, Any]

    def __post_init__(self) -> None:
        check_type(self, self.name, "name", str)
        check_type(self, self.description, "description", str)
        check_type(self, self.parameters, "parameters", Mapping)


@dataclass(frozen=True)
class LlmToolCall:
    """A tool call the model asked for, in its answer.

    Attributes:
        id: The provider's id for the call, echoed in the ``tool`` message
            that answers it (backends whose provider has none make one up).
        name: The tool's name.
        arguments: The arguments as JSON text, exactly as the model wrote
            them (providers that parse them into an object have them dumped
            back): Kitaru parses and validates them, and tells the model when
            they are not valid.
    """

    id: str
    name: str
    arguments: str

    def __post_init__(self) -> None:
        for attribute in ("id", "name", "arguments"):
            check_type(self, getattr(self, attribute), attribute, str)


@dataclass(frozen=True)
class LlmResponseFormat:
    """The shape the final answer must have (``kitaru.llm(response_format=Model)``).

    Attributes:
        name: The pydantic model's name (``Report``), for providers that name
            a schema.
        schema: Its JSON schema.
    """

    name: str
    schema: Mapping[str, Any]


@dataclass(frozen=True)
class LlmRequest:
    """One model call, as Kitaru hands it to a backend's ``call``.

    Messages come in four forms; system messages come first:

    * ``{"role": "system" | "user", "content": str}``;
    * ``{"role": "assistant", "content": str}``, with, when the model asked
      for tools in that turn, ``"tool_calls": [{"id", "name", "arguments"}]``
      (``arguments`` as JSON text; ``content`` may then be ``""``);
    * ``{"role": "tool", "tool_call_id": str, "name": str, "content": str}``:
      a tool's result (JSON text) answering the assistant's call of that id.

    Attributes:
        model: The model name after the backend's prefix (``gpt-4o-mini`` for
            ``openai/gpt-4o-mini``; ``anthropic/claude-3-5-haiku`` for
            ``openrouter/anthropic/claude-3-5-haiku``).
        messages: The conversation, in the forms above.
        temperature: Sampling temperature, or None for the provider default.
        max_tokens: Output token limit, or None for the provider default.
        tools: Tools the model may call. Only sent to backends whose spec
            says ``supports_tools``; empty for a plain call.
        response_format: The schema the answer must follow, or None. Only
            sent to backends whose spec says ``native_structured_output``;
            for others Kitaru asks for the JSON in a system message instead.
    """

    model: str
    messages: tuple[Mapping[str, Any], ...]
    temperature: float | None = None
    max_tokens: int | None = None
    tools: tuple[LlmTool, ...] = ()
    response_format: LlmResponseFormat | None = None


@dataclass(frozen=True)
class LlmResult:
    """What a backend's ``call`` returns.

    Attributes:
        text: The model's text answer: non-empty, unless the model asked for
            tools instead (``tool_calls``).
        tokens_input: Prompt tokens the provider counted, if it said.
        tokens_output: Completion tokens the provider counted, if it said.
        model: The model the provider says answered (``gpt-4o-mini-2024-07-18``),
            if it said.
        tool_calls: The tool calls the model asked for, in its order.
    """

    text: str
    tokens_input: int | None = None
    tokens_output: int | None = None
    model: str | None = None
    tool_calls: tuple[LlmToolCall, ...] = ()


@dataclass(frozen=True)
class ModelPrice:
    """What a model costs, in US dollars per million tokens.

    Attributes:
        input_per_million: Price of a million prompt tokens.
        output_per_million: Price of a million completion tokens.
    """

    input_per_million: float
    output_per_million: float

    def __post_init__(self) -> None:
        for attribute in ("input_per_million", "output_per_million"):
            value = getattr(self, attribute)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise PluginRecordError(f"ModelPrice: {attribute} must be a number >= 0; got {value!r}.")


@dataclass(frozen=True)
class LlmBackendSpec:
    """An LLM provider that ``kitaru.llm()`` can call.

    Attributes:
        name: Backend name (``openai``).
        prefixes: Model prefixes it serves (``openai/``).
        credential_env: Environment variables that hold its credentials
            (``OPENAI_API_KEY``); empty when it needs none (Ollama). Kitaru
            uses the environment when any of them is set, else overlays the
            model alias's secret (which must hold the first) for the call.
        extra: The pip extra that installs its SDK (``openai`` for
            ``kitaru[openai]``), named in the error when the SDK is missing.
        call: Required. Sends an :class:`LlmRequest` with the provider's
            official SDK (imported inside the call, honouring the SDK's
            standard environment such as ``OPENAI_BASE_URL``) and returns an
            :class:`LlmResult`. Raises :class:`~kitaru.errors.KitaruUsageError`
            naming the extra when the SDK is missing; provider errors propagate.
        prices: Price per model name (after the prefix), for cost tracking.
            Models not listed have an unknown cost, shown as unknown.
        prices_as_of: The date (``2026-11-01``) the prices were read.
        default_price: The price of models missing from ``prices``; Ollama
            sets ``ModelPrice(0, 0)`` since local models cost nothing per
            token whatever their name. None: such models have an unknown cost.
        ambient_credentials: The SDK finds credentials on its own when none
            of ``credential_env`` is set and no secret is linked (AWS roles
            and profiles, Google application default credentials); Kitaru
            then lets it try (``credential_source="default chain"``).
        supports_tools: ``call`` sends ``LlmRequest.tools`` and the tool
            messages to the provider, and returns the model's tool calls.
            ``kitaru.llm(tools=...)`` refuses a backend without it, by name.
        native_structured_output: ``call`` sends ``LlmRequest.response_format``
            with the provider's own structured-output option. Without it,
            Kitaru asks for the JSON in a system message and validates the
            answer all the same.
        source: Filled in by the plugin manager.
    """

    name: str
    prefixes: tuple[str, ...]
    credential_env: tuple[str, ...] = ()
    extra: str | None = None
    call: Callable[[LlmRequest], LlmResult] | None = None
    prices: Mapping[str, ModelPrice] = field(default_factory=lambda: MappingProxyType({}), compare=False)
    prices_as_of: str = ""
    default_price: ModelPrice | None = None
    ambient_credentials: bool = False
    supports_tools: bool = False
    native_structured_output: bool = False
    source: PluginSource | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        check_name(self, self.name, "LLM backend name")
        prefixes = as_tuple(self, self.prefixes, "prefixes", str)
        if not prefixes:
            raise PluginRecordError(f"{where(self)}: prefixes is empty; give the model prefix it serves ('openai/').")
        for prefix in prefixes:
            check_pattern(self, prefix, PREFIX_PATTERN, "model prefix", "openai/")
        set_frozen(self, "prefixes", prefixes)
        variables = as_tuple(self, self.credential_env, "credential_env", str)
        for variable in variables:
            check_pattern(self, variable, ENV_PATTERN, "environment variable", "OPENAI_API_KEY")
        set_frozen(self, "credential_env", variables)
        if self.extra is not None:
            check_name(self, self.extra, "extra")
        check_callable(self, self.call, "call", "a function taking an LlmRequest and returning an LlmResult",
                       required=True)
        check_type(self, self.prices, "prices", Mapping)
        for model, price in self.prices.items():
            check_type(self, price, f"prices[{model!r}]", ModelPrice)
        if not isinstance(self.prices, MappingProxyType):  # plugins may pass a plain dict
            set_frozen(self, "prices", MappingProxyType(dict(self.prices)))
        check_type(self, self.default_price, "default_price", (ModelPrice, type(None)))
        check_type(self, self.ambient_credentials, "ambient_credentials", bool)
        check_type(self, self.supports_tools, "supports_tools", bool)
        check_type(self, self.native_structured_output, "native_structured_output", bool)


__all__ = [
    "LlmBackendSpec",
    "LlmRequest",
    "LlmResponseFormat",
    "LlmResult",
    "LlmTool",
    "LlmToolCall",
    "ModelPrice",
]
