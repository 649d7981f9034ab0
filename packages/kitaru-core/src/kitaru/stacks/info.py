"""List, inspect and switch the stack executions run on.

A stack is where an execution runs and where its artifacts live. The local
default (``default``) runs in-process and stores everything under the Kitaru
config directory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from kitaru.engine import get_engine
from kitaru.engine.errors import RecordNotFound
from kitaru.engine.stacks import ComponentRecord, StackRecord
from kitaru.errors import KitaruStateError, KitaruUsageError
from kitaru.stacks.components import is_managed, main_components, stack_type


class StackInfo(BaseModel):
    """A stack as Kitaru shows it."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    is_active: bool


@dataclass(frozen=True)
class StackDetails:
    """A stack with its components, as ``kitaru stack show`` describes it.

    Attributes:
        id: The stack's id.
        name: Its name.
        is_active: Whether it is the active stack.
        is_managed: Whether Kitaru created it (label ``kitaru.managed=true``).
        stack_type: ``local``, a remote orchestrator (``kubernetes`` ...) or ``custom``.
        labels: Its labels.
        components: One per target (orchestrator, artifact store, container
            registry), then any other component.
    """

    id: str
    name: str
    is_active: bool
    is_managed: bool
    stack_type: str
    labels: dict[str, str] = field(default_factory=dict)
    components: tuple[ComponentRecord, ...] = ()


def stack_not_found(name_or_id: str) -> KitaruStateError:
    """The error for a stack selector that matches nothing."""
    return KitaruStateError(f"No stack named or with id '{name_or_id}'. List stacks with `kitaru stack list`.")


def _info(record: StackRecord) -> StackInfo:
    return StackInfo(id=record.id, name=record.name, is_active=record.is_active)


def list_stacks() -> list[StackInfo]:
    """List every stack (all pages), flagging the active one."""
    return [_info(record) for record in get_engine().stacks.list_stacks()]


def stack_list_items() -> list[dict[str, Any]]:
    """Every stack as ``{id, name, is_active, is_managed}`` (``kitaru stack list -o json``)."""
    return [
        {"id": s.id, "name": s.name, "is_active": s.is_active, "is_managed": is_managed(s.labels)}
        for s in get_engine().stacks.list_stacks()
    ]


def current_stack() -> StackInfo:
    """Return the active stack."""
    return _info(get_engine().stacks.active_stack())


def use_stack(name_or_id: str) -> StackInfo:
    """Activate a stack by name or id and return it.

    Raises:
        KitaruUsageError: If the selector is empty.
        KitaruStateError: If no such stack exists.
    """
    if not isinstance(name_or_id, str) or not name_or_id.strip():
        raise KitaruUsageError("use_stack() needs a stack name or id; list them with `kitaru stack list`.")
    try:
        return _info(get_engine().stacks.activate_stack(name_or_id.strip()))
    except RecordNotFound as exc:
        raise stack_not_found(name_or_id) from exc


def stack_details(name_or_id: str) -> StackDetails:
    """One stack with its components, by exact name or id.

    Raises:
        KitaruUsageError: If the selector is empty (the engine would answer
            with the active stack).
        KitaruStateError: If no such stack exists.
    """
    if not isinstance(name_or_id, str) or not name_or_id.strip():
        raise KitaruUsageError("Give a stack name or id to show; list them with `kitaru stack list`.")
    try:
        record = get_engine().stacks.get_stack(name_or_id.strip())
    except RecordNotFound as exc:
        raise stack_not_found(name_or_id) from exc
    components = main_components(record.components)
    stack = record.stack
    return StackDetails(
        id=stack.id,
        name=stack.name,
        is_active=stack.is_active,
        is_managed=is_managed(stack.labels),
        stack_type=stack_type(components, stack.labels),
        labels=dict(stack.labels),
        components=tuple(components),
    )


__all__ = [
    "StackDetails",
    "StackInfo",
    "current_stack",
    "list_stacks",
    "stack_details",
    "stack_list_items",
    "stack_not_found",
    "use_stack",
]
