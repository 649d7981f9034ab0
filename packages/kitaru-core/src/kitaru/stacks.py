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
    result = _create_stack(name, stack_type=LOCAL_STACK_TYPE, activate=activate, labels=labels)
    return StackInfo(id=result["id"], name=result["name"], is_active=result["is_active"])


def _stack_provider(stack_type: str) -> Any:
    from kitaru.plugins import get_plugin_manager

    provider = get_plugin_manager().stack_providers().get(stack_type)
    if provider is None or provider.build_components is None:
        raise KitaruFeatureNotAvailableError(
            f"No installed plugin provides the '{stack_type}' stack type. "
            "List the installed plugins with `kitaru plugins`."
        )
    return provider


def _create_stack(
    name: str,
    *,
    stack_type: str,
    activate: bool = True,
    labels: Mapping[str, str] | None = None,
    fields: Mapping[str, Any] | None = None,
    verify: bool = True,
) -> dict[str, Any]:
    """Create a stack of ``stack_type`` through its plugin (shared with the CLI).

    Returns:
        ``{id, name, is_active, previous_active_stack, components_created, stack_type}``.
    """
    if not isinstance(name, str) or not name.strip():
        raise KitaruUsageError("create_stack() needs a stack name.")
    name = name.strip()
    if labels is not None and not isinstance(labels, Mapping):
        raise KitaruUsageError("Stack labels must be a mapping of strings.")
    from kitaru._engine import stacks as engine

    provider = _stack_provider(stack_type)
    spec: dict[str, Any] = {**dict(fields or {}), "name": name}
    components = dict(provider.build_components(spec))
    if verify and provider.verify is not None:
        provider.verify(spec)

    if engine.stack_exists(name):
        raise KitaruStateError(
            f"A stack named '{name}' already exists. Pick another name, or delete it with "
            f"`kitaru stack delete {name}`."
        )
    for target, description in components.items():
        if engine.component_exists(target, description["name"]):
            raise KitaruStateError(
                f"A {target.replace('_', ' ')} named '{description['name']}' already exists; "
                "pick another stack name."
            )

    all_labels = {str(k): str(v) for k, v in (labels or {}).items()}
    all_labels[MANAGED_LABEL] = "true"
    previous = engine.active_stack_record()["name"]
    created: list[tuple[str, str]] = []
    stack_id: str | None = None
    try:
        for target, description in components.items():
            created.append((target, engine.register_component(target, description)))
        record = engine.register_stack(name, dict(created), all_labels)
        stack_id = record["id"]
        if activate:
            record = engine.activate_stack(stack_id)
    except BaseException:
        _rollback(engine, stack_id, created, previous)
        raise
    return {
        "id": record["id"],
        "name": record["name"],
        "is_active": bool(activate),
        "previous_active_stack": previous,
        "components_created": [f"{target}:{components[target]['name']}" for target, _ in created],
        "stack_type": stack_type,
    }


def _rollback(engine: Any, stack_id: str | None, created: list[tuple[str, str]], previous: str) -> None:
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
        ``{deleted_stack, components_deleted, new_active_stack, recursive}``.
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
            engine.delete_unshared_connector(connector)
    if new_active is None:
        new_active = engine.active_stack_record()["name"]
    return {
        "deleted_stack": details["name"],
        "components_deleted": deleted,
        "new_active_stack": new_active,
        "recursive": recursive,
    }
