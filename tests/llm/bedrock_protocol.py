"""Amazon Bedrock's Converse API (``POST /model/{modelId}/converse``), spoken by a test server.

:func:`bedrock_responder` answers like ``bedrock-runtime.<region>.amazonaws.com``
does: it insists on a SigV4 ``Authorization`` header scoped to the ``bedrock``
service, a ``messages`` list in the body and the Converse path, and answers
with a Converse response (``output.message.content``, ``usage``,
``stopReason``), or with Bedrock's REST-JSON error (``x-amzn-ErrorType``
header and ``{"message": ...}``) otherwise. The signature itself is not
recomputed: that would only re-test botocore.

Point boto3 at the server with ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``.
"""

from __future__ import annotations

import json
import re
from typing import Any
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


def converse_response(
    text: str | None,
    *,
    input_tokens: int = 15,
    output_tokens: int = 9,
    stop_reason: str = "end_turn",
    invoked_model_id: str | None = None,
) -> dict[str, Any]:
    """A Converse response; ``text=None`` gives a message without content.

    ``invoked_model_id`` adds the ``trace.promptRouter`` a prompt router reports.
    """
    response: dict[str, Any] = {
        "output": {
            "message": {
                "role": "assistant",
                "content": [] if text is None else [{"text": text}],
            }
        },
        "stopReason": stop_reason,
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


def model_id(request: RecordedRequest) -> str | None:
    """The (decoded) model id in a Converse path, or None for another path."""
    match = CONVERSE_PATH.match(request.path)
    return unquote(match["model"]) if match else None


def bedrock_responder(
    text: str | None = "Hello from Bedrock",
    *,
    input_tokens: int = 15,
    output_tokens: int = 9,
    stop_reason: str = "end_turn",
    invoked_model_id: str | None = None,
) -> Responder:
    """Answer every valid Converse request with ``text``."""

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
        return json_response(
            converse_response(
                text,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                stop_reason=stop_reason,
                invoked_model_id=invoked_model_id,
            )
        )

    return respond


def bedrock_failure(status: int, error_type: str, message: str) -> Responder:
    """Answer every request with the same Bedrock error."""
    return lambda request: bedrock_error(status, error_type, message)
