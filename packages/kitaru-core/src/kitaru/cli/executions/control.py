"""``kitaru executions retry|resume|cancel``: continue or stop an execution.

``retry`` and ``resume`` continue the execution in place (same id); on the
local default the continuation runs in this process, printing one line per
checkpoint, and the command returns when it ends. The exit status is 1 when
the execution did not end well (failed again, or was cancelled meanwhile).

``retry --force-owner-dead`` also retries a *running* execution whose owner,
on another machine, went silent but is not yet judged dead by its heartbeat
timeout; a warning on stderr says what happens if that process is alive.

``retry ID --budget-usd X`` (``--budget-tokens N``, ``--budget-calls N``)
replaces those limits of the execution's budget before it continues, so an
execution that failed with origin ``budget`` can go on
(:mod:`kitaru.execution.budgets`).

``retry --status failed [--flow NAME] [--since 1d] [--dry-run]`` retries every
failed execution that matches instead of one
(:mod:`kitaru.cli.executions.retry_many`).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kitaru.cli.executions.inspect import status_text
from kitaru.cli.output import Item, Items, OutputOption, command, panel

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
    exec_id: Annotated[
        str | None,
        typer.Argument(
            help="The execution id, or a unique prefix of it (6+ characters). Leave it out with --status failed.",
            show_default=False,
        ),
    ] = None,
    status: Annotated[
        str | None,
        typer.Option("--status", help="Retry every execution with this status: failed (the only one retryable)."),
    ] = None,
    flow: Annotated[str | None, typer.Option("--flow", help="With --status: only executions of this flow.")] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="With --status: only executions that failed in the last 30m, 12h, 1d, 2w ..."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="With --status: list what would be retried; retry nothing.")
    ] = False,
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
    budget_usd: Annotated[
        float | None,
        typer.Option("--budget-usd", help="Raise the execution's budget to this many US dollars, then retry."),
    ] = None,
    budget_tokens: Annotated[
        int | None, typer.Option("--budget-tokens", help="Raise the execution's token budget, then retry.")
    ] = None,
    budget_calls: Annotated[
        int | None, typer.Option("--budget-calls", help="Raise the execution's budget of LLM calls, then retry.")
    ] = None,
    output: OutputOption = "text",  # noqa: ARG001
) -> Item | Items:
    """Re-run a failed execution in place, skipping checkpoints that succeeded (or every match of --status failed)."""
    from kitaru.cli.executions.retry_many import one_execution, retry_many_items

    budget = _budget_override(budget_usd, budget_tokens, budget_calls, bulk=exec_id is None)
    single = one_execution(
        exec_id, status=status, flow=flow, since=since, dry_run=dry_run, force_owner_dead=force_owner_dead
    )
    if single is None:
        return retry_many_items(status=status or "", flow=flow, since=since, dry_run=dry_run)
    execution = _client().executions.retry(single, force_owner_dead=force_owner_dead, budget=budget)
    return outcome("Retried", execution, good=("completed", "waiting"))


def _budget_override(usd: float | None, tokens: int | None, calls: int | None, *, bulk: bool) -> Any:
    """The ``kitaru.Budget`` of the ``--budget-*`` options, or None when none is given."""
    from kitaru.budget import Budget
    from kitaru.errors import KitaruUsageError

    if usd is None and tokens is None and calls is None:
        return None
    if bulk:
        raise KitaruUsageError(
            "--budget-usd, --budget-tokens and --budget-calls raise the budget of one execution; give its id "
            "(they cannot be used with --status)."
        )
    for flag, value in (("--budget-usd", usd), ("--budget-tokens", tokens), ("--budget-calls", calls)):
        if value is not None and not value > 0:
            raise KitaruUsageError(f"{flag} must be greater than 0, not {value:g}.")
    return Budget(usd=usd, tokens=tokens, llm_calls=calls)


@command("executions.resume")
def resume(
    exec_id: Annotated[
        str | None,
        typer.Argument(
            help="The execution id, or a unique prefix of it (6+ characters). Leave it out with --due.",
            show_default=False,
        ),
    ] = None,
    due: Annotated[
        bool,
        typer.Option(
            "--due",
            help=(
                "Continue every execution whose kitaru.sleep() has reached its wake-up time (paused ones are "
                "resumed; those whose process died while sleeping are retried), and report each. For cron or a "
                "systemd timer."
            ),
        ),
    ] = False,
    output: OutputOption = "text",  # noqa: ARG001
) -> Item | Items:
    """Continue a paused execution after its waits were answered or its sleep is due (or every due one with --due)."""
    from kitaru.cli.executions.sleeps import resume_due_items
    from kitaru.errors import KitaruUsageError

    if due and exec_id is not None:
        raise KitaruUsageError(
            "Give either an execution id or --due, not both: --due continues every execution whose sleep is due."
        )
    if due:
        return resume_due_items()
    if exec_id is None:
        raise KitaruUsageError(
            "An execution id is required (see `kitaru executions list`), or --due to continue every execution "
            "whose sleep is due."
        )
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
