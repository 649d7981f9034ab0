"""``kitaru run``: run a flow named by a ``<module_or_file.py>:<flow>`` target.

::

    kitaru run agents.py:research_agent --args '{"topic": "durable agents"}'
    kitaru run my_package.flows:research_agent --stack team-k8s -o json
    kitaru run agents.py:research_agent --args '{"topic": "x"}' --idempotency-key order-42

The target is loaded by :mod:`kitaru.targets` (shared with the MCP server's
``kitaru_executions_run`` tool). On the local default the flow runs in this
process, printing a line per checkpoint, and the command returns when the
execution has completed, failed, or paused on a wait; on a remote stack it
returns once the execution is submitted. It prints the execution id and
status; ``-o json`` prints the execution as ``kitaru executions get`` does.
The exit status is 1 when the execution failed or was cancelled.

With ``--idempotency-key KEY`` at most one execution of the flow is started
for ``KEY``: if it exists (whatever its status) the command prints
"Execution X already exists for idempotency key 'KEY'; not starting
another." and reports that execution instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from kitaru.cli.output import Item, OutputOption, command, panel

if TYPE_CHECKING:
    from kitaru.client.models import Execution

GOOD_STATUSES = ("completed", "waiting", "running")
"""Statuses after which ``kitaru run`` exits 0 (running: submitted to a remote stack)."""


def run_text(execution: Execution) -> list[Any]:
    """The text output: the execution panel plus what to do next."""
    rows: list[tuple[str, Any]] = [
        ("Execution ID", execution.exec_id),
        ("Flow", execution.flow_name),
        ("Status", str(execution.status)),
        ("Stack", execution.stack_name),
    ]
    if execution.failure is not None:
        rows.append(("Failure", execution.failure.message))
    wait = execution.pending_wait
    if wait is not None:
        rows.append(("Pending wait", wait.name))
        rows.append(("Wait question", wait.question))
    parts: list[Any] = [panel("Kitaru execution", rows)]
    from kitaru.errors import build_recovery_command

    recovery = build_recovery_command(execution.exec_id, str(execution.status))
    if recovery:
        parts.append(f"To retry this failed execution, run: {recovery}")
    if wait is not None:
        parts.append(
            f"Answer the wait with: kitaru executions input {execution.exec_id} --value <JSON>, "
            f"then continue with: kitaru executions resume {execution.exec_id}"
        )
    return parts


@command("run")
def run(
    target: Annotated[
        str,
        typer.Argument(
            help="The flow to run: <module_or_file.py>:<flow>, e.g. flows.py:my_flow or my_pkg.flows:my_flow.",
            metavar="TARGET",
        ),
    ],
    args: Annotated[
        str | None,
        typer.Option("--args", help="The flow's inputs as a JSON object of parameter names to values.",
                     metavar="JSON_OBJECT"),
    ] = None,
    stack: Annotated[
        str | None, typer.Option("--stack", help="Run on this stack (for this execution only).", metavar="NAME")
    ] = None,
    idempotency_key: Annotated[
        str | None,
        typer.Option(
            "--idempotency-key",
            help="Start at most one execution of this flow for KEY: if one exists, report it instead.",
            metavar="KEY",
        ),
    ] = None,
    output: OutputOption = "text",  # noqa: ARG001 (read by @command)
) -> Item:
    """Run a flow from a file or module and print its execution id and status."""
    from kitaru.cli.executions.replay import parse_json_object
    from kitaru.targets import load_flow_target, run_flow_target

    flow_inputs = parse_json_object(args, option="--args")
    loaded = load_flow_target(target)
    handle = run_flow_target(loaded, flow_inputs, stack=stack, idempotency_key=idempotency_key)
    from kitaru.client import KitaruClient
    from kitaru.jsonable import to_jsonable

    execution = KitaruClient().executions.get(handle.exec_id)
    return Item(
        to_jsonable(execution),
        text=lambda: run_text(execution),
        exit_code=0 if str(execution.status) in GOOD_STATUSES else 1,
    )


def register(app: typer.Typer) -> None:
    """Add ``kitaru run`` to ``app``."""
    app.command("run")(run)


__all__ = ["register", "run_text"]
