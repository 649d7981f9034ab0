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
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from kitaru_gcp import GCS_BACKEND, KUBERNETES_STACK_PROVIDER, VERTEX_STACK_PROVIDER
from tests.gcp.conftest import stack_spec

RESOURCE_TYPES = {
    ("orchestrator", "vertex"): "gcp-generic",
    ("orchestrator", "kubernetes"): "kubernetes-cluster",
    ("artifact_store", "gcp"): "gcs-bucket",
    ("container_registry", "gcp"): "docker-registry",
}
"""Which resource of the GCP connector each linked component uses."""


@pytest.fixture
def zen() -> Any:
    from kitaru._engine.bootstrap import load_engine

    load_engine()
    from zenml.client import Client

    return Client()


class Registered:
    """What one test registered, so it can be deleted again (newest first)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.stack: Any = None
        self.components: list[tuple[str, Any]] = []
        self.connector: Any = None

    def delete(self) -> None:
        if self.stack is not None:
            self.client.delete_stack(self.stack.id)
        for component_type, component in reversed(self.components):
            self.client.delete_stack_component(component.id, component_type)
        if self.connector is not None:
            self.client.delete_service_connector(self.connector.id)


@pytest.fixture
def registered(zen: Any) -> Iterator[Registered]:
    record = Registered(zen)
    yield record
    record.delete()


def register(zen: Any, record: Registered, described: Mapping[str, Any]) -> dict[str, Any]:
    """Register a build_components() result the way core does, and return ZenML's view."""
    from zenml.enums import StackComponentType
    from zenml.service_connectors.service_connector_registry import (
        service_connector_registry,
    )

    described = dict(described)
    connector = described.pop("service_connector", None)
    instance = None
    if connector is not None:
        record.connector, _ = zen.create_service_connector(
            name=connector["name"],
            connector_type=connector["connector_type"],
            auth_method=connector["auth_method"],
            configuration=connector["configuration"],
            verify=False,
            list_resources=False,
            register=True,
        )
        loaded = zen.get_service_connector(record.connector.id, expand_secrets=True)
        instance = service_connector_registry.instantiate_connector(model=loaded)
    stored: dict[str, Any] = {"components": {}, "canonical_resource_ids": {}}
    for target, description in described.items():
        component_type = StackComponentType(target)
        component = zen.create_stack_component(
            name=description["name"],
            flavor=description["flavor"],
            component_type=component_type,
            configuration=description["configuration"],
        )
        record.components.append((component_type, component))
        if description.get("connector"):
            assert instance is not None, f"{target} asks for a connector the build did not describe"
            resource_type = RESOURCE_TYPES[(target, description["flavor"])]
            _, canonical = instance.validate_runtime_args(
                resource_type, description["connector_resource_id"]
            )
            stored["canonical_resource_ids"][target] = canonical
            component = zen.update_stack_component(
                component.id,
                component_type,
                connector_id=record.connector.id,
                connector_resource_id=description["connector_resource_id"],
            )
        stored["components"][target] = component
    record.stack = zen.create_stack(
        name=f"{next(iter(described.values()))['name']}",
        components={
            StackComponentType(target): component.id
            for target, component in stored["components"].items()
        },
    )
    stored["stack"] = zen.get_stack(record.stack.id)
    stored["connector"] = (
        zen.get_service_connector(record.connector.id, expand_secrets=True)
        if record.connector is not None
        else None
    )
    return stored


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_vertex_stack_registers_with_an_implicit_connector(zen: Any, registered: Registered) -> None:
    name = _unique("gcp-vertex")
    assert VERTEX_STACK_PROVIDER.build_components is not None
    described = VERTEX_STACK_PROVIDER.build_components(
        stack_spec(
            name,
            artifact_store="gs://team-bucket/kitaru",
            container_registry="europe-west1-docker.pkg.dev/my-project/kitaru",
            region="europe-west1",
            extra={"orchestrator": {"synchronous": False}},
        )
    )
    stored = register(zen, registered, described)

    connector = stored["connector"]
    assert (connector.connector_type.connector_type, connector.auth_method) == ("gcp", "implicit")
    assert connector.configuration == {"project_id": "my-project"}
    orchestrator = stored["components"]["orchestrator"]
    assert orchestrator.flavor_name == "vertex"
    assert orchestrator.configuration == {
        "project": "my-project",
        "location": "europe-west1",
        "synchronous": False,
    }
    assert orchestrator.connector.id == connector.id
    assert stored["components"]["artifact_store"].configuration == {
        "path": "gs://team-bucket/kitaru"
    }
    assert stored["components"]["container_registry"].configuration == {
        "uri": "europe-west1-docker.pkg.dev/my-project/kitaru"
    }
    assert stored["canonical_resource_ids"] == {
        "orchestrator": "my-project",
        "artifact_store": "gs://team-bucket",
        "container_registry": "europe-west1-docker.pkg.dev/my-project/kitaru",
    }
    assert {c_type.value for c_type in stored["stack"].components} == {
        "orchestrator",
        "artifact_store",
        "container_registry",
    }


def test_gke_stack_registers_with_a_service_account_connector(
    zen: Any, registered: Registered, service_account_key: Path
) -> None:
    name = _unique("gcp-gke")
    assert KUBERNETES_STACK_PROVIDER.build_components is not None
    described = KUBERNETES_STACK_PROVIDER.build_components(
        stack_spec(
            name,
            artifact_store="gs://team-bucket",
            container_registry="gcr.io/kitaru-test",
            cluster="kitaru-cluster",
            region="europe-west1",
            namespace="flows",
            credentials=f"gcp-service-account:{service_account_key}",
        )
    )
    stored = register(zen, registered, described)

    connector = stored["connector"]
    assert connector.auth_method == "service-account"
    assert connector.configuration["project_id"] == "kitaru-test"
    # The key is kept as a connector secret, exactly as the file held it.
    assert "service_account_json" not in connector.configuration.non_secrets
    secret = connector.configuration.plain_secrets["service_account_json"]
    assert json.loads(secret) == json.loads(service_account_key.read_text())
    orchestrator = stored["components"]["orchestrator"]
    assert orchestrator.flavor_name == "kubernetes"
    assert orchestrator.configuration == {"kubernetes_namespace": "flows"}
    assert orchestrator.connector_resource_id == "kitaru-cluster"
    assert stored["canonical_resource_ids"] == {
        "orchestrator": "kitaru-cluster",
        "artifact_store": "gs://team-bucket",
        "container_registry": "gcr.io/kitaru-test",
    }


@pytest.mark.parametrize("with_key", [False, True], ids=["implicit", "service-account"])
def test_local_stack_with_a_gcs_artifact_store_registers(
    zen: Any, registered: Registered, service_account_key: Path, with_key: bool
) -> None:
    name = _unique("gcp-local")
    credentials = f"gcp-service-account:{service_account_key}" if with_key else None
    spec = {
        "name": name,
        "artifact_store": "gs://team-bucket/kitaru",
        "credentials": credentials,
        "extra": {"orchestrator": {}, "artifact_store": {}},
    }
    described = {
        "orchestrator": {"name": name, "flavor": "local", "configuration": {}},
        **GCS_BACKEND.build(spec),
    }
    stored = register(zen, registered, described)
    store = stored["components"]["artifact_store"]
    assert store.flavor_name == "gcp"
    assert store.configuration == {"path": "gs://team-bucket/kitaru"}
    if with_key:
        assert stored["connector"].auth_method == "service-account"
        assert stored["connector"].configuration.get("project_id") is None
        assert store.connector.id == stored["connector"].id
        assert store.connector_resource_id == "gs://team-bucket"
    else:
        assert stored["connector"] is None and store.connector is None
