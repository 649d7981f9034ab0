"""ZenML's stacks, components and service connectors as Kitaru's :class:`~kitaru.engine.stacks.StackStore`.

Translation only: ZenML models become the port's records, a name or id that
matches nothing becomes :class:`~kitaru.engine.errors.RecordNotFound`, and a
configuration the engine refuses becomes
:class:`~kitaru.engine.stacks.InvalidConfiguration`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from kitaru._engine.bootstrap import client
from kitaru.engine.errors import RecordNotFound
from kitaru.engine.stacks import (
    ComponentRecord,
    InvalidConfiguration,
    NewComponent,
    NewConnector,
    StackDetailsRecord,
    StackRecord,
)


def _component_type(type_: str) -> Any:
    from zenml.enums import StackComponentType

    return StackComponentType(type_)


def _stack_record(stack: Any, active_id: Any) -> StackRecord:
    return StackRecord(
        id=str(stack.id), name=str(stack.name), is_active=stack.id == active_id, labels=dict(stack.labels or {})
    )


def _get_stack(zen: Any, name_or_id: str) -> Any:
    try:
        return zen.get_stack(name_id_or_prefix=name_or_id, allow_name_prefix_match=False)
    except (KeyError, ValueError) as exc:
        raise RecordNotFound(name_or_id) from exc


def _config_class(type_: str, flavor: str) -> Any:
    from zenml.stack.flavor import Flavor

    try:
        model = client().get_flavor_by_name_and_type(name=flavor, component_type=_component_type(type_))
    except KeyError as exc:
        raise RecordNotFound(f"{type_} flavor {flavor}") from exc
    return Flavor.from_model(model).config_class


class ZenMLStacks:
    """Kitaru's stack port on ZenML's client."""

    def list_stacks(self) -> list[StackRecord]:
        from zenml.utils.pagination_utils import depaginate

        zen = client()
        active_id = zen.active_stack_model.id
        return [_stack_record(s, active_id) for s in depaginate(zen.list_stacks, sort_by="asc:name")]

    def active_stack(self) -> StackRecord:
        stack = client().active_stack_model
        return _stack_record(stack, stack.id)

    def activate_stack(self, name_or_id: str) -> StackRecord:
        zen = client()
        stack = _get_stack(zen, name_or_id)
        zen.activate_stack(stack.id)
        return _stack_record(stack, stack.id)

    def get_stack(self, name_or_id: str) -> StackDetailsRecord:
        zen = client()
        stack = _get_stack(zen, name_or_id)
        components = tuple(
            ComponentRecord(
                type=str(component_type.value),
                id=str(model.id),
                name=str(model.name),
                flavor=str(model.flavor_name),
                configuration=dict(model.configuration or {}),
            )
            for component_type, models in stack.components.items()
            for model in models or ()
        )
        return StackDetailsRecord(stack=_stack_record(stack, zen.active_stack_model.id), components=components)

    def stack_exists(self, name: str) -> bool:
        return bool(client().list_stacks(name=name, size=1, page=1).items)

    def component_exists(self, type: str, name: str) -> bool:
        page = client().list_stack_components(type=_component_type(type).value, name=name, size=1, page=1)
        return bool(page.items)

    def component_fields(self, type: str, flavor: str) -> tuple[str, ...]:
        return tuple(sorted(_config_class(type, flavor).model_fields))

    def validate_configuration(self, type: str, flavor: str, configuration: Mapping[str, Any]) -> dict[str, Any]:
        from pydantic import ValidationError

        config_class = _config_class(type, flavor)
        try:
            validated = config_class(**dict(configuration))
        except ValidationError as exc:
            problems = tuple(
                (".".join(str(part) for part in error["loc"]), str(error["msg"])) for error in exc.errors()
            )
            raise InvalidConfiguration(problems) from None
        except ValueError as exc:
            raise InvalidConfiguration(detail=str(exc)) from None
        return dict(validated.model_dump(mode="json", exclude_unset=True))

    def register_component(self, component: NewComponent) -> str:
        from zenml.models import ComponentRequest

        request = ComponentRequest(
            name=component.name,
            type=_component_type(component.type),
            flavor=component.flavor,
            configuration=dict(component.configuration),
            connector=UUID(component.connector_id) if component.connector_id else None,
            connector_resource_id=component.connector_resource_id,
        )
        return str(client().zen_store.create_stack_component(component=request).id)

    def delete_component(self, type: str, component_id: str) -> None:
        client().delete_stack_component(UUID(component_id), _component_type(type))

    def component_connector_id(self, type: str, component_id: str) -> str | None:
        connector = client().get_stack_component(_component_type(type), UUID(component_id)).connector
        return str(connector.id) if connector is not None else None

    def stacks_using_component(self, component_id: str) -> list[str]:
        from zenml.utils.pagination_utils import depaginate

        return [str(s.id) for s in depaginate(client().list_stacks, component_id=UUID(component_id))]

    def connector_exists(self, name: str) -> bool:
        return bool(client().list_service_connectors(name=name, size=1, page=1).items)

    def register_connector(self, connector: NewConnector) -> str:
        try:
            model, _ = client().create_service_connector(
                name=connector.name,
                connector_type=connector.connector_type,
                auth_method=connector.auth_method,
                configuration=dict(connector.configuration),
                verify=False,
                list_resources=False,
                register=True,
            )
        except (ValueError, KeyError, NotImplementedError) as exc:
            raise InvalidConfiguration(detail=str(exc)) from None
        return str(model.id)

    def connector_in_use(self, connector_id: str) -> bool:
        return bool(client().list_stack_components(connector_id=UUID(connector_id), size=1, page=1).items)

    def delete_connector(self, connector_id: str) -> str:
        zen = client()
        name = zen.get_service_connector(UUID(connector_id), hydrate=False).name
        zen.delete_service_connector(UUID(connector_id))
        return str(name)

    def register_stack(self, name: str, component_ids: Mapping[str, str], labels: Mapping[str, str]) -> StackRecord:
        components = {_component_type(type_): UUID(cid) for type_, cid in component_ids.items()}
        stack = client().create_stack(name=name, components=components, labels=dict(labels))
        return StackRecord(id=str(stack.id), name=str(stack.name), is_active=False, labels=dict(stack.labels or {}))

    def delete_stack(self, stack_id: str) -> None:
        zen = client()
        with warnings.catch_warnings():
            # SQLAlchemy warns about the stack's component links it cleans up itself.
            warnings.simplefilter("ignore")
            zen.zen_store.delete_stack(stack_id=UUID(stack_id))


__all__ = ["ZenMLStacks"]
