"""``kitaru executions send``: send an event to a running or paused execution.

The flow body takes it with ``kitaru.receive(TOPIC)``::

    kitaru executions send 0b6f3c1e-... payment --value '{"amount": 42}'
    kitaru executions send 0b6f3c --value '"approved"' review --resume

A receive waiting on the topic continues in the process that waits. A paused
execution that waited for the topic becomes resumable; ``--resume`` resumes it
here (as ``kitaru executions resume`` would, running it in this process on the
local default). Sending to a finished execution is refused.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kitaru.cli.executions.waits import parse_json_value
from kitaru.cli.output import Item, OutputOption, command, panel


def _item(sent: Any) -> Item:
    from kitaru.jsonable import to_jsonable

    rows = [
        ("Execution ID", sent.exec_id),
        ("Topic", sent.topic),
        ("Event ID", sent.event_id),
        ("Status", sent.status),
    ]
    return Item(
        to_jsonable(sent),
        text=lambda: [
            f"Sent event on topic `{sent.topic}` to execution {sent.exec_id}.",
            panel("Kitaru event", rows),
            sent.next_step,
        ],
        exit_code=1 if sent.resumed and sent.status not in ("completed", "waiting") else 0,
    )


@command("executions.send")
def send(
    exec_id: Annotated[
        str,
        typer.Argument(help="The execution id, or a unique prefix of it (6+ characters).", metavar="EXEC_ID"),
    ],
    topic: Annotated[
        str,
        typer.Argument(
            help="The topic its flow body receives with kitaru.receive(TOPIC): 1-64 letters, digits, '_', '.', "
            "'-', starting with a letter or digit.",
            metavar="TOPIC",
        ),
    ],
    value: Annotated[
        str,
        typer.Option("--value", help="The event as JSON (42, true, '\"text\"', '{\"k\": 1}').", metavar="JSON"),
    ],
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="If the execution is paused and nothing else holds it, resume it here after sending.",
        ),
    ] = False,
    output: OutputOption = "text",  # noqa: ARG001
) -> Item:
    """Send an event (a JSON value on a topic) to a running or paused execution."""
    parsed = parse_json_value(value)
    from kitaru.client import KitaruClient

    return _item(KitaruClient().executions.send(exec_id, topic, parsed, resume=resume))


def register(group: typer.Typer) -> None:
    """Add ``send`` to the ``executions`` group."""
    group.command("send")(send)


__all__ = ["register", "send"]
