"""Read and switch the engine's stacks."""

from __future__ import annotations

from typing import Any

from kitaru._engine.bootstrap import load_engine


def _client() -> Any:
    load_engine()
    from zenml.client import Client

    return Client()


def list_stack_records() -> list[dict[str, Any]]:
    """Every stack as ``{id, name, is_active}``, across all pages."""
    from zenml.utils.pagination_utils import depaginate

    client = _client()
    active_id = client.active_stack_model.id
    stacks = depaginate(client.list_stacks, sort_by="asc:name")
    return [{"id": str(s.id), "name": s.name, "is_active": s.id == active_id} for s in stacks]


def active_stack_record() -> dict[str, Any]:
    """The active stack as ``{id, name, is_active}``."""
    stack = _client().active_stack_model
    return {"id": str(stack.id), "name": stack.name, "is_active": True}


def activate_stack(name_or_id: str) -> dict[str, Any]:
    """Activate a stack by exact name or id.

    Raises:
        KeyError: If no stack matches.
    """
    client = _client()
    try:
        stack = client.get_stack(name_id_or_prefix=name_or_id, allow_name_prefix_match=False)
    except (KeyError, ValueError) as exc:
        raise KeyError(name_or_id) from exc
    client.activate_stack(stack.id)
    return {"id": str(stack.id), "name": stack.name, "is_active": True}


# -- create / inspect / delete ---------------------------------------------------

MANAGED_LABEL = "kitaru.managed"
"""The label Kitaru puts on the stacks it creates (value ``"true"``)."""

_TARGET_TYPES: dict[str, str] = {
    "orchestrator": "orchestrator",
    "artifact_store": "artifact_store",
    "container_registry": "container_registry",
}
"""Component description targets → engine component type values."""

_REMOTE_ORCHESTRATORS = ("kubernetes", "vertex", "sagemaker", "azureml")


def _component_type(target: str) -> Any:
    from zenml.enums import StackComponentType

    try:
        return StackComponentType(_TARGET_TYPES[target])
    except KeyError as exc:
        raise ValueError(
            f"Unknown stack component target '{target}'. Use one of: {', '.join(_TARGET_TYPES)}."
        ) from exc


def _get_stack(client: Any, name_or_id: str) -> Any:
    try:
        return client.get_stack(name_id_or_prefix=name_or_id, allow_name_prefix_match=False)
    except (KeyError, ValueError) as exc:
        raise KeyError(name_or_id) from exc


def stack_exists(name: str) -> bool:
    """Whether a stack with exactly this name exists."""
    client = _client()
    return bool(client.list_stacks(name=name, size=1, page=1).items)


def component_exists(target: str, name: str) -> bool:
    """Whether a component of the ``target`` type with exactly this name exists."""
    client = _client()
    page = client.list_stack_components(type=_component_type(target).value, name=name, size=1, page=1)
    return bool(page.items)


def _config_class(target: str, flavor: str) -> Any:
    from kitaru.errors import KitaruUsageError
    from zenml.stack.flavor import Flavor

    client = _client()
    component_type = _component_type(target)
    try:
        model = client.get_flavor_by_name_and_type(name=flavor, component_type=component_type)
    except KeyError:
        raise KitaruUsageError(
            f"The engine has no {target.replace('_', ' ')} flavor '{flavor}'. The plugin that "
            "builds this stack needs its engine integration installed; reinstall the plugin "
            "(pip install 'kitaru[aws]' / 'kitaru[gcp]' / 'kitaru[azure]')."
        ) from None
    return Flavor.from_model(model).config_class


def validate_component(target: str, description: dict[str, Any]) -> dict[str, Any]:
    """Check a component description against its flavor's config model, before registering.

    Returns:
        The configuration as the engine will store it.

    Raises:
        KitaruUsageError: Naming each invalid option (with close matches for
            misspelled ones) and how to fix it with ``--extra``.
    """
    import difflib

    from pydantic import ValidationError

    from kitaru.errors import KitaruUsageError

    flavor = description["flavor"]
    config_class = _config_class(target, flavor)
    configuration = dict(description.get("configuration") or {})
    known = sorted(config_class.model_fields)
    unknown = sorted(set(configuration) - set(known))
    if unknown:
        hints = []
        for key in unknown:
            close = difflib.get_close_matches(key, known, n=2)
            hints.append(f"'{key}'" + (f" (did you mean {' or '.join(close)}?)" if close else ""))
        raise KitaruUsageError(
            f"Invalid {target} option(s) for the '{flavor}' {target.replace('_', ' ')}: "
            f"{', '.join(hints)}. Valid options: {', '.join(known)}. "
            f"Fix or remove --extra {target}.FIELD=VALUE."
        )
    try:
        validated = config_class(**configuration)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or target}: {error['msg']}"
            for error in exc.errors()
        )
        raise KitaruUsageError(
            f"Invalid {target} settings for the '{flavor}' {target.replace('_', ' ')}: "
            f"{problems}. Fix the value with --extra {target}.FIELD=VALUE."
        ) from None
    except ValueError as exc:
        raise KitaruUsageError(
            f"Invalid {target} settings for the '{flavor}' {target.replace('_', ' ')}: {exc}"
        ) from None
    return validated.model_dump(mode="json", exclude_unset=True)


def register_component(
    target: str, description: dict[str, Any], connector_id: str | None = None
) -> str:
    """Register one stack component from its description and return its id.

    Args:
        target: ``orchestrator``, ``artifact_store`` or ``container_registry``.
        description: ``{"name", "flavor", "configuration"}``, optionally
            ``"connector": True`` and ``"connector_resource_id"``.
        connector_id: The stack's service connector, linked when the
            description asks for it.
    """
    from uuid import UUID

    from zenml.models import ComponentRequest

    client = _client()
    configuration = validate_component(target, description)
    linked = connector_id is not None and bool(description.get("connector"))
    request = ComponentRequest(
        name=description["name"],
        type=_component_type(target),
        flavor=description["flavor"],
        configuration=configuration,
        connector=UUID(connector_id) if linked else None,
        connector_resource_id=description.get("connector_resource_id") if linked else None,
    )
    return str(client.zen_store.create_stack_component(component=request).id)


def connector_exists(name: str) -> bool:
    """Whether a service connector with exactly this name exists."""
    return bool(_client().list_service_connectors(name=name, size=1, page=1).items)


def register_connector(description: dict[str, Any]) -> str:
    """Register a service connector (not verified here: the plugin verified access) and return its id.

    Args:
        description: ``{"name", "connector_type", "auth_method", "configuration"}``.

    Raises:
        KitaruUsageError: When the engine rejects the connector configuration.
    """
    from kitaru.errors import KitaruUsageError

    client = _client()
    try:
        connector, _ = client.create_service_connector(
            name=description["name"],
            connector_type=description["connector_type"],
            auth_method=description["auth_method"],
            configuration=dict(description.get("configuration") or {}),
            verify=False,
            list_resources=False,
            register=True,
        )
    except (ValueError, KeyError, NotImplementedError) as exc:
        raise KitaruUsageError(
            f"The engine rejected the {description['connector_type']} service connector "
            f"({description['auth_method']}): {_masked(str(exc), description)}"
        ) from None
    return str(connector.id)


def _masked(text: str, description: dict[str, Any]) -> str:
    """``text`` with every configuration value of a connector replaced by ``***``.

    Engine validation errors may echo the values they reject, and connector
    configurations hold keys, secrets and key files.
    """
    for value in (description.get("configuration") or {}).values():
        value_text = str(value)
        if len(value_text) >= 4:
            text = text.replace(value_text, "***")
    return text


def delete_connector(connector_id: str) -> None:
    """Delete a service connector by id."""
    from uuid import UUID

    _client().delete_service_connector(UUID(connector_id))


def delete_component(target: str, component_id: str) -> None:
    """Delete a stack component by id."""
    from uuid import UUID

    _client().delete_stack_component(UUID(component_id), _component_type(target))


def register_stack(name: str, component_ids: dict[str, str], labels: dict[str, str]) -> dict[str, Any]:
    """Register a stack from already registered components.

    Returns:
        ``{id, name, is_active}`` (not activated here).
    """
    from uuid import UUID

    client = _client()
    components = {_component_type(target): UUID(cid) for target, cid in component_ids.items()}
    stack = client.create_stack(name=name, components=components, labels=dict(labels))
    return {"id": str(stack.id), "name": stack.name, "is_active": False}


def delete_stack_record(stack_id: str) -> None:
    """Delete a stack (not its components) by id; it must not be active."""
    import warnings
    from uuid import UUID

    client = _client()
    with warnings.catch_warnings():
        # SQLAlchemy warns about the stack's component links it cleans up itself.
        warnings.simplefilter("ignore")
        client.zen_store.delete_stack(stack_id=UUID(stack_id))


def _is_managed(stack: Any) -> bool:
    labels = stack.labels or {}
    return str(labels.get(MANAGED_LABEL, "")).lower() == "true"


def _stack_type(components: dict[str, Any]) -> str:
    orchestrator = components.get("orchestrator")
    flavor = orchestrator.flavor_name if orchestrator is not None else None
    if flavor in _REMOTE_ORCHESTRATORS:
        return str(flavor)
    if flavor == "local" and "container_registry" not in components:
        return "local"
    return "custom"


def _describe(stack: Any, active_id: Any) -> dict[str, Any]:
    components: dict[str, Any] = {}
    extra: list[tuple[str, Any]] = []
    for component_type, models in stack.components.items():
        key = component_type.value
        if not models:
            continue
        if key in _TARGET_TYPES:
            components[key] = models[0]
        else:
            extra.extend((key, model) for model in models)
    described = []
    for target in _TARGET_TYPES:
        model = components.get(target)
        if model is not None:
            described.append(
                {
                    "type": target,
                    "id": str(model.id),
                    "name": model.name,
                    "flavor": model.flavor_name,
                    "configuration": dict(model.configuration or {}),
                }
            )
    for key, model in extra:
        described.append(
            {
                "type": key,
                "id": str(model.id),
                "name": model.name,
                "flavor": model.flavor_name,
                "configuration": dict(model.configuration or {}),
            }
        )
    return {
        "id": str(stack.id),
        "name": stack.name,
        "is_active": stack.id == active_id,
        "is_managed": _is_managed(stack),
        "stack_type": _stack_type({**components, **{f"{k}:{m.id}": m for k, m in extra}}),
        "labels": dict(stack.labels or {}),
        "components": described,
    }


def stack_details(name_or_id: str) -> dict[str, Any]:
    """One stack with its components.

    Returns:
        ``{id, name, is_active, is_managed, stack_type, labels, components:
        [{type, id, name, flavor, configuration}]}``.

    Raises:
        KeyError: If no stack matches.
    """
    client = _client()
    stack = _get_stack(client, name_or_id)
    return _describe(stack, client.active_stack_model.id)


def list_stack_details() -> list[dict[str, Any]]:
    """Every stack as ``{id, name, is_active, is_managed}``, across all pages."""
    from zenml.utils.pagination_utils import depaginate

    client = _client()
    active_id = client.active_stack_model.id
    stacks = depaginate(client.list_stacks, sort_by="asc:name")
    return [
        {"id": str(s.id), "name": s.name, "is_active": s.id == active_id, "is_managed": _is_managed(s)}
        for s in stacks
    ]


def stacks_using_component(component_id: str) -> list[str]:
    """Ids of the stacks that contain the component."""
    from uuid import UUID

    from zenml.utils.pagination_utils import depaginate

    client = _client()
    stacks = depaginate(client.list_stacks, component_id=UUID(component_id))
    return [str(s.id) for s in stacks]


def delete_unshared_connector(connector_id: str) -> str | None:
    """Delete a service connector when no component uses it any more.

    Returns:
        The deleted connector's name, or None when it is still in use.
    """
    from uuid import UUID

    client = _client()
    if client.list_stack_components(connector_id=UUID(connector_id), size=1, page=1).items:
        return None
    name = client.get_service_connector(UUID(connector_id), hydrate=False).name
    client.delete_service_connector(UUID(connector_id))
    return str(name)


def component_connector_id(target: str, component_id: str) -> str | None:
    """The id of the service connector a component uses, if any."""
    from uuid import UUID

    model = _client().get_stack_component(_component_type(target), UUID(component_id))
    connector = model.connector
    return str(connector.id) if connector is not None else None
