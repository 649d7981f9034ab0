"""``kitaru plugins``: which plugins are installed and what they provide.

Lists every registered plugin (core's built-ins and those found under the
``kitaru`` entry-point group) with its distribution, version and the hooks it
implements. Loading problems (a duplicate name, a plugin that fails to
import) are shown as warnings in text mode and as ``problems`` in JSON.
"""

from __future__ import annotations

from typing import Any

import typer

from kitaru.cli.output import Items, OutputOption, command, display


def collect_plugins() -> tuple[list[dict[str, Any]], list[str]]:
    """Load plugins and describe them.

    Returns:
        The JSON items (``{name, distribution, version, hooks}``) and the
        plugin manager's problems.
    """
    from kitaru.plugins import get_plugin_manager

    manager = get_plugin_manager()
    items = [
        {
            "name": info.name,
            "distribution": info.distribution,
            "version": info.version,
            "hooks": list(info.hooks),
        }
        for info in manager.plugins()
    ]
    # The typed facade reports duplicate records lazily: touch each hook
    # family so those problems are listed too.
    for collect in (
        manager.stack_providers,
        manager.artifact_serializers,
        manager.log_stores,
        manager.llm_backends,
    ):
        collect()
    return items, list(dict.fromkeys(manager.problems))


def _table(items: list[dict[str, Any]]) -> Any:
    from rich.table import Table

    table = Table(title="Kitaru plugins", title_justify="left", show_lines=False)
    table.add_column("Name", no_wrap=True)
    table.add_column("Distribution", no_wrap=True)
    table.add_column("Version", no_wrap=True)
    table.add_column("Hooks", overflow="fold")
    for item in items:
        hooks = display(item["hooks"]) if item["hooks"] else "none"
        table.add_row(item["name"], item["distribution"], item["version"], hooks)
    return table


@command("plugins")
def plugins(output: OutputOption = "text") -> Items:  # noqa: ARG001 (read by @command)
    """List installed plugins and the hooks they implement."""
    items, problems = collect_plugins()
    return Items(
        items,
        text=lambda: _table(items) if items else "No plugins installed.",
        extra={"problems": problems},
        warnings=problems,
    )


def register(app: typer.Typer) -> None:
    """Add ``kitaru plugins`` to ``app``."""
    app.command("plugins")(plugins)


__all__ = ["collect_plugins", "register"]
