"""The built descriptions against the real engine: ZenML accepts and stores them.

Each test registers what a GCP stack type (or a ``local`` stack borrowing the
``gs://`` backend) describes, straight through ``zenml.client.Client`` in the
session's SQLite store: the service connector, each component (ZenML checks
its configuration against the flavor's config model), the connector links
(ZenML's GCP connector checks each resource id), and finally the stack
itself (ZenML checks that the components fit together). Everything is deleted
again afterwards. Nothing here talks to Google.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kitaru_gcp import KUBERNETES_STACK_PROVIDER, VERTEX_STACK_PROVIDER
from kitaru_local import LOCAL_STACK_PROVIDER
from tests.cloud.engine import COMPONENT_ROLES, EngineRegistry
from tests.cloud.specs import local_spec, unique_name
from tests.gcp.test_build import build, gke_spec, vertex_spec

RESOURCE_TYPES = {
    ("orchestrator", "vertex"): "gcp-generic",
    ("orchestrator", "kubernetes"): "kubernetes-cluster",
    ("artifact_store", "gcp"): "gcs-bucket",
    ("container_registry", "gcp"): "docker-registry",
}
"""Which resource of the GCP connector each linked component uses."""


def test_vertex_stack_registers_with_an_implicit_connector(registry: EngineRegistry) -> None:
    spec = vertex_spec(
        name=unique_name("gcp-vertex"), extra={"orchestrator": {"synchronous": False}}
    )
    assert spec["container_registry"] == "europe-west1-docker.pkg.dev/my-project/kitaru"
    described = build(VERTEX_STACK_PROVIDER, spec)
    stored = registry.register(described)

    connector = stored["service_connector"]
    assert (connector.type, connector.auth_method) == ("gcp", "implicit")
    assert connector.configuration == {"project_id": "my-project"}
    orchestrator = stored["orchestrator"]
    assert orchestrator.flavor_name == "vertex"
    assert orchestrator.configuration == {
        "project": "my-project",
        "location": "europe-west1",
        "synchronous": False,
    }
    assert orchestrator.connector.id == connector.id
    assert stored["artifact_store"].configuration == {"path": "gs://team-bucket/kitaru"}
    assert stored["container_registry"].configuration == {
        "uri": "europe-west1-docker.pkg.dev/my-project/kitaru"
    }
    assert registry.canonical_resource_ids(described, stored, RESOURCE_TYPES) == {
        "orchestrator": "my-project",
        "artifact_store": "gs://team-bucket",
        "container_registry": "europe-west1-docker.pkg.dev/my-project/kitaru",
    }
    assert {c_type.value for c_type in stored["stack"].components} == set(COMPONENT_ROLES)


def test_gke_stack_registers_with_a_service_account_connector(
    registry: EngineRegistry, service_account_key: Path
) -> None:
    spec = gke_spec(
        name=unique_name("gcp-gke"),
        artifact_store="gs://team-bucket",
        container_registry="gcr.io/kitaru-test",
        namespace="flows",
        credentials=f"gcp-service-account:{service_account_key}",
    )
    assert spec["cluster"] == "kitaru-cluster"
    described = build(KUBERNETES_STACK_PROVIDER, spec)
    stored = registry.register(described)

    connector = registry.client.get_service_connector(
        stored["service_connector"].id, expand_secrets=True
    )
    assert connector.auth_method == "service-account"
    assert connector.configuration["project_id"] == "kitaru-test"
    # The key is kept as a connector secret, exactly as the file held it.
    assert "service_account_json" not in connector.configuration.non_secrets
    secret = connector.configuration.plain_secrets["service_account_json"]
    assert json.loads(secret) == json.loads(service_account_key.read_text())
    orchestrator = stored["orchestrator"]
    assert orchestrator.flavor_name == "kubernetes"
    assert orchestrator.configuration == {"kubernetes_namespace": "flows"}
    assert orchestrator.connector_resource_id == "kitaru-cluster"
    assert registry.canonical_resource_ids(described, stored, RESOURCE_TYPES) == {
        "orchestrator": "kitaru-cluster",
        "artifact_store": "gs://team-bucket",
        "container_registry": "gcr.io/kitaru-test",
    }


@pytest.mark.parametrize("with_key", [False, True], ids=["implicit", "service-account"])
def test_local_stack_with_a_gcs_artifact_store_registers(
    registry: EngineRegistry, service_account_key: Path, with_key: bool
) -> None:
    name = unique_name("gcp-local")
    credentials = f"gcp-service-account:{service_account_key}" if with_key else None
    spec = local_spec("gs://team-bucket/kitaru", credentials, name=name)
    described = build(LOCAL_STACK_PROVIDER, spec)  # the local type borrows the gs:// backend
    stored = registry.register(described)
    store = stored["artifact_store"]
    assert store.flavor_name == "gcp"
    assert store.configuration == {"path": "gs://team-bucket/kitaru"}
    if with_key:
        connector = stored["service_connector"]
        assert connector.auth_method == "service-account"
        assert connector.configuration.get("project_id") is None
        assert store.connector.id == connector.id
        assert store.connector_resource_id == "gs://team-bucket"
        assert registry.canonical_resource_ids(described, stored, RESOURCE_TYPES) == {
            "artifact_store": "gs://team-bucket",
        }
    else:
        assert "service_connector" not in stored and store.connector is None
