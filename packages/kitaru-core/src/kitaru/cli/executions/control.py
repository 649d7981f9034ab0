"""``kitaru executions retry|resume|cancel``: continue or stop an execution.

``retry`` and ``resume`` continue the execution in place (same id); on the
local default the continuation runs in this process, printing one line per
checkpoint, and the command returns when it ends. The exit status is 1 when
the execution did not end well (failed again, or was cancelled meanwhile).

``retry --force-owner-dead`` also retries a *running* execution whose owner,
on another machine, went silent but is not yet judged dead by its heartbeat
timeout; a warning on stderr says what happens if that process is alive.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kitaru.cli.executions.inspect import status_text
from kitaru.cli.output import Item, OutputOption, command, panel

ExecIdArgument = Annotated[
    str, typer.Argument(help="The execution id, or a unique prefix of it (6+ characters; see `kitaru executions list`).")
]


def execution_item(execution: Any) -> dict[str, Any]:
    """The JSON item for an execution (the shared client serializer)."""
    from kitaru.jsonable import to_jsonable

    return to_jsonable(execution)


def outcome(verb: str, execution: Any, *, good: tuple[str, ...], extra_rows: tuple[tuple[str, Any], ...] = ()) -> Item:
    """Render ``<verb> execution: <id>`` plus a status panel; exit 1 unless the status is good."""
    rows: list[tuple[str, Any]] = [
        ("Execution ID", execution.exec_id),
        *extra_rows,
        ("Flow", execution.flow_name),
        ("Status", status_text(execution)),
    ]
    if execution.failure is not None:
        rows.append(("Failure", execution.failure.message))
    if execution.pending_wait is not None:
        rows.append(("Pending wait", execution.pending_wait.name))
    return Item(
        execution_item(execution),
        text=lambda: [f"{verb} execution: {execution.exec_id}", panel("Kitaru execution", rows)],
        exit_code=0 if str(execution.status) in good else 1,
    )


def _client() -> Any:
    from kitaru.client import KitaruClient

    return KitaruClient()


@command("executions.retry")
def retry(
    exec_id: ExecIdArgument,
    force_owner_dead: Annotated[
        bool,
        typer.Option(
            "--force-owner-dead",
            help=(
                "Also retry a running execution whose owner (a process on another machine) stopped sending "
                "heartbeats but is not yet judged dead. If that process is alive after all, a checkpoint may "
                "run twice before it notices and exits."
            ),
        ),
    ] = False,
    output: OutputOption = "text",  # noqa: ARG001
) -> Item:
    """Re-run a failed execution in place, skipping checkpoints that succeeded."""
    execution = _client().executions.retry(exec_id, force_owner_dead=force_owner_dead)
    return outcome("Retried", execution, good=("completed", "waiting"))


@command("executions.resume")
def resume(exec_id: ExecIdArgument, output: OutputOption = "text") -> Item:  # noqa: ARG001
    """Continue a paused execution after its waits were answered."""
    return outcome("Resumed", _client().executions.resume(exec_id), good=("completed", "waiting"))


@command("executions.cancel")
def cancel(exec_id: ExecIdArgument, output: OutputOption = "text") -> Item:  # noqa: ARG001
    """Stop an execution (at its next checkpoint boundary, or sooner)."""
    return outcome("Cancelled", _client().executions.cancel(exec_id), good=("cancelled",))


def register(group: typer.Typer) -> None:
    """Add retry, resume and cancel to the ``executions`` group."""
    group.command("retry")(retry)
    group.command("resume")(resume)
    group.command("cancel")(cancel)
