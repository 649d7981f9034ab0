"""``kitaru secrets``: credentials for model aliases, kept in the engine's secrets store (SPEC §4.6).

* ``set NAME --KEY=value [--KEY2 value ...]`` creates a private secret or adds
  and replaces keys of the existing one. Keys match ``^[A-Za-z_][A-Za-z0-9_]*$``;
  empty values, repeated keys and keys without a value are rejected before
  anything is written. ``-o json`` may come before or after the assignments.
* ``show NAME_OR_ID [--show-values]``: values stay hidden unless asked for.
* ``list``: every secret (all pages), sorted by name.
* ``delete NAME_OR_ID``: exact name or id.

Every command reports a summary (``set`` adds ``result: created|updated``,
``show`` adds ``values``: ``null``, or ``{key: value}`` with ``--show-values``)::

    {"id": "…", "name": "openai", "visibility": "private", "keys": ["OPENAI_API_KEY"],
     "has_missing_values": false}

Secret values never appear in output, warnings or errors except with
``show --show-values``; prefer ``--KEY=value`` when a value starts with ``-``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import typer

from kitaru.cli.output import Item, Items, OutputOption, command, panel
from kitaru.errors import KitaruError, KitaruUsageError

group = typer.Typer(
    name="secrets",
    help=(
        "Secrets holding provider credentials (OPENAI_API_KEY=...) for model aliases. Values are never "
        "printed unless you ask with show --show-values."
    ),
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

NameOrIdArgument = Annotated[str, typer.Argument(help="The secret's exact name or id.")]

SET_USAGE = "kitaru secrets set NAME --KEY=value [--KEY2=value ...]"


def parse_assignments(tokens: Sequence[str]) -> dict[str, str]:
    """Read ``--KEY=value`` and ``--KEY value`` pairs.

    Args:
        tokens: The arguments after the secret name, ``-o json`` already removed.

    Returns:
        Key → value, in the order given.

    Raises:
        KitaruUsageError: For a stray argument, an invalid or repeated key, a
            key without a value, an empty value, or no assignment at all. No
            message contains a value (a stray argument is reported by position).
    """
    from kitaru._llm.secrets import validate_key

    values: dict[str, str] = {}
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if not token.startswith("--") or token == "--":
            raise KitaruUsageError(
                f"Unexpected argument #{index + 1} after the secret name (not shown: it may be a value). "
                f"Give each value as --KEY=value: {SET_USAGE}"
            )
        body = token[2:]
        if "=" in body:
            key, value = body.split("=", 1)
            index += 1
        else:
            key = body
            if index + 1 >= len(tokens) or tokens[index + 1].startswith("--"):
                validate_key(key)
                raise KitaruUsageError(f"--{key} has no value. Give it as --{key}=value.")
            value = tokens[index + 1]
            index += 2
        validate_key(key)
        if value == "":
            raise KitaruUsageError(f"--{key} has an empty value. Secret values must not be empty.")
        if key in values:
            raise KitaruUsageError(f"--{key} is given more than once. Give each key once.")
        values[key] = value
    if not values:
        raise KitaruUsageError(f"Give at least one value: {SET_USAGE}")
    return values


def _rows(summary: Any) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = [
        ("Name", summary.name),
        ("ID", summary.id),
        ("Visibility", summary.visibility),
        ("Keys", list(summary.keys)),
    ]
    if summary.has_missing_values:
        rows.append(("Missing values", "some values are withheld (no permission to read them)"))
    return rows


def _alias_users(summary: Any) -> list[str]:
    """Aliases linked to this secret (by name or id); empty if the registry cannot be read."""
    from kitaru._llm.registry import effective_registry

    try:
        aliases = effective_registry().aliases.values()
    except KitaruError:
        return []
    return sorted(entry.alias for entry in aliases if entry.secret in (summary.name, summary.id))


@command("secrets.set")
def set_(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The secret's name; then --KEY=value pairs.")],
    output: OutputOption = "text",  # noqa: ARG001
) -> Item:
    """Create a private secret, or add/replace keys of an existing one: NAME --KEY=value [--KEY2 value ...]."""
    from kitaru._llm import secrets

    secrets.validate_secret_name(name)
    values = parse_assignments(list(ctx.args))
    summary, result, replaced = secrets.set_secret(name, values)
    item = {**summary.as_dict(), "result": result}
    headline = f"{'Created' if result == secrets.RESULT_CREATED else 'Updated'} secret: {summary.name}"
    lines: list[Any] = [headline]
    if replaced:
        lines.append(f"Replaced keys: {', '.join(replaced)}")
    return Item(item, text=[*lines, panel("Kitaru secret", _rows(summary))])


@command("secrets.show")
def show(
    name_or_id: NameOrIdArgument,
    show_values: Annotated[
        bool, typer.Option("--show-values", help="Also print the values (they are hidden by default).")
    ] = False,
    output: OutputOption = "text",  # noqa: ARG001
) -> Item:
    """Show a secret's keys; values only with --show-values."""
    from kitaru._llm import secrets

    if show_values:
        summary, values = secrets.get_with_values(name_or_id)
    else:
        summary, values = secrets.get_summary(name_or_id), None
    item = {**summary.as_dict(), "values": values}
    rows = _rows(summary)
    if values is None:
        rows.append(("Values", "hidden (use --show-values)"))
    else:
        rows.extend((f"  {key}", value if value is not None else "(withheld)") for key, value in values.items())
    return Item(item, text=panel("Kitaru secret", rows))


@command("secrets.list")
def list_(output: OutputOption = "text") -> Items:  # noqa: ARG001
    """List every secret you can see, sorted by name (values are never shown)."""
    from kitaru._llm import secrets

    summaries = secrets.list_summaries()
    if not summaries:
        text: Any = f"No secrets. Create one with: {SET_USAGE}"
    else:
        text = panel(
            "Kitaru secrets",
            [(s.name, f"{s.id} ({s.visibility}) | keys: {', '.join(s.keys) or 'none'}") for s in summaries],
        )
    return Items([s.as_dict() for s in summaries], text=text)


@command("secrets.delete")
def delete(name_or_id: NameOrIdArgument, output: OutputOption = "text") -> Item:  # noqa: ARG001
    """Delete a secret by exact name or id."""
    from kitaru._llm import secrets

    summary = secrets.delete_secret(name_or_id)
    users = _alias_users(summary)
    warnings = []
    if users:
        warnings.append(
            f"Model alias(es) {', '.join(users)} still link to this secret; kitaru.llm() calls through them "
            "will fail unless the provider's variable is set. Create the secret again or re-register them."
        )
    return Item(summary.as_dict(), text=f"Deleted secret: {summary.name} ({summary.id})", warnings=warnings)


def register(app: typer.Typer) -> None:
    """Add the ``secrets`` group to ``app``."""
    group.command(
        "set", context_settings={"ignore_unknown_options": True, "allow_extra_args": True}
    )(set_)
    group.command("show")(show)
    group.command("list")(list_)
    group.command("delete")(delete)
    app.add_typer(group, name="secrets")


__all__ = ["parse_assignments", "register"]
