"""``kitaru executions get`` and ``kitaru executions list``.

Both render :class:`~kitaru.client.Execution` models: text mode as a Rich
panel or table, JSON mode through :func:`kitaru.jsonable.to_jsonable`
(the same serializer the MCP server uses)::

    kitaru executions list --flow research_agent --status failed --limit 5
    kitaru executions get 0b6f3c1e-5a4d-4c1b-9a43-1f2e3d4c5b6a -o json
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kitaru.cli.output import Item, Items, OutputOption, command, panel

if TYPE_CHECKING:
    from kitaru.client.models import Execution

MAX_CHECKPOINTS_SHOWN = 4


def format_time(value: datetime | None) -> str | None:
    """Format a timestamp for text output (``2026-01-31 12:00:05 UTC``)."""
    if value is None:
        return None
    offset = value.utcoffset()
    suffix = " UTC" if offset is not None and offset.total_seconds() == 0 else ""
    return value.strftime("%Y-%m-%d %H:%M:%S") + suffix


def summarize_checkpoints(execution: Execution, limit: int = MAX_CHECKPOINTS_SHOWN) -> str | None:
    """Describe checkpoint calls as ``name (status), ...`` with at most ``limit`` names.

    Returns:
        ``"research (completed, overridden), draft (failed), ... (+3 more)"``,
        or None when the execution has no checkpoint calls.
    """
    calls = execution.checkpoints
    if not calls:
        return None
    shown = ", ".join(
        f"{call.name} ({call.status}, overridden)" if call.overridden else f"{call.name} ({call.status})"
        for call in calls[:limit]
    )
    hidden = len(calls) - limit
    return f"{shown}, ... (+{hidden} more)" if hidden > 0 else shown


def describe_replay(execution: Execution) -> str | None:
    """Say how a replay made the execution.

    Returns:
        ``"Replayed from <id> at `summarize`; overrides: flaky"``, or None
        for an execution no replay made.
    """
    info = execution.replay_info
    if info is None:
        return None
    text = f"Replayed from {info.source_exec_id} at `{info.from_checkpoint}`"
    if info.overrides:
        text += f"; overrides: {', '.join(info.overrides)}"
    if info.inherited_overrides:
        text += f"; keeps earlier overrides of: {', '.join(info.inherited_overrides)}"
    return text


def _failure_text(execution: Execution) -> str | None:
    failure = execution.failure
    if failure is None:
        if str(execution.status) == "cancelled":
            reason = execution.status_reason or "Cancelled by user."
            return f"none: {reason[0].lower()}{reason[1:].rstrip('.')}"
        return None
    return f"{failure.message} (origin: {failure.origin})"


def describe_owner(execution: Execution) -> str | None:
    """Say who runs a running execution and when it was last heard of.

    Returns:
        ``"pid 42 on host pod-7, last seen 12s ago (judged dead after 60s
        without a heartbeat)"``, or None when no owner runs it.
    """
    owner = execution.owner
    if owner is None:
        return None
    return f"{owner.describe()}, {owner.last_seen()} (judged dead after {owner.timeout_seconds:g}s without a heartbeat)"


def execution_panel(execution: Execution) -> list[Any]:
    """Build the text output of ``executions get``: the panel and, when useful, a hint."""
    wait = execution.pending_wait
    rows: list[tuple[str, Any]] = [
        ("Execution ID", execution.exec_id),
        ("Flow", execution.flow_name),
        ("Status", str(execution.status)),
        ("Started", format_time(execution.started_at)),
        ("Ended", format_time(execution.ended_at)),
        ("Stack", execution.stack_name),
        ("Pending wait", wait.name if wait else None),
        ("Wait question", wait.question if wait else None),
        ("Failure", _failure_text(execution)),
        ("Checkpoints", summarize_checkpoints(execution)),
    ]
    owner = describe_owner(execution)
    if owner is not None:
        rows.insert(3, ("Owner", owner))
    usage = execution.llm_usage
    if usage:
        from kitaru._llm.usage import describe_cost

        rows.append(("LLM calls", usage["calls"]))
        tokens = (
            f"{usage['total_tokens']} ({usage['tokens_input']} in, {usage['tokens_output']} out)"
            if usage.get("calls_with_usage")
            else "not reported by the provider"
        )
        rows.append(("Tokens", tokens))
        rows.append(("Cost", describe_cost(usage)))
    replay = describe_replay(execution)
    if replay is not None:
        rows.append(("Replay", replay))
    elif execution.original_exec_id:
        rows.append(("Replay of", execution.original_exec_id))
    parts: list[Any] = [panel("Kitaru execution", rows)]
    from kitaru.errors import build_recovery_command

    recovery = build_recovery_command(execution.exec_id, str(execution.status))
    if recovery:
        parts.append(f"To retry this failed execution, run: {recovery}")
    if wait is not None:
        parts.append(f"Answer the wait with: kitaru executions input {execution.exec_id} --value <JSON>")
    return parts


def executions_table(executions: list[Execution]) -> Any:
    """Build the text output of ``executions list``."""
    from rich import box
    from rich.table import Table

    # IDs stay whole (people copy them); the other columns wrap on narrow terminals.
    table = Table(title="Kitaru executions", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("ID", no_wrap=True)
    table.add_column("Flow", min_width=8, overflow="fold")
    table.add_column("Status", no_wrap=True)
    table.add_column("Stack", min_width=7, overflow="fold")
    table.add_column("Checkpoints", justify="right", min_width=5, overflow="fold")
    table.add_column("Started", min_width=10, overflow="fold")
    for execution in executions:
        table.add_row(
            execution.exec_id,
            execution.flow_name or "-",
            str(execution.status),
            execution.stack_name or "-",
            str(execution.checkpoint_count),
            format_time(execution.started_at) or "-",
        )
    return table


@command("executions.get")
def get(
    exec_id: Annotated[str, typer.Argument(help="The execution id (a full UUID, see `kitaru executions list`).")],
    output: OutputOption = "text",  # noqa: ARG001 (read by @command)
) -> Item:
    """Show an execution: status, timing, failure, pending wait and checkpoints."""
    from kitaru.client import KitaruClient
    from kitaru.jsonable import to_jsonable

    execution = KitaruClient().executions.get(exec_id)
    return Item(to_jsonable(execution), text=lambda: execution_panel(execution))


def _no_results(flow: str | None, status: str | None) -> str:
    filters = [f"{name}={value!r}" for name, value in (("flow", flow), ("status", status)) if value]
    where = f" matching {' and '.join(filters)}" if filters else ""
    return f"No executions found{where}. Run a flow with `my_flow.run(...)` to create one."


@command("executions.list")
def list_(
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            help="Only executions with this status: running, waiting, completed, failed, cancelled.",
        ),
    ] = None,
    flow: Annotated[str | None, typer.Option("--flow", help="Only executions of this flow.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Show at most this many executions.")] = None,
    output: OutputOption = "text",  # noqa: ARG001 (read by @command)
) -> Items:
    """List executions, newest first."""
    from kitaru.client import KitaruClient
    from kitaru.jsonable import to_jsonable

    executions = KitaruClient().executions.list(flow=flow, status=status, limit=limit)
    return Items(
        [to_jsonable(execution) for execution in executions],
        text=lambda: executions_table(executions) if executions else _no_results(flow, status),
    )


def register(group: typer.Typer) -> None:
    """Add ``get`` and ``list`` to the ``executions`` group."""
    group.command("get")(get)
    group.command("list")(list_)


__all__ = [
    "describe_owner",
    "describe_replay",
    "execution_panel",
    "executions_table",
    "format_time",
    "register",
    "summarize_checkpoints",
]
