"""Kitaru's ``local`` plugin: the ``local`` stack type, the log stores (``artifact-store``, ``otel``, ``datadog``), Ollama.

It is installed with Kitaru itself and registered through the same ``kitaru``
entry point and hooks as any third-party plugin (see ``kitaru plugins``).
Importing it is cheap: the engine is never imported here.

The layout every Kitaru plugin package follows: :mod:`~kitaru_local.plugin`
(hook implementations only), :mod:`~kitaru_local.stacks`,
:mod:`~kitaru_local.artifact_store`, :mod:`~kitaru_local.log_store` and
:mod:`~kitaru_local.llm` (a local stack parses no ``--credentials`` itself:
a bucket's are the cloud plugin's, so there is no ``credentials`` module).
"""

from kitaru_local.artifact_store import verify_local
from kitaru_local.log_store import ARTIFACT_STORE_LOG_STORE, ARTIFACT_STORE_LOG_STORE_NAME
from kitaru_local.stacks import LOCAL_STACK_PROVIDER, LOCAL_STACK_TYPE, build_local_components

__all__ = [
    "ARTIFACT_STORE_LOG_STORE",
    "ARTIFACT_STORE_LOG_STORE_NAME",
    "LOCAL_STACK_PROVIDER",
    "LOCAL_STACK_TYPE",
    "build_local_components",
    "verify_local",
]
