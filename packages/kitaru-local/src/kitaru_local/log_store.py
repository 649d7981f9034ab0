"""The ``artifact-store`` log store: runtime logs kept next to the artifacts.

This is the default runtime-log backend (SPEC §7). Logs captured during a run
are written by the engine into the stack's artifact store, so they need no
endpoint and no extra service; they are available on the local default as well
as with a server.

Reading the logs back for ``kitaru executions logs`` is not wired up yet, so
:data:`ARTIFACT_STORE_LOG_STORE` has no ``read_logs`` function.
"""

from __future__ import annotations

from kitaru.plugins.records import LogStoreSpec

ARTIFACT_STORE_LOG_STORE_NAME = "artifact-store"
"""The backend name users see in ``kitaru log-store show``."""

ARTIFACT_STORE_LOG_STORE = LogStoreSpec(
    name=ARTIFACT_STORE_LOG_STORE_NAME,
    description="Runtime logs stored in the stack's artifact store.",
    requires_endpoint=False,
    read_logs=None,
)
"""The log store record that :mod:`kitaru_local.plugin` registers."""
