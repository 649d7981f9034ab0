"""A tiny HTTP server that records every request and answers like a model provider.

Each provider's wire protocol lives in its own module (``openai_protocol.py``,
``anthropic_protocol.py`` ...) as a *responder*: a function that takes the
recorded request and returns ``(status, headers, body)``. Tests drive the
provider's official SDK at ``server.url`` and then assert on
``server.requests``: the exact path, headers (auth) and JSON body sent::

    with RecordingServer(openai_chat_responder) as server:
        client = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test")
        ...
        assert server.requests[0].json["model"] == "gpt-4o-mini"
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class RecordedRequest:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        """The body parsed as JSON (None when empty)."""
        return json.loads(self.body) if self.body else None

    def header(self, name: str) -> str | None:
        """A header by case-insensitive name."""
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


Responder = Callable[[RecordedRequest], tuple[int, dict[str, str], bytes]]
"""Turns a request into ``(status, headers, body)``."""


@dataclass
class RecordingServer:
    """Serve ``responder`` on 127.0.0.1 (a free port) in a background thread."""

    responder: Responder
    requests: list[RecordedRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                recorded = RecordedRequest(
                    method=self.command,
                    path=self.path,
                    headers={key: value for key, value in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                server.requests.append(recorded)
                status, headers, body = server.responder(recorded)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _handle  # noqa: N815

            def log_message(self, *args: Any) -> None:  # keep test output clean
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> RecordingServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> RecordingServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def json_response(payload: Any, status: int = 200) -> tuple[int, dict[str, str], bytes]:
    """A JSON answer for a responder to return."""
    return status, {"Content-Type": "application/json"}, json.dumps(payload).encode()
