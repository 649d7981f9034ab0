"""Kitaru's ``gcp`` plugin: Vertex AI and GKE stacks, artifacts in GCS buckets.

Install it with ``pip install 'kitaru[gcp]'``; Kitaru finds it through the
``kitaru`` entry point (``kitaru plugins`` lists it). It provides:

* the ``vertex`` stack type (flows run as Vertex AI pipeline jobs);
* the ``kubernetes`` stack type for GKE (``kubernetes@gcp``, picked for
  ``gs://`` artifact stores);
* the ``gs://`` artifact-store backend, which ``local`` stacks borrow;
* the ``vertex`` LLM backend (Gemini on Vertex AI).

Importing this package is cheap: no engine and no Google SDK is imported
until a stack is built or verified. See ``docs/gcp.md``.

The layout every Kitaru plugin package follows: :mod:`~kitaru_gcp.plugin`
(hook implementations only), :mod:`~kitaru_gcp.stacks`,
:mod:`~kitaru_gcp.artifact_store`, :mod:`~kitaru_gcp.credentials` and
:mod:`~kitaru_gcp.llm`.
"""

from kitaru_gcp.artifact_store import GCS_BACKEND, build_gcs_store, gcs_uri, verify_gcs_store
from kitaru_gcp.credentials import (
    CREDENTIAL_FORMATS,
    GcpCredentials,
    infer_project_id,
    parse_credentials,
)
from kitaru_gcp.stacks import (
    KUBERNETES_STACK_PROVIDER,
    VERTEX_STACK_PROVIDER,
    build_kubernetes_components,
    build_vertex_components,
)

__all__ = [
    "CREDENTIAL_FORMATS",
    "GCS_BACKEND",
    "KUBERNETES_STACK_PROVIDER",
    "VERTEX_STACK_PROVIDER",
    "GcpCredentials",
    "build_gcs_store",
    "build_kubernetes_components",
    "build_vertex_components",
    "gcs_uri",
    "infer_project_id",
    "parse_credentials",
    "verify_gcs_store",
]
