"""Stack helpers: list, inspect and switch the stack executions run on.

A stack is where an execution runs and where its artifacts live. The local
default (``default``) runs in-process and stores everything under the Kitaru
config directory.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from kitaru.errors import KitaruFeatureNotAvailableError, KitaruStateError, KitaruUsageError


class StackInfo(BaseModel):
    """A stack as Kitaru shows it."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    is_active: bool


def list_stacks() -> list[StackInfo]:
    """List every stack (all pages), flagging the active one."""
    from kitaru._engine.stacks import list_stack_records

    return [StackInfo(**record) for record in list_stack_records()]


def current_stack() -> StackInfo:
    """Return the active stack."""
    from kitaru._engine.stacks import active_stack_record

    return StackInfo(**active_stack_record())


def use_stack(name_or_id: str) -> StackInfo:
    """Activate a stack by name or id and return it.

    Raises:
        KitaruUsageError: If the selector is empty.
        KitaruStateError: If no such stack exists.
    """
    if not isinstance(name_or_id, str) or not name_or_id.strip():
        raise KitaruUsageError("use_stack() needs a stack name or id; list them with `kitaru stack list`.")
    from kitaru._engine.stacks import activate_stack

    try:
        return StackInfo(**activate_stack(name_or_id.strip()))
    except KeyError as exc:
        raise KitaruStateError(
            f"No stack named or with id '{name_or_id}'. List stacks with `kitaru stack list`."
        ) from exc


LOCAL_STACK_TYPE = "local"
"""The only stack type :func:`create_stack` creates from Python."""

DEFAULT_STACK_NAME = "default"
"""The engine's built-in local stack; it cannot be deleted."""

MANAGED_LABEL = "kitaru.managed"
"""Label put on every stack Kitaru creates (value ``"true"``)."""


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
    result = _create_stack(name, stack_type=LOCAL_STACK_TYPE, activate=activate, labels=labels)
    return StackInfo(id=result["id"], name=result["name"], is_active=result["is_active"])


def _create_stack(
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
    """Create a stack of ``stack_type`` through its plugin (shared with the CLI).

    Order of work, so a failure never leaves anything half-created: validate
    the request (:mod:`kitaru.stack_request`), let the plugin describe the
    components, check each description against its engine flavor, verify
    access with the provider's SDK, check names are free, and only then
    register the service connector, the components and the stack. If any
    registration fails, what was registered is deleted again.

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
    from kitaru.stack_request import resolve_stack_request

    if labels is not None and not isinstance(labels, Mapping):
        raise KitaruUsageError("Stack labels must be a mapping of strings.")
    options = dict(fields or {})
    extra = options.pop("extra", None)
    request = resolve_stack_request(
        name, stack_type, options, extra=extra, async_mode=async_mode, surface=surface
    )
    provider = request.provider
    if provider.build_components is None:
        raise KitaruFeatureNotAvailableError(
            f"The '{request.stack_type}' stack type from {provider.source} cannot create stacks "
            "(it has no build_components)."
        )
    from kitaru._engine import stacks as engine

    description = {key: dict(value) for key, value in provider.build_components(request.spec).items()}
    connector = description.pop("service_connector", None)
    components = description
    for target, component in components.items():
        engine.validate_component(target, component)
    if verify and provider.verify is not None:
        provider.verify(request.spec)
    _check_names_free(engine, request.name, components, connector)

    all_labels = {str(k): str(v) for k, v in (labels or {}).items()}
    all_labels[MANAGED_LABEL] = "true"
    previous = engine.active_stack_record()["name"]
    created: list[tuple[str, str]] = []
    connector_id: str | None = None
    stack_id: str | None = None
    try:
        if connector is not None:
            connector_id = engine.register_connector(connector)
        for target, component in components.items():
            created.append((target, engine.register_component(target, component, connector_id)))
        record = engine.register_stack(request.name, dict(created), all_labels)
        stack_id = record["id"]
        if activate:
            record = engine.activate_stack(stack_id)
    except BaseException:
        _rollback(engine, stack_id, created, previous, connector_id)
        raise
    result: dict[str, Any] = {
        "id": record["id"],
        "name": record["name"],
        "is_active": bool(activate),
        "previous_active_stack": previous,
        "components_created": [f"{target}:{components[target]['name']}" for target, _ in created],
        "stack_type": request.stack_type,
    }
    if connector is not None:
        result["service_connectors_created"] = [connector["name"]]
    resources = request.resources()
    if resources:
        result["resources"] = resources
    return result


def _check_names_free(
    engine: Any, name: str, components: Mapping[str, Any], connector: Mapping[str, Any] | None
) -> None:
    if engine.stack_exists(name):
        raise KitaruStateError(
            f"A stack named '{name}' already exists. Pick another name, or delete it with "
            f"`kitaru stack delete {name}`."
        )
    for target, description in components.items():
        if engine.component_exists(target, description["name"]):
            kind = target.replace("_", " ")
            article = "An" if kind[0] in "aeiou" else "A"
            raise KitaruStateError(
                f"{article} {kind} named '{description['name']}' already exists; "
                "pick another stack name."
            )
    if connector is not None and engine.connector_exists(connector["name"]):
        raise KitaruStateError(
            f"A service connector named '{connector['name']}' already exists; pick another "
            "stack name."
        )


def _rollback(
    engine: Any,
    stack_id: str | None,
    created: list[tuple[str, str]],
    previous: str,
    connector_id: str | None = None,
) -> None:
    """Delete what a failed creation registered, newest first; never raise."""
    import contextlib

    if stack_id is not None:
        with contextlib.suppress(Exception):
            if engine.active_stack_record()["id"] == stack_id:
                engine.activate_stack(previous)
        with contextlib.suppress(Exception):
            engine.delete_stack_record(stack_id)
    for target, component_id in reversed(created):
        with contextlib.suppress(Exception):
            engine.delete_component(target, component_id)
    if connector_id is not None:
        with contextlib.suppress(Exception):
            engine.delete_connector(connector_id)


def delete_stack(name_or_id: str, *, recursive: bool = False, force: bool = False) -> None:
    """Delete a stack.

    Args:
        name_or_id: The stack's exact name or id.
        recursive: Also delete the components of a Kitaru-managed stack (those
            no other stack uses), and service connectors nothing uses any more.
        force: Allow deleting the active stack; ``default`` is activated first.

    Raises:
        KitaruUsageError: If the selector is empty.
        KitaruStateError: If the stack does not exist, is ``default``, or is
            active and ``force`` is not set.
    """
    _delete_stack(name_or_id, recursive=recursive, force=force)


def _delete_stack(name_or_id: str, *, recursive: bool = False, force: bool = False) -> dict[str, Any]:
    """Delete a stack (shared with the CLI).

    Returns:
        ``{deleted_stack, components_deleted, new_active_stack, recursive}``,
        plus ``service_connectors_deleted`` when a recursive delete removed any.
    """
    if not isinstance(name_or_id, str) or not name_or_id.strip():
        raise KitaruUsageError("delete_stack() needs a stack name or id; list them with `kitaru stack list`.")
    from kitaru._engine import stacks as engine

    try:
        details = engine.stack_details(name_or_id.strip())
    except KeyError as exc:
        raise KitaruStateError(
            f"No stack named or with id '{name_or_id}'. List stacks with `kitaru stack list`."
        ) from exc
    if details["name"] == DEFAULT_STACK_NAME:
        raise KitaruStateError("The 'default' stack cannot be deleted.")
    new_active: str | None = None
    if details["is_active"]:
        if not force:
            raise KitaruStateError(
                f"Stack '{details['name']}' is the active stack. Pass force=True "
                "(`kitaru stack delete --force`) to activate 'default' and delete it, or "
                "activate another stack first."
            )
        new_active = engine.activate_stack(DEFAULT_STACK_NAME)["name"]
    engine.delete_stack_record(details["id"])

    deleted: list[str] = []
    connectors_deleted: list[str] = []
    if recursive and details["is_managed"]:
        connectors: set[str] = set()
        for component in details["components"]:
            if engine.stacks_using_component(component["id"]):
                continue
            connector = engine.component_connector_id(component["type"], component["id"])
            engine.delete_component(component["type"], component["id"])
            deleted.append(f"{component['type']}:{component['name']}")
            if connector is not None:
                connectors.add(connector)
        for connector in sorted(connectors):
            name = engine.delete_unshared_connector(connector)
            if name is not None:
                connectors_deleted.append(name)
    if new_active is None:
        new_active = engine.active_stack_record()["name"]
    result = {
        "deleted_stack": details["name"],
        "components_deleted": deleted,
        "new_active_stack": new_active,
        "recursive": recursive,
    }
    if connectors_deleted:
        result["service_connectors_deleted"] = connectors_deleted
    return result
