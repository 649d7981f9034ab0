"""Create a stack through its plugin, all or nothing.

Order of work, so a failure never leaves anything half-created: validate the
request (:mod:`kitaru.stacks.request`), let the plugin describe the
components, check each description against its engine flavor, verify access
with the provider's SDK, check the names are free, and only then register
the service connector, the components and the stack. If any registration
fails, what was registered is deleted again (newest first) and the error is
re-raised.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping
from typing import Any

from kitaru.engine import get_engine
from kitaru.engine.stacks import NewComponent, StackStore
from kitaru.errors import KitaruStateError, KitaruUsageError
from kitaru.plugins.records import ComponentSpec, PluginRecordError, StackComponents
from kitaru.stacks.components import MANAGED_LABEL, STACK_TYPE_LABEL, register_connector, validate_component
from kitaru.stacks.info import StackInfo
from kitaru.stacks.request import StackRequest, resolve_stack_request

LOCAL_STACK_TYPE = "local"
"""The only stack type :func:`create_stack` creates from Python."""


def create_stack(name: str, *, activate: bool = True, labels: dict[str, str] | None = None) -> StackInfo:
    """Create a local stack: a local orchestrator and artifact store named like it.

    The stack is labelled ``kitaru.managed=true`` (plus ``labels``). Creation
    is transactional: if any step fails, what was registered is deleted again
    and the error is re-raised.

    Args:
        name: The stack name (also the name of its two components).
        activate: Make the new stack the active one.
        labels: Extra stack labels.

    Returns:
        The new stack.

    Raises:
        KitaruUsageError: If the name is empty.
        KitaruStateError: If a stack (or component) with that name exists.
    """
    if not isinstance(name, str) or not name.strip():
        raise KitaruUsageError("create_stack() needs a stack name.")
    result = create_stack_with_summary(name, stack_type=LOCAL_STACK_TYPE, activate=activate, labels=labels)
    return StackInfo(id=result["id"], name=result["name"], is_active=result["is_active"])


def create_stack_with_summary(
    name: str,
    *,
    stack_type: str,
    activate: bool = True,
    labels: Mapping[str, str] | None = None,
    fields: Mapping[str, Any] | None = None,
    verify: bool = True,
    async_mode: bool = False,
    surface: str = "python",
) -> dict[str, Any]:
    """Create a stack of any type through its plugin (``kitaru stack create``, MCP ``manage_stack``).

    Args:
        name: The stack name.
        stack_type: ``local``, ``kubernetes``, ``vertex``, ``sagemaker``,
            ``azureml`` or a type a plugin adds.
        activate: Make the new stack the active one.
        labels: Extra stack labels (``kitaru.managed=true`` is always set).
        fields: Options (``artifact_store``, ``region`` ...) plus ``extra``
            (component overrides by target).
        verify: Check the bucket with the provider's SDK first.
        async_mode: Remote orchestrators return without waiting for the run.
        surface: ``cli`` or ``python``, for how messages name options.

    Returns:
        ``{id, name, is_active, previous_active_stack, components_created,
        stack_type}`` plus ``service_connectors_created`` and ``resources``
        for stacks that have them.
    """
    if labels is not None and not isinstance(labels, Mapping):
        raise KitaruUsageError("Stack labels must be a mapping of strings.")
    options = dict(fields or {})
    extra = options.pop("extra", None)
    request = resolve_stack_request(name, stack_type, options, extra=extra, async_mode=async_mode, surface=surface)
    provider = request.provider
    components = _components(request)
    configurations = {target: validate_component(target, component) for target, component in components.components()}
    verifier = provider.verifier()
    if verify and verifier is not None:
        verifier(request.spec)
    stacks = get_engine().stacks
    connector = components.service_connector
    _check_names_free(stacks, request.name, components)

    all_labels = {str(k): str(v) for k, v in (labels or {}).items()}
    all_labels[MANAGED_LABEL] = "true"
    all_labels[STACK_TYPE_LABEL] = request.stack_type
    previous = stacks.active_stack().name
    created: list[tuple[str, str]] = []
    connector_id: str | None = None
    stack_id: str | None = None
    try:
        if connector is not None:
            connector_id = register_connector(connector)
        for target, component in components.components():
            linked = connector_id is not None and component.connector
            new = NewComponent(
                type=target,
                name=component.name,
                flavor=component.flavor,
                configuration=configurations[target],
                connector_id=connector_id if linked else None,
                connector_resource_id=component.connector_resource_id if linked else None,
            )
            created.append((target, stacks.register_component(new)))
        record = stacks.register_stack(request.name, dict(created), all_labels)
        stack_id = record.id
        if activate:
            record = stacks.activate_stack(stack_id)
    except BaseException:
        _rollback(stacks, stack_id, created, previous, connector_id)
        raise
    result: dict[str, Any] = {
        "id": record.id,
        "name": record.name,
        "is_active": bool(activate),
        "previous_active_stack": previous,
        "components_created": [f"{target}:{component.name}" for target, component in components.components()],
        "stack_type": request.stack_type,
    }
    if connector is not None:
        result["service_connectors_created"] = [connector.name]
    resources = request.resources()
    if resources:
        result["resources"] = resources
    return result


def _components(request: StackRequest) -> StackComponents:
    """Ask the type's plugin for the stack's components, named like the stack unless it named them.

    Raises:
        KitaruUsageError: When the plugin's answer is malformed (a plugin bug,
            named with the plugin that made it).
    """
    provider = request.provider
    assert provider.build_components is not None  # checked when the record was built
    try:
        components = StackComponents.coerce(provider.build_components(request.spec))
    except PluginRecordError as exc:
        raise KitaruUsageError(
            f"The '{request.stack_type}' stack type from {provider.source} described its components "
            f"wrongly: {exc} This is a bug in that plugin; report it to its authors."
        ) from None
    return StackComponents(
        orchestrator=_named(components.orchestrator, request.name),
        artifact_store=_named(components.artifact_store, request.name),
        container_registry=(
            None if components.container_registry is None else _named(components.container_registry, request.name)
        ),
        service_connector=(
            None
            if components.service_connector is None
            else dataclasses.replace(
                components.service_connector, name=components.service_connector.name or request.name
            )
        ),
    )


def _named(component: ComponentSpec, name: str) -> ComponentSpec:
    return component if component.name else dataclasses.replace(component, name=name)


def _check_names_free(stacks: StackStore, name: str, components: StackComponents) -> None:
    if stacks.stack_exists(name):
        raise KitaruStateError(
            f"A stack named '{name}' already exists. Pick another name, or delete it with "
            f"`kitaru stack delete {name}`."
        )
    for target, component in components.components():
        if stacks.component_exists(target, component.name):
            kind = target.replace("_", " ")
            article = "An" if kind[0] in "aeiou" else "A"
            raise KitaruStateError(
                f"{article} {kind} named '{component.name}' already exists; pick another stack name."
            )
    connector = components.service_connector
    if connector is not None and stacks.connector_exists(connector.name):
        raise KitaruStateError(
            f"A service connector named '{connector.name}' already exists; pick another stack name."
        )


def _rollback(
    stacks: StackStore,
    stack_id: str | None,
    created: list[tuple[str, str]],
    previous: str,
    connector_id: str | None = None,
) -> None:
    """Delete what a failed creation registered, newest first; never raise."""
    if stack_id is not None:
        with contextlib.suppress(Exception):
            if stacks.active_stack().id == stack_id:
                stacks.activate_stack(previous)
        with contextlib.suppress(Exception):
            stacks.delete_stack(stack_id)
    for target, component_id in reversed(created):
        with contextlib.suppress(Exception):
            stacks.delete_component(target, component_id)
    if connector_id is not None:
        with contextlib.suppress(Exception):
            stacks.delete_connector(connector_id)


__all__ = ["LOCAL_STACK_TYPE", "create_stack", "create_stack_with_summary"]
