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

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from kitaru_azure import build_azure_artifact_store, build_azureml_components
from tests.azure.conftest import Azurite
from tests.azure.test_build import CLIENT, SUBSCRIPTION, TENANT, azureml_spec, local_spec

SECRET = "Sx8Q~example-client-secret"
CREDENTIALS = [
    None,
    f"azure-service-principal:{TENANT}:{CLIENT}:{SECRET}",
    f"azure-access-token:{SECRET}",
]
ROLES = ("orchestrator", "artifact_store", "container_registry")


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Registry:
    """Registers built descriptions with the engine, and deletes them afterwards."""

    def __init__(self) -> None:
        from zenml.client import Client

        self.client = Client()
        self.stacks: list[Any] = []
        self.components: list[tuple[Any, Any]] = []
        self.connectors: list[Any] = []

    def register(self, built: dict[str, Any], *, stack: bool = True) -> dict[str, Any]:
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
            models["service_connector"] = self.client.get_service_connector(connector.id)
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
            self.components.append((model.id, component_type))
            if description.get("connector"):
                assert connector_id is not None, f"{role} asks for a connector nobody built"
                model = self.client.update_stack_component(
                    model.id,
                    component_type,
                    connector_id=connector_id,
                    connector_resource_id=description.get("connector_resource_id"),
                )
            models[role] = model
        if stack:
            components = {StackComponentType(role): models[role].id for role in ROLES if role in models}
            models["stack"] = self.client.create_stack(name=_unique("azure-reg"), components=components)
            self.stacks.append(models["stack"].id)
        return models

    def cleanup(self) -> None:
        for stack_id in self.stacks:
            self.client.delete_stack(stack_id)
        for component_id, component_type in reversed(self.components):
            self.client.delete_stack_component(component_id, component_type)
        for connector_id in self.connectors:
            self.client.delete_service_connector(connector_id)


@pytest.fixture
def registry() -> Iterator[Registry]:
    registry = Registry()
    yield registry
    registry.cleanup()


def _config_class(flavor: str, role: str) -> type:
    from zenml.client import Client
    from zenml.enums import StackComponentType
    from zenml.stack.flavor import Flavor

    model = Client().get_flavor_by_name_and_type(flavor, StackComponentType(role))
    return Flavor.from_model(model).config_class


@pytest.mark.parametrize("credentials", CREDENTIALS, ids=["implicit", "service-principal", "token"])
def test_azureml_configurations_validate_against_the_real_flavors(credentials: str | None) -> None:
    from zenml.service_connectors.service_connector_registry import service_connector_registry

    cluster = {"mode": "compute-cluster", "compute_name": "kitaru-cpu", "max_instances": 2}
    spec = azureml_spec(region="westeurope", credentials=credentials, extra={"orchestrator": cluster})
    built = build_azureml_components(spec)
    assert built["orchestrator"]["configuration"]["location"] == "westeurope"
    for role in ROLES:
        config = _config_class(built[role]["flavor"], role)(**built[role]["configuration"])
        for key, value in built[role]["configuration"].items():
            assert getattr(config, key) == value, (role, key)
    connector = built["service_connector"]
    connector_type = service_connector_registry.get_service_connector_type(
        connector["connector_type"]
    )
    auth = connector_type.auth_method_dict[connector["auth_method"]]
    validated = auth.config_class(**connector["configuration"])
    assert str(validated.subscription_id) == SUBSCRIPTION


@pytest.mark.parametrize("credentials", CREDENTIALS, ids=["implicit", "service-principal", "token"])
def test_azureml_stack_registers_with_linked_components(
    registry: Registry, credentials: str | None
) -> None:
    name = _unique("azml")
    built = build_azureml_components(
        azureml_spec(name=name, artifact_store="abfss://kitaru/runs", credentials=credentials)
    )
    models = registry.register(built)
    connector = models["service_connector"]
    connector_type = connector.connector_type  # a type model or its name, depending on hydration
    assert getattr(connector_type, "connector_type", connector_type) == "azure"
    assert connector.auth_method == built["service_connector"]["auth_method"]
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


def test_service_principal_connector_for_a_local_stack_registers(registry: Registry) -> None:
    built = build_azure_artifact_store(
        local_spec("az://kitaru/p", f"azure-service-principal:{TENANT}:{CLIENT}:{SECRET}")
        | {"name": _unique("azlocal")}
    )
    models = registry.register(built, stack=False)
    assert models["service_connector"].auth_method == "service-principal"
    assert models["artifact_store"].connector.id == models["service_connector"].id


def test_local_azure_store_reads_and_writes_azurite_through_the_engine(
    registry: Registry, azurite_env: Azurite
) -> None:
    """adlfs inside the engine's Azure store picks up AZURE_STORAGE_CONNECTION_STRING."""
    from zenml.stack import StackComponent

    container = azurite_env.create_container()
    built = build_azure_artifact_store(
        local_spec(f"abfss://{container}/kitaru") | {"name": _unique("azurite")}
    )
    assert "service_connector" not in built
    model = registry.register(built, stack=False)["artifact_store"]
    store = StackComponent.from_model(model)
    assert type(store).__name__ == "AzureArtifactStore"
    path = f"{store.path}/probe/hello.txt"
    with store.open(path, "wb") as handle:
        handle.write(b"hello from the engine")
    with store.open(path, "rb") as handle:
        assert handle.read() == b"hello from the engine"
    assert store.exists(path)
    assert azurite_env.blob_names(container) == ["kitaru/probe/hello.txt"]
    store.rmtree(f"{store.path}/probe")
    assert azurite_env.blob_names(container) == []


def test_local_azure_store_can_read_its_connection_string_from_an_engine_secret(
    registry: Registry, azurite: Azurite, no_azure_env: pytest.MonkeyPatch
) -> None:
    """The alternative to the environment variable: ``--extra artifact_store.authentication_secret``."""
    from zenml.stack import StackComponent

    container = azurite.create_container()
    secret = registry.client.create_secret(
        _unique("azurite-conn"), values={"connection_string": azurite.connection_string}
    )
    try:
        spec = local_spec(f"az://{container}", authentication_secret=secret.name)
        built = build_azure_artifact_store(spec | {"name": _unique("azsecret")})
        assert built["artifact_store"]["configuration"] == {
            "path": f"az://{container}",
            "authentication_secret": secret.name,
        }
        store = StackComponent.from_model(registry.register(built, stack=False)["artifact_store"])
        with store.open(f"{store.path}/from-secret.txt", "wb") as handle:
            handle.write(b"no environment variable needed")
        assert azurite.blob_names(container) == ["from-secret.txt"]
    finally:
        registry.client.delete_secret(secret.id)
