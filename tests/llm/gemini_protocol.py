"""Gemini on Vertex AI (``POST .../models/{m}:generateContent``), spoken by a test server.

:func:`gemini_responder` answers like ``aiplatform.googleapis.com`` does for a
non-streaming ``generateContent``: it insists on the Vertex path
(``/{version}/projects/{p}/locations/{l}/publishers/google/models/{m}:generateContent``),
an ``Authorization: Bearer`` token and a ``contents`` list, and answers with
``candidates``, ``usageMetadata`` and ``modelVersion``, or with Google's error
envelope (``{"error": {"code", "message", "status"}}``) otherwise.

Point the Gen AI SDK at the server with ``GOOGLE_VERTEX_BASE_URL``.
"""

from __future__ import annotations

import re
from typing import Any

from tests.llm.recording_server import RecordedRequest, Responder, json_response

GENERATE_PATH = re.compile(
    r"^/(?P<version>v1|v1beta1)/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"
    r"/publishers/google/models/(?P<model>[^/:]+):generateContent$"
)


def gemini_error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    """Google's JSON error envelope."""
    return json_response({"error": {"code": status, "message": message, "status": code}}, status)


def generate_content_response(
    text: str | None,
    *,
    model_version: str,
    prompt_tokens: int = 11,
    candidates_tokens: int = 5,
    thoughts_tokens: int | None = None,
    finish_reason: str = "STOP",
    block_reason: str | None = None,
) -> dict[str, Any]:
    """A ``GenerateContentResponse``; ``text=None`` gives a candidate without parts.

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
    if text is not None:
        content["parts"] = [{"text": text}]
    return {
        "candidates": [{"content": content, "finishReason": finish_reason}],
        "usageMetadata": usage,
        "modelVersion": model_version,
        "responseId": "kitaru-test-response",
    }


def gemini_responder(
    text: str | None = "Hello from Gemini",
    *,
    model_version: str | None = None,
    prompt_tokens: int = 11,
    candidates_tokens: int = 5,
    thoughts_tokens: int | None = None,
    finish_reason: str = "STOP",
    block_reason: str | None = None,
) -> Responder:
    """Answer every valid ``generateContent`` request with ``text``.

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
        return json_response(
            generate_content_response(
                text,
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
