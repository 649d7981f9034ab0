"""Tool calling of the anthropic and bedrock backends, on the wire.

The installed backends (as the plugin manager finds them) run their official
SDKs (``anthropic``, boto3's ``bedrock-runtime``) against a local
:class:`RecordingServer` speaking the provider's protocol
(``anthropic_protocol.py``, ``bedrock_protocol.py``). The tests assert the
exact JSON the SDK sent (the tool definitions, the ``tool_use`` /
``tool_result`` or ``toolUse`` / ``toolResult`` blocks and their ids) and the
tool calls the backend read from answers that ask for tools. The responders
refuse a tool conversation the real APIs would refuse (a tool use without its
result in the next user turn, tool blocks without tool definitions), so a
request that reaches an answer is one the provider would take.

The isolation (no cloud settings, loopback only) and the server fixtures are
those of ``test_anthropic_bedrock_gemini.py``, imported from it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kitaru.errors import KitaruUsageError
from kitaru.plugins import get_plugin_manager
from kitaru.plugins.records import LlmBackendSpec, LlmRequest, LlmResult, LlmTool, LlmToolCall
from tests.llm import anthropic_protocol, bedrock_protocol
from tests.llm.anthropic_protocol import anthropic_responder
from tests.llm.bedrock_protocol import bedrock_responder
from tests.llm.recording_server import RecordingServer, Responder
from tests.llm.test_anthropic_bedrock_gemini import (  # noqa: F401  (the fixtures, shared by import)
    anthropic_env,
    aws_env,
    isolated_environment,
    loopback_only,
    serve,
    server,
)

Serve = Callable[[Responder], RecordingServer]
"""Gives the recording server a responder and forgets earlier requests (the ``serve`` fixture)."""

CLAUDE = "claude-haiku-4-5"
NOVA = "amazon.nova-pro-v1:0"

WEATHER_SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "description": "The city's name."},
        "unit": {"anyOf": [{"enum": ["C", "F"], "type": "string"}, {"type": "null"}], "default": None},
    },
    "required": ["city"],
}
WEATHER = LlmTool(name="get_weather", description="The weather in a city now.", parameters=WEATHER_SCHEMA)
CITIES = LlmTool(name="list_cities", description="", parameters={"type": "object", "properties": {}})
SYSTEM = {"role": "system", "content": "You are terse."}
QUESTION = {"role": "user", "content": "How warm is it in Paris?"}


def backend(name: str) -> LlmBackendSpec:
    """A backend as Kitaru finds it installed."""
    return get_plugin_manager().llm_backends()[name]


@pytest.fixture
def claude(request: pytest.FixtureRequest) -> Serve:
    """The shared ``serve`` fixture, with ``ANTHROPIC_BASE_URL`` and a key pointing at it."""
    request.getfixturevalue("anthropic_env")
    serve_fixture: Serve = request.getfixturevalue("serve")
    return serve_fixture


@pytest.fixture
def converse(request: pytest.FixtureRequest) -> Serve:
    """The shared ``serve`` fixture, with AWS credentials, region and endpoint pointing at it."""
    request.getfixturevalue("aws_env")
    serve_fixture: Serve = request.getfixturevalue("serve")
    return serve_fixture


def tool_round(result: LlmResult, outputs: list[str]) -> list[dict[str, Any]]:
    """The messages Kitaru adds after an answer asking for tools: the calls, then each output."""
    calls = [{"id": call.id, "name": call.name, "arguments": call.arguments} for call in result.tool_calls]
    return [
        {"role": "assistant", "content": result.text, "tool_calls": calls},
        *(
            {"role": "tool", "tool_call_id": call.id, "name": call.name, "content": output}
            for call, output in zip(result.tool_calls, outputs, strict=True)
        ),
    ]


@pytest.mark.parametrize("name", ["anthropic", "bedrock"])
def test_the_specs_say_they_call_tools_but_ask_for_json_in_the_prompt(name: str) -> None:
    spec = backend(name)

    assert (spec.supports_tools, spec.native_structured_output) == (True, False)


# --- anthropic -------------------------------------------------------------------------------


def test_anthropic_sends_tools_and_reads_tool_use_blocks(claude: Serve) -> None:
    recording = claude(
        anthropic_responder(
            "Let me look.",
            model="claude-haiku-4-5-20251001",
            input_tokens=310,
            output_tokens=48,
            tool_uses=[
                anthropic_protocol.ToolUse("toolu_01Weather", "get_weather", {"city": "Paris", "unit": "C"}),
                anthropic_protocol.ToolUse("toolu_02Cities", "list_cities", {}),
            ],
        )
    )

    result = backend("anthropic").call(LlmRequest(model=CLAUDE, messages=(SYSTEM, QUESTION), tools=(WEATHER, CITIES)))

    assert result == LlmResult(
        text="Let me look.",
        tokens_input=310,
        tokens_output=48,
        model="claude-haiku-4-5-20251001",
        tool_calls=(
            LlmToolCall(id="toolu_01Weather", name="get_weather", arguments='{"city": "Paris", "unit": "C"}'),
            LlmToolCall(id="toolu_02Cities", name="list_cities", arguments="{}"),
        ),
    )
    [sent] = recording.requests
    assert sent.json == {
        "model": CLAUDE,
        "max_tokens": 4096,
        "system": "You are terse.",
        "messages": [{"role": "user", "content": "How warm is it in Paris?"}],
        "tools": [
            {"name": "get_weather", "description": "The weather in a city now.", "input_schema": WEATHER_SCHEMA},
            # No description: the API takes none rather than an empty one.
            {"name": "list_cities", "input_schema": {"type": "object", "properties": {}}},
        ],
    }


def test_anthropic_an_answer_of_tool_uses_alone_has_empty_text(claude: Serve) -> None:
    claude(anthropic_responder(None, tool_uses=[anthropic_protocol.ToolUse("toolu_01", "list_cities", {})]))

    result = backend("anthropic").call(LlmRequest(model=CLAUDE, messages=(QUESTION,), tools=(CITIES,)))

    # stop_reason "tool_use" with no text block is an answer, not an empty one.
    assert (result.text, result.tool_calls) == ("", (LlmToolCall("toolu_01", "list_cities", "{}"),))


def test_anthropic_a_tool_round_goes_back_as_tool_use_and_tool_result_blocks(claude: Serve) -> None:
    asking = anthropic_responder(
        None,
        tool_uses=[
            anthropic_protocol.ToolUse("toolu_01Paris", "get_weather", {"city": "Paris"}),
            anthropic_protocol.ToolUse("toolu_02Lyon", "get_weather", {"city": "Lyon", "unit": "C"}),
        ],
    )
    claude(asking)
    first = backend("anthropic").call(LlmRequest(model=CLAUDE, messages=(SYSTEM, QUESTION), tools=(WEATHER,)))
    conversation = (
        SYSTEM,
        QUESTION,
        *tool_round(first, ['{"temp_c": 21}', '{"temp_c": 19}']),
        {"role": "user", "content": "And in Fahrenheit?"},
    )
    recording = claude(anthropic_responder("Paris 70F, Lyon 66F."))

    answer = backend("anthropic").call(LlmRequest(model=CLAUDE, messages=conversation, tools=(WEATHER,)))

    assert (answer.text, answer.tool_calls) == ("Paris 70F, Lyon 66F.", ())
    [sent] = recording.requests
    assert sent.json["messages"] == [
        {"role": "user", "content": "How warm is it in Paris?"},
        # The turn had no text: only its tool_use blocks, their input an object again.
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "toolu_01Paris", "name": "get_weather", "input": {"city": "Paris"}},
                {
                    "type": "tool_use",
                    "id": "toolu_02Lyon",
                    "name": "get_weather",
                    "input": {"city": "Lyon", "unit": "C"},
                },
            ],
        },
        # Both results in the one user turn right after, answering the calls by id.
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01Paris", "content": '{"temp_c": 21}'},
                {"type": "tool_result", "tool_use_id": "toolu_02Lyon", "content": '{"temp_c": 19}'},
            ],
        },
        {"role": "user", "content": "And in Fahrenheit?"},
    ]
    assert [tool["name"] for tool in sent.json["tools"]] == ["get_weather"]


def test_anthropic_an_assistant_turn_with_text_keeps_it_before_its_calls(claude: Serve) -> None:
    recording = claude(anthropic_responder("21C."))
    conversation = (
        QUESTION,
        {
            "role": "assistant",
            "content": "Let me look.",
            "tool_calls": [{"id": "toolu_01", "name": "get_weather", "arguments": '{"city": "Paris"}'}],
        },
        {"role": "tool", "tool_call_id": "toolu_01", "name": "get_weather", "content": "sunny, 21C"},
    )

    backend("anthropic").call(LlmRequest(model=CLAUDE, messages=conversation, tools=(WEATHER,)))

    assert recording.requests[0].json["messages"][1:] == [
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me look."},
                {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}},
            ],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "content": "sunny, 21C"}]},
    ]


# --- bedrock ---------------------------------------------------------------------------------


def test_bedrock_sends_a_tool_config_and_reads_tool_use_blocks(converse: Serve) -> None:
    recording = converse(
        bedrock_responder(
            "Let me look.",
            input_tokens=420,
            output_tokens=51,
            tool_uses=[
                bedrock_protocol.ToolUse("tooluse_Weather1", "get_weather", {"city": "Paris", "unit": "C"}),
                bedrock_protocol.ToolUse("tooluse_Cities2", "list_cities", {}),
            ],
        )
    )

    result = backend("bedrock").call(
        LlmRequest(model=NOVA, messages=(SYSTEM, QUESTION), tools=(WEATHER, CITIES), max_tokens=500)
    )

    assert result == LlmResult(
        text="Let me look.",
        tokens_input=420,
        tokens_output=51,
        model=NOVA,
        tool_calls=(
            LlmToolCall(id="tooluse_Weather1", name="get_weather", arguments='{"city": "Paris", "unit": "C"}'),
            LlmToolCall(id="tooluse_Cities2", name="list_cities", arguments="{}"),
        ),
    )
    [sent] = recording.requests
    assert sent.path == "/model/amazon.nova-pro-v1%3A0/converse"
    assert sent.json == {
        "system": [{"text": "You are terse."}],
        "messages": [{"role": "user", "content": [{"text": "How warm is it in Paris?"}]}],
        "inferenceConfig": {"maxTokens": 500},
        "toolConfig": {
            "tools": [
                {
                    "toolSpec": {
                        "name": "get_weather",
                        "description": "The weather in a city now.",
                        "inputSchema": {"json": WEATHER_SCHEMA},
                    }
                },
                # No description: Converse refuses an empty one.
                {"toolSpec": {"name": "list_cities", "inputSchema": {"json": {"type": "object", "properties": {}}}}},
            ]
        },
    }


def test_bedrock_an_answer_of_tool_uses_alone_has_empty_text(converse: Serve) -> None:
    converse(bedrock_responder(None, tool_uses=[bedrock_protocol.ToolUse("tooluse_1", "list_cities", {})]))

    result = backend("bedrock").call(LlmRequest(model=NOVA, messages=(QUESTION,), tools=(CITIES,)))

    # stopReason "tool_use" with no text block is an answer, not an empty one.
    assert (result.text, result.tool_calls) == ("", (LlmToolCall("tooluse_1", "list_cities", "{}"),))


def test_bedrock_a_tool_round_goes_back_as_tool_use_and_tool_result_blocks(converse: Serve) -> None:
    converse(
        bedrock_responder(
            "Checking both.",
            tool_uses=[
                bedrock_protocol.ToolUse("tooluse_Paris", "get_weather", {"city": "Paris"}),
                bedrock_protocol.ToolUse("tooluse_Lyon", "get_weather", {"city": "Lyon", "unit": "C"}),
            ],
        )
    )
    first = backend("bedrock").call(LlmRequest(model=NOVA, messages=(QUESTION,), tools=(WEATHER,)))
    conversation = (QUESTION, *tool_round(first, ['{"temp_c": 21}', "Lyon is not on the map."]))
    recording = converse(bedrock_responder("Paris is at 21C."))

    answer = backend("bedrock").call(LlmRequest(model=NOVA, messages=conversation, tools=(WEATHER,)))

    assert (answer.text, answer.tool_calls) == ("Paris is at 21C.", ())
    [sent] = recording.requests
    assert sent.json["messages"] == [
        {"role": "user", "content": [{"text": "How warm is it in Paris?"}]},
        {
            "role": "assistant",
            "content": [
                {"text": "Checking both."},
                {"toolUse": {"toolUseId": "tooluse_Paris", "name": "get_weather", "input": {"city": "Paris"}}},
                {
                    "toolUse": {
                        "toolUseId": "tooluse_Lyon",
                        "name": "get_weather",
                        "input": {"city": "Lyon", "unit": "C"},
                    }
                },
            ],
        },
        # Both results in the one user turn right after, as text, answering the calls by id.
        {
            "role": "user",
            "content": [
                {"toolResult": {"toolUseId": "tooluse_Paris", "content": [{"text": '{"temp_c": 21}'}]}},
                {"toolResult": {"toolUseId": "tooluse_Lyon", "content": [{"text": "Lyon is not on the map."}]}},
            ],
        },
    ]
    assert sent.json["toolConfig"]["tools"][0]["toolSpec"]["name"] == "get_weather"


def test_bedrock_an_assistant_turn_without_text_sends_only_its_calls(converse: Serve) -> None:
    recording = converse(bedrock_responder("Sunny."))
    conversation = (
        QUESTION,
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"id": "tooluse_1", "name": "get_weather", "arguments": '{"city": "Paris"}'}],
        },
        {"role": "tool", "tool_call_id": "tooluse_1", "name": "get_weather", "content": '"sunny"'},
    )

    backend("bedrock").call(LlmRequest(model=NOVA, messages=conversation, tools=(WEATHER,)))

    # A blank text block would be refused by Converse.
    assert recording.requests[0].json["messages"][1] == {
        "role": "assistant",
        "content": [{"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather", "input": {"city": "Paris"}}}],
    }


# --- both ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "model", "provider"),
    [("anthropic", CLAUDE, "Anthropic's Messages API"), ("bedrock", NOVA, "Bedrock's Converse API")],
)
@pytest.mark.parametrize("arguments", ["not json", "[1, 2]"])
def test_arguments_that_are_not_a_json_object_are_refused_before_sending(
    name: str, model: str, provider: str, arguments: str, claude: Serve, converse: Serve
) -> None:
    recording = claude(anthropic_responder())
    conversation = (
        QUESTION,
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"id": "call_1", "name": "get_weather", "arguments": arguments}],
        },
        {"role": "tool", "tool_call_id": "call_1", "name": "get_weather", "content": "?"},
    )

    with pytest.raises(KitaruUsageError) as raised:
        backend(name).call(LlmRequest(model=model, messages=conversation, tools=(WEATHER,)))

    assert str(raised.value) == (
        f"{provider} needs each tool call's arguments as a JSON object, but the call of 'get_weather' "
        f"(id 'call_1') in the conversation has {arguments!r}. Pass the arguments as JSON text such as "
        """'{"query": "durable"}'."""
    )
    assert recording.requests == []


@pytest.mark.parametrize(("name", "model"), [("anthropic", CLAUDE), ("bedrock", NOVA)])
def test_a_plain_call_sends_no_tool_definitions(name: str, model: str, claude: Serve, converse: Serve) -> None:
    both = {"anthropic": anthropic_responder("Hi"), "bedrock": bedrock_responder("Hi")}
    recording = claude(both[name])

    result = backend(name).call(LlmRequest(model=model, messages=(QUESTION,)))

    assert (result.text, result.tool_calls) == ("Hi", ())
    assert not {"tools", "toolConfig"} & set(recording.requests[0].json)


def test_the_responders_refuse_tool_blocks_without_tool_definitions() -> None:
    """The fakes hold the backends to the real rules, so the checks above mean something."""
    use = {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}
    result = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "1"}
    body: dict[str, Any] = {
        "messages": [{"role": "assistant", "content": [use]}, {"role": "user", "content": [result]}]
    }
    assert "must define tools" in (anthropic_protocol.tool_protocol_error(body) or "")
    assert anthropic_protocol.tool_protocol_error({**body, "tools": [{"name": "f"}]}) is None
    unanswered = {"tools": [{"name": "f"}], "messages": [{"role": "assistant", "content": [use]}]}
    assert "toolu_1" in (anthropic_protocol.tool_protocol_error(unanswered) or "")

    converse_body: dict[str, Any] = {
        "messages": [
            {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "f", "input": {}}}]},
            {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "1"}]}}]},
        ]
    }
    assert "toolConfig field must be defined" in (bedrock_protocol.tool_protocol_error(converse_body) or "")
    configured = {**converse_body, "toolConfig": {"tools": [{"toolSpec": {"name": "f"}}]}}
    assert bedrock_protocol.tool_protocol_error(configured) is None
    assert "t1" in (bedrock_protocol.tool_protocol_error({**configured, "messages": configured["messages"][:1]}) or "")
