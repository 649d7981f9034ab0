"""Stack helpers: list, inspect and switch the stack executions run on.

A stack is where an execution runs and where its artifacts live. The local
default (``default``) runs in-process and stores everything under the Kitaru
config directory.
"""

from __future__ import annotations

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


def _stack_management_unavailable(operation: str) -> KitaruFeatureNotAvailableError:
    return KitaruFeatureNotAvailableError(
        f"{operation}() is not available in this build yet; stack creation and deletion "
        "ship with the stacks and cloud plugins work."
    )


def create_stack(name: str, *, activate: bool = True, labels: dict[str, str] | None = None) -> StackInfo:
    """Create a local stack (arrives with the stacks work)."""
    raise _stack_management_unavailable("create_stack")


def delete_stack(name_or_id: str, *, recursive: bool = False, force: bool = False) -> None:
    """Delete a stack (arrives with the stacks work)."""
    raise _stack_management_unavailable("delete_stack")
