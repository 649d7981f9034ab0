"""Anthropic's Messages API (``POST /v1/messages``), spoken by a test server.

:func:`anthropic_responder` answers like https://api.anthropic.com does for a
non-streaming message: it checks what the real API insists on (the path, an
``x-api-key`` or bearer token, the ``anthropic-version`` header, ``model``,
``max_tokens`` and ``messages`` in the body) and answers with a ``message``
object, or with Anthropic's error envelope when something is missing::

    with RecordingServer(anthropic_responder(text="Hi")) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        ...
"""

from __future__ import annotations

from typing import Any

from tests.llm.recording_server import RecordedRequest, Responder, json_response

MESSAGES_PATH = "/v1/messages"


def anthropic_message(
    text: str | None,
    *,
    model: str,
    input_tokens: int = 12,
    output_tokens: int = 7,
    stop_reason: str = "end_turn",
) -> dict[str, Any]:
    """A Messages API ``message`` object; ``text=None`` gives an empty ``content``."""
    return {
        "id": "msg_01KitaruTest",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [] if text is None else [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }


def anthropic_error(
    status: int, error_type: str, message: str
) -> tuple[int, dict[str, str], bytes]:
    """Anthropic's error envelope (``{"type": "error", "error": {...}}``)."""
    payload = {"type": "error", "error": {"type": error_type, "message": message}}
    return json_response(payload, status=status)


def anthropic_responder(
    text: str | None = "Hello from Claude",
    *,
    model: str | None = None,
    input_tokens: int = 12,
    output_tokens: int = 7,
    stop_reason: str = "end_turn",
) -> Responder:
    """Answer every valid Messages request with ``text``.

    Args:
        text: The answer's text, or None for a message without content.
        model: The model the answer claims; default: the requested one.
        input_tokens: ``usage.input_tokens`` to report.
        output_tokens: ``usage.output_tokens`` to report.
        stop_reason: ``stop_reason`` to report.
    """

    def respond(request: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        if request.method != "POST" or request.path != MESSAGES_PATH:
            route = f"{request.method} {request.path}"
            return anthropic_error(404, "not_found_error", f"No route {route}")
        if not (request.header("x-api-key") or request.header("authorization")):
            return anthropic_error(401, "authentication_error", "x-api-key header is required")
        if not request.header("anthropic-version"):
            return anthropic_error(
                400, "invalid_request_error", "anthropic-version header is required"
            )
        body = request.json or {}
        for key in ("model", "max_tokens", "messages"):
            if key not in body:
                return anthropic_error(400, "invalid_request_error", f"{key}: Field required")
        message = anthropic_message(
            text,
            model=model or body["model"],
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            stop_reason=stop_reason,
        )
        return json_response(message)

    return respond


def anthropic_failure(status: int, error_type: str, message: str) -> Responder:
    """Answer every request with the same Anthropic error."""
    return lambda request: anthropic_error(status, error_type, message)
