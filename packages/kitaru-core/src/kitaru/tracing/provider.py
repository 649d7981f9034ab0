"""Whether this process traces, and the tracer it traces with.

Kitaru sends nothing anywhere unless the user configured it. A process
traces its executions when OpenTelemetry is not switched off
(``OTEL_SDK_DISABLED=true``, ``OTEL_TRACES_EXPORTER=none``) and either:

* the user's program already set a global ``TracerProvider``: Kitaru's
  spans go to it, with whatever exporters the user chose; or
* the standard OTLP environment names a collector
  (``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``):
  Kitaru builds a provider with a batching OTLP exporter (``kitaru[otel]``),
  makes it the global one (so spans of instrumented libraries called in a
  checkpoint land in the same trace) and names the service ``kitaru`` unless
  ``OTEL_SERVICE_NAME`` or ``OTEL_RESOURCE_ATTRIBUTES`` name it.

Everything else the exporter needs (headers, timeouts, TLS, protocol,
``OTEL_BSP_*`` batching) it reads from the environment itself. OpenTelemetry
is imported only when one of the above holds, never by ``import kitaru``.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer

logger = logging.getLogger("kitaru")

INSTRUMENTATION_NAME = "kitaru"
"""The instrumentation scope of Kitaru's spans."""

DEFAULT_SERVICE_NAME = "kitaru"
"""``service.name`` of the traces when the environment names no service."""

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
"""Either one turns tracing on (with ``kitaru[otel]`` installed)."""

FLUSH_TIMEOUT_MILLIS = 5000
"""How long the end of a flow body waits, at most, for its spans to be exported."""

INSTALL_HINT = "pip install 'kitaru[otel]'"

_lock = threading.Lock()
_state: dict[str, Any] = {"provider": None, "warned": False}


def _true(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() == "true"


def switched_off() -> bool:
    """Whether the environment switches tracing off (``OTEL_SDK_DISABLED``, ``OTEL_TRACES_EXPORTER=none``)."""
    exporters = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    return _true("OTEL_SDK_DISABLED") or exporters == "none"


def endpoint_configured() -> bool:
    """Whether the OTLP environment names a collector for traces."""
    return any(os.environ.get(name, "").strip() for name in ENDPOINT_VARIABLES)


def user_provider() -> Any:
    """The global ``TracerProvider`` the user's program set, or None.

    Looks only when ``opentelemetry.trace`` is already imported: a program
    that set a provider has imported it, so this never imports OpenTelemetry.
    """
    api = sys.modules.get("opentelemetry.trace")
    if api is None:
        return None
    provider = api.get_tracer_provider()
    if isinstance(provider, (api.ProxyTracerProvider, api.NoOpTracerProvider)):
        return None
    return provider


def _exporter() -> Any:
    """The OTLP span exporter for the configured protocol (HTTP/protobuf unless grpc is asked for)."""
    protocol = (
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") or ""
    ).strip()
    if protocol == "grpc":
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
        except ImportError:
            logger.warning(
                "OTEL_EXPORTER_OTLP_PROTOCOL=grpc needs the gRPC exporter; install it with: "
                "pip install opentelemetry-exporter-otlp-proto-grpc. Kitaru sends its spans over HTTP instead."
            )
        else:
            return GrpcExporter()
    elif protocol and protocol != "http/protobuf":
        logger.warning("Kitaru sends OTLP traces as http/protobuf or grpc, not %r; using http/protobuf.", protocol)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def _build_provider() -> Any:
    """A provider exporting to the configured collector, made global; None without ``kitaru[otel]``."""
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        exporter = _exporter()
    except ImportError as exc:
        if not _state["warned"]:
            _state["warned"] = True
            logger.warning(
                "OTEL_EXPORTER_OTLP_ENDPOINT is set, but Kitaru cannot send traces without the "
                "OpenTelemetry SDK and OTLP exporter (%s). Install them with: %s",
                exc,
                INSTALL_HINT,
            )
        return None
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "unknown_service")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    # Another thread may have set one first: use whichever is global.
    return user_provider() or provider


def active_provider() -> Any:
    """The provider Kitaru's spans go to in this process, or None when tracing is off.

    Decided at each flow start (cheap: a few environment lookups), so a
    provider the user sets later is picked up. The provider Kitaru builds
    is built once per process.
    """
    if switched_off():
        return None
    provider = _state["provider"] or user_provider()
    if provider is not None or not endpoint_configured():
        return provider
    with _lock:
        if _state["provider"] is None:
            _state["provider"] = _build_provider()
        return _state["provider"]


def tracer() -> Tracer | None:
    """Kitaru's tracer, or None when tracing is off."""
    provider = active_provider()
    if provider is None:
        return None
    result: Tracer = provider.get_tracer(INSTRUMENTATION_NAME)
    return result


def flush(provider: Any) -> None:
    """Export the finished spans now (the process may exit right after a flow body)."""
    force_flush = getattr(provider, "force_flush", None)
    if force_flush is None:
        return
    try:
        if force_flush(FLUSH_TIMEOUT_MILLIS) is False:
            logger.debug("Kitaru's spans were not all exported within %d ms.", FLUSH_TIMEOUT_MILLIS)
    except Exception as exc:  # tracing never fails a run
        logger.debug("Kitaru could not flush its spans: %s", exc)


__all__ = [
    "DEFAULT_SERVICE_NAME",
    "ENDPOINT_VARIABLES",
    "FLUSH_TIMEOUT_MILLIS",
    "INSTALL_HINT",
    "INSTRUMENTATION_NAME",
    "active_provider",
    "endpoint_configured",
    "flush",
    "switched_off",
    "tracer",
    "user_provider",
]
