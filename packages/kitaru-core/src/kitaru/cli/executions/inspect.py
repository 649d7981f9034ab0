"""``kitaru executions get`` and ``kitaru executions list``.

Both render :class:`~kitaru.client.Execution` models: text mode as a Rich
panel or table, JSON mode through :func:`kitaru.jsonable.to_jsonable`
(the same serializer the MCP server uses)::

    kitaru executions list --flow research_agent --status failed --limit 5
    kitaru executions get 0b6f3c1e-5a4d-4c1b-9a43-1f2e3d4c5b6a -o json
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
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


INPUT_RECEIVED = "input received, resume to continue"
"""The status text of a paused execution whose waits are all answered (its status is still ``waiting``)."""


def input_received(execution: Execution) -> bool:
    """Whether a paused execution has had its input (``executions input``) and only needs ``resume``."""
    return str(execution.status) == "waiting" and execution.pending_wait is None


def status_text(execution: Execution) -> str:
    """The status as text views show it: the status, or :data:`INPUT_RECEIVED` for a paused execution that has its input."""
    return INPUT_RECEIVED if input_received(execution) else str(execution.status)


def describe_attempts(execution: Execution) -> str | None:
    """Say which checkpoint calls took more than one attempt (a checkpoint's retries, or an execution retry).

    Returns:
        ``"flaky: completed after 2 attempts; fetch: failed after 3 attempts"``,
        or None when every call ran once.
    """
    parts = []
    for call in execution.checkpoints:
        count = len(call.attempts)
        if count < 2:
            continue
        status = str(call.status)
        if status in ("completed", "failed", "cancelled"):
            parts.append(f"{call.name}: {status} after {count} attempts")
        else:
            parts.append(f"{call.name}: {status}, attempt {count}")
    return "; ".join(parts) or None


def execution_panel(execution: Execution) -> list[Any]:
    """Build the text output of ``executions get``: the panel and, when useful, a hint."""
    wait = execution.pending_wait
    rows: list[tuple[str, Any]] = [
        ("Execution ID", execution.exec_id),
        ("Flow", execution.flow_name),
        ("Status", status_text(execution)),
        ("Started", format_time(execution.started_at)),
        ("Ended", format_time(execution.ended_at)),
        ("Stack", execution.stack_name),
        ("Pending wait", wait.name if wait else None),
        ("Wait question", wait.question if wait else None),
        ("Failure", _failure_text(execution)),
        ("Checkpoints", summarize_checkpoints(execution)),
    ]
    from kitaru.cli.executions.sleeps import describe_sleep, sleep_hint

    sleep = describe_sleep(execution)
    if sleep is not None:
        rows.insert(3, ("Sleep", sleep))
    attempts = describe_attempts(execution)
    if attempts is not None:
        rows.append(("Attempts", attempts))
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
    if execution.budget is not None:
        from kitaru.execution.budgets import describe_budget

        rows.append(("Budget", describe_budget(execution.budget)))
    replay = describe_replay(execution)
    if replay is not None:
        rows.append(("Replay", replay))
    elif execution.original_exec_id:
        rows.append(("Replay of", execution.original_exec_id))
    if execution.parent_exec_id:
        rows.append(("Parent", execution.parent_exec_id))  # a child flow: the execution that called it
    if execution.children:
        rows.append(("Children", "\n".join(execution.children)))
    if execution.idempotency_key is not None:
        rows.append(("Idempotency key", execution.idempotency_key))
    if execution.cassette is not None:
        rows.append(("Cassette", f"{execution.cassette.get('path')} ({execution.cassette.get('mode')})"))
    parts: list[Any] = [panel("Kitaru execution", rows)]
    from kitaru.errors import build_recovery_command

    recovery = build_recovery_command(execution.exec_id, str(execution.status))
    if recovery:
        parts.append(f"To retry this failed execution, run: {recovery}")
    from kitaru.execution.events import receive_wait_topic

    topic = receive_wait_topic(wait.name) if wait is not None else None
    hint = sleep_hint(execution)
    if hint is not None:
        parts.append(hint)
    elif topic is not None:
        parts.append(f"Send the event with: kitaru executions send {execution.exec_id} {topic} --value <JSON>")
    elif wait is not None:
        parts.append(f"Answer the wait with: kitaru executions input {execution.exec_id} --value <JSON>")
    elif input_received(execution):
        parts.append(f"Continue it with: kitaru executions resume {execution.exec_id}")
    return parts


SHORT_ID_LENGTH = 8
"""Characters of an id the list shows when full ids do not fit (any unique prefix of 6+ is accepted back)."""
COLUMN_GAP = 2
"""Spaces between two columns of the list."""


def list_time(value: datetime | None) -> str:
    """A timestamp in the list: ``2026-01-31 12:00`` (UTC, as the column header says), ``-`` when unset."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M") if value is not None else "-"


def list_duration(execution: Execution) -> str:
    """How long an ended execution ran (``0.6s``, ``2m 03s``, ``1h 04m``); ``-`` while it has not ended."""
    from kitaru.execution.console import format_elapsed

    if execution.started_at is None or execution.ended_at is None:
        return "-"
    seconds = max(0.0, (execution.ended_at - execution.started_at).total_seconds())
    return f"{seconds:.1f}s" if seconds < 60 else format_elapsed(seconds)


def short_ids(exec_ids: list[str], length: int = SHORT_ID_LENGTH) -> list[str]:
    """The ids cut to ``length`` characters, longer where two listed ids would share a prefix."""
    while length < max((len(exec_id) for exec_id in exec_ids), default=0):
        cut = [exec_id[:length] for exec_id in exec_ids]
        if len(set(cut)) == len(set(exec_ids)):
            return cut
        length += 1
    return list(exec_ids)


@dataclass(frozen=True)
class ListColumn:
    """One column of the ``executions list`` table.

    Attributes:
        header: Its title.
        cells: Its text, one per execution.
        wraps: Whether long cells wrap at spaces (never inside a word); the others stay on one line.
        justify: ``left`` or ``right``.
    """

    header: str
    cells: list[str]
    wraps: bool = False
    justify: str = "left"

    def width(self) -> int:
        """The width it needs to show every cell on one line."""
        return max([len(self.header), *(len(cell) for cell in self.cells)])

    def least_width(self) -> int:
        """The width it needs at least: a wrapping column's longest word, else its full width."""
        if not self.wraps:
            return self.width()
        words = [word for text in (self.header, *self.cells) for word in text.split()]
        return max((len(word) for word in words), default=1)


class ExecutionsTable:
    """The text output of ``executions list``: a table laid out for the width it is printed at.

    The ID, flow, status, ended and duration columns are always there; the
    others are added, most useful first, while the table still fits:
    checkpoint count, the full id (else :data:`SHORT_ID_LENGTH` characters,
    which every command accepts), started, stack. No column is cut inside a
    word, and the table ends with its last row (no blank lines).
    """

    ALWAYS = ("Flow", "Status", "Ended (UTC)", "Duration")
    OPTIONAL = ("Checkpoints", "full id", "Started (UTC)", "Stack")
    ORDER = ("ID", "Flow", "Status", "Stack", "Checkpoints", "Started (UTC)", "Ended (UTC)", "Duration")

    def __init__(self, executions: list[Execution]) -> None:
        ids = [execution.exec_id for execution in executions]
        self.full_ids = ListColumn("ID", ids)
        self.short_ids = ListColumn("ID", short_ids(ids))
        self.columns = {
            "Flow": ListColumn("Flow", [execution.flow_name or "-" for execution in executions], wraps=True),
            "Status": ListColumn("Status", [status_text(execution) for execution in executions], wraps=True),
            "Stack": ListColumn("Stack", [execution.stack_name or "-" for execution in executions], wraps=True),
            "Checkpoints": ListColumn(
                "Checkpoints", [str(execution.checkpoint_count) for execution in executions], justify="right"
            ),
            "Started (UTC)": ListColumn("Started (UTC)", [list_time(execution.started_at) for execution in executions]),
            "Ended (UTC)": ListColumn("Ended (UTC)", [list_time(execution.ended_at) for execution in executions]),
            "Duration": ListColumn("Duration", [list_duration(execution) for execution in executions], justify="right"),
        }

    def layout(self, width: int) -> list[ListColumn]:
        """The columns shown at ``width``, in display order."""
        chosen = {"ID": self.short_ids, **{name: self.columns[name] for name in self.ALWAYS}}

        def needed(columns: dict[str, ListColumn]) -> int:
            return sum(column.width() for column in columns.values()) + COLUMN_GAP * (len(columns) - 1)

        for name in self.OPTIONAL:
            trial = dict(chosen)
            if name == "full id":
                trial["ID"] = self.full_ids
            else:
                trial[name] = self.columns[name]
            if needed(trial) <= width:
                chosen = trial
        return [chosen[name] for name in self.ORDER if name in chosen]

    def table(self, width: int) -> Any:
        """The rich table for ``width`` columns."""
        from rich import box
        from rich.table import Table

        columns = self.layout(width)
        table = Table(
            title="Kitaru executions",
            title_justify="left",
            box=box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
            padding=(0, COLUMN_GAP - 1, 0, 0),
        )
        for column in columns:
            table.add_column(
                column.header,
                justify=column.justify,  # type: ignore[arg-type]
                no_wrap=not column.wraps,
                overflow="ellipsis",
                min_width=column.least_width(),
            )
        for row in zip(*(column.cells for column in columns), strict=True):
            table.add_row(*row)
        return table

    def __rich_console__(self, console: Any, options: Any) -> Iterator[Any]:
        yield self.table(options.max_width)


def executions_table(executions: list[Execution]) -> Any:
    """Build the text output of ``executions list`` (:class:`ExecutionsTable`)."""
    return ExecutionsTable(executions)


@command("executions.get")
def get(
    exec_id: Annotated[
        str,
        typer.Argument(help="The execution id, or a unique prefix of it (6+ characters; see `kitaru executions list`)."),
    ],
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
