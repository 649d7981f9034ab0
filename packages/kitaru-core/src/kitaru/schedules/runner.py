"""``kitaru schedule run-due``: start every local schedule whose fire time has come.

::

    report = run_due()                      # what cron or a systemd timer calls every minute
    report = run_due(now=datetime(2026, 12, 24, 7, 0, tzinfo=UTC))   # as if it were then

1. **Claim.** Under the schedules lock, each due schedule
   (:func:`kitaru.schedules.due.due_fire`) gets its fire time recorded as its
   last fire, and the fire times it missed are added to its missed count,
   *before* anything starts. A second ``run-due`` at the same time (cron
   overlap, a long run still going) finds nothing left to claim, so no fire
   ever starts twice: it reports the fire as already taken instead
   (:attr:`RunDueReport.taken`). Each fire is therefore started **at most
   once**: if this process dies between claiming and starting, that fire
   shows ``last_status: starting`` with no execution and is not retried
   (the next fire time starts as usual).
2. **Start.** Each claimed schedule starts one execution of its flow with its
   arguments, loaded from its target as ``kitaru run`` does, in this process:
   on the local default the flow body runs here, and the execution's
   ownership and crash detection belong to this process as for any
   ``kitaru run``. They start one after the other; a failure to start one is
   recorded on it and does not stop the others.
3. **Record.** Each schedule records the execution id and the status it
   reached (or the error), unless a later fire has been claimed meanwhile.

Only local schedules are started here; engine schedules run on their
orchestrator.

Test-only hook: when ``KITARU_TEST_SCHEDULES_READY_DIR`` (a Kitaru setting) names a
directory, :func:`claim_due` creates ``claim-ready-<pid>`` in it right before
it takes the schedules lock, so a test holding that lock knows when two
``run-due`` processes are both waiting to claim, and releases them together.
It never waits or changes what is claimed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kitaru.errors import KitaruError
from kitaru.schedules import store
from kitaru.schedules.due import DueFire, due_fire
from kitaru.schedules.manage import check_now
from kitaru.schedules.records import LOCAL, Schedule
from kitaru.settings import settings
from kitaru.targets import load_flow_target, run_flow_target

STARTING = "starting"
"""``last_status`` of a fire that was claimed and whose execution has not been recorded yet."""
NOT_STARTED = "not started"
"""``last_status`` of a fire whose execution could not start (``last_error`` says why)."""
FAILED_STATUSES = frozenset({"failed", "cancelled", NOT_STARTED})
@dataclass(frozen=True)
class StartedFire:
    """What ``run-due`` did for one due schedule.

    Attributes:
        name: The schedule.
        target: Its flow target.
        fire_at: The fire time the execution was started for.
        missed_count: Earlier fire times since its last fire that got no run.
        missed: The most recent of them, oldest first.
        execution_id: The execution started (None if it could not start).
        status: The execution's status when it returned (``completed``,
            ``failed``, ``waiting``; ``running`` on a remote stack), or ``not started``.
        error: Why it could not start.
    """

    name: str
    target: str
    fire_at: datetime
    missed_count: int
    missed: tuple[datetime, ...]
    execution_id: str | None
    status: str
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the execution started and did not fail."""
        return self.status not in FAILED_STATUSES

    def to_json(self) -> dict[str, Any]:
        """The JSON item ``kitaru schedule run-due -o json`` prints."""
        return {
            "name": self.name,
            "target": self.target,
            "fire_at": self.fire_at.astimezone(UTC).isoformat(),
            "missed_count": self.missed_count,
            "missed": [moment.astimezone(UTC).isoformat() for moment in self.missed],
            "execution_id": self.execution_id,
            "status": self.status,
            "error": self.error,
        }


@dataclass(frozen=True)
class TakenFire:
    """A fire that was due when ``run-due`` looked, but another ``run-due`` claimed it first.

    Attributes:
        name: The schedule.
        fire_at: The fire time (the other process starts its execution).
    """

    name: str
    fire_at: datetime

    def to_json(self) -> dict[str, Any]:
        """The JSON item of ``already_taken`` in ``kitaru schedule run-due -o json``."""
        return {"name": self.name, "fire_at": self.fire_at.astimezone(UTC).isoformat()}


@dataclass(frozen=True)
class RunDueReport:
    """The result of one ``run-due``.

    Attributes:
        now: The moment schedules were evaluated at.
        started: One entry per due schedule, in creation order.
        schedule_count: How many local schedules there are.
        taken: Fires that were due but that another ``run-due`` claimed
            first, while this one waited for the lock (it starts them).
    """

    now: datetime
    started: tuple[StartedFire, ...]
    schedule_count: int
    taken: tuple[TakenFire, ...] = ()


@dataclass(frozen=True)
class Claim:
    """What :func:`claim_due` recorded.

    Attributes:
        claimed: The fires this process claimed (and must start).
        taken: Fires due before the lock was taken that another process claimed meanwhile.
        schedule_count: How many local schedules there are.
    """

    claimed: tuple[DueFire, ...]
    taken: tuple[TakenFire, ...]
    schedule_count: int


def _signal_ready() -> None:
    ready_dir = settings().test_schedules_ready_dir
    if ready_dir:
        with open(os.path.join(ready_dir, f"claim-ready-{os.getpid()}"), "w", encoding="utf-8"):
            pass


def claim_due(now: datetime) -> Claim:
    """Record the due fires of every local schedule as fired, under the lock, and return them.

    The schedules are read once before the lock (a snapshot) and again under
    it; a fire due in the snapshot that is no longer due under the lock was
    claimed by another process in between, and is reported as taken.
    """
    expected = {
        name: fire.fire_at
        for name, schedule in store.load().items()
        if schedule.backend == LOCAL and (fire := due_fire(schedule, now)) is not None
    }
    _signal_ready()
    claimed: list[DueFire] = []
    taken: list[TakenFire] = []
    with store.transaction() as schedules:
        local = [schedule for schedule in schedules.values() if schedule.backend == LOCAL]
        for schedule in local:
            fire = due_fire(schedule, now)
            if fire is None:
                seen = expected.get(schedule.name)
                if seen is not None and schedule.last_fire_at is not None and schedule.last_fire_at >= seen:
                    taken.append(TakenFire(schedule.name, seen))
                continue
            schedules[schedule.name] = schedule.with_changes(
                last_fire_at=fire.fire_at,
                last_execution_id=None,
                last_status=STARTING,
                last_error=None,
                missed_count=schedule.missed_count + fire.missed_count,
                last_missed=fire.missed if fire.missed_count else schedule.last_missed,
            )
            claimed.append(fire)
    return Claim(tuple(claimed), tuple(taken), len(local))


def _start(schedule: Schedule) -> tuple[str | None, str, str | None]:
    """Start one execution of ``schedule``'s flow: ``(execution id, status, error)``."""
    try:
        base = Path(schedule.base_dir) if schedule.base_dir else None
        loaded = load_flow_target(schedule.target, base_dir=base)
        handle = run_flow_target(loaded, schedule.args)
    except KitaruError as exc:
        return None, NOT_STARTED, str(exc)
    except Exception as exc:  # a flow's import or submission failing must not stop the other schedules
        return None, NOT_STARTED, f"{type(exc).__name__}: {exc}"
    try:
        status = str(handle.status)
    except KitaruError as exc:
        return handle.exec_id, "unknown", str(exc)
    return handle.exec_id, status, None


def _record(fire: DueFire, execution_id: str | None, status: str, error: str | None) -> None:
    with store.transaction() as schedules:
        current = schedules.get(fire.schedule.name)
        if current is None or current.last_fire_at != fire.fire_at:
            return  # deleted, or a later fire was claimed meanwhile: that one's record wins
        schedules[current.name] = current.with_changes(
            last_execution_id=execution_id, last_status=status, last_error=error
        )


def run_due(*, now: datetime | None = None) -> RunDueReport:
    """Start one execution for each local schedule that is due, and report them with what they missed.

    Args:
        now: Evaluate schedules at this moment (timezone-aware) instead of the
            current time: for a backfill, or to check what would run.

    Returns:
        What was started; an empty ``started`` when nothing was due.

    Raises:
        KitaruUsageError: If ``now`` has no time zone, or the schedules file
            cannot be read.
    """
    moment = check_now(now)
    claim = claim_due(moment)
    started = []
    for fire in claim.claimed:
        execution_id, status, error = _start(fire.schedule)
        _record(fire, execution_id, status, error)
        started.append(
            StartedFire(
                name=fire.schedule.name,
                target=fire.schedule.target,
                fire_at=fire.fire_at,
                missed_count=fire.missed_count,
                missed=fire.missed,
                execution_id=execution_id,
                status=status,
                error=error,
            )
        )
    return RunDueReport(now=moment, started=tuple(started), schedule_count=claim.schedule_count, taken=claim.taken)


__all__ = [
    "NOT_STARTED",
    "STARTING",
    "Claim",
    "RunDueReport",
    "StartedFire",
    "TakenFire",
    "claim_due",
    "run_due",
]
