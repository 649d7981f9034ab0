"""The engine accepts what the Azure plugin describes, and the registered pieces work.

These tests talk to ZenML directly (the real SQLite store of the session's
config dir) on purpose, independently of Kitaru's own stack creation: every
configuration the plugin builds must validate against the real flavor's config
model, the connector must register with each auth method, components must link
to it with the resource IDs the connector understands, and an ``azure``
artifact store built for a local stack must really read and write an Azurite
container through the engine, authenticated by ``AZURE_STORAGE_CONNECTION_STRING``.
"""

from __future__ import annotations

import pytest

from kitaru_azure import build_azure_artifact_store, build_azureml_components
from tests.azure.conftest import Azurite
from tests.azure.test_build import CLIENT, SUBSCRIPTION, TENANT, azureml_spec
from tests.cloud.engine import (
    COMPONENT_ROLES,
    EngineRegistry,
    artifact_store,
    validated_configurations,
    validated_connector,
    write_then_read,
)
from tests.cloud.specs import local_spec, unique_name

SECRET = "Sx8Q~example-client-secret"
CREDENTIALS = [
    None,
    f"azure-service-principal:{TENANT}:{CLIENT}:{SECRET}",
    f"azure-access-token:{SECRET}",
]


@pytest.mark.parametrize("credentials", CREDENTIALS, ids=["implicit", "service-principal", "token"])
def test_azureml_configurations_validate_against_the_real_flavors(credentials: str | None) -> None:
    cluster = {"mode": "compute-cluster", "compute_name": "kitaru-cpu", "max_instances": 2}
    spec = azureml_spec(region="westeurope", credentials=credentials, extra={"orchestrator": cluster})
    built = build_azureml_components(spec)
    assert built.orchestrator.configuration["location"] == "westeurope"
    assert set(validated_configurations(built)) == set(COMPONENT_ROLES)
    validated = validated_connector(built.service_connector)
    assert str(validated.subscription_id) == SUBSCRIPTION


@pytest.mark.parametrize("credentials", CREDENTIALS, ids=["implicit", "service-principal", "token"])
def test_azureml_stack_registers_with_linked_components(
    registry: EngineRegistry, credentials: str | None
) -> None:
    name = unique_name("azml")
    built = build_azureml_components(
        azureml_spec(name=name, artifact_store="abfss://kitaru/runs", credentials=credentials)
    )
    models = registry.register(built)
    connector = models["service_connector"]
    connector_type = connector.connector_type  # a type model or its name, depending on hydration
    assert getattr(connector_type, "connector_type", connector_type) == "azure"
    assert built.service_connector is not None
    assert connector.auth_method == built.service_connector.auth_method
    assert str(connector.configuration.get("subscription_id")) == SUBSCRIPTION
    for secret_key in ("client_secret", "token"):
        assert secret_key not in connector.configuration, "secrets must not be plain configuration"

    orchestrator = models["orchestrator"]
    assert (orchestrator.flavor_name, orchestrator.connector.id) == ("azureml", connector.id)
    assert orchestrator.configuration["workspace"] == "ml-ws"
    registry_model = models["container_registry"]
    assert registry_model.connector.id == connector.id
    assert registry_model.connector_resource_id == "teamregistry.azurecr.io"
    store = models["artifact_store"]
    assert store.configuration["path"] == "abfs://kitaru/runs"
    if credentials is not None and credentials.startswith("azure-access-token"):
        assert store.connector is None
    else:
        assert store.connector.id == connector.id
        assert store.connector_resource_id == "az://kitaru"


def test_service_principal_connector_for_a_local_stack_registers(
    registry: EngineRegistry,
) -> None:
    built = build_azure_artifact_store(
        local_spec("az://kitaru/p", f"azure-service-principal:{TENANT}:{CLIENT}:{SECRET}",
                   name=unique_name("azlocal"))
    )
    models = registry.register(built, stack=False)
    assert models["service_connector"].auth_method == "service-principal"
    assert models["artifact_store"].connector.id == models["service_connector"].id


def test_local_azure_store_reads_and_writes_azurite_through_the_engine(
    registry: EngineRegistry, azurite_env: Azurite
) -> None:
    """adlfs inside the engine's Azure store picks up AZURE_STORAGE_CONNECTION_STRING."""
    container = azurite_env.create_container()
    built = build_azure_artifact_store(
        local_spec(f"abfss://{container}/kitaru", name=unique_name("azurite"))
    )
    assert built.service_connector is None
    model = registry.register(built, stack=False)["artifact_store"]
    store = artifact_store(model)
    assert type(store).__name__ == "AzureArtifactStore"
    hello = b"hello from the engine"
    assert write_then_read(model, "probe/hello.txt", hello) == hello
    assert store.exists(f"{store.path}/probe/hello.txt")
    assert azurite_env.blob_names(container) == ["kitaru/probe/hello.txt"]
    store.rmtree(f"{store.path}/probe")
    assert azurite_env.blob_names(container) == []


def test_local_azure_store_can_read_its_connection_string_from_an_engine_secret(
    registry: EngineRegistry, azurite: Azurite, no_azure_env: pytest.MonkeyPatch
) -> None:
    """The alternative to the environment variable: ``--extra artifact_store.authentication_secret``."""
    container = azurite.create_container()
    secret = registry.create_secret(
        unique_name("azurite-conn"), {"connection_string": azurite.connection_string}
    )
    spec = local_spec(f"az://{container}", name=unique_name("azsecret"),
                      authentication_secret=secret.name)
    built = build_azure_artifact_store(spec)
    assert built.artifact_store.configuration == {
        "path": f"az://{container}",
        "authentication_secret": secret.name,
    }
    model = registry.register(built, stack=False)["artifact_store"]
    data = b"no environment variable needed"
    assert write_then_read(model, "from-secret.txt", data) == data
    assert azurite.blob_names(container) == ["from-secret.txt"]
