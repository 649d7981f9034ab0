"""Amazon Bedrock's Converse API (``POST /model/{modelId}/converse``), spoken by a test server.

:func:`bedrock_responder` answers like ``bedrock-runtime.<region>.amazonaws.com``
does: it insists on a SigV4 ``Authorization`` header scoped to the ``bedrock``
service, a ``messages`` list in the body and the Converse path, and answers
with a Converse response (``output.message.content``, ``usage``,
``stopReason``), or with Bedrock's REST-JSON error (``x-amzn-ErrorType``
header and ``{"message": ...}``) otherwise. The signature itself is not
recomputed: that would only re-test botocore.

Point boto3 at the server with ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``.

An answer can ask for tools, as Converse does: ``tool_uses=[ToolUse("tooluse_01",
"search_web", {"query": "durable"})]`` adds ``toolUse`` blocks after the text
(``text=None`` for none) and sets ``stopReason`` to ``tool_use``. The
responder also refuses what Bedrock refuses in a tool conversation:
``toolUse`` or ``toolResult`` blocks without a ``toolConfig``, and a
``toolUse`` whose result is not in the next ``user`` turn.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, NamedTuple
from urllib.parse import unquote

from tests.llm.recording_server import RecordedRequest, Responder, json_response

CONVERSE_PATH = re.compile(r"^/model/(?P<model>[^/]+)/converse$")
"""The Converse path; the model id is URL-encoded in it."""

SIGV4 = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request, SignedHeaders=(?P<signed>[^,]+), "
    r"Signature=(?P<signature>[0-9a-f]{64})$"
)
"""What botocore's SigV4 signer puts into ``Authorization``."""


def bedrock_error(status: int, error_type: str, message: str) -> tuple[int, dict[str, str], bytes]:
    """Bedrock's REST-JSON error: the type in ``x-amzn-ErrorType``, the text in the body."""
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": error_type}
    return status, headers, json.dumps({"message": message}).encode()


class ToolUse(NamedTuple):
    """A tool call for a scripted answer: Converse's ``toolUse`` block."""

    id: str
    name: str
    input: dict[str, Any]


def converse_response(
    text: str | None,
    *,
    input_tokens: int = 15,
    output_tokens: int = 9,
    stop_reason: str | None = None,
    invoked_model_id: str | None = None,
    tool_uses: Sequence[ToolUse] = (),
) -> dict[str, Any]:
    """A Converse response; ``text=None`` and no ``tool_uses`` give a message without content.

    ``stop_reason`` defaults to ``tool_use`` when there are tool uses, else
    ``end_turn``. ``invoked_model_id`` adds the ``trace.promptRouter`` a
    prompt router reports.
    """
    content: list[dict[str, Any]] = [] if text is None else [{"text": text}]
    content += [{"toolUse": {"toolUseId": use.id, "name": use.name, "input": use.input}} for use in tool_uses]
    response: dict[str, Any] = {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop_reason or ("tool_use" if tool_uses else "end_turn"),
        "usage": {
            "inputTokens": input_tokens,
            "outputTokens": output_tokens,
            "totalTokens": input_tokens + output_tokens,
        },
        "metrics": {"latencyMs": 42},
    }
    if invoked_model_id is not None:
        response["trace"] = {"promptRouter": {"invokedModelId": invoked_model_id}}
    return response


def _blocks(turn: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [block[kind] for block in turn.get("content") or [] if kind in block]


def tool_protocol_error(body: dict[str, Any]) -> str | None:
    """What Bedrock says about a body whose tool blocks do not fit together, or None.

    Any ``toolUse`` or ``toolResult`` block needs a ``toolConfig``; every
    ``toolUse`` needs its ``toolResult`` in the next turn, a user turn.
    """
    turns = body["messages"]
    uses_tools = any(_blocks(turn, "toolUse") or _blocks(turn, "toolResult") for turn in turns)
    if uses_tools and not (body.get("toolConfig") or {}).get("tools"):
        return "The toolConfig field must be defined when using toolUse and toolResult content blocks."
    for index, turn in enumerate(turns):
        asked = {use["toolUseId"] for use in _blocks(turn, "toolUse")}
        if not asked:
            continue
        following = turns[index + 1] if index + 1 < len(turns) else {}
        answered = (
            {result["toolUseId"] for result in _blocks(following, "toolResult")}
            if following.get("role") == "user"
            else set()
        )
        if asked != answered:
            return (
                f"Expected toolResult blocks at messages.{index + 1}.content for the following "
                f"Ids: {', '.join(sorted(asked))}"
            )
    return None


def model_id(request: RecordedRequest) -> str | None:
    """The (decoded) model id in a Converse path, or None for another path."""
    match = CONVERSE_PATH.match(request.path)
    return unquote(match["model"]) if match else None


def bedrock_responder(
    text: str | None = "Hello from Bedrock",
    *,
    input_tokens: int = 15,
    output_tokens: int = 9,
    stop_reason: str | None = None,
    invoked_model_id: str | None = None,
    tool_uses: Sequence[ToolUse] = (),
) -> Responder:
    """Answer every valid Converse request with ``text`` (and ``tool_uses``).

    See :func:`converse_response` for the options.
    """

    def respond(request: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        if request.method != "POST" or model_id(request) is None:
            return bedrock_error(404, "UnknownOperationException", f"No route {request.path}")
        authorization = request.header("authorization") or ""
        signed = SIGV4.match(authorization)
        if signed is None or signed["service"] != "bedrock":
            return bedrock_error(
                403, "UnrecognizedClientException", "Missing or malformed SigV4 Authorization"
            )
        body = request.json or {}
        if not isinstance(body.get("messages"), list):
            return bedrock_error(400, "ValidationException", "messages: required")
        refused = tool_protocol_error(body)
        if refused is not None:
            return bedrock_error(400, "ValidationException", refused)
        return json_response(
            converse_response(
                text,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                stop_reason=stop_reason,
                invoked_model_id=invoked_model_id,
                tool_uses=tool_uses,
            )
        )

    return respond


def bedrock_failure(status: int, error_type: str, message: str) -> Responder:
    """Answer every request with the same Bedrock error."""
    return lambda request: bedrock_error(status, error_type, message)
