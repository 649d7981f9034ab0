"""Hook implementations of Kitaru's ``gcp`` plugin.

Registered through the ``kitaru`` entry-point group (see the package's
``pyproject.toml``)::

    [project.entry-points.kitaru]
    gcp = "kitaru_gcp.plugin"

This module only declares what the plugin provides. The logic lives next to
it: :mod:`kitaru_gcp.stacks` (the stack types), :mod:`kitaru_gcp.artifact_store`
(``gs://`` buckets), :mod:`kitaru_gcp.credentials` and :mod:`kitaru_gcp.project`.
Importing it imports neither the engine nor a Google SDK; those load when a
stack is built or verified.
"""

from __future__ import annotations

from collections.abc import Iterator

import kitaru
from kitaru.plugins.records import LlmBackendSpec, StackProviderSpec
from kitaru_gcp.gemini import VERTEX_BACKEND
from kitaru_gcp.stacks import KUBERNETES_STACK_PROVIDER, VERTEX_STACK_PROVIDER


@kitaru.hookimpl
def kitaru_stack_providers() -> Iterator[StackProviderSpec]:
    """Register the ``vertex`` and ``kubernetes`` (GKE) stack types.

    Both keep artifacts in GCS and share the ``gs://`` artifact-store backend,
    which ``local`` stacks borrow for ``--artifact-store gs://...``.
    """
    yield VERTEX_STACK_PROVIDER
    yield KUBERNETES_STACK_PROVIDER


@kitaru.hookimpl
def kitaru_llm_backends() -> Iterator[LlmBackendSpec]:
    """Register the ``vertex`` backend (Gemini on Vertex AI, Google Gen AI SDK)."""
    yield VERTEX_BACKEND
