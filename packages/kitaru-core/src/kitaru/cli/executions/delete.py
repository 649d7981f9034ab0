"""``kitaru executions delete|prune``: remove executions and the artifacts only they used.

::

    kitaru executions delete 0b6f3c1e 7d2a91 --yes          # ids or unique prefixes (6+ characters)
    kitaru executions prune --older-than 30d --status failed --dry-run
    kitaru executions prune --older-than 12h --flow research_agent --yes -o json

Both go through ``KitaruClient().executions.delete/prune`` (see
:mod:`kitaru.client.deletion` for what is deleted and what is kept). Deleting
cannot be undone, so without ``--yes`` the command asks on a terminal and
fails everywhere else (a script, an agent, ``-o json``). A running execution
is refused; ``prune`` only ever selects executions that ended.

``delete`` with one id fails like any command when that execution cannot be
deleted; with several, it reports each result (JSON: one item per id, with an
``error`` object or null) and exits 1 if any failed.
"""

from __future__ import annotations

import re
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kitaru.cli.output import Items, OutputFormat, OutputOption, command, print_text
from kitaru.errors import KitaruError, KitaruUsageError

if TYPE_CHECKING:
    from kitaru.client.models import DeletedExecution, PruneResult

DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
"""The units of ``--older-than`` (``90m``, ``12h``, ``30d``; combined: ``1d12h``)."""

_DURATION_PART = re.compile(r"(\d{1,12})([smhdw])")


YesOption = Annotated[
    bool, typer.Option("--yes", "-y", help="Delete without asking (required without a terminal and with -o json).")
]
"""``--yes``: deleting cannot be undone, so it is asked for unless given."""


def parse_duration(text: str) -> timedelta:
    """Parse ``--older-than``: numbers with units, e.g. ``30d``, ``12h``, ``90m``, ``45s``, ``2w``, ``1d12h``.

    Raises:
        KitaruUsageError: If ``text`` is not such a duration, or is too long to subtract from now.
    """
    compact = text.strip().lower().replace(" ", "")
    parts = _DURATION_PART.findall(compact)
    if not compact or "".join(number + unit for number, unit in parts) != compact:
        raise KitaruUsageError(
            f"--older-than '{text}' is not a duration: give a number and a unit, e.g. 30d, 12h, 90m or 45s "
            "(units: s, m, h, d, w; combined: 1d12h)."
        )
    try:
        return sum((timedelta(**{DURATION_UNITS[unit]: int(number)}) for number, unit in parts), timedelta())
    except OverflowError:
        raise KitaruUsageError(f"--older-than '{text}' is too long: no execution ended that long ago.") from None


def _client() -> Any:
    from kitaru.client import KitaruClient

    return KitaruClient()


def _can_ask(fmt: OutputFormat) -> bool:
    """Whether a person can confirm: text output, and a terminal on stdin and stdout."""
    try:
        return fmt is OutputFormat.TEXT and sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _confirm(question: str) -> bool:
    return typer.confirm(question, default=False)


def deleted_item(result: DeletedExecution) -> dict[str, Any]:
    """The JSON item of one deleted execution (``error`` is null)."""
    from kitaru.jsonable import to_jsonable

    return {**to_jsonable(result), "error": None}


def failed_item(given: str, error: KitaruError) -> dict[str, Any]:
    """The JSON item of an id that could not be deleted (the fields of a deleted one, plus ``error``)."""
    return {
        "exec_id": given,
        "flow_name": None,
        "status": None,
        "ended_at": None,
        "deleted": False,
        "artifacts_deleted": 0,
        "artifacts_kept": 0,
        "error": {"message": str(error), "type": type(error).__name__},
    }


def describe_deleted(result: DeletedExecution) -> str:
    """``Deleted execution <id> (flow, failed): 3 artifacts deleted, 1 kept (still used by other executions).``"""
    artifacts = f"{result.artifacts_deleted} artifact{'s' if result.artifacts_deleted != 1 else ''} deleted"
    if result.artifacts_kept:
        artifacts += f", {result.artifacts_kept} kept (still used by other executions)"
    return f"Deleted execution {result.exec_id} ({result.flow_name or 'unknown flow'}, {result.status}): {artifacts}."


@command("executions.delete")
def delete(
    exec_ids: Annotated[
        list[str],
        typer.Argument(
            help="Execution ids, or unique prefixes of at least 6 characters (see `kitaru executions list`)."
        ),
    ],
    yes: YesOption = False,
    output: OutputOption = "text",
) -> Items:
    """Delete executions and the artifacts only they used, stored files included. Running ones are refused."""
    fmt = OutputFormat(output)
    wanted = list(dict.fromkeys(value.strip() for value in exec_ids))
    if not yes:
        if not _can_ask(fmt):
            raise KitaruUsageError(
                "Deleting executions cannot be undone: pass --yes to confirm (there is no terminal to ask on)."
            )
        count = f"{len(wanted)} executions" if len(wanted) > 1 else f"execution {wanted[0]}"
        if not _confirm(f"Delete {count} and the artifacts only they used? This cannot be undone."):
            return Items([], text="Nothing deleted.")
    executions = _client().executions
    wanted = _distinct_executions(wanted)
    if len(wanted) == 1:
        result = executions.delete(wanted[0])
        return Items([deleted_item(result)], text=describe_deleted(result))
    items: list[dict[str, Any]] = []
    lines: list[str] = []
    for given in wanted:
        try:
            result = executions.delete(given)
        except KitaruError as exc:
            items.append(failed_item(given, exc))
            lines.append(f"Not deleted: {given}: {exc}")
            continue
        items.append(deleted_item(result))
        lines.append(describe_deleted(result))
    failed = sum(1 for item in items if item["error"] is not None)
    return Items(items, text=lines, exit_code=1 if failed else 0)


def _distinct_executions(given: list[str]) -> list[str]:
    """``given`` with each execution once, a prefix and its full id counting as one.

    A value that does not resolve is kept as given, so its own error is reported.
    """
    from kitaru.client.short_ids import resolve_execution_id

    distinct: dict[str, str] = {}
    for value in given:
        try:
            key = resolve_execution_id(value)
        except (KitaruError, ValueError):
            key = value
        distinct.setdefault(key, value)
    return list(distinct.values())


def prune_table(result: PruneResult) -> Any:
    """The executions a prune selected, as a table (ID, flow, status, ended, artifacts)."""
    from rich import box
    from rich.table import Table

    from kitaru.cli.executions.inspect import format_time

    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("ID", no_wrap=True)
    table.add_column("Flow", min_width=8, overflow="fold")
    table.add_column("Status", no_wrap=True)
    table.add_column("Ended", min_width=10, overflow="fold")
    if not result.dry_run:
        table.add_column("Artifacts deleted / kept", justify="right")
    for execution in result.executions:
        row = [execution.exec_id, execution.flow_name or "-", str(execution.status), format_time(execution.ended_at)]
        if not result.dry_run:
            row.append(f"{execution.artifacts_deleted} / {execution.artifacts_kept}")
        table.add_row(*[value or "-" for value in row])
    return table


def prune_text(result: PruneResult) -> list[Any]:
    """The text output of ``prune``: a summary line, the table, and the failures."""
    from kitaru.cli.executions.inspect import format_time

    before = f"ended before {format_time(result.cutoff)}"
    count = len(result.executions)
    noun = "execution" if count == 1 else "executions"
    if not count and not result.failures:
        return [f"No executions {before} match; nothing to delete."]
    if result.dry_run:
        parts: list[Any] = [f"Would delete {count} {noun} {before} (dry run: nothing was deleted):"]
    else:
        artifacts = sum(execution.artifacts_deleted for execution in result.executions)
        parts = [f"Deleted {count} {noun} {before}, and {artifacts} artifacts only they used."]
    if count:
        parts.append(prune_table(result))
    parts.extend(f"Not deleted: {failure.exec_id}: {failure.message}" for failure in result.failures)
    return parts


@command("executions.prune")
def prune(
    older_than: Annotated[
        str,
        typer.Option(
            "--older-than",
            help="Delete executions that ended longer ago than this: 30d, 12h, 90m, 45s, 2w (or 1d12h).",
        ),
    ],
    status: Annotated[
        str | None, typer.Option("--status", help="Only executions with this status: completed, failed, cancelled.")
    ] = None,
    flow: Annotated[str | None, typer.Option("--flow", help="Only executions of this flow.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be deleted; delete nothing.")] = False,
    yes: YesOption = False,
    output: OutputOption = "text",
) -> Items:
    """Delete executions that ended before now minus --older-than. Running and waiting ones are never touched."""
    fmt = OutputFormat(output)
    age = parse_duration(older_than)
    executions = _client().executions
    if not dry_run and not yes:
        preview = executions.prune(age, status=status, flow=flow, dry_run=True)
        if not preview.executions:
            return prune_items(preview)
        if not _can_ask(fmt):
            raise KitaruUsageError(
                f"{len(preview.executions)} executions would be deleted, which cannot be undone: pass --yes to "
                "confirm (there is no terminal to ask on), or --dry-run to list them."
            )
        print_text(prune_text(preview))
        if not _confirm(f"Delete these {len(preview.executions)} executions?"):
            return Items([], text="Nothing deleted.")
        # Exactly what was shown: an execution that crossed the cutoff while the question was open stays.
        shown = [execution.exec_id for execution in preview.executions]
        return prune_items(executions.prune(age, status=status, flow=flow, among=shown))
    return prune_items(executions.prune(age, status=status, flow=flow, dry_run=dry_run))


def prune_items(result: PruneResult) -> Items:
    """The result of ``prune``: one item per selected execution; ``cutoff``, ``dry_run`` and ``failures`` beside."""
    from kitaru.jsonable import to_jsonable

    return Items(
        [to_jsonable(execution) for execution in result.executions],
        text=lambda: prune_text(result),
        extra={
            "cutoff": to_jsonable(result.cutoff),
            "dry_run": result.dry_run,
            "failures": to_jsonable(result.failures),
        },
        exit_code=1 if result.failures else 0,
    )


def register(group: typer.Typer) -> None:
    """Add ``delete`` and ``prune`` to the ``executions`` group."""
    group.command("delete")(delete)
    group.command("prune")(prune)


__all__ = [
    "DURATION_UNITS",
    "describe_deleted",
    "parse_duration",
    "prune_items",
    "prune_table",
    "prune_text",
    "register",
]
