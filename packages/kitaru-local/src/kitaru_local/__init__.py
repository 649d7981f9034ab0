"""Kitaru's ``local`` plugin: the ``local`` stack type and the log stores (``artifact-store``, ``otel``, ``datadog``).

It is installed with Kitaru itself and registered through the same ``kitaru``
entry point and hooks as any third-party plugin (see ``kitaru plugins``).
Importing it is cheap: the engine is never imported here.
"""

from kitaru_local.log_store import ARTIFACT_STORE_LOG_STORE, ARTIFACT_STORE_LOG_STORE_NAME
from kitaru_local.stack import (
    LOCAL_STACK_PROVIDER,
    LOCAL_STACK_TYPE,
    build_local_components,
    verify_local,
)

__all__ = [
    "ARTIFACT_STORE_LOG_STORE",
    "ARTIFACT_STORE_LOG_STORE_NAME",
    "LOCAL_STACK_PROVIDER",
    "LOCAL_STACK_TYPE",
    "build_local_components",
    "verify_local",
]
