"""The sweep that continues every execution whose ``kitaru.sleep()`` is due: ``kitaru executions resume --due``.

A scheduler (cron, a systemd timer) calls it every minute or so::

    results = resume_due()
    for result in results:
        print(result.exec_id, result.action, result.status, result.error)

It reads every execution once (crash detection runs on the way, so a process
killed in a sleep is marked failed first) and selects those whose sleep's
wake-up time has passed:

* paused at a sleep (:mod:`kitaru.execution.sleeps`): the sleep is ended and
  the execution resumed (a child flow's sleep resumes its top-level
  execution, whose body runs the child);
* failed while sleeping in its process (killed, crashed or interrupted):
  retried, so its finished checkpoints are reused and the sleep is over.

They are continued one after another, in this process, oldest wake-up time
first; each is checked again just before (another sweep may have continued
it meanwhile: then it is left out). Two sweeps may run at once (an
overlapping cron run): one that lost the race for an execution (the other
claimed it, or a fresh read shows it no longer paused or failed in its
sleep) reports it ``skipped``, which is not a failure. A failure to continue
one is reported in its result and the sweep goes on with the next.

An execution that died in a sleep is retried *once*: the sweep marks the
sleep's record before retrying (:func:`kitaru.execution.sleeps.mark_retried`).
If that retry fails before the body reaches the sleep again, later sweeps
leave it alone: it is an ordinary failed execution, retried with
``kitaru executions retry``, and the result's ``note`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone

from kitaru.engine import get_engine
from kitaru.engine.runs import RunRecord
from kitaru.execution import sleeps
from kitaru.execution.lifecycle import public_status_of, resume_execution, retry_execution
from kitaru.execution.runs import load_run, reconcile_crashed, root_of
from kitaru.execution.status import ExecutionStatus

PAGE_SIZE = 200
"""Executions read per page while looking for due sleeps."""


@dataclass(frozen=True)
class DueResume:
    """What the sweep did with one execution whose sleep was due.

    Attributes:
        exec_id: The execution continued (the top-level one for a child flow's sleep).
        flow_name: Its flow.
        sleep: The sleep that was due (``sleep:0``), of ``sleeping_exec_id``.
        wake_at: That sleep's wake-up time (UTC).
        action: ``resumed`` (it was paused at the sleep), ``retried`` (it
            failed while sleeping in its process) or ``skipped`` (another
            sweep or process continued it meanwhile).
        status: Its status afterwards (``completed``, ``waiting`` at a later
            sleep or wait, ``failed`` ...), or None if it could not be read.
        error: Why it could not be continued, or None.
        error_type: The error's class name, or None.
        sleeping_exec_id: The execution whose body slept (a child flow's, or ``exec_id``).
        note: What to do next when that is not obvious (a failed retry:
            later sweeps leave it to ``kitaru executions retry``), or None.
    """

    exec_id: str
    flow_name: str | None
    sleep: str
    wake_at: datetime
    action: str
    status: ExecutionStatus | None = None
    error: str | None = None
    error_type: str | None = None
    sleeping_exec_id: str | None = None
    note: str | None = None

    @property
    def ok(self) -> bool:
        """Whether it was continued (or skipped: someone else continued it) and did not fail or get cancelled."""
        if self.action == "skipped":
            return True
        return self.error is None and self.status in (ExecutionStatus.COMPLETED, ExecutionStatus.WAITING)


def due_sleeps(now: datetime | None = None) -> list[tuple[RunRecord, sleeps.SleepInfo]]:
    """Every execution whose sleep is due and that a resume or retry continues, oldest wake-up time first."""
    now = now or datetime.now(timezone.utc)
    runs = get_engine().runs
    found: dict[str, tuple[RunRecord, sleeps.SleepInfo]] = {}
    page = 1
    while True:
        result = runs.list_runs(page=page, size=PAGE_SIZE)
        for run in result.items:
            if run.id in found:
                continue
            if reconcile_crashed(run):
                run = runs.get_run(run.id)
            info = sleeps.sleep_info(run, now=now)
            if info is not None and info.due and info.state in ("paused", "interrupted"):
                found[run.id] = (run, info)
        if page >= result.total_pages or not result.items:
            break
        page += 1
    return sorted(found.values(), key=lambda item: item[1].wake_at)


def _still_due(exec_id: str, state: str) -> sleeps.SleepInfo | None:
    run = load_run(exec_id)
    info = sleeps.sleep_info(run)
    return info if info is not None and info.due and info.state == state else None


def _lost_race(run: RunRecord, target: RunRecord, info: sleeps.SleepInfo) -> bool:
    """Whether someone else continued the execution since it was listed (read fresh)."""
    try:
        if info.state == "paused":
            return _still_due(run.id, "paused") is None
        return public_status_of(load_run(target.id)) is not ExecutionStatus.FAILED
    except Exception:  # cannot tell: report the original error
        return False


def _continue(run: RunRecord, target: RunRecord, info: sleeps.SleepInfo) -> DueResume | None:
    """Resume or retry ``target`` because the sleep of ``run`` (itself or a child flow) is due.

    Returns:
        The result, or None if the sleep is no longer due (continued meanwhile).
    """
    action = "resumed" if info.state == "paused" else "retried"
    outcome = DueResume(
        exec_id=target.id,
        flow_name=target.flow_name,
        sleep=info.name,
        wake_at=info.wake_at,
        action=action,
        sleeping_exec_id=run.id,
    )
    try:
        current = _still_due(run.id, info.state)
        if current is None:
            return None
        if action == "resumed":
            resume_execution(target.id)
        else:
            sleeps.mark_retried(run.id, info.name, info.wake_at)  # once: a failed retry is not retried again
            retry_execution(target.id)
    except Exception as exc:
        if _lost_race(run, target, info):
            outcome = replace(outcome, action="skipped", note="Another sweep or process continued it meanwhile.")
        else:
            outcome = replace(outcome, error=str(exc), error_type=type(exc).__name__)
    try:
        status = public_status_of(load_run(target.id))
    except Exception:  # the error above says more
        status = None
    outcome = replace(outcome, status=status)
    if outcome.action == "retried" and not outcome.ok:
        outcome = replace(
            outcome,
            note=(
                "The sweep retries an execution interrupted in a sleep once; later sweeps leave it alone. "
                f"It is an ordinary failed execution now: retry it with `kitaru executions retry {target.id}`."
            ),
        )
    return outcome


def resume_due(now: datetime | None = None) -> list[DueResume]:
    """Continue every execution whose sleep is due; one result each, in the order they were continued.

    Args:
        now: The moment that counts as now (default: the current time).

    Returns:
        One :class:`DueResume` per execution continued (or that failed to
        continue); empty when nothing was due.
    """
    results: list[DueResume] = []
    done: set[str] = set()
    for run, info in due_sleeps(now):
        target = root_of(run) if run.parent_run_id else run
        if target.id in done:
            continue
        result = _continue(run, target, info)
        if result is not None:
            done.add(target.id)
            results.append(result)
    return results


__all__ = ["PAGE_SIZE", "DueResume", "due_sleeps", "resume_due"]
