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
