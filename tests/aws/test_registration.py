"""The engine accepts what the AWS plugin describes, and the registered pieces work.

These tests talk to ZenML directly (the real SQLite store of the session's
config dir), on purpose: they check that every configuration the plugin
builds validates against the real flavor's config model, that connectors with
each auth method register, that components link to them, and that an ``s3``
artifact store registered from the local-stack backend really reads and writes
a bucket (moto) through the engine, with each way of passing the endpoint and
credentials.
"""

from __future__ import annotations

import os

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from kitaru_aws import (
    build_kubernetes_components,
    build_s3_artifact_store,
    build_sagemaker_components,
)
from tests.aws.conftest import object_keys
from tests.aws.test_build import kubernetes_spec, sagemaker_spec

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
CREDENTIALS = [
    None,
    "aws-profile:ml-team",
    f"aws-access-keys:AKIAEXAMPLE:{SECRET}",
    f"aws-session-token:ASIAEXAMPLE:{SECRET}:TOKEN",
]
ROLES = ("orchestrator", "artifact_store", "container_registry")


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Registry:
    """Registers built descriptions with the engine and deletes them afterwards."""

    def __init__(self) -> None:
        from zenml.client import Client

        self.client = Client()
        self.stacks: list[Any] = []
        self.components: list[tuple[Any, Any]] = []
        self.connectors: list[Any] = []

    def register(self, built: dict[str, Any], *, stack: bool = True) -> dict[str, Any]:
        """Register connector, components (linked) and the stack; return their models."""
        from zenml.enums import StackComponentType

        models: dict[str, Any] = {}
        connector_id = None
        if "service_connector" in built:
            description = built["service_connector"]
            connector, _ = self.client.create_service_connector(
                name=description["name"],
                connector_type=description["connector_type"],
                auth_method=description["auth_method"],
                configuration=description["configuration"],
                verify=False,
                list_resources=False,
            )
            self.connectors.append(connector.id)
            connector_id = connector.id
            models["service_connector"] = connector
        for role in ROLES:
            if role not in built:
                continue
            description = built[role]
            component_type = StackComponentType(role)
            model = self.client.create_stack_component(
                name=description["name"],
                flavor=description["flavor"],
                component_type=component_type,
                configuration=description["configuration"],
            )
            self.components.append((component_type, model.id))
            if description.get("connector"):
                model = self.client.update_stack_component(
                    model.id,
                    component_type,
                    connector_id=connector_id,
                    connector_resource_id=description["connector_resource_id"],
                )
            models[role] = model
        if stack:
            components = {
                StackComponentType(role): models[role].id for role in ROLES if role in models
            }
            if StackComponentType.ORCHESTRATOR not in components:
                components[StackComponentType.ORCHESTRATOR] = self.client.get_stack_component(
                    StackComponentType.ORCHESTRATOR, "default"
                ).id
            name = built["artifact_store"]["name"]
            models["stack"] = self.client.create_stack(name=name, components=components)
            self.stacks.append(models["stack"].id)
        return models

    def cleanup(self) -> None:
        for stack_id in self.stacks:
            self.client.delete_stack(stack_id)
        for component_type, component_id in reversed(self.components):
            self.client.delete_stack_component(component_id, component_type)
        for connector_id in self.connectors:
            self.client.delete_service_connector(connector_id)


@pytest.fixture
def registry() -> Iterator[Registry]:
    created = Registry()
    yield created
    created.cleanup()


def _all_builds() -> list[tuple[str, dict[str, Any]]]:
    builds = []
    for credentials in CREDENTIALS:
        label = (credentials or "implicit").split(":")[0]
        builds.append((f"sagemaker-{label}", build_sagemaker_components(
            sagemaker_spec(credentials=credentials,
                           extra={"orchestrator": {"synchronous": False}}))))
        builds.append((f"kubernetes-{label}", build_kubernetes_components(
            kubernetes_spec(credentials=credentials, namespace="agents"))))
    return builds


@pytest.mark.parametrize(
    ("label", "built"), [pytest.param(label, built, id=label) for label, built in _all_builds()]
)
def test_every_configuration_validates_against_the_engine_flavor(
    label: str, built: dict[str, Any]
) -> None:
    from zenml.client import Client
    from zenml.enums import StackComponentType
    from zenml.stack.utils import validate_stack_component_config

    for role in ROLES:
        description = built[role]
        config = validate_stack_component_config(
            description["configuration"],
            flavor=description["flavor"],
            component_type=StackComponentType(role),
        )
        assert config is not None, f"{label}: {role} flavor {description['flavor']} not found"
        for key, value in description["configuration"].items():
            assert getattr(config, key) == value, f"{label}: {role}.{key}"
    connector = built["service_connector"]
    request, _ = Client().create_service_connector(
        name=connector["name"],
        connector_type=connector["connector_type"],
        auth_method=connector["auth_method"],
        configuration=connector["configuration"],
        verify=False,
        list_resources=False,
        register=False,
    )
    assert request.auth_method == connector["auth_method"]
    assert request.connector_type == "aws"


def test_sagemaker_stack_registers_with_linked_components(registry: Registry) -> None:
    name = _unique("aws-sagemaker")
    keys = f"aws-access-keys:AKIAEXAMPLE:{SECRET}"
    built = build_sagemaker_components(sagemaker_spec(name=name, credentials=keys))
    models = registry.register(built)
    connector = registry.client.get_service_connector(models["service_connector"].id,
                                                      expand_secrets=True)
    assert (connector.type, connector.auth_method) == ("aws", "secret-key")
    assert connector.configuration["region"] == "eu-west-1"
    key_id = connector.configuration["aws_access_key_id"]  # stored as a secret
    assert key_id.get_secret_value() == "AKIAEXAMPLE"
    assert {"s3-bucket", "docker-registry", "aws-generic"} <= set(connector.resource_types)
    for role in ROLES:
        model = models[role]
        assert model.connector is not None and model.connector.id == connector.id
        assert model.connector_resource_id == built[role]["connector_resource_id"]
        assert model.flavor_name == built[role]["flavor"]
    role = models["orchestrator"].configuration["execution_role"]
    assert role.endswith(":role/SageMakerExecution")
    assert models["artifact_store"].configuration["path"] == "s3://team-artifacts/kitaru"
    # Secrets live in the connector, never in a component's configuration.
    for role in ROLES:
        assert SECRET not in str(models[role].configuration)


def test_kubernetes_stack_registers_with_the_cluster_as_resource(registry: Registry) -> None:
    name = _unique("aws-eks")
    built = build_kubernetes_components(kubernetes_spec(name=name, namespace="agents"))
    models = registry.register(built)
    assert models["service_connector"].auth_method == "implicit"
    assert "kubernetes-cluster" in models["service_connector"].resource_types
    orchestrator = models["orchestrator"]
    assert orchestrator.flavor_name == "kubernetes"
    assert orchestrator.configuration["kubernetes_namespace"] == "agents"
    assert orchestrator.connector_resource_id == "prod-cluster"


# -- the local-stack backend, used through the engine against moto ---------------


def _write_and_read(store_model: Any, relative: str) -> bytes:
    """Write through the engine's artifact store object, then read back."""
    from zenml.stack.stack_component import StackComponent

    store = StackComponent.from_model(store_model)
    path = f"{store.path}/{relative}"
    with store.open(path, "wb") as handle:
        handle.write(b"written through the engine")
    with store.open(path, "rb") as handle:
        return handle.read()


def _local_spec(name: str, bucket: str, **changes: Any) -> dict[str, Any]:
    return {"name": name, "artifact_store": f"s3://{bucket}/kitaru", "credentials": None,
            "extra": {"orchestrator": {}, "artifact_store": {}}, **changes}


def test_local_store_with_aws_endpoint_url_needs_no_connector(
    registry: Registry, aws_env: dict[str, str], moto_endpoint: str,
    monkeypatch: pytest.MonkeyPatch, s3: Any, bucket: str,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    built = build_s3_artifact_store(_local_spec(_unique("aws-local-env"), bucket))
    assert "service_connector" not in built
    models = registry.register(built, stack=False)
    assert _write_and_read(models["artifact_store"], "env.txt") == b"written through the engine"
    assert object_keys(s3, bucket) == ["kitaru/env.txt"]


def test_local_store_with_access_keys_goes_through_a_connector(
    registry: Registry, aws_env: dict[str, str], moto_endpoint: str,
    monkeypatch: pytest.MonkeyPatch, s3: Any, bucket: str,
) -> None:
    """The connector's STS check and the artifact store both follow AWS_ENDPOINT_URL (moto)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    # The process has no AWS credentials of its own: only the connector has keys.
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    spec = _local_spec(_unique("aws-local-keys"), bucket,
                       credentials=f"aws-access-keys:AKIAEXAMPLE:{SECRET}")
    models = registry.register(build_s3_artifact_store(spec), stack=False)
    assert models["artifact_store"].connector.id == models["service_connector"].id
    assert SECRET not in str(models["artifact_store"].configuration)
    assert _write_and_read(models["artifact_store"], "keys.txt") == b"written through the engine"
    assert object_keys(s3, bucket) == ["kitaru/keys.txt"]


def test_local_store_with_a_profile_works_because_kitaru_enables_implicit_auth(
    registry: Registry, aws_env: dict[str, str], moto_endpoint: str,
    monkeypatch: pytest.MonkeyPatch, s3: Any, bucket: str,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with open(aws_env["AWS_SHARED_CREDENTIALS_FILE"], "w") as credentials:
        credentials.write("[team]\naws_access_key_id = AKIATEAM\naws_secret_access_key = team\n")
    spec = _local_spec(_unique("aws-local-profile"), bucket, credentials="aws-profile:team")
    models = registry.register(build_s3_artifact_store(spec), stack=False)
    assert models["service_connector"].auth_method == "implicit"
    # Kitaru's engine bootstrap turns implicit auth on for the local store...
    assert os.environ.get("ZENML_ENABLE_IMPLICIT_AUTH_METHODS") == "true"

    # ...which the engine itself would refuse.
    monkeypatch.delenv("ZENML_ENABLE_IMPLICIT_AUTH_METHODS", raising=False)
    with pytest.raises(RuntimeError, match="Implicit authentication methods"):
        _write_and_read(models["artifact_store"], "refused.txt")

    monkeypatch.setenv("ZENML_ENABLE_IMPLICIT_AUTH_METHODS", "true")
    assert _write_and_read(models["artifact_store"], "profile.txt") == b"written through the engine"
    assert object_keys(s3, bucket) == ["kitaru/profile.txt"]


def test_s3_compatible_store_with_keys_in_an_engine_secret(
    registry: Registry, aws_env: dict[str, str], moto_endpoint: str,
    monkeypatch: pytest.MonkeyPatch, s3: Any, bucket: str,
) -> None:
    """The documented way for MinIO/R2 with explicit keys: authentication_secret, no connector."""
    from kitaru_aws import verify_s3_bucket
    from kitaru.errors import KitaruUsageError

    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    secret_name = _unique("minio-keys")
    secret = registry.client.create_secret(
        secret_name, values={"aws_access_key_id": "AKIAMINIO", "aws_secret_access_key": SECRET}
    )
    try:
        extra = {"orchestrator": {}, "artifact_store": {
            "client_kwargs": {"endpoint_url": moto_endpoint},
            "authentication_secret": secret_name,
        }}
        spec = _local_spec(_unique("aws-local-secret"), bucket, extra=extra)
        with pytest.raises(KitaruUsageError, match=f"engine secret '{secret_name}'"):
            verify_s3_bucket(spec)
        built = build_s3_artifact_store(spec)
        assert "service_connector" not in built
        models = registry.register(built, stack=False)
        assert SECRET not in str(models["artifact_store"].configuration)
        data = _write_and_read(models["artifact_store"], "secret.txt")
        assert data == b"written through the engine"
        assert object_keys(s3, bucket) == ["kitaru/secret.txt"]
    finally:
        registry.client.delete_secret(secret.id)
