"""Put what a plugin builds into the real engine: validate, register, inspect, delete.

A plugin's ``build_components(spec)`` (or a backend's ``build(spec)``)
describes a service connector and stack components
(:class:`~kitaru.plugins.records.StackComponents`, or
:class:`~kitaru.plugins.records.ArtifactStoreComponents`); core registers them
with ZenML. These helpers do the same straight through ``zenml.client.Client`` in
the session's SQLite store, so a plugin's tests can check that the engine
accepts every description, independently of Kitaru's own stack creation:

* :func:`validated_configurations` and :func:`validated_connector` run each
  description through the real flavor's and auth method's config models;
* :class:`EngineRegistry` (fixture ``registry``) registers a description the
  way core does (connector, components linked to it, optionally the stack)
  and deletes everything again after the test;
* :func:`artifact_store` and :func:`write_then_read` use a registered
  artifact store the way a flow does;
* :func:`components_named` and :func:`registered_under` show what the CLI
  registered under a name.

ZenML is imported inside the functions: importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from kitaru.plugins.records import (
    ArtifactStoreComponents,
    ComponentSpec,
    ConnectorSpec,
    StackComponents,
)
from kitaru.plugins.records.stacks import thaw

COMPONENT_ROLES: tuple[str, ...] = ("orchestrator", "artifact_store", "container_registry")
"""The components a build may describe besides its connector, in registration order."""

Built = StackComponents | ArtifactStoreComponents
"""What a stack type's ``build_components`` or a backend's ``build`` returns."""


def described_components(built: Built) -> dict[str, ComponentSpec]:
    """The components of a build by role, in registration order (the connector aside)."""
    if isinstance(built, ArtifactStoreComponents):
        return {"artifact_store": built.artifact_store}
    return dict(built.components())


def engine_client() -> Any:
    """ZenML's client after Kitaru's engine bootstrap (as every Kitaru command runs it)."""
    from kitaru._engine.bootstrap import load_engine

    load_engine()
    from zenml.client import Client

    return Client()


def validated_configurations(built: Built) -> dict[str, Any]:
    """Each built component's configuration, validated by its real flavor's config model.

    Fails when a flavor is unknown, a key is not one of the flavor's, or a value
    does not come out of the config model as it went in.

    Returns:
        The config model instance by role.
    """
    engine_client()  # the engine as Kitaru prepares it (its source root included)
    from zenml.enums import StackComponentType
    from zenml.stack.utils import validate_stack_component_config

    configs: dict[str, Any] = {}
    for role, description in described_components(built).items():
        configuration = thaw(description.configuration)
        config = validate_stack_component_config(
            configuration,
            flavor=description.flavor,
            component_type=StackComponentType(role),
        )
        assert config is not None, f"{role} flavor {description.flavor} not found"
        for key, value in configuration.items():
            assert getattr(config, key) == value, f"{role}.{key}"
        configs[role] = config
    return configs


def validated_connector(description: ConnectorSpec | None) -> Any:
    """A built service connector, checked as the engine checks it before registering.

    The engine's client builds its registration request (which checks the
    auth method's required and secret fields), and the auth method's own
    config model validates every value, which must come out as it went in.

    Returns:
        The auth method's config model instance.
    """
    from pydantic import SecretStr
    from zenml.service_connectors.service_connector_registry import service_connector_registry

    assert description is not None, "the build describes no service connector"
    request = _create_connector(engine_client(), description, register=False)
    assert (request.connector_type, request.auth_method) == (
        description.connector_type, description.auth_method,
    )
    connector_type = service_connector_registry.get_service_connector_type(
        description.connector_type
    )
    auth = connector_type.auth_method_dict[description.auth_method]
    config = auth.config_class(**description.configuration)
    for key, value in description.configuration.items():
        stored = getattr(config, key)
        if isinstance(stored, SecretStr):
            stored = stored.get_secret_value()
        assert str(stored) == str(value), f"service_connector.{key}"
    return config


def _create_connector(client: Any, description: ConnectorSpec, *, register: bool) -> Any:
    """What core does with a built service connector: no verification, no resource listing.

    Returns:
        The registered connector, or (``register=False``) the request the
        client validated and would have sent.
    """
    assert description.name, "name the connector like the stack (connector_spec does)"
    connector, _ = client.create_service_connector(
        name=description.name,
        connector_type=description.connector_type,
        auth_method=description.auth_method,
        configuration=thaw(description.configuration),
        verify=False,
        list_resources=False,
        register=register,
    )
    return connector


class EngineRegistry:
    """Registers built descriptions with the engine and deletes them again.

    Use the ``registry`` fixture, or ``with EngineRegistry() as registry:``.
    Everything registered (and every secret made with :meth:`create_secret`)
    is deleted at the end, newest first.
    """

    def __init__(self) -> None:
        self.client = engine_client()
        self._stacks: list[Any] = []
        self._components: list[tuple[Any, Any]] = []
        self._connectors: list[Any] = []
        self._secrets: list[Any] = []

    def __enter__(self) -> EngineRegistry:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.cleanup()

    def register(self, built: Built, *, stack: bool = True) -> dict[str, Any]:
        """Register a build result the way core does, and return the engine's models.

        The connector (if any) first, then each component, linked to the
        connector with its ``connector_resource_id`` when it asks for one, then
        (``stack=True``) the stack, named like the artifact store; what a
        backend builds (:class:`ArtifactStoreComponents`) is no whole stack.

        Returns:
            The models by key: ``service_connector`` (hydrated, secrets not
            expanded), each component role (as linked), and ``stack``.
        """
        from zenml.enums import StackComponentType

        models: dict[str, Any] = {}
        connector_id = None
        if built.service_connector is not None:
            connector = _create_connector(self.client, built.service_connector, register=True)
            self._connectors.append(connector.id)
            connector_id = connector.id
            models["service_connector"] = self.client.get_service_connector(connector.id)
        for role, description in described_components(built).items():
            assert description.name, f"name the {role} like the stack (component_spec does)"
            component_type = StackComponentType(role)
            model = self.client.create_stack_component(
                name=description.name,
                flavor=description.flavor,
                component_type=component_type,
                configuration=thaw(description.configuration),
            )
            self._components.append((component_type, model.id))
            if description.connector:
                assert connector_id is not None, f"{role} asks for a connector the build lacks"
                model = self.client.update_stack_component(
                    model.id,
                    component_type,
                    connector_id=connector_id,
                    connector_resource_id=description.connector_resource_id,
                )
            models[role] = model
        if stack:
            assert isinstance(built, StackComponents), "a backend's build is no whole stack"
            components = {
                StackComponentType(role): models[role].id for role in COMPONENT_ROLES
                if role in models
            }
            created = self.client.create_stack(
                name=built.artifact_store.name, components=components
            )
            self._stacks.append(created.id)
            models["stack"] = self.client.get_stack(created.id)
        return models

    def canonical_resource_ids(
        self,
        built: Built,
        models: Mapping[str, Any],
        resource_types: Mapping[tuple[str, str], str],
    ) -> dict[str, str]:
        """What the registered connector makes of each linked component's resource id.

        Args:
            built: The build result given to :meth:`register`.
            models: What :meth:`register` returned for it.
            resource_types: The connector resource type by (role, flavor).

        Returns:
            The connector's canonical resource id by role.
        """
        from zenml.service_connectors.service_connector_registry import (
            service_connector_registry,
        )

        loaded = self.client.get_service_connector(
            models["service_connector"].id, expand_secrets=True
        )
        connector = service_connector_registry.instantiate_connector(model=loaded)
        canonical: dict[str, str] = {}
        for role, description in described_components(built).items():
            if not description.connector:
                continue
            resource_type = resource_types[(role, description.flavor)]
            _, canonical[role] = connector.validate_runtime_args(
                resource_type, description.connector_resource_id
            )
        return canonical

    def create_secret(self, name: str, values: Mapping[str, str]) -> Any:
        """Create an engine secret that is deleted with everything else."""
        secret = self.client.create_secret(name, values=dict(values))
        self._secrets.append(secret.id)
        return secret

    def cleanup(self) -> None:
        """Delete every stack, component, connector and secret made through this registry."""
        for stack_id in reversed(self._stacks):
            self.client.delete_stack(stack_id)
        for component_type, component_id in reversed(self._components):
            self.client.delete_stack_component(component_id, component_type)
        for connector_id in reversed(self._connectors):
            self.client.delete_service_connector(connector_id)
        for secret_id in reversed(self._secrets):
            self.client.delete_secret(secret_id)
        self._stacks, self._components, self._connectors, self._secrets = [], [], [], []


@pytest.fixture
def registry() -> Iterator[EngineRegistry]:
    """An :class:`EngineRegistry` that deletes what the test registered."""
    with EngineRegistry() as created:
        yield created


def artifact_store(model: Any) -> Any:
    """The engine's artifact store object for a registered component model."""
    from zenml.stack.stack_component import StackComponent

    return StackComponent.from_model(model)


def write_then_read(
    model: Any, relative: str, data: bytes = b"written through the engine"
) -> bytes:
    """Write ``data`` to ``relative`` under a registered artifact store's path; read it back.

    Goes through the engine's own filesystem for the store (s3fs, gcsfs,
    adlfs), with the credentials the store resolves (its connector, its
    authentication secret or the environment).
    """
    store = artifact_store(model)
    path = f"{store.path}/{relative}"
    with store.open(path, "wb") as handle:
        handle.write(data)
    with store.open(path, "rb") as handle:
        return handle.read()


def components_named(name: str) -> dict[str, Any]:
    """The orchestrator, artifact store and container registry registered as ``name``."""
    from zenml.enums import StackComponentType

    client = engine_client()
    return {
        role: client.get_stack_component(StackComponentType(role), name)
        for role in COMPONENT_ROLES
    }


def registered_under(name: str) -> dict[str, bool]:
    """Whether a stack, each kind of component, and a service connector named ``name`` exist."""
    from zenml.enums import StackComponentType

    client = engine_client()
    return {
        "stack": bool(client.list_stacks(name=name).items),
        **{
            role: bool(client.list_stack_components(name=name, type=StackComponentType(role)).items)
            for role in COMPONENT_ROLES
        },
        "service_connector": bool(client.list_service_connectors(name=name).items),
    }
