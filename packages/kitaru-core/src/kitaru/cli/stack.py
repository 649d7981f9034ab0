"""``kitaru stack``: list, inspect, switch, create and delete stacks (SPEC §4.3).

Only the ``local`` stack type is created here; remote types name the plugin
extra that provides them.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kitaru.cli.output import Item, Items, OutputOption, command, panel
from kitaru.errors import KitaruFeatureNotAvailableError, KitaruUsageError

STACK_TYPES: tuple[str, ...] = ("local", "kubernetes", "vertex", "sagemaker", "azureml")
"""Every stack type ``--type`` accepts (SPEC §5.4)."""

REMOTE_TYPE_PLUGINS: dict[str, tuple[str, tuple[str, ...]]] = {
    "kubernetes": ("AWS or GCP", ("aws", "gcp")),
    "vertex": ("GCP", ("gcp",)),
    "sagemaker": ("AWS", ("aws",)),
    "azureml": ("Azure", ("azure",)),
}
"""Remote stack type → (plugin label, kitaru extras that provide it)."""

LOCAL_TARGETS: tuple[str, ...] = ("orchestrator", "artifact_store")
ALL_TARGETS: tuple[str, ...] = ("orchestrator", "artifact_store", "container_registry")

ROLE_LABELS: dict[str, str] = {
    "orchestrator": "Runner",
    "artifact_store": "Storage",
    "container_registry": "Image registry",
}

group = typer.Typer(
    name="stack",
    help="List, inspect, switch, create and delete stacks (where executions run).",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

StackArgument = Annotated[str, typer.Argument(help="The stack name or id (see `kitaru stack list`).")]


# -- helpers ----------------------------------------------------------------------


def _unsupported_type(stack_type: str) -> KitaruUsageError:
    names = ", ".join(f"'{name}'" for name in STACK_TYPES[:-1])
    return KitaruUsageError(f"Unsupported stack type: {stack_type}. Use {names}, or '{STACK_TYPES[-1]}'.")


def _remote_type_error(stack_type: str) -> KitaruFeatureNotAvailableError:
    label, extras = REMOTE_TYPE_PLUGINS[stack_type]
    install = "' or '".join(f"kitaru[{extra}]" for extra in extras)
    return KitaruFeatureNotAvailableError(
        f"Stack type '{stack_type}' needs the {label} plugin. Install it with: pip install '{install}'"
    )


def parse_extras(values: list[str] | None, *, allowed_targets: tuple[str, ...]) -> dict[str, Any]:
    """Turn ``--extra TARGET.FIELD=VALUE`` options into nested overrides.

    VALUE is parsed as YAML; FIELD may be a dotted path; later values win and
    mappings merge deeply.

    Raises:
        KitaruUsageError: On a malformed option or a target not allowed.
    """
    import yaml

    result: dict[str, Any] = {}
    for raw in values or []:
        key, sep, text = raw.partition("=")
        key = key.strip()
        parts = [part.strip() for part in key.split(".")]
        if not sep or len(parts) < 2 or not all(parts):
            raise KitaruUsageError(
                f"Invalid --extra '{raw}'. Use TARGET.FIELD=VALUE, e.g. --extra artifact_store.path=/data."
            )
        target = parts[0]
        if target not in allowed_targets:
            if target in ALL_TARGETS:
                raise KitaruUsageError(
                    f"--extra {target}.* is not allowed for local stacks. "
                    f"Targets: {', '.join(allowed_targets)}."
                )
            raise KitaruUsageError(
                f"Unknown --extra target '{target}'. Targets: {', '.join(allowed_targets)}."
            )
        try:
            value = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError as exc:
            raise KitaruUsageError(f"Invalid YAML value in --extra '{raw}': {exc}") from None
        node = result
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        last = parts[-1]
        if isinstance(value, dict) and isinstance(node.get(last), dict):
            _deep_merge(node[last], value)
        else:
            node[last] = value
    return result


def _deep_merge(base: dict[str, Any], update: dict[str, Any]) -> None:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value)
        else:
            base[key] = value


def _component_details(component: dict[str, Any]) -> str | None:
    configuration = component.get("configuration") or {}
    if component["type"] == "artifact_store" and configuration.get("path"):
        return str(configuration["path"])
    if configuration:
        return ", ".join(f"{key}={value}" for key, value in sorted(configuration.items()))
    return None


def _show_components(details: dict[str, Any]) -> list[dict[str, Any]]:
    items = []
    for component in details["components"]:
        role = ROLE_LABELS.get(component["type"], "Additional component")
        item: dict[str, Any] = {"role": role, "name": component["name"], "backend": component["flavor"]}
        component_details = _component_details(component)
        if component_details is not None:
            item["details"] = component_details
        if role == "Additional component":
            item["purpose"] = component["type"]
        items.append(item)
    return items


# -- commands ----------------------------------------------------------------------


@command("stack.list")
def list_(output: OutputOption = "text") -> Items:  # noqa: ARG001
    """List every stack; the active one is marked."""
    from kitaru._engine.stacks import list_stack_details

    stacks = list_stack_details()
    data = [{key: s[key] for key in ("id", "name", "is_active", "is_managed")} for s in stacks]
    lines = [f"{s['name']}: {s['id']}" + (" (active)" if s["is_active"] else "") for s in data]
    return Items(data, text=lines or "No stacks.")


@command("stack.current")
def current(output: OutputOption = "text") -> Item:  # noqa: ARG001
    """Show the active stack."""
    import kitaru.stacks

    info = kitaru.stacks.current_stack()
    data = {"id": info.id, "name": info.name, "is_active": True}
    return Item(data, text=lambda: panel("Kitaru stack", [("Name", info.name), ("ID", info.id)]))


@command("stack.show")
def show(name_or_id: StackArgument, output: OutputOption = "text") -> Item:  # noqa: ARG001
    """Show a stack and its components."""
    from kitaru._engine.stacks import stack_details
    from kitaru.errors import KitaruStateError

    try:
        details = stack_details(name_or_id.strip())
    except KeyError:
        raise KitaruStateError(
            f"No stack named or with id '{name_or_id}'. List stacks with `kitaru stack list`."
        ) from None
    components = _show_components(details)
    data = {
        "id": details["id"],
        "name": details["name"],
        "is_active": details["is_active"],
        "is_managed": details["is_managed"],
        "stack_type": details["stack_type"],
        "components": components,
    }
    rows: list[tuple[str, Any]] = [
        ("Name", details["name"]),
        ("ID", details["id"]),
        ("Type", details["stack_type"]),
        ("Active", details["is_active"]),
        ("Managed", details["is_managed"]),
    ]
    for component in components:
        value = f"{component['name']} ({component['backend']})"
        if component.get("details"):
            value += f" — {component['details']}"
        label = component["role"]
        if component.get("purpose"):
            label = f"{label} ({component['purpose']})"
        rows.append((label, value))
    return Item(data, text=lambda: panel("Kitaru stack", rows))


@command("stack.use")
def use(stack: StackArgument, output: OutputOption = "text") -> Item:  # noqa: ARG001
    """Activate a stack."""
    import kitaru.stacks

    info = kitaru.stacks.use_stack(stack)
    data = {"id": info.id, "name": info.name, "is_active": True}
    return Item(data, text=f"Active stack: {info.name}")


@command("stack.create")
def create(
    name: Annotated[str, typer.Argument(help="The stack name (also names its components).")],
    stack_type: Annotated[
        str, typer.Option("--type", help="Stack type: local, kubernetes, vertex, sagemaker or azureml.")
    ] = "local",
    no_activate: Annotated[bool, typer.Option("--no-activate", help="Do not activate the new stack.")] = False,
    extra: Annotated[
        list[str] | None,
        typer.Option(
            "--extra",
            help="Component override TARGET.FIELD=VALUE (VALUE parsed as YAML); repeatable.",
            metavar="TARGET.FIELD=VALUE",
        ),
    ] = None,
    output: OutputOption = "text",  # noqa: ARG001
) -> Item:
    """Create a stack (local: a local runner plus a local artifact directory)."""
    import kitaru.stacks

    kind = (stack_type or "").strip().lower() or "local"
    if kind not in STACK_TYPES:
        raise _unsupported_type(stack_type)
    if kind in REMOTE_TYPE_PLUGINS:
        from kitaru.plugins import get_plugin_manager

        if kind not in get_plugin_manager().stack_providers():
            raise _remote_type_error(kind)
        raise KitaruFeatureNotAvailableError(
            f"Creating '{kind}' stacks from the CLI is not available in this build yet."
        )
    fields = parse_extras(extra, allowed_targets=LOCAL_TARGETS)
    result = kitaru.stacks._create_stack(
        name, stack_type=kind, activate=not no_activate, fields=fields
    )

    def text() -> list[Any]:
        lines: list[Any] = [f"Created stack: {result['name']} ({kind})"]
        artifacts = (fields.get("artifact_store") or {}).get("path") if fields else None
        if artifacts:
            from pathlib import Path

            lines.append(f"Artifacts: {Path(str(artifacts)).expanduser().absolute()}")
        if result["is_active"]:
            lines.append(f"Active stack: {result['previous_active_stack']} → {result['name']}")
        else:
            lines.append(f"Active stack: {result['previous_active_stack']} (unchanged)")
        return lines

    return Item(result, text=text)


@command("stack.delete")
def delete(
    stack: StackArgument,
    recursive: Annotated[
        bool, typer.Option("--recursive", help="Also delete the components of a Kitaru-managed stack.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Allow deleting the active stack ('default' becomes active).")
    ] = False,
    output: OutputOption = "text",  # noqa: ARG001
) -> Item:
    """Delete a stack."""
    import kitaru.stacks

    result = kitaru.stacks._delete_stack(stack, recursive=recursive, force=force)
    lines = [f"Deleted stack: {result['deleted_stack']}"]
    if result["components_deleted"]:
        lines.append(f"Deleted components: {', '.join(result['components_deleted'])}")
    lines.append(f"Active stack: {result['new_active_stack']}")
    return Item(result, text=lines)


def register(app: typer.Typer) -> None:
    """Add the ``stack`` group to ``app``."""
    group.command("list")(list_)
    group.command("current")(current)
    group.command("show")(show)
    group.command("use")(use)
    group.command("create")(create)
    group.command("delete")(delete)
    app.add_typer(group, name="stack")
