"""Hook implementations of Kitaru's ``gcp`` plugin (``pip install 'kitaru[gcp]'``).

Registered through the ``kitaru`` entry-point group (see the package's
``pyproject.toml``)::

    [project.entry-points.kitaru]
    gcp = "kitaru_gcp.plugin"

This module only yields the records; each lives next to its logic:

* :mod:`kitaru_gcp.stacks`: the ``vertex`` and ``kubernetes`` (GKE) stack
  types, their fields and component builders;
* :mod:`kitaru_gcp.artifact_store`: the ``gs://`` artifact-store backend both
  types use (and ``local`` stacks borrow), with its bucket check;
* :mod:`kitaru_gcp.credentials`: ``--credentials`` strings and the project
  read from the container registry, for the service connector;
* :mod:`kitaru_gcp.llm`: the ``vertex`` LLM backend (Gemini).

Importing it imports neither the engine nor a Google SDK; those load when a
stack is built or verified, or a model is called.
"""

from __future__ import annotations

from collections.abc import Iterator

import kitaru
from kitaru.plugins.records import LlmBackendSpec, StackProviderSpec
from kitaru_gcp.llm import VERTEX_BACKEND
from kitaru_gcp.stacks import KUBERNETES_STACK_PROVIDER, VERTEX_STACK_PROVIDER


@kitaru.hookimpl
def kitaru_stack_providers() -> Iterator[StackProviderSpec]:
    """Register the ``vertex`` and ``kubernetes`` (GKE, ``gs://``) stack types."""
    yield VERTEX_STACK_PROVIDER
    yield KUBERNETES_STACK_PROVIDER


@kitaru.hookimpl
def kitaru_llm_backends() -> Iterator[LlmBackendSpec]:
    """Register the ``vertex`` backend (Gemini on Vertex AI, Google Gen AI SDK)."""
    yield VERTEX_BACKEND
