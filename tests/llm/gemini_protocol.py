"""Gemini on Vertex AI (``POST .../models/{m}:generateContent``), spoken by a test server.

:func:`gemini_responder` answers like ``aiplatform.googleapis.com`` does for a
non-streaming ``generateContent``: it insists on the Vertex path
(``/{version}/projects/{p}/locations/{l}/publishers/google/models/{m}:generateContent``),
an ``Authorization: Bearer`` token and a ``contents`` list, and answers with
``candidates``, ``usageMetadata`` and ``modelVersion``, or with Google's error
envelope (``{"error": {"code", "message", "status"}}``) otherwise.

Function calling: a responder given ``function_calls`` (built with
:func:`function_call`) answers with ``functionCall`` parts after the text, the
way Gemini asks for tools. Like Vertex, it refuses (400 ``INVALID_ARGUMENT``)
a conversation whose function turns do not fit together: a ``functionCall``
outside a ``model`` content, a ``functionResponse`` whose ``response`` is not
an object, or a turn of calls not answered by the next content with as many
``functionResponse`` parts (see :func:`function_turn_error`).

Point the Gen AI SDK at the server with ``GOOGLE_VERTEX_BASE_URL``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from tests.llm.recording_server import RecordedRequest, Responder, json_response

GENERATE_PATH = re.compile(
    r"^/(?P<version>v1|v1beta1)/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"
    r"/publishers/google/models/(?P<model>[^/:]+):generateContent$"
)


def gemini_error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    """Google's JSON error envelope."""
    return json_response({"error": {"code": status, "message": message, "status": code}}, status)


def function_call(
    name: str,
    args: Mapping[str, Any] | None = None,
    *,
    call_id: str | None = None,
    thought_signature: str | None = None,
) -> dict[str, Any]:
    """A ``functionCall`` part as Gemini writes it in an answer.

    Vertex leaves ``id`` out as a rule, and ``args`` too when the function
    takes none; thinking models (Gemini 2.5 and later) add a
    ``thoughtSignature`` (base64) next to the call.
    """
    call: dict[str, Any] = {"name": name}
    if call_id is not None:
        call["id"] = call_id
    if args is not None:
        call["args"] = dict(args)
    part: dict[str, Any] = {"functionCall": call}
    if thought_signature is not None:
        part["thoughtSignature"] = thought_signature
    return part


def function_turn_error(contents: Sequence[Any]) -> str | None:
    """Why Vertex would refuse the function calls and responses in ``contents``, or None.

    Every ``functionCall`` part must be in a ``model`` content, and the next
    content must answer it: as many ``functionResponse`` parts as the turn
    has calls, each with an object ``response``.
    """
    for index, content in enumerate(contents):
        parts = content.get("parts") or []
        calls = [part for part in parts if "functionCall" in part]
        answers = [part["functionResponse"] for part in parts if "functionResponse" in part]
        if calls and content.get("role") != "model":
            return f"contents[{index}]: a functionCall must be in a model content"
        for answer in answers:
            if not isinstance(answer.get("response"), dict):
                return f"contents[{index}]: functionResponse.response must be an object"
        if not calls:
            continue
        following = contents[index + 1]["parts"] if index + 1 < len(contents) else []
        responses = [part for part in following or [] if "functionResponse" in part]
        if len(responses) != len(calls):
            return (
                "Please ensure that the number of function response parts is equal to the "
                "number of function call parts of the function call turn."
            )
    return None


def generate_content_response(
    text: str | None,
    *,
    function_calls: Sequence[Mapping[str, Any]] = (),
    model_version: str,
    prompt_tokens: int = 11,
    candidates_tokens: int = 5,
    thoughts_tokens: int | None = None,
    finish_reason: str = "STOP",
    block_reason: str | None = None,
) -> dict[str, Any]:
    """A ``GenerateContentResponse``; ``text=None`` gives a candidate without parts.

    ``function_calls`` (parts from :func:`function_call`) follow the text
    part, or stand alone when ``text`` is None.

    ``block_reason`` answers like a prompt the safety filters blocked: no
    candidates, only ``promptFeedback.blockReason``.
    """
    usage: dict[str, Any] = {
        "promptTokenCount": prompt_tokens,
        "candidatesTokenCount": candidates_tokens,
        "totalTokenCount": prompt_tokens + candidates_tokens + (thoughts_tokens or 0),
    }
    if thoughts_tokens is not None:
        usage["thoughtsTokenCount"] = thoughts_tokens
    if block_reason is not None:
        return {
            "promptFeedback": {"blockReason": block_reason},
            "usageMetadata": {"promptTokenCount": prompt_tokens, "totalTokenCount": prompt_tokens},
            "modelVersion": model_version,
        }
    content: dict[str, Any] = {"role": "model"}
    parts = ([{"text": text}] if text is not None else []) + [dict(call) for call in function_calls]
    if parts:
        content["parts"] = parts
    return {
        "candidates": [{"content": content, "finishReason": finish_reason}],
        "usageMetadata": usage,
        "modelVersion": model_version,
        "responseId": "kitaru-test-response",
    }


def gemini_responder(
    text: str | None = "Hello from Gemini",
    *,
    function_calls: Sequence[Mapping[str, Any]] = (),
    model_version: str | None = None,
    prompt_tokens: int = 11,
    candidates_tokens: int = 5,
    thoughts_tokens: int | None = None,
    finish_reason: str = "STOP",
    block_reason: str | None = None,
) -> Responder:
    """Answer every valid ``generateContent`` request with ``text`` and ``function_calls``.

    ``model_version`` defaults to the model named in the path.
    """

    def respond(request: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        match = GENERATE_PATH.match(request.path)
        if request.method != "POST" or match is None:
            return gemini_error(404, "NOT_FOUND", f"No route {request.method} {request.path}")
        if not (request.header("authorization") or "").startswith("Bearer "):
            return gemini_error(401, "UNAUTHENTICATED", "Request is missing a bearer token")
        body = request.json or {}
        if not isinstance(body.get("contents"), list) or not body["contents"]:
            return gemini_error(400, "INVALID_ARGUMENT", "contents is not specified")
        refused = function_turn_error(body["contents"])
        if refused is not None:
            return gemini_error(400, "INVALID_ARGUMENT", refused)
        return json_response(
            generate_content_response(
                text,
                function_calls=function_calls,
                model_version=model_version or match["model"],
                prompt_tokens=prompt_tokens,
                candidates_tokens=candidates_tokens,
                thoughts_tokens=thoughts_tokens,
                finish_reason=finish_reason,
                block_reason=block_reason,
            )
        )

    return respond


def gemini_failure(status: int, code: str, message: str) -> Responder:
    """Answer every request with the same Google error."""
    return lambda request: gemini_error(status, code, message)
