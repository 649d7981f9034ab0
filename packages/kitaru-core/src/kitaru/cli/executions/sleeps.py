"""Sleeps in the CLI: the ``resume --due`` sweep, and how ``executions get`` shows a sleep.

``kitaru executions resume --due`` continues every execution whose
``kitaru.sleep()`` is due.

Meant for a scheduler (cron, a systemd timer)::

    * * * * * kitaru executions resume --due

Text output lists each execution it continued and how that went, or says
that nothing was due; ``-o json`` gives the list of results
(:class:`kitaru.execution.wakeups.DueResume`). The exit status is 1 when
any of them could not be continued or did not end well; one that another
sweep continued meanwhile is listed as skipped and is not a failure.
"""

from __future__ import annotations

from typing import Any

from kitaru.cli.output import Items

NOTHING_DUE = "Nothing was due: no sleeping execution has reached its wake-up time."


def describe(result: Any) -> str:
    """One line about one result: ``<id> (<flow>): resumed after sleep:0 -> completed``."""
    name = f"{result.exec_id} ({result.flow_name or 'unknown flow'})"
    if result.action == "skipped":
        return f"{name}: skipped `{result.sleep}`: {result.note} (now {result.status})"
    head = f"{name}: {result.action} after `{result.sleep}`"
    text = f"{head}: could not continue: {result.error}" if result.error is not None else f"{head} -> {result.status}"
    return f"{text}. {result.note}" if result.note else text


def describe_sleep(execution: Any) -> str | None:
    """The ``Sleep`` row of ``executions get``: ``sleeping until 2026-12-06 09:00:00 UTC (in 2h 3m), paused``.

    Returns:
        The text, or None when the execution is not in a sleep.
    """
    from kitaru.execution.sleeps import describe_moment

    sleep = execution.sleep
    if sleep is None:
        return None
    when = describe_moment(sleep.wake_at)
    if sleep.state == "paused":
        return f"sleeping until {when}, paused (`{sleep.name}`)"
    if sleep.state == "interrupted":
        return f"interrupted while sleeping until {when} (`{sleep.name}`): its process died or was stopped"
    return f"sleeping until {when} in its process (`{sleep.name}`)"


def sleep_hint(execution: Any) -> str | None:
    """What to do about a paused or interrupted sleep, or None."""
    sleep = execution.sleep
    if sleep is None or sleep.state == "sleeping":
        return None
    from kitaru.execution.lifecycle import resume_target

    verb = "resume" if sleep.state == "paused" else "retry"
    when = "Its sleep is due: " if sleep.due else "After its wake-up time, "
    # A child flow continues only with its top-level execution: the command names that one.
    target = resume_target(execution.exec_id) if getattr(execution, "parent_exec_id", None) else execution.exec_id
    text = f"{when}kitaru executions {verb} {target} (or the sweep: kitaru executions resume --due) continues it."
    if sleep.state == "paused" and not sleep.due:
        text += f" To wake it now: kitaru executions input {execution.exec_id} --value null"
    return text


def resume_due_items() -> Items:
    """Run the sweep and render its results."""
    from kitaru.client import KitaruClient
    from kitaru.jsonable import to_jsonable

    results = KitaruClient().executions.resume_due()
    if not results:
        return Items([], text=NOTHING_DUE)
    lines = [f"Continued {len(results)} execution(s) whose sleep was due:"]
    lines += [f"  {describe(result)}" for result in results]
    failed = any(not result.ok for result in results)
    return Items([to_jsonable(result) for result in results], text="\n".join(lines), exit_code=1 if failed else 0)


__all__ = ["NOTHING_DUE", "describe", "describe_sleep", "resume_due_items", "sleep_hint"]
