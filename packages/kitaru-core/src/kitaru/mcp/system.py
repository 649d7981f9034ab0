"""MCP tools for artifacts, stacks, the local server, status and info.

Payloads are the CLI's JSON items: ``kitaru_status`` returns what ``kitaru
status -o json`` prints as its item, ``kitaru_stacks_list`` the items of
``kitaru stack list -o json``, ``manage_stack`` those of ``kitaru stack
create/delete -o json``, and so on. Secrets are masked exactly as there.
"""

from __future__ import annotations

import json
from typing import Any

from kitaru.errors import KitaruUsageError

CREATE_OPTIONS: dict[str, Any] = {
    "activate": True,
    "stack_type": "local",
    "options": None,
    "extra": None,
    "async_mode": False,
    "verify": True,
}
"""``manage_stack`` options that only apply to ``action="create"``, with their defaults.

Each installed stack type's fields (``region``, ``cluster`` ...) are create
options too: the tool has one parameter per field, and ``options`` takes the
same values as a mapping."""

DELETE_OPTIONS: dict[str, Any] = {"recursive": False, "force": False}
"""``manage_stack`` options that only apply to ``action="delete"``, with their defaults."""


# -- artifacts ------------------------------------------------------------------------------


def kitaru_artifacts_list(
    exec_id: str,
    name: str | None = None,
    kind: str | None = None,
    producing_call: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """List an execution's artifacts (checkpoint outputs and kitaru.save() values), without values.

    Args:
        exec_id: The execution id.
        name: Only artifacts with this name.
        kind: Only kitaru.save() artifacts of this type: prompt, response, context, input, output, blob.
        producing_call: Only artifacts of this checkpoint call (its name, e.g. research or research_2).
        limit: At most this many.

    Returns:
        {"items": [artifact, ...], "count": n}; read a value with kitaru_artifacts_get.
    """
    from kitaru.client import KitaruClient
    from kitaru.mcp.executions import item_list

    refs = KitaruClient().artifacts.list(exec_id, name=name, kind=kind, producing_call=producing_call, limit=limit)
    return item_list(refs)


def describe_value(value: Any) -> tuple[Any, str, str]:
    """Turn a loaded artifact value into ``(value, value_format, value_type)`` for JSON.

    Plain JSON values are returned as they are (``json``); dataclasses and
    pydantic models as their fields (``json``); anything else as its
    ``repr`` (``repr``).
    """
    kind = type(value)
    value_type = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    try:
        json.dumps(value, allow_nan=False)
        return value, "json", value_type
    except (TypeError, ValueError):
        pass
    import dataclasses

    is_dataclass = dataclasses.is_dataclass(value) and not isinstance(value, type)
    if is_dataclass or callable(getattr(value, "model_dump", None)):
        from kitaru.jsonable import to_jsonable

        return to_jsonable(value), "json", value_type
    return repr(value), "repr", value_type


def kitaru_artifacts_get(artifact_id: str) -> dict[str, Any]:
    """Get one artifact's metadata and its stored value.

    Returns:
        The artifact (artifact_id, name, kind, save_type, producing_call,
        metadata) plus "value", "value_format" ("json": the value itself;
        "repr": Python's repr of a value JSON cannot hold) and "value_type".
    """
    from kitaru.client import KitaruClient
    from kitaru.jsonable import to_jsonable

    ref = KitaruClient().artifacts.get(artifact_id)
    value, value_format, value_type = describe_value(ref.load())
    data = to_jsonable(ref)
    data.update({"value": value, "value_format": value_format, "value_type": value_type})
    return data


# -- local server ---------------------------------------------------------------------------


def kitaru_start_local_server(port: int | None = None, timeout: int = 60) -> dict[str, Any]:
    """Start (or reuse) the local Kitaru server with its dashboard on 127.0.0.1 and connect to it.

    Needs the `kitaru[server]` extra. Default port 8383; a different explicit
    port restarts the server there.

    Returns:
        {"mode": "local", "url": ..., "action": "started" | "connected" | "restarted"}.
    """
    from kitaru.connection import start_local_server
    from kitaru.jsonable import to_jsonable

    return to_jsonable(start_local_server(port=port, timeout=timeout))


def kitaru_stop_local_server() -> dict[str, Any]:
    """Stop the local Kitaru server (if one runs) and go back to the local database.

    Returns:
        {"stopped": true | false, "url": the server's URL or null}.
    """
    from kitaru.connection import stop_local_server
    from kitaru.jsonable import to_jsonable

    return to_jsonable(stop_local_server())


# -- status, info, stacks -------------------------------------------------------------------


def kitaru_status() -> dict[str, Any]:
    """Kitaru's status: SDK version, connection, active user and stack, log store, KITARU_* settings (masked)."""
    from kitaru.cli.status import collect_status

    return collect_status()


def kitaru_info(  # noqa: A002 (`all` is the tool's documented argument name)
    all: bool = False, all_packages: bool = False, packages: list[str] | None = None
) -> dict[str, Any]:
    """Diagnostics: connection, config paths, system, engine version and packages (secrets masked).

    Args:
        all: Add every installed package and the environment type.
        all_packages: List every installed package.
        packages: Also report these packages.
    """
    from kitaru.cli.info import collect_info

    return collect_info(all_sections=all, all_packages=all_packages, requested_packages=list(packages or []))


def kitaru_clean_preview(scope: str = "project") -> dict[str, Any]:
    """Preview `kitaru clean <scope>`: what it would remove, and whether it would be refused. Removes nothing.

    Args:
        scope: project (the .kitaru/ of the nearest project at or above the server's working directory),
            global (the Kitaru config directory, whose database a real clean backs up first) or all.

    Returns:
        The `kitaru clean <scope> --dry-run -o json` item: {"scope", "dry_run": true, "targets": [{"kind",
        "path", "size_bytes", "file_count", "executions", "model_aliases", "removed": false}], "backup_path",
        "backups", "local_server", "blocked": [reasons a real clean would be refused], "notes", ...}.
        To clean, run `kitaru clean <scope>` (with --yes when no terminal can confirm it).
    """
    from kitaru.cli.clean import preview_item

    return preview_item(scope)


def kitaru_stacks_list() -> dict[str, Any]:
    """List stacks (where executions run); the active one has is_active true.

    Returns:
        {"items": [{"id", "name", "is_active", "is_managed"}, ...], "count": n}.
    """
    from kitaru.stacks import stack_list_items

    # The same items as `kitaru stack list -o json` (kitaru.cli.stack.list_).
    items = stack_list_items()
    return {"items": items, "count": len(items)}


def _given(options: dict[str, Any], defaults: dict[str, Any]) -> list[str]:
    """Options whose value differs from their default (blank strings count as not given)."""
    given = []
    for name, default in defaults.items():
        value = options.get(name, default)
        if isinstance(value, str) and not value.strip() and default is None:
            continue
        if value != default:
            given.append(name)
    return given


def manage_stack(action: str, name: str, **options: Any) -> dict[str, Any]:
    """Create or delete a stack (the body of the ``manage_stack`` tool).

    Args:
        action: ``create`` or ``delete``.
        name: The stack name (or id, for delete).
        **options: The create options in :data:`CREATE_OPTIONS` plus the
            stack fields, or the delete options in :data:`DELETE_OPTIONS`.
            ``options`` (a mapping of field values) merges with the fields
            given one by one; a field given both ways must agree.

    Returns:
        The ``kitaru stack create -o json`` or ``kitaru stack delete -o json`` item.

    Raises:
        KitaruUsageError: On an unknown action or option, or options of the other action.
    """
    from kitaru.plugins import catalog
    from kitaru.stacks import create_stack_with_summary, delete_stack_with_summary

    verb = (action or "").strip().lower()
    if verb not in ("create", "delete"):
        raise KitaruUsageError(f"Unsupported action {action!r}: use 'create' or 'delete'.")
    known_fields = catalog.known_fields()
    field_defaults = dict.fromkeys(known_fields)
    unknown = sorted(set(options) - set(CREATE_OPTIONS) - set(DELETE_OPTIONS) - set(known_fields))
    if unknown:
        raise KitaruUsageError(
            f"Unknown manage_stack options: {', '.join(unknown)}. Stack fields: {', '.join(known_fields)}."
        )
    create_defaults = {
        "activate": True, "stack_type": "local", **field_defaults, **CREATE_OPTIONS
    }  # the order messages list them in, as the tool lists its parameters
    other, own = (DELETE_OPTIONS, "delete") if verb == "create" else (create_defaults, "create")
    misplaced = _given(options, other)
    if misplaced:
        raise KitaruUsageError(
            f"manage_stack(action='{verb}') does not take {', '.join(misplaced)}: "
            f"{'those options apply' if len(misplaced) > 1 else 'that option applies'} to action='{own}' only."
        )
    if verb == "delete":
        return delete_stack_with_summary(
            name, recursive=bool(options.get("recursive")), force=bool(options.get("force"))
        )
    settings = {key: options.get(key, default) for key, default in CREATE_OPTIONS.items()}
    fields = _field_values(options, known_fields, settings.pop("options"))
    extra = settings.pop("extra")
    if extra is not None and not isinstance(extra, dict):
        raise KitaruUsageError(
            'extra must be an object of component overrides, e.g. {"orchestrator": {"synchronous": false}}.'
        )
    fields["extra"] = extra or {}
    return create_stack_with_summary(
        name,
        stack_type=settings["stack_type"] or "local",
        activate=bool(settings["activate"]),
        fields=fields,
        verify=bool(settings["verify"]),
        async_mode=bool(settings["async_mode"]),
        surface="python",
    )


def _field_values(options: dict[str, Any], known: Any, mapping: Any) -> dict[str, Any]:
    """The stack fields given one by one and in ``options``; the two must agree."""
    values = {key: options[key] for key in known if options.get(key) is not None}
    if mapping is None:
        return values
    if not isinstance(mapping, dict) or not all(isinstance(key, str) for key in mapping):
        raise KitaruUsageError('options must be an object of stack fields, e.g. {"region": "eu-west-1"}.')
    for key, value in mapping.items():
        if key in values and values[key] != value:
            raise KitaruUsageError(f"Stack field '{key}' is given twice with different values; give it once.")
        values[key] = value
    return values


__all__ = [
    "CREATE_OPTIONS",
    "DELETE_OPTIONS",
    "describe_value",
    "kitaru_artifacts_get",
    "kitaru_artifacts_list",
    "kitaru_info",
    "kitaru_start_local_server",
    "kitaru_stacks_list",
    "kitaru_status",
    "kitaru_stop_local_server",
    "manage_stack",
]
