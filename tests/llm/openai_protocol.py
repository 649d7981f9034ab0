"""OpenAI's Chat Completions wire protocol, as a responder for :class:`RecordingServer`.

Answers the way OpenAI, OpenRouter, Ollama (``/v1``) and Azure OpenAI do:

* ``POST <anything>/chat/completions`` (``/v1/...``, ``/api/v1/...``) and
  Azure's ``POST /openai/deployments/<deployment>/chat/completions?api-version=...``
  get a ``chat.completion`` object with ``usage``;
* a request without ``Authorization: Bearer ...`` or ``api-key`` gets a 401,
  an Azure request without ``api-version`` a 404, like the real services;
* any other path gets a 404 in OpenAI's error shape.

Usage::

    with RecordingServer(chat_responder(text="Hi!")) as server:
        ...drive the SDK at server.url...
        sent = server.requests[0]
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.llm.recording_server import RecordedRequest, Responder, json_response

AZURE_CHAT_PATH = re.compile(r"^/openai/deployments/(?P<deployment>[^/]+)/chat/completions$")
"""Azure OpenAI's deployment-scoped chat path."""

SDK_ENVIRONMENT = (
    "OPENAI_API_KEY", "OPENAI_ADMIN_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID", "OPENAI_CUSTOM_HEADERS", "OPENAI_WEBHOOK_SECRET",
    "OPENROUTER_API_KEY", "OPENROUTER_BASE_URL", "OLLAMA_HOST", "OLLAMA_API_KEY",
    "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_AD_TOKEN",
    "OPENAI_API_VERSION", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
    "http_proxy", "https_proxy", "all_proxy",
)
"""Variables the openai SDK (or httpx) reads; tests clear them so a developer's never leak in."""

DEFAULT_TEXT = "Durable agents never pay twice."
"""The answer :func:`chat_responder` gives unless told otherwise."""

SNAPSHOTS = {
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4.1-nano": "gpt-4.1-nano-2025-04-14",
}
"""Models the fake provider reports by their dated snapshot, like OpenAI does."""


def completion_body(
    model: str,
    content: str | None = DEFAULT_TEXT,
    *,
    prompt_tokens: int = 23,
    completion_tokens: int = 7,
    finish_reason: str = "stop",
    refusal: str | None = None,
) -> dict[str, Any]:
    """A ``chat.completion`` object as OpenAI returns it."""
    return {
        "id": "chatcmpl-kitaru0test0000000000000001",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_kitaru_test",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": content,
                    "refusal": refusal,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
    }


def error_body(message: str, *, type: str, code: str | None = None) -> dict[str, Any]:
    """OpenAI's error envelope (``{"error": {...}}``)."""
    return {"error": {"message": message, "type": type, "param": None, "code": code}}


def chat_responder(
    *,
    text: str | None = DEFAULT_TEXT,
    model: str | None = None,
    prompt_tokens: int = 23,
    completion_tokens: int = 7,
    finish_reason: str = "stop",
    body: Mapping[str, Any] | None = None,
    status: int = 200,
    error: Mapping[str, Any] | None = None,
) -> Responder:
    """A responder speaking Chat Completions.

    Args:
        text: The answer's ``content`` (None for a null content).
        model: The model to report; default: the request's model mapped
            through :data:`SNAPSHOTS`, or the Azure deployment's name.
        prompt_tokens: Reported ``usage.prompt_tokens``.
        completion_tokens: Reported ``usage.completion_tokens``.
        finish_reason: The choice's ``finish_reason``.
        body: A whole response body to return instead (e.g. no choices).
        status: Answer valid requests with this status and ``error``.
        error: The error envelope for a non-200 ``status``.
    """

    def respond(request: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        url = urlsplit(request.path)
        azure = AZURE_CHAT_PATH.match(url.path)
        if request.method != "POST" or not (azure or url.path.endswith("/chat/completions")):
            return json_response(
                error_body(f"Invalid URL ({request.method} {url.path})", type="invalid_request_error"),
                status=404,
            )
        if azure and "api-version" not in parse_qs(url.query):
            return json_response(
                {"error": {"code": "404", "message": "Resource not found"}}, status=404
            )
        bearer = (request.header("Authorization") or "").startswith("Bearer ")
        if not bearer and not request.header("api-key"):
            return json_response(
                error_body(
                    "You didn't provide an API key.", type="invalid_request_error", code=None
                ),
                status=401,
            )
        if status != 200:
            return json_response(dict(error or {}), status=status)
        if body is not None:
            return json_response(dict(body))
        sent = request.json or {}
        requested = azure.group("deployment") if azure else str(sent.get("model"))
        reported = model or SNAPSHOTS.get(requested, requested)
        return json_response(
            completion_body(
                reported,
                text,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                finish_reason=finish_reason,
            )
        )

    return respond


def invalid_key_responder() -> Responder:
    """A responder rejecting every key the way OpenAI does (401)."""
    return chat_responder(
        status=401,
        error=error_body(
            "Incorrect API key provided: sk-bad. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            type="invalid_request_error",
            code="invalid_api_key",
        ),
    )


def sent_json(request: RecordedRequest) -> dict[str, Any]:
    """A recorded request's JSON body (a dict)."""
    payload = json.loads(request.body)
    assert isinstance(payload, dict)
    return payload


def tool_agent_responder(
    *,
    tool: str = "search_web",
    arguments: Callable[[str], dict[str, Any]] | None = None,
    hold_final: threading.Event | None = None,
    final_arrived: threading.Event | None = None,
    prompt_tokens: int = 23,
    completion_tokens: int = 7,
) -> Responder:
    """A model that calls one tool once, then answers from the tool's result.

    A request that offers tools and has no tool result after its last user
    message gets a ``tool_calls`` answer calling ``tool`` with
    ``arguments(last user text)`` (default ``{"query": text}``), id
    ``call_<n>`` where n counts the user turn's tool calls. A request with a
    tool result gets the final answer: with a ``response_format``, a JSON
    object ``{"title": ..., "points": [each tool result's text]}``; else
    ``"Found: <results joined by ' | '>"``.

    Args:
        tool: The tool to call.
        arguments: The call's arguments from the last user text.
        hold_final: If given, a final request waits for this event before it
            is answered (a test kills the client meanwhile).
        final_arrived: Set when a final request arrives.
        prompt_tokens: Reported ``usage.prompt_tokens``.
        completion_tokens: Reported ``usage.completion_tokens``.
    """

    def respond(request: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        sent = request.json or {}
        messages = sent.get("messages") or []
        last_user = max(index for index, message in enumerate(messages) if message["role"] == "user")
        results = [message["content"] for message in messages[last_user:] if message["role"] == "tool"]
        body = completion_body(
            SNAPSHOTS.get(str(sent.get("model")), str(sent.get("model"))),
            None,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
        )
        choice = body["choices"][0]
        if sent.get("tools") and not results:
            text = messages[last_user]["content"]
            choice["finish_reason"] = "tool_calls"
            choice["message"]["tool_calls"] = [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": tool, "arguments": json.dumps(arguments(text) if arguments else {"query": text})},
                }
            ]
            return json_response(body)
        if final_arrived is not None:
            final_arrived.set()
        if hold_final is not None:
            hold_final.wait(120)
        if sent.get("response_format"):
            choice["message"]["content"] = json.dumps({"title": "Brief", "points": results})
        else:
            choice["message"]["content"] = "Found: " + " | ".join(results)
        return json_response(body)

    return respond
