"""The port for stacks: the engine's stacks, their components and service connectors.

A stack is a set of components, one per *type* (``orchestrator``,
``artifact_store``, ``container_registry``, ``log_store`` ...), each of an
engine *flavor* (``local``, ``s3``, ``sagemaker``) with a configuration. A
service connector holds the cloud credentials components use. The adapter
stores and reads them; Kitaru's rules (which stacks it manages, a stack's
type, validation messages, rollback of a failed creation, what a recursive
delete removes) live in :mod:`kitaru.stacks` and see only these records.

Ids are strings. A name or id that matches nothing raises
:class:`~kitaru.engine.errors.RecordNotFound`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class StackRecord:
    """A stack without its components.

    Attributes:
        id: The stack's id.
        name: Its name.
        is_active: Whether it is the active stack.
        labels: Its labels (Kitaru marks the stacks it creates).
    """

    id: str
    name: str
    is_active: bool
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ComponentRecord:
    """One component of a stack.

    Attributes:
        type: The component type (``orchestrator``, ``artifact_store`` ...).
        id: The component's id.
        name: Its name.
        flavor: Its engine flavor (``local``, ``s3``, ``sagemaker`` ...).
        configuration: Its stored configuration.
    """

    type: str
    id: str
    name: str
    flavor: str
    configuration: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StackDetailsRecord:
    """A stack with its components, in the engine's order of component types.

    Attributes:
        stack: The stack.
        components: Every component (a type may in principle have several).
    """

    stack: StackRecord
    components: tuple[ComponentRecord, ...] = ()


@dataclass(frozen=True)
class NewComponent:
    """A component to register.

    Attributes:
        type: The component type.
        name: Its name.
        flavor: Its engine flavor.
        configuration: Its configuration, as :meth:`StackStore.validate_configuration`
            returned it.
        connector_id: The service connector it authenticates through, if any.
        connector_resource_id: The resource of that connector it uses, if any.
    """

    type: str
    name: str
    flavor: str
    configuration: Mapping[str, Any] = field(default_factory=dict)
    connector_id: str | None = None
    connector_resource_id: str | None = None


@dataclass(frozen=True)
class NewConnector:
    """A service connector to register (not verified: Kitaru's plugins verify access).

    Attributes:
        name: Its name.
        connector_type: The engine's connector type (``aws``, ``gcp``, ``azure``).
        auth_method: How it authenticates (``secret-key``, ``service-account`` ...).
        configuration: Its settings, credentials included. Never print these.
    """

    name: str
    connector_type: str
    auth_method: str
    configuration: Mapping[str, Any] = field(default_factory=dict, repr=False)


class InvalidConfiguration(ValueError):
    """The engine refused a component or connector configuration.

    Attributes:
        problems: ``(location, message)`` per invalid field; the location is
            a dotted field path, empty when the whole configuration is wrong.
        detail: The engine's own explanation when it gave no field list. It
            may echo the values it refused: hide secrets before showing it.
    """

    def __init__(self, problems: tuple[tuple[str, str], ...] = (), detail: str | None = None) -> None:
        super().__init__(detail or "; ".join(f"{where}: {what}" for where, what in problems))
        self.problems = problems
        self.detail = detail


class StackStore(Protocol):
    """What Kitaru needs from an engine to manage stacks."""

    def list_stacks(self) -> list[StackRecord]:
        """Every stack, across all pages, sorted by name."""
        ...

    def active_stack(self) -> StackRecord:
        """The active stack."""
        ...

    def activate_stack(self, name_or_id: str) -> StackRecord:
        """Activate a stack by exact name or id (raises ``RecordNotFound``)."""
        ...

    def get_stack(self, name_or_id: str) -> StackDetailsRecord:
        """A stack with its components, by exact name or id (raises ``RecordNotFound``)."""
        ...

    def stack_exists(self, name: str) -> bool:
        """Whether a stack has exactly this name."""
        ...

    def component_exists(self, type: str, name: str) -> bool:
        """Whether a component of this type has exactly this name."""
        ...

    def component_fields(self, type: str, flavor: str) -> tuple[str, ...]:
        """The configuration fields a flavor accepts, sorted (raises ``RecordNotFound`` for an unknown flavor)."""
        ...

    def validate_configuration(self, type: str, flavor: str, configuration: Mapping[str, Any]) -> dict[str, Any]:
        """Check a configuration with the flavor's own model.

        Returns:
            The configuration as the engine stores it (only the fields given).

        Raises:
            RecordNotFound: For an unknown flavor.
            InvalidConfiguration: Naming the invalid fields.
        """
        ...

    def register_component(self, component: NewComponent) -> str:
        """Register a component and return its id."""
        ...

    def delete_component(self, type: str, component_id: str) -> None:
        """Delete a component by id."""
        ...

    def component_connector_id(self, type: str, component_id: str) -> str | None:
        """The id of the service connector a component uses, if any."""
        ...

    def stacks_using_component(self, component_id: str) -> list[str]:
        """Ids of the stacks that contain a component."""
        ...

    def connector_exists(self, name: str) -> bool:
        """Whether a service connector has exactly this name."""
        ...

    def register_connector(self, connector: NewConnector) -> str:
        """Register a service connector and return its id (raises ``InvalidConfiguration``)."""
        ...

    def connector_in_use(self, connector_id: str) -> bool:
        """Whether any component still uses a service connector."""
        ...

    def delete_connector(self, connector_id: str) -> str:
        """Delete a service connector by id and return its name."""
        ...

    def register_stack(self, name: str, component_ids: Mapping[str, str], labels: Mapping[str, str]) -> StackRecord:
        """Register a stack from registered components (type → id); it is not activated."""
        ...

    def delete_stack(self, stack_id: str) -> None:
        """Delete a stack by id (not its components); it must not be active."""
        ...


__all__ = [
    "ComponentRecord",
    "InvalidConfiguration",
    "NewComponent",
    "NewConnector",
    "StackDetailsRecord",
    "StackRecord",
    "StackStore",
]
