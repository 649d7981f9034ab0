"""``kitaru executions replay``: run an execution again from a checkpoint, as a new execution.

Checkpoints before the chosen one are reused without running; from it on the
flow runs again, in this process on the local default::

    kitaru executions replay 0b6f3c1e-... --from write_draft
    kitaru executions replay 0b6f3c1e-... --from write_draft \\
        --overrides '{"checkpoint.research": "edited notes"}' --args '{"topic": "agents"}'

Run it where the flow's module can be imported (the directory you ran the flow
from works; the execution records it).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from kitaru.cli.executions.control import outcome
from kitaru.cli.output import Item, OutputOption, command
from kitaru.errors import KitaruUsageError

GOOD_STATUSES = ("completed", "waiting")


def parse_json_object(raw: str | None, *, option: str) -> dict[str, Any]:
    """Parse a JSON object given on the command line (None gives ``{}``).

    Raises:
        KitaruUsageError: If ``raw`` is not valid JSON or not an object.
    """
    if raw is None:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise KitaruUsageError(
            f"{option} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}). "
            f'Pass an object, e.g. {option} \'{{"name": "value"}}\'.'
        ) from None
    if not isinstance(value, dict):
        raise KitaruUsageError(
            f"{option} must be a JSON object, got {type(value).__name__}: {raw}. "
            f'Pass an object, e.g. {option} \'{{"name": "value"}}\'.'
        )
    return value


@command("executions.replay")
def replay(
    exec_id: Annotated[str, typer.Argument(help="The execution to replay (see `kitaru executions list`).")],
    from_: Annotated[
        str,
        typer.Option("--from", help="Checkpoint to start from: name, invocation id or call ID.", metavar="SELECTOR"),
    ],
    args: Annotated[
        str | None,
        typer.Option("--args", help="Flow inputs that replace the source's, as a JSON object.", metavar="JSON_OBJECT"),
    ] = None,
    overrides: Annotated[
        str | None,
        typer.Option(
            "--overrides",
            help='Edited checkpoint outputs as a JSON object: {"checkpoint.<selector>": value}.',
            metavar="JSON_OBJECT",
        ),
    ] = None,
    output: OutputOption = "text",  # noqa: ARG001 (read by @command)
) -> Item:
    """Replay an execution from a checkpoint into a new execution."""
    flow_inputs = parse_json_object(args, option="--args")
    clashing = sorted(set(flow_inputs) & {"exec_id", "from_", "overrides"})
    if clashing:
        raise KitaruUsageError(
            f"--args cannot set {', '.join(clashing)}: those names are taken by the replay API. "
            "Rename the flow parameter, or replay from Python with `<flow>.replay(...)`."
        )
    edited = parse_json_object(overrides, option="--overrides")
    from kitaru.client import KitaruClient

    execution = KitaruClient().executions.replay(exec_id, from_=from_, overrides=edited or None, **flow_inputs)
    rows: tuple[tuple[str, Any], ...] = (("Replay of", execution.original_exec_id),)
    info = execution.replay_info
    if info is not None and info.overrides:
        rows += (("Overridden", ", ".join(info.overrides)),)
    return outcome("Replayed", execution, good=GOOD_STATUSES, extra_rows=rows)


def register(group: typer.Typer) -> None:
    """Add ``replay`` to the ``executions`` group."""
    group.command("replay")(replay)


__all__ = ["parse_json_object", "register"]
