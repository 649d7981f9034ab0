"""The ``vertex`` and ``kubernetes`` (GKE) stack types.

Both run each flow remotely from a container image and keep artifacts in a
GCS bucket. ``kitaru stack create`` validates the options against the
fields declared below, then calls :func:`build_vertex_components` or
:func:`build_kubernetes_components` with the stack spec::

    kitaru stack create team --type vertex \\
        --artifact-store gs://team-bucket/kitaru \\
        --container-registry europe-west1-docker.pkg.dev/my-project/kitaru \\
        --region europe-west1

becomes four engine descriptions, all named ``team``:

* ``service_connector``: type ``gcp``, auth method from ``--credentials``
  (``implicit`` or ``service-account``), scoped to the project read from the
  container registry (``my-project``);
* ``orchestrator``: flavor ``vertex`` with ``project`` and
  ``location=<region>`` (``kubernetes``: flavor ``kubernetes`` with
  ``kubernetes_namespace``, linked to the connector with the cluster name);
* ``artifact_store``: flavor ``gcp`` with ``path=<URI>``, linked to the
  connector with the bucket URI;
* ``container_registry``: flavor ``gcp`` with ``uri``, linked to the
  connector with the registry URI.

``--extra TARGET.FIELD=VALUE`` overrides win over every computed value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kitaru.errors import KitaruUsageError
from kitaru.plugins.records import ArtifactStoreBackend, StackField, StackProviderSpec
from kitaru.plugins.stack_helpers import component, connector
from kitaru_gcp.artifact_store import (
    GCP_CONNECTOR_TYPE,
    GCS_SCHEME,
    artifact_store_component,
    build_gcs_store,
    gcs_uri,
    verify_gcs_store,
)
from kitaru_gcp.credentials import CREDENTIAL_FORMATS, parse_credentials
from kitaru_gcp.project import infer_project_id

PROVIDER = "gcp"
"""The cloud provider name, which is also the pip extra (``kitaru[gcp]``)."""

DEFAULT_NAMESPACE = "default"
"""The Kubernetes namespace flows run in when ``--namespace`` is not given."""

GCS_BACKEND = ArtifactStoreBackend(
    schemes=(GCS_SCHEME,),
    provider=PROVIDER,
    build=build_gcs_store,
    verify=verify_gcs_store,
    description="Google Cloud Storage buckets (gs://), checked with google-cloud-storage.",
)
"""The ``gs://`` backend; ``local`` stacks borrow it for ``--artifact-store gs://...``."""


EXAMPLES: dict[str, str] = {
    "artifact_store": "gs://my-team-artifacts/kitaru",
    "container_registry": "europe-west1-docker.pkg.dev/my-project/kitaru",
    "region": "europe-west1",
    "cluster": "kitaru-cluster",
    "namespace": "kitaru",
}
"""Realistic values for help texts and the contract suite's sample spec."""


def _field(name: str, description: str, required: bool = False) -> StackField:
    return StackField(
        name=name, description=description, required=required, example=EXAMPLES.get(name, "")
    )


ARTIFACT_STORE_FIELD = _field(
    "artifact_store", "GCS bucket URI for artifacts: gs://bucket[/prefix].", True
)
REGISTRY_FIELD = _field(
    "container_registry",
    "Artifact Registry (<region>-docker.pkg.dev/<project>/<repo>) or gcr.io/<project> URI; "
    "it also names the GCP project.",
    True,
)
CREDENTIALS_FIELD = _field(
    "credentials", "implicit (default) or gcp-service-account:/path/key.json."
)


def _shared(spec: Mapping[str, Any]) -> tuple[str, dict[str, dict[str, Any]]]:
    """The project and what both types share: connector, artifact store, container registry."""
    gcs_uri(spec)
    registry = str(spec.get("container_registry") or "").strip()
    project = infer_project_id(registry)
    credentials = parse_credentials(spec.get("credentials"))
    registry_uri = registry.removeprefix("https://").rstrip("/")
    return project, {
        "service_connector": connector(
            spec,
            GCP_CONNECTOR_TYPE,
            credentials.auth_method,
            credentials.connector_configuration(project),
        ),
        "artifact_store": artifact_store_component(spec, connected=True),
        "container_registry": component(
            spec,
            "container_registry",
            "gcp",
            {"uri": registry_uri},
            connector=True,
            connector_resource_id=registry_uri,
        ),
    }


def _assemble(orchestrator: dict[str, Any], shared: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Connector first, then orchestrator, artifact store and registry (registration order)."""
    return {
        "service_connector": shared["service_connector"],
        "orchestrator": orchestrator,
        "artifact_store": shared["artifact_store"],
        "container_registry": shared["container_registry"],
    }


def _required(spec: Mapping[str, Any], field: str, stack_type: str) -> str:
    value = spec.get(field)
    if not isinstance(value, str) or not value.strip():
        option = "--" + field.replace("_", "-")
        raise KitaruUsageError(f"--type {stack_type} requires: {option}.")
    return value.strip()


def build_vertex_components(spec: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Describe a Vertex AI stack: connector, orchestrator, artifact store, registry.

    Args:
        spec: The stack spec with ``artifact_store``, ``container_registry``,
            ``region`` and optionally ``credentials`` and ``extra``.

    Raises:
        KitaruUsageError: For a missing region, a bad URI, a registry that
            names no project, or bad credentials.
    """
    region = _required(spec, "region", "vertex")
    project, shared = _shared(spec)
    orchestrator = component(
        spec, "orchestrator", "vertex", {"project": project, "location": region}, connector=True
    )
    return _assemble(orchestrator, shared)


def build_kubernetes_components(spec: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Describe a GKE stack: connector, Kubernetes orchestrator, artifact store, registry.

    The connector reaches the cluster by name within the project (GKE
    cluster names are unique per project, so ``region`` only documents where
    it runs).

    Args:
        spec: The stack spec with ``artifact_store``, ``container_registry``,
            ``cluster``, ``region`` and optionally ``namespace`` (default
            ``default``), ``credentials`` and ``extra``.

    Raises:
        KitaruUsageError: For a missing cluster or region, a bad URI, a
            registry that names no project, or bad credentials.
    """
    cluster = _required(spec, "cluster", "kubernetes")
    _required(spec, "region", "kubernetes")
    namespace = str(spec.get("namespace") or "").strip() or DEFAULT_NAMESPACE
    _, shared = _shared(spec)
    orchestrator = component(
        spec,
        "orchestrator",
        "kubernetes",
        {"kubernetes_namespace": namespace},
        connector=True,
        connector_resource_id=cluster,
    )
    return _assemble(orchestrator, shared)


VERTEX_STACK_PROVIDER = StackProviderSpec(
    name="vertex",
    provider=PROVIDER,
    display_name="Vertex",
    description="Runs each flow as a Vertex AI pipeline job; artifacts in a GCS bucket.",
    fields=(
        ARTIFACT_STORE_FIELD,
        REGISTRY_FIELD,
        _field("region", "GCP region Vertex AI jobs run in (europe-west1).", True),
        CREDENTIALS_FIELD,
    ),
    artifact_store_schemes=(GCS_SCHEME,),
    credential_formats=CREDENTIAL_FORMATS,
    build_components=build_vertex_components,
    verify=verify_gcs_store,
    artifact_store_backend=GCS_BACKEND,
)
"""The ``vertex`` stack type record."""

KUBERNETES_STACK_PROVIDER = StackProviderSpec(
    name="kubernetes",
    provider=PROVIDER,
    display_name="Kubernetes",
    description="Runs each flow as pods on a GKE cluster; artifacts in a GCS bucket.",
    fields=(
        ARTIFACT_STORE_FIELD,
        REGISTRY_FIELD,
        _field("cluster", "GKE cluster name.", True),
        _field("region", "GCP region (or zone) of the cluster.", True),
        _field("namespace", f"Kubernetes namespace flows run in (default '{DEFAULT_NAMESPACE}')."),
        CREDENTIALS_FIELD,
    ),
    artifact_store_schemes=(GCS_SCHEME,),
    credential_formats=CREDENTIAL_FORMATS,
    build_components=build_kubernetes_components,
    verify=verify_gcs_store,
    artifact_store_backend=GCS_BACKEND,
)
"""The ``kubernetes`` stack type record for GKE (``kubernetes@gcp``)."""
