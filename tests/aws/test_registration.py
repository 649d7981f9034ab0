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
from typing import Any

import pytest

from kitaru.plugins.records import StackComponents
from kitaru_aws import (
    build_kubernetes_components,
    build_s3_artifact_store,
    build_sagemaker_components,
)
from tests.aws.conftest import object_keys, write_team_profile
from tests.aws.test_build import kubernetes_spec, sagemaker_spec
from tests.cloud.engine import (
    COMPONENT_ROLES,
    EngineRegistry,
    validated_configurations,
    validated_connector,
    write_then_read,
)
from tests.cloud.specs import local_spec, unique_name

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
CREDENTIALS = [
    None,
    "aws-profile:ml-team",
    f"aws-access-keys:AKIAEXAMPLE:{SECRET}",
    f"aws-session-token:ASIAEXAMPLE:{SECRET}:TOKEN",
]


def _all_builds() -> list[tuple[str, StackComponents]]:
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
    label: str, built: StackComponents
) -> None:
    assert set(validated_configurations(built)) == set(COMPONENT_ROLES), label
    assert built.service_connector is not None
    assert built.service_connector.connector_type == "aws"
    validated_connector(built.service_connector)


def test_sagemaker_stack_registers_with_linked_components(registry: EngineRegistry) -> None:
    name = unique_name("aws-sagemaker")
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
    for role, description in built.components():
        model = models[role]
        assert model.connector is not None and model.connector.id == connector.id
        assert model.connector_resource_id == description.connector_resource_id
        assert model.flavor_name == description.flavor
    role = models["orchestrator"].configuration["execution_role"]
    assert role.endswith(":role/SageMakerExecution")
    assert models["artifact_store"].configuration["path"] == "s3://team-artifacts/kitaru"
    # Secrets live in the connector, never in a component's configuration.
    for role in COMPONENT_ROLES:
        assert SECRET not in str(models[role].configuration)


def test_kubernetes_stack_registers_with_the_cluster_as_resource(
    registry: EngineRegistry,
) -> None:
    name = unique_name("aws-eks")
    built = build_kubernetes_components(kubernetes_spec(name=name, namespace="agents"))
    models = registry.register(built)
    assert models["service_connector"].auth_method == "implicit"
    assert "kubernetes-cluster" in models["service_connector"].resource_types
    orchestrator = models["orchestrator"]
    assert orchestrator.flavor_name == "kubernetes"
    assert orchestrator.configuration["kubernetes_namespace"] == "agents"
    assert orchestrator.connector_resource_id == "prod-cluster"


# -- the local-stack backend, used through the engine against moto ---------------


def test_local_store_with_aws_endpoint_url_needs_no_connector(
    registry: EngineRegistry, aws_env: dict[str, str], moto_endpoint: str,
    monkeypatch: pytest.MonkeyPatch, s3: Any, bucket: str,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    built = build_s3_artifact_store(
        local_spec(f"s3://{bucket}/kitaru", name=unique_name("aws-local-env"))
    )
    assert built.service_connector is None
    models = registry.register(built, stack=False)
    assert write_then_read(models["artifact_store"], "env.txt") == b"written through the engine"
    assert object_keys(s3, bucket) == ["kitaru/env.txt"]


def test_local_store_with_access_keys_goes_through_a_connector(
    registry: EngineRegistry, keyless_aws_env: dict[str, str], moto_endpoint: str,
    monkeypatch: pytest.MonkeyPatch, s3: Any, bucket: str,
) -> None:
    """The connector's STS check and the artifact store both follow AWS_ENDPOINT_URL (moto).

    The process has no AWS credentials of its own: only the connector has keys.
    """
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    spec = local_spec(f"s3://{bucket}/kitaru", f"aws-access-keys:AKIAEXAMPLE:{SECRET}",
                      name=unique_name("aws-local-keys"))
    models = registry.register(build_s3_artifact_store(spec), stack=False)
    assert models["artifact_store"].connector.id == models["service_connector"].id
    assert SECRET not in str(models["artifact_store"].configuration)
    assert write_then_read(models["artifact_store"], "keys.txt") == b"written through the engine"
    assert object_keys(s3, bucket) == ["kitaru/keys.txt"]


def test_local_store_with_a_profile_works_because_kitaru_enables_implicit_auth(
    registry: EngineRegistry, keyless_aws_env: dict[str, str], moto_endpoint: str,
    monkeypatch: pytest.MonkeyPatch, s3: Any, bucket: str,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    write_team_profile(keyless_aws_env)
    spec = local_spec(f"s3://{bucket}/kitaru", "aws-profile:team",
                      name=unique_name("aws-local-profile"))
    models = registry.register(build_s3_artifact_store(spec), stack=False)
    assert models["service_connector"].auth_method == "implicit"
    # Kitaru's engine bootstrap turns implicit auth on for the local store...
    assert os.environ.get("ZENML_ENABLE_IMPLICIT_AUTH_METHODS") == "true"

    # ...which the engine itself would refuse.
    monkeypatch.delenv("ZENML_ENABLE_IMPLICIT_AUTH_METHODS", raising=False)
    with pytest.raises(RuntimeError, match="Implicit authentication methods"):
        write_then_read(models["artifact_store"], "refused.txt")

    monkeypatch.setenv("ZENML_ENABLE_IMPLICIT_AUTH_METHODS", "true")
    assert write_then_read(models["artifact_store"], "profile.txt") == b"written through the engine"
    assert object_keys(s3, bucket) == ["kitaru/profile.txt"]


def test_s3_compatible_store_with_keys_in_an_engine_secret(
    registry: EngineRegistry, keyless_aws_env: dict[str, str], moto_endpoint: str, s3: Any,
    bucket: str,
) -> None:
    """The documented way for MinIO/R2 with explicit keys: authentication_secret, no connector."""
    from kitaru.errors import KitaruUsageError
    from kitaru_aws import verify_s3_bucket

    secret_name = unique_name("minio-keys")
    registry.create_secret(
        secret_name, {"aws_access_key_id": "AKIAMINIO", "aws_secret_access_key": SECRET}
    )
    spec = local_spec(
        f"s3://{bucket}/kitaru", name=unique_name("aws-local-secret"),
        client_kwargs={"endpoint_url": moto_endpoint}, authentication_secret=secret_name,
    )
    with pytest.raises(KitaruUsageError, match=f"engine secret '{secret_name}'"):
        verify_s3_bucket(spec)
    built = build_s3_artifact_store(spec)
    assert built.service_connector is None
    models = registry.register(built, stack=False)
    assert SECRET not in str(models["artifact_store"].configuration)
    data = write_then_read(models["artifact_store"], "secret.txt")
    assert data == b"written through the engine"
    assert object_keys(s3, bucket) == ["kitaru/secret.txt"]
