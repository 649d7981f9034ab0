"""``kitaru stack``: list, inspect, switch, create and delete stacks (SPEC §4.3).

Stack types come from plugins (``kitaru plugins``); validation of the options
lives in :mod:`kitaru.stacks.request`, creation and deletion in
:mod:`kitaru.stacks`. The domain is imported when a command runs, so that
``kitaru --help`` stays fast.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kitaru.cli.output import Item, Items, OutputOption, command, panel
from kitaru.cli.stack_fields import StackCreateCommand
from kitaru.errors import KitaruUsageError

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


def parse_extras(values: list[str] | None, *, allowed_targets: tuple[str, ...]) -> dict[str, Any]:
    """Turn ``--extra TARGET.FIELD=VALUE`` options into nested overrides.

    VALUE is parsed as YAML; FIELD may be a dotted path; later values win and
    mappings merge deeply.

    Raises:
        KitaruUsageError: On a malformed option or a target not allowed.
    """
    import yaml

    from kitaru.stacks.request import EXTRA_TARGETS

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
            if target in EXTRA_TARGETS:
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


def _component_details(component: Any) -> str | None:
    configuration = component.configuration or {}
    if component.type == "artifact_store" and configuration.get("path"):
        return str(configuration["path"])
    if configuration:
        return ", ".join(f"{key}={value}" for key, value in sorted(configuration.items()))
    return None


def _show_components(details: Any) -> list[dict[str, Any]]:
    items = []
    for component in details.components:
        role = ROLE_LABELS.get(component.type, "Additional component")
        item: dict[str, Any] = {"role": role, "name": component.name, "backend": component.flavor}
        component_details = _component_details(component)
        if component_details is not None:
            item["details"] = component_details
        if role == "Additional component":
            item["purpose"] = component.type
        items.append(item)
    return items


# -- commands ----------------------------------------------------------------------


@command("stack.list")
def list_(output: OutputOption = "text") -> Items:  # noqa: ARG001
    """List every stack; the active one is marked."""
    from kitaru.stacks import stack_list_items

    data = stack_list_items()
    lines = [f"{s['name']}: {s['id']}" + (" (active)" if s["is_active"] else "") for s in data]
    return Items(data, text=lines or "No stacks.")


@command("stack.current")
def current(output: OutputOption = "text") -> Item:  # noqa: ARG001
    """Show the active stack."""
    from kitaru.stacks import current_stack

    info = current_stack()
    data = {"id": info.id, "name": info.name, "is_active": True}
    return Item(data, text=lambda: panel("Kitaru stack", [("Name", info.name), ("ID", info.id)]))


@command("stack.show")
def show(name_or_id: StackArgument, output: OutputOption = "text") -> Item:  # noqa: ARG001
    """Show a stack and its components."""
    from kitaru.stacks import stack_details

    details = stack_details(name_or_id)
    components = _show_components(details)
    data = {
        "id": details.id,
        "name": details.name,
        "is_active": details.is_active,
        "is_managed": details.is_managed,
        "stack_type": details.stack_type,
        "components": components,
    }
    rows: list[tuple[str, Any]] = [
        ("Name", details.name),
        ("ID", details.id),
        ("Type", details.stack_type),
        ("Active", details.is_active),
        ("Managed", details.is_managed),
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
    from kitaru.stacks import use_stack

    info = use_stack(stack)
    data = {"id": info.id, "name": info.name, "is_active": True}
    return Item(data, text=f"Active stack: {info.name}")


@command("stack.create")
def create(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Argument(help="The stack name (also names its components); may come from --file.")
    ] = None,
    file: Annotated[str | None, typer.Option("--file", "-f", help="Read settings from a YAML file.")] = None,
    stack_type: Annotated[
        str | None,
        typer.Option("--type", help="Stack type (default local); `kitaru stack types` lists them."),
    ] = None,
    no_activate: Annotated[bool, typer.Option("--no-activate", help="Do not activate the new stack.")] = False,
    extra: Annotated[
        list[str] | None,
        typer.Option(
            "--extra",
            help="Component override TARGET.FIELD=VALUE (VALUE parsed as YAML); repeatable.",
            metavar="TARGET.FIELD=VALUE",
        ),
    ] = None,
    async_mode: Annotated[
        bool, typer.Option("--async", help="Remote types: return once the run is submitted.")
    ] = False,
    no_verify: Annotated[
        bool, typer.Option("--no-verify", help="Skip checking the bucket with the cloud's SDK.")
    ] = False,
    output: OutputOption = "text",  # noqa: ARG001
) -> Item:
    """Create a stack of any installed type: local (this machine, the default) or a plugin's.

    Each type's options are flags (`--region`, `--cluster` ...): `kitaru stack types` lists them.
    """
    from kitaru.cli.stack_fields import field_values
    from kitaru.cli.stack_file import FIELDS_KEY, read_stack_file
    from kitaru.plugins.stack_helpers import deep_merge
    from kitaru.stacks import create_stack_with_summary
    from kitaru.stacks.request import EXTRA_TARGETS

    settings: dict[str, Any] = read_stack_file(file) if file is not None else {}
    fields: dict[str, Any] = dict(settings.pop(FIELDS_KEY, {}))
    fields.update(field_values(ctx))
    settings.update({key: value for key, value in {"name": name, "type": stack_type}.items() if value is not None})
    if no_activate:
        settings["activate"] = False
    if no_verify:
        settings["verify"] = False
    if async_mode:
        settings["async"] = True
    if not settings.get("name") or not str(settings["name"]).strip():
        raise KitaruUsageError("Name the stack: kitaru stack create NAME (or 'name:' in --file).")
    kind = (settings.get("type") or "local").strip().lower() or "local"
    # Which targets the type has is core's to check (a type without a provider has no registry).
    overrides = deep_merge(settings.get("extra") or {}, parse_extras(extra, allowed_targets=EXTRA_TARGETS))
    fields["extra"] = overrides
    result = create_stack_with_summary(
        str(settings["name"]),
        stack_type=kind,
        activate=settings.get("activate", True) is not False,
        fields=fields,
        verify=settings.get("verify", True) is not False,
        async_mode=bool(settings.get("async")),
        surface="cli",
    )

    def text() -> list[Any]:
        lines: list[Any] = [f"Created stack: {result['name']} ({result['stack_type']})"]
        resources = result.get("resources", {})
        labels = resource_labels(result["stack_type"])
        for key, value in resources.items():
            if value:
                lines.append(f"{labels.get(key, key)}: {value}")
        path = (overrides.get("artifact_store") or {}).get("path")
        if path and "artifact_store" not in resources:
            from pathlib import Path

            lines.append(f"Artifacts: {Path(str(path)).expanduser().absolute()}")
        if result.get("service_connectors_created"):
            lines.append(f"Service connector: {', '.join(result['service_connectors_created'])}")
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
    from kitaru.stacks import delete_stack_with_summary

    result = delete_stack_with_summary(stack, recursive=recursive, force=force)
    lines = [f"Deleted stack: {result['deleted_stack']}"]
    if result["components_deleted"]:
        lines.append(f"Deleted components: {', '.join(result['components_deleted'])}")
    if result.get("service_connectors_deleted"):
        lines.append(f"Deleted service connectors: {', '.join(result['service_connectors_deleted'])}")
    lines.append(f"Active stack: {result['new_active_stack']}")
    return Item(result, text=lines)


def resource_labels(stack_type: str) -> dict[str, str]:
    """How ``stack create`` names a stack's resources: ``Provider`` and each field's title."""
    from kitaru.plugins import catalog

    labels = {"provider": "Provider"}
    for known in catalog.known_stack_types():
        if known.name == stack_type:
            labels.update({field.name: field.title for field in known.fields})
    return labels


@command("stack.types")
def types(output: OutputOption = "text") -> Items:  # noqa: ARG001
    """List the stack types you can create, with each type's options (flags)."""
    from kitaru.plugins import catalog

    items = []
    for known in catalog.known_stack_types():
        item: dict[str, Any] = {
            "name": known.name,
            "provider": known.provider,
            "title": known.title,
            "description": known.description,
            "installed": known.installed,
            "plugin": known.plugin,
            "fields": [
                {
                    "name": field.name,
                    "flag": field.flag,
                    "required": field.required,
                    "description": field.description,
                    "example": field.example,
                }
                for field in known.fields
            ],
        }
        if not known.installed and known.plugin is not None:
            item["install"] = catalog.install_hint([known.plugin])
        items.append(item)

    def text() -> list[str]:
        lines: list[str] = []
        for item in items:
            where = f" ({catalog.plugin_label([item['provider']])})" if item["provider"] else ""
            state = f" Not installed: {item.get('install', 'no plugin')}." if not item["installed"] else ""
            if lines:
                lines.append("")
            lines.append(f"--type {item['name']}{where}: {item['description']}{state}")
            for field in item["fields"]:
                need = "required" if field["required"] else "optional"
                example = f" e.g. {field['example']}" if field["example"] else ""
                lines.append(f"  {field['flag']}  ({need}) {field['description']}{example}")
        return lines

    return Items(items, text=text)


def register(app: typer.Typer) -> None:
    """Add the ``stack`` group to ``app``."""
    group.command("list")(list_)
    group.command("current")(current)
    group.command("show")(show)
    group.command("use")(use)
    group.command("create", cls=StackCreateCommand)(create)
    group.command("types")(types)
    group.command("delete")(delete)
    app.add_typer(group, name="stack")
