"""Hook implementations of Kitaru's ``local`` plugin.

Registered through the ``kitaru`` entry-point group, exactly like a third-party
plugin::

    [project.entry-points.kitaru]
    local = "kitaru_local.plugin"

This module only yields the records; each lives next to its logic:

* :mod:`kitaru_local.stacks`: the ``local`` stack type and its component builder;
* :mod:`kitaru_local.artifact_store`: its directory artifact store (or the
  bucket store it borrows from a cloud plugin) and the access check;
* :mod:`kitaru_local.log_store`: the runtime-log backends;
* :mod:`kitaru_local.llm`: the ``ollama`` LLM backend.

Nothing here imports the engine.
"""

from __future__ import annotations

from collections.abc import Iterator

import kitaru
from kitaru.plugins.records import LlmBackendSpec, LogStoreSpec, StackProviderSpec
from kitaru_local.llm import OLLAMA_BACKEND
from kitaru_local.log_store import LOG_STORES
from kitaru_local.stacks import LOCAL_STACK_PROVIDER


@kitaru.hookimpl
def kitaru_stack_providers() -> Iterator[StackProviderSpec]:
    """Register the ``local`` stack type."""
    yield LOCAL_STACK_PROVIDER


@kitaru.hookimpl
def kitaru_log_stores() -> Iterator[LogStoreSpec]:
    """Register the runtime-log backends: ``artifact-store`` (the default), ``otel`` and ``datadog``."""
    yield from LOG_STORES


@kitaru.hookimpl
def kitaru_llm_backends() -> Iterator[LlmBackendSpec]:
    """Register the ``ollama`` backend (local models; the OpenAI SDK from ``kitaru[openai]``)."""
    yield OLLAMA_BACKEND
