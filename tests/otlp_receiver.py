"""A real OTLP/HTTP trace receiver for tests, built on the official ``opentelemetry-proto`` messages.

The ``opentelemetry-collector`` binary is not on PyPI, so tests start this
instead: a stdlib HTTP server in a thread that accepts what any OTLP/HTTP
exporter sends (``POST /v1/traces``, ``application/x-protobuf``, gzip or not),
decodes it as an ``ExportTraceServiceRequest``, keeps the spans and answers
with an empty ``ExportTraceServiceResponse``, as a collector does::

    with OtlpReceiver() as receiver:
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.url
        ...run a traced program...
        spans = receiver.wait_for(lambda spans: any(s.name == "flow tiny" for s in spans))
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

STATUS_CODES = {0: "UNSET", 1: "OK", 2: "ERROR"}


def plain(value: AnyValue) -> Any:
    """An OTLP ``AnyValue`` as a plain Python value."""
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [plain(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {item.key: plain(item.value) for item in value.kvlist_value.values}
    return getattr(value, kind) if kind else None


def attributes(items: Any) -> dict[str, Any]:
    """OTLP ``KeyValue`` items as a dict."""
    return {item.key: plain(item.value) for item in items}


@dataclass(frozen=True)
class Event:
    """A span event as received."""

    name: str
    attributes: dict[str, Any]


@dataclass(frozen=True)
class Link:
    """A span link as received (ids as lowercase hex)."""

    trace_id: str
    span_id: str
    attributes: dict[str, Any]


@dataclass(frozen=True)
class ReceivedSpan:
    """One span as the receiver decoded it (ids as lowercase hex, parent ``""`` for a root)."""

    name: str
    trace_id: str
    span_id: str
    parent_id: str
    kind: int
    attributes: dict[str, Any]
    events: list[Event]
    links: list[Link]
    status: str
    status_message: str
    resource: dict[str, Any]
    scope: str


@dataclass
class OtlpReceiver:
    """Serve OTLP/HTTP traces on 127.0.0.1 (a free port) in a background thread.

    Attributes:
        spans: Every span received, in arrival order.
        requests: How many export requests arrived (any path).
        paths: The paths they were posted to.
    """

    spans: list[ReceivedSpan] = field(default_factory=list)
    requests: int = 0
    paths: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        receiver = self
        self._changed = threading.Condition()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path != "/v1/traces" or "protobuf" not in (self.headers.get("Content-Type") or ""):
                    receiver.record([], self.path)
                    self.answer(404, b"")
                    return
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                receiver.record(decode(request), self.path)
                self.answer(200, ExportTraceServiceResponse().SerializeToString())

            def answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:  # keep test output clean
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def record(self, spans: list[ReceivedSpan], path: str) -> None:
        """Keep what one export request brought and wake the waiters."""
        with self._changed:
            self.requests += 1
            self.paths.append(path)
            self.spans.extend(spans)
            self._changed.notify_all()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: the value of ``OTEL_EXPORTER_OTLP_ENDPOINT``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def wait_for(
        self, done: Callable[[list[ReceivedSpan]], bool], timeout: float = 120, what: str = "the expected spans"
    ) -> list[ReceivedSpan]:
        """Block until ``done(spans)`` holds and return a copy of the spans; fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not done(list(self.spans)):
                left = deadline - time.monotonic()
                if left <= 0:
                    names = sorted({span.name for span in self.spans})
                    raise AssertionError(f"timed out waiting for {what}; received spans: {names}")
                self._changed.wait(left)
            return list(self.spans)

    def start(self) -> OtlpReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> OtlpReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def decode(request: ExportTraceServiceRequest) -> list[ReceivedSpan]:
    """Every span of an export request, with its resource's attributes and scope name."""
    spans = []
    for resource_spans in request.resource_spans:
        resource = attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    ReceivedSpan(
                        name=span.name,
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_id=span.parent_span_id.hex(),
                        kind=span.kind,
                        attributes=attributes(span.attributes),
                        events=[Event(event.name, attributes(event.attributes)) for event in span.events],
                        links=[
                            Link(link.trace_id.hex(), link.span_id.hex(), attributes(link.attributes))
                            for link in span.links
                        ],
                        status=STATUS_CODES.get(span.status.code, str(span.status.code)),
                        status_message=span.status.message,
                        resource=resource,
                        scope=scope_spans.scope.name,
                    )
                )
    return spans
