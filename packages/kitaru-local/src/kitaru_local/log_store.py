"""Runtime-log backends of the ``local`` plugin: ``artifact-store``, ``otel``, ``datadog``.

Runtime logs are what checkpoints and the runner print while an execution
runs (SPEC §7). Where they go is decided by the stack an execution runs on;
``kitaru log-store set`` only records which backend you mean to use, and
``kitaru log-store show`` warns when the active stack disagrees. The three
backends here map onto the engine's log-store flavors:

* ``artifact-store`` (the default): a stack **without** a log-store component
  keeps logs as JSON lines in its artifact store. No endpoint, no service;
  ``kitaru executions logs`` reads the files, locally or with a server.
* ``otel``: a stack whose log-store component has the engine flavor ``otel``
  exports logs over OTLP/HTTP to a collector at its ``endpoint``. OTLP has no
  read API, so ``executions logs`` cannot read them back and says to look in
  the backend behind the collector.
* ``datadog``: a stack whose log-store component has the engine flavor
  ``datadog`` sends logs to Datadog Logs. ``executions logs`` reads them back
  through that component (it needs the component's application key).

Kitaru reads logs back only through a log store's ``read_logs`` (the
:class:`~kitaru.plugins.records.ReadLogs` protocol). The engine keeps the
``artifact-store`` and ``datadog`` logs as streams it can read back, so both
records use :func:`read_engine_logs`, which hands the work to core's
:func:`kitaru.logs.stored.read_stored_logs`. ``otel`` has none: without this
plugin, or for ``otel``, ``kitaru executions logs`` says what to do instead.
"""

from __future__ import annotations

import kitaru.logs
from kitaru.plugins.records import LogRow, LogStoreSpec

ARTIFACT_STORE_LOG_STORE_NAME = "artifact-store"
"""The backend name users see in ``kitaru log-store show``."""


def read_engine_logs(exec_id: str, *, checkpoint: str | None, source: str, limit: int | None) -> list[LogRow]:
    """Read back the logs the engine keeps for an execution (the ``read_logs`` of two records).

    Called by ``kitaru executions logs`` for the streams this log store
    keeps: JSON-lines files in the artifact store, or Datadog records read
    through the stack's ``datadog`` log-store component. Rows of the
    engine's own notices carry ``source="engine"``.

    ``kitaru.logs.read_stored_logs`` is looked up when called: ``import
    kitaru.logs`` alone loads neither the engine port nor the execution
    domain, so importing this plugin stays cheap.
    """
    return kitaru.logs.read_stored_logs(exec_id, checkpoint=checkpoint, source=source, limit=limit)


ARTIFACT_STORE_LOG_STORE = LogStoreSpec(
    name=ARTIFACT_STORE_LOG_STORE_NAME,
    description="Runtime logs stored in the stack's artifact store.",
    requires_endpoint=False,
    read_logs=read_engine_logs,
    flavor=None,
)
"""The default log store: a stack without a log-store component."""

OTEL_LOG_STORE = LogStoreSpec(
    name="otel",
    description="Runtime logs exported over OTLP/HTTP to an OpenTelemetry collector (not readable back).",
    requires_endpoint=True,
    read_logs=None,
    flavor="otel",
)
"""Logs sent to an OpenTelemetry collector by the engine's ``otel`` log store."""

DATADOG_LOG_STORE = LogStoreSpec(
    name="datadog",
    description="Runtime logs sent to Datadog Logs and read back through the stack's Datadog log store.",
    requires_endpoint=True,
    read_logs=read_engine_logs,
    flavor="datadog",
)
"""Logs sent to Datadog by the engine's ``datadog`` log store."""

LOG_STORES: tuple[LogStoreSpec, ...] = (ARTIFACT_STORE_LOG_STORE, OTEL_LOG_STORE, DATADOG_LOG_STORE)
"""Every log store record that :mod:`kitaru_local.plugin` registers, default first."""
