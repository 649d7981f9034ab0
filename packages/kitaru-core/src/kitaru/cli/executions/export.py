"""``kitaru executions export ID --cassette PATH``: an execution's model calls as a cassette file.

::

    kitaru executions export 0b6f3c --cassette tests/cassettes/research.json
    kitaru executions export 0b6f3c --cassette research.json --tools -o json

The file is readable JSON (indented, keys sorted, a ``version`` field) with
each model request and its answer, tokens and cost; ``--tools`` adds the tool
calls. Run a flow with ``KITARU_CASSETTE=PATH`` (or inside
``kitaru.testing.cassette(PATH)``) to answer its model requests from it,
offline (see :mod:`kitaru.client.cassettes` and ``docs/testing.md``).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kitaru.cli.output import Item, OutputOption, command, panel


@command("executions.export")
def export(
    exec_id: Annotated[str, typer.Argument(metavar="ID", help="The execution: its id or a unique prefix.")],
    cassette: Annotated[
        str, typer.Option("--cassette", metavar="PATH", help="Write its model calls to this cassette file (replaced).")
    ],
    tools: Annotated[
        bool, typer.Option("--tools", help="Also write its tool calls (name, arguments, result).")
    ] = False,
    output: OutputOption = "text",  # noqa: ARG001 (read by @command)
) -> Item:
    """Export an execution's model calls as a cassette, to run its flow offline."""
    from kitaru.client import KitaruClient

    written = KitaruClient().executions.export_cassette(exec_id, cassette, tools=tools)
    rows: list[tuple[str, Any]] = [
        ("Execution", written["exec_id"]),
        ("Cassette", written["path"]),
        ("Model calls", written["calls"]),
    ]
    if tools:
        rows.append(("Tool calls", written["tool_calls"]))
    return Item(written, text=panel("Kitaru cassette", rows))


def register(group: typer.Typer) -> None:
    """Add ``export`` to the ``executions`` group."""
    group.command("export")(export)


__all__ = ["export", "register"]
