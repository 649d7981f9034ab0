"""The ``vertex`` and ``kubernetes`` (GKE) stack types: their records, fields and components.

Both run each flow remotely from a container image and keep artifacts in a
GCS bucket. ``kitaru stack create`` validates the options against the
fields declared below, then calls :func:`build_vertex_components` or
:func:`build_kubernetes_components` with the
:class:`~kitaru.plugins.records.StackSpec`::

    kitaru stack create team --type vertex \\
        --artifact-store gs://team-bucket/kitaru \\
        --container-registry europe-west1-docker.pkg.dev/my-project/kitaru \\
        --region europe-west1

becomes :class:`~kitaru.plugins.records.StackComponents`, all named ``team``:

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

``--extra TARGET.FIELD=VALUE`` overrides win over every computed value. Both
records name the ``gs://`` backend (:data:`kitaru_gcp.artifact_store.GCS_BACKEND`),
whose ``verify`` checks the bucket before anything is registered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kitaru.plugins.records import (
    ComponentSpec,
    StackComponents,
    StackField,
    StackProviderSpec,
    StackSpec,
)
from kitaru.plugins.stack_helpers import component_spec, connector_spec
from kitaru_gcp.artifact_store import (
    GCP_CONNECTOR_TYPE,
    GCS_BACKEND,
    artifact_store_component,
    gcs_uri,
)
from kitaru_gcp.credentials import CREDENTIAL_FORMATS, infer_project_id, parse_credentials

PROVIDER = "gcp"
"""The cloud provider name, which is also the pip extra (``kitaru[gcp]``)."""

VERTEX_FLAVOR = "vertex"
"""The engine's orchestrator flavor for Vertex AI pipelines."""

KUBERNETES_FLAVOR = "kubernetes"
"""The engine's orchestrator flavor for Kubernetes (GKE here)."""

REGISTRY_FLAVOR = "gcp"
"""The engine's container-registry flavor for Artifact Registry and Container Registry."""

DEFAULT_NAMESPACE = "default"
"""The Kubernetes namespace flows run in when ``--namespace`` is not given."""


# -- the fields ---------------------------------------------------------------------

ARTIFACT_STORE_FIELD = StackField(
    "artifact_store",
    "GCS bucket URI for artifacts: gs://bucket[/prefix].",
    required=True,
    example="gs://my-team-artifacts/kitaru",
    label="Artifacts",
)
REGISTRY_FIELD = StackField(
    "container_registry",
    "Artifact Registry (<region>-docker.pkg.dev/<project>/<repo>) or gcr.io/<project> URI; "
    "it also names the GCP project.",
    required=True,
    example="europe-west1-docker.pkg.dev/my-project/kitaru",
    label="Registry",
)
CREDENTIALS_FIELD = StackField(
    "credentials", "implicit (default) or gcp-service-account:/path/key.json."
)


# -- the component builders -------------------------------------------------------------


def build_vertex_components(spec: Mapping[str, Any]) -> StackComponents:
    """Describe a Vertex AI stack: connector, orchestrator, artifact store, registry.

    Args:
        spec: The validated :class:`~kitaru.plugins.records.StackSpec` (a
            plain mapping is converted) with ``artifact_store``,
            ``container_registry``, ``region`` and optionally ``credentials``.

    Raises:
        KitaruUsageError: For a missing region, a bad URI, a registry that
            names no project, or bad credentials.
    """
    spec = StackSpec.coerce(spec)
    region = spec.require("region")
    project = infer_project_id(spec.value("container_registry"))
    orchestrator = component_spec(
        spec, "orchestrator", VERTEX_FLAVOR, {"project": project, "location": region}, connector=True
    )
    return _remote_components(spec, project, orchestrator)


def build_kubernetes_components(spec: Mapping[str, Any]) -> StackComponents:
    """Describe a GKE stack: connector, Kubernetes orchestrator, artifact store, registry.

    The connector reaches the cluster by name within the project (GKE
    cluster names are unique per project, so ``region`` only documents where
    it runs).

    Args:
        spec: The validated :class:`~kitaru.plugins.records.StackSpec` (a
            plain mapping is converted) with ``artifact_store``,
            ``container_registry``, ``cluster``, ``region`` and optionally
            ``namespace`` (default ``default``) and ``credentials``.

    Raises:
        KitaruUsageError: For a missing cluster or region, a bad URI, a
            registry that names no project, or bad credentials.
    """
    spec = StackSpec.coerce(spec)
    cluster = spec.require("cluster")
    spec.require("region")
    namespace = spec.value("namespace") or DEFAULT_NAMESPACE
    project = infer_project_id(spec.value("container_registry"))
    orchestrator = component_spec(
        spec,
        "orchestrator",
        KUBERNETES_FLAVOR,
        {"kubernetes_namespace": namespace},
        connector=True,
        connector_resource_id=cluster,
    )
    return _remote_components(spec, project, orchestrator)


def _remote_components(spec: StackSpec, project: str, orchestrator: ComponentSpec) -> StackComponents:
    """What both types share: the connector (scoped to ``project``), the artifact store, the registry."""
    gcs_uri(spec)
    credentials = parse_credentials(spec.credentials)
    registry_uri = spec.require("container_registry").removeprefix("https://").rstrip("/")
    return StackComponents(
        service_connector=connector_spec(
            spec,
            GCP_CONNECTOR_TYPE,
            credentials.auth_method,
            credentials.connector_configuration(project),
        ),
        orchestrator=orchestrator,
        artifact_store=artifact_store_component(spec, connected=True),
        container_registry=component_spec(
            spec,
            "container_registry",
            REGISTRY_FLAVOR,
            {"uri": registry_uri},
            connector=True,
            connector_resource_id=registry_uri,
        ),
    )


# -- the records ------------------------------------------------------------------------

VERTEX_STACK_PROVIDER = StackProviderSpec(
    name="vertex",
    provider=PROVIDER,
    display_name="Vertex",
    description="Runs each flow as a Vertex AI pipeline job; artifacts in a GCS bucket.",
    fields=(
        ARTIFACT_STORE_FIELD,
        REGISTRY_FIELD,
        StackField(
            "region", "GCP region Vertex AI jobs run in (europe-west1).", required=True,
            example="europe-west1",
        ),
        CREDENTIALS_FIELD,
    ),
    credential_formats=CREDENTIAL_FORMATS,
    build_components=build_vertex_components,
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
        StackField("cluster", "GKE cluster name.", required=True, example="kitaru-cluster"),
        StackField(
            "region", "GCP region (or zone) of the cluster.", required=True, example="europe-west1"
        ),
        StackField(
            "namespace", f"Kubernetes namespace flows run in (default '{DEFAULT_NAMESPACE}').",
            example="kitaru",
        ),
        CREDENTIALS_FIELD,
    ),
    credential_formats=CREDENTIAL_FORMATS,
    build_components=build_kubernetes_components,
    artifact_store_backend=GCS_BACKEND,
)
"""The ``kubernetes`` stack type record for GKE (``kubernetes@gcp``)."""
