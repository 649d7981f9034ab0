"""``kitaru schedule``: run flows on a cron.

* ``create NAME TARGET --cron "0 7 * * *" [--args JSON_OBJECT]``: TARGET is
  what ``kitaru run`` takes (``<module_or_file.py>:<flow>``). Everything is
  checked before anything is written.
* ``list``: every schedule with its next fire time, last run and missed count.
* ``delete NAME``.
* ``run-due [--now ISO_TIME]``: start what is due (local schedules), report
  what was started and what was missed. Call it every minute from cron or a
  systemd timer; ``--now`` evaluates the schedules at another moment (a
  backfill, or a test). Exits 1 if an execution could not start or failed.
  A fire another ``run-due`` claimed first is listed under ``already_taken``.

The rules live in :mod:`kitaru.schedules`; this module parses and renders.
JSON items are the records of :class:`kitaru.schedules.Schedule` (plus
``next_fire_at``, ``due_at``, ``pending_missed_count`` in ``list``) and, for
``run-due``, :meth:`kitaru.schedules.StartedFire.to_json`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kitaru.cli.output import Item, Items, OutputOption, command, panel
from kitaru.errors import KitaruUsageError

if TYPE_CHECKING:
    from kitaru.schedules import RunDueReport, Schedule, ScheduleStatus

group = typer.Typer(
    name="schedule",
    help=(
        "Run flows on a cron. On the local default, `kitaru schedule run-due` (from cron or a systemd "
        "timer, every minute) starts what is due; stacks whose orchestrator runs schedules run them there."
    ),
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

NameArgument = Annotated[str, typer.Argument(help="The schedule's name (letters, digits, '_', '.', '-').")]


def when(moment: datetime | None) -> str | None:
    """A time for a text row, in this machine's time zone (``2026-12-06 07:00:00 +0100``)."""
    return None if moment is None else moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %z")


def parse_now(raw: str | None) -> datetime | None:
    """Read ``--now``: ISO 8601; a time without an offset is local time.

    Raises:
        KitaruUsageError: If it is not an ISO 8601 date and time.
    """
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise KitaruUsageError(
            f"--now must be an ISO 8601 date and time, e.g. 2026-12-24T07:00 (local time) or "
            f"2026-12-24T07:00:00+00:00; got '{raw}'."
        ) from None
    if moment.tzinfo is None:
        from kitaru.schedules.cron import local_zone

        moment = moment.replace(tzinfo=local_zone())
    return moment


def schedule_rows(schedule: Schedule) -> list[tuple[str, Any]]:
    """The rows every schedule panel shows."""
    where = "local (kitaru schedule run-due)" if schedule.backend == "local" else f"stack {schedule.stack}"
    rows: list[tuple[str, Any]] = [
        ("Target", schedule.target),
        ("Cron", schedule.cron),
        ("Args", dict(schedule.args)),
        ("Runs on", where),
    ]
    if schedule.base_dir:
        rows.append(("From directory", schedule.base_dir))
    return rows


def status_rows(status: ScheduleStatus) -> list[tuple[str, Any]]:
    """A listed schedule: its rows plus what is next and what happened."""
    schedule = status.schedule
    rows = schedule_rows(schedule)
    if status.due_at is not None:
        rows.append(("Due", f"now (fire time {when(status.due_at)})"))
    rows.append(("Next fire", when(status.next_fire_at)))
    last = None
    if schedule.last_fire_at is not None:
        outcome = schedule.last_status or "unknown"
        execution = schedule.last_execution_id or "no execution"
        last = f"{when(schedule.last_fire_at)}: {execution} ({outcome})"
        if schedule.last_error:
            last += f": {schedule.last_error}"
    rows.append(("Last run", last or "never"))
    missed = f"{schedule.missed_count}"
    if schedule.last_missed:
        missed += f" (latest: {', '.join(when(moment) or '' for moment in schedule.last_missed[-3:])})"
    if status.pending_missed_count:
        missed += f"; {status.pending_missed_count} more will be reported by the next run-due"
    rows.append(("Missed", missed))
    return rows


@command("schedule.create")
def create(
    name: NameArgument,
    target: Annotated[
        str,
        typer.Argument(help="The flow to run: <module_or_file.py>:<flow>, as `kitaru run` takes it.", metavar="TARGET"),
    ],
    cron: Annotated[
        str,
        typer.Option(
            "--cron",
            help="Five-field cron expression in local time: minute hour day-of-month month day-of-week, "
            'e.g. "0 7 * * *".',
            metavar="EXPRESSION",
        ),
    ],
    args: Annotated[
        str | None,
        typer.Option(
            "--args", help="The flow's inputs as a JSON object of parameter names to values.", metavar="JSON_OBJECT"
        ),
    ] = None,
    output: OutputOption = "text",  # noqa: ARG001 (read by @command)
) -> Item:
    """Create a schedule that runs a flow on a cron."""
    from kitaru.cli.executions.replay import parse_json_object
    from kitaru.schedules import create_schedule, get_schedule

    flow_inputs = parse_json_object(args, option="--args")
    schedule = create_schedule(name, target, cron=cron, args=flow_inputs)
    status = get_schedule(schedule.name)
    hint = (
        "Run `kitaru schedule run-due` every minute (cron or a systemd timer) to start it when due."
        if schedule.backend == "local"
        else f"The orchestrator of stack {schedule.stack} starts its runs."
    )
    return Item(
        status.to_json(),
        text=lambda: [panel(f"Created schedule: {schedule.name}", status_rows(status)), hint],
    )


@command("schedule.list")
def list_(output: OutputOption = "text") -> Items:  # noqa: ARG001
    """List schedules with their next fire time, last run and missed fire times."""
    from kitaru.schedules import list_schedules

    statuses = list_schedules()

    def text() -> list[Any]:
        if not statuses:
            return ['No schedules. Create one with: kitaru schedule create NAME TARGET --cron "0 7 * * *"']
        return [panel(f"Schedule: {status.schedule.name}", status_rows(status)) for status in statuses]

    return Items([status.to_json() for status in statuses], text=text)


@command("schedule.delete")
def delete(name: NameArgument, output: OutputOption = "text") -> Item:  # noqa: ARG001
    """Delete a schedule (from the stack's orchestrator too, for an engine schedule)."""
    from kitaru.schedules import delete_schedule

    schedule = delete_schedule(name)
    return Item(schedule.to_json(), text=f"Deleted schedule: {schedule.name}")


def run_due_text(report: RunDueReport) -> list[str]:
    """What ``run-due`` prints: one line per started schedule, and what each missed."""
    lines = [
        f"Schedule '{fire.name}' ({when(fire.fire_at)}): already taken by another run-due, which starts it."
        for fire in report.taken
    ]
    if not report.started:
        nothing = "Nothing else is due" if lines else "Nothing is due"
        return [*lines, f"{nothing} at {when(report.now)} ({report.schedule_count} local schedule(s))."]
    for fire in report.started:
        if fire.missed_count:
            shown = ", ".join(when(moment) or "" for moment in fire.missed)
            more = "" if fire.missed_count <= len(fire.missed) else f" (latest {len(fire.missed)} shown)"
            lines.append(
                f"Schedule '{fire.name}' missed {fire.missed_count} fire time(s): {shown}{more}. "
                "Starting one run for the latest fire time."
            )
        if fire.execution_id is None:
            lines.append(f"Schedule '{fire.name}' ({when(fire.fire_at)}): not started: {fire.error}")
        else:
            lines.append(
                f"Schedule '{fire.name}' ({when(fire.fire_at)}): started execution {fire.execution_id}, {fire.status}."
            )
    return lines


@command("schedule.run-due")
def run_due(
    now: Annotated[
        str | None,
        typer.Option(
            "--now",
            help="Evaluate schedules at this ISO 8601 time instead of the current time (local time unless it has "
            "an offset), e.g. 2026-12-24T07:00. For backfills and tests.",
            metavar="ISO_TIME",
        ),
    ] = None,
    output: OutputOption = "text",  # noqa: ARG001
) -> Items:
    """Start every local schedule that is due; report what started and what was missed."""
    from kitaru.schedules import run_due as run_due_schedules

    report = run_due_schedules(now=parse_now(now))
    warnings = []
    if report.started and report.now > datetime.now(report.now.tzinfo):
        warnings.append(
            f"--now {now} is in the future: the fire times started are recorded as fired, so these "
            "schedules fire again only after that time."
        )
    return Items(
        [fire.to_json() for fire in report.started],
        text=lambda: run_due_text(report),
        extra={
            "now": report.now.isoformat(),
            "schedule_count": report.schedule_count,
            "already_taken": [fire.to_json() for fire in report.taken],
        },
        warnings=warnings,
        exit_code=0 if all(fire.ok for fire in report.started) else 1,
    )


def register(app: typer.Typer) -> None:
    """Add the ``schedule`` group to ``app``."""
    group.command("create")(create)
    group.command("list")(list_)
    group.command("delete")(delete)
    group.command("run-due")(run_due)
    app.add_typer(group, name="schedule")


__all__ = ["parse_now", "register", "run_due_text", "status_rows"]
