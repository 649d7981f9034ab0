"""Anthropic's Messages API (``POST /v1/messages``), spoken by a test server.

:func:`anthropic_responder` answers like https://api.anthropic.com does for a
non-streaming message: it checks what the real API insists on (the path, an
``x-api-key`` or bearer token, the ``anthropic-version`` header, ``model``,
``max_tokens`` and ``messages`` in the body) and answers with a ``message``
object, or with Anthropic's error envelope when something is missing::

    with RecordingServer(anthropic_responder(text="Hi")) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        ...

An answer can ask for tools, as Claude does: ``tool_uses=[ToolUse("toolu_01",
"search_web", {"query": "durable"})]`` adds ``tool_use`` blocks after the
text (``text=None`` for none) and sets ``stop_reason`` to ``tool_use``. The
responder also refuses what the real API refuses in a tool conversation:
``tool_use`` or ``tool_result`` blocks without ``tools``, and a ``tool_use``
whose result is not in the very next ``user`` turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from tests.llm.recording_server import RecordedRequest, Responder, json_response

MESSAGES_PATH = "/v1/messages"


class ToolUse(NamedTuple):
    """A tool call for a scripted answer: Claude's ``tool_use`` block."""

    id: str
    name: str
    input: dict[str, Any]


def anthropic_message(
    text: str | None,
    *,
    model: str,
    input_tokens: int = 12,
    output_tokens: int = 7,
    stop_reason: str | None = None,
    tool_uses: Sequence[ToolUse] = (),
) -> dict[str, Any]:
    """A Messages API ``message`` object.

    ``text=None`` and no ``tool_uses`` give an empty ``content``. The
    ``stop_reason`` defaults to ``tool_use`` when there are tool uses, else
    ``end_turn``.
    """
    content: list[dict[str, Any]] = [] if text is None else [{"type": "text", "text": text}]
    content += [{"type": "tool_use", "id": use.id, "name": use.name, "input": use.input} for use in tool_uses]
    return {
        "id": "msg_01KitaruTest",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason or ("tool_use" if tool_uses else "end_turn"),
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }


def _blocks(turn: dict[str, Any], block_type: str) -> list[dict[str, Any]]:
    content = turn.get("content")
    if not isinstance(content, list):
        return []
    return [block for block in content if block.get("type") == block_type]


def tool_protocol_error(body: dict[str, Any]) -> str | None:
    """What the real API says about a body whose tool blocks do not fit together, or None.

    Every ``tool_use`` needs its ``tool_result`` in the next turn, a user
    turn; any tool block needs ``tools`` in the request.
    """
    turns = body["messages"]
    uses_tools = any(_blocks(turn, "tool_use") or _blocks(turn, "tool_result") for turn in turns)
    if uses_tools and not body.get("tools"):
        return "Requests which include `tool_use` or `tool_result` blocks must define tools."
    for index, turn in enumerate(turns):
        asked = {block["id"] for block in _blocks(turn, "tool_use")}
        if not asked:
            continue
        following = turns[index + 1] if index + 1 < len(turns) else {}
        answered = (
            {block["tool_use_id"] for block in _blocks(following, "tool_result")}
            if following.get("role") == "user"
            else set()
        )
        if asked - answered:
            return (
                f"messages.{index + 1}: `tool_use` ids were found without `tool_result` blocks "
                f"immediately after: {', '.join(sorted(asked - answered))}. Each `tool_use` block "
                "must have a corresponding `tool_result` block in the next message."
            )
    return None


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
    stop_reason: str | None = None,
    tool_uses: Sequence[ToolUse] = (),
) -> Responder:
    """Answer every valid Messages request with ``text`` (and ``tool_uses``).

    Args:
        text: The answer's text, or None for a message without text.
        model: The model the answer claims; default: the requested one.
        input_tokens: ``usage.input_tokens`` to report.
        output_tokens: ``usage.output_tokens`` to report.
        stop_reason: ``stop_reason`` to report; default ``tool_use`` when
            asking for tools, else ``end_turn``.
        tool_uses: Tool calls the answer asks for, after its text.
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
        refused = tool_protocol_error(body)
        if refused is not None:
            return anthropic_error(400, "invalid_request_error", refused)
        message = anthropic_message(
            text,
            model=model or body["model"],
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            stop_reason=stop_reason,
            tool_uses=tool_uses,
        )
        return json_response(message)

    return respond


def anthropic_failure(status: int, error_type: str, message: str) -> Responder:
    """Answer every request with the same Anthropic error."""
    return lambda request: anthropic_error(status, error_type, message)
