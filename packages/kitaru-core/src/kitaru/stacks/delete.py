"""Delete a stack, and with ``recursive`` what Kitaru created for it.

Rules: ``default`` (the engine's built-in local stack) is never deleted; the
active stack is deleted only with ``force``, after ``default`` is activated;
a recursive delete removes only the components of a Kitaru-managed stack
that no other stack uses, then the service connectors nothing uses any more.
"""

from __future__ import annotations

from typing import Any

from kitaru.engine import get_engine
from kitaru.errors import KitaruStateError, KitaruUsageError
from kitaru.stacks.info import stack_details

DEFAULT_STACK_NAME = "default"
"""The engine's built-in local stack; it cannot be deleted."""


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
    delete_stack_with_summary(name_or_id, recursive=recursive, force=force)


def delete_stack_with_summary(name_or_id: str, *, recursive: bool = False, force: bool = False) -> dict[str, Any]:
    """Delete a stack and say what was deleted (``kitaru stack delete``, MCP ``manage_stack``).

    Arguments and errors as :func:`delete_stack`.

    Returns:
        ``{deleted_stack, components_deleted, new_active_stack, recursive}``,
        plus ``service_connectors_deleted`` when a recursive delete removed any.
    """
    if not isinstance(name_or_id, str) or not name_or_id.strip():
        raise KitaruUsageError("delete_stack() needs a stack name or id; list them with `kitaru stack list`.")
    details = stack_details(name_or_id)
    if details.name == DEFAULT_STACK_NAME:
        raise KitaruStateError("The 'default' stack cannot be deleted.")
    stacks = get_engine().stacks
    new_active: str | None = None
    if details.is_active:
        if not force:
            raise KitaruStateError(
                f"Stack '{details.name}' is the active stack. Pass force=True "
                "(`kitaru stack delete --force`) to activate 'default' and delete it, or "
                "activate another stack first."
            )
        new_active = stacks.activate_stack(DEFAULT_STACK_NAME).name
    stacks.delete_stack(details.id)

    deleted: list[str] = []
    connectors_deleted: list[str] = []
    if recursive and details.is_managed:
        connectors: set[str] = set()
        for component in details.components:
            if stacks.stacks_using_component(component.id):
                continue
            connector = stacks.component_connector_id(component.type, component.id)
            stacks.delete_component(component.type, component.id)
            deleted.append(f"{component.type}:{component.name}")
            if connector is not None:
                connectors.add(connector)
        for connector in sorted(connectors):
            if not stacks.connector_in_use(connector):
                connectors_deleted.append(stacks.delete_connector(connector))
    if new_active is None:
        new_active = stacks.active_stack().name
    result: dict[str, Any] = {
        "deleted_stack": details.name,
        "components_deleted": deleted,
        "new_active_stack": new_active,
        "recursive": recursive,
    }
    if connectors_deleted:
        result["service_connectors_deleted"] = connectors_deleted
    return result


__all__ = ["DEFAULT_STACK_NAME", "delete_stack", "delete_stack_with_summary"]
