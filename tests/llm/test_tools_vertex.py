"""Tool calling and structured output of the vertex (Gemini) backend, on the wire.

The installed ``vertex`` backend (as the plugin manager finds it) runs
``google-genai`` against a local :class:`RecordingServer` speaking Vertex's
``generateContent`` (``gemini_protocol.py``). The tests assert the exact JSON
the SDK sent (``functionDeclarations``, ``functionCall`` and
``functionResponse`` parts, ``generationConfig``) and what the backend made of
answers holding ``functionCall`` parts.

The isolation (no cloud settings, loopback only, placeholder Google
credentials) and the server fixtures are those of
``test_anthropic_bedrock_gemini.py``, imported from it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from kitaru.errors import KitaruUsageError
from kitaru.plugins import get_plugin_manager
from kitaru.plugins.records import (
    LlmBackendSpec,
    LlmRequest,
    LlmResponseFormat,
    LlmResult,
    LlmTool,
    LlmToolCall,
)
from tests.llm.gemini_protocol import function_call, gemini_responder
from tests.llm.recording_server import RecordingServer, Responder
from tests.llm.test_anthropic_bedrock_gemini import (  # noqa: F401  (the fixtures, shared by import)
    adc_file,
    isolated_environment,
    loopback_only,
    serve,
    server,
    vertex_env,
)

pytestmark = pytest.mark.usefixtures("vertex_env")

Serve = Callable[[Responder], RecordingServer]
"""Gives the recording server a responder and forgets earlier requests (the ``serve`` fixture)."""

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
REPORT = LlmResponseFormat(
    name="Report",
    schema={
        "type": "object",
        "title": "Report",
        "properties": {"city": {"type": "string"}, "temp_c": {"type": "number"}},
        "required": ["city", "temp_c"],
        "$defs": {},
    },
)
QUESTION = {"role": "user", "content": "How warm is it in Paris?"}


@pytest.fixture
def vertex() -> LlmBackendSpec:
    """The ``vertex`` backend as Kitaru finds it installed."""
    return get_plugin_manager().llm_backends()["vertex"]


@pytest.fixture
def gemini(request: pytest.FixtureRequest) -> Serve:
    """The shared ``serve`` fixture, under a name that does not shadow its import."""
    serve_fixture: Serve = request.getfixturevalue("serve")
    return serve_fixture


def _tool_round(result: LlmResult, outputs: list[str]) -> list[dict[str, Any]]:
    """The messages Kitaru adds after an answer asking for tools: the calls, then each output."""
    calls = [{"id": call.id, "name": call.name, "arguments": call.arguments} for call in result.tool_calls]
    return [
        {"role": "assistant", "content": result.text, "tool_calls": calls},
        *(
            {"role": "tool", "tool_call_id": call.id, "name": call.name, "content": output}
            for call, output in zip(result.tool_calls, outputs, strict=True)
        ),
    ]


def test_the_spec_says_it_calls_tools_and_follows_schemas(vertex: LlmBackendSpec) -> None:
    assert (vertex.supports_tools, vertex.native_structured_output) == (True, True)


def test_tools_go_out_as_function_declarations_and_calls_come_back(
    vertex: LlmBackendSpec,
    gemini: Serve,
) -> None:
    recording = gemini(
        gemini_responder(
            "Let me look.",
            function_calls=[
                function_call("get_weather", {"city": "Paris", "unit": "C"}, thought_signature="c2lnbmF0dXJl"),
                function_call("list_cities"),
            ],
            model_version="gemini-2.5-flash-001",
            prompt_tokens=90,
            candidates_tokens=12,
        )
    )

    result = vertex.call(LlmRequest(model="gemini-2.5-flash", messages=(QUESTION,), tools=(WEATHER, CITIES)))

    assert result == LlmResult(
        text="Let me look.",
        tokens_input=90,
        tokens_output=12,
        model="gemini-2.5-flash-001",
        tool_calls=(
            LlmToolCall(id="call_0", name="get_weather", arguments='{"city": "Paris", "unit": "C"}'),
            LlmToolCall(id="call_1", name="list_cities", arguments="{}"),
        ),
    )
    [sent] = recording.requests
    # The SDK writes a declaration's fields by their proto names (``parameters_json_schema``),
    # which Google's JSON parsers take as well as the camel-case ones.
    assert sent.json == {
        "contents": [{"role": "user", "parts": [{"text": "How warm is it in Paris?"}]}],
        "tools": [
            {
                "functionDeclarations": [
                    {
                        "name": "get_weather",
                        "description": "The weather in a city now.",
                        "parameters_json_schema": WEATHER_SCHEMA,
                    },
                    {"name": "list_cities", "parameters_json_schema": {"type": "object", "properties": {}}},
                ]
            }
        ],
        "generationConfig": {},
    }


def test_an_answer_of_calls_alone_has_empty_text_and_keeps_geminis_ids(
    vertex: LlmBackendSpec,
    gemini: Serve,
) -> None:
    gemini(
        gemini_responder(
            None,
            function_calls=[
                function_call("get_weather", {"city": "Nîmes"}, call_id="fc-7"),
                function_call("get_weather", {"city": "Lyon"}),
            ],
        )
    )

    result = vertex.call(LlmRequest(model="gemini-2.5-flash", messages=(QUESTION,), tools=(WEATHER,)))

    assert result.text == ""
    assert result.tool_calls == (
        LlmToolCall(id="fc-7", name="get_weather", arguments='{"city": "Nîmes"}'),
        LlmToolCall(id="call_1", name="get_weather", arguments='{"city": "Lyon"}'),
    )


def test_a_tool_round_goes_back_as_function_call_and_response_parts(
    vertex: LlmBackendSpec,
    gemini: Serve,
) -> None:
    recording = gemini(
        gemini_responder(
            "Checking.",
            function_calls=[
                function_call("get_weather", {"city": "Paris"}),
                function_call("list_cities", call_id="fc-2"),
                function_call("get_weather", {"city": "Atlantis"}),
            ],
        )
    )
    first = vertex.call(LlmRequest(model="gemini-2.5-pro", messages=(QUESTION,), tools=(WEATHER, CITIES)))
    outputs = [json.dumps({"temp_c": 18.5}), json.dumps(["Paris", "Lyon"]), "Error: no city named 'Atlantis'."]
    conversation = (
        {"role": "system", "content": "Use the tools."},
        QUESTION,
        *_tool_round(first, outputs),
    )
    recording = gemini(gemini_responder("It is 18.5 °C in Paris."))

    final = vertex.call(LlmRequest(model="gemini-2.5-pro", messages=conversation, tools=(WEATHER, CITIES)))

    assert (final.text, final.tool_calls) == ("It is 18.5 °C in Paris.", ())
    body = recording.requests[0].json
    assert body["systemInstruction"]["parts"] == [{"text": "Use the tools."}]
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "How warm is it in Paris?"}]},
        {
            "role": "model",
            "parts": [
                {"text": "Checking."},
                {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
                {"functionCall": {"id": "fc-2", "name": "list_cities", "args": {}}},
                {"functionCall": {"name": "get_weather", "args": {"city": "Atlantis"}}},
            ],
        },
        # One content answers the whole turn, in the calls' order; Gemini's own id travels back.
        {
            "role": "user",
            "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"temp_c": 18.5}}},
                {"functionResponse": {"id": "fc-2", "name": "list_cities", "response": {"result": ["Paris", "Lyon"]}}},
                {
                    "functionResponse": {
                        "name": "get_weather",
                        "response": {"result": "Error: no city named 'Atlantis'."},
                    }
                },
            ],
        },
    ]
    assert len(body["tools"][0]["functionDeclarations"]) == 2


def test_an_assistant_turn_without_text_sends_only_its_calls(
    vertex: LlmBackendSpec,
    gemini: Serve,
) -> None:
    recording = gemini(gemini_responder("Done."))
    conversation = (
        QUESTION,
        {"role": "assistant", "content": "", "tool_calls": [{"id": "call_0", "name": "list_cities", "arguments": ""}]},
        {"role": "tool", "tool_call_id": "call_0", "name": "list_cities", "content": "42"},
        {"role": "assistant", "content": "Nearly there."},
        {"role": "user", "content": "Go on."},
    )

    vertex.call(LlmRequest(model="gemini-2.0-flash", messages=conversation, tools=(CITIES,)))

    assert recording.requests[0].json["contents"][1:] == [
        {"role": "model", "parts": [{"functionCall": {"name": "list_cities", "args": {}}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "list_cities", "response": {"result": 42}}}]},
        {"role": "model", "parts": [{"text": "Nearly there."}]},
        {"role": "user", "parts": [{"text": "Go on."}]},
    ]


def test_arguments_that_are_not_an_object_are_refused_before_sending(
    vertex: LlmBackendSpec,
    gemini: Serve,
) -> None:
    recording = gemini(gemini_responder())
    conversation = (
        QUESTION,
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"id": "call_0", "name": "get_weather", "arguments": '["Paris"]'}],
        },
        {"role": "tool", "tool_call_id": "call_0", "name": "get_weather", "content": "{}"},
    )

    with pytest.raises(KitaruUsageError, match=r"tool 'get_weather' has arguments that are not a JSON object"):
        vertex.call(LlmRequest(model="gemini-2.5-flash", messages=conversation, tools=(WEATHER,)))
    assert recording.requests == []


def test_a_response_format_asks_for_json_of_its_schema(
    vertex: LlmBackendSpec,
    gemini: Serve,
) -> None:
    recording = gemini(gemini_responder('{"city": "Paris", "temp_c": 18.5}'))

    result = vertex.call(
        LlmRequest(
            model="gemini-2.5-flash",
            messages=(QUESTION,),
            temperature=0.0,
            response_format=REPORT,
        )
    )

    assert json.loads(result.text) == {"city": "Paris", "temp_c": 18.5}
    assert result.tool_calls == ()
    body = recording.requests[0].json
    assert body["generationConfig"] == {
        "temperature": 0.0,
        "responseMimeType": "application/json",
        "responseJsonSchema": REPORT.schema,
    }
    assert set(body) == {"contents", "generationConfig"}


def test_tools_and_a_response_format_go_together(
    vertex: LlmBackendSpec,
    gemini: Serve,
) -> None:
    recording = gemini(gemini_responder(None, function_calls=[function_call("get_weather", {"city": "Paris"})]))

    result = vertex.call(
        LlmRequest(
            model="gemini-3-pro-preview",
            messages=(QUESTION,),
            tools=(WEATHER,),
            response_format=REPORT,
        )
    )

    assert [call.name for call in result.tool_calls] == ["get_weather"]
    body = recording.requests[0].json
    assert body["generationConfig"] == {
        "responseMimeType": "application/json",
        "responseJsonSchema": REPORT.schema,
    }
    assert [d["name"] for d in body["tools"][0]["functionDeclarations"]] == ["get_weather"]
